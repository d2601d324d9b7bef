import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// What the command line says to bad options and odd selections: one line and exit 64 for what the
/// user must change, a complete report for what is merely small.
@Suite("The command line", .serialized, .timeLimit(.minutes(3)))
struct CommandLineTests {
    let folder = TestFolders.make("interop-matrix-cli")

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    @Test("absurd numbers are usage errors that say what is wrong", arguments: [
        (["--jobs", "-1"], "--jobs -1"),
        (["--jobs", "0"], "--jobs 0"),
        (["--timeout", "1e-9"], "--timeout"),
        (["--timeout", "nan"], "--timeout"),
        (["--timeout", "1e300"], "--timeout"),
        (["--deadline", "1e-9"], "--deadline"),
        (["--deadline", "inf"], "--deadline"),
        (["--retries", "-1"], "--retries -1"),
    ])
    func absurdNumbers(arguments: [String], named: String) async throws {
        let run = try await runCLIKeepingErrors(arguments + ["--quiet"])
        #expect(run.status == 64)
        #expect(run.errorLines.count == 1 && run.errorLines.first?.contains(named) == true && run.errorLines.first?.contains("between") == true, "\(run.errors)")
    }

    @Test("capabilities of a library with no peer is a usage error (64), not a broken machine (3)")
    func capabilitiesOfUnknownLibrary() async throws {
        let run = try await runCLIKeepingErrors(["capabilities", "--libs", "nosuch"])
        #expect(run.status == 64)
        #expect(run.errorLines.count == 1 && run.errors.contains("'nosuch'"))
    }

    @Test("--only runs a cell of a pairwise block that only the libraries' capabilities choose (what a failed cell's replay does)")
    func onlyPairwiseCell() async throws {
        let yaml = "libraries: [openssl, gnutls]\nversions: [TLS1.2, TLS1.3]\nsuites: all\ngroups: all\ncerts: [rsa2048, ecdsa-p256]\nclient_auth: [none, required]\ncoverage: pairwise\n"
        try yaml.write(toFile: path("pairwise.yml"), atomically: true, encoding: .utf8)
        let run = MatrixRun(matrix: try MatrixFile.load(path: path("pairwise.yml")), catalog: await Fixture.shared.catalog)
        let loaded = try await run.loadLibraries()
        let registryOnly = Set(run.cells().map(\.id))
        let id = try #require(loaded.run.cells(libraries: loaded.libraries).map(\.id).first { !registryOnly.contains($0) && $0.hasPrefix("openssl>gnutls/") })
        let result = try await runCLIKeepingErrors(["--matrix", path("pairwise.yml"), "--only", id, "--no-baseline", "--quiet", "--json", path("one.json")])
        #expect(result.status == 0, "\(result.errors)")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("one.json"))))
        #expect(report.results.map(\.id) == [id])
    }

