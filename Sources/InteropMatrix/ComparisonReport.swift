import Foundation

/// A `ReportComparison` for people: a terminal summary, Markdown and a self-contained HTML page.
/// Summary first (counts by kind, then per pair), then the cells.
public enum ComparisonReport {
    /// Kinds listed cell by cell on a terminal however many; the others one by one while few.
    static let alwaysListed: Set<ReportComparison.Kind> = [.regression, .lostSupport, .newFailure, .fixed, .failureChanged, .alertChanged]
    static let terminalListLimit = 15

    /// `regressions: 1, newly supported: 331; unchanged: 4290` (kinds with no cell left out).
    static func summaryLine(_ c: ReportComparison) -> String {
        let parts = ReportComparison.Kind.allCases.filter { c.count($0) > 0 }.map { "\($0.title): \(c.count($0))" }
        return (parts.isEmpty ? "no cell changed" : parts.joined(separator: ", ")) + "; unchanged: \(c.unchanged)"
    }

    static func renameLine(_ c: ReportComparison) -> String? {
        guard !c.renamed.isEmpty else { return nil }
        return "compared as the same library: " + c.renamed.sorted { $0.key < $1.key }.map { "\($0.key) (NEW) as \($0.value) (OLD)" }.joined(separator: ", ")
    }

    /// A change on one line: `REGRESSION id: pass … → fail at client handshake …`.
    static func line(_ change: ReportComparison.Change) -> String {
        let before = change.before?.text ?? "absent"
        let after = change.after?.text ?? "absent"
        let details = change.details.isEmpty ? "" : " [" + change.details.joined(separator: "; ") + "]"
        return "\(change.id): \(before) → \(after)\(details)"
    }

    static func label(_ kind: ReportComparison.Kind) -> String {
        kind.rawValue.replacingOccurrences(of: "_", with: " ").uppercased()
    }

