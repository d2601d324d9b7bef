import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import PeerKit
import Testing
@testable import InteropMatrix

/// Runs the `interop-matrix` executable built beside the tests; returns its exit status and stdout.
func runCLI(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
    let run = try await runCLIKeepingErrors(arguments, environment: environment)
    return (run.status, run.output)
}

@Suite("Reports for people and CI", .serialized, .timeLimit(.minutes(3)))
struct ReportFormatTests {
    let folder = TestFolders.make("interop-matrix-reports")

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    @Test("a baseline run with one injected regression exits 1 and names the cell in every format")
    func injectedRegression() async throws {
        // A matrix of one real pair and one crashing peer; the baseline says every cell passes.
        let peers = Fixture.shared.peerDirectory
        try "servers: [openssl, crash]\nclients: [gnutls]\nversions: [TLS1.3]\ncerts: [ecdsa-p256]\n".write(toFile: path("m.yml"), atomically: true, encoding: .utf8)
        let list = try await runCLI(["list", "--matrix", path("m.yml")], environment: ["INTEROP_MATRIX_PEER_DIR": peers])
        let ids = list.output.split(separator: "\n").map(String.init).filter { $0.contains(">") }
        #expect(ids.count == 2)
        let baseline = Baseline(report: Report(startedAt: "", durationS: 0, matrix: "m", libraries: [], summary: .init(results: []), results: [], complete: true), keeping: nil)
        var expected = baseline
        for id in ids { expected.cells[id] = .init(outcome: .pass) }
        try expected.write(to: path("baseline.json"))

        let run = try await runCLI(["--matrix", path("m.yml"), "--baseline", path("baseline.json"), "--quiet",
                              "--json", path("r.json"), "--markdown", path("r.md"), "--junit", path("r.xml"), "--html", path("r.html")],
                             environment: ["INTEROP_MATRIX_PEER_DIR": peers])
        #expect(run.status == 1)
        let regressed = try #require(ids.first { $0.hasPrefix("crash>") })
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("r.json"))))
        #expect(report.baseline?.regressions == [regressed])
        #expect(report.results.first { $0.id == regressed }?.baselineStatus == .regression)
        #expect(try String(contentsOfFile: path("r.md"), encoding: .utf8).contains("### Regressions\n\n- `\(regressed)`"))
        let junit = try String(contentsOfFile: path("r.xml"), encoding: .utf8)
        #expect(junit.contains(#"<failure type="regression""#))
        #expect(junit.contains(JUnitReport.escape(String(regressed.dropFirst("crash>gnutls/".count)))))
        // The HTML embeds its JSON script-safe: `>` in an id is `\u003e` there.
        #expect(try String(contentsOfFile: path("r.html"), encoding: .utf8).contains(HTMLReport.scriptSafe(regressed)))
        #expect(run.output.contains("REGRESSION \(regressed)"))

        // The regression fixed in the baseline: a known failure no longer fails the build.
        expected.cells[regressed] = .init(outcome: .crash, reason: "the fault peer crashes on purpose", link: "https://example.invalid/known")
        try expected.write(to: path("baseline.json"))
        let known = try await runCLI(["--matrix", path("m.yml"), "--baseline", path("baseline.json"), "--quiet", "--junit", path("k.xml")],
                               environment: ["INTEROP_MATRIX_PEER_DIR": peers])
        #expect(known.status == 0)
        #expect(try String(contentsOfFile: path("k.xml"), encoding: .utf8).contains("known failure: the fault peer crashes on purpose"))

        // A known failure that passes is an unexpected pass (4); a cell the baseline lacks is new (5).
        let passing = try #require(ids.first { $0.hasPrefix("openssl>") })
        expected.cells[passing] = .init(outcome: .fail, reason: "pretend")
        try expected.write(to: path("baseline.json"))
        #expect(try await runCLI(["--matrix", path("m.yml"), "--baseline", path("baseline.json"), "--quiet"], environment: ["INTEROP_MATRIX_PEER_DIR": peers]).status == 4)
        expected.cells[passing] = nil
        try expected.write(to: path("baseline.json"))
        #expect(try await runCLI(["--matrix", path("m.yml"), "--baseline", path("baseline.json"), "--quiet"], environment: ["INTEROP_MATRIX_PEER_DIR": peers]).status == 5)
    }

    @Test("JUnit has one testcase per cell, grouped by pair, unsupported cells skipped, failures with both errors")
    func junit() async throws {
        // Every pair, with unsupported cells (TLS 1.3 where a library lacks it) and failures.
        let matrix = try MatrixFile(yaml: "name: junit\nlibraries: all\nscenarios: [basic, client-cert-missing, expired-cert]\nversions: [TLS1.2, TLS1.3]\ncerts: [ecdsa-p256]\n", source: "junit.yml")
        let run = MatrixRun(matrix: matrix, catalog: await Fixture.shared.catalog, jobs: 2)
        let report = try await run.run()
        let xml = JUnitReport.render(report)
        let document = try XMLDocument(xmlString: xml)
        let cases = try document.nodes(forXPath: "//testcase")
        #expect(cases.count == report.results.count)
        #expect(try document.nodes(forXPath: "//testsuite").count == Set(report.results.map { "\($0.server)>\($0.client)" }).count)
        #expect(Set(report.results.map { "\($0.server)>\($0.client)" }).count == Fixture.libraries.count * Fixture.libraries.count)
        #expect(try document.nodes(forXPath: "//testcase/skipped").count == report.summary.unsupported)
        #expect(try document.nodes(forXPath: "//testcase/failure").count == report.summary.failed + report.summary.errors)
    }

    @Test("four shards merged equal one unsharded run: same cells, same order, same outcomes")
    func shardsMerge() async throws {
        let catalog = await Fixture.shared.catalog
        // Every library found, small enough to run five times: the whole run and four shards.
        let matrix = try MatrixFile(yaml: "name: shards\nlibraries: all\nscenarios: [basic, client-cert-missing]\nversions: [TLS1.2, TLS1.3]\ncerts: [ecdsa-p256]\nclient_auth: [none, required]\ncoverage: pairwise\n", source: "shards.yml")
        let whole = try await MatrixRun(matrix: matrix, catalog: catalog, jobs: 2).run()
        var shards: [(path: String, report: Report)] = []
        for k in 1...4 {
            var run = MatrixRun(matrix: matrix, catalog: catalog, jobs: 2)
            run.shard = Shard("\(k)/4")
            let report = try await run.run()
            #expect(report.results.count < whole.results.count)
            // Through JSON, as shards travel between CI jobs.
            shards.append(("shard-\(k).json", try JSONDecoder().decode(Report.self, from: report.jsonData())))
        }
        let merged = try ReportMerge.merge(shards)
        #expect(merged.results.map(\.id) == whole.results.map(\.id))
        #expect(merged.results.map(\.outcome) == whole.results.map(\.outcome))
        #expect(merged.summary == whole.summary)
        #expect(merged.complete)
        #expect(merged.mergedShards == ["1/4", "2/4", "3/4", "4/4"])
        // The covering arrays' share of tuples: all of them in the whole run, part in a shard, and
        // counted again over every shard's cells in the merge.
        let arrays = try #require(whole.coveringArrays)
        #expect(!arrays.isEmpty && arrays.allSatisfy { $0.covered == $0.tuples && $0.tuples > 0 })
        #expect(shards.contains { $0.report.coveringArrays?.contains { $0.covered < $0.tuples } == true })
        #expect(merged.coveringArrays == arrays)

        // Reports of another matrix, or the same shard twice, are refused.
        var other = MatrixRun(matrix: try MatrixFile(yaml: "libraries: [openssl]\n", source: "other"), catalog: catalog)
        other.shard = Shard("1/4")
        let foreign = try await other.run()
        #expect(throws: MergeError.self) { try ReportMerge.merge([shards[0], ("other.json", foreign)]) }
        #expect(throws: MergeError.self) { try ReportMerge.merge([shards[0], shards[0]]) }
        var newer = shards[1]
        newer.report.tool.version = "9.9.9"
        #expect { try ReportMerge.merge([shards[0], newer]) } throws: { "\($0)".contains("tool versions") }
    }

    @Test("the HTML report shows what was never crossed and the covering arrays' share in a real browser")
    func htmlCoverageInChromium() async throws {
        guard let chromium = Self.chromium() else { return }
        let a = try CoverageReportTests.library("a", versions: ["TLS1.2", "TLS1.3"], suites: ["0x1301", "0x1302"], groups: ["x25519", "secp256r1"], certs: ["ecdsa-p256"])
        let b = try CoverageReportTests.library("b", versions: ["TLS1.2", "TLS1.3"], suites: ["0x1301", "0x1302"], groups: ["x25519", "secp256r1"], certs: ["ecdsa-p256"])
        let results = [CoverageReportTests.result(.pass, version: .tls13, suite: "0x1301", negotiated: ("TLS_AES_128_GCM_SHA256", "0x1301", "x25519"))]
        var report = Report(startedAt: "", durationS: 0, matrix: "m", libraries: [a, b], summary: .init(results: results), results: results, complete: true)
        report.coverage = PairCoverage.of(report)
        report.coveringArrays = [CoveringArrayCoverage(block: "crossed", scenario: "basic", server: "a", client: "b", strength: 2,
                                                       tuples: 10, covered: 5, cells: results.map(\.id))]
        try Data(HTMLReport.render(report).utf8).write(to: URL(fileURLWithPath: path("coverage.html")))
        let dom = try await runProgram(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://\(path("coverage.html"))"]).output
        #expect(dom.contains(#"id="crossing-line""#) && dom.contains("Never crossed"))
        #expect(dom.contains("client_auth × suite"))
        #expect(dom.contains(#"id="covering-line""#) && dom.contains(#"id="covering-arrays""#))
        #expect(dom.contains("crossed (pairwise) 50% of 10 t-tuples") && dom.contains("a&gt;b 50%"), "\(dom)")
    }

    /// Headless Chromium, which ci/setup installs; without it the test records why and stops.
    static func chromium() -> String? {
        guard let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("headless Chromium is needed for this test; ci/setup installs it (apt-get install chromium)")
            return nil
        }
        return path
    }

    @Test("the HTML report works in a real browser: grids, marks and a cell's details")
    func htmlInChromium() async throws {
        guard let chromium = Self.chromium() else { return }
        let matrix = try MatrixFile(yaml: """
            libraries: [openssl, mbedtls, gnutls]
            versions: [TLS1.2, TLS1.3]
            certs: [rsa2048, ecdsa-p256]
            client_auth: [none, required]
            """, source: "html-test")
        let report = try await MatrixRun(matrix: matrix, catalog: await Fixture.shared.catalog, jobs: 2).run()
        try Data(HTMLReport.render(report).utf8).write(to: URL(fileURLWithPath: path("r.html")))
        let url = "file://\(path("r.html"))#open=openssl>gnutls"

        func chromiumOutput(_ extra: [String]) async throws -> String {
            try await runProgram(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"] + extra + [url]).output
        }
        let dom = try await chromiumOutput(["--dump-dom"])
        // Two grids (TLS 1.2, TLS 1.3) of 3 × 3 pairs, each grid cell coloured by what it holds.
        #expect(dom.components(separatedBy: #"class="grid""#).count - 1 == 2)
        #expect(dom.components(separatedBy: #"data-outcome="pass""#).count - 1 == 13)
        #expect(dom.components(separatedBy: #"data-outcome="unsupported""#).count - 1 == 5)
        #expect(dom.contains("PASS 4/4"))
        // What was never tried: the summary's line and a row per pair (nothing forced a suite, so
        // suites both sides support stay untried).
        #expect(dom.contains(#"id="coverage-line""#) && dom.contains("Never tried"))
        #expect(dom.components(separatedBy: #"<th>openssl&gt;gnutls</th>"#).count - 1 == 1)
        // The pair opened from the URL lists its cells with both views.
        let opened = report.results.filter { $0.server == "openssl" && $0.client == "gnutls" }
        #expect(dom.contains("openssl&gt;gnutls — \(opened.count) cells"))
        #expect(dom.contains(#"data-id="openssl&gt;gnutls/basic/TLS1.3/default/default/ecdsa-p256/auth-required""#))
        #expect(dom.contains("views (server, client)"))

        // The picture, kept with the build for a person to look at.
        let artifacts = URL(fileURLWithPath: Fixture.buildDirectory).deletingLastPathComponent().appendingPathComponent("test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let shot = artifacts.appendingPathComponent("html-report.png").path
        try? FileManager.default.removeItem(atPath: shot)
        _ = try await chromiumOutput(["--screenshot=\(shot)"])
        let size = (try FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
        #expect(size > 20_000)
    }

    @Test("artifacts keep a failed cell's logs, result and a replay that re-runs exactly that cell")
    func artifactsAndReplay() async throws {
        var run = MatrixRun(matrix: try MatrixFile.builtInDefault(), catalog: await Fixture.shared.catalog, jobs: 2)
        run.only = ["openssl>gnutls/basic/TLS1.3/default/default/ecdsa-p256/auth-none", "gnutls>openssl/client-cert-missing/TLS1.2/default/default/rsa2048/auth-required"]
        run.artifacts = ArtifactStore(root: folder.appendingPathComponent("artifacts"), keepAll: true)
        let report = try await run.run()
        #expect(report.results.count == 2)
        for result in report.results {
            let cell = run.artifacts!.folder(for: result.id)
            for file in ["server.log", "client.log", "result.json", "replay.sh", "keylog.txt"] {
                #expect(FileManager.default.fileExists(atPath: cell.appendingPathComponent(file).path), "\(file) for \(result.id)")
            }
            #expect(result.replay?.contains("--only") == true && result.replay?.contains("--certs") == true)
        }
        // TLS 1.3 secrets from both libraries, in the NSS key log format Wireshark reads.
        let tls13 = run.artifacts!.folder(for: run.only[0]).appendingPathComponent("keylog.txt")
        let lines = try String(contentsOf: tls13, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("CLIENT_HANDSHAKE_TRAFFIC_SECRET ") })
        #expect(lines.contains { $0.hasPrefix("SERVER_TRAFFIC_SECRET_0 ") })
        let log = try String(contentsOf: run.artifacts!.folder(for: run.only[0]).appendingPathComponent("server.log"), encoding: .utf8)
        #expect(log.contains("handshake done: TLS1.3"))
        // Keys stay private.
        let key = run.artifacts!.certificates.appendingPathComponent("ecdsa-p256/server.key").path
        #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
    }
}

/// Text that tries to break out of where reports put it: a script element, a Markdown table, a shell line.
@Suite("Hostile text in reports", .serialized, .timeLimit(.minutes(3)))
struct HostileTextTests {
    let folder = TestFolders.make("interop-matrix-hostile")

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    static let hostile = "</script><!--<script> \\u0022 \\\" \u{2028}\u{2029} & <b>bold</b> | `tick` \nnext line"

    /// A real one-cell report whose matrix name, library name and peer log are hostile.
    func hostileReport() async throws -> Report {
        var run = MatrixRun(matrix: try MatrixFile(yaml: "libraries: [openssl]\nversions: [TLS1.3]\n", source: "hostile.yml"),
                            catalog: await Fixture.shared.catalog, jobs: 1)
        run.filters = ["auth-none"]
        var report = try await run.run()
        report.matrixName = Self.hostile
        report.matrix = Self.hostile
        report.libraries[0].name = Self.hostile
        report.libraries[0].version = "3.0|" + Self.hostile
        for index in report.results.indices {
            report.results[index].logs = ["server": Self.hostile, "client": Self.hostile]
            report.results[index].reason = Self.hostile
        }
        return report
    }

    @Test("the embedded JSON holds no <, >, & or U+2028/9 and parses back to the same report")
    func scriptSafeJSON() async throws {
        let report = try await hostileReport()
        let html = HTMLReport.render(report)
        let open = try #require(html.range(of: #"<script type="application/json" id="report-data">"#))
        let close = try #require(html[open.upperBound...].range(of: "</script>"))
        let embedded = String(html[open.upperBound..<close.lowerBound])
        #expect(!embedded.contains("<") && !embedded.contains(">") && !embedded.contains("&"))
        #expect(!embedded.unicodeScalars.contains("\u{2028}") && !embedded.unicodeScalars.contains("\u{2029}"))
        let parsed = try JSONSerialization.jsonObject(with: Data(embedded.utf8)) as? NSDictionary
        let original = try JSONSerialization.jsonObject(with: report.jsonData()) as? NSDictionary
        #expect(parsed != nil && parsed == original)
    }

    @Test("hostile text in the matrix name and a peer's stderr does not blank the HTML report in Chromium")
    func hostileHTMLInChromium() async throws {
        guard let chromium = ReportFormatTests.chromium() else { return }
        let report = try await hostileReport()
        try Data(HTMLReport.render(report).utf8).write(to: URL(fileURLWithPath: path("h.html")))
        let url = "file://\(path("h.html"))#open=openssl>openssl"
        let dom = try await runProgram(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url]).output
        // The script ran: the grid is there, and the hostile text is shown as text.
        #expect(dom.contains(#"class="grid""#), "the report is blank")
        #expect(dom.contains("data-outcome="))
        #expect(dom.contains("&lt;/script&gt;&lt;!--&lt;script&gt;"))
        #expect(!dom.contains("<b>bold</b>"))
    }

    @Test("Markdown keeps peer-supplied text inert: no table cell ends, no code, no HTML, no new line")
    func markdownEscapes() async throws {
        let report = try await hostileReport()
        let markdown = MarkdownReport.render(report)
        let libraries = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("Libraries: ") })
        #expect(!libraries.contains("<b>") && !libraries.contains("<!--"))
        #expect(libraries.contains("3.0\\|"))
        #expect(libraries.contains("\\`tick\\`"))
        #expect(libraries.contains("next line"), "the newline became a space on the same line")
        #expect(MarkdownReport.escape("a|b`c<d\ne\\") == "a\\|b\\`c&lt;d e\\\\")
    }

    @Test("replay.sh runs nothing but the replay, whatever a path or cell id holds")
    func replayScriptQuoted() async throws {
        // A matrix path with newlines (as `F=$'nl/m\ntouch PWNED\n.yml'` makes).
        let hostileFolder = folder.appendingPathComponent("nl")
        try FileManager.default.createDirectory(at: hostileFolder, withIntermediateDirectories: true)
        let matrix = hostileFolder.appendingPathComponent("m\ntouch PWNED\n.yml").path
        try "libraries: [openssl]\nversions: [TLS1.3]\n".write(toFile: matrix, atomically: true, encoding: .utf8)
        let artifacts = path("artifacts")
        let id = "openssl>openssl/basic/TLS1.3/default/default/ecdsa-p256/auth-none"
        let run = try await runCLIKeepingErrors(["--matrix", matrix, "--only", id, "--artifacts", artifacts, "--keep-all", "--no-baseline", "--quiet"])
        #expect(run.status == 0, "\(run.errors)")
        let script = ArtifactStore(root: URL(fileURLWithPath: artifacts), keepAll: true).folder(for: id).appendingPathComponent("replay.sh")
        let text = try String(contentsOf: script, encoding: .utf8)
        // Comments are fixed text: no path or id of the run in them (a newline there starts a command).
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("#") }.allSatisfy { !$0.contains("/") || $0 == "#!/bin/sh" })
        // Run it in a folder of its own: it replays the cell, and nothing else.
        let work = folder.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let status = try await runProgram("/bin/sh", [script.path], directory: work).status
        #expect(status == 0, "the replay itself failed")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("PWNED").path), "replay.sh ran an injected command")
        #expect(!FileManager.default.fileExists(atPath: hostileFolder.appendingPathComponent("PWNED").path))
    }
}

