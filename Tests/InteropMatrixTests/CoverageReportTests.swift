import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("What a run never tried")
struct CoverageReportTests {
    static func library(_ id: String, versions: [String], suites: [String], groups: [String], certs: [String]) throws -> Report.Library {
        let list = suites.map { #"{"code":"\#($0)","library_name":"\#($0)"}"# }.joined(separator: ",")
        let line = """
        {"library":{"id":"\(id)","name":"\(id)","version":"1"},"versions":\(versions),"default_versions":\(versions),
         "suites":[\(list)],"groups":\(groups),"certificate_types":\(certs),"notes":[],"features":[]}
        """
        let capabilities = try JSONDecoder().decode(PeerCapabilities.self, from: Data(line.utf8))
        return Report.Library(id: id, name: id, version: "1", capabilities: capabilities)
    }

    static func result(_ outcome: Outcome, version: TLSVersion, cert: CertificateKeyType = .ecdsaP256, suite: String? = nil, group: String? = nil,
                       negotiated: (suite: String, code: String, group: String?)? = nil) -> CellResult {
        var params = CellParameters(version: version, cert: cert, clientAuth: .none)
        params.suite = suite.flatMap { CipherSuiteRegistry.suite(codeText: $0)?.name }
        params.suiteCode = suite
        params.group = group
        let cell = Cell(server: "a", client: "b", scenario: "basic", params: params, expect: .success, clientPresentsCertificate: false)
        var result = CellResult(cell: cell, outcome: outcome, durationMs: 1)
        if let negotiated {
            let group = negotiated.group.map { #","group":"\#($0)""# } ?? ""
            let json = #"{"version":"\#(version.rawValue)","suite":"\#(negotiated.suite)","suite_code":"\#(negotiated.code)","resumed":false\#(group)}"#
            result.serverView = try? JSONDecoder().decode(ReportView.self, from: Data(json.utf8))
        }
        return result
    }

    @Test("values both sides support and no cell that ran used are never tried; one side's values and unsupported cells do not count")
    func neverTried() throws {
        let a = try Self.library("a", versions: ["TLS1.2", "TLS1.3"], suites: ["0x1301", "0x1302", "0xC02B", "0xC02C"], groups: ["x25519", "secp256r1", "ffdhe2048"], certs: ["ecdsa-p256", "rsa2048"])
        let b = try Self.library("b", versions: ["TLS1.2", "TLS1.3"], suites: ["0x1301", "0x1302", "0xC02B", "0x1303"], groups: ["x25519", "secp256r1"], certs: ["ecdsa-p256", "ed25519"])
        let results = [
            // A TLS 1.3 cell with nothing forced: its suite and group are read back.
            Self.result(.pass, version: .tls13, negotiated: ("TLS_AES_128_GCM_SHA256", "0x1301", "x25519")),
            // A failing cell tried its forced suite too.
            Self.result(.fail, version: .tls12, suite: "0xC02B"),
            // An unsupported cell tried nothing.
            Self.result(.unsupported, version: .tls13, suite: "0x1302", group: "secp256r1"),
        ]
        let report = Report(startedAt: "", durationS: 0, matrix: "m", libraries: [a, b], summary: .init(results: results), results: results, complete: true)
        let coverage = PairCoverage.of(report)
        #expect(coverage.count == 1)
        let pair = try #require(coverage.first)
        #expect(pair.server == "a" && pair.client == "b")
        #expect(pair.dimension("version") == .init(name: "version", supported: 2, neverTried: []))
        #expect(pair.dimension("cert") == .init(name: "cert", supported: 1, neverTried: []))
        #expect(pair.dimension("client_auth") == .init(name: "client_auth", supported: 3, neverTried: ["optional", "required"]))
        #expect(pair.dimension("suite") == .init(name: "suite", supported: 3, neverTried: ["TLS_AES_256_GCM_SHA384"]))
        #expect(pair.dimension("group") == .init(name: "group", supported: 2, neverTried: ["secp256r1"]))
        let summary = CoverageSummary(coverage)
        #expect(summary.neverTried["suite"] == 1 && summary.supported["suite"] == 3)
        #expect(abs(summary.tried - 7.0 / 11.0) < 1e-9)
        #expect(summary.line.contains("64%") && summary.line.contains("suite 2/3"))
        // Every format says it.
        #expect(MarkdownReport.render(report).contains("| suite | 2 / 3 | TLS_AES_256_GCM_SHA384 (1) |"))
        #expect(TerminalReport.render(report).contains("coverage: 64% of the values"))
        let json = String(decoding: try report.jsonData(), as: UTF8.self)
        #expect(!json.contains("never_tried"), "the run, not the Report initialiser, computes it")
        var stored = report
        stored.coverage = coverage
        #expect(String(decoding: try stored.jsonData(), as: UTF8.self).contains(#""never_tried" : ["#))

        // min_coverage: 64% tried fails a minimum of 80, not one of 60; a shard or a partial run is not judged.
        stored.minimumCoverage = 80
        #expect(stored.coverageShortfall?.contains("coverage 63.6% is below the matrix's min_coverage 80%") == true, "\(stored.coverageShortfall ?? "nil")")
        #expect(TerminalReport.render(stored).contains("COVERAGE SHORTFALL"))
        var sharded = stored
        sharded.shard = "1/2"
        #expect(sharded.coverageShortfall == nil)
        stored.minimumCoverage = 60
        #expect(stored.coverageShortfall == nil)
    }

    @Test("value pairs both sides support that no cell crossed: a suite with client auth required, a TLS 1.3 suite with a non-default group")
    func neverCrossed() throws {
        let a = try Self.library("a", versions: ["TLS1.2", "TLS1.3"], suites: ["0x1301", "0x1302", "0xC02B"], groups: ["x25519", "secp256r1"], certs: ["ecdsa-p256"])
        let b = try Self.library("b", versions: ["TLS1.2", "TLS1.3"], suites: ["0x1301", "0x1302", "0xC02B"], groups: ["x25519", "secp256r1"], certs: ["ecdsa-p256"])
        // One-at-a-time: each suite with the default group and no client auth; each group with the
        // default suite; client auth required with the defaults only.
        var results = [
            Self.result(.pass, version: .tls13, suite: "0x1301", negotiated: ("TLS_AES_128_GCM_SHA256", "0x1301", "x25519")),
            Self.result(.pass, version: .tls13, suite: "0x1302", negotiated: ("TLS_AES_256_GCM_SHA384", "0x1302", "x25519")),
            Self.result(.fail, version: .tls13, group: "secp256r1"),
            Self.result(.pass, version: .tls12, suite: "0xC02B", negotiated: ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "0xC02B", "secp256r1")),
            // Not run: crosses nothing.
            Self.result(.unsupported, version: .tls13, suite: "0x1302", group: "secp256r1"),
        ]
        var required = Self.result(.pass, version: .tls13, negotiated: ("TLS_AES_128_GCM_SHA256", "0x1301", "x25519"))
        required.params.clientAuth = .required
        results.append(required)
        let report = Report(startedAt: "", durationS: 0, matrix: "m", libraries: [a, b], summary: .init(results: results), results: results, complete: true)
        let pair = try #require(PairCoverage.of(report).first)
        let crossings = try #require(pair.crossings)
        func crossing(_ x: String, _ y: String) throws -> PairCoverage.Crossing { try #require(crossings.first { $0.dimensions == [x, y] }) }
        // Three suites × three modes; crossed: each suite with none, the first with required.
        let suiteAuth = try crossing("client_auth", "suite")
        #expect(suiteAuth.possible == 9 && suiteAuth.crossed == 4, "\(suiteAuth)")
        #expect(suiteAuth.neverCrossed.contains(["required", "TLS_AES_256_GCM_SHA384"]) && !suiteAuth.neverCrossed.contains(["required", "TLS_AES_128_GCM_SHA256"]))
        // TLS 1.3 suites with both groups, the TLS 1.2 one with its certificate's curve: 5; the failing
        // cell forced secp256r1 without a suite, so TLS_AES_256_GCM_SHA384 never met secp256r1.
        let suiteGroup = try crossing("suite", "group")
        #expect(suiteGroup.possible == 5 && suiteGroup.crossed == 3, "\(suiteGroup)")
        #expect(suiteGroup.neverCrossed == [["TLS_AES_128_GCM_SHA256", "secp256r1"], ["TLS_AES_256_GCM_SHA384", "secp256r1"]])
        #expect(crossings.count == 10)

        var stored = report
        stored.coverage = PairCoverage.of(report)
        let summary = CrossingSummary(try #require(stored.coverage))
        #expect(summary.entries.first { $0.dimensions == ["suite", "group"] }?.pairsShort == 1)
        let markdown = MarkdownReport.render(stored)
        #expect(markdown.contains("## Never crossed"))
        #expect(markdown.contains("| suite × group | 3 / 5 | 1 | TLS_AES_128_GCM_SHA256 with secp256r1 (1), TLS_AES_256_GCM_SHA384 with secp256r1 (1) |"), "\(markdown)")
        #expect(TerminalReport.render(stored).contains("crossings: "))
        #expect(String(decoding: try stored.jsonData(), as: UTF8.self).contains(#""never_crossed" : ["#))
    }

    @Test("a t-way block's share of t-tuples: all when every chosen cell ran, less when one did not, in every format")
    func coveringArrayShare() throws {
        let one = try CoverageBlockTests.library("one", suites: ["0x1301", "0x1302", "0xC02F", "0xC02B"])
        let two = try CoverageBlockTests.library("two", suites: ["0x1301", "0x1303", "0xC02F", "0xC02B"])
        let run = MatrixRun(matrix: try MatrixFile(yaml: CoverageBlockTests.yaml + "\n    coverage: pairwise\n", source: "m.yml"))
        let (cells, plans) = run.expansion(libraries: ["one": one, "two": two])
        #expect(Set(plans.map { "\($0.server)>\($0.client)" }) == ["one>one", "one>two", "two>one", "two>two"])
        #expect(plans.allSatisfy { $0.block == "crossed" && $0.strength == 2 && $0.tuples > 0 })
        #expect(Set(plans.flatMap(\.cells)) == Set(cells.map(\.id)) && plans.allSatisfy { $0.covered == 0 })

        var results = cells.map { CellResult(cell: $0, outcome: .pass, durationMs: 1) }
        #expect(CoveringArrayCoverage.counted(plans, results: results).allSatisfy { $0.covered == $0.tuples })
        // A cell of one>two that did not run (a harness error) loses the tuples no other cell of the pair has.
        let lost = try #require(results.firstIndex { $0.server == "one" && $0.client == "two" })
        results[lost].outcome = .error
        let entries = CoveringArrayCoverage.counted(plans, results: results)
        let short = try #require(entries.first { $0.server == "one" && $0.client == "two" })
        let kept = results.filter { $0.server == "one" && $0.client == "two" && $0.outcome == .pass }.map(\.params.coverageRow)
        #expect(short.covered == CoveringArray.tupleCount(of: kept, strength: 2) && short.covered < short.tuples)
        #expect(entries.filter { $0.covered < $0.tuples }.count == 1)

        var report = Report(startedAt: "", durationS: 0, matrix: "m", libraries: [], summary: .init(results: results), results: results, complete: true)
        report.coveringArrays = entries
        let summary = CoveringArraySummary(entries)
        #expect(summary.blocks.count == 1 && summary.blocks[0].short == [short])
        #expect(TerminalReport.render(report).contains("covering arrays: crossed (pairwise) \(CoveringArraySummary.percent(summary.blocks[0].share)) of \(summary.blocks[0].tuples) tuples over 4 pairs, 1 short of 100%"))
        let markdown = MarkdownReport.render(report)
        #expect(markdown.contains("## Covering arrays"))
        #expect(markdown.contains("| crossed | pairwise | 4 | \(summary.blocks[0].covered) / \(summary.blocks[0].tuples) | **"))
        #expect(markdown.contains("one>two \(CoveringArraySummary.percent(short.share))"))
        let json = String(decoding: try report.jsonData(), as: UTF8.self)
        #expect(json.contains(#""covering_arrays" : ["#) && json.contains(#""covered" : \#(short.covered)"#))
        // 99.96% is not shown as 100%.
        #expect(CoveringArraySummary.percent(0.9996) == "99.9%" && CoveringArraySummary.percent(1) == "100.0%")
    }

    @Test("min_coverage is a percentage at the top of a matrix file")
    func minimumCoverageKey() throws {
        #expect(try MatrixFile(yaml: "libraries: [a]\nmin_coverage: 90\n", source: "m.yml").minimumCoverage == 90)
        #expect(try MatrixFile(yaml: "libraries: [a]\n", source: "m.yml").minimumCoverage == nil)
        #expect {
            _ = try MatrixFile(yaml: "libraries: [a]\nmin_coverage: 120\n", source: "m.yml")
        } throws: { "\($0)".contains("m.yml:2") && "\($0)".contains("from 0 to 100") }
    }
}
