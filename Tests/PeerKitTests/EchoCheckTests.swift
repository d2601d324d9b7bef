import Testing
@testable import PeerKit

@Suite("The client's echo check says what differs")
struct EchoCheckTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("an identical echo passes")
    func identical() {
        #expect(EchoCheck.mismatch(expected: bytes("ping pong"), received: bytes("ping pong")) == nil)
    }

    @Test("echoes that print alike never read alike in the message", arguments: [
        ("ping pong", "ping pong ", "first difference at byte 9 (the echo goes on)"),
        ("ping pong", "ping pong\r", #""ping pong\r""#),
        ("ping pong", "ping pon", "first difference at byte 8 (the echo ends there)"),
        // U+00F6 against o + U+0308: the same on screen, not in bytes.
        ("p\u{F6}ng", "po\u{308}ng", #""p\xC3\xB6ng""#),
        ("ping\u{0}", "ping", #""ping\x00""#),
        ("a\"b\\c", "a\"b\\d", #""a\"b\\c""#),
    ])
    func differences(expected: String, received: String, mentions: String) throws {
        let message = try #require(EchoCheck.mismatch(expected: bytes(expected), received: bytes(received)))
        #expect(message.contains(mentions), "\(message)")
        #expect(message.contains("expected \(bytes(expected).count) bytes"))
        #expect(message.contains("got \(bytes(received).count) bytes"))
    }

    @Test("the first differing byte is named with both values")
    func differingByte() throws {
        let message = try #require(EchoCheck.mismatch(expected: bytes("interop-matrix ping pong"), received: bytes("interop-matrix pinG pong")))
        #expect(message.contains("first difference at byte 18 (expected 0x67, got 0x47)"), "\(message)")
    }

    @Test("invalid UTF-8 is shown byte for byte")
    func invalidUTF8() throws {
        let message = try #require(EchoCheck.mismatch(expected: bytes("ok"), received: [0x6F, 0xFF]))
        #expect(message.contains(#""o\xFF""#), "\(message)")
    }

    @Test("a long echo is shown around its first difference, marked as cut")
    func longEcho() throws {
        let expected = [UInt8](repeating: UInt8(ascii: "a"), count: 5000)
        var received = expected
        received[4000] = UInt8(ascii: "b")
        let message = try #require(EchoCheck.mismatch(expected: expected, received: received))
        #expect(message.contains("first difference at byte 4000"))
        #expect(message.contains("b"))
        #expect(message.contains("…\""))
        #expect(message.count < 600, "\(message.count) characters")
    }
}
