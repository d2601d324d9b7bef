import Foundation
import Subprocess
import Synchronization
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// How one peer process ended, as the runner saw it.
public struct PeerExit: Sendable {
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    public var termination: Termination
    /// The runner killed it (and its process group) because the cell's deadline passed.
    public var killedAtDeadline = false
    /// The runner killed it because its partner had ended and it did not follow within the grace time.
    public var killedAfterPartner = false
    /// The runner killed it because it flooded stdout with lines outside the peer protocol.
    public var killedForViolations = false
    /// The `result` line, when the peer printed one.
    public var result: PeerResultLine?
    /// Lines on stdout that are not the protocol's JSON.
    public var protocolViolations: [String] = []
    /// The end of what it wrote to stderr.
    public var log: String = ""
    public var pid: Int32 = 0

    /// Marks which of the runner's kills ended the peer. A kill only counts if the process really
    /// died of it (SIGKILL), not merely because a timer fired.
    mutating func noteKill(by watch: PeerWatch) {
        guard termination == .signaled(SIGKILL) else { return }
        let reason = watch.killReason
        killedAtDeadline = reason == .deadline
        killedAfterPartner = reason == .partnerEnded
        killedForViolations = reason == .protocolViolations
    }
}

extension PeerExit.Termination {
    init(_ status: TerminationStatus) {
        switch status {
        case .exited(let code): self = .exited(code)
        case .signaled(let signal): self = .signaled(signal)
        }
    }
}

/// Spawns peer processes (swift-subprocess, each in its own process group) and reads their
/// protocol lines. Every peer is killed, group and all, when its deadline passes.
enum PeerProcess {
    /// At most this much of a peer's stderr is kept.
    static let logLimit = 16 * 1024
    /// Lines outside the protocol a peer may print before it is stopped.
    static let maximumViolations = 5
    /// How long a server may take to finish once its client has ended.
    static let partnerGrace: Duration = .milliseconds(1500)

    /// Runs one peer to its end. `onListening` is called when a server prints its port, and the
    /// server is given `partnerGrace` to end after it returns.
    static func run(
        executable: String,
        arguments: [String],
        deadline: ContinuousClock.Instant,
        ledger: ResourceLedger? = nil,
        onListening: ((UInt16) async -> Void)? = nil
    ) async throws -> PeerExit {
        let watch = PeerWatch()
        let outcome = try await killable(watch) { options in
            try await spawn(executable: executable, arguments: arguments, deadline: deadline, options: options, watch: watch, ledger: ledger, onListening: onListening)
        }
        let (result, violations, log, pid) = outcome.closureResult
        var exit = PeerExit(termination: PeerExit.Termination(outcome.terminationStatus), result: result, protocolViolations: violations, log: log, pid: pid)
        exit.noteKill(by: watch)
        return exit
    }

    /// Runs `body`, which starts one child with `options`: in its own process group, so `watch`'s
    /// kill reaches anything the child itself started; a cancelled task (the run stopped) kills the
    /// whole group at once; `watch`'s timers are disarmed when `body` returns.
    static func killable<R>(_ watch: PeerWatch, _ body: (PlatformOptions) async throws -> R) async throws -> R {
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = []
        defer { watch.disarm() }
        return try await withTaskCancellationHandler {
            try await body(options)
        } onCancel: {
            watch.killNow()
        }
    }

    private static func spawn(
        executable: String, arguments: [String], deadline: ContinuousClock.Instant, options: PlatformOptions, watch: PeerWatch,
        ledger: ResourceLedger?, onListening: ((UInt16) async -> Void)?
    ) async throws -> ExecutionResult<(PeerResultLine?, [String], String, Int32), SequenceOutput, SequenceOutput> {
        try await retryingTextFileBusy { try await Subprocess.run(
            .path(FilePath(executable)),
            arguments: Arguments(arguments),
            // Swift's crash backtracer would keep a crashed Swift peer alive while it writes a report;
            // a crash must end the peer at once, with its signal.
            environment: .inherit.updating(["SWIFT_BACKTRACE": "enable=no"]),
            platformOptions: options,
            input: .none,
            output: .sequence,
            error: .sequence
        ) { execution in
            let pid = execution.processIdentifier.value
            watch.started(pid)
            ledger?.peerStarted(processGroup: pid, executable: executable)
            watch.arm(killing: pid, at: deadline, reason: .deadline)
            let logTask = Task { await boundedText(execution.standardError, limit: logLimit) }
            var result: PeerResultLine?
            var violations: [String] = []
            do {
                reading: for try await line in execution.standardOutput.strings() where !line.isEmpty {
                    switch PeerLine(line) {
                    case .listening(let port):
                        ledger?.portListened(port)
                        if let onListening {
                            await onListening(port)
                            let graceEnd = min(deadline, ContinuousClock.now + partnerGrace)
                            watch.arm(killing: pid, at: graceEnd, reason: .partnerEnded)
                        }
                    case .result(let decoded):
                        result = decoded
                    case .usage:
                        // Only workers answer a request with a usage line.
                        violations.append(String(line.prefix(300)))
                    case .violation(let text):
                        violations.append(text)
                        if violations.count >= maximumViolations {
                            // A peer that floods stdout with garbage is stopped, not read to the end.
                            watch.stop(because: .protocolViolations)
                            break reading
                        }
                    }
                }
            } catch {
                violations.append("reading stdout: \(error)")
            }
            return (result, violations, await logTask.value, pid)
        } }
    }


