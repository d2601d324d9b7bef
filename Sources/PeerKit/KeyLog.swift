#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An NSS key log file (the SSLKEYLOGFILE format Wireshark reads): one line per secret,
/// `LABEL <client random hex> <secret hex>`. Owned by the peer; lines are appended as the library
/// hands secrets over, so a capture of the cell can be decrypted afterwards.
public final class KeyLog {
    private let descriptor: Int32

    public init?(path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The request's `--keylog`, opened; nil when it names none. A path that cannot be opened fails
    /// the peer at setup with the system's reason, rather than a run without the key log it asked for.
    public static func opened(for request: PeerRequest) throws(PeerFailure) -> KeyLog? {
        guard let path = request.keyLogPath else { return nil }
        guard let log = KeyLog(path: path) else {
            throw PeerFailure(stage: .setup, message: "cannot open --keylog \(path): \(String(cString: strerror(errno)))")
        }
        return log
    }

    /// Appends a complete line as a library formatted it (OpenSSL does).
    public func append(line: String) {
        let text = line + "\n"
        _ = text.withCString { Glibc.write(descriptor, $0, strlen($0)) }
    }

    /// Appends `label client_random secret` from raw bytes.
    public func append(label: String, clientRandom: UnsafeRawBufferPointer, secret: UnsafeRawBufferPointer) {
        append(line: "\(label) \(KeyLog.hex(clientRandom)) \(KeyLog.hex(secret))")
    }

    static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
