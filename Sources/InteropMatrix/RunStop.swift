import Synchronization

/// Stops a run early: at a whole-run deadline, or when the runner is interrupted (SIGINT, SIGTERM).
/// Running cells are stopped (their peers killed, process group and all) and reported as such; the
/// report is written, marked incomplete.
public final class RunStop: Sendable {
    private struct State {
        var reason: String?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Why the run was stopped, once it has been.
    public var reason: String? { state.withLock { $0.reason } }

    public func stop(because reason: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.reason == nil else { return [] }
            state.reason = reason
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once the run is stopped (at once if it already is), or when the waiting task is
    /// cancelled (the run ended by itself).
    public func wait() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.reason != nil || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
