import Foundation
import PeerKit

/// The report for people: a server × client summary, what each pair negotiated, then every cell
/// that did not pass with its reason and both sides' errors.
public enum MarkdownReport {
    public static func render(_ report: Report) -> String {
        var out: [String] = []
        let s = report.summary
        out.append("# interop-matrix report")
        out.append("")
        out.append("Matrix: \(report.matrix) · started \(report.startedAt) · \(String(format: "%.2f", report.durationS)) s · interop-matrix \(report.tool.version)" + (report.complete ? "" : " · **incomplete run**"))
        out.append("")
        out.append("Libraries: " + report.libraries.map { "\(escape($0.name)) \(escape($0.version)) (`\($0.id)`)" }.joined(separator: ", "))
        out.append("")
        out.append("**\(s.total) cells: \(s.passed) passed, \(s.failed) failed, \(s.unsupported) unsupported, \(s.errors) errors (timeouts, crashes, harness); \(s.alertDeviations) alert deviations**")
        out.append("")
        out.append(contentsOf: baselineSection(report))
        out.append(contentsOf: pairTable(report))
        out.append(contentsOf: ComparisonReport.upgradeSections(report))
        out.append(contentsOf: scenarioTable(report))
        out.append(contentsOf: alertTable(report))
        out.append(contentsOf: alertDeviations(report))
        out.append(contentsOf: defaultsTable(report))
        out.append(contentsOf: negotiatedTable(report))
        out.append(contentsOf: suiteTables(report))
        out.append(contentsOf: groupTable(report))
        out.append(contentsOf: networkTable(report))
        out.append(contentsOf: uniqueSupport(report))
        out.append(contentsOf: coverageSection(report))
        out.append(contentsOf: crossingSection(report))
        out.append(contentsOf: coveringArraySection(report))
        out.append(contentsOf: problems(report))
        out.append(contentsOf: unsupported(report))
        out.append(contentsOf: notes(report))
        return out.joined(separator: "\n") + "\n"
    }

    static func libraryIDs(_ report: Report) -> (servers: [String], clients: [String]) {
        func ordered(_ ids: Set<String>) -> [String] {
            report.libraries.map(\.id).filter(ids.contains) + ids.subtracting(report.libraries.map(\.id)).sorted()
        }
        return (ordered(Set(report.results.map(\.server))), ordered(Set(report.results.map(\.client))))
    }

    /// How a set of cells went: passed, attempted (the cells that were not unsupported), unsupported.
    struct Tally {
        var passed = 0
        var attempted = 0
        var unsupported = 0

        init(_ cells: [CellResult]) {
            for cell in cells {
                if cell.outcome == .unsupported { unsupported += 1 } else { attempted += 1 }
                if cell.outcome == .pass { passed += 1 }
            }
        }
    }

    /// `passed/attempted` per pair.
    static func pairCounts(_ report: Report, server: String, client: String) -> Tally {
        Tally(report.results.filter { $0.server == server && $0.client == client })
    }

    static func pairTable(_ report: Report) -> [String] {
        let (servers, clients) = libraryIDs(report)
        var out = ["## Server × client", "", "Cells that met their expectation / cells attempted (unsupported cells are not attempted).", ""]
        out.append("| server ↓ client → | " + clients.joined(separator: " | ") + " |")
        out.append("|---|" + clients.map { _ in "---|" }.joined())
        for server in servers {
            let row = clients.map { client -> String in
                let c = pairCounts(report, server: server, client: client)
                let mark = c.attempted == 0 ? "–" : (c.passed == c.attempted ? "✅" : "❌")
                return "\(mark) \(c.passed)/\(c.attempted)" + (c.unsupported > 0 ? " (+\(c.unsupported) unsupported)" : "")
            }
            out.append("| **\(server)** | " + row.joined(separator: " | ") + " |")
        }
        out.append("")
        return out
    }

