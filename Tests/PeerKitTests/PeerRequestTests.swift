import Testing
@testable import PeerKit

@Suite("Peer protocol arguments and output")
struct PeerRequestTests {
    @Test("a full client command line parses into the request")
    func parsesClient() throws {
        let request = try PeerRequest(arguments: ["client", "--port", "4433", "--ca", "ca.pem", "--version", "TLS1.2",
                                                  "--suite", "0xC02B", "--group", "x25519", "--timeout-ms", "500"])
        #expect(request.role == .client)
        #expect(request.port == 4433)
        #expect(request.version == .tls12)
        #expect(request.suiteCode == 0xC02B)
        #expect(request.group == "x25519")
        #expect(request.timeoutMilliseconds == 500)
        #expect(request.serverName == "localhost")
    }

    @Test("bad command lines are refused with a message naming the option", arguments: [
        (["client"], "--port"),
        (["server", "--cert", "c"], "--key"),
        (["client", "--port", "1", "--version", "SSL3"], "--version"),
        (["client", "--port", "1", "--suite", "C02B"], "--suite"),
        (["client", "--port", "0"], "--port"),
        (["client", "--port", "1", "--bogus"], "--bogus"),
        (["dance"], "server"),
    ])
    func rejectsBadArguments(arguments: [String], mentions: String) {
        #expect {
            _ = try PeerRequest(arguments: arguments)
        } throws: { error in
            (error as? PeerRequest.UsageError)?.message.contains(mentions) == true
        }
    }

    @Test("JSON output escapes what must be escaped and keeps key order")
    func jsonEscapes() {
        let value = JSON.object([("b", .string("a\"b\\c\nd\u{1}")), ("a", .int(-3)), ("n", .null), ("t", .bool(true)), ("d", .double(1.23456))])
        #expect(value.serialized == #"{"b":"a\"b\\c\nd\u0001","a":-3,"n":null,"t":true,"d":1.235}"#)
    }

    @Test("code points print as the report schema wants them")
    func hexCodes() {
        #expect(NegotiatedView.hexCode(0xC02B) == "0xC02B")
        #expect(NegotiatedView.hexCode(0x0005) == "0x0005")
    }
}
