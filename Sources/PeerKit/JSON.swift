/// A JSON value as a peer writes it: enough to print one result line without Foundation, which would
/// add milliseconds to every peer start.
public enum JSON: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSON])
    /// Keys keep the order they were given in, so output is stable and readable.
    case object([(String, JSON)])

    public static func == (lhs: JSON, rhs: JSON) -> Bool { lhs.serialized == rhs.serialized }

    /// `.string(value)` or `.null` when `value` is nil.
    public static func optional(_ value: String?) -> JSON { value.map(JSON.string) ?? .null }
    public static func optional(_ value: Int?) -> JSON { value.map(JSON.int) ?? .null }

    /// Compact, single-line JSON text (RFC 8259).
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .string(let s): JSON.writeString(s, to: &out)
        case .int(let i): out += String(i)
        case .double(let d):
            // Milliseconds with three decimals are precise enough and keep reports small.
            out += d.isFinite ? String(Double((d * 1000).rounded()) / 1000) : "null"
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                JSON.writeString(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension JSON {
    /// Parses a JSON array of strings (`["server","--version","TLS1.3"]`): a worker's request line.
    /// Returns nil for anything else.
    public static func parseStringArray(_ text: String) -> [String]? {
        var scalars = Array(text.unicodeScalars)[...]
        func skipSpace() { while let c = scalars.first, c == " " || c == "\t" || c == "\r" || c == "\n" { scalars.removeFirst() } }
        func take(_ c: Unicode.Scalar) -> Bool {
            skipSpace()
            guard scalars.first == c else { return false }
            scalars.removeFirst()
            return true
        }
        func string() -> String? {
            guard take("\"") else { return nil }
            var out = String.UnicodeScalarView()
            while let c = scalars.popFirst() {
                switch c {
                case "\"": return String(out)
                case "\\":
                    guard let e = scalars.popFirst() else { return nil }
                    switch e {
                    case "\"", "\\", "/": out.append(e)
                    case "n": out.append("\n")
                    case "r": out.append("\r")
                    case "t": out.append("\t")
                    case "b": out.append("\u{08}")
                    case "f": out.append("\u{0C}")
                    case "u":
                        guard scalars.count >= 4, let value = UInt32(String(String.UnicodeScalarView(scalars.prefix(4))), radix: 16) else { return nil }
                        scalars.removeFirst(4)
                        // A surrogate pair spells one scalar outside the BMP.
                        if (0xD800..<0xDC00).contains(value), scalars.starts(with: ["\\", "u"]), scalars.count >= 6,
                           let low = UInt32(String(String.UnicodeScalarView(scalars.dropFirst(2).prefix(4))), radix: 16), (0xDC00..<0xE000).contains(low) {
                            scalars.removeFirst(6)
                            out.append(Unicode.Scalar(0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00))!)
                        } else {
                            guard let scalar = Unicode.Scalar(value) else { return nil }
                            out.append(scalar)
                        }
                    default: return nil
                    }
                default:
                    guard c.value >= 0x20 else { return nil }
                    out.append(c)
                }
            }
            return nil
        }
        guard take("[") else { return nil }
        var items: [String] = []
        if take("]") { skipSpace(); return scalars.isEmpty ? items : nil }
        repeat {
            guard let item = string() else { return nil }
            items.append(item)
        } while take(",")
        guard take("]") else { return nil }
        skipSpace()
        return scalars.isEmpty ? items : nil
    }
}