    /// The mark for a set of cells: all attempted passed, some failed, or none could be attempted.
    static func mark(_ cells: [CellResult]) -> String {
        guard !cells.isEmpty else { return "" }
        let tally = Tally(cells)
        if tally.attempted == 0 { return "–" }
        return tally.passed == tally.attempted ? "✅" : "❌ \(tally.attempted - tally.passed)/\(tally.attempted)"
    }

    static func pairs(_ report: Report) -> [(String, String)] {
        let (servers, clients) = libraryIDs(report)
        return servers.flatMap { s in clients.map { (s, $0) } }
    }

    /// How one row (a scenario, a suite, a group, a network) went over every pair, in three columns
    /// whatever the number of pairs: pairs whose every attempted cell met its expectation out of the
    /// pairs attempted, the pairs that did not (with their failed/attempted cells), and the pairs
    /// where a side lacks what the row needs. Lists of pairs are written short (`PairList`).
    struct PairSummary {
        var met: String
        var failed: String
        var unsupported: String

        init(_ cells: [CellResult], order: [(String, String)]) {
            var byPair: [String: [CellResult]] = [:]
            for cell in cells { byPair["\(cell.server)>\(cell.client)", default: []].append(cell) }
            let present = order.filter { byPair["\($0.0)>\($0.1)"] != nil }
            var attempted = 0, passed = 0
            var failures: [String] = []
            var lacking: [(String, String)] = []
            for pair in present {
                let tally = Tally(byPair["\(pair.0)>\(pair.1)"]!)
                if tally.attempted == 0 { lacking.append(pair); continue }
                attempted += 1
                if tally.passed == tally.attempted { passed += 1 } else { failures.append("\(pair.0)>\(pair.1) \(tally.attempted - tally.passed)/\(tally.attempted)") }
            }
            met = attempted == 0 ? "–" : (passed == attempted ? "✅ \(passed)/\(attempted)" : "❌ \(passed)/\(attempted)")
            failed = failures.joined(separator: ", ")
            unsupported = PairList.short(lacking, within: present)
        }

        static let header = "pairs met | pairs failed (failed/attempted cells) | a side lacks it"
        var columns: String { "\(met) | \(failed) | \(unsupported)" }
    }

    /// Scenarios: how each went over every pair.
    static func scenarioTable(_ report: Report) -> [String] {
        let scenarios = report.results.map(\.scenario).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        guard scenarios.count > 1 else { return [] }
        let pairs = pairs(report)
        var out = ["## Scenarios", "", "| scenario | \(PairSummary.header) |", "|---|---|---|---|"]
        for scenario in scenarios {
            let cells = report.results.filter { $0.scenario == scenario }
            out.append("| \(scenario) | \(PairSummary(cells, order: pairs).columns) |")
        }
        out.append("")
        return out
    }

