import Foundation
import PeerKit
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Times one matrix three ways on the same cells, on one machine, in one go: interop-matrix itself
/// at each requested `--jobs`; the floor (the same handshakes back to back in one process, no
/// process start-up: `interop-floor`); and the naive way (a fresh server and client process per
/// cell, one cell at a time, as compat.sh does). Cells behind an impaired network are left out of
/// all three: the floor has no proxy, and a stalled network measures its own timeout.
public struct Benchmark: Sendable {
    public struct Measurement: Sendable {
        public var label: String
        public var cells: Int
        public var wallSeconds: Double
        public var cellsPerSecond: Double { Double(cells) / wallSeconds }
    }

    public struct Results: Sendable {
        public var matrix: String
        public var runs: [Measurement]
        public var floor: Measurement?
        public var naive: Measurement?
        public var peakMemoryMegabytes: Double
        public var machine: String
        /// Issuing the certificates of a run, which each interop-matrix and naive run includes.
        public var certificateSeconds: Double?
        /// Writing the last run's JSON and Markdown reports (not part of the rows above).
        public var reportSeconds: Double?
        public var cores = ProcessInfo.processInfo.activeProcessorCount
    }

    public var run: MatrixRun
    public var jobs: [Int]
    public var includeNaive = true
    public var includeFloor = true

    public init(run: MatrixRun, jobs: [Int]) {
        self.run = run
        self.jobs = jobs
    }

    public func measure(progress: (@Sendable (String) -> Void)? = nil) async throws -> Results {
        // The cells every measurement runs: those the libraries can do, over a direct connection.
        let (libraries, _, loaded) = try await run.loadLibraries()
        var base = loaded
        let planner = CellRunner(libraries: libraries, certificates: [:], timeout: base.timeout)
        let cells = base.cells(libraries: libraries).filter { $0.params.network == .none && planner.unsupportedReason($0) == nil }
        base.only = cells.map(\.id)
        base.filters = []
        var runs: [Measurement] = []
        var last: Report?
        for count in jobs {
            progress?("interop-matrix --jobs \(count)")
            var timed = base
            timed.jobs = count
            runs.append(try await time("interop-matrix --jobs \(count)") {
                let report = try await timed.run()
                last = report
                return report.results.count
            })
        }
        var reportSeconds: Double?
        if let last {
            let start = ContinuousClock.now
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("interop-matrix-bench-\(UUID().uuidString).json")
            try last.writeJSON(to: file)
            _ = MarkdownReport.render(last)
            try? FileManager.default.removeItem(at: file)
            reportSeconds = Self.seconds(since: start)
        }
        last = nil
        var floor: Measurement?
        var certificateSeconds: Double?
        if includeFloor {
            progress?("floor")
            (floor, certificateSeconds) = try await measureFloor(cells, libraries: libraries)
        }
        var naive: Measurement?
        if includeNaive {
            progress?("naive")
            var serial = base
            serial.jobs = 1
            serial.useWorkers = false
            naive = try await time("naive: fresh processes per cell, one at a time") { try await serial.run().results.count }
        }
        return Results(matrix: base.matrix.name, runs: runs, floor: floor, naive: naive,
                       peakMemoryMegabytes: Self.peakMemoryMegabytes(), machine: Self.machine(), certificateSeconds: certificateSeconds,
                       reportSeconds: reportSeconds)
    }

    private func time(_ label: String, _ body: () async throws -> Int) async throws -> Measurement {
        let start = ContinuousClock.now
        let cells = try await body()
        return Measurement(label: label, cells: cells, wallSeconds: Self.seconds(since: start))
    }

