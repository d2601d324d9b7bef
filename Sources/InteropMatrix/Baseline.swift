import Foundation

/// The expected results of a matrix (`matrix/expected/<name>.json`): every cell's outcome, and for
/// known failures why and where it is tracked, as BoringSSL's runner keeps its disabled tests.
public struct Baseline: Codable, Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var outcome: Outcome
        /// Why a known failure fails (kept across `--update-baseline`).
        public var reason: String?
        /// Where it is tracked (a bug report, a mailing list thread).
        public var link: String?
        /// For an expected refusal or a broken network: the alert it carried (`observed_alert`),
        /// so a library that starts sending another one is reported as a change.
        public var alert: String?
        /// A known failure that a library's race makes pass now and then (set by hand, with the
        /// evidence in `reason`): a pass is not an unexpected pass, a failure is a known one, and
        /// `--update-baseline` keeps the entry whichever it was. Anything else (unsupported, no
        /// longer in the matrix) is judged as for any known failure.
        public var intermittent: Bool?
    }

    public var schema = "interop-matrix/baseline/v1"
    public var matrix: String
    public var cells: [String: Entry]

    public static func load(path: String) throws -> Baseline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BaselineError(message: "\(path): cannot read the baseline")
        }
        do {
            let baseline = try JSONDecoder().decode(Baseline.self, from: data)
            guard baseline.schema == "interop-matrix/baseline/v1" else {
                throw BaselineError(message: "\(path): schema is \(baseline.schema), expected interop-matrix/baseline/v1")
            }
            return baseline
        } catch let error as BaselineError {
            throw error
        } catch {
            throw BaselineError(message: "\(path): not a baseline file: \(error)")
        }
    }

    public init(matrix: String, cells: [String: Entry]) {
        self.matrix = matrix
        self.cells = cells
    }

    /// The baseline a report makes: every cell's outcome; known failures keep the reason and link
    /// an earlier baseline gave them.
    public init(report: Report, keeping earlier: Baseline?) {
        matrix = report.matrixName ?? report.matrix
        var cells: [String: Entry] = [:]
        for result in report.results {
            if let old = earlier?.cells[result.id], old.intermittent == true, result.outcome != .unsupported {
                cells[result.id] = old
                continue
            }
            var entry = Entry(outcome: result.outcome)
            entry.alert = result.observedAlert
            if ![.pass, .unsupported].contains(result.outcome) {
                let old = earlier?.cells[result.id]
                entry.reason = old?.reason ?? result.reason
                entry.link = old?.link
            }
            cells[result.id] = entry
        }
        self.cells = cells
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // The reports' rule for files (ReportFile): never half a baseline, a link's target kept a file.
        try ReportFile(path).write(encoder.encode(self))
    }

    /// Compares a report with this baseline, marks each result, and says what changed.
    /// `inScope` says which baseline cells the run could have run (a shard runs only its own).
    public func compare(_ report: inout Report, file: String, inScope: (String) -> Bool) -> BaselineComparison {
        var comparison = BaselineComparison(file: file)
        let ran = Set(report.results.map(\.id))
        for index in report.results.indices {
            let result = report.results[index]
            let passedOrCannot = [Outcome.pass, .unsupported].contains(result.outcome)
            guard let expected = cells[result.id] else {
                comparison.newCells.append(result.id)
                report.results[index].baselineStatus = passedOrCannot ? .new : .regression
                if !passedOrCannot { comparison.regressions.append(result.id) }
                continue
            }
            let expectedGood = [Outcome.pass, .unsupported].contains(expected.outcome)
            if expected.outcome == .pass, result.outcome == .pass, result.expect.handshake == .refused, expected.alert != result.observedAlert {
                comparison.alertChanges.append(AlertChange(id: result.id, before: expected.alert, after: result.observedAlert))
            }
            // A known failure that is now unsupported did not start passing: the cell lost its run.
            if (expected.outcome == .pass && result.outcome != .pass) || (expectedGood && !passedOrCannot)
                || (!expectedGood && result.outcome == .unsupported) {
                comparison.regressions.append(result.id)
                report.results[index].baselineStatus = .regression
            } else if !expectedGood && passedOrCannot && expected.intermittent == true {
                comparison.intermittentPasses.append(result.id)
                report.results[index].baselineStatus = .intermittentPass
                report.results[index].knownFailure = expected.knownFailureText
            } else if !expectedGood && passedOrCannot {
                comparison.unexpectedPasses.append(result.id)
                report.results[index].baselineStatus = .unexpectedPass
            } else if !expectedGood {
                comparison.knownFailures.append(result.id)
                report.results[index].baselineStatus = .knownFailure
                report.results[index].knownFailure = expected.knownFailureText
            }
        }
        comparison.vanishedCells = cells.keys.filter { inScope($0) && !ran.contains($0) }.sorted()
        report.baseline = comparison
        return comparison
    }
}

