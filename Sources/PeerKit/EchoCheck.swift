/// The client's check of the server's echo (PEER-PROTOCOL.md "After the handshake", step 3), with
/// a message that shows the difference: two strings that print alike but differ in a byte (a
/// trailing space, a CR, a UTF-8 look-alike) must never read the same.
public enum EchoCheck {
    /// nil when `received` is `expected` byte for byte; otherwise what differs, in words.
    public static func mismatch(expected: [UInt8], received: [UInt8]) -> String? {
        guard expected != received else { return nil }
        let offset = zip(expected, received).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(expected.count, received.count)
        let detail: String
        switch (offset < expected.count, offset < received.count) {
        case (true, true): detail = "expected 0x\(hex(expected[offset])), got 0x\(hex(received[offset]))"
        case (true, false): detail = "the echo ends there"
        default: detail = "the echo goes on"
        }
        return "echo mismatch: expected \(expected.count) bytes \(escaped(expected, around: offset)), got \(received.count) bytes "
            + "\(escaped(received, around: offset)); first difference at byte \(offset) (\(detail))"
    }

    /// At most this many bytes of each side are shown, around the first difference.
    static let window = 160

    /// Bytes as a Swift-style string literal that is unambiguous byte for byte: printable ASCII as
    /// itself, `\"` `\\` `\n` `\r` `\t` escaped, every other byte as `\xHH` (so invalid UTF-8 and
    /// look-alike characters show). Long input is cut to a window around `offset`, marked with `…`.
    static func escaped(_ bytes: [UInt8], around offset: Int) -> String {
        let start = bytes.count <= window ? 0 : max(0, min(offset - window / 4, bytes.count - window))
        let end = min(bytes.count, start + window)
        var text = start > 0 ? "…\"" : "\""
        for byte in bytes[start..<end] {
            switch byte {
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\\"): text += "\\\\"
            case 0x0A: text += "\\n"
            case 0x0D: text += "\\r"
            case 0x09: text += "\\t"
            case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
            default: text += "\\x" + hex(byte)
            }
        }
        text += end < bytes.count ? "\"…" : "\""
        return text
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
