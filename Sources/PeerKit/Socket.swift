#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A non-blocking TCP socket this peer owns; closed when the value goes away.
public final class TCPSocket {
    public let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }
    deinit { close(descriptor) }

    /// Waits until the socket is readable or writable, or the deadline passes.
    /// Returns false on timeout.
    public func wait(for events: PollEvents, until deadline: Deadline) throws(PeerFailure) -> Bool {
        try pollDescriptor(descriptor, events: events, until: deadline)
    }

    /// Sends FIN, then reads and discards what the other side still sends until it closes too or
    /// the deadline passes, so data already in flight is not answered with a reset that would
    /// destroy the alert this side just sent.
    public func lingeringClose(until deadline: Deadline) {
        shutdown(descriptor, Int32(SHUT_WR))
        var scratch = [UInt8](repeating: 0, count: 4096)
        while (try? wait(for: .readable, until: deadline)) == true {
            let n = recv(descriptor, &scratch, scratch.count, 0)
            if n == 0 { return }
            if n < 0 && errno != EAGAIN && errno != EINTR { return }
        }
    }

    /// Connects to 127.0.0.1:`port` the non-blocking way: `connect()` → `EINPROGRESS` → `poll()` for
    /// writable → `getsockopt(SO_ERROR)`, which holds the connect's own result (e.g. ECONNREFUSED).
    public static func connect(port: UInt16, until deadline: Deadline) throws(PeerFailure) -> TCPSocket {
        let socket = try makeSocket(stage: .tcpConnect)
        var address = loopback(port: port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc == 0 { return socket }
        let connectErrno = errno
        guard connectErrno == EINPROGRESS else { throw .system(.tcpConnect, "connect", errno: connectErrno) }
        guard try socket.wait(for: .writable, until: deadline) else {
            throw PeerFailure(stage: .timeout, code: "ETIMEDOUT", message: "connect to 127.0.0.1:\(port) did not complete before the deadline")
        }
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(socket.descriptor, SOL_SOCKET, SO_ERROR, &soError, &length) == 0 else {
            throw .system(.tcpConnect, "getsockopt(SO_ERROR)", errno: errno)
        }
        guard soError == 0 else { throw .system(.tcpConnect, "connect to 127.0.0.1:\(port)", errno: soError) }
        return socket
    }

    static func makeSocket(stage: FailureStage) throws(PeerFailure) -> TCPSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(stage, "socket", errno: errno) }
        var one: Int32 = 1
        // Handshake flights are small; Nagle would hold them back for the peer's delayed ACK.
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return TCPSocket(descriptor: fd)
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }
}

/// A listening socket on 127.0.0.1 with a port the kernel picked, so cells never collide.
public final class TCPListener {
    private let socket: TCPSocket
    public let port: UInt16

    public init() throws(PeerFailure) {
        var port: UInt16 = 0
        let socket = try TCPSocket.makeSocket(stage: .setup)
        self.socket = socket
        var address = TCPSocket.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw .system(.setup, "bind 127.0.0.1:0", errno: errno) }
        guard listen(socket.descriptor, 16) == 0 else { throw .system(.setup, "listen", errno: errno) }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket.descriptor, $0, &length) }
        }
        guard named == 0 else { throw .system(.setup, "getsockname", errno: errno) }
        port = UInt16(bigEndian: actual.sin_port)
        self.port = port
    }

    /// Polls the listener for readable, then accepts: the kernel has completed the TCP handshake
    /// already, accept() only dequeues the connection.
    public func accept(until deadline: Deadline) throws(PeerFailure) -> TCPSocket {
        while true {
            guard try socket.wait(for: .readable, until: deadline) else {
                throw PeerFailure(stage: .timeout, code: "ETIMEDOUT", message: "no client connected before the deadline")
            }
            let fd = Glibc.accept(socket.descriptor, nil, nil)
            if fd >= 0 {
                // accept4() needs _GNU_SOURCE, which Swift's Glibc module does not define.
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return TCPSocket(descriptor: fd)
            }
            let code = errno
            // The connection may have been reset between poll and accept; wait for the next one.
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR || code == ECONNABORTED { continue }
            throw .system(.tcpAccept, "accept", errno: code)
        }
    }
}

/// What to wait for on a descriptor.
public enum PollEvents: Sendable {
    case readable
    case writable
    /// Either: a duplex transfer waits for whichever the library asked for on each direction.
    case readableOrWritable

    var mask: Int16 {
        switch self {
        case .readable: Int16(POLLIN)
        case .writable: Int16(POLLOUT)
        case .readableOrWritable: Int16(POLLIN) | Int16(POLLOUT)
        }
    }
}

/// poll() on one descriptor until it is ready or the deadline passes; EINTR is retried.
/// Returns false on timeout. POLLERR and POLLHUP count as ready: the next call reports the error.
func pollDescriptor(_ fd: Int32, events: PollEvents, until deadline: Deadline) throws(PeerFailure) -> Bool {
    while true {
        var entry = pollfd(fd: fd, events: events.mask, revents: 0)
        let remaining = deadline.remainingMilliseconds
        if remaining == 0 { return false }
        let rc = poll(&entry, 1, remaining)
        if rc > 0 { return true }
        if rc == 0 { return false }
        if errno == EINTR { continue }
        throw .system(.setup, "poll", errno: errno)
    }
}
