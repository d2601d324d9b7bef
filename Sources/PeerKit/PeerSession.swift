#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one peer process from its command line to its exit code: the same driver for every library.
/// The engine does the TLS; this owns the sockets, the poll loop, the deadline and the output.
public enum Peer {
    /// The whole life of a peer process. Never returns.
    public static func main<Engine: TLSEngine>(_ engine: Engine.Type, arguments: [String]) -> Never {
        // A write to a socket the other side has closed must come back as EPIPE, not kill the peer.
        signal(SIGPIPE, SIG_IGN)
        if arguments.first == "capabilities" {
            PeerProtocol.emit(Engine.capabilities().json(library: Engine.library))
            exit(PeerProtocol.ExitCode.success.rawValue)
        }
        if arguments.first == "--help" || arguments.isEmpty {
            PeerProtocol.log("usage: \(Engine.library.id == "" ? "peer" : "peer-\(Engine.library.id)") capabilities | server|client [options]; see docs/peer-protocol.md")
            exit(arguments.isEmpty ? PeerProtocol.ExitCode.usage.rawValue : 0)
        }
        let request: PeerRequest
        do {
            request = try PeerRequest(arguments: arguments)
        } catch {
            PeerProtocol.log("peer-\(Engine.library.id): \(error.message)")
            exit(PeerProtocol.ExitCode.usage.rawValue)
        }
        let session = PeerSession<Engine>(request: request)
        let outcome = session.run()
        switch outcome.status {
        case .ok: PeerProtocol.log("done: handshake, echo and close_notify both ways")
        case .unsupported: PeerProtocol.log("unsupported: \(outcome.unsupportedReason ?? "")")
        case .failed:
            if let failure = outcome.failure {
                PeerProtocol.log("failed at \(failure.stage.rawValue): \(failure.error.message)" + (failure.error.alert.map { " (alert \($0.name) \($0.direction.rawValue))" } ?? ""))
            }
        }
        PeerProtocol.emit(outcome.json(role: request.role, library: Engine.library))
        exit(outcome.exitCode.rawValue)
    }
}

/// What a peer ends with: the views it read back, or why it failed, or why it would not try.
struct PeerOutcome {
    enum Status: String { case ok, failed, unsupported }
    var status: Status
    var view: NegotiatedView?
    var failure: PeerFailure?
    var unsupportedReason: String?
    var handshakeMilliseconds: Double?

    var exitCode: PeerProtocol.ExitCode {
        switch status {
        case .ok: .success
        case .failed: .failed
        case .unsupported: .unsupported
        }
    }

    func json(role: Role, library: LibraryIdentity) -> JSON {
        .object([
            ("event", .string("result")),
            ("role", .string(role.rawValue)),
            ("library", library.json),
            ("status", .string(status.rawValue)),
            ("reason", .optional(unsupportedReason)),
            ("view", view?.json ?? .null),
            ("error", failure?.json ?? .null),
            ("handshake_ms", handshakeMilliseconds.map(JSON.double) ?? .null),
        ])
    }
}

/// One connection, server or client side, from socket to close_notify.
final class PeerSession<Engine: TLSEngine> {
    let request: PeerRequest
    let deadline: Deadline
    private var view: NegotiatedView?
    private var handshakeMilliseconds: Double?
    /// The connection, kept so a failed peer can close it gracefully.
    private var socket: TCPSocket?

    init(request: PeerRequest) {
        self.request = request
        self.deadline = Deadline(millisecondsFromNow: request.timeoutMilliseconds)
    }

    func run() -> PeerOutcome {
        let engine: Engine
        do {
            engine = try Engine(request: request)
        } catch let unsupported as Unsupported {
            return PeerOutcome(status: .unsupported, unsupportedReason: unsupported.reason)
        } catch let failure as PeerFailure {
            return PeerOutcome(status: .failed, failure: failure)
        } catch {
            return PeerOutcome(status: .failed, failure: PeerFailure(stage: .setup, message: "\(error)"))
        }
        do {
            switch request.role {
            case .server: try serve(engine)
            case .client: try connect(engine)
            }
            return PeerOutcome(status: .ok, view: view, handshakeMilliseconds: handshakeMilliseconds)
        } catch {
            // Like a real server's lingering close: let the alert reach the other side before the
            // kernel answers its in-flight data with a reset.
            socket?.lingeringClose(until: Deadline(millisecondsFromNow: min(250, Int(deadline.remainingMilliseconds))))
            return PeerOutcome(status: .failed, view: view, failure: error, handshakeMilliseconds: handshakeMilliseconds)
        }
    }

