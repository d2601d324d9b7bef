import ArgumentParser
import Foundation
import InteropMatrix
import PeerKit

/// `interop-matrix`: which TLS libraries complete a verified handshake with which, and why not.
@main
struct InteropMatrixCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interop-matrix",
        abstract: "Cross TLS libraries (every peer-<id> found) as server and client and report which pairs complete a verified handshake, on what, and why not.",
        discussion: """
        Exit codes: 0 every cell met its expectation (passes and unsupported cells), or with --baseline \
        nothing changed against it; 1 at least one cell failed, timed out, crashed or hit a harness \
        error (with --baseline: a regression); 3 the run could not start (a peer is missing, \
        certificates could not be made, a report could not be written); 4 with --baseline, no \
        regression but known failures now pass (update the baseline); 5 with --baseline, only cells \
        new to or gone from the baseline, or refusals that now carry another alert; 64 a bad option or matrix file, a report path that cannot \
        be written or a baseline that cannot be read (said before any cell runs); a run cut short by --deadline exits 1 whatever the baseline; 130, 143, 129 stopped \
        by SIGINT, SIGTERM, SIGHUP: the peers stopped, the keys removed, the partial report written.
        """,
        version: InteropMatrixVersion.current,
        subcommands: [Run.self, List.self, Capabilities.self, CheckPeer.self, Merge.self, Compare.self, Bench.self],
        defaultSubcommand: Run.self)

    /// Parses and runs; a bad option or matrix file gets one line naming it, and exit code 64.
    static func main() async {
        // A write into a pipe whose reader is gone (a worker killed a moment ago, `| head`) must be
        // an EPIPE error for whoever wrote, never a SIGPIPE that kills the runner without a report.
        signal(SIGPIPE, SIG_IGN)
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
            throw ValidationError("'\(id)' is not a library id: the <id> of a peer-<id> executable (lowercase letters, digits, . _ -), or all")
        }
    }

    /// Refuses a matrix that can expand to more than a million cells, counted from its dimensions
    /// before a cell is built: building a hostile matrix's cells is what would exhaust memory.
    /// A matrix whose `all` selections only pass the bound once narrowed to what the libraries
    /// implement is counted again with their capabilities (the peers are asked, nothing is built).
    func checkSize(of run: MatrixRun) async throws {
        var bound = run.cellUpperBound()
        guard bound > MatrixRun.maximumCells else { return }
        if let loaded = try? await run.loadLibraries() {
            bound = min(bound, loaded.run.cellUpperBound(libraries: loaded.libraries))
            guard bound > MatrixRun.maximumCells else { return }
        }
        throw ValidationError("\(matrix ?? "the matrix") can expand to \(bound == Int.max ? "more than \(Int.max)" : String(bound)) cells (an upper bound counted from its dimensions, before --filter, with the libraries' capabilities where they could be read); at most 1,000,000: split it, or vary each dimension in a block of its own")
    }

    func load() throws -> MatrixFile {
        UnavailableNotice.printUnreadableFolders()
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

    /// Before any cell runs: every report path can be written (ReportFile's rule), so a run never
    /// ends without the report it was asked for.
    func validate() throws {
        for path in paths {
            do {
                try ReportFile(path).check()
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    /// Writes every report asked for, each by ReportFile's rule.
    func write(_ report: Report) throws(ReportFileError) {
        if let json { try ReportFile(json).write(streaming: report.writeJSON(to:)) }
        if let markdown { try ReportFile(markdown).write(Data(MarkdownReport.render(report).utf8)) }
        if let junit { try ReportFile(junit).write(Data(JUnitReport.render(report).utf8)) }
        if let html { try ReportFile(html).write(Data(HTMLReport.render(report).utf8)) }
    }

    /// The end of `run` and `merge`: writes the reports asked for (exit 3, one line, if one cannot
    /// be), prints the terminal summary, and exits as the report calls for (an interrupting signal
    /// first: 128 + its number).
    func deliver(_ report: Report, interruptedBy signal: Int32? = nil) throws {
        do {
            try write(report)
        } catch {
            FileHandle.standardError.write(Data("interop-matrix: \(error)\n".utf8))
            throw ExitCode(3)
        }
        print(TerminalReport.render(report), terminator: "")
        if let signal { throw ExitCode(128 + signal) }
        let code = runExitCode(for: report)
        if code != 0 { throw ExitCode(code) }
    }
}

/// The exit code a finished report calls for (see the root command's discussion).
func runExitCode(for report: Report) -> Int32 {
    // A run cut short is a failure whatever the baseline says: 4 and 5 ask for a baseline update,
    // which a partial run must never prompt.
    guard report.complete else { return 1 }
    if report.coverageShortfall != nil { return 1 }
    if let comparison = report.baseline { return comparison.exitCode }
    let s = report.summary
    return s.failed + s.errors > 0 || !report.complete ? 1 : 0
}

extension InteropMatrixCommand {
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
                do { loaded.append((path, try Report.load(path: path))) } catch { throw ValidationError("\(error)") }
            }
            let merged: Report
            do {
                merged = try ReportMerge.merge(loaded)
            } catch {
                throw ValidationError("\(error)")
            }
            try outputs.deliver(merged)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the cells a matrix expands to, without running them.")

        @OptionGroup var options: MatrixOptions

        func run() async throws {
            let file = try options.load()
            var run = MatrixRun(matrix: file)
            run.filters = options.filter
            try await options.checkSize(of: run)
            let libraries: [String: PeerLibrary]?
            do {
                let loaded = try await run.loadLibraries()
                libraries = loaded.libraries
                run = loaded.run
                UnavailableNotice.print(loaded.unavailable)
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

        @Option(name: .long, parsing: .upToNextOption, help: "Libraries to ask (default: all, every peer-<id> found).")
        var libs: [String] = [PeerCatalog.everyLibrary]

        @Flag(name: .long, help: "Print the peers' JSON instead of a table.")
        var json = false

        func run() async throws {
            let libraries: [String: PeerLibrary]
            let catalog = PeerCatalog()
            UnavailableNotice.printUnreadableFolders()
            var ids = libs
            var tolerated = Set<String>()
            if ids.contains(PeerCatalog.everyLibrary) {
                let found = catalog.discoverIDs()
                tolerated = Set(found)
                ids = ids.flatMap { $0 == PeerCatalog.everyLibrary ? found : [$0] }
            }
            do {
                let loaded = try await catalog.load(ids, tolerating: tolerated)
                libraries = loaded.libraries
                UnavailableNotice.print(loaded.unavailable)
            } catch where error.missingLibrary {
                // A library with no peer is a bad option, like any other unknown value.
                throw ValidationError("--libs: \(error)")
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: \(error)\n".utf8))
                throw ExitCode(3)
            }
            var ordered: [PeerLibrary] = []
            for id in ids where !ordered.contains(where: { $0.id == id }) { if let library = libraries[id] { ordered.append(library) } }
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
            try await options.checkSize(of: run)
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

/// Libraries `all` found that cannot take part, one line each on stderr: never left out in silence.
enum UnavailableNotice {
    /// Folders of INTEROP_MATRIX_PEER_PATH that cannot be read, one line each.
    static func printUnreadableFolders() {
        for (folder, reason) in PeerCatalog().unreadableFolders() {
            FileHandle.standardError.write(Data("interop-matrix: INTEROP_MATRIX_PEER_PATH names \(folder), which cannot be read (\(reason)): no peer is taken from it\n".utf8))
        }
    }

    static func print(_ unavailable: [UnavailableLibrary]) {
        for library in unavailable {
            FileHandle.standardError.write(Data("interop-matrix: \(library.id) cannot take part (\(library.executable)): \(library.reason)\n".utf8))
        }
    }
}
