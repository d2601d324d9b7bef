/// TLS signature schemes by IANA code point: the whole "TLS SignatureScheme" registry (RFC 8446
/// §4.2.3; RFC 8734 for the brainpool TLS 1.3 schemes; RFC 8998 SM2; RFC 9367 GOST; RFC 8446 §B.3.1.3's
/// legacy values; the ML-DSA code points), its reserved TLS 1.2 hash/signature pairs under their
/// RFC 5246 spelling. Peers name what their library reports with these; `name(code:)` gives a code
/// point the registry lacks as `0x0904`, so nothing is dropped.
public enum SignatureScheme {
    public static let byCode: [UInt16: String] = [
        0x0201: "rsa_pkcs1_sha1",
        0x0202: "dsa_sha1",
        0x0203: "ecdsa_sha1",
        0x0301: "rsa_sha224",
        0x0302: "dsa_sha224",
        0x0303: "ecdsa_sha224",
        0x0401: "rsa_pkcs1_sha256",
        0x0402: "dsa_sha256",
        0x0403: "ecdsa_secp256r1_sha256",
        0x0420: "rsa_pkcs1_sha256_legacy",
        0x0501: "rsa_pkcs1_sha384",
        0x0502: "dsa_sha384",
        0x0503: "ecdsa_secp384r1_sha384",
        0x0520: "rsa_pkcs1_sha384_legacy",
        0x0601: "rsa_pkcs1_sha512",
        0x0602: "dsa_sha512",
        0x0603: "ecdsa_secp521r1_sha512",
        0x0620: "rsa_pkcs1_sha512_legacy",
        0x0704: "eccsi_sha256",
        0x0705: "iso_ibs1",
        0x0706: "iso_ibs2",
        0x0707: "iso_chinese_ibs",
        0x0708: "sm2sig_sm3",
        0x0709: "gostr34102012_256a",
        0x070A: "gostr34102012_256b",
        0x070B: "gostr34102012_256c",
        0x070C: "gostr34102012_256d",
        0x070D: "gostr34102012_512a",
        0x070E: "gostr34102012_512b",
        0x070F: "gostr34102012_512c",
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
        0x0904: "mldsa44",
        0x0905: "mldsa65",
        0x0906: "mldsa87",
    ]

    /// The registry's name for a code point, or the code point itself (`0x0904`) when it lacks it.
    public static func name(code: UInt16) -> String { byCode[code] ?? NegotiatedView.hexCode(code) }

    /// Every scheme name in code order.
    public static var allNames: [String] { byCode.keys.sorted().map { byCode[$0]! } }

    public static func code(of name: String) -> UInt16? {
        byCode.first { $0.value == name }?.key ?? NamedGroup.codePoint(name)
    }

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