    /// For the expected refusals: which alert the refusing side sent and the other side received,
    /// per scenario and version, as the RFC names it or otherwise, with the pairs each way.
    static func alertTable(_ report: Report) -> [String] {
        let refusals = report.results.filter { $0.expect.handshake == .refused && $0.expect.connectionBroken != true && $0.outcome != .unsupported }
        guard !refusals.isEmpty else { return [] }
        let pairs = pairs(report)
        var out = ["## Alerts of the expected refusals", "",
                   "sent → received, as each side's library reports it (– none reported); ❌ the cell failed. `gnutls>*`: every pair gnutls serves; `*>gnutls`: every pair it is the client of.", "",
                   "| scenario | version | RFC | as the RFC names it | otherwise |",
                   "|---|---|---|---|---|"]
        var seen: [String] = []
        for r in refusals where !seen.contains("\(r.scenario)|\(r.params.version.rawValue)") { seen.append("\(r.scenario)|\(r.params.version.rawValue)") }
        for key in seen {
            let parts = key.split(separator: "|").map(String.init)
            let cells = refusals.filter { $0.scenario == parts[0] && $0.params.version.rawValue == parts[1] }
            let rfc = cells.first?.expect.alert ?? ""
            var labels: [String] = []
            var pairsByLabel: [String: [(String, String)]] = [:]
            var asNamed = 0
            for pair in pairs {
                guard let cell = cells.first(where: { $0.server == pair.0 && $0.client == pair.1 }) else { continue }
                let refuser = cell.expect.refusedBy == .client ? cell.clientError : cell.serverError
                let other = cell.expect.refusedBy == .client ? cell.serverError : cell.clientError
                let label = "\(cell.outcome == .pass ? "" : "❌ ")\(refuser?.alert ?? "–") → \(other?.receivedAlert ?? "–")"
                if cell.outcome == .pass && refuser?.alert == rfc && other?.receivedAlert == rfc { asNamed += 1; continue }
                if pairsByLabel[label] == nil { labels.append(label) }
                pairsByLabel[label, default: []].append(pair)
            }
            let present = pairs.filter { pair in cells.contains { $0.server == pair.0 && $0.client == pair.1 } }
            let otherwise = labels.map { "\($0): \(PairList.short(pairsByLabel[$0]!, within: present))" }.joined(separator: "<br>")
            out.append("| \(parts[0]) | \(parts[1]) | \(rfc) | \(asNamed)/\(present.count) pairs | \(otherwise) |")
        }
        out.append("")
        return out
    }

    /// What each pair negotiates with both libraries out of the box.
    static func defaultsTable(_ report: Report) -> [String] {
        let cells = report.results.filter { $0.scenario == "defaults" }
        guard !cells.isEmpty else { return [] }
        var out = ["## Out of the box", "", "Both peers with their library's default configuration, as most users run them.", ""]
        out.append("| server | client | cert | outcome | version | suite | group |")
        out.append("|---|---|---|---|---|---|---|")
        for r in cells {
            let v = r.clientView
            out.append("| \(r.server) | \(r.client) | \(r.params.cert.rawValue) | \(r.outcome.rawValue) | \(v?.version.rawValue ?? "–") | \(v?.suite ?? r.reason ?? "–") | \(r.serverView?.group ?? v?.group ?? "–") |")
        }
        out.append("")
        return out
    }

    /// Per version, each forced suite over every pair (each certificate type the suite can use).
    static func suiteTables(_ report: Report) -> [String] {
        let forced = report.results.filter { $0.params.suiteCode != nil && $0.scenario == "basic" }
        guard !forced.isEmpty else { return [] }
        let pairs = pairs(report)
        var out: [String] = []
        for version in TLSVersion.allCases {
            let cells = forced.filter { $0.params.version == version }
            guard !cells.isEmpty else { continue }
            out += ["## Cipher suites, \(version.rawValue)", "", "Each forced suite with each certificate type it can use; a side lacks it: the suite or its version.", ""]
            out.append("| code | suite | \(PairSummary.header) |")
            out.append("|---|---|---|---|---|")
            var byCode: [String: [CellResult]] = [:]
            for cell in cells { byCode[cell.params.suiteCode!, default: []].append(cell) }
            for code in byCode.keys.sorted() {
                let name = byCode[code]!.first?.params.suite ?? ""
                out.append("| \(code) | \(name) | \(PairSummary(byCode[code]!, order: pairs).columns) |")
            }
            out.append("")
        }
        return out
    }

    /// Each forced group over every pair, per version.
    static func groupTable(_ report: Report) -> [String] {
        let forced = report.results.filter { $0.params.group != nil && $0.scenario == "basic" }
        guard !forced.isEmpty else { return [] }
        let pairs = pairs(report)
        var out = ["## Key exchange groups", "", "| version | group | \(PairSummary.header) |", "|---|---|---|---|---|"]
        for version in TLSVersion.allCases {
            let cells = forced.filter { $0.params.version == version }
            for group in NamedGroup.ordered(cells.compactMap(\.params.group)) {
                out.append("| \(version.rawValue) | \(group) | \(PairSummary(cells.filter { $0.params.group == group }, order: pairs).columns) |")
            }
        }
        out.append("")
        return out
    }

