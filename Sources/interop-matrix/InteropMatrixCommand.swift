import ArgumentParser
import Foundation
import InteropMatrix
import PeerKit

/// `interop-matrix`: which TLS libraries complete a verified handshake with which, and why not.
@main
struct InteropMatrixCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interop-matrix",
        abstract: "Cross TLS libraries (OpenSSL, Mbed TLS, GnuTLS) as server and client and report which pairs complete a verified handshake, on what, and why not.",
        discussion: """
        Exit codes: 0 every cell met its expectation (passes and unsupported cells); 1 at least one cell \
        failed, timed out, crashed or hit a harness error; 3 the run could not start (a peer is missing, \
        certificates could not be made, a report could not be written); 64 a bad option or matrix file.
        """,
        version: InteropMatrixVersion.current,
        subcommands: [Run.self, List.self, Capabilities.self, Bench.self],
        defaultSubcommand: Run.self)

    /// Parses and runs; a bad option or matrix file gets one line naming it, and exit code 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help, --version: the full text is what was asked for.
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = self.message(for: error)
            if !message.isEmpty {
                FileHandle.standardError.write(Data("interop-matrix: \(message)\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}

/// Options every subcommand that builds a matrix shares.
struct MatrixOptions: ParsableArguments {
    @Option(name: .long, help: "A matrix file (YAML, see matrix/); the built-in default (matrix/default.yml) when absent.")
    var matrix: String?

    @Option(name: .long, parsing: .upToNextOption, help: "Libraries to use as servers and clients (overrides the matrix).")
    var libs: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Libraries to use as servers (overrides --libs and the matrix).")
    var servers: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Libraries to use as clients (overrides --libs and the matrix).")
    var clients: [String] = []

    @Option(name: .long, help: "Only run cells whose id contains this text (repeatable).")
    var filter: [String] = []

    func validate() throws {
        for id in libs + servers + clients where id.range(of: "^[a-z0-9][a-z0-9_.-]*$", options: .regularExpression) == nil {
            throw ValidationError("'\(id)' is not a library id; use ids such as \(PeerCatalog.standardLibraries.joined(separator: ", "))")
        }
    }

    func load() throws -> MatrixFile {
        var file: MatrixFile
        do {
            file = try matrix.map { try MatrixFile.load(path: $0) } ?? MatrixFile.builtInDefault()
        } catch {
            throw ValidationError("\(error)")
        }
        if !libs.isEmpty { file.servers = libs; file.clients = libs }
        if !servers.isEmpty { file.servers = servers }
        if !clients.isEmpty { file.clients = clients }
        return file
    }
}

extension InteropMatrixCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a matrix and report (the default subcommand).")

        @OptionGroup var options: MatrixOptions

        @Option(name: .long, help: "Write the JSON report (interop-matrix/report/v1) here.")
        var json: String?

        @Option(name: .long, help: "Write the Markdown report here.")
        var markdown: String?

        @Option(name: .long, help: "Cells run at once (default: the number of cores).")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Option(name: .long, help: "Seconds a cell may take before its peers are killed.")
        var timeout: Double = 10

        @Flag(name: .long, help: "Keep the generated certificates and keys (0600) and print where.")
        var keepCerts = false

        @Flag(name: .long, help: "No progress lines on stderr.")
        var quiet = false

        func validate() throws {
            guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs must be between 1 and 256, e.g. --jobs 4") }
            guard timeout > 0 && timeout <= 3600 else { throw ValidationError("--timeout is in seconds, between 0 and 3600, e.g. --timeout 10") }
            for path in [json, markdown].compactMap({ $0 }) {
                let folder = (path as NSString).deletingLastPathComponent
                guard FileManager.default.isWritableFile(atPath: folder.isEmpty ? "." : folder) else {
                    throw ValidationError("cannot write a report to \(path): its folder is missing or not writable")
                }
            }
        }

        func run() async throws {
            let file = try options.load()
            var run = MatrixRun(matrix: file, jobs: jobs, timeout: .milliseconds(Int(timeout * 1000)))
            run.filters = options.filter
            run.keepCertificates = keepCerts
            if keepCerts {
                run.onCertificates = { path in FileHandle.standardError.write(Data("interop-matrix: certificates and keys are kept in \(path)\n".utf8)) }
            }
            let live = !quiet
            if run.cells().isEmpty {
                throw ValidationError("the matrix\(options.filter.isEmpty ? "" : " and --filter") select no cells; `interop-matrix list` shows what a matrix expands to")
            }
            let report: Report
            do {
                report = try await run.run { result, done, total in
                    guard live else { return }
                    let mark = result.outcome == .pass ? "" : " \(result.outcome.rawValue.uppercased())"
                    if result.outcome != .pass && result.outcome != .unsupported {
                        FileHandle.standardError.write(Data("[\(done)/\(total)]\(mark) \(result.id): \(result.reason ?? "")\n".utf8))
                    } else if done == total || done % 25 == 0 {
                        FileHandle.standardError.write(Data("[\(done)/\(total)] cells done\n".utf8))
                    }
                }
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: cannot start the run: \(error)\n".utf8))
                throw ExitCode(3)
            }
            do {
                if let json { try report.jsonData().write(to: URL(fileURLWithPath: json)) }
                if let markdown { try Data(MarkdownReport.render(report).utf8).write(to: URL(fileURLWithPath: markdown)) }
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: cannot write the report: \(error)\n".utf8))
                throw ExitCode(3)
            }
            print(TerminalReport.render(report), terminator: "")
            let s = report.summary
            if s.failed + s.errors > 0 || !report.complete { throw ExitCode(1) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the cells a matrix expands to, without running them.")

        @OptionGroup var options: MatrixOptions

        func run() async throws {
            let file = try options.load()
            var run = MatrixRun(matrix: file)
            run.filters = options.filter
            let libraries = try? await run.catalog.load(Array(Set(file.servers + file.clients)))
            let cells = run.cells(libraries: libraries)
            for cell in cells { print(cell.id) }
            var byScenario: [String: Int] = [:]
            for cell in cells { byScenario[cell.scenario, default: 0] += 1 }
            print("\(cells.count) cells (" + byScenario.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")")
        }
    }

    struct Capabilities: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what each library supports, as its peer reports at run time.")

        @Option(name: .long, parsing: .upToNextOption, help: "Libraries to ask.")
        var libs: [String] = PeerCatalog.standardLibraries

        @Flag(name: .long, help: "Print the peers' JSON instead of a table.")
        var json = false

        func run() async throws {
            let libraries: [String: PeerLibrary]
            do {
                libraries = try await PeerCatalog().load(libs)
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: \(error)\n".utf8))
                throw ExitCode(3)
            }
            let ordered = libs.compactMap { libraries[$0] }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(ordered.map(\.capabilities)), as: UTF8.self))
                return
            }
            print(CapabilitiesTable.render(ordered))
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time a matrix run at several --jobs values (cells per second, peak memory).",
            discussion: "Build with -c release for figures worth quoting: swift run -c release interop-matrix bench --matrix matrix/full.yml")

        @OptionGroup var options: MatrixOptions

        @Option(name: .long, parsing: .upToNextOption, help: "The --jobs values to time (default: 1 and the number of cores).")
        var jobs: [Int] = [1, ProcessInfo.processInfo.activeProcessorCount]

        @Option(name: .long, help: "Seconds a cell may take.")
        var timeout: Double = 10

        func validate() throws {
            guard !jobs.isEmpty, jobs.allSatisfy({ $0 >= 1 && $0 <= 256 }) else { throw ValidationError("--jobs values must be between 1 and 256, e.g. --jobs 1 2") }
        }

        func run() async throws {
            let file = try options.load()
            var run = MatrixRun(matrix: file, timeout: .milliseconds(Int(timeout * 1000)))
            run.filters = options.filter
            let measurements: [Benchmark.Measurement]
            do {
                measurements = try await Benchmark(run: run, jobs: jobs).measure()
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: cannot start the run: \(error)\n".utf8))
                throw ExitCode(3)
            }
            print(Benchmark.table(measurements, matrix: file.name))
        }
    }
}