    /// Runs the cells' handshakes in `interop-floor`, one process for all of them.
    private func measureFloor(_ cells: [Cell], libraries: [String: PeerLibrary]) async throws -> (Measurement, Double) {
        let directory = try CertificateDirectory()
        defer { directory.remove() }
        let issuing = ContinuousClock.now
        let sets = try await CertificateAuthority.issue(Array(Set(cells.map(\.params.cert))), into: directory.url)
        let certificateSeconds = Self.seconds(since: issuing)
        let runner = CellRunner(libraries: libraries, certificates: sets, timeout: run.timeout)
        var input = ""
        for cell in cells {
            guard let set = sets[cell.params.cert] else { continue }
            let server = runner.serverArguments(cell, set)
            let client = runner.clientArguments(cell, set, port: 1)
            let line: [String] = [cell.server, cell.client, String(server.count)] + server + client
            input += PeerKit.JSON.array(line.map(PeerKit.JSON.string)).serialized + "\n"
        }
        let executable = run.catalog.directory + "/interop-floor"
        let result = try await PeerProcess.retryingTextFileBusy {
            try await Subprocess.run(.path(FilePath(executable)), input: .string(input), output: .string(limit: 64 << 20), error: .discarded)
        }
        let last = result.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        // "cells N failed F seconds S"
        let words = last.split(separator: " ")
        guard words.count == 6, words[0] == "cells", let count = Int(words[1]), let seconds = Double(words[5]) else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "interop-floor at \(executable) gave no summary: \(last.prefix(200))"])
        }
        return (Measurement(label: "floor: one process, back to back", cells: count, wallSeconds: seconds), certificateSeconds)
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).inSeconds
    }

    /// Peak resident memory of this process, in megabytes (`getrusage`).
    public static func peakMemoryMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// CPU model and core count, from /proc/cpuinfo.
    static func machine() -> String {
        let info = TextFile.text(at: "/proc/cpuinfo") ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    public static func table(_ results: Results) -> String {
        var lines = ["Matrix \(results.matrix) on \(results.machine); cells over a direct connection that both libraries support.", "",
                     "| measurement | cells | wall time | cells/s |", "|---|---|---|---|"]
        for m in results.runs + [results.floor, results.naive].compactMap({ $0 }) {
            lines.append("| \(m.label) | \(m.cells) | \(String(format: "%.2f s", m.wallSeconds)) | \(String(format: "%.0f", m.cellsPerSecond)) |")
        }
        lines.append("")
        if let best = results.runs.min(by: { $0.wallSeconds < $1.wallSeconds }) {
            if let floor = results.floor {
                lines.append("interop-matrix / floor: \(String(format: "%.2f", best.wallSeconds / floor.wallSeconds))× (target: at most 3×)")
            }
            if let naive = results.naive {
                lines.append("naive / interop-matrix: \(String(format: "%.1f", naive.wallSeconds / best.wallSeconds))× (target: at least 20×)")
            }
        }
        lines.append("Runner peak memory: \(String(format: "%.0f", results.peakMemoryMegabytes)) MB")
        // Where the time goes, per cell.
        if let floor = results.floor, floor.cells > 0 {
            let perCell = floor.wallSeconds * 1000 / Double(floor.cells)
            lines.append("")
            lines.append("Where the time goes, per cell:")
            lines.append("- handshake, data and close in one process (the floor): \(String(format: "%.1f", perCell)) ms")
            if let naive = results.naive, naive.cells > 0 {
                let naivePerCell = naive.wallSeconds * 1000 / Double(naive.cells)
                lines.append("- naive: \(String(format: "%.1f", naivePerCell)) ms, of which starting two processes and the runner's work: \(String(format: "%.1f", max(0, naivePerCell - perCell))) ms")
                let bound = naive.wallSeconds / (floor.wallSeconds / Double(results.cores))
                lines.append("- the most naive / interop-matrix can be on \(results.cores) cores, with every cell at the floor and no overhead at all: \(String(format: "%.1f", bound))×")
            }
            if let best = results.runs.min(by: { $0.wallSeconds < $1.wallSeconds }), best.cells > 0 {
                let wall = best.wallSeconds * 1000 / Double(best.cells)
                lines.append("- interop-matrix: \(String(format: "%.1f", wall)) ms of wall time (\(results.cores) cells at once); beyond the floor, each cell's slot spends \(String(format: "%.1f", max(0, wall * Double(results.cores) - perCell))) ms on worker round trips, scheduling, verdicts and the certificates")
            }
            if let report = results.reportSeconds {
                lines.append("- writing the JSON and Markdown reports of a run, after the cells: \(String(format: "%.2f", report)) s")
            }
            if let certificates = results.certificateSeconds {
                lines.append("- issuing the run's certificates, once per run and included above: \(String(format: "%.2f", certificates)) s")
            }
        }
        return lines.joined(separator: "\n")
    }
}