    /// Each impaired network over every pair it ran for, per version: segment-1 and delay must
    /// pass, the others must fail cleanly on both sides.
    static func networkTable(_ report: Report) -> [String] {
        let impaired = report.results.filter { $0.params.network != .none }
        guard !impaired.isEmpty else { return [] }
        let pairs = pairs(report)
        var out = ["## Impaired networks", "", "segment-1 and delay-50ms must still pass; stall, truncate, reset and corrupt must fail cleanly on both sides, in time, and never accept corrupted data.", "",
                   "| version | network | \(PairSummary.header) |", "|---|---|---|---|---|"]
        let networks = impaired.map(\.params.network).reduce(into: [Impairment]()) { if !$0.contains($1) { $0.append($1) } }
        for version in TLSVersion.allCases {
            for network in networks {
                let cells = impaired.filter { $0.params.version == version && $0.params.network == network }
                guard !cells.isEmpty else { continue }
                out.append("| \(version.rawValue) | \(network) | \(PairSummary(cells, order: pairs).columns) |")
            }
        }
        out.append("")
        return out
    }

    /// What one library supports that none of the others in the run does, from their capabilities.
    static func uniqueSupport(_ report: Report) -> [String] {
        let libraries = report.libraries.compactMap { library in library.capabilities.map { (library.id, $0) } }
        guard libraries.count > 1 else { return [] }
        var out = ["## Only one library has it", "", "From what each library reports at run time (`interop-matrix capabilities`).", ""]
        for (id, caps) in libraries {
            let others = libraries.filter { $0.0 != id }.map(\.1)
            let versions = caps.versions.filter { v in !others.contains { $0.versions.contains(v) } }
            let groups = caps.groups.filter { g in !others.contains { $0.groups.contains(g) } }
            let certs = caps.certificateTypes.filter { c in !others.contains { $0.certificateTypes.contains(c) } }
            let suites = caps.suites.filter { s in !others.contains { $0.suites.contains { $0.code == s.code } } }
            var parts: [String] = []
            if !versions.isEmpty { parts.append("versions " + versions.joined(separator: ", ")) }
            if !groups.isEmpty { parts.append("groups " + groups.joined(separator: ", ")) }
            if !certs.isEmpty { parts.append("certificates " + certs.joined(separator: ", ")) }
            if !suites.isEmpty {
                let names = suites.map { CipherSuiteRegistry.suite(codeText: $0.code)?.name ?? "\($0.code) (not in the IANA registry: \(escape($0.libraryName)))" }
                parts.append("\(suites.count) suites: " + names.joined(separator: ", "))
            }
            out.append("- **\(id)**: " + (parts.isEmpty ? "nothing" : parts.joined(separator: "; ")))
        }
        out.append("")
        return out
    }

    static func negotiatedTable(_ report: Report) -> [String] {
        // The parameters each pair chose itself: cells that forced no suite or group.
        let handshakes = report.results.filter {
            $0.outcome == .pass && $0.expect.handshake == .ok && $0.clientView != nil && $0.scenario == "basic"
                && $0.params.suiteCode == nil && $0.params.group == nil
        }
        guard !handshakes.isEmpty else { return [] }
        var out = ["## What each pair negotiated", "", "As both peers read it back from their own library (they agree in every row).", ""]
        out.append("| server | client | version | cert | client auth | suite | code | group | server's signature (client's view / server's) |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for r in handshakes {
            let v = r.clientView!
            let signature = v.shown("signature_scheme", v.signatureScheme) + " / " + (r.serverView.map { $0.shown("signature_scheme", $0.signatureScheme) } ?? "–")
            out.append("| \(r.server) | \(r.client) | \(v.version.rawValue) | \(r.params.cert.rawValue) | \(r.params.clientAuth.rawValue) | \(v.suite) | \(v.suiteCode) | \(r.serverView?.group ?? v.group ?? "–") | \(signature) |")
        }
        out.append("")
        return out
    }

