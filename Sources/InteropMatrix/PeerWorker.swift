import Foundation
import PeerKit
import Subprocess
import Synchronization
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A long-lived `peer-<id> worker` process that runs one cell at a time: the runner writes the
/// cell's arguments as one JSON line and reads the same lines a one-cell peer prints. Each cell gets
/// a fresh engine in the peer (a new TLS context, connection, certificates and settings); the
/// process is what is shared, to save its start-up. A worker that crashes, hangs or is killed at a
/// cell's deadline takes only that cell with it: it is never used again, and the pool starts another.
final class PeerWorker: Sendable {
    enum Event: Sendable {
        case line(String)
        case ended(PeerExit.Termination)
    }

    let executable: String
    let pid: Int32
    private let requests: AsyncStream<String>.Continuation
    private let events: Mailbox<Event>
    private let state = Mutex<(usable: Bool, cells: Int)>((true, 0))
    /// The end of what the worker wrote to stderr (a crash's last words; cells' logs travel in their
    /// result lines).
    private let stderrTail: LockedText
    private let process: Task<Void, Never>
    /// Set as soon as the worker's output ends (it exited or was killed), even while it sat idle.
    private let gone: Flag

    /// A worker is retired after this many cells, so a slow leak in a library never accumulates.
    static let cellsPerWorker = 1000

    private init(executable: String, pid: Int32, requests: AsyncStream<String>.Continuation,
                 events: Mailbox<Event>, process: Task<Void, Never>, stderrTail: LockedText, gone: Flag) {
        self.stderrTail = stderrTail
        self.gone = gone
        self.executable = executable
        self.pid = pid
        self.requests = requests
        self.events = events
        self.process = process
    }

    /// Sound, under its cell limit and still running: a worker that died while idle (killed from
    /// outside, say) is never handed a cell, so its death is never blamed on the next one.
    var isUsable: Bool { !gone.value.withLock { $0 } && state.withLock { $0.usable && $0.cells < Self.cellsPerWorker } }

    /// Whether the process is still there and not a zombie (/proc/PID/stat): catches a worker
    /// killed while idle whose end of output the runner has not read yet.
    var isRunning: Bool { ProcessStatus(pid: pid)?.isAlive ?? false }

    /// Starts `executable worker` in its own process group.
    static func start(executable: String, ledger: ResourceLedger?, readyTimeout: Duration = PeerWorker.readyTimeout) async throws -> PeerWorker {
        let (requestStream, requests) = AsyncStream.makeStream(of: String.self)
        let events = Mailbox<Event>()
        let started = AsyncStream.makeStream(of: Result<Int32, any Error>.self)
        let tail = LockedText()
        let gone = Flag()
        let process = Task {
            var options = PlatformOptions()
            options.processGroupID = 0
            options.teardownSequence = []
            do {
                let outcome = try await PeerProcess.retryingTextFileBusy { try await Subprocess.run(
                    .path(FilePath(executable)), arguments: ["worker"],
                    environment: .inherit.updating(["SWIFT_BACKTRACE": "enable=no", Environment.Key(stringLiteral: ParentWatch.parentVariable): String(getpid())]),
                    platformOptions: options, input: .inputWriter, output: .sequence, error: .sequence
                ) { execution in
                    let pid = execution.processIdentifier.value
                    ledger?.peerStarted(processGroup: pid, executable: executable)
                    started.continuation.yield(.success(pid))
                    let writer = execution.standardInputWriter
                    let errors = Task {
                        do {
                            for try await buffer in execution.standardError {
                                let text = buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                                tail.value.withLock { $0 = String(($0 + text).suffix(PeerProcess.logLimit)) }
                            }
                        } catch {}
                    }
                    let writes = Task {
                        for await request in requestStream {
                            do {
                                _ = try await writer.write(request + "\n")
                            } catch {
                                // The worker's input is gone, so is the worker: its end, reported next, decides the cell.
                                tail.value.withLock { $0 += "\n[runner: writing a request to the worker failed: \(error)]" }
                                break
                            }
                        }
                        try? await writer.finish()
                    }
                    do {
                        for try await line in execution.standardOutput.strings() where !line.isEmpty {
                            events.put(.line(line))
                        }
                    } catch {
                        tail.value.withLock { $0 += "\n[runner: reading the worker's output failed: \(error)]" }
                    }
                    gone.value.withLock { $0 = true }
                    writes.cancel()
                    await errors.value
                } }
                gone.value.withLock { $0 = true }
                events.put(.ended(PeerExit.Termination(outcome.terminationStatus)))
            } catch {
                started.continuation.yield(.failure(error))
                gone.value.withLock { $0 = true }
                events.put(.ended(.exited(127)))
            }
            events.finish()
        }
        // Waited for in a task of its own, which the cell's cancellation does not reach: a cancelled
        // wait would leave a worker spawned a moment later unowned, running (or dead and unreaped)
        // past the run's resource check. Cancelled, the readiness wait below kills and reaps it.
        let first = await Task {
            var iterator = started.stream.makeAsyncIterator()
            return await iterator.next()
        }.value
        guard let first else { throw CocoaError(.executableLoad) }
        let pid = try first.get()
        let worker = PeerWorker(executable: executable, pid: pid, requests: requests, events: events,
                                process: process, stderrTail: tail, gone: gone)
        try await worker.awaitReady(within: readyTimeout)
        return worker
    }