    /// Reads a stream to its end, keeping the first `limit` bytes.
    /// Runs `spawn`, and again while the launch fails with ETXTBSY ("Text file busy", up to a
    /// second): the executable is still open for writing somewhere (a peer just rebuilt, or a file
    /// descriptor another thread's fork holds for the moment before its exec). The body has not
    /// run when the launch fails, so running it again is safe.
    static func retryingTextFileBusy<R>(_ spawn: () async throws -> R) async throws -> R {
        var attempt = 0
        while true {
            do {
                return try await spawn()
            } catch let error as SubprocessError where error.underlyingError?.rawValue == ETXTBSY && attempt < 40 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(25))
            }
        }
    }

    static func boundedText(_ sequence: SubprocessOutputSequence, limit: Int) async -> String {
        var kept: [UInt8] = []
        var dropped = 0
        do {
            for try await buffer in sequence {
                buffer.withUnsafeBytes { bytes in
                    let room = max(0, limit - kept.count)
                    kept.append(contentsOf: bytes.prefix(room))
                    dropped += max(0, bytes.count - room)
                }
            }
        } catch {}
        var text = String(decoding: kept, as: UTF8.self)
        if dropped > 0 { text += "\n[\(dropped) more bytes not kept]" }
        return text
    }
}

/// The timers that kill a peer's process group, and which of them fired first.
final class PeerWatch: Sendable {
    enum KillReason: Sendable { case deadline, partnerEnded, protocolViolations }

    private let timers = Mutex<[Task<Void, Never>]>([])
    private let reason = Mutex<KillReason?>(nil)

    var killReason: KillReason? { reason.withLock { $0 } }
    /// The peer's pid once it runs, and whether it was to be killed before that.
    private let process = Mutex<(pid: Int32?, killed: Bool)>((nil, false))

    func started(_ pid: Int32) {
        let killAtOnce = process.withLock { state -> Bool in
            state.pid = pid
            return state.killed
        }
        if killAtOnce { kill(-pid, SIGKILL) }
    }

    /// Kills the peer's process group now, for `why`.
    func stop(because why: KillReason) {
        reason.withLock { if $0 == nil { $0 = why } }
        killNow()
    }

    /// Kills the peer's process group now (the run was stopped), or as soon as it starts.
    func killNow() {
        let pid = process.withLock { state -> Int32? in
            state.killed = true
            return state.pid
        }
        if let pid { kill(-pid, SIGKILL) }
    }

    /// Kills process group `pid` at `instant` unless disarmed before.
    func arm(killing pid: Int32, at instant: ContinuousClock.Instant, reason why: KillReason) {
        let timer = Task {
            try? await Task.sleep(until: instant, clock: .continuous)
            guard !Task.isCancelled else { return }
            self.reason.withLock { if $0 == nil { $0 = why } }
            kill(-pid, SIGKILL)
        }
        timers.withLock { $0.append(timer) }
    }

    func disarm() { timers.withLock { $0.forEach { $0.cancel() } } }
}

/// One line a peer printed on stdout, as the runner reads it: the same for a one-cell peer and a
/// worker.
enum PeerLine {
    case listening(UInt16)
    case result(PeerResultLine)
    /// A worker refused a request (a one-cell peer's exit status 2).
    case usage(String)
    /// Anything outside the peer protocol, kept (shortened) for the report.
    case violation(String)

    init(_ text: String) {
        guard let data = text.data(using: .utf8), let head = try? JSONDecoder().decode(Head.self, from: data) else {
            self = .violation(String(text.prefix(300)))
            return
        }
        switch head.event {
        case "listening":
            guard let port = head.port, let port16 = UInt16(exactly: port), port16 > 0 else {
                self = .violation(String(text.prefix(300)))
                return
            }
            self = .listening(port16)
        case "result":
            guard let decoded = try? JSONDecoder().decode(PeerResultLine.self, from: data) else {
                self = .violation("unreadable result line: " + String(text.prefix(300)))
                return
            }
            self = .result(decoded)
        case "usage": self = .usage(head.message ?? "usage error")
        default: self = .violation(String(text.prefix(300)))
        }
    }

    private struct Head: Decodable {
        var event: String
        var port: Int?
        var message: String?
    }
}
