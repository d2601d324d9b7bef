import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// What `compare` and the run report's upgrade section call a change: made-up results, one rule a row.
@Suite("Report comparisons")
struct ReportComparisonTests {
    /// A result of `server>client`, with a negotiated view when it passed a handshake.
    static func result(_ server: String, _ client: String, _ outcome: Outcome, scenario: String = "basic", group: String? = "x25519",
                       alert: String? = nil, stage: FailureStage = .handshake, tail: String = "TLS1.3/default/default/ecdsa-p256/auth-none") throws -> CellResult {
        let cell = try VerdictTests.cell(scenario)
        var result = CellResult(cell: cell, outcome: outcome, durationMs: 1)
        result.server = server
        result.client = client
        result.id = "\(server)>\(client)/\(scenario)/\(tail)"
        if outcome == .pass, cell.expect.handshake == .ok {
            result.serverView = ReportView(VerdictTests.view(group: group, peer: nil))
            result.clientView = ReportView(VerdictTests.view(group: nil, peer: CertificateAuthority.serverSubject))
        }
        if outcome == .pass, cell.expect.handshake == .refused { result.observedAlert = alert }
        if [.fail, .timeout, .error].contains(outcome) {
            result.error = ReportError(side: .client, stage: stage, message: "the library's words", alert: alert)
            result.reason = "it failed"
        }
        if outcome == .unsupported { result.reason = "client lacks it" }
        return result
    }

    static func side(_ label: String, _ results: [CellResult]) -> ReportComparison.Side {
        ReportComparison.Side(label: label, startedAt: nil, libraries: [], cells: results.count)
    }

    static func compare(_ old: [CellResult], _ new: [CellResult], renaming: [String: String] = [:]) -> ReportComparison {
        ReportComparison(old: side("old", old), oldResults: old, new: side("new", new), newResults: new, renaming: renaming)
    }

    @Test("each pair of outcomes is the change it names, and the same cell twice is no change",
          arguments: [
            (Outcome.pass, Outcome.fail, ReportComparison.Kind?.some(.regression)),
            (.pass, .timeout, .regression),
            (.pass, .unsupported, .lostSupport),
            (.fail, .unsupported, .lostSupport),
            (.unsupported, .fail, .newFailure),
            (.fail, .pass, .fixed),
            (.error, .pass, .fixed),
            (.unsupported, .pass, .gainedSupport),
            (.fail, .timeout, .failureChanged),
            (.pass, .pass, nil),
            (.fail, .fail, nil),
            (.unsupported, .unsupported, nil),
          ])
    func outcomes(before: Outcome, after: Outcome, kind: ReportComparison.Kind?) throws {
        let c = Self.compare([try Self.result("a", "b", before)], [try Self.result("a", "b", after)])
        #expect(c.changes.map(\.kind) == (kind.map { [$0] } ?? []))
        #expect(c.unchanged == (kind == nil ? 1 : 0))
    }

    @Test("a pass with another group is a negotiation change; a group one run's libraries cannot read is none")
    func negotiation() throws {
        let changed = Self.compare([try Self.result("a", "b", .pass, group: "secp521r1")], [try Self.result("a", "b", .pass, group: "x25519")])
        #expect(changed.changes.map(\.kind) == [.negotiationChanged])
        #expect(changed.changes.first?.details == ["group secp521r1 → x25519"])
        let unreadable = Self.compare([try Self.result("a", "b", .pass, group: "secp521r1")], [try Self.result("a", "b", .pass, group: nil)])
        #expect(unreadable.changes.isEmpty && unreadable.unchanged == 1)
    }

    @Test("a refusal that passes with another alert is an alert change; a failure at another stage or with another alert fails differently")
    func alerts() throws {
        let refusal = Self.compare([try Self.result("a", "b", .pass, scenario: "expired-cert", alert: "certificate_expired")],
                                   [try Self.result("a", "b", .pass, scenario: "expired-cert", alert: "bad_certificate")])
        #expect(refusal.changes.map(\.kind) == [.alertChanged])
        #expect(refusal.changes.first?.details == ["alert certificate_expired → bad_certificate"])
        let failure = Self.compare([try Self.result("a", "b", .fail, alert: "decode_error")],
                                   [try Self.result("a", "b", .fail, alert: "decode_error", stage: .verify)])
        #expect(failure.changes.map(\.kind) == [.failureChanged])
        #expect(failure.changes.first?.details == ["at client handshake → client verify"])
    }