    /// The request a new worker answers before its first cell: it names no role, so every worker
    /// answers it with a usage line, once its start-up (a JVM's seconds) is behind it.
    static let readyRequest = #"["ready"]"#
    /// How long a new worker may take to answer `readyRequest` (as long as `capabilities` may).
    static let readyTimeout: Duration = .seconds(20)

    /// Sends `readyRequest` and waits for its answer, so no cell's deadline runs while the worker
    /// starts: a cold worker beside a warm one would otherwise let the other side's timeout pass
    /// before it had read its request. A worker that ends, says something else or stays silent
    /// is stopped, and the error says which.
    private func awaitReady(within timeout: Duration) async throws {
        let watch = PeerWatch()
        watch.started(pid)
        watch.arm(killing: pid, at: .now + timeout, reason: .deadline)
        defer { watch.disarm() }
        requests.yield(Self.readyRequest)
        let answer = await withTaskCancellationHandler(operation: { await events.next() }, onCancel: { watch.killNow() })
        let failure: String
        switch answer {
        case .line(let text):
            if case .usage = PeerLine(text) { return }
            failure = "answered its readiness request \(Self.readyRequest) with \(text.prefix(200)), not a usage line"
        case .ended(let termination):
            let last = stderrTail.value.withLock { $0 }.split(separator: "\n").last.map { ": \($0)" } ?? ""
            failure = watch.killReason == .deadline ? "did not answer its readiness request within \(timeout), killed"
                                                    : "ended (\(termination)) before its first cell\(last)"
        case nil:
            failure = "ended before its first cell"
        }
        state.withLock { $0.usable = false }
        await stop()
        throw WorkerStartError(message: "\(executable) worker \(failure)")
    }

