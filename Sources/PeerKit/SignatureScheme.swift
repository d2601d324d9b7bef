/// TLS signature schemes by IANA code point ("TLS SignatureScheme" registry, RFC 8446 §4.2.3,
/// RFC 8734 for the brainpool TLS 1.3 schemes). Peers name what their library reports with these.
public enum SignatureScheme {
    public static let byCode: [UInt16: String] = [
        0x0201: "rsa_pkcs1_sha1",
        0x0203: "ecdsa_sha1",
        0x0401: "rsa_pkcs1_sha256",
        0x0403: "ecdsa_secp256r1_sha256",
        0x0501: "rsa_pkcs1_sha384",
        0x0503: "ecdsa_secp384r1_sha384",
        0x0601: "rsa_pkcs1_sha512",
        0x0603: "ecdsa_secp521r1_sha512",
        0x0804: "rsa_pss_rsae_sha256",
        0x0805: "rsa_pss_rsae_sha384",
        0x0806: "rsa_pss_rsae_sha512",
        0x0807: "ed25519",
        0x0808: "ed448",
        0x0809: "rsa_pss_pss_sha256",
        0x080A: "rsa_pss_pss_sha384",
        0x080B: "rsa_pss_pss_sha512",
        0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
        0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
        0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
    ]

    /// Every scheme name in code order.
    public static var allNames: [String] { byCode.keys.sorted().map { byCode[$0]! } }

    public static func code(of name: String) -> UInt16? { byCode.first { $0.value == name }?.key }

    /// The scheme for a key type and hash as libraries report them separately (`rsa`, `rsa-pss`,
    /// `ecdsa`, `ed25519`, `ed448`; `sha1` … `sha512`). RSA-PSS with an rsaEncryption key is `rsae`;
    /// TLS 1.2's ecdsa_sha256 shares 0x0403 with ecdsa_secp256r1_sha256.
    public static func name(keyType: String, hash: String?) -> String? {
        switch (keyType, hash) {
        case ("ed25519", _): return "ed25519"
        case ("ed448", _): return "ed448"
        case ("rsa", let h?): return h == "sha1" ? "rsa_pkcs1_sha1" : "rsa_pkcs1_\(h)"
        case ("rsa-pss", let h?): return "rsa_pss_rsae_\(h)"
        case ("ecdsa", "sha1"): return "ecdsa_sha1"
        case ("ecdsa", "sha256"): return "ecdsa_secp256r1_sha256"
        case ("ecdsa", "sha384"): return "ecdsa_secp384r1_sha384"
        case ("ecdsa", "sha512"): return "ecdsa_secp521r1_sha512"
        default: return nil
        }
    }
}