    /// What no cell tried of what both sides of a pair support: per dimension over the run, then
    /// per pair.
    static func coverageSection(_ report: Report) -> [String] {
        let pairs = report.coverage ?? PairCoverage.of(report)
        guard !pairs.isEmpty else { return [] }
        let summary = CoverageSummary(pairs)
        var out = ["## Never tried", ""]
        if let shortfall = report.coverageShortfall { out += ["**\(escape(shortfall))**: the run fails.", ""] }
        out += [
                   String(format: "Of the values both sides of a pair support, %.0f%% were tried by a cell that ran (passed or failed). ", summary.tried * 100)
                   + "Tried / supported, summed over the \(pairs.count) pairs, and the values never tried, those most pairs missed first:", "",
                   "| dimension | tried / supported | never tried (in how many pairs) |", "|---|---|---|"]
        for name in PairCoverage.dimensionNames {
            let all = summary.supported[name] ?? 0
            let never = summary.neverTriedValues[name] ?? []
            let shown = never.prefix(12).map { "\(escape($0.value)) (\($0.pairs))" }.joined(separator: ", ") + (never.count > 12 ? ", … \(never.count - 12) more" : "")
            out.append("| \(name) | \(all - (summary.neverTried[name] ?? 0)) / \(all) | \(never.isEmpty ? "none" : shown) |")
        }
        out.append("")
        let gaps = pairs.filter { $0.dimensions.contains { !$0.neverTried.isEmpty } }
        guard !gaps.isEmpty else { return out + ["Every pair tried every value both sides support.", ""] }
        out.append("Per pair (never tried / supported):")
        out.append("")
        out.append("| pair | " + PairCoverage.dimensionNames.joined(separator: " | ") + " |")
        out.append("|---|" + PairCoverage.dimensionNames.map { _ in "---" }.joined(separator: "|") + "|")
        for pair in gaps {
            let cells = PairCoverage.dimensionNames.map { name -> String in
                guard let d = pair.dimension(name) else { return "–" }
                return d.neverTried.isEmpty ? "0 / \(d.supported)" : "**\(d.neverTried.count)** / \(d.supported)"
            }
            out.append("| \(pair.server)>\(pair.client) | " + cells.joined(separator: " | ") + " |")
        }
        out.append("")
        return out
    }

    /// Per two dimensions: the value pairs both sides of a pair support that no cell which ran
    /// crossed, summed over the pairs, with those most pairs missed.
    static func crossingSection(_ report: Report) -> [String] {
        let summary = CrossingSummary(report.coverage ?? PairCoverage.of(report))
        guard summary.possible > 0 else { return [] }
        var out = ["## Never crossed", "",
                   "Of the value pairs (a suite with a client-auth mode, a group with a certificate type…) that some combination both sides of a pair can run has, "
                   + "\(CoveringArraySummary.percent(Double(summary.crossed) / Double(summary.possible))) were crossed in a cell that ran. Crossed / possible, summed over the pairs, and value pairs never crossed, those most pairs missed first:", "",
                   "| dimensions | crossed / possible | pairs short | never crossed (in how many pairs) |", "|---|---|---|---|"]
        for entry in summary.entries {
            let shown = entry.examples.prefix(6).map { "\(escape($0.values.joined(separator: " with "))) (\($0.pairs))" }.joined(separator: ", ")
            out.append("| \(entry.name) | \(entry.crossed) / \(entry.possible) | \(entry.pairsShort) | \(entry.examples.isEmpty ? "none" : shown) |")
        }
        out.append("")
        return out
    }