@Suite("JSON report writing")
struct StreamedJSONTests {
    @Test("the JSON written a result at a time decodes to the same report as the one encoded at once")
    func streamedEqualsWhole() throws {
        let cells = MatrixRun(matrix: try MatrixFile.builtInDefault()).cells().prefix(40)
        let results = cells.enumerated().map { index, cell in
            var result = CellResult(cell: cell, outcome: index % 3 == 0 ? .fail : .pass, durationMs: Double(index))
            result.reason = index % 3 == 0 ? "a \"quoted\" reason\nwith a newline" : nil
            return result
        }
        let report = Report(startedAt: "2026-11-26T00:00:00Z", durationS: 1, matrix: "m", libraries: [],
                            summary: Report.Summary(results: results), results: results, complete: true)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("streamed-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try report.writeJSON(to: url)
        let written = try Data(contentsOf: url)
        let whole = try report.jsonData()
        let a = try JSONSerialization.jsonObject(with: written) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: whole) as? NSDictionary
        #expect(a != nil && a == b)
        let empty = Report(startedAt: "x", durationS: 0, matrix: "m", libraries: [], summary: Report.Summary(results: []), results: [], complete: true)
        try empty.writeJSON(to: url)
        #expect(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? NSDictionary == JSONSerialization.jsonObject(with: empty.jsonData()) as? NSDictionary)
    }
}
