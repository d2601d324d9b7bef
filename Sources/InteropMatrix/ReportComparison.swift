import Foundation
import PeerKit

/// What changed from one set of results to another, cell by cell and pair by pair: the upgrade
/// report of `interop-matrix compare OLD.json NEW.json`, and within one run the cells where two
/// versions of a library differ against the same partner and parameters (`upgrades(in:)`).
///
/// Cells are matched by id, after NEW's library ids are renamed to OLD's (`mbedtls-3.6` compared
/// as `mbedtls`): the id holds the pair and every parameter, so a matched cell is the same question.
public struct ReportComparison: Codable, Sendable {
    /// How a cell changed. The order is the reports' order: what needs a look first.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Passed, and now fails, times out, crashes or errs.
        case regression
        /// Ran (passed or failed) and is now unsupported: a side no longer has what the cell needs.
        case lostSupport = "lost_support"
        /// Was unsupported, now runs, and fails: a side gained what the cell needs, and it does not work.
        case newFailure = "new_failure"
        /// Failed and now passes.
        case fixed
        /// Was unsupported and now passes: a side gained what the cell needs.
        case gainedSupport = "gained_support"
        /// Fails in both, differently: another outcome, side, stage or alert.
        case failureChanged = "failure_changed"
        /// Passes in both with another negotiated version, suite, group or signature scheme.
        case negotiationChanged = "negotiation_changed"
        /// An expected refusal (or a broken network) passes in both, with another alert.
        case alertChanged = "alert_changed"
        /// Only in NEW.
        case added
        /// Only in OLD.
        case vanished

