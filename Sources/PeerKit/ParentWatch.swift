internal import CShimLinux
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
        _ = CShimLinux_prctl_set_pdeathsig(SIGKILL)
        if getppid() != parent { _exit(PeerProtocol.ExitCode.success.rawValue) }
        #endif
    }
}