    @Test("the exit code is the baseline's: 1 a regression or a new failure, 4 improvements only, 5 other changes, 0 none")
    func exitCodes() throws {
        #expect(Self.compare([try Self.result("a", "b", .pass)], [try Self.result("a", "b", .fail)]).exitCode == 1)
        #expect(Self.compare([try Self.result("a", "b", .unsupported)], [try Self.result("a", "b", .fail)]).exitCode == 1)
        #expect(Self.compare([], [try Self.result("a", "b", .fail)]).exitCode == 1, "a new cell that fails")
        #expect(Self.compare([try Self.result("a", "b", .fail)], [try Self.result("a", "b", .pass)]).exitCode == 4)
        #expect(Self.compare([try Self.result("a", "b", .pass, group: "x448")], [try Self.result("a", "b", .pass)]).exitCode == 5)
        #expect(Self.compare([try Self.result("a", "b", .pass)], []).exitCode == 5, "a vanished cell")
        #expect(Self.compare([try Self.result("a", "b", .pass)], [try Self.result("a", "b", .pass)]).exitCode == 0)
        let mixed = Self.compare([try Self.result("a", "b", .fail), try Self.result("a", "c", .pass)],
                                 [try Self.result("a", "b", .pass), try Self.result("a", "c", .pass, group: "x448")])
        #expect(mixed.exitCode == 5, "an improvement beside another change")
    }

    @Test("NEW's versioned id is matched with OLD's, in both places of the pair; cells with no match are new or vanished")
    func renaming() throws {
        let renames = ReportComparison.automaticRenames(oldLibraries: ["openssl", "mbedtls", "nss", "nss-3.110"],
                                                        newLibraries: ["openssl", "mbedtls-3.6", "nss", "nss-3.110"])
        #expect(renames == ["mbedtls-3.6": "mbedtls"])
        #expect(ReportComparison.automaticRenames(oldLibraries: ["mbedtls-3.6"], newLibraries: ["mbedtls"]) == ["mbedtls": "mbedtls-3.6"])
        #expect(ReportComparison.automaticRenames(oldLibraries: ["go-1.19", "go-1.21"], newLibraries: ["go"]).isEmpty, "two candidates: no guess")
        let old = [try Self.result("openssl", "mbedtls", .pass), try Self.result("mbedtls", "mbedtls", .pass), try Self.result("mbedtls", "gnutls", .pass)]
        let new = [try Self.result("openssl", "mbedtls-3.6", .fail), try Self.result("mbedtls-3.6", "mbedtls-3.6", .pass),
                   try Self.result("mbedtls-3.6", "nss", .pass)]
        let c = Self.compare(old, new, renaming: renames)
        #expect(c.changes.map(\.kind) == [.regression, .added, .vanished])
        #expect(c.changes[0].id == "openssl>mbedtls/basic/TLS1.3/default/default/ecdsa-p256/auth-none")
        #expect(c.changes[0].after?.id == "openssl>mbedtls-3.6/basic/TLS1.3/default/default/ecdsa-p256/auth-none")
        #expect(c.changes[1].server == "mbedtls" && c.changes[1].client == "nss")
        #expect(c.unchanged == 1)
        #expect(c.pairs.map { "\($0.server)>\($0.client)" } == ["mbedtls>gnutls", "mbedtls>nss", "openssl>mbedtls"])
    }

    @Test("within a run, the newer version is compared with the older against the same partners; cells crossing them, or without a counterpart, are left out")
    func upgradeWithinRun() throws {
        let results = [try Self.result("nss", "openssl", .pass), try Self.result("nss-3.110", "openssl", .fail),
                       try Self.result("openssl", "nss", .unsupported), try Self.result("openssl", "nss-3.110", .pass),
                       try Self.result("nss", "nss-3.110", .fail), try Self.result("nss-3.110", "nss", .fail),
                       try Self.result("openssl", "openssl", .pass), try Self.result("nss", "botan", .pass)]
        let library = { (id: String, version: String) in Report.Library(id: id, name: id, version: version) }
        let report = Report(startedAt: "", durationS: 0, matrix: "m",
                            libraries: [library("nss-3.110", "3.110"), library("openssl", "3.0.19"), library("nss", "3.87.1")],
                            summary: .init(results: results), results: results, complete: true)
        let upgrades = ReportComparison.upgrades(in: report)
        try #require(upgrades.count == 1)
        #expect(upgrades[0].old.label == "nss 3.87.1" && upgrades[0].new.label == "nss-3.110 3.110", "3.110 is newer than 3.87")
        #expect(upgrades[0].changes.map(\.kind) == [.regression, .gainedSupport])
        #expect(upgrades[0].old.cells == 2 && upgrades[0].new.cells == 2)
        #expect(upgrades[0].old.withoutCounterpart == 1 && upgrades[0].new.withoutCounterpart == 0, "nss>botan has no nss-3.110>botan: left out")
        let markdown = MarkdownReport.render(report)
        #expect(markdown.contains("## What the upgrade changes: nss 3.87.1 → nss-3.110 3.110"))
        #expect(markdown.contains("| nss>openssl | 1 | 0 |") && markdown.contains("| openssl>nss | 0 | 1 |"))
        #expect(markdown.contains("other partners): 1 of nss 3.87.1, 0 of nss-3.110 3.110."))
        let html = HTMLReport.render(report)
        #expect(html.contains("What the upgrade changes: nss 3.87.1 → nss-3.110 3.110"))
        #expect(!HTMLReport.render(Report(startedAt: "", durationS: 0, matrix: "m", libraries: [library("nss", "3.87.1")],
                                          summary: .init(results: []), results: [], complete: true)).contains("What the upgrade changes"))
    }

    @Test("every text of a cell is escaped in the HTML page and the Markdown table")
    func escaping() throws {
        var hostile = try Self.result("a", "b", .fail)
        hostile.reason = "<script>alert(1)</script> | `x`"
        let c = Self.compare([try Self.result("a", "b", .pass)], [hostile])
        #expect(!ComparisonReport.html(c).contains("<script>"))
        #expect(ComparisonReport.markdown(c).contains("&lt;script>alert(1)&lt;/script> \\| \\`x\\`"))
    }
}

