#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Ends a worker the moment the runner that started it dies, even by SIGKILL, so no peer is left
/// listening with nobody to talk to. (End of input on stdin would say so too, but a worker busy
/// with a cell, or a hung library, may not read stdin for seconds.)
public enum ParentWatch {
    /// The environment variable in which the runner may pass its own pid, so a worker knows its
    /// parent even if that parent died before the worker could ask.
    public static let parentVariable = "INTEROP_MATRIX_PARENT_PID"

    /// Linux: the kernel sends SIGKILL when the parent dies (prctl(2) `PR_SET_PDEATHSIG`). The
    /// signal follows the parent *thread* that forked us; the runner spawns from swift-subprocess's
    /// single spawning thread, which lives as long as the runner. If the parent died before the call
    /// (the race prctl(2) describes), we have been reparented and getppid() no longer names the
    /// parent we were started by: exit now.
    public static func exitWithParent() {
        #if os(Linux)
        let named = getenv(parentVariable).flatMap { Int32(String(cString: $0)) }
        let parent = named ?? getppid()
        // prctl is variadic, which Swift does not import; its four further arguments are unsigned
        // longs, passed as a non-variadic call passes them on the ABIs Linux runs Swift on.
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        let setDeathSignal: Int32 = 1  // PR_SET_PDEATHSIG, <linux/prctl.h>
        if let symbol = dlsym(nil, "prctl") {
            _ = unsafeBitCast(symbol, to: Prctl.self)(setDeathSignal, UInt(SIGKILL), 0, 0, 0)
        }
        if getppid() != parent { _exit(PeerProtocol.ExitCode.success.rawValue) }
        #endif
    }
}