        /// Words for people, plural.
        public var title: String {
            switch self {
            case .regression: "regressions"
            case .lostSupport: "now unsupported"
            case .newFailure: "newly supported but failing"
            case .fixed: "fixed"
            case .gainedSupport: "newly supported"
            case .failureChanged: "failing differently"
            case .negotiationChanged: "negotiating differently"
            case .alertChanged: "refusing with another alert"
            case .added: "new cells"
            case .vanished: "vanished cells"
            }
        }
    }

    /// One cell as one report has it: the outcome and what the libraries read back or said.
    public struct CellState: Codable, Sendable, Equatable {
        /// The cell's id in its own report (NEW's keeps its own library names).
        public var id: String
        public var outcome: Outcome
        public var reason: String?
        /// Negotiated values as the libraries read them back (either side: both must agree to pass).
        public var version: String?
        public var suite: String?
        public var group: String?
        public var signatureScheme: String?
        /// The refusal's observed alert, or the deciding error's alert.
        public var alert: String?
        /// The deciding error: `client handshake`, `server verify`.
        public var failedAt: String?

        enum CodingKeys: String, CodingKey {
            case id, outcome, reason, version, suite, group, alert
            case signatureScheme = "signature_scheme"
            case failedAt = "failed_at"
        }

        init(_ result: CellResult) {
            id = result.id
            outcome = result.outcome
            reason = result.reason
            if result.outcome == .pass {
                let views = [result.serverView, result.clientView].compactMap { $0 }
                version = views.first?.version.rawValue
                suite = views.first?.suite
                group = views.lazy.compactMap(\.group).first
                signatureScheme = views.lazy.compactMap(\.signatureScheme).first
            }
            alert = result.observedAlert ?? result.error?.alert
            failedAt = result.error.map { "\($0.side.rawValue) \($0.stage.rawValue)" }
        }

        /// `fail at client handshake (alert handshake_failure): reason`, for one line of text.
        public var text: String {
            var words = outcome.rawValue
            if outcome == .pass, let version, let suite { words += " \(version) \(suite)" + (group.map { " \($0)" } ?? "") }
            if let failedAt, outcome != .pass { words += " at \(failedAt)" }
            if let alert, outcome != .unsupported { words += " (alert \(alert))" }
            if let reason, outcome != .pass { words += ": \(reason)" }
            return words
        }
    }

    /// One cell that changed.
    public struct Change: Codable, Sendable {
        public var kind: Kind
        /// The cell's id in OLD's names.
        public var id: String
        public var server: String
        public var client: String
        public var before: CellState?
        public var after: CellState?
        /// What differs, one phrase each: `version TLS1.2 → TLS1.3`, `alert decode_error → protocol_version`.
        public var details: [String]

        /// Something that passed no longer does, or a cell that could not run (or was not there) now
        /// fails: what a baseline calls a regression.
        public var isRegression: Bool {
            guard let after else { return false }
            let failing = ![.pass, .unsupported].contains(after.outcome)
            guard let before else { return failing }
            return (before.outcome == .pass && after.outcome != .pass) || (before.outcome == .unsupported && failing)
        }

        /// Something that did not pass now does.
        public var isImprovement: Bool { before.map { $0.outcome != .pass } == true && after?.outcome == .pass }
    }

    /// One side of the comparison: which report, when, with which libraries.
    public struct Side: Codable, Sendable {
        public var label: String
        public var startedAt: String?
        public var libraries: [String]
        public var cells: Int
        /// Within one run: this version's cells with no counterpart in the other's (a block that
        /// crosses each with other partners), left out of the comparison.
        public var withoutCounterpart: Int?

        enum CodingKeys: String, CodingKey {
            case label, libraries, cells
            case startedAt = "started_at"
            case withoutCounterpart = "without_counterpart"
        }
    }

    /// A pair's changes counted by kind (in OLD's names).
    public struct PairChanges: Codable, Sendable {
        public var server: String
        public var client: String
        public var counts: [String: Int]
    }

    public var schema = "interop-matrix/comparison/v1"
    public var old: Side
    public var new: Side
    /// NEW's library ids compared as OLD's: `{"mbedtls-3.6": "mbedtls"}`.
    public var renamed: [String: String]
    /// Changed cells counted by kind, and the cells matched that did not change.
    public var counts: [String: Int]
    public var unchanged: Int
    public var pairs: [PairChanges]
    public var changes: [Change]

    enum CodingKeys: String, CodingKey {
        case schema, old, new, renamed, counts, unchanged, pairs, changes
        case exitCode = "exit_code"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(String.self, forKey: .schema)
        old = try c.decode(Side.self, forKey: .old)
        new = try c.decode(Side.self, forKey: .new)
        renamed = try c.decode([String: String].self, forKey: .renamed)
        counts = try c.decode([String: Int].self, forKey: .counts)
        unchanged = try c.decode(Int.self, forKey: .unchanged)
        pairs = try c.decode([PairChanges].self, forKey: .pairs)
        changes = try c.decode([Change].self, forKey: .changes)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(old, forKey: .old)
        try c.encode(new, forKey: .new)
        try c.encode(renamed, forKey: .renamed)
        try c.encode(counts, forKey: .counts)
        try c.encode(unchanged, forKey: .unchanged)
        try c.encode(pairs, forKey: .pairs)
        try c.encode(changes, forKey: .changes)
        try c.encode(exitCode, forKey: .exitCode)
    }

    /// Compares OLD's results with NEW's, NEW's library ids renamed by `renaming` (NEW id → OLD id).
    public init(old: Side, oldResults: [CellResult], new: Side, newResults: [CellResult], renaming: [String: String] = [:]) {
        self.old = old
        self.new = new
        renamed = renaming
        var before: [String: CellResult] = [:]
        for result in oldResults { before[result.id] = result }
        var changes: [Change] = []
        var matched = Set<String>()
        var unchanged = 0
        for result in newResults {
            let key = Self.renamedID(result.id, renaming)
            guard let earlier = before[key] else {
                changes.append(Change(kind: .added, id: key, server: renaming[result.server] ?? result.server,
                                      client: renaming[result.client] ?? result.client, before: nil, after: CellState(result), details: []))
                continue
            }
            matched.insert(key)
            if let change = Self.change(from: earlier, to: result, id: key) { changes.append(change) } else { unchanged += 1 }
        }
        for result in oldResults where !matched.contains(result.id) {
            changes.append(Change(kind: .vanished, id: result.id, server: result.server, client: result.client,
                                  before: CellState(result), after: nil, details: []))
        }
        let order = Dictionary(uniqueKeysWithValues: Kind.allCases.enumerated().map { ($1, $0) })
        changes.sort { (order[$0.kind]!, $0.id) < (order[$1.kind]!, $1.id) }
        self.changes = changes
        self.unchanged = unchanged
        counts = Dictionary(grouping: changes, by: \.kind.rawValue).mapValues(\.count)
        var perPair: [String: PairChanges] = [:]
        var pairOrder: [String] = []
        for change in changes {
            let key = "\(change.server)>\(change.client)"
            if perPair[key] == nil { pairOrder.append(key); perPair[key] = PairChanges(server: change.server, client: change.client, counts: [:]) }
            perPair[key]!.counts[change.kind.rawValue, default: 0] += 1
        }
        pairs = pairOrder.sorted().map { perPair[$0]! }
    }

    /// Compares two reports.
    public init(old: Report, labeled oldLabel: String, new: Report, labeled newLabel: String, renaming: [String: String]) {
        self.init(old: Side(report: old, label: oldLabel), oldResults: old.results,
                  new: Side(report: new, label: newLabel), newResults: new.results, renaming: renaming)
    }

    public func count(_ kind: Kind) -> Int { counts[kind.rawValue] ?? 0 }

    /// As the baseline's: 1 something that passed no longer does (or a cell that could not run, or is
    /// new, now fails), 4 only improvements besides unchanged cells, 5 other changes only, 0 nothing changed.
    public var exitCode: Int32 {
        if changes.contains(where: \.isRegression) { return 1 }
        if changes.isEmpty { return 0 }
        return changes.allSatisfy(\.isImprovement) ? 4 : 5
    }

    /// NEW ids OLD lacks, matched to OLD ids NEW lacks when they differ only by a version suffix
    /// (`mbedtls-3.6` and `mbedtls`, either way round): NEW id → OLD id.
    public static func automaticRenames(oldLibraries: [String], newLibraries: [String]) -> [String: String] {
        let onlyOld = Set(oldLibraries).subtracting(newLibraries)
        let onlyNew = Set(newLibraries).subtracting(oldLibraries)
        var renames: [String: String] = [:]
        for id in onlyNew.sorted() {
            let candidates = onlyOld.filter { unversioned($0) == unversioned(id) }
            if candidates.count == 1, !renames.values.contains(candidates.first!) { renames[id] = candidates.first! }
        }
        return renames
    }

    /// A library id without a trailing `-<major.minor…>`: `mbedtls-3.6` → `mbedtls`.
    static func unversioned(_ id: String) -> String {
        guard let range = id.range(of: "-[0-9]+(\\.[0-9]+)*$", options: .regularExpression) else { return id }
        return String(id[..<range.lowerBound])
    }

    /// An id with its pair's library ids renamed: `server>client/rest`.
    static func renamedID(_ id: String, _ renaming: [String: String]) -> String {
        guard !renaming.isEmpty, let slash = id.firstIndex(of: "/") else { return id }
        let pair = id[..<slash].split(separator: ">", maxSplits: 1).map(String.init)
        guard pair.count == 2 else { return id }
        return "\(renaming[pair[0]] ?? pair[0])>\(renaming[pair[1]] ?? pair[1])" + id[slash...]
    }

    static func change(from old: CellResult, to new: CellResult, id: String) -> Change? {
        let before = CellState(old)
        let after = CellState(new)
        func make(_ kind: Kind, _ details: [String] = []) -> Change {
            Change(kind: kind, id: id, server: old.server, client: old.client, before: before, after: after, details: details)
        }
        let (was, now) = (before.outcome, after.outcome)
        if was == .unsupported && now == .unsupported { return nil }
        if now == .unsupported { return make(.lostSupport) }
        if was == .pass && now != .pass { return make(.regression) }
        if was == .unsupported && now != .pass { return make(.newFailure) }
        if was == .unsupported { return make(.gainedSupport) }
        if was != .pass && now == .pass { return make(.fixed) }
        if was == .pass {
            var details: [String] = []
            for (name, a, b) in [("version", before.version, after.version), ("suite", before.suite, after.suite),
                                 ("group", before.group, after.group), ("signature scheme", before.signatureScheme, after.signatureScheme)] {
                // A value one side's library cannot expose is not a change of what was negotiated.
                if let a, let b, a != b { details.append("\(name) \(a) → \(b)") }
            }
            if !details.isEmpty { return make(.negotiationChanged, details) }
            let refusal = old.expect.handshake == .refused || old.expect.connectionBroken == true
            if refusal, before.alert != after.alert { return make(.alertChanged, ["alert \(before.alert ?? "none") → \(after.alert ?? "none")"]) }
            return nil
        }
        // Both fail.
        var details: [String] = []
        if before.outcome != after.outcome { details.append("\(before.outcome.rawValue) → \(after.outcome.rawValue)") }
        if before.failedAt != after.failedAt { details.append("at \(before.failedAt ?? "?") → \(after.failedAt ?? "?")") }
        if before.alert != after.alert { details.append("alert \(before.alert ?? "none") → \(after.alert ?? "none")") }
        return details.isEmpty ? nil : make(.failureChanged, details)
    }
}

