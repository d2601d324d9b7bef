/// What one peer read back from its own library once the handshake finished. Never filled from the
/// request: a field the library does not expose stays nil and is reported as null.
public struct NegotiatedView: Sendable {
    public var version: TLSVersion?
    /// The cipher suite's IANA code point, as the library reports it.
    public var suiteCode: UInt16?
    /// The cipher suite's IANA name, from the library where it gives one.
    public var suiteName: String?
    /// The suite as the library spells it (`ECDHE-ECDSA-AES128-GCM-SHA256`, `TLS-ECDHE-…`).
    public var librarySuiteName: String?
    /// Key exchange group in IANA spelling (`x25519`, `secp256r1`, `ffdhe2048`); nil where none or unknown.
    public var group: String?
    public var signatureScheme: String?
    public var alpn: String?
    public var resumed: Bool = false
    /// Subject of the certificate the other side presented, RFC 4514 style (`CN=localhost`).
    public var peerCertificate: String?
    /// Server only: the name the client asked for (SNI), as the library received it.
    public var serverName: String?
    /// The PSK identity the handshake was authenticated with (`--psk`), as the library handed it
    /// over: the server, the identity it received and accepted (`SSL_get_psk_identity`,
    /// `gnutls_psk_server_get_username`, the identity its PSK callback was given); the client, the
    /// identity its library asked its callback for and sent. nil when no PSK was used.
    public var pskIdentity: String?
    /// The fields (by their JSON names: `signature_scheme`, `group`, …) this library cannot expose:
    /// their null means "not readable", not "none". A field not listed and null means none.
    public var notReadable: [String] = []

    public init() {}

    var json: JSON {
        .object([
            ("version", .optional(version?.rawValue)),
            ("suite", .optional(suiteName)),
            ("suite_code", .optional(suiteCode.map(NegotiatedView.hexCode))),
            ("library_suite", .optional(librarySuiteName)),
            ("group", .optional(group)),
            ("signature_scheme", .optional(signatureScheme)),
            ("alpn", .optional(alpn)),
            ("resumed", .bool(resumed)),
            ("peer_certificate", .optional(peerCertificate)),
            ("server_name", .optional(serverName)),
            ("psk_identity", .optional(pskIdentity)),
        ] + (notReadable.isEmpty ? [] : [("not_readable", .array(notReadable.map(JSON.string)))]))
    }

    /// `0xC02B` style, as the report schema wants it.
    public static func hexCode(_ code: UInt16) -> String {
        let hex = String(code, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
