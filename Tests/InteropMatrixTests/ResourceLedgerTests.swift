import Foundation
import Testing
import PeerKit
@testable import InteropMatrix

@Suite("Resource ledger")
struct ResourceLedgerTests {
    @Test("a peer still listening is found, by its port and its executable, and gone once it is killed")
    func listeningPeer() async throws {
        let runner = try await Fixture.shared.runner()
        let set = try #require(runner.certificates[.ecdsaP256])
        let executable = Fixture.shared.peerDirectory + "/peer-openssl"
        let process = try TestChild(executable, ["server", "--cert", set.serverCertificate, "--key", set.serverKey, "--timeout-ms", "20000"],
                                    errors: .null)
        defer { process.kill() }
        let line = try await offPool { process.readOutputChunk() }
        let text = String(decoding: line, as: UTF8.self)
        let port = try #require(text.split(separator: ":").last.flatMap { Int($0.filter(\.isNumber)) })

        let ledger = ResourceLedger()
        ledger.portListened(UInt16(port))
        // Not one of this run's executables: another program's socket, not a leftover.
        #expect(ledger.check(keysRemoved: nil).listeningPortsLeft.isEmpty)
        ledger.peerStarted(processGroup: process.pid, executable: executable)
        #expect(ledger.check(keysRemoved: nil).listeningPortsLeft == [port])
        process.kill()
        _ = try await offPool { process.wait() }
        #expect(ledger.check(keysRemoved: nil).listeningPortsLeft.isEmpty)
    }
}

@Suite("Files of /proc")
struct ProcFileTests {
    @Test("/proc/net/tcp is read to its end, past the first page, so every listener is found among hundreds")
    func manyListeners() throws {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports = Set<Int>()
        for _ in 0..<300 {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(descriptor >= 0)
            sockets.append(descriptor)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && listen(descriptor, 1) == 0 && getsockname(descriptor, $0, &length) == 0 }
            }
            try #require(bound)
            ports.insert(Int(UInt16(bigEndian: address.sin_port)))
        }
        let table = try #require(TextFile.text(at: "/proc/net/tcp"))
        #expect(table.split(separator: "\n").count > 300)
        // This test's own process holds them: name it by the first word of its command line, as the ledger does.
        let command = try #require(TextFile.text(at: "/proc/self/cmdline"))
        let executable = String(command.split(separator: "\0", omittingEmptySubsequences: false)[0])
        #expect(ResourceLedger.listening(among: ports, ownedByOneOf: [executable]) == ports)
    }
}
