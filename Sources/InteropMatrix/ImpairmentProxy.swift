import Foundation
import PeerKit

/// What the network between client and server does to a cell's bytes (`params.network`).
public enum Impairment: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Direct connection, no proxy.
    case none
    /// Every byte forwarded in its own TCP segment (TCP_NODELAY, one write per byte), so every
    /// record and handshake message arrives in pieces.
    case segment1
    /// Each chunk held 50 ms, in each direction.
    case delay50ms
    /// The client's first flight cut at awkward offsets (inside the record header, right after it,
    /// inside the handshake header, inside the extensions and a large key share), each piece sent
    /// 10 ms after the last, so the server's reads end there: a ClientHello must be reassembled
    /// across reads and records.
    case splitFirstFlight
    /// The server's first flight is held until the client gives up, and from then on whatever the client sends.
    case stall
    /// Both connections closed once this many bytes have been forwarded.
    case truncate(after: Int)
    /// Both connections reset (SO_LINGER 0) when the server's first flight arrives.
    case reset
    /// One byte flipped in the client's first application-data record after the handshake.
    case corrupt

    public init?(_ text: String) {
        switch text {
        case "none": self = .none
        case "segment-1": self = .segment1
        case "delay-50ms": self = .delay50ms
        case "split-first-flight": self = .splitFirstFlight
        case "stall": self = .stall
        case "reset": self = .reset
        case "corrupt": self = .corrupt
        default:
            guard text.hasPrefix("truncate-after-"), let n = Int(text.dropFirst("truncate-after-".count)), n >= 0, n < 1 << 30 else { return nil }
            self = .truncate(after: n)
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .segment1: "segment-1"
        case .delay50ms: "delay-50ms"
        case .splitFirstFlight: "split-first-flight"
        case .stall: "stall"
        case .truncate(let n): "truncate-after-\(n)"
        case .reset: "reset"
        case .corrupt: "corrupt"
        }
    }

    public static let names = ["none", "segment-1", "delay-50ms", "split-first-flight", "stall", "truncate-after-N", "reset", "corrupt"]

    /// A stalled network can only end in the peers' own timeouts: cells over it get this much at
    /// most. The peers give up at `peerTimeoutLimit(for:)`, so this bound costs nothing when they
    /// do; it is three times the server's so a machine loaded by other work still sees the peers'
    /// own timeouts, not the runner's kill (6 s was not enough once, in CI's first seconds, when
    /// every suite starts its peers at once).
    public var cellTimeoutLimit: Duration? { self == .stall ? .seconds(9) : nil }

    /// A side's own timeout over this network, when it is shorter than the usual share of the
    /// cell's, so a stalled cell takes seconds, not most of the default 10. The server's is twice
    /// the client's: its clock starts before it listens, and the proxy's connection reaches it only
    /// once the runner has read its port. With 1.5 s for both, a JSSE server on a CI machine busy
    /// with the test suite gave up waiting for that connection before it came, and the cell was
    /// the harness's error instead of two timeouts; with 3 s it happened once more, in a full test
    /// run on CI's two cores, so the server now has 5 s (more than three times the client's, and
    /// still 4 s inside the cell's limit). The client has no such race: the proxy is listening
    /// before the client starts.
    public func peerTimeoutLimit(for role: Role) -> Duration? {
        guard self == .stall else { return nil }
        return role == .server ? .milliseconds(5000) : .milliseconds(1500)
    }

    /// Cells over this network spend their time waiting on timers, not on a core, so they run
    /// beside the CPU-bound cells instead of taking one of the `--jobs` slots.
    /// Whether the network carries each side's close to the other. A stalled one carries nothing
    /// back (not even the server's close) and no close forward, so each side meets its own timeout:
    /// the proxy connects to the server as it listens and keeps that connection open until the
    /// server ends it.
    var carriesCloses: Bool { self != .stall }

    public var isMostlyWaiting: Bool { self == .stall || self == .delay50ms || self == .splitFirstFlight }

    /// Where `splitFirstFlight` cuts the client's bytes: 1 (inside the 5-byte record header), 5 (right
    /// after it), 7 (inside the handshake header), 64 (inside the random and session id), then inside
    /// the extensions and, for a post-quantum hybrid, its key share of more than a thousand bytes.
    static let firstFlightCuts = [1, 5, 7, 64, 300, 700, 1100, 1500]

    /// Whether a cell over this network must still succeed; the others must fail as `expectedFailure` says.
    public var preservesConnection: Bool { expectedFailure == nil }

    /// How each side must fail over a network that breaks connections; nil for one that must not.
    /// Each impairment has its own expectation, so a cell that fails for another reason fails.
    public var expectedFailure: NetworkFailure? {
        switch self {
        case .none, .segment1, .delay50ms, .splitFirstFlight:
            nil
        case .corrupt:
            // The client's first application record arrives with a flipped byte: the server's
            // record protection rejects it (RFC 8446 §5.2, RFC 5246 §6.2.3.3: bad_record_mac) after
            // both handshakes completed, and the client, reading the echo, meets the server's alert.
            NetworkFailure(handshakeCompletes: true, serverStage: .data, clientStage: .data, detectedBy: .server, alert: "bad_record_mac")
        case .truncate, .reset:
            // Cut or reset inside the first flights: both handshakes end early, neither side's fault.
            NetworkFailure(handshakeCompletes: false, serverStage: .handshake, clientStage: .handshake, detectedBy: nil, alert: nil)
        case .stall:
            // The server's first flight never arrives: both wait for the other, until their own timeouts.
            NetworkFailure(handshakeCompletes: false, serverStage: .timeout, clientStage: .timeout, detectedBy: nil, alert: nil)
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Impairment(text) else { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown network \(text)")) }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A TCP proxy on 127.0.0.1 between one client and one server that impairs what it forwards, one
/// connection after another (a resuming client connects twice), each impaired the same way.
/// It runs on its own thread over non-blocking sockets and poll(), and is stopped by `stop()`.
final class ImpairmentProxy: @unchecked Sendable {
    let port: UInt16
    private let impairment: Impairment
    private let upstreamPort: UInt16
    private let version: TLSVersion
    private let listener: Int32
    private let wake: (read: Int32, write: Int32)
    private let done = DispatchSemaphore(value: 0)
    private let failureLock = NSLock()
    private var firstFailure: String?

    /// What went wrong in the proxy itself (it could not reach the server, poll failed): the
    /// harness's fault, never the libraries'. Read after `stop()`.
    var failure: String? { failureLock.withLock { firstFailure } }

    private func fail(_ text: String) {
        failureLock.withLock { if firstFailure == nil { firstFailure = text } }
    }

    init(impairment: Impairment, upstreamPort: UInt16, version: TLSVersion) throws {
        self.impairment = impairment
        self.upstreamPort = upstreamPort
        self.version = version
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProxyError(message: "socket: \(String(cString: strerror(errno)))") }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard bound == 0, listen(fd, 4) == 0,
              withUnsafeMutablePointer(to: &actual, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }) == 0 else {
            close(fd)
            throw ProxyError(message: "listening on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        listener = fd
        port = UInt16(bigEndian: actual.sin_port)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(fd)
            throw ProxyError(message: "pipe: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        wake = (fds[0], fds[1])
    }

    func start(until deadline: ContinuousClock.Instant) {
        // The proxy ends at `stop()`, which follows the client's end or its kill at the cell's
        // deadline; the deadline (plus a minute) is only a backstop. Were the proxy to give up at
        // the deadline itself, a client started late on a loaded machine would see its connection
        // closed before its own timeout, and a stalled network would look like a cut one.
        let until = deadline + .seconds(60)
        let thread = Thread { [self] in
            run(until: until)
            done.signal()
        }
        thread.start()
    }

    /// Ends the proxy and waits for its thread (off the concurrency pool); every descriptor it
    /// opened is closed.
    func stop() async {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.done.wait()
                continuation.resume()
            }
        }
        close(wake.read)
        close(wake.write)
        close(listener)
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    /// One direction of the connection: bytes waiting to go out, each with the time it may leave.
    private struct Direction {
        var pending: [(due: ContinuousClock.Instant, bytes: [UInt8])] = []
        var readClosed = false
        var recordParser = RecordCounter()
        var held: [UInt8] = []
    }

    private func run(until deadline: ContinuousClock.Instant) {
        // Over a stalled network the server's connection is made at once, as the server listens:
        // it then waits out its own timeout whenever the client comes (a JVM's first cell can
        // take longer than that timeout to connect), instead of closing its listener first.
        var early = impairment.carriesCloses ? nil : connectUpstream(until: deadline)
        while let client = acceptClient(until: deadline) {
            let upstream = early
            early = nil
            guard relay(client, upstream: upstream, until: deadline) else { break }
        }
        if let early { close(early) }
    }

    /// Forwards one connection, impaired, until both sides have closed it (true: take the next one)
    /// or the proxy is stopped, the deadline passes or the impairment ends it (false).
    private func relay(_ client: Int32, upstream: Int32?, until deadline: ContinuousClock.Instant) -> Bool {
        defer { close(client) }
        guard let server = upstream ?? connectUpstream(until: deadline) else { return false }
        var serverOpen = true
        defer { if serverOpen { close(server) } }
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(server, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))

        var toServer = Direction()
        var toClient = Direction()
        var forwarded = 0
        /// Bytes the client has sent on this connection, and when the last cut piece leaves.
        var fromClientOffset = 0
        var lastPieceDue = ContinuousClock.now
        // Stopped once the client has ended: over a stalled network the server's connection stays
        // open until the server ends it, so it meets its own timeout rather than an end of stream.
        var stopping = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let clock = ContinuousClock()
        let corruptTarget = version == .tls13 ? 2 : 1

        func resetBoth() {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            setsockopt(server, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }

        while clock.now < deadline {
            // Flush what is due, one byte per write for segment-1.
            for (fd, isClient) in [(server, false), (client, true)] {
                var direction = isClient ? toClient : toServer
                while let first = direction.pending.first, first.due <= clock.now {
                    var bytes = first.bytes
                    let chunk = impairment == .segment1 ? 1 : bytes.count
                    let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, chunk, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { break }
                    bytes.removeFirst(n)
                    if bytes.isEmpty { direction.pending.removeFirst() } else { direction.pending[0].bytes = bytes }
                }
                if isClient { toClient = direction } else { toServer = direction }
            }
            // A stalled network carries no close either way: each side must meet its own timeout,
            // not an end of stream the other side's timeout caused (the client's ClientHello is
            // all that passes).
            if toServer.readClosed && toServer.pending.isEmpty && impairment.carriesCloses { shutdown(server, Int32(SHUT_WR)) }
            if toClient.readClosed && toClient.pending.isEmpty && impairment.carriesCloses { shutdown(client, Int32(SHUT_WR)) }
            if toServer.readClosed && toClient.readClosed && toServer.pending.isEmpty && toClient.pending.isEmpty { return true }

            var fds = [
                pollfd(fd: wake.read, events: stopping ? 0 : Int16(POLLIN), revents: 0),
                pollfd(fd: client, events: toServer.readClosed ? 0 : Int16(POLLIN), revents: 0),
                pollfd(fd: server, events: toClient.readClosed ? 0 : Int16(POLLIN), revents: 0),
            ]
            if !toClient.pending.isEmpty && toClient.pending[0].due <= clock.now { fds[1].events |= Int16(POLLOUT) }
            if !toServer.pending.isEmpty && toServer.pending[0].due <= clock.now { fds[2].events |= Int16(POLLOUT) }
            let nextDue = [toServer.pending.first?.due, toClient.pending.first?.due].compactMap { $0 }
            let wakeAt = ([deadline] + nextDue).min()!
            let wait = max(0, min(1000, Int32((wakeAt - clock.now).inMilliseconds)))
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 && errno != EINTR {
                fail("poll: \(String(cString: strerror(errno)))")
                return false
            }
            if fds[0].revents != 0 {
                guard !impairment.carriesCloses && !toClient.readClosed else { return false }
                stopping = true
            }
            if stopping && toClient.readClosed { return false }

            for (index, fromClient) in [(1, true), (2, false)] where fds[index].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let fd = fromClient ? client : server
                let n = recv(fd, &buffer, buffer.count, 0)
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
                    if fromClient { toServer.readClosed = true } else { toClient.readClosed = true }
                    continue
                }
                guard n > 0 else { continue }
                var bytes = Array(buffer[..<n])
                switch impairment {
                case .stall where !fromClient:
                    toClient.held += bytes
                    continue
                case .stall where !toClient.held.isEmpty:
                    // Once the server has spoken nothing crosses either way: the alert a side sends
                    // at its own timeout must not reach the other before that one's timeout (a
                    // BoringSSL client's reached a wolfSSL server first, which failed at handshake).
                    toServer.held += bytes
                    continue
                case .reset where !fromClient:
                    resetBoth()
                    close(server)
                    serverOpen = false
                    return false
                case .truncate(let limit):
                    let room = max(0, limit - forwarded)
                    if bytes.count >= room {
                        bytes = Array(bytes.prefix(room))
                        let due = clock.now
                        if fromClient { toServer.pending.append((due, bytes)) } else { toClient.pending.append((due, bytes)) }
                        forwarded = limit
                        toServer.readClosed = true
                        toClient.readClosed = true
                        continue
                    }
                    forwarded += bytes.count
                case .corrupt where fromClient:
                    toServer.recordParser.flip(in: &bytes, applicationRecord: corruptTarget)
                case .splitFirstFlight where fromClient && fromClientOffset < Impairment.firstFlightCuts.last!:
                    let start = fromClientOffset
                    fromClientOffset += bytes.count
                    var cuts = Impairment.firstFlightCuts.filter { $0 > start && $0 < start + bytes.count }.map { $0 - start }
                    cuts.append(bytes.count)
                    var from = 0
                    for cut in cuts {
                        lastPieceDue = max(lastPieceDue, clock.now) + .milliseconds(10)
                        toServer.pending.append((lastPieceDue, Array(bytes[from..<cut])))
                        from = cut
                    }
                    continue
                default:
                    break
                }
                let due = impairment == .delay50ms ? clock.now + .milliseconds(50) : clock.now
                if fromClient { toServer.pending.append((due, bytes)) } else { toClient.pending.append((due, bytes)) }
            }
        }
        return false
    }

    private func acceptClient(until deadline: ContinuousClock.Instant) -> Int32? {
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
        while ContinuousClock.now < deadline {
            let ready = poll(&fds, 2, 100)
            if ready < 0 && errno != EINTR {
                fail("poll on the listener: \(String(cString: strerror(errno)))")
                return nil
            }
            if fds[1].revents != 0 { return nil }
            if fds[0].revents != 0 {
                let fd = accept(listener, nil, nil)
                if fd >= 0 {
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                    return fd
                }
            }
        }
        return nil
    }

    /// Connects to the server peer, or records why it could not (the harness's failure).
    private func connectUpstream(until deadline: ContinuousClock.Instant) -> Int32? {
        let target = "the server at 127.0.0.1:\(upstreamPort)"
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            fail("socket: \(String(cString: strerror(errno)))")
            return nil
        }
        var address = Self.loopback(port: upstreamPort)
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 && errno != EINPROGRESS {
            fail("could not connect to \(target): \(String(cString: strerror(errno)))")
            close(fd)
            return nil
        }
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let remaining = Int32(max(0, (deadline - ContinuousClock.now).inMilliseconds))
        guard poll(&entry, 1, max(1, remaining)) == 1 else {
            fail("could not connect to \(target) before the cell's deadline")
            close(fd)
            return nil
        }
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
        guard soError == 0 else {
            fail("could not connect to \(target): \(String(cString: strerror(soError)))")
            close(fd)
            return nil
        }
        return fd
    }
}

/// Follows TLS record boundaries in one direction (RFC 8446 §5.1: type, version, 2-byte length)
/// to flip one byte inside the Nth application_data record.
struct RecordCounter {
    private var header: [UInt8] = []
    private var bodyLeft = 0
    private var currentType: UInt8 = 0
    private var applicationRecords = 0
    private var done = false

    mutating func flip(in bytes: inout [UInt8], applicationRecord target: Int) {
        var index = 0
        while index < bytes.count && !done {
            if bodyLeft == 0 {
                header.append(bytes[index])
                index += 1
                if header.count == 5 {
                    currentType = header[0]
                    bodyLeft = Int(header[3]) << 8 | Int(header[4])
                    header = []
                    if currentType == 23 { applicationRecords += 1 }
                }
                continue
            }
            let take = min(bodyLeft, bytes.count - index)
            if currentType == 23 && applicationRecords == target {
                // The last byte of the record's body: inside the AEAD tag or MAC, whatever the cipher.
                if take == bodyLeft {
                    bytes[index + take - 1] ^= 0x01
                    done = true
                }
            }
            bodyLeft -= take
            index += take
        }
    }
}

struct ProxyError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