    private func serve(_ engine: Engine) throws(PeerFailure) {
        let listener = try TCPListener()
        PeerProtocol.emit(.object([("event", .string("listening")), ("port", .int(Int(listener.port)))]))
        PeerProtocol.log("\(Engine.library.id) \(Engine.library.version) server listening on 127.0.0.1:\(listener.port)")
        let socket = try listener.accept(until: deadline)
        self.socket = socket
        try engine.attach(socket: socket.descriptor)
        try handshake(engine, socket)
        let line = try readLine(engine, socket)
        try writeAll(engine, socket, Array((line + PeerRequest.echoSuffix + "\n").utf8))
        // The client closes first; answer its close_notify with ours.
        try awaitCloseNotify(engine, socket)
        try drive(.shutdown, socket) { engine.closeNotify() }
    }

    private func connect(_ engine: Engine) throws(PeerFailure) {
        let socket = try TCPSocket.connect(port: request.port!, until: deadline)
        self.socket = socket
        PeerProtocol.log("\(Engine.library.id) \(Engine.library.version) client connected to 127.0.0.1:\(request.port!)")
        try engine.attach(socket: socket.descriptor)
        try handshake(engine, socket)
        try writeAll(engine, socket, Array((request.message + "\n").utf8))
        let echoed = try readLine(engine, socket)
        let expected = request.message + PeerRequest.echoSuffix
        guard echoed == expected else {
            throw PeerFailure(stage: .data, message: "echo mismatch: sent \"\(request.message)\", got back \"\(echoed.prefix(200))\"")
        }
        if request.truncate {
            // Ends without close_notify, on purpose: the socket closes when it goes away.
            PeerProtocol.log("closing without close_notify, as asked")
            return
        }
        try drive(.shutdown, socket) { engine.closeNotify() }
        try awaitCloseNotify(engine, socket)
    }

    private func handshake(_ engine: Engine, _ socket: TCPSocket) throws(PeerFailure) {
        let start = Deadline.now()
        try drive(.handshake, socket) { engine.handshake() }
        handshakeMilliseconds = millisecondsSince(start)
        let negotiated = engine.negotiated()
        view = negotiated
        PeerProtocol.log("handshake done: \(negotiated.version?.rawValue ?? "?") \(negotiated.suiteName ?? negotiated.librarySuiteName ?? "?") group \(negotiated.group ?? "-") peer \(negotiated.peerCertificate ?? "-")")
    }

    /// Repeats a non-blocking step, polling the socket in the direction the library asks for,
    /// until it completes, fails or the deadline passes.
    private func drive<T>(_ stage: FailureStage, _ socket: TCPSocket, _ step: () -> AsyncOperationResult<T>) throws(PeerFailure) -> T {
        while true {
            switch step() {
            case .complete(let value):
                return value
            case .wantRead:
                guard try socket.wait(for: .readable, until: deadline) else { throw timeout(stage, waiting: "to read") }
            case .wantWrite:
                guard try socket.wait(for: .writable, until: deadline) else { throw timeout(stage, waiting: "to write") }
            case .failed(let error):
                throw PeerFailure(stage: error.isVerification ? .verify : stage, error: error)
            }
        }
    }

    private func timeout(_ stage: FailureStage, waiting direction: String) -> PeerFailure {
        PeerFailure(stage: .timeout, code: "ETIMEDOUT",
                    message: "\(stage.rawValue) did not finish within \(request.timeoutMilliseconds) ms (waiting \(direction))")
    }

    private func writeAll(_ engine: Engine, _ socket: TCPSocket, _ bytes: [UInt8]) throws(PeerFailure) {
        var offset = 0
        while offset < bytes.count {
            let written = try drive(.data, socket) {
                bytes.withUnsafeBytes { engine.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            }
            offset += written
        }
    }

    /// Reads up to and excluding the first newline.
    private func readLine(_ engine: Engine, _ socket: TCPSocket) throws(PeerFailure) -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = try drive(.data, socket) { chunk.withUnsafeMutableBytes { engine.read(into: $0) } }
            if count == 0 {
                throw PeerFailure(stage: .data, message: "peer sent close_notify before a full line (\(received.count) bytes)")
            }
            received += chunk[..<count]
            if let newline = received.firstIndex(of: 10) {
                return String(decoding: received[..<newline], as: UTF8.self)
            }
            if received.count > 65_536 { throw PeerFailure(stage: .data, message: "no newline in 64 KiB of data") }
        }
    }

    /// Reads until the peer's close_notify; data or a bare TCP close instead is a shutdown failure.
    private func awaitCloseNotify(_ engine: Engine, _ socket: TCPSocket) throws(PeerFailure) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = try drive(.shutdown, socket) { chunk.withUnsafeMutableBytes { engine.read(into: $0) } }
        if count != 0 {
            throw PeerFailure(stage: .shutdown, message: "expected close_notify, got \(count) more bytes of data")
        }
    }
}