    /// Per t-way block: the share of its covering arrays' t-tuples the run covered, and the pairs
    /// that fell short (their cells did not all run).
    static func coveringArraySection(_ report: Report) -> [String] {
        let summary = CoveringArraySummary(report.coveringArrays ?? [])
        guard !summary.blocks.isEmpty else { return [] }
        var out = ["## Covering arrays", "",
                   "Each t-way block is a covering array per pair over the combinations both sides can run; a t-tuple counts as covered when a cell that ran (passed or failed) has it.", "",
                   "| block | strength | pairs | t-tuples covered | share | pairs short of 100% |", "|---|---|---|---|---|---|"]
        for b in summary.blocks {
            let short = b.short.prefix(8).map { "\($0.server)>\($0.client) \(CoveringArraySummary.percent($0.share))" }.joined(separator: ", ")
                + (b.short.count > 8 ? ", … \(b.short.count - 8) more" : "")
            out.append("| \(escape(b.block)) | \(b.strength) | \(b.entries) | \(b.covered) / \(b.tuples) | \(b.share < 1 ? "**\(CoveringArraySummary.percent(b.share))**" : CoveringArraySummary.percent(b.share)) | \(b.short.isEmpty ? "none" : short) |")
        }
        out.append("")
        return out
    }

    static func problems(_ report: Report) -> [String] {
        let bad = report.results.filter { ![.pass, .unsupported].contains($0.outcome) }
        var out = ["## Cells that did not meet their expectation", ""]
        guard !bad.isEmpty else { return out + ["None.", ""] }
        for r in bad {
            let known = r.baselineStatus == .knownFailure ? " (known failure\(r.knownFailure.map { ": \($0)" } ?? ""))" : ""
            out.append("- **\(r.outcome.rawValue)** `\(r.id)`\(known): \(escape(r.reason ?? ""))")
            for error in [r.serverError, r.clientError].compactMap({ $0 }) {
                let alert = error.alert.map { ", alert \($0) \(error.alertDirection?.rawValue ?? "")" } ?? ""
                let reason = error.verifyReason.map { ", \($0.rawValue)" } ?? ""
                out.append("  - \(error.side.rawValue) (\(error.stage.rawValue)\(reason)\(escape(alert))): \(escape(error.message))" + (error.libraryCode.map { " [\(escape($0))]" } ?? ""))
            }
        }
        out.append("")
        return out
    }

    /// What changed against the baseline, when the run was compared with one.
    static func baselineSection(_ report: Report) -> [String] {
        guard let b = report.baseline else { return [] }
        var out = ["## Against the baseline", "", "Baseline `\(b.file)`: **\(b.regressions.count) regressions**, \(b.unexpectedPasses.count) unexpected passes, \(b.knownFailures.count) known failures, \(b.intermittentPasses.count) intermittent known failures that passed, \(b.newCells.count) new cells, \(b.vanishedCells.count) vanished cells, \(b.alertChanges.count) changed alerts.", ""]
        func list(_ title: String, _ ids: [String]) {
            guard !ids.isEmpty else { return }
            out.append("### \(title)")
            out.append("")
            for id in ids.prefix(200) {
                let reason = report.results.first { $0.id == id }?.reason.map { ": \($0)" } ?? ""
                out.append("- `\(id)`\(reason)")
            }
            if ids.count > 200 { out.append("- … and \(ids.count - 200) more") }
            out.append("")
        }
        list("Regressions", b.regressions)
        list("Unexpected passes (update the baseline)", b.unexpectedPasses)
        list("Intermittent known failures that passed this time", b.intermittentPasses)
        list("New cells", b.newCells)
        list("Vanished cells", b.vanishedCells)
        if !b.alertChanges.isEmpty {
            out.append("### Changed alerts (still passing)")
            out.append("")
            for change in b.alertChanges.prefix(200) { out.append("- `\(change.id)`: \(escape(change.before ?? "none")) → \(escape(change.after ?? "none"))") }
            out.append("")
        }
        return out
    }

