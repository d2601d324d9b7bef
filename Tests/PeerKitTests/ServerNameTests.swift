import Testing
@testable import PeerKit

@Suite("--server-name: host name or address literal (RFC 6066 §3)")
struct ServerNameTests {
    @Test("address literals are recognized, with their bytes, and get no SNI", arguments: [
        ("127.0.0.1", [127, 0, 0, 1] as [UInt8]),
        ("10.1.2.3", [10, 1, 2, 3]),
        ("::1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("2001:db8::8", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8]),
        ("::ffff:127.0.0.1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]),
    ])
    func addressLiterals(text: String, bytes: [UInt8]) {
        let name = ServerName(text)
        #expect(name == .ipAddress(text, bytes: bytes))
        #expect(name.sniHostName == nil)
        #expect(name.isIPAddress)
        #expect(name.text == text)
    }

    @Test("host names, and things that only look like addresses, are host names sent as SNI", arguments: [
        "localhost", "alt.interop-matrix.test", "127.0.0.1.nip.io", "1.2.3", "256.1.1.1", "[::1]", "fe80::1%eth0", "0x7f.0.0.1",
    ])
    func hostNames(text: String) {
        let name = ServerName(text)
        #expect(name == .dns(text))
        #expect(name.sniHostName == text)
        #expect(!name.isIPAddress)
    }

    @Test("the request reads its --server-name the same way")
    func requestIdentity() throws {
        let request = try PeerRequest(arguments: ["client", "--port", "1", "--server-name", "127.0.0.1"])
        #expect(request.serverIdentity.isIPAddress)
        #expect(try PeerRequest(arguments: ["client", "--port", "1"]).serverIdentity == .dns("localhost"))
    }
}
