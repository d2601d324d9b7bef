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
            var capabilities = Engine.capabilities()
            // Every peer built on this driver can run as a worker.
            capabilities.features.append("worker")
            PeerProtocol.emit(capabilities.json(library: Engine.library))
            exit(PeerProtocol.ExitCode.success.rawValue)
        }
        if arguments.first == "worker" {
            worker(engine)
        }
        if arguments.first == "--help" || arguments.isEmpty {
            PeerProtocol.log("usage: \(Engine.library.id == "" ? "peer" : "peer-\(Engine.library.id)") capabilities | worker | server|client [options]; see Sources/PeerKit/PEER-PROTOCOL.md")
            exit(arguments.isEmpty ? PeerProtocol.ExitCode.usage.rawValue : 0)
        }
        let request: PeerRequest
        do {
            request = try PeerRequest(arguments: arguments)
        } catch {
            PeerProtocol.log("peer-\(Engine.library.id): \(error.message)")
            exit(PeerProtocol.ExitCode.usage.rawValue)
        }
        let outcome = run(engine, request, output: PeerOutput(mode: .process))
        exit(outcome.exitCode.rawValue)
    }

    /// `peer-<id> worker`: one cell per request line on stdin (a JSON array of the arguments a
    /// one-cell peer would get), each on a fresh engine, its lines on stdout as a one-cell peer
    /// prints them; a line the protocol rejects gets a `usage` line. Ends at end of input.
    static func worker<Engine: TLSEngine>(_ engine: Engine.Type) -> Never {
        ParentWatch.exitWithParent()
        while let line = readLine(strippingNewline: true) {
            guard !line.isEmpty else { continue }
            guard let arguments = JSON.parseStringArray(line) else {
                PeerProtocol.emit(.object([("event", .string("usage")), ("message", .string("a request must be a JSON array of strings"))]))
                continue
            }
            do {
                let request = try PeerRequest(arguments: arguments)
                _ = run(engine, request, output: PeerOutput(mode: .worker))
            } catch {
                PeerProtocol.emit(.object([("event", .string("usage")), ("message", .string("peer-\(Engine.library.id): \(error.message)"))]))
            }
        }
        exit(PeerProtocol.ExitCode.success.rawValue)
    }

    /// One cell's session, on a fresh engine, from request to result line.
    @discardableResult
    public static func run<Engine: TLSEngine>(_ engine: Engine.Type, _ request: PeerRequest, output: PeerOutput) -> PeerOutcome {
        let session = PeerSession<Engine>(request: request, output: output)
        let outcome = session.run()
        switch outcome.status {
        case .ok: output.log("done: handshake, echo and close_notify both ways")
        case .unsupported: output.log("unsupported: \(outcome.unsupportedReason ?? "")")
        case .failed:
            if let failure = outcome.failure {
                output.log("failed at \(failure.stage.rawValue): \(failure.error.message)" + (failure.error.alert.map { " (alert \($0.name) \($0.direction.rawValue))" } ?? ""))
            }
        }
        output.finish(outcome.json(role: request.role, library: Engine.library))
        return outcome
    }
}

/// What a peer ends with: the views it read back, or why it failed, or why it would not try.
public struct PeerOutcome {
    public enum Status: String { case ok, failed, unsupported }
    public var status: Status
    /// The last connection's view; `views` has every connection's when there were several.
    var view: NegotiatedView?
    var views: [NegotiatedView] = []
    var exchange: Exchange?
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
            ("views", views.count > 1 ? .array(views.map(\.json)) : .null),
            ("exchange", exchange?.json ?? .null),
            ("error", failure?.json ?? .null),
            ("handshake_ms", handshakeMilliseconds.map(JSON.double) ?? .null),
        ])
    }
}

/// The application data of the last connection, as this side counted it: bytes and FNV-1a digests
/// each way, and the KeyUpdate messages its library saw.
struct Exchange {
    var bytesSent = 0
    var bytesReceived = 0
    var digestSent = Digest()
    var digestReceived = Digest()
    var keyUpdates: KeyUpdateCount?

    var json: JSON {
        .object([
            ("bytes_sent", .int(bytesSent)),
            ("bytes_received", .int(bytesReceived)),
            ("digest_sent", .string(digestSent.text)),
            ("digest_received", .string(digestReceived.text)),
            ("key_updates_sent", .optional(keyUpdates?.sent)),
            ("key_updates_received", .optional(keyUpdates?.received)),
        ])
    }
}

