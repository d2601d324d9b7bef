import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// What a comparison with a baseline calls a change: made-up results against made-up baselines.
@Suite("Baseline comparisons")
struct BaselineTests {
    func result(_ id: String, _ outcome: Outcome, refusal: Bool = true, alert: String? = nil) throws -> CellResult {
        var cell = try VerdictTests.cell(refusal ? "expired-cert" : "basic")
        cell.scenario = id
        var result = CellResult(cell: cell, outcome: outcome, durationMs: 1)
        result.id = id
        result.observedAlert = alert
        return result
    }

    func compare(_ results: [CellResult], with cells: [String: Baseline.Entry]) -> (BaselineComparison, Report) {
        var report = Report(startedAt: "", durationS: 0, matrix: "m", libraries: [], summary: .init(results: results), results: results, complete: true)
        let baseline = Baseline(matrix: "m", cells: cells)
        return (baseline.compare(&report, file: "b.json", inScope: { _ in true }), report)
    }

    @Test("a passing refusal that now carries another alert is a change (exit 5), not a regression")
    func alertChange() throws {
        let (comparison, _) = compare([try result("a", .pass, alert: "bad_certificate")],
                                      with: ["a": Baseline.Entry(outcome: .pass, alert: "certificate_expired")])
        #expect(comparison.regressions.isEmpty)
        #expect(comparison.alertChanges == [AlertChange(id: "a", before: "certificate_expired", after: "bad_certificate")])
        #expect(comparison.exitCode == 5)
    }

    @Test("the same alert as recorded is no change")
    func sameAlert() throws {
        let (comparison, _) = compare([try result("a", .pass, alert: "certificate_expired")],
                                      with: ["a": Baseline.Entry(outcome: .pass, alert: "certificate_expired")])
        #expect(comparison.alertChanges.isEmpty)
        #expect(comparison.exitCode == 0)
    }

    @Test("a known failure that became unsupported lost its run: a regression, not an unexpected pass")
    func knownFailureNowUnsupported() throws {
        let (comparison, report) = compare([try result("a", .unsupported)], with: ["a": Baseline.Entry(outcome: .fail, reason: "quirk")])
        #expect(comparison.regressions == ["a"])
        #expect(comparison.unexpectedPasses.isEmpty)
        #expect(report.results[0].baselineStatus == .regression)
    }

    @Test("a baseline written from a report keeps each refusal's alert, so the next run can compare it")
    func entriesKeepAlerts() throws {
        let results = [try result("a", .pass, alert: "unknown_ca"), try result("b", .pass, refusal: false)]
        let report = Report(startedAt: "", durationS: 0, matrix: "m", libraries: [], summary: .init(results: results), results: results, complete: true)
        let baseline = Baseline(report: report, keeping: nil)
        #expect(baseline.cells["a"]?.alert == "unknown_ca")
        #expect(baseline.cells["b"]?.alert == nil)
    }

    @Test("an intermittent known failure passes or fails without a change; unsupported is still a regression")
    func intermittentKnownFailure() throws {
        var entry = Baseline.Entry(outcome: .fail, reason: "a race in the library")
        entry.intermittent = true
        let (passed, passedReport) = compare([try result("a", .pass)], with: ["a": entry])
        #expect(passed.unexpectedPasses.isEmpty && passed.regressions.isEmpty)
        #expect(passed.intermittentPasses == ["a"])
        #expect(passed.exitCode == 0)
        #expect(passedReport.results[0].baselineStatus == .intermittentPass)
        #expect(passedReport.results[0].knownFailure == "intermittent: a race in the library")
        let (failed, failedReport) = compare([try result("a", .fail)], with: ["a": entry])
        #expect(failed.knownFailures == ["a"] && failed.exitCode == 0)
        #expect(failedReport.results[0].baselineStatus == .knownFailure)
        let (lost, _) = compare([try result("a", .unsupported)], with: ["a": entry])
        #expect(lost.regressions == ["a"] && lost.exitCode == 1)
        // Without the mark the same pass asks for the baseline to be updated.
        let (plain, _) = compare([try result("a", .pass)], with: ["a": Baseline.Entry(outcome: .fail, reason: "a race in the library")])
        #expect(plain.unexpectedPasses == ["a"] && plain.exitCode == 4)
    }

    @Test("--update-baseline keeps an intermittent entry whichever way the cell went, and drops it once unsupported")
    func updateKeepsIntermittent() throws {
        var entry = Baseline.Entry(outcome: .fail, reason: "a race in the library", link: "https://example.org/bug")
        entry.intermittent = true
        let earlier = Baseline(matrix: "m", cells: ["a": entry, "b": entry, "c": entry])
        let results = [try result("a", .pass), try result("b", .fail), try result("c", .unsupported)]
        let report = Report(startedAt: "", durationS: 0, matrix: "m", libraries: [], summary: .init(results: results), results: results, complete: true)
        let updated = Baseline(report: report, keeping: earlier)
        #expect(updated.cells["a"] == entry)
        #expect(updated.cells["b"] == entry)
        #expect(updated.cells["c"]?.outcome == .unsupported && updated.cells["c"]?.intermittent == nil)
    }
}
