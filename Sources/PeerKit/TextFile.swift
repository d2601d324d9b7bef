#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file's text read to its end with `read(2)`, as UTF-8. Not Foundation's
/// `String(contentsOfFile:)` (which PeerKit does not link): for a `/proc` file, which the kernel
/// reports as empty (`st_size` 0) and writes a page at a time, that stops after the first 4 KiB
/// (`/proc/net/tcp` with a few dozen sockets, or `/proc/cpuinfo`, came back cut).
public enum TextFile {
    /// The text, or nil when the file cannot be read or holds more than `limit` bytes.
    public static func text(at path: String, limit: Int? = nil) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            bytes += chunk[..<n]
            if let limit, bytes.count > limit { return nil }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