    /// Runs one cell on this worker: the same contract as `PeerProcess.run`, down to the kills.
    func run(arguments: [String], deadline: ContinuousClock.Instant, ledger: ResourceLedger?,
             onListening: ((UInt16) async -> Void)?) async -> PeerExit {
        state.withLock { $0.cells += 1 }
        let watch = PeerWatch()
        watch.started(pid)
        watch.arm(killing: pid, at: deadline, reason: .deadline)
        defer { watch.disarm() }
        let line = JSON.array(arguments.map(JSON.string)).serialized
        requests.yield(line)
        var result: PeerResultLine?
        var violations: [String] = []
        var log = ""
        var ended: PeerExit.Termination?
        reading: while let event = await withTaskCancellationHandler(operation: { await events.next() }, onCancel: { watch.killNow() }) {
            switch event {
            case .ended(let termination):
                ended = termination
                break reading
            case .line(let text):
                switch PeerLine(text) {
                case .listening(let port):
                    ledger?.portListened(port)
                    if let onListening {
                        await onListening(port)
                        watch.arm(killing: pid, at: min(deadline, ContinuousClock.now + PeerProcess.partnerGrace), reason: .partnerEnded)
                    }
                case .result(let decoded):
                    result = decoded
                    log = decoded.log ?? ""
                    break reading
                case .usage(let message):
                    // As a one-cell peer's exit status 2 with its one line on stderr.
                    return PeerExit(termination: .exited(PeerProtocol.ExitCode.usage.rawValue), log: message, pid: pid)
                case .violation(let line):
                    violations.append(line)
                    if violations.count >= PeerProcess.maximumViolations { watch.stop(because: .protocolViolations) }
                }
            }
        }
        if let ended {
            // The worker died during the cell: the cell's peer crashed (or was killed), as a
            // one-cell peer would have.
            state.withLock { $0.usable = false }
            var exit = PeerExit(termination: ended, result: result, protocolViolations: violations,
                                log: log + stderrTail.value.withLock { $0 }, pid: pid)
            exit.noteKill(by: watch)
            return exit
        }
        if result == nil || watch.killReason != nil || !violations.isEmpty {
            // A kill on its way, or a peer that said things outside the protocol: never reuse it.
            state.withLock { $0.usable = false }
        }
        // The worker lives on; the cell ended as a one-cell peer would have exited, with the status
        // its result line gives.
        let status = result?.status
        let code: Int32 = status == .ok ? 0 : status == .unsupported ? PeerProtocol.ExitCode.unsupported.rawValue : PeerProtocol.ExitCode.failed.rawValue
        return PeerExit(termination: .exited(code), result: result, protocolViolations: violations, log: log, pid: pid)
    }

    /// Closes the worker's input (it exits at end of input) and waits for it; kills it if it does not
    /// go within a second.
    func stop() async {
        requests.finish()
        let pid = self.pid
        let killer = Task {
            try? await Task.sleep(for: .seconds(1))
            guard !Task.isCancelled else { return }
            kill(-pid, SIGKILL)
        }
        await process.value
        killer.cancel()
    }

}

/// A worker that could not be made ready for its first cell.
struct WorkerStartError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The idle workers of a run, per peer executable. A cell checks out a worker (starting one when
/// none is idle), and checks it back in only if it is still sound.
actor PeerWorkerPool {
    private var idle: [String: [PeerWorker]] = [:]
    private var all: [PeerWorker] = []
    private let ledger: ResourceLedger?
    private var closed = false

    init(ledger: ResourceLedger?) { self.ledger = ledger }

    func checkout(_ executable: String) async throws -> PeerWorker {
        while let worker = idle[executable]?.popLast() {
            if worker.isUsable && worker.isRunning { return worker }
            all.removeAll { $0 === worker }
            await worker.stop()
        }
        let worker = try await PeerWorker.start(executable: executable, ledger: ledger)
        all.append(worker)
        return worker
    }

    func checkin(_ worker: PeerWorker) async {
        if worker.isUsable && !closed {
            idle[worker.executable, default: []].append(worker)
        } else {
            all.removeAll { $0 === worker }
            await worker.stop()
        }
    }

    /// Stops every worker; the run's resource check comes after.
    func shutdown() async {
        closed = true
        idle = [:]
        for worker in all { await worker.stop() }
        all = []
    }
}

/// A flag several tasks set and read, behind a lock.
final class Flag: Sendable {
    let value = Mutex(false)
}

/// Text several tasks append to, behind a lock.
final class LockedText: Sendable {
    let value = Mutex<String>("")
}

/// A queue one task fills and one task drains, waiting when it is empty.
final class Mailbox<Item: Sendable>: Sendable {
    private let state = Mutex<(items: [Item], waiter: CheckedContinuation<Item?, Never>?, finished: Bool)>(([], nil, false))

    func put(_ item: Item) {
        let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.items.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next item; nil once finished and empty.
    func next() async -> Item? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Item?? in
                if !state.items.isEmpty { return .some(state.items.removeFirst()) }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
