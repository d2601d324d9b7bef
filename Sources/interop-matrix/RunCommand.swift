import ArgumentParser
import Foundation
import InteropMatrix
import PeerKit

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

        // `.unconditional`: `--retries -1` reaches validate() and is told what is wrong, instead of
        // being taken for an unknown option `-1`.
        @Option(name: .long, parsing: .unconditional, help: "Re-run a cell that did not pass up to N times; one that then passes is reported as flaky.")
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

        @Option(name: .long, parsing: .unconditional, help: "Cells run at once (default: the number of cores).")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Flag(name: .long, help: "Start a fresh server and client process for every cell instead of reusing peer workers (slower; each cell then owns its processes outright).")
        var noWorkers = false

        @Option(name: .long, parsing: .unconditional, help: "Seconds a cell may take before its peers are killed (0.1 to 3600).")
        var timeout: Double = 10

        @Option(name: .long, parsing: .unconditional, help: "Seconds the whole run may take (0.1 to 86400); then running cells are stopped and the report is written, marked incomplete.")
        var deadline: Double?

        @Flag(name: .long, help: "Keep the generated certificates and keys (0600) and print where.")
        var keepCerts = false

        @Flag(name: .long, help: "No progress lines on stderr.")
        var quiet = false

        func validate() throws {
            guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs \(jobs): the cells run at once, between 1 and 256, e.g. --jobs 4") }
            // A cell under 100 ms cannot start two peers; NaN and infinities are not durations.
            guard timeout.isFinite, timeout >= 0.1 && timeout <= 3600 else {
                throw ValidationError("--timeout \(timeout): seconds a cell may take, between 0.1 and 3600, e.g. --timeout 10")
            }
            guard retries >= 0 && retries <= 10 else { throw ValidationError("--retries \(retries): must be between 0 and 10, e.g. --retries 2") }
            if let deadline, !(deadline.isFinite && deadline >= 0.1 && deadline <= 86_400) {
                throw ValidationError("--deadline \(deadline): seconds the whole run may take, between 0.1 and 86400, e.g. --deadline 600")
            }
            if let shard, Shard(shard) == nil { throw ValidationError("--shard \(shard): expected K/N with 1 <= K <= N, e.g. --shard 2/4") }
            if updateBaseline && baseline == nil { throw ValidationError("--update-baseline needs --baseline PATH to write to") }
            if let baseline {
                // Read (and, to update it, write) the baseline now, not after every cell has run.
                if updateBaseline {
                    do { try ReportFile(baseline).check() } catch { throw ValidationError("--baseline: \(error)") }
                    if FileManager.default.fileExists(atPath: baseline) { _ = try Self.loadBaseline(baseline) }
                } else if !FileManager.default.fileExists(atPath: baseline) {
                    throw ValidationError("--baseline \(baseline): no such file (create it with --update-baseline)")
                } else {
                    _ = try Self.loadBaseline(baseline)
                }
            }
        }

        /// A baseline, or the usage error (exit 64) that names it and what is wrong, in one line.
        static func loadBaseline(_ path: String) throws -> Baseline {
            do {
                return try Baseline.load(path: path)
            } catch {
                throw ValidationError(MatrixFile.oneLine("\(error)"))
            }
        }

        func run() async throws {
            let file = try options.load()
            var run = MatrixRun(matrix: file, jobs: jobs, timeout: .milliseconds(Int(timeout * 1000)))
            // Ctrl-C, SIGTERM or SIGHUP: stop the peers, remove the keys, write the partial report.
            let interrupts = InterruptWatch(stop: run.stop)
            run.useWorkers = !noWorkers
            run.filters = options.filter
            run.only = only
            run.retries = retries
            run.shard = shard.flatMap(Shard.init)
            run.certificateDirectory = certs
            run.artifacts = artifacts.map { ArtifactStore(root: URL(fileURLWithPath: $0), keepAll: keepAll) }
            run.replayArguments = options.matrix.map { ["--matrix", $0] } ?? []
            run.runDeadline = deadline.map { .milliseconds(Int($0 * 1000)) }
            run.keepCertificates = keepCerts
            run.onUnavailable = { UnavailableNotice.print($0) }
            if keepCerts {
                run.onCertificates = { path in FileHandle.standardError.write(Data("interop-matrix: certificates and keys are kept in \(path)\n".utf8)) }
            }
            let live = !quiet
            let progress = Progress(terminal: isatty(STDERR_FILENO) == 1)
            try await options.checkSize(of: run)
            // `coverage:` blocks choose their covering arrays over what each pair supports, so the
            // expansion without the peers' capabilities holds other cells than the run will: an
            // --only id the run itself reported (and its replay.sh passes) can be missing from it.
            // Where it is, decide "no cells" on the expansion the run uses, with the capabilities.
            // Peers that cannot be asked leave the question to the run, which says why they cannot.
            var selectable: [Cell]? = run.cells()
            if selectable?.isEmpty == true && run.matrix.blocks.contains(where: { $0.coverage != .full }) {
                var probe = run
                probe.onUnavailable = nil
                let loaded = try? await probe.loadLibraries()
                selectable = loaded.map { $0.run.cells(libraries: $0.libraries) }
            }
            if selectable?.isEmpty == true {
                throw ValidationError("the matrix\(options.filter.isEmpty && only.isEmpty ? "" : " with --filter/--only") selects no cells; `interop-matrix list` shows what a matrix expands to")
            }
            // A shard may still select no cells (small matrices, many shards): that is a complete
            // report of 0 cells, so the merge of all shards is whole.
            // A matrix's own baseline, when it has one, documents its known failures: compare with it.
            var baseline = self.baseline
            if baseline == nil && !noBaseline, let own = BaselineLocation.own(matrixPath: options.matrix, name: file.name) {
                baseline = own
                if live { FileHandle.standardError.write(Data("interop-matrix: comparing with the matrix's baseline \(own) (--no-baseline to skip)\n".utf8)) }
            }
            // Read before any cell runs: a corrupt baseline is a usage error at the start, not after the run.
            let expected = try baseline.flatMap { path in updateBaseline && !FileManager.default.fileExists(atPath: path) ? nil : try Self.loadBaseline(path) }
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
                    // The known failures' reasons carry over from the baseline read at the start.
                    do {
                        try Baseline(report: report, keeping: expected).write(to: baseline)
                        FileHandle.standardError.write(Data("interop-matrix: wrote the baseline \(baseline) (\(report.results.count) cells)\n".utf8))
                    } catch {
                        FileHandle.standardError.write(Data("interop-matrix: cannot write the baseline: \(error)\n".utf8))
                        throw ExitCode(3)
                    }
                } else if let expected {
                    // Vanished: in the baseline, within this run's selection (--libs, --filter,
                    // --only, --shard), and not run. A stopped run did not run some of its own
                    // cells: only those its matrix no longer has are vanished.
                    let selection = run
                    let planned = report.complete ? [] : Set(run.cells().map(\.id))
                    _ = expected.compare(&report, file: baseline) { id in selection.selects(id: id) && !planned.contains(id) }
                }
            }
            try outputs.deliver(report, interruptedBy: interrupts.received)
        }
    }
}