/// `interop-matrix compare` as a user runs it: two report files, the terminal summary, the outputs, the exit code.
@Suite("compare command")
struct CompareCommandTests {
    let folder = TestFolders.make("compare")
    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func write(_ results: [CellResult], libraries: [String], to name: String) throws {
        let report = Report(startedAt: "2026-12-02T00:00:00Z", durationS: 1, matrix: "m",
                            libraries: libraries.map { Report.Library(id: $0, name: $0, version: "1") },
                            summary: .init(results: results), results: results, complete: true)
        try report.jsonData().write(to: URL(fileURLWithPath: path(name)))
    }

    @Test("a run with mbedtls and one with mbedtls-3.6 in its place: matched, the regression listed, exit 1, JSON, Markdown and HTML written")
    func upgrade() async throws {
        func r(_ server: String, _ client: String, _ outcome: Outcome) throws -> CellResult { try ReportComparisonTests.result(server, client, outcome) }
        try write([try r("openssl", "mbedtls", .pass), try r("mbedtls", "openssl", .unsupported)], libraries: ["openssl", "mbedtls"], to: "old.json")
        try write([try r("openssl", "mbedtls-3.6", .fail), try r("mbedtls-3.6", "openssl", .pass)], libraries: ["openssl", "mbedtls-3.6"], to: "new.json")
        let run = try await runCLIKeepingErrors(["compare", path("old.json"), path("new.json"), "--json", path("c.json"),
                                                 "--markdown", path("c.md"), "--html", path("c.html")])
        #expect(run.status == 1, "\(run.errors)")
        #expect(run.output.contains("compared as the same library: mbedtls-3.6 (NEW) as mbedtls (OLD)"))
        #expect(run.output.contains("REGRESSION openssl>mbedtls/basic/"))
        #expect(run.output.contains("GAINED SUPPORT mbedtls>openssl/basic/"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("c.json")))) as? [String: Any]
        #expect(json?["schema"] as? String == "interop-matrix/comparison/v1")
        #expect(json?["exit_code"] as? Int == 1)
        #expect((json?["counts"] as? [String: Int]) == ["regression": 1, "gained_support": 1])
        let decoded = try JSONDecoder().decode(ReportComparison.self, from: Data(contentsOf: URL(fileURLWithPath: path("c.json"))))
        #expect(decoded.changes.count == 2)
        #expect(try String(contentsOfFile: path("c.md"), encoding: .utf8).contains("## Regressions (1)"))
        #expect(try String(contentsOfFile: path("c.html"), encoding: .utf8).contains("<h1>interop-matrix comparison</h1>"))

        // --exact: nothing is matched, so every cell is new or vanished; the new failing cell is still a regression.
        let exact = try await runCLIKeepingErrors(["compare", path("old.json"), path("new.json"), "--exact"])
        #expect(exact.status == 1)
        #expect(exact.output.contains("new cells: 2, vanished cells: 2; unchanged: 0"), "\(exact.output)")
        // The same report twice: nothing changed.
        let same = try await runCLIKeepingErrors(["compare", path("old.json"), path("old.json")])
        #expect(same.status == 0)
        #expect(same.output.contains("no cell changed"))
    }

    @Test("--as names the match; a malformed --as and an unreadable report are one line each, exit 64")
    func badInput() async throws {
        func r(_ server: String, _ client: String, _ outcome: Outcome) throws -> CellResult { try ReportComparisonTests.result(server, client, outcome) }
        try write([try r("openssl", "wolfssl", .fail)], libraries: ["openssl", "wolfssl"], to: "old.json")
        try write([try r("openssl", "mbedtls", .pass)], libraries: ["openssl", "mbedtls"], to: "new.json")
        let named = try await runCLIKeepingErrors(["compare", path("old.json"), path("new.json"), "--as", "mbedtls=wolfssl"])
        #expect(named.status == 4, "\(named.output)\(named.errors)")
        #expect(named.output.contains("FIXED openssl>wolfssl/basic/"))
        let malformed = try await runCLIKeepingErrors(["compare", path("old.json"), path("new.json"), "--as", "mbedtls"])
        #expect(malformed.status == 64 && malformed.errorLines.count == 1 && malformed.errors.contains("NEW_ID=OLD_ID"), "\(malformed.errors)")
        try "{}".write(toFile: path("empty.json"), atomically: true, encoding: .utf8)
        let unreadable = try await runCLIKeepingErrors(["compare", path("empty.json"), path("new.json")])
        #expect(unreadable.status == 64 && unreadable.errorLines.count == 1 && unreadable.errors.contains("not an interop-matrix report"), "\(unreadable.errors)")
    }
}
