import Foundation

/// A file of `/proc`, read to its end. The kernel reports these files as empty (`st_size` 0) and
/// writes them a page at a time, and Foundation's `String(contentsOfFile:)` stops after the first
/// 4 KiB of such a file: `/proc/net/tcp` with a few dozen sockets, or `/proc/cpuinfo`, came back cut.
enum ProcFile {
    static func text(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var contents = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            contents.append(contentsOf: chunk[..<count])
        }
        return String(decoding: contents, as: UTF8.self)
    }
}