extension ReportComparison.Side {
    public init(report: Report, label: String) {
        self.init(label: label, startedAt: report.startedAt, libraries: report.libraries.map { "\($0.id) \($0.version)" },
                  cells: report.results.count, withoutCounterpart: nil)
    }
}

extension ReportComparison {
    /// Within one run: for each library that runs beside another version of itself (`mbedtls` and
    /// `mbedtls-3.6`), the cells where the newer version does otherwise than the older one against
    /// the same partner and parameters. Cells that cross the two versions with each other are left out.
    public static func upgrades(in report: Report) -> [ReportComparison] {
        var found: [ReportComparison] = []
        for library in report.libraries {
            for sibling in report.libraries where sibling.id != library.id && unversioned(sibling.id) == library.id {
                let (older, newer) = LibraryVersionOrder.isOlder(library.version, than: sibling.version) ? (library, sibling) : (sibling, library)
                func only(_ mine: String, not other: String) -> [CellResult] {
                    report.results.filter { ($0.server == mine || $0.client == mine) && $0.server != other && $0.client != other }
                }
                let renaming = [newer.id: older.id]
                let allOld = only(older.id, not: newer.id)
                let allNew = only(newer.id, not: older.id)
                // Against the same partner and parameters only: a cell the other version has no
                // counterpart of is not a change the upgrade made.
                let newKeys = Set(allNew.map { renamedID($0.id, renaming) })
                let oldResults = allOld.filter { newKeys.contains($0.id) }
                let oldKeys = Set(oldResults.map(\.id))
                let newResults = allNew.filter { oldKeys.contains(renamedID($0.id, renaming)) }
                func side(_ library: Report.Library, _ kept: [CellResult], of all: [CellResult]) -> Side {
                    Side(label: "\(library.id) \(library.version)", startedAt: nil, libraries: ["\(library.id) \(library.version)"],
                         cells: kept.count, withoutCounterpart: all.count - kept.count)
                }
                found.append(ReportComparison(old: side(older, oldResults, of: allOld), oldResults: oldResults,
                                              new: side(newer, newResults, of: allNew), newResults: newResults, renaming: renaming))
            }
        }
        return found
    }
}

/// Library versions compared as people read them: numbers by value (`3.110` after `3.87`).
enum LibraryVersionOrder {
    static func isOlder(_ a: String, than b: String) -> Bool {
        func numbers(_ text: String) -> [Int] {
            text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        }
        let (x, y) = (numbers(a), numbers(b))
        for (p, q) in zip(x, y) where p != q { return p < q }
        return x.count < y.count
    }
}
