import Synchronization

/// Stops a run early: at a whole-run deadline, or when the runner is interrupted (SIGINT, SIGTERM).
/// Running cells are stopped (their peers killed, process group and all) and reported as such; the
/// report is written, marked incomplete.
public final class RunStop: Sendable {
    private struct State {
        var reason: String?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Why the run was stopped, once it has been.
    public var reason: String? { state.withLock { $0.reason } }

    public func stop(because reason: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.reason == nil else { return [] }
            state.reason = reason
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once the run is stopped (at once if it already is).
    public func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.reason != nil { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
