/// A TLS protocol version, spelled as the report schema spells it.
public enum TLSVersion: String, CaseIterable, Sendable, Comparable, Codable {
    case tls10 = "TLS1.0"
    case tls11 = "TLS1.1"
    case tls12 = "TLS1.2"
    case tls13 = "TLS1.3"

    /// The two-byte `ProtocolVersion` value (RFC 8446 §4.1.2, RFC 5246 §6.2.1).
    public var wireValue: UInt16 {
        switch self {
        case .tls10: 0x0301
        case .tls11: 0x0302
        case .tls12: 0x0303
        case .tls13: 0x0304
        }
    }

    public init?(wireValue: UInt16) {
        guard let match = TLSVersion.allCases.first(where: { $0.wireValue == wireValue }) else { return nil }
        self = match
    }

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.wireValue < rhs.wireValue }
}

/// Whether the server asks for, and insists on, a client certificate.
public enum ClientAuth: String, CaseIterable, Sendable, Codable {
    case none
    case optional
    case required
}

/// Which end of the connection a peer plays.
public enum Role: String, Sendable, Codable {
    case server
    case client
}
