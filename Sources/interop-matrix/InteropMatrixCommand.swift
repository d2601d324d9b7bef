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
        Exit codes: 0 every cell met its expectation (passes and unsupported cells), or with --baseline \
        nothing changed against it; 1 at least one cell failed, timed out, crashed or hit a harness \
        error (with --baseline: a regression); 3 the run could not start (a peer is missing, \
        certificates could not be made, a report could not be written); 4 with --baseline, no \
        regression but known failures now pass (update the baseline); 5 with --baseline, only cells \
        new to or gone from the baseline; 64 a bad option or matrix file.
        """,
        version: InteropMatrixVersion.current,
        subcommands: [Run.self, List.self, Capabilities.self, CheckPeer.self, Merge.self, Bench.self],
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

/// Where reports go; every subcommand that produces a report takes these.
struct ReportOutputs: ParsableArguments {
    @Option(name: .long, help: "Write the JSON report (interop-matrix/report/v1) here.")
    var json: String?

    @Option(name: .long, help: "Write the Markdown report here.")
    var markdown: String?

    @Option(name: .long, help: "Write JUnit XML here (one testcase per cell, grouped by pair).")
    var junit: String?

    @Option(name: .long, help: "Write the self-contained HTML report here.")
    var html: String?

    var paths: [String] { [json, markdown, junit, html].compactMap { $0 } }

    func validate() throws {
        for path in paths {
            let folder = (path as NSString).deletingLastPathComponent
            guard FileManager.default.isWritableFile(atPath: folder.isEmpty ? "." : folder) else {
                throw ValidationError("cannot write a report to \(path): its folder is missing or not writable")
            }
        }
    }

    func write(_ report: Report) throws {
        if let json { try report.writeJSON(to: URL(fileURLWithPath: json)) }
        if let markdown { try Data(MarkdownReport.render(report).utf8).write(to: URL(fileURLWithPath: markdown)) }
        if let junit { try Data(JUnitReport.render(report).utf8).write(to: URL(fileURLWithPath: junit)) }
        if let html { try Data(HTMLReport.render(report).utf8).write(to: URL(fileURLWithPath: html)) }
    }
}

/// Progress on stderr while cells run: one line rewritten in place on a terminal (cells done, failures,
/// time left), plain lines for each failure and every 25 cells otherwise.
final class Progress: @unchecked Sendable {
    private let terminal: Bool
    private let lock = NSLock()
    private let start = Date()
    private var failures = 0

    init(terminal: Bool) { self.terminal = terminal }

    func record(_ result: CellResult, done: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let bad = ![.pass, .unsupported].contains(result.outcome)
        if bad { failures += 1 }
        if terminal {
            if bad { write("\r\u{1B}[2K\(result.outcome.rawValue.uppercased()) \(result.id): \(result.reason ?? "")\n") }
            let elapsed = Date().timeIntervalSince(start)
            let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
            write("\r\u{1B}[2K[\(done)/\(total)] \(failures) not passing · \(String(format: "%.0f", eta)) s left")
        } else if bad {
            write("[\(done)/\(total)] \(result.outcome.rawValue.uppercased()) \(result.id): \(result.reason ?? "")\n")
        } else if done == total || done % 25 == 0 {
            write("[\(done)/\(total)] cells done, \(failures) not passing\n")
        }
    }

    func finish() {
        if terminal { write("\r\u{1B}[2K") }
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}

/// Turns SIGINT and SIGTERM into a stop of the run, so it ends cleanly with a partial report.
final class InterruptWatch: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var signal: Int32?

    var received: Int32? { lock.lock(); defer { lock.unlock() }; return signal }

    init(stop: RunStop) {
        for number in [SIGINT, SIGTERM] {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                if self.signal == nil { self.signal = number }
                self.lock.unlock()
                FileHandle.standardError.write(Data("\ninterop-matrix: \(number == SIGINT ? "SIGINT" : "SIGTERM"): stopping the peers and writing a partial report\n".utf8))
                stop.stop(because: "interrupted by \(number == SIGINT ? "SIGINT" : "SIGTERM")")
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// The exit code a finished report calls for (see the root command's discussion).
func runExitCode(for report: Report) -> Int32 {
    if let comparison = report.baseline { return report.complete ? comparison.exitCode : max(1, comparison.exitCode) }
    let s = report.summary
    return s.failed + s.errors > 0 || !report.complete ? 1 : 0
}

extension InteropMatrixCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a matrix and report (the default subcommand).")

        @OptionGroup var options: MatrixOptions

        @OptionGroup var outputs: ReportOutputs

        @Option(name: .long, help: "Compare with this baseline (matrix/expected/<name>.json): regressions, unexpected passes, new and vanished cells.")
        var baseline: String?

        @Flag(name: .long, help: "Write the current results to the --baseline file (known failures keep their reason and link).")
        var updateBaseline = false

        @Flag(name: .long, help: "Do not compare with the matrix's own baseline (expected/<name>.json beside the matrix file, matrix/expected/default.json for the built-in default).")
        var noBaseline = false

        @Option(name: .long, help: "Re-run a cell that did not pass up to N times; one that then passes is reported as flaky.")
        var retries: Int = 0

        @Option(name: .long, help: "Run only shard K of N (e.g. 2/4): a deterministic 1/N of the cells; merge the reports with `interop-matrix merge`.")
        var shard: String?

        @Option(name: .long, help: "Run only the cell with exactly this id (repeatable); what a replay uses.")
        var only: [String] = []

        @Option(name: .long, help: "Reuse the certificates in this folder (from --keep-certs) instead of making new ones.")
        var certs: String?

        @Option(name: .long, help: "Keep each failed cell's peer logs, key log (SSLKEYLOGFILE format), result and replay script under this folder, with the certificates.")
        var artifacts: String?

        @Flag(name: .long, help: "With --artifacts, keep them for every cell, not only the failed ones.")
        var keepAll = false

        @Option(name: .long, help: "Cells run at once (default: the number of cores).")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Flag(name: .long, help: "Start a fresh server and client process for every cell instead of reusing peer workers (slower; each cell then owns its processes outright).")
        var noWorkers = false

        @Option(name: .long, help: "Seconds a cell may take before its peers are killed.")
        var timeout: Double = 10

        @Option(name: .long, help: "Seconds the whole run may take; then running cells are stopped and the report is written, marked incomplete.")
        var deadline: Double?

        @Flag(name: .long, help: "Keep the generated certificates and keys (0600) and print where.")
        var keepCerts = false

        @Flag(name: .long, help: "No progress lines on stderr.")
        var quiet = false

        func validate() throws {
            guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs must be between 1 and 256, e.g. --jobs 4") }
            guard timeout > 0 && timeout <= 3600 else { throw ValidationError("--timeout is in seconds, between 0 and 3600, e.g. --timeout 10") }
            guard retries >= 0 && retries <= 10 else { throw ValidationError("--retries must be between 0 and 10, e.g. --retries 2") }
            if let deadline, !(deadline > 0 && deadline <= 86_400) { throw ValidationError("--deadline is in seconds, between 0 and 86400, e.g. --deadline 600") }
            if let shard, Shard(shard) == nil { throw ValidationError("--shard \(shard): expected K/N with 1 <= K <= N, e.g. --shard 2/4") }
            if updateBaseline && baseline == nil { throw ValidationError("--update-baseline needs --baseline PATH to write to") }
            if let baseline, !updateBaseline, !FileManager.default.isReadableFile(atPath: baseline) {
                throw ValidationError("--baseline \(baseline): no such file (create it with --update-baseline)")
            }
        }

        func run() async throws {
            let file = try options.load()
            var run = MatrixRun(matrix: file, jobs: jobs, timeout: .milliseconds(Int(timeout * 1000)))
            run.useWorkers = !noWorkers
            run.filters = options.filter
            run.only = only
            run.retries = retries
            run.shard = shard.flatMap(Shard.init)
            run.certificateDirectory = certs
            run.artifacts = artifacts.map { ArtifactStore(root: URL(fileURLWithPath: $0), keepAll: keepAll) }
            run.replayArguments = options.matrix.map { ["--matrix", $0] } ?? []
            run.runDeadline = deadline.map { .milliseconds(Int($0 * 1000)) }
            // Ctrl-C or SIGTERM: stop the peers, remove the keys, write the partial report.
            let interrupts = InterruptWatch(stop: run.stop)
            run.keepCertificates = keepCerts
            if keepCerts {
                run.onCertificates = { path in FileHandle.standardError.write(Data("interop-matrix: certificates and keys are kept in \(path)\n".utf8)) }
            }
            let live = !quiet
            let progress = Progress(terminal: isatty(STDERR_FILENO) == 1)
            let expanded = run.cells()
            if expanded.count > 1_000_000 {
                throw ValidationError("the matrix expands to \(expanded.count) cells; at most 1,000,000 (split it, or use --shard)")
            }
            if expanded.isEmpty {
                throw ValidationError("the matrix\(options.filter.isEmpty ? "" : " and --filter") select no cells; `interop-matrix list` shows what a matrix expands to")
            }
            // A matrix's own baseline, when it has one, documents its known failures: compare with it.
            var baseline = self.baseline
            if baseline == nil && !noBaseline {
                let folder = options.matrix.map { ($0 as NSString).deletingLastPathComponent } ?? "matrix"
                let own = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent("expected/\(file.name).json")
                if FileManager.default.isReadableFile(atPath: own) {
                    baseline = own
                    if live { FileHandle.standardError.write(Data("interop-matrix: comparing with the matrix's baseline \(own) (--no-baseline to skip)\n".utf8)) }
                }
            }
            var report: Report
            do {
                report = try await run.run { result, done, total in
                    guard live else { return }
                    progress.record(result, done: done, total: total)
                }
                progress.finish()
            } catch let error as CatalogError where error.missingLibrary {
                // A library the matrix names has no peer: the input is wrong, not the machine.
                throw ValidationError("\(options.matrix ?? "the matrix"): \(error)")
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: cannot start the run: \(error)\n".utf8))
                throw ExitCode(3)
            }
            if let baseline {
                if updateBaseline {
                    // The known failures' reasons carry over; an unreadable baseline must not quietly lose them.
                    var earlier: Baseline?
                    if FileManager.default.isReadableFile(atPath: baseline) {
                        do {
                            earlier = try Baseline.load(path: baseline)
                        } catch {
                            FileHandle.standardError.write(Data("interop-matrix: cannot read the baseline to update: \(error)\n".utf8))
                            throw ExitCode(64)
                        }
                    }
                    do {
                        try Baseline(report: report, keeping: earlier).write(to: baseline)
                        FileHandle.standardError.write(Data("interop-matrix: wrote the baseline \(baseline) (\(report.results.count) cells)\n".utf8))
                    } catch {
                        FileHandle.standardError.write(Data("interop-matrix: cannot write the baseline: \(error)\n".utf8))
                        throw ExitCode(3)
                    }
                } else {
                    do {
                        let expected = try Baseline.load(path: baseline)
                        let shard = run.shard
                        _ = expected.compare(&report, file: baseline) { id in shard?.contains(id) ?? true }
                    } catch {
                        FileHandle.standardError.write(Data("interop-matrix: \(error)\n".utf8))
                        throw ExitCode(64)
                    }
                }
            }
            do {
                try outputs.write(report)
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: cannot write the report: \(error)\n".utf8))
                throw ExitCode(3)
            }
            print(TerminalReport.render(report), terminator: "")
            if let signal = interrupts.received { throw ExitCode(128 + signal) }
            let code = runExitCode(for: report)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Combine the JSON reports of --shard runs into one report, as one machine would have written it.")

        @Argument(help: "The shard reports (JSON).")
        var reports: [String]

        @OptionGroup var outputs: ReportOutputs

        func validate() throws {
            guard !reports.isEmpty else { throw ValidationError("name the shard reports to merge, e.g. merge shard-1.json shard-2.json --json all.json") }
        }

        func run() async throws {
            var loaded: [(path: String, report: Report)] = []
            for path in reports {
                guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): cannot read the report") }
                do {
                    loaded.append((path, try JSONDecoder().decode(Report.self, from: data)))
                } catch {
                    throw ValidationError("\(path): not an interop-matrix report: \(error)")
                }
            }
            let merged: Report
            do {
                merged = try ReportMerge.merge(loaded)
            } catch {
                throw ValidationError("\(error)")
            }
            do {
                try outputs.write(merged)
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: cannot write the report: \(error)\n".utf8))
                throw ExitCode(3)
            }
            print(TerminalReport.render(merged), terminator: "")
            let code = runExitCode(for: merged)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the cells a matrix expands to, without running them.")

        @OptionGroup var options: MatrixOptions

        func run() async throws {
            let file = try options.load()
            var run = MatrixRun(matrix: file)
            run.filters = options.filter
            let libraries: [String: PeerLibrary]?
            do {
                libraries = try await run.catalog.load(Array(Set(file.servers + file.clients)))
            } catch {
                // Still list: without capabilities `all` means every registry entry, and nothing is unsupported yet.
                FileHandle.standardError.write(Data("interop-matrix: listing without the peers' capabilities: \(error)\n".utf8))
                libraries = nil
            }
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
            abstract: "Time a matrix at several --jobs values against the in-process floor and the naive one-process-pair-per-cell way.",
            discussion: "Build with -c release for figures worth quoting: swift run -c release interop-matrix bench --matrix matrix/full.yml")

        @OptionGroup var options: MatrixOptions

        @Option(name: .long, parsing: .upToNextOption, help: "The --jobs values to time (default: 1 and the number of cores).")
        var jobs: [Int] = [1, ProcessInfo.processInfo.activeProcessorCount]

        @Option(name: .long, help: "Seconds a cell may take.")
        var timeout: Double = 10

        @Flag(name: .long, help: "Skip the naive measurement (a process pair per cell, one cell at a time), the slowest part.")
        var noNaive = false

        func validate() throws {
            guard !jobs.isEmpty, jobs.allSatisfy({ $0 >= 1 && $0 <= 256 }) else { throw ValidationError("--jobs values must be between 1 and 256, e.g. --jobs 1 2") }
        }

        func run() async throws {
            let file = try options.load()
            var run = MatrixRun(matrix: file, timeout: .milliseconds(Int(timeout * 1000)))
            run.filters = options.filter
            var benchmark = Benchmark(run: run, jobs: jobs)
            benchmark.includeNaive = !noNaive
            let results: Benchmark.Results
            do {
                results = try await benchmark.measure { step in
                    FileHandle.standardError.write(Data("interop-matrix bench: timing \(step)\n".utf8))
                }
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: cannot start the run: \(error)\n".utf8))
                throw ExitCode(3)
            }
            print(Benchmark.table(results))
        }
    }
}
