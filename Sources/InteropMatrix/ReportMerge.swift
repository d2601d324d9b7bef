import Foundation

/// Combines the reports of `--shard K/N` runs into the report one machine would have written.
public enum ReportMerge {
    public static func merge(_ reports: [(path: String, report: Report)]) throws(MergeError) -> Report {
        guard let first = reports.first else { throw MergeError(message: "no reports to merge") }
        for (path, report) in reports {
            // A report of another schema version may mean other things by the same fields.
            guard report.schema == Report.schemaVersion else {
                throw MergeError(message: "\(path): schema \(MatrixFile.shown(report.schema)), but this interop-matrix reads only \(Report.schemaVersion): refusing to merge")
            }
            guard report.schema == first.report.schema else { throw MergeError(message: "\(path): schema \(report.schema), but \(first.path) has \(first.report.schema)") }
            guard report.tool.version == first.report.tool.version else {
                throw MergeError(message: "\(path) was written by interop-matrix \(report.tool.version), \(first.path) by \(first.report.tool.version): refusing to merge different tool versions")
            }
            guard let digest = report.matrixDigest, digest == first.report.matrixDigest, report.matrixCells == first.report.matrixCells else {
                throw MergeError(message: "\(path) ran a different matrix (or different filters) than \(first.path): refusing to merge")
            }
            let libraries = report.libraries.map { "\($0.id) \($0.version)" }
            let firstLibraries = first.report.libraries.map { "\($0.id) \($0.version)" }
            guard Set(libraries) == Set(firstLibraries) || report.results.isEmpty || first.report.results.isEmpty else {
                throw MergeError(message: "\(path) used \(libraries.joined(separator: ", ")), \(first.path) used \(firstLibraries.joined(separator: ", ")): refusing to merge different library versions")
            }
        }
        let shards = reports.compactMap { $0.report.shard }
        let counts = Set(shards.compactMap { Shard($0)?.count })
        guard counts.count <= 1 else { throw MergeError(message: "the reports come from different shard counts (\(shards.joined(separator: ", ")))") }
        var seen = Set<String>()
        var results: [CellResult] = []
        for (path, report) in reports {
            for result in report.results {
                guard seen.insert(result.id).inserted else { throw MergeError(message: "\(path): cell \(result.id) is in two reports (the same shard twice?)") }
                results.append(result)
            }
        }
        results.sort { ($0.index ?? Int.max, $0.id) < ($1.index ?? Int.max, $1.id) }
        var libraries: [Report.Library] = []
        for (_, report) in reports {
            for library in report.libraries where !libraries.contains(where: { $0.id == library.id }) { libraries.append(library) }
        }
        let order = first.report.libraries.map(\.id)
        libraries.sort { (order.firstIndex(of: $0.id) ?? Int.max) < (order.firstIndex(of: $1.id) ?? Int.max) }
        var merged = Report(
            startedAt: reports.map(\.report.startedAt).min() ?? first.report.startedAt,
            durationS: reports.map(\.report.durationS).max() ?? 0,
            matrix: first.report.matrix,
            libraries: libraries,
            summary: Report.Summary(results: results),
            results: results,
            complete: reports.allSatisfy(\.report.complete) && results.count == first.report.matrixCells)
        merged.matrixName = first.report.matrixName
        merged.matrixCells = first.report.matrixCells
        merged.matrixDigest = first.report.matrixDigest
        merged.mergedShards = shards.sorted()
        merged.coverage = PairCoverage.of(merged)
        merged.coveringArrays = first.report.coveringArrays.map { CoveringArrayCoverage.counted($0, results: results) }
        merged.minimumCoverage = first.report.minimumCoverage
        // Shards compared with the same baseline: their comparisons add up to the whole run's.
        let comparisons = reports.compactMap(\.report.baseline)
        if comparisons.count == reports.count, let file = comparisons.first?.file, comparisons.allSatisfy({ $0.file == file }) {
            var total = BaselineComparison(file: file)
            for c in comparisons {
                total.regressions += c.regressions
                total.unexpectedPasses += c.unexpectedPasses
                total.knownFailures += c.knownFailures
                total.intermittentPasses += c.intermittentPasses
                total.newCells += c.newCells
                total.vanishedCells += c.vanishedCells
                total.alertChanges += c.alertChanges
            }
            let order = Dictionary(results.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
            func sorted(_ ids: [String]) -> [String] { ids.sorted { (order[$0] ?? Int.max, $0) < (order[$1] ?? Int.max, $1) } }
            total.regressions = sorted(total.regressions)
            total.unexpectedPasses = sorted(total.unexpectedPasses)
            total.knownFailures = sorted(total.knownFailures)
            total.intermittentPasses = sorted(total.intermittentPasses)
            total.newCells = sorted(total.newCells)
            total.vanishedCells = total.vanishedCells.sorted()
            total.alertChanges.sort { (order[$0.id] ?? Int.max, $0.id) < (order[$1.id] ?? Int.max, $1.id) }
            merged.baseline = total
        }
        return merged
    }
}

extension Report {
    /// The one report schema this version writes and merges (`../shared/report-schema.json`).
    static let schemaVersion = Report(startedAt: "", durationS: 0, matrix: "", libraries: [], summary: Report.Summary(results: []), results: [], complete: true).schema
}

public struct MergeError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
