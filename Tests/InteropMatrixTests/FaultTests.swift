import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("Peers that hang or crash", .serialized, .timeLimit(.minutes(2)))
struct FaultTests {
    @Test("a server that never answers is killed at the cell timeout and reported as timeout")
    func hungServerTimesOut() async throws {
        let mode = "hang"
        let runner = try await Fixture.shared.runner(timeout: .seconds(1), libraries: ["openssl", mode])
        let result = await runner.run(.make(mode, "openssl"))
        #expect(result.outcome == .timeout, "\(result.reason ?? "")")
        #expect(result.error?.stage == .timeout)
        // Killed at the 1 s cell timeout, not at the 10 s default: the runner names the deadline it
        // killed at. (Not the wall clock: a test process whose few threads are busy with the other
        // suites' certificates has seen this cell reported ten seconds late.)
        #expect(result.error?.message.contains("at the cell timeout (1000 ms)") == true, "\(result.error?.message ?? "")")
        // Killed with its process group: nothing of it is left running.
        let peerDirectory = Fixture.shared.peerDirectory
        try await Task.sleep(for: .milliseconds(100))
        #expect(Fixture.processes(mentioning: "\(peerDirectory)/peer-\(mode)").isEmpty)
    }

    @Test("a server that announces a port it does not serve: the client's ECONNREFUSED is the reason, and the server is stopped")
    func serverAnnouncesDeadPort() async throws {
        let runner = try await Fixture.shared.runner(timeout: .seconds(20), libraries: ["openssl", "listenhang"])
        let result = await runner.run(.make("listenhang", "openssl"))
        #expect(result.outcome == .fail)
        #expect(result.error?.side == .client)
        #expect(result.error?.stage == .tcpConnect)
        #expect(result.error?.libraryCode == "ECONNREFUSED")
        // The runner stops a server 1.5 s after its client ended: one killed at the 20 s cell timeout
        // instead would make the cell a timeout, not this fail.
        let peerDirectory = Fixture.shared.peerDirectory
        try await Task.sleep(for: .milliseconds(100))
        #expect(Fixture.processes(mentioning: "\(peerDirectory)/peer-listenhang").isEmpty)
    }

    @Test("a client that hangs is killed too, and the server it left behind does not outlive the cell")
    func hungClientTimesOut() async throws {
        // A cell time no other test uses, so the server's --timeout-ms marks this test's processes alone.
        let runner = try await Fixture.shared.runner(timeout: .milliseconds(1370), libraries: ["openssl", "hang"])
        let cell = Cell.make("openssl", "hang")
        let serverTimeout = "--timeout-ms \(runner.peerTimeoutMilliseconds(cell, role: .server))"
        let result = await runner.run(cell)
        #expect(result.outcome == .timeout)
        #expect(result.error?.side == .client)
        let peerDirectory = Fixture.shared.peerDirectory
        try await Task.sleep(for: .milliseconds(100))
        #expect(Fixture.processes(mentioning: "\(peerDirectory)/peer-hang").isEmpty)
        #expect(serverTimeout == "--timeout-ms 770")
        #expect(Fixture.processes(mentioning: serverTimeout).isEmpty)
    }

    @Test("a peer killed by a signal is a crash with the signal's name")
    func crashIsReported() async throws {
        let runner = try await Fixture.shared.runner(libraries: ["openssl", "crash"])
        let result = await runner.run(.make("crash", "openssl"))
        #expect(result.outcome == .crash)
        #expect(result.error?.message.contains("SIGSEGV") == true)
    }

    @Test("a peer that prints garbage and exits is a crash that quotes what it printed")
    func garbageIsReported() async throws {
        let runner = try await Fixture.shared.runner(libraries: ["openssl", "garbage"])
        let result = await runner.run(.make("garbage", "openssl"))
        #expect(result.outcome == .crash)
        #expect(result.error?.message.contains("this is not json") == true)
    }

    @Test("with --retries, a cell that fails once and then passes is reported as passed and flaky, not hidden")
    func flakyCellIsMarked() async throws {
        let runner = try await Fixture.shared.runner(libraries: ["openssl", "flaky"])
        let once = await runner.run(.make("flaky", "openssl", version: .tls13), retries: 0)
        #expect(once.outcome == .crash)
        // A second start passes and removes the fault peer's marker file.
        #expect(await runner.run(.make("flaky", "openssl", version: .tls13), retries: 0).outcome == .pass)
        let retried = await runner.run(.make("flaky", "openssl", version: .tls13, cert: .rsa2048), retries: 2)
        #expect(retried.outcome == .pass)
        #expect(retried.flaky == true)
        #expect(retried.attempts == 2)
        #expect(retried.earlierAttempts?.first?.hasPrefix("crash") == true)
        let report = Report(startedAt: "", durationS: 0, matrix: "m", libraries: [], summary: .init(results: [retried]), results: [retried], complete: true)
        #expect(MarkdownReport.render(report).contains("flaky: passed on attempt 2"))
        #expect(JUnitReport.render(report).contains("flaky: passed on attempt 2"))
    }
}
