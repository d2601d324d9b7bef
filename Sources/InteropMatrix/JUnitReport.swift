import Foundation

/// JUnit XML, as GitHub, GitLab and Jenkins test tabs read it: one `testsuite` per server × client
/// pair, one `testcase` per cell. Failures carry the reason and both sides' errors; unsupported
/// cells and known failures (with a baseline) are skipped with their reason.
public enum JUnitReport {
    public static func render(_ report: Report) -> String {
        var out = [#"<?xml version="1.0" encoding="UTF-8"?>"#]
        let failures = report.results.filter { isFailure($0) }.count
        let skipped = report.results.filter { isSkipped($0) }.count
        out.append(#"<testsuites name="interop-matrix \#(escape(report.matrix))" tests="\#(report.results.count)" failures="\#(failures)" skipped="\#(skipped)" time="\#(seconds(report.durationS * 1000))">"#)
        var pairs: [String] = []
        var byPair: [String: [CellResult]] = [:]
        for result in report.results {
            let pair = "\(result.server)>\(result.client)"
            if byPair[pair] == nil { pairs.append(pair) }
            byPair[pair, default: []].append(result)
        }
        for pair in pairs {
            let cells = byPair[pair]!
            let time = cells.reduce(0) { $0 + $1.durationMs }
            out.append(#"  <testsuite name="\#(escape(pair))" tests="\#(cells.count)" failures="\#(cells.filter(isFailure).count)" skipped="\#(cells.filter(isSkipped).count)" time="\#(seconds(time))">"#)
            for cell in cells {
                let name = String(cell.id.dropFirst(pair.count + 1))
                out.append(#"    <testcase classname="\#(escape(pair)).\#(escape(cell.scenario))" name="\#(escape(name))" time="\#(seconds(cell.durationMs))">"#)
                if isFailure(cell) {
                    let type = cell.baselineStatus == .regression ? "regression" : cell.outcome.rawValue
                    out.append(#"      <failure type="\#(type)" message="\#(escape(cell.reason ?? cell.outcome.rawValue))">\#(escape(details(cell)))</failure>"#)
                } else if isSkipped(cell) {
                    let message = cell.outcome == .unsupported ? "unsupported: \(cell.reason ?? "")" : "known failure: \(cell.knownFailure ?? cell.reason ?? "")"
                    out.append(#"      <skipped message="\#(escape(message))"/>"#)
                }
                if let deviation = cell.alertDeviation {
                    // A property CI dashboards can count: the refusal passed with another alert.
                    out.append(#"      <properties><property name="alert_deviation" value="\#(escape(deviation.text))"/></properties>"#)
                }
                var notes = cell.notes ?? []
                if cell.flaky == true { notes.append("flaky: passed on attempt \(cell.attempts ?? 0) after " + (cell.earlierAttempts ?? []).joined(separator: "; ")) }
                if cell.baselineStatus == .intermittentPass { notes.append("an intermittent known failure that passed this time: \(cell.knownFailure ?? "")") }
                if cell.baselineStatus == .unexpectedPass { notes.append("unexpected pass: the baseline lists this cell as failing; update the baseline") }
                if let replay = cell.replay { notes.append("replay: \(replay)") }
                if !notes.isEmpty { out.append("      <system-out>\(escape(notes.joined(separator: "\n")))</system-out>") }
                out.append("    </testcase>")
            }
            out.append("  </testsuite>")
        }
        out.append("</testsuites>")
        return out.joined(separator: "\n") + "\n"
    }

    static func isFailure(_ cell: CellResult) -> Bool {
        ![.pass, .unsupported].contains(cell.outcome) && cell.baselineStatus != .knownFailure
    }

    static func isSkipped(_ cell: CellResult) -> Bool {
        cell.outcome == .unsupported || cell.baselineStatus == .knownFailure
    }

    static func details(_ cell: CellResult) -> String {
        var lines = ["outcome: \(cell.outcome.rawValue)", "reason: \(cell.reason ?? "")"]
        for error in [cell.serverError, cell.clientError].compactMap({ $0 }) {
            let alert = error.alert.map { ", alert \($0) \(error.alertDirection?.rawValue ?? "")" } ?? ""
            lines.append("\(error.side.rawValue) error (\(error.stage.rawValue)\(alert)): \(error.message)" + (error.libraryCode.map { " [\($0)]" } ?? ""))
        }
        if let logs = cell.logs { for (side, log) in logs.sorted(by: { $0.key < $1.key }) { lines.append("--- \(side) log ---\n\(log)") } }
        return lines.joined(separator: "\n")
    }

    static func seconds(_ milliseconds: Double) -> String { String(format: "%.3f", milliseconds / 1000) }

    /// XML text and attribute escaping; characters XML 1.0 forbids are dropped.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
