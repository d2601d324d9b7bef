import Foundation

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
        out.append("Libraries: " + report.libraries.map { "\($0.name) \($0.version) (`\($0.id)`)" }.joined(separator: ", "))
        out.append("")
        out.append("**\(s.total) cells: \(s.passed) passed, \(s.failed) failed, \(s.unsupported) unsupported, \(s.errors) errors (timeouts, crashes, harness)**")
        out.append("")
        out.append(contentsOf: pairTable(report))
        out.append(contentsOf: negotiatedTable(report))
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

    /// `passed/attempted` per pair, attempted being the cells that were not unsupported.
    static func pairCounts(_ report: Report, server: String, client: String) -> (passed: Int, attempted: Int, unsupported: Int) {
        let cells = report.results.filter { $0.server == server && $0.client == client }
        let unsupported = cells.filter { $0.outcome == .unsupported }.count
        return (cells.filter { $0.outcome == .pass }.count, cells.count - unsupported, unsupported)
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

    static func negotiatedTable(_ report: Report) -> [String] {
        let handshakes = report.results.filter { $0.outcome == .pass && $0.expect.handshake == .ok && $0.clientView != nil }
        guard !handshakes.isEmpty else { return [] }
        var out = ["## What each pair negotiated", "", "As both peers read it back from their own library (they agree in every row).", ""]
        out.append("| server | client | version | cert | client auth | suite | code | group |")
        out.append("|---|---|---|---|---|---|---|---|")
        for r in handshakes {
            let v = r.clientView!
            out.append("| \(r.server) | \(r.client) | \(v.version.rawValue) | \(r.params.cert.rawValue) | \(r.params.clientAuth.rawValue) | \(v.suite) | \(v.suiteCode) | \(r.serverView?.group ?? v.group ?? "–") |")
        }
        out.append("")
        return out
    }

    static func problems(_ report: Report) -> [String] {
        let bad = report.results.filter { ![.pass, .unsupported].contains($0.outcome) }
        var out = ["## Cells that did not meet their expectation", ""]
        guard !bad.isEmpty else { return out + ["None.", ""] }
        for r in bad {
            out.append("- **\(r.outcome.rawValue)** `\(r.id)`: \(r.reason ?? "")")
            for error in [r.serverError, r.clientError].compactMap({ $0 }) {
                let alert = error.alert.map { ", alert \($0) \(error.alertDirection ?? "")" } ?? ""
                out.append("  - \(error.side.rawValue) (\(error.stage)\(alert)): \(error.message)" + (error.libraryCode.map { " [`\($0)`]" } ?? ""))
            }
        }
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
        let noted = report.results.filter { !($0.notes ?? []).isEmpty }
        guard !noted.isEmpty else { return [] }
        var out = ["## Notes", ""]
        for r in noted { out.append("- `\(r.id)`: " + r.notes!.joined(separator: "; ")) }
        out.append("")
        return out
    }
}

/// The same summary for a terminal: the pair grid and the cells that need attention.
public enum TerminalReport {
    public static func render(_ report: Report) -> String {
        let (servers, clients) = MarkdownReport.libraryIDs(report)
        let width = max(12, (clients + servers).map(\.count).max() ?? 0) + 2
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var out: [String] = []
        out.append(pad("server\\client", 16) + clients.map { pad($0, width + 10) }.joined())
        for server in servers {
            let row = clients.map { client -> String in
                let c = MarkdownReport.pairCounts(report, server: server, client: client)
                let mark = c.attempted == 0 ? "-" : (c.passed == c.attempted ? "ok" : "FAIL")
                return pad("\(mark) \(c.passed)/\(c.attempted)" + (c.unsupported > 0 ? " +\(c.unsupported)u" : ""), width + 10)
            }
            out.append(pad(server, 16) + row.joined())
        }
        for r in report.results where ![.pass, .unsupported].contains(r.outcome) {
            out.append("\(r.outcome.rawValue.uppercased()) \(r.id): \(r.reason ?? "")")
        }
        let s = report.summary
        out.append("\(s.total) cells: \(s.passed) passed, \(s.failed) failed, \(s.unsupported) unsupported (u), \(s.errors) errors in \(String(format: "%.2f", report.durationS)) s")
        return out.joined(separator: "\n") + "\n"
    }
}
