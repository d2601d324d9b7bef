/// TLS key exchange groups by IANA code point ("TLS Supported Groups" registry, RFC 8422 §5.1.1,
/// RFC 7919 §2, RFC 8446 §4.2.7), spelled as the registry spells them. Peers translate whatever their
/// library reports (an OpenSSL NID, a GnuTLS enum, an Mbed TLS curve id) into these names.
public enum NamedGroup {
    public static let byCode: [UInt16: String] = [
        21: "secp224r1",
        22: "secp256k1",
        23: "secp256r1",
        24: "secp384r1",
        25: "secp521r1",
        26: "brainpoolP256r1",
        27: "brainpoolP384r1",
        28: "brainpoolP512r1",
        29: "x25519",
        30: "x448",
        256: "ffdhe2048",
        257: "ffdhe3072",
        258: "ffdhe4096",
        259: "ffdhe6144",
        260: "ffdhe8192",
    ]

    /// Groups TLS 1.3 does not allow (RFC 8446 §4.2.7 lists the ECDHE groups it keeps; brainpool
    /// curves have their own TLS 1.3 code points, RFC 8734): usable up to TLS 1.2 only.
    public static let beforeTLS13Only: Set<String> = ["secp224r1", "secp256k1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1"]

    /// Whether a group can be negotiated as a group at `version`: TLS 1.3 takes the groups RFC 8446
    /// lists; before it only elliptic curves are (RFC 8422), finite-field groups being the server's choice.
    public static func applies(_ name: String, to version: TLSVersion) -> Bool {
        version == .tls13 ? !beforeTLS13Only.contains(name) : !name.hasPrefix("ffdhe")
    }

    public static func code(of name: String) -> UInt16? {
        byCode.first(where: { $0.value == name })?.key
    }

    /// Every group name in code order.
    public static var allNames: [String] { byCode.keys.sorted().map { byCode[$0]! } }
}