/// FNV-1a, 64 bits: a checksum of a byte stream, the same in any language.
struct Digest {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var v = value
        for byte in bytes { v = (v ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        value = v
    }

    var text: String {
        let hex = String(value, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The bytes a `--transfer` client sends: byte i is the top byte of i times the 64-bit golden
/// ratio, so both sides can check any stretch of the stream without keeping it.
public enum TransferPattern {
    public static func byte(at offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (UInt64(offset) &* 0x9E37_79B9_7F4A_7C15) >> 56)
    }

    /// The offset of the first byte that differs from the pattern, if any.
    static func firstMismatch(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        for (i, value) in bytes.enumerated() where value != byte(at: offset + i) { return offset + i }
        return nil
    }
}

/// One peer's connections, server or client side, from socket to close_notify.
final class PeerSession<Engine: TLSEngine> {
    let request: PeerRequest
    let deadline: Deadline
    let output: PeerOutput
    private var views: [NegotiatedView] = []
    private var exchange = Exchange()
    private var handshakeMilliseconds: Double?
    /// The connection, kept so a failed peer can close it gracefully.
    private var socket: TCPSocket?
    /// How far the current connection got; it decides what a failed peer may still send before it
    /// closes: user_canceled during the handshake, close_notify after it, nothing once sent.
    private enum Phase { case unattached, handshaking, established, closeNotifySent }
    private var phase = Phase.unattached

    init(request: PeerRequest, output: PeerOutput) {
        self.request = request
        self.output = output
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
            return outcome(.ok, engine)
        } catch {
            switch (phase, error.stage) {
            case (.established, .data), (.established, .timeout):
                if let socket { endAfterFailure(engine, socket, sending: "close_notify") { engine.closeAfterFailure() } }
            case (.handshaking, .timeout):
                if let socket { endAfterFailure(engine, socket, sending: "user_canceled") { engine.cancelHandshake() } }
            default:
                break
            }
            // Like a real server's lingering close: let the alert reach the other side before the
            // kernel answers its in-flight data with a reset.
            socket?.lingeringClose(until: Deadline(millisecondsFromNow: min(250, Int(deadline.remainingMilliseconds))))
            var result = outcome(.failed, engine)
            result.failure = error
            return result
        }
    }

    /// Best effort, after a data-stage failure or a deadline: the close_notify (handshake done) or
    /// user_canceled (handshake under way) the library still lets this side send (RFC 8446 §6.1:
    /// "Each party MUST send a \"close_notify\" alert before closing its write side of the
    /// connection"). Never waits past the peer's own deadline, nor more than 250 ms; a deadline
    /// that has passed leaves one attempt that does not wait at all.
    private func endAfterFailure(_ engine: Engine, _ socket: TCPSocket, sending alert: String, _ step: () -> AsyncOperationResult<Void>) {
        let budget = Deadline(millisecondsFromNow: min(250, Int(deadline.remainingMilliseconds)))
        for _ in 0..<16 {
            switch step() {
            case .complete:
                output.log("\(alert) sent after the failure")
                return
            case .failed(let error):
                output.log("no \(alert) after the failure: \(error.message)")
                return
            case .wantRead:
                // Ours is out; the other side's close_notify is not awaited after a failure.
                return
            case .wantWrite:
                guard (try? socket.wait(for: .writable, until: budget)) == true else {
                    output.log("no \(alert) after the failure: the socket stayed full")
                    return
                }
            }
        }
    }

    private func outcome(_ status: PeerOutcome.Status, _ engine: Engine) -> PeerOutcome {
        var result = PeerOutcome(status: status, view: views.last, views: views, handshakeMilliseconds: handshakeMilliseconds)
        if !views.isEmpty {
            exchange.keyUpdates = engine.keyUpdates()
            result.exchange = exchange
        }
        return result
    }

    private func serve(_ engine: Engine) throws(PeerFailure) {
        let listener = try TCPListener()
        output.listening(port: listener.port)
        output.log("\(Engine.library.id) \(Engine.library.version) server listening on 127.0.0.1:\(listener.port)")
        for _ in 0..<request.connections {
            let socket = try listener.accept(until: deadline)
            self.socket = socket
            exchange = Exchange()
            phase = .unattached
            try engine.attach(socket: socket.descriptor)
            phase = .handshaking
            try handshake(engine, socket)
            if let total = request.transferBytes {
                try echoTransfer(engine, socket, total: total)
            } else {
                let line = try readLine(engine, socket)
                if !PeerFaults.withholdEcho {
                    let suffix = PeerFaults.lookAlikeEcho ? "\u{A0}pong" : PeerRequest.echoSuffix
                    try writeAll(engine, socket, line + Array((suffix + "\n").utf8))
                }
            }
            // The client closes first; answer its close_notify with ours.
            try awaitCloseNotify(engine, socket)
            try sendCloseNotify(engine, socket)
            // Closed now, not when the next connection arrives: the client (or a proxy) waits for the end.
            self.socket = nil
        }
    }

    private func connect(_ engine: Engine) throws(PeerFailure) {
        for index in 0..<request.connections {
            let socket = try TCPSocket.connect(port: request.port!, until: deadline)
            self.socket = socket
            exchange = Exchange()
            output.log("\(Engine.library.id) \(Engine.library.version) client connected to 127.0.0.1:\(request.port!)")
            phase = .unattached
            try engine.attach(socket: socket.descriptor)
            phase = .handshaking
            try handshake(engine, socket)
            if request.keyUpdate {
                try drive(.data, socket) { engine.requestKeyUpdate() }
                output.log("KeyUpdate sent, update_requested")
            }
            if let total = request.transferBytes {
                try sendTransfer(engine, socket, total: total)
            } else {
                try writeAll(engine, socket, Array((request.message + "\n").utf8))
                let echoed = try readLine(engine, socket)
                if let mismatch = EchoCheck.mismatch(expected: Array((request.message + PeerRequest.echoSuffix).utf8), received: echoed) {
                    throw PeerFailure(stage: .data, message: mismatch)
                }
            }
            if index + 1 < request.connections {
                try engine.keepSessionForResumption()
            }
            if request.truncate {
                // Ends without close_notify, on purpose: the socket closes when it goes away.
                output.log("closing without close_notify, as asked")
                self.socket = nil
                continue
            }
            try sendCloseNotify(engine, socket)
            try awaitCloseNotify(engine, socket)
            self.socket = nil
        }
    }

    private func sendCloseNotify(_ engine: Engine, _ socket: TCPSocket) throws(PeerFailure) {
        try drive(.shutdown, socket) { engine.closeNotify() }
        phase = .closeNotifySent
    }

    private func handshake(_ engine: Engine, _ socket: TCPSocket) throws(PeerFailure) {
        let start = Deadline.now()
        try drive(.handshake, socket) { engine.handshake() }
        phase = .established
        handshakeMilliseconds = millisecondsSince(start)
        let negotiated = engine.negotiated()
        views.append(negotiated)
        output.log("handshake done: \(negotiated.version?.rawValue ?? "?") \(negotiated.suiteName ?? negotiated.librarySuiteName ?? "?") group \(negotiated.group ?? "-") peer \(negotiated.peerCertificate ?? "-")\(negotiated.resumed ? " (resumed)" : "")")
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
            bytes.withUnsafeBytes { exchange.digestSent.add(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + written])) }
            exchange.bytesSent += written
            offset += written
        }
    }

    /// Reads up to and excluding the first newline; the bytes as they came, so a check sees them all.
    private func readLine(_ engine: Engine, _ socket: TCPSocket) throws(PeerFailure) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = try drive(.data, socket) { chunk.withUnsafeMutableBytes { engine.read(into: $0) } }
            if count == 0 {
                throw PeerFailure(stage: .data, message: "peer sent close_notify before a full line (\(received.count) bytes)")
            }
            chunk.withUnsafeBytes { exchange.digestReceived.add(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            exchange.bytesReceived += count
            received += chunk[..<count]
            if let newline = received.firstIndex(of: 10) {
                return Array(received[..<newline])
            }
            if received.count > 65_536 { throw PeerFailure(stage: .data, message: "no newline in 64 KiB of data") }
        }
    }

    /// How much of a transfer is written per call: a little more than one TLS record.
    private static var transferChunk: Int { 16_384 }

    /// Client side of `--transfer`: writes the pattern and reads the echo at the same time, since the
    /// server echoes while it reads and neither side's buffers hold megabytes. Each direction's
    /// want-read / want-write is kept, and the loop polls for their union only when neither moved.
    private func sendTransfer(_ engine: Engine, _ socket: TCPSocket, total: Int) throws(PeerFailure) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Self.transferChunk)
        while exchange.bytesSent < total || exchange.bytesReceived < total {
            var moved = false
            var waits: Set<PollWish> = []
            if exchange.bytesSent < total {
                if pending.isEmpty {
                    let end = min(total, exchange.bytesSent + Self.transferChunk)
                    pending = (exchange.bytesSent..<end).map(TransferPattern.byte(at:))
                }
                let n = try writeTransfer(engine, &pending, &waits)
                moved = moved || n > 0
            }
            if exchange.bytesReceived < total {
                let n = try readTransfer(engine, into: &chunk, &waits)
                moved = moved || n > 0
            }
            if !moved { try wait(socket, waits) }
        }
        output.log("transfer done: \(total) bytes each way, \(exchange.digestReceived.text)")
    }

    /// Server side of `--transfer`: reads the pattern, checks it, and writes back what it read.
    private func echoTransfer(_ engine: Engine, _ socket: TCPSocket, total: Int) throws(PeerFailure) {
        var received: [UInt8] = []
        var head = 0
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Self.transferChunk)
        while exchange.bytesSent < total {
            var moved = false
            var waits: Set<PollWish> = []
            // Read only while less than a megabyte waits to be echoed, so memory stays bounded.
            if exchange.bytesReceived < total && received.count - head < 1 << 20 {
                let n = try readTransfer(engine, into: &chunk, &waits)
                received += chunk[..<n]
                moved = n > 0
            }
            if pending.isEmpty && head < received.count {
                let end = min(received.count, head + Self.transferChunk)
                pending = Array(received[head..<end])
                if PeerFaults.corruptTransfer, (head..<end).contains(1 << 20) { pending[(1 << 20) - head] ^= 0x01 }
                head = end
                if head > 1 << 20 { received.removeFirst(head); head = 0 }
            }
            if !pending.isEmpty {
                let n = try writeTransfer(engine, &pending, &waits)
                moved = moved || n > 0
            }
            if !moved { try wait(socket, waits) }
        }
        output.log("transfer done: \(total) bytes each way, \(exchange.digestReceived.text)")
    }

    /// One write of a transfer's pending bytes; what was written leaves `pending`. After a want-read
    /// or want-write the same bytes are offered again next time, as the libraries require.
    private func writeTransfer(_ engine: Engine, _ pending: inout [UInt8], _ waits: inout Set<PollWish>) throws(PeerFailure) -> Int {
        switch pending.withUnsafeBytes({ engine.write($0) }) {
        case .complete(let n):
            pending.withUnsafeBytes { exchange.digestSent.add(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            pending.removeFirst(n)
            exchange.bytesSent += n
            return n
        case .wantRead: waits.insert(.read); return 0
        case .wantWrite: waits.insert(.write); return 0
        case .failed(let error): throw PeerFailure(stage: .data, error: error)
        }
    }

    /// One read of a transfer; checks the bytes against the pattern. Returns how many came.
    private func readTransfer(_ engine: Engine, into chunk: inout [UInt8], _ waits: inout Set<PollWish>) throws(PeerFailure) -> Int {
        switch chunk.withUnsafeMutableBytes({ engine.read(into: $0) }) {
        case .complete(0):
            throw PeerFailure(stage: .data, message: "peer sent close_notify after \(exchange.bytesReceived) of \(request.transferBytes ?? 0) bytes")
        case .complete(let n):
            let mismatch = chunk.withUnsafeBytes { bytes -> Int? in
                let slice = UnsafeRawBufferPointer(rebasing: bytes[..<n])
                exchange.digestReceived.add(slice)
                return TransferPattern.firstMismatch(slice, at: exchange.bytesReceived)
            }
            if let mismatch {
                let got = chunk[mismatch - exchange.bytesReceived]
                let sent = TransferPattern.byte(at: mismatch)
                throw PeerFailure(stage: .data, message: "byte \(mismatch) of the transfer is 0x\(String(got, radix: 16, uppercase: true)), not 0x\(String(sent, radix: 16, uppercase: true)) as the pattern has it")
            }
            exchange.bytesReceived += n
            return n
        case .wantRead: waits.insert(.read); return 0
        case .wantWrite: waits.insert(.write); return 0
        case .failed(let error): throw PeerFailure(stage: .data, error: error)
        }
    }

    private enum PollWish { case read, write }

    private func wait(_ socket: TCPSocket, _ waits: Set<PollWish>) throws(PeerFailure) {
        let events: PollEvents = waits.count == 2 ? .readableOrWritable : waits.contains(.write) ? .writable : .readable
        guard try socket.wait(for: events, until: deadline) else {
            throw timeout(.data, waiting: "with \(exchange.bytesSent) bytes sent and \(exchange.bytesReceived) received")
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