    public static func terminal(_ c: ReportComparison) -> String {
        var out = ["OLD " + sideText(c.old), "NEW " + sideText(c.new)]
        if let renames = renameLine(c) { out.append(renames) }
        out.append(summaryLine(c))
        if !c.pairs.isEmpty {
            let kinds = ReportComparison.Kind.allCases.filter { c.count($0) > 0 }
            let width = max(20, c.pairs.map { $0.server.count + $0.client.count + 1 }.max() ?? 0) + 2
            func pad(_ text: String, _ n: Int) -> String { text.count >= n ? text + " " : text + String(repeating: " ", count: n - text.count) }
            out.append(pad("pair", width) + kinds.map { pad($0.rawValue, $0.rawValue.count + 2) }.joined().trimmingTrailingSpaces)
            for pair in c.pairs {
                out.append((pad("\(pair.server)>\(pair.client)", width) + kinds.map { pad(String(pair.counts[$0.rawValue] ?? 0), $0.rawValue.count + 2) }.joined()).trimmingTrailingSpaces)
            }
        }
        for kind in ReportComparison.Kind.allCases {
            let changes = c.changes.filter { $0.kind == kind }
            guard !changes.isEmpty else { continue }
            if alwaysListed.contains(kind) || changes.count <= terminalListLimit {
                out += changes.map { "\(label(kind)) \(line($0))" }
            } else {
                out.append("\(changes.count) \(kind.title) (every one is in the JSON, Markdown and HTML): " + perPair(changes))
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// `old.json: 6100 cells, started … (openssl 3.0.19, …)`.
    static func sideText(_ side: ReportComparison.Side) -> String {
        let started: String = side.startedAt.map { ", started \($0)" } ?? ""
        let libraries: String = side.libraries.joined(separator: ", ")
        return "\(side.label): \(side.cells) cells\(started) (\(libraries))"
    }

    static func perPair(_ changes: [ReportComparison.Change]) -> String {
        var counts: [String: Int] = [:]
        for change in changes { counts["\(change.server)>\(change.client)", default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    /// The body of a comparison in Markdown, headings starting at `level`.
    static func markdownBody(_ c: ReportComparison, level: Int) -> [String] {
        let h = String(repeating: "#", count: level)
        let e = MarkdownReport.escape
        var out = ["**" + summaryLine(c) + "**", ""]
        if let renames = renameLine(c) { out += [e(renames), ""] }
        let kinds = ReportComparison.Kind.allCases.filter { c.count($0) > 0 }
        if !c.pairs.isEmpty {
            out.append("| pair | " + kinds.map(\.title).joined(separator: " | ") + " |")
            out.append("|---|" + kinds.map { _ in "---|" }.joined())
            for pair in c.pairs {
                out.append("| \(e(pair.server))>\(e(pair.client)) | " + kinds.map { String(pair.counts[$0.rawValue] ?? 0) }.joined(separator: " | ") + " |")
            }
            out.append("")
        }
        for kind in kinds {
            let changes = c.changes.filter { $0.kind == kind }
            out.append("\(h) \(kind.title.prefix(1).uppercased() + kind.title.dropFirst()) (\(changes.count))")
            out.append("")
            let folded = changes.count > 30 && !alwaysListed.contains(kind)
            if folded { out += ["<details><summary>\(changes.count) cells</summary>", ""] }
            out.append("| cell | before | after | what differs |")
            out.append("|---|---|---|---|")
            for change in changes {
                out.append("| `\(e(change.id))` | \(e(change.before?.text ?? "absent")) | \(e(change.after?.text ?? "absent")) | \(e(change.details.joined(separator: "; "))) |")
            }
            out.append("")
            if folded { out += ["</details>", ""] }
        }
        return out
    }

    public static func markdown(_ c: ReportComparison) -> String {
        var out = ["# interop-matrix comparison", "", "OLD " + MarkdownReport.escape(sideText(c.old)), "", "NEW " + MarkdownReport.escape(sideText(c.new)), ""]
        out += markdownBody(c, level: 2)
        return out.joined(separator: "\n") + "\n"
    }

    /// The run report's section for each library beside another version of itself.
    static func upgradeSections(_ report: Report) -> [String] {
        var out: [String] = []
        for c in ReportComparison.upgrades(in: report) {
            out += ["## What the upgrade changes: \(MarkdownReport.escape(c.old.label)) → \(MarkdownReport.escape(c.new.label))", "",
                    MarkdownReport.escape(upgradeScope(c)), ""]
            out += markdownBody(c, level: 3)
        }
        return out
    }

    /// The body of a comparison as HTML (every text escaped), headings starting at `level`.
    static func htmlBody(_ c: ReportComparison, level: Int) -> String {
        let x = JUnitReport.escape
        var out = "<p><b>\(x(summaryLine(c)))</b></p>\n"
        if let renames = renameLine(c) { out += "<p>\(x(renames))</p>\n" }
        let kinds = ReportComparison.Kind.allCases.filter { c.count($0) > 0 }
        if !c.pairs.isEmpty {
            out += "<table class=\"grid\"><tr><th>pair</th>" + kinds.map { "<th>\(x($0.title))</th>" }.joined() + "</tr>\n"
            for pair in c.pairs {
                out += "<tr><th>\(x(pair.server))&gt;\(x(pair.client))</th>" + kinds.map { "<td>\(pair.counts[$0.rawValue] ?? 0)</td>" }.joined() + "</tr>\n"
            }
            out += "</table>\n"
        }
        for kind in kinds {
            let changes = c.changes.filter { $0.kind == kind }
            out += "<details class=\"change \(kind.rawValue)\"\(alwaysListed.contains(kind) ? " open" : "")><summary><h\(level) style=\"display:inline\">\(x(kind.title)) (\(changes.count))</h\(level)></summary>\n"
            out += "<table class=\"grid\"><tr><th>cell</th><th>before</th><th>after</th><th>what differs</th></tr>\n"
            for change in changes {
                out += "<tr><td><code>\(x(change.id))</code></td><td>\(x(change.before?.text ?? "absent"))</td><td>\(x(change.after?.text ?? "absent"))</td><td>\(x(change.details.joined(separator: "; ")))</td></tr>\n"
            }
            out += "</table></details>\n"
        }
        return out
    }

    public static func html(_ c: ReportComparison) -> String {
        let x = JUnitReport.escape
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>interop-matrix comparison: \(x(c.old.label)) → \(x(c.new.label))</title>
        <style>\(style)</style>
        </head>
        <body>
        <h1>interop-matrix comparison</h1>
        <p class="meta">OLD \(x(sideText(c.old)))<br>NEW \(x(sideText(c.new)))</p>
        \(htmlBody(c, level: 2))
        </body>
        </html>

        """
    }

    /// What an in-run comparison covers, in one sentence.
    static func upgradeScope(_ c: ReportComparison) -> String {
        var text = "The cells where \(c.new.label) does otherwise than \(c.old.label) against the same partner and parameters (\(c.old.cells) cells each); cells crossing the two versions are left out"
        let (old, new) = (c.old.withoutCounterpart ?? 0, c.new.withoutCounterpart ?? 0)
        if old + new > 0 { text += ", and so are cells without a counterpart (blocks that cross each version with other partners): \(old) of \(c.old.label), \(new) of \(c.new.label)" }
        return text + "."
    }

    /// The run report's HTML section for each library beside another version of itself.
    static func upgradeHTML(_ report: Report) -> String {
        ReportComparison.upgrades(in: report).map { c in
            "<section class=\"upgrade\"><h2>What the upgrade changes: \(JUnitReport.escape(c.old.label)) → \(JUnitReport.escape(c.new.label))</h2>\n"
                + "<p>\(JUnitReport.escape(upgradeScope(c)))</p>\n"
                + htmlBody(c, level: 3) + "</section>\n"
        }.joined()
    }

    static let style = """
    body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5em; color: #1d2330; }
    h1 { font-size: 1.4em; } .meta { color: #566; }
    table.grid { border-collapse: collapse; margin: .3em 0 1em; }
    table.grid th, table.grid td { border: 1px solid #cfd5dd; padding: .3em .6em; text-align: left; vertical-align: top; }
    table.grid th { background: #f0f2f5; }
    details.change { margin: .6em 0; } details.change > summary { cursor: pointer; }
    details.regression > summary, details.lost_support > summary, details.new_failure > summary { color: #8a1111; }
    details.fixed > summary, details.gained_support > summary { color: #12551f; }
    """
}

extension String {
    var trimmingTrailingSpaces: String { String(self.reversed().drop { $0 == " " }.reversed()) }
}
