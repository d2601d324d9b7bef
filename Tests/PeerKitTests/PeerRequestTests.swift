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

@Suite("The --psk file")
struct PreSharedKeyFileTests {
    @Test("an identity and a hex key, one per line, read back as written")
    func roundTrip() throws {
        let key = PreSharedKey(identity: "interop-matrix device", key: [0x00, 0x0f, 0xa5, 0xff])
        #expect(key.fileText == "interop-matrix device\n000fa5ff\n")
        #expect(try PreSharedKey(fileText: key.fileText) == key)
        #expect(try PreSharedKey(fileText: "caf\u{e9}\r\nABCD") == PreSharedKey(identity: "caf\u{e9}", key: [0xab, 0xcd]))
        let request = try PeerRequest(arguments: ["client", "--port", "1", "--psk", "/nonexistent/psk.txt"])
        #expect(request.preSharedKeyPath == "/nonexistent/psk.txt")
        #expect { _ = try request.preSharedKey() } throws: { ($0 as? PeerFailure)?.stage == .setup }
        #expect(try PeerRequest(arguments: ["client", "--port", "1"]).preSharedKey() == nil)
    }

    @Test("a file that is not an identity and a key is refused, saying why", arguments: [
        ("only one line\n", "two lines"),
        ("\nabcd\n", "identity"),
        ("id\nabc\n", "even number"),
        ("id\nzz\n", "not hex"),
        ("id\n" + String(repeating: "ab", count: 65) + "\n", "64 bytes"),
        (String(repeating: "x", count: 129) + "\nab\n", "128 bytes"),
        ("id\nab\nextra\n", "two lines"),
    ])
    func refused(text: String, says: String) {
        #expect { _ = try PreSharedKey(fileText: text) } throws: { ($0 as? PreSharedKey.FormatError)?.message.contains(says) == true }
    }
}