extension Baseline.Entry {
    /// The reason and link a report shows beside a known failure.
    var knownFailureText: String {
        let text = [reason, link].compactMap { $0 }.joined(separator: " — ")
        return intermittent == true ? "intermittent: " + text : text
    }
}

/// What a cell is against the baseline (a report's `baseline` field).
public enum BaselineStatus: String, Codable, Sendable {
    /// It passed (or was unsupported) in the baseline and now does not pass, or is new and fails.
    case regression
    /// A known failure that now passes or is unsupported: update the baseline.
    case unexpectedPass = "unexpected_pass"
    /// It fails as the baseline expects.
    case knownFailure = "known_failure"
    /// An intermittent known failure that passed this time.
    case intermittentPass = "intermittent_pass"
    /// Not in the baseline, and passed or was unsupported.
    case new
}

/// What changed against a baseline. The exit code tells the kinds apart (README, "Exit codes").
public struct BaselineComparison: Codable, Sendable {
    public var file: String
    /// Cells that passed (or were unsupported) in the baseline and now do not pass, and new cells that fail.
    public var regressions: [String] = []
    /// Known failures that now pass or are unsupported: update the baseline.
    public var unexpectedPasses: [String] = []
    public var knownFailures: [String] = []
    /// Intermittent known failures that passed this time: nothing to update.
    public var intermittentPasses: [String] = []
    public var newCells: [String] = []
    public var vanishedCells: [String] = []
    /// Passing refusals whose alert is not the one the baseline recorded.
    public var alertChanges: [AlertChange] = []

    enum CodingKeys: String, CodingKey {
        case file, regressions
        case alertChanges = "alert_changes"
        case unexpectedPasses = "unexpected_passes"
        case knownFailures = "known_failures"
        case intermittentPasses = "intermittent_passes"
        case newCells = "new_cells"
        case vanishedCells = "vanished_cells"
    }

    public init(file: String) { self.file = file }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        file = try c.decode(String.self, forKey: .file)
        regressions = try c.decode([String].self, forKey: .regressions)
        unexpectedPasses = try c.decode([String].self, forKey: .unexpectedPasses)
        knownFailures = try c.decode([String].self, forKey: .knownFailures)
        newCells = try c.decode([String].self, forKey: .newCells)
        vanishedCells = try c.decode([String].self, forKey: .vanishedCells)
        alertChanges = try c.decodeIfPresent([AlertChange].self, forKey: .alertChanges) ?? []
        intermittentPasses = try c.decodeIfPresent([String].self, forKey: .intermittentPasses) ?? []
    }

    /// 1 regressions, 4 unexpected passes, 5 cells new or vanished or alerts changed, 0 nothing changed.
    public var exitCode: Int32 {
        if !regressions.isEmpty { return 1 }
        if !unexpectedPasses.isEmpty { return 4 }
        if !newCells.isEmpty || !vanishedCells.isEmpty || !alertChanges.isEmpty { return 5 }
        return 0
    }
}

/// A refusal that still passes, with another alert than the baseline recorded.
public struct AlertChange: Codable, Sendable, Equatable {
    public var id: String
    public var before: String?
    public var after: String?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(before, forKey: .before)
        try c.encode(after, forKey: .after)
    }

    public var text: String { "\(id): alert \(before ?? "none") → \(after ?? "none")" }
}

public struct BaselineError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