    @Test("a shard that selects no cells is a complete report of 0 cells, exit 0, and merges with the others")
    func emptyShard() async throws {
        let cell = "openssl>openssl/basic/TLS1.3/default/default/ecdsa-p256/auth-none"
        let selection = ["--libs", "openssl", "--only", cell, "--only", cell + "/net-segment-1", "--no-baseline", "--quiet"]
        var empty: String?
        for k in 1...4 {
            let run = try await runCLIKeepingErrors(selection + ["--shard", "\(k)/4", "--json", path("shard-\(k).json")])
            #expect(run.status == 0, "shard \(k): \(run.errors)")
            let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("shard-\(k).json"))))
            #expect(report.complete)
            if report.results.isEmpty { empty = path("shard-\(k).json") }
        }
        #expect(empty != nil, "two cells in four shards: at least two shards are empty")
        let merged = try await runCLIKeepingErrors(["merge"] + (1...4).map { path("shard-\($0).json") } + ["--json", path("all.json")])
        #expect(merged.status == 0, "\(merged.errors)")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("all.json"))))
        #expect(report.complete && report.results.count == 2)
    }

    @Test("a matrix of millions of cells is refused from its dimensions, at once and in little memory")
    func cellLimitBeforeExpansion() async throws {
        // 34 KB: 3,000 servers × 3,000 clients × 2 versions = 18 million cells.
        let names = (0..<3000).map { "s\($0)" }.joined(separator: ", ")
        try "name: huge\nservers: [\(names)]\nclients: [\(names)]\nversions: [TLS1.2, TLS1.3]\n".write(toFile: path("huge.yml"), atomically: true, encoding: .utf8)
        let matrix = try MatrixFile.load(path: path("huge.yml"))
        #expect(MatrixRun(matrix: matrix).cellUpperBound() == 18_000_000)
        let start = ContinuousClock.now
        for arguments in [["--matrix", path("huge.yml"), "--quiet"], ["list", "--matrix", path("huge.yml")]] {
            let run = try await runCLIKeepingErrors(arguments)
            #expect(run.status == 64)
            #expect(run.errorLines.count == 1 && run.errors.contains("18000000 cells") && run.errors.contains("upper bound"), "\(run.errors)")
        }
        // Expanding 18 million cells would take minutes and gigabytes; two refusals, even on a
        // loaded machine, take seconds (a busy test process has resumed a test 20 s late).
        #expect(ContinuousClock.now - start < .seconds(45))
    }

    @Test("the bound is never below the real count, and the shipped matrices are within it")
    func boundCoversTheMatrices() async throws {
        for name in ["default", "quick", "full", "scale"] {
            // Expanding the large matrices takes seconds of CPU: off the threads other suites' timers need.
            let (bound, count) = try await offPool { () -> (Int, Int) in
                let run = MatrixRun(matrix: try MatrixFile.load(path: Fixture.packageRoot.appendingPathComponent("matrix/\(name).yml").path))
                return (run.cellUpperBound(), run.cells().count)
            }
            #expect(bound >= count && bound <= MatrixRun.maximumCells, "\(name): bound \(bound), \(count) cells")
        }
    }

    @Test("deep.yml is over the bound from the registry alone and within it once the libraries' capabilities narrow `all`")
    func boundWithCapabilities() async throws {
        let run = MatrixRun(matrix: try MatrixFile.load(path: Fixture.packageRoot.appendingPathComponent("matrix/deep.yml").path),
                            catalog: await Fixture.shared.catalog)
        let loaded = try await run.loadLibraries()
        let (registryBound, bound, count) = try await offPool { () -> (Int, Int, Int) in
            (run.cellUpperBound(), loaded.run.cellUpperBound(libraries: loaded.libraries), loaded.run.cells(libraries: loaded.libraries).count)
        }
        #expect(registryBound > MatrixRun.maximumCells)
        #expect(bound >= count && bound <= MatrixRun.maximumCells, "deep: bound \(bound), \(count) cells")
    }

    @Test("merge refuses a report of a schema version it does not know")
    func mergeUnknownSchema() async throws {
        let report = Report(startedAt: "2026-12-01T00:00:00Z", durationS: 0, matrix: "m", libraries: [],
                            summary: Report.Summary(results: []), results: [], complete: true)
        var text = String(decoding: try report.jsonData(), as: UTF8.self)
        try text.write(toFile: path("v1.json"), atomically: true, encoding: .utf8)
        text = text.replacingOccurrences(of: "interop-matrix/report/v1", with: "interop-matrix/report/v2")
        try text.write(toFile: path("v2.json"), atomically: true, encoding: .utf8)
        for order in [["v2.json", "v1.json"], ["v2.json"]] {
            let run = try await runCLIKeepingErrors(["merge"] + order.map(path) + ["--json", path("m.json")])
            #expect(run.status == 64)
            #expect(run.errorLines.count == 1 && run.errors.contains("report/v2"), "\(run.errors)")
        }
    }

    @Test("the built-in default's baseline is found from outside the repository, and a narrowed run reports nothing vanished")
    func defaultBaselineFromElsewhere() async throws {
        // The working folder is a fresh temporary folder, with no matrix/ in it.
        let run = try await runCLIKeepingErrors(["--libs", "openssl", "--filter", "basic", "--quiet", "--json", path("narrow.json")], directory: folder)
        #expect(run.status == 0, "\(run.errors)")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("narrow.json"))))
        let baseline = try #require(report.baseline, "the default matrix's baseline was not found")
        #expect(baseline.file.hasSuffix("matrix/expected/default.json"))
        #expect(baseline.vanishedCells.isEmpty, "\(baseline.vanishedCells.count) vanished")
        #expect(baseline.regressions.isEmpty && report.results.count >= 10)
    }

    @Test("vanished means in the baseline, within the run's selection, and not run")
    func vanishedWithinSelection() throws {
        var run = MatrixRun(matrix: try MatrixFile.builtInDefault())
        run.matrix.servers = ["openssl"]
        run.matrix.clients = ["openssl"]
        run.filters = ["basic"]
        #expect(run.selects(id: "openssl>openssl/basic/TLS1.3/default/default/ecdsa-p256/auth-none"))
        #expect(!run.selects(id: "openssl>gnutls/basic/TLS1.3/default/default/ecdsa-p256/auth-none"))
        #expect(!run.selects(id: "openssl>openssl/alpn/TLS1.3/default/default/ecdsa-p256/auth-none"))
        run.shard = Shard("1/2")
        let ids = run.cells().map(\.id)
        #expect(!ids.isEmpty)
        var report = Report(startedAt: "x", durationS: 0, matrix: "m", libraries: [], summary: Report.Summary(results: []), results: [], complete: true)
        let cells = Dictionary(uniqueKeysWithValues: (ids + ["openssl>gnutls/basic/TLS1.2/default/default/rsa2048/auth-none"]).map { ($0, ["outcome": "pass"]) })
        let json = try JSONSerialization.data(withJSONObject: ["schema": "interop-matrix/baseline/v1", "matrix": "default", "cells": cells])
        let baseline = try JSONDecoder().decode(Baseline.self, from: json)
        let selection = run
        let comparison = baseline.compare(&report, file: "b.json") { selection.selects(id: $0) }
        // Every selected cell of this shard was not run: vanished; the other pair's cell is outside the selection.
        #expect(Set(comparison.vanishedCells) == Set(ids.filter { run.shard!.contains($0) }))
    }
}
