#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Names for the errno values a socket peer meets, so a report says `ECONNREFUSED`, not `111`.
enum ErrnoName {
    static func name(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: "ECONNREFUSED"
        case ECONNRESET: "ECONNRESET"
        case ETIMEDOUT: "ETIMEDOUT"
        case EHOSTUNREACH: "EHOSTUNREACH"
        case ENETUNREACH: "ENETUNREACH"
        case EADDRINUSE: "EADDRINUSE"
        case EADDRNOTAVAIL: "EADDRNOTAVAIL"
        case EPIPE: "EPIPE"
        case EAGAIN: "EAGAIN"
        case EINPROGRESS: "EINPROGRESS"
        case EINTR: "EINTR"
        case EBADF: "EBADF"
        case EMFILE: "EMFILE"
        case ENOENT: "ENOENT"
        case EACCES: "EACCES"
        default: "errno \(code)"
        }
    }

    static func describe(_ code: Int32) -> String {
        "\(name(code)) (\(String(cString: strerror(code))))"
    }
}
