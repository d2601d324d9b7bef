import Testing
@testable import PeerKit
#if canImport(Glibc)
import Glibc
#endif

@Suite("Non-blocking sockets", .timeLimit(.minutes(1)))
struct SocketTests {
    /// A port nothing listens on: bound by a listener that is then closed.
    func closedPort() throws -> UInt16 {
        let listener = try TCPListener()
        return listener.port
    }

    @Test("connect to a closed port reports ECONNREFUSED at tcp_connect, not a crash")
    func connectRefused() throws {
        let port = try closedPort()
        do {
            _ = try TCPSocket.connect(port: port, until: Deadline(millisecondsFromNow: 2000))
            Issue.record("connect to a closed port succeeded")
        } catch {
            #expect(error.stage == .tcpConnect)
            #expect(error.error.libraryCode == "ECONNREFUSED")
            #expect(error.error.message.contains("ECONNREFUSED"))
        }
    }

    @Test("a listener binds 127.0.0.1 on a kernel-chosen port and accepts a connection")
    func listenAndAccept() throws {
        let listener = try TCPListener()
        #expect(listener.port > 0)
        let client = try TCPSocket.connect(port: listener.port, until: Deadline(millisecondsFromNow: 2000))
        let accepted = try listener.accept(until: Deadline(millisecondsFromNow: 2000))
        // Both ends are non-blocking: a read with nothing to read must say EAGAIN, not wait.
        var byte: UInt8 = 0
        #expect(recv(accepted.descriptor, &byte, 1, 0) == -1)
        #expect(errno == EAGAIN || errno == EWOULDBLOCK)
        #expect(fcntl(client.descriptor, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(accepted.descriptor, F_GETFL) & O_NONBLOCK != 0)
        // The listening address is loopback only.
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(client.descriptor, $0, &length) }
        }
        #expect(address.sin_addr.s_addr == UInt32(0x7f00_0001).bigEndian)
    }

    @Test("accept with no client gives up at the deadline with stage timeout")
    func acceptTimesOut() throws {
        let listener = try TCPListener()
        let start = Deadline.now()
        do {
            _ = try listener.accept(until: Deadline(millisecondsFromNow: 200))
            Issue.record("accept returned without a client")
        } catch {
            #expect(error.stage == .timeout)
            let waited = millisecondsSince(start)
            #expect(waited >= 190 && waited < 2000)
        }
    }
}