    /// Passing refusals whose alert is not the one the RFC names, counted per scenario and alert.
    static func alertDeviations(_ report: Report) -> [String] {
        let deviating = report.results.filter { $0.alertDeviation != nil }
        guard !deviating.isEmpty else { return [] }
        var out = ["## Alert deviations (\(deviating.count) passing cells)", "",
                   "The refusal happened as expected, with another alert than the RFC names (or none).", "",
                   "| scenario | version | side | library | RFC | sent | cells |", "|---|---|---|---|---|---|---|"]
        var counts: [[String]: Int] = [:]
        var order: [[String]] = []
        for r in deviating {
            let d = r.alertDeviation!
            let key = [r.scenario, r.params.version.rawValue, d.side.rawValue, d.side == .client ? r.client : r.server, d.expected, d.observed ?? "none"].map(escape)
            if counts[key] == nil { order.append(key) }
            counts[key, default: 0] += 1
        }
        for key in order { out.append("| " + key.joined(separator: " | ") + " | \(counts[key]!) |") }
        out.append("")
        return out
    }

    static func unsupported(_ report: Report) -> [String] {
        let cells = report.results.filter { $0.outcome == .unsupported }
        guard !cells.isEmpty else { return [] }
        var byReason: [String: Int] = [:]
        for cell in cells { byReason[cell.reason ?? "unsupported", default: 0] += 1 }
        var out = ["## Unsupported (decided before any byte was sent)", ""]
        for (reason, count) in byReason.sorted(by: { $0.key < $1.key }) { out.append("- \(count) cells: \(reason)") }
        out.append("")
        return out
    }

    static func notes(_ report: Report) -> [String] {
        let noted = report.results.filter { !($0.notes ?? []).isEmpty || $0.flaky == true }
        guard !noted.isEmpty else { return [] }
        var out = ["## Notes", ""]
        for r in noted {
            var notes = r.notes ?? []
            if r.flaky == true { notes.append("flaky: passed on attempt \(r.attempts ?? 0) after " + (r.earlierAttempts ?? []).joined(separator: "; ")) }
            out.append("- `\(r.id)`: " + escape(notes.joined(separator: "; ")))
        }
        out.append("")
        return out
    }
}

extension MarkdownReport {
    /// Text a peer supplied (library names and versions from its capabilities, its error messages),
    /// made inert in Markdown: it can neither end a table cell (`|`), open code (a backtick), start
    /// HTML (`<`), nor break the line it is on.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "|": out += "\\|"
            case "`": out += "\\`"
            case "\\": out += "\\\\"
            case "<": out += "&lt;"
            case "\n", "\r", "\r\n": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}

