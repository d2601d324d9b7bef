import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// Long-lived peer workers: reused when sound, never after a crash, a kill or a broken protocol.
@Suite("Peer workers", .serialized, .timeLimit(.minutes(2)))
struct PeerWorkerTests {
    func serverArguments(timeoutMs: Int = 5000) async throws -> [String] {
        let runner = try await Fixture.shared.runner()
        let set = try #require(runner.certificates[.ecdsaP256])
        return ["server", "--cert", set.serverCertificate, "--key", set.serverKey, "--timeout-ms", String(timeoutMs)]
    }

    var executable: String { Fixture.shared.peerDirectory + "/peer-openssl" }

    @Test("a sound worker runs cell after cell in one process, each with its own result and log")
    func reuse() async throws {
        let pool = PeerWorkerPool(ledger: nil)
        let arguments = try await serverArguments(timeoutMs: 200)
        var pids: Set<Int32> = []
        for _ in 0..<3 {
            let worker = try await pool.checkout(executable)
            // Nobody connects: the peer reports its own timeout, a failed cell, and stays sound.
            let exit = await worker.run(arguments: arguments, deadline: .now + .seconds(5), ledger: nil, onListening: nil)
            #expect(exit.result?.status == .failed)
            #expect(exit.result?.error?.stage == .timeout)
            #expect(exit.log.contains("server listening"))
            pids.insert(worker.pid)
            await pool.checkin(worker)
        }
        #expect(pids.count == 1)
        await pool.shutdown()
        #expect(kill(pids.first!, 0) != 0, "the worker is gone after shutdown")
    }

    @Test("a worker still running at the cell deadline is killed with its group and replaced")
    func killedAtDeadline() async throws {
        let pool = PeerWorkerPool(ledger: nil)
        let arguments = try await serverArguments(timeoutMs: 10_000)
        let worker = try await pool.checkout(executable)
        let exit = await worker.run(arguments: arguments, deadline: .now + .milliseconds(300), ledger: nil, onListening: nil)
        #expect(exit.killedAtDeadline)
        #expect(exit.termination == .signaled(SIGKILL))
        #expect(!worker.isUsable)
        await pool.checkin(worker)
        let next = try await pool.checkout(executable)
        #expect(next.pid != worker.pid)
        let again = await next.run(arguments: try await serverArguments(timeoutMs: 100), deadline: .now + .seconds(5), ledger: nil, onListening: nil)
        #expect(again.result?.status == .failed)
        await pool.checkin(next)
        await pool.shutdown()
    }

    @Test("a worker that dies in a cell gives that cell a crash, not a verdict")
    func crash() async throws {
        let pool = PeerWorkerPool(ledger: nil)
        let worker = try await pool.checkout(executable)
        let exit = await worker.run(arguments: try await serverArguments(), deadline: .now + .seconds(5), ledger: nil) { _ in
            kill(worker.pid, SIGSEGV)
        }
        #expect(exit.termination == .signaled(SIGSEGV))
        #expect(exit.result == nil)
        #expect(!worker.isUsable)
        await pool.checkin(worker)
        await pool.shutdown()
    }

    @Test("a worker killed while idle is not handed the next cell: that cell gets a fresh worker and no word of the death")
    func killedWhileIdle() async throws {
        let pool = PeerWorkerPool(ledger: nil)
        let worker = try await pool.checkout(executable)
        let first = await worker.run(arguments: try await serverArguments(timeoutMs: 100), deadline: .now + .seconds(5), ledger: nil, onListening: nil)
        #expect(first.result?.status == .failed)
        await pool.checkin(worker)
        kill(worker.pid, SIGKILL)
        try await Task.sleep(for: .milliseconds(50))
        let next = try await pool.checkout(executable)
        #expect(next.pid != worker.pid)
        let exit = await next.run(arguments: try await serverArguments(timeoutMs: 100), deadline: .now + .seconds(5), ledger: nil, onListening: nil)
        #expect(exit.termination == .exited(PeerProtocol.ExitCode.failed.rawValue))
        #expect(exit.result?.error?.stage == .timeout)
        #expect(!exit.log.contains("SIGKILL") && !exit.log.contains("writing a request"))
        await pool.checkin(next)
        await pool.shutdown()
    }

    @Test("a request the peer protocol rejects is a usage error and the worker carries on")
    func usage() async throws {
        let pool = PeerWorkerPool(ledger: nil)
        let worker = try await pool.checkout(executable)
        let exit = await worker.run(arguments: ["server", "--bogus"], deadline: .now + .seconds(5), ledger: nil, onListening: nil)
        #expect(exit.termination == .exited(PeerProtocol.ExitCode.usage.rawValue))
        #expect(exit.log.contains("--bogus"))
        #expect(worker.isUsable)
        await pool.checkin(worker)
        await pool.shutdown()
    }

    /// A shell worker that waits `delay` before it reads anything, then answers every line with `answer`.
    func scriptWorker(delay: String, answer: String) throws -> String {
        let path = TestFolders.make("interop-matrix-slow-worker").appendingPathComponent("peer-slow").path
        try "#!/bin/sh\nsleep \(delay)\nwhile read line; do echo '\(answer)'; done\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test("a worker whose executable is still open for writing (ETXTBSY) starts once the writer lets go, not a failed launch")
    func textFileBusy() async throws {
        let path = try scriptWorker(delay: "0", answer: #"{"event":"usage","message":"unknown role ready"}"#)
        let writer = open(path, O_WRONLY | O_CLOEXEC)
        try #require(writer >= 0)
        let release = Task.detached { try? await Task.sleep(for: .milliseconds(300)); close(writer) }
        let worker = try await PeerWorker.start(executable: path, ledger: nil)
        #expect(worker.isUsable)
        await worker.stop()
        await release.value
    }

    @Test("a new worker is handed no cell before it answers the readiness request: its start-up counts against no cell")
    func readyBeforeFirstCell() async throws {
        let slow = try scriptWorker(delay: "1.5", answer: #"{"event":"usage","message":"unknown role ready"}"#)
        let started = ContinuousClock.now
        let worker = try await PeerWorker.start(executable: slow, ledger: nil)
        #expect(ContinuousClock.now - started >= .seconds(1.4), "start returned before the worker had answered")
        #expect(worker.isUsable)
        await worker.stop()
    }

    @Test("a worker that never answers the readiness request, or answers with something else, is stopped with why")
    func notReady() async throws {
        let mute = try scriptWorker(delay: "600", answer: "")
        let error = await #expect(throws: WorkerStartError.self) { try await PeerWorker.start(executable: mute, ledger: nil, readyTimeout: .milliseconds(500)) }
        #expect(error?.message.contains("did not answer its readiness request") == true, "\(String(describing: error))")
        let chatty = try scriptWorker(delay: "0", answer: #"{"event":"listening","port":1}"#)
        let other = await #expect(throws: WorkerStartError.self) { try await PeerWorker.start(executable: chatty, ledger: nil) }
        #expect(other?.message.contains("not a usage line") == true, "\(String(describing: other))")
    }
}
