#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The constants of the peer protocol (docs/peer-protocol.md).
public enum PeerProtocol {
    /// Bumped when a peer's arguments or output change incompatibly.
    public static let version = 1

    /// Exit codes. Anything else, or death by a signal, is a crash.
    public enum ExitCode: Int32 {
        /// The connection did everything asked: handshake, echo, close_notify both ways.
        case success = 0
        /// The connection failed; the result line says at which stage and why.
        case failed = 1
        /// The command line was wrong; one line on stderr says what.
        case usage = 2
        /// The library cannot do what was asked; decided before any socket was opened.
        case unsupported = 3
    }

    /// Writes one JSON line to stdout and flushes it, so the runner sees it at once.
    static func emit(_ value: JSON) {
        let line = value.serialized + "\n"
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
        bytes.removeAll()
    }

    /// Writes one line of human-readable log to stderr (kept by the runner as the peer's log).
    public static func log(_ text: String) {
        let line = text + "\n"
        _ = line.withCString { Glibc.write(STDERR_FILENO, $0, strlen($0)) }
    }
}

/// Where one session's protocol lines and log go: stdout and stderr for a one-cell peer; for a worker,
/// stdout with the log carried in the result line (so each cell keeps its own); for an in-process
/// run (the benchmark's floor), a callback for the port and nothing printed.
public final class PeerOutput {
    public enum Mode { case process, worker, collect }
    let mode: Mode
    /// The collecting mode's listening callback.
    var onListening: ((UInt16) -> Void)?
    private(set) var logLines: [String] = []

    public init(mode: Mode, onListening: ((UInt16) -> Void)? = nil) {
        self.mode = mode
        self.onListening = onListening
    }

    func listening(port: UInt16) {
        switch mode {
        case .process, .worker: PeerProtocol.emit(.object([("event", .string("listening")), ("port", .int(Int(port)))]))
        case .collect: onListening?(port)
        }
    }

    func finish(_ resultLine: JSON) {
        switch mode {
        case .process: PeerProtocol.emit(resultLine)
        case .worker:
            guard case .object(var members) = resultLine else { return PeerProtocol.emit(resultLine) }
            members.append(("log", .string(logLines.joined(separator: "\n"))))
            PeerProtocol.emit(.object(members))
        case .collect: break // the caller has the outcome `Peer.run` returns
        }
    }

    func log(_ text: String) {
        switch mode {
        case .process: PeerProtocol.log(text)
        case .worker, .collect:
            // A cell's log is bounded like a process's stderr tail.
            if logLines.count < 200 { logLines.append(String(text.prefix(2000))) }
        }
    }
}