/// The same summary for a terminal: the pair grid and the cells that need attention.
public enum TerminalReport {
    public static func render(_ report: Report) -> String {
        let (servers, clients) = MarkdownReport.libraryIDs(report)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        // Short cells, each column as wide as its longest: the grid stays on a wide terminal at
        // 7 libraries (49 pairs) and 12 (144).
        let texts = servers.map { server in
            clients.map { client -> String in
                let c = MarkdownReport.pairCounts(report, server: server, client: client)
                let verdict = c.attempted == 0 ? "-" : (c.passed == c.attempted ? "ok \(c.passed)" : "\(c.attempted - c.passed) FAIL")
                return verdict + (c.unsupported > 0 ? " +\(c.unsupported)u" : "")
            }
        }
        let widths = clients.indices.map { column in max(clients[column].count, texts.map { $0[column].count }.max() ?? 0) + 2 }
        let first = max(15, servers.map(\.count).max() ?? 0) + 2
        var out: [String] = []
        out.append(pad("server\\client", first) + clients.indices.map { pad(clients[$0], widths[$0]) }.joined())
        for (row, server) in servers.enumerated() {
            out.append(pad(server, first) + clients.indices.map { pad(texts[row][$0], widths[$0]) }.joined())
        }
        out.append("(ok N: N cells met their expectation; K FAIL: K did not; +Nu: unsupported, not attempted)")
        // Failures the baseline does not know, one line each; known ones one line each while they
        // are few, else counted per pair (the reports list them all).
        let failing = report.results.filter { ![.pass, .unsupported].contains($0.outcome) }
        let known = failing.filter { $0.baselineStatus == .knownFailure }
        for r in failing where r.baselineStatus != .knownFailure || known.count <= 12 {
            let mark = r.baselineStatus == .knownFailure ? " (known)" : (r.baselineStatus == .regression ? " REGRESSION" : "")
            out.append("\(r.outcome.rawValue.uppercased())\(mark) \(r.id): \(r.reason ?? "")")
        }
        if known.count > 12 {
            var perPair: [String: Int] = [:]
            for r in known { perPair["\(r.server)>\(r.client)", default: 0] += 1 }
            out.append("\(known.count) known failures (their reasons are in the baseline and every report): " + perPair.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        for r in report.results where r.flaky == true { out.append("FLAKY \(r.id): passed on attempt \(r.attempts ?? 0)") }
        if let b = report.baseline {
            for id in b.unexpectedPasses { out.append("UNEXPECTED PASS \(id) (update the baseline)") }
            for change in b.alertChanges { out.append("ALERT CHANGED \(change.text)") }
            let intermittent = b.intermittentPasses.isEmpty ? "" : " (and \(b.intermittentPasses.count) intermittent ones that passed this time)"
            out.append("baseline \(b.file): \(b.regressions.count) regressions, \(b.unexpectedPasses.count) unexpected passes, \(b.knownFailures.count) known failures\(intermittent), \(b.newCells.count) new, \(b.vanishedCells.count) vanished, \(b.alertChanges.count) changed alerts")
        }
        let coverage = report.coverage ?? PairCoverage.of(report)
        if !coverage.isEmpty { out.append(CoverageSummary(coverage).line) }
        if !coverage.isEmpty, let line = CrossingSummary(coverage).line { out.append(line) }
        if let line = CoveringArraySummary(report.coveringArrays ?? []).line { out.append(line) }
        if let shortfall = report.coverageShortfall { out.append("COVERAGE SHORTFALL: \(shortfall)") }
        let s = report.summary
        out.append("\(s.total) cells: \(s.passed) passed (\(s.alertDeviations) with another alert than the RFC names), \(s.failed) failed, \(s.unsupported) unsupported (u), \(s.errors) errors in \(String(format: "%.2f", report.durationS)) s")
        return out.joined(separator: "\n") + "\n"
    }
}

/// A list of server>client pairs written short: `gnutls>*` for every pair of the row that gnutls
/// serves, `*>gnutls` for every one it is the client of, the rest one by one. Stays readable at
/// 49 pairs and at 144.
enum PairList {
    static func short(_ pairs: [(String, String)], within present: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return "" }
        let chosen = Set(pairs.map { "\($0.0)>\($0.1)" })
        let servers = present.map(\.0).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let clients = present.map(\.1).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if chosen.count == present.count && present.count > 1 { return "every pair" }
        var covered = Set<String>()
        var parts: [String] = []
        for server in servers {
            let row = present.filter { $0.0 == server }.map { "\($0.0)>\($0.1)" }
            if row.count > 1 && row.allSatisfy(chosen.contains) { parts.append("\(server)>*"); covered.formUnion(row) }
        }
        for client in clients {
            let column = present.filter { $0.1 == client }.map { "\($0.0)>\($0.1)" }
            if column.count > 1 && column.allSatisfy(chosen.contains) { parts.append("*>\(client)"); covered.formUnion(column) }
        }
        parts += pairs.map { "\($0.0)>\($0.1)" }.filter { !covered.contains($0) }
        return parts.joined(separator: ", ")
    }
}
