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

    public static func code(of name: String) -> UInt16? {
        byCode.first(where: { $0.value == name })?.key
    }

    /// Every group name in code order.
    public static var allNames: [String] { byCode.keys.sorted().map { byCode[$0]! } }
}
