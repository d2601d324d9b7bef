#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the monotonic clock by which an operation must be done.
public struct Deadline: Sendable {
    public let nanoseconds: UInt64

    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public init(millisecondsFromNow ms: Int) {
        nanoseconds = Deadline.now() + UInt64(max(0, ms)) * 1_000_000
    }

    /// Whole milliseconds left, rounded up so that poll() never spins at 0 just before the end.
    public var remainingMilliseconds: Int32 {
        let now = Deadline.now()
        guard nanoseconds > now else { return 0 }
        return Int32(min(UInt64(Int32.max), (nanoseconds - now + 999_999) / 1_000_000))
    }

    public var hasPassed: Bool { Deadline.now() >= nanoseconds }
}

/// Milliseconds elapsed since a monotonic start.
public func millisecondsSince(_ start: UInt64) -> Double {
    Double(Deadline.now() &- start) / 1_000_000
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    /// The duration in whole milliseconds.
    public var inMilliseconds: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}
