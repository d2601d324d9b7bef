import Foundation

/// Times whole matrix runs: wall time, cells and handshakes per second, and the runner's peak
/// memory, at each requested `--jobs`.
public struct Benchmark: Sendable {
    public struct Measurement: Sendable {
        public var jobs: Int
        public var cells: Int
        public var attempted: Int
        public var passed: Int
        public var wallSeconds: Double
        public var cellsPerSecond: Double { Double(cells) / wallSeconds }
        public var attemptedPerSecond: Double { Double(attempted) / wallSeconds }
    }

    public var run: MatrixRun
    public var jobs: [Int]

    public init(run: MatrixRun, jobs: [Int]) {
        self.run = run
        self.jobs = jobs
    }

    public func measure() async throws -> [Measurement] {
        var measurements: [Measurement] = []
        for count in jobs {
            var run = self.run
            run.jobs = count
            let start = ContinuousClock.now
            let report = try await run.run()
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            measurements.append(Measurement(
                jobs: count, cells: report.results.count,
                attempted: report.results.filter { $0.outcome != .unsupported }.count,
                passed: report.summary.passed, wallSeconds: seconds))
        }
        return measurements
    }

    /// Peak resident memory of this process, in megabytes (`getrusage`).
    public static func peakMemoryMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    public static func table(_ measurements: [Measurement], matrix: String) -> String {
        var lines = ["| matrix | jobs | cells | attempted (not unsupported) | wall time | cells/s | attempted cells/s |", "|---|---|---|---|---|---|---|"]
        for m in measurements {
            lines.append("| \(matrix) | \(m.jobs) | \(m.cells) | \(m.attempted) | \(String(format: "%.2f s", m.wallSeconds)) | \(String(format: "%.0f", m.cellsPerSecond)) | \(String(format: "%.0f", m.attemptedPerSecond)) |")
        }
        lines.append("")
        lines.append("Runner peak memory: \(String(format: "%.0f", peakMemoryMegabytes())) MB")
        return lines.joined(separator: "\n")
    }
}
