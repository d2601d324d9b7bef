internal import CNIOBoringSSL
import PeerKit

/// Translations between BoringSSL's identifiers and the names reports use. BoringSSL speaks TLS code
/// points for groups and signature schemes (`SSL_GROUP_*`, `SSL_SIGN_*`), so no NID detour.
enum BoringSSLNames {
    /// IANA "TLS Supported Groups" names of the post-quantum and hybrid groups PeerKit's registry does
    /// not have yet (the lead's full registry will); BoringSSL implements some of them.
    static let groupsBeyondRegistry: [UInt16: String] = [
        0x0200: "MLKEM512", 0x0201: "MLKEM768", 0x0202: "MLKEM1024",
        0x11EB: "SecP256r1MLKEM768", 0x11EC: "X25519MLKEM768", 0x11ED: "SecP384r1MLKEM1024",
        0x6399: "X25519Kyber768Draft00",
    ]

    /// The report's name for a group code point: PeerKit's IANA name, the IANA name of a
    /// post-quantum group, or the code point itself (`0x1234`) for one neither knows.
    static func groupName(id: UInt16) -> String {
        NamedGroup.byCode[id] ?? groupsBeyondRegistry[id] ?? NegotiatedView.hexCode(id)
    }

    /// The code point of an IANA group name (or a `0x1234` code point as `groupName` writes it).
    static func groupID(iana name: String) -> UInt16? {
        if let code = NamedGroup.code(of: name) { return code }
        if let code = groupsBeyondRegistry.first(where: { $0.value == name })?.key { return code }
        if name.hasPrefix("0x"), let code = UInt16(name.dropFirst(2), radix: 16) { return code }
        return nil
    }

    /// Every group code point worth asking BoringSSL about.
    static var candidateGroupIDs: [UInt16] { (Array(NamedGroup.byCode.keys) + Array(groupsBeyondRegistry.keys)).sorted() }

    /// The IANA name of a signature scheme code point; one PeerKit's registry lacks (ML-DSA, say)
    /// is written as its code point, as the lead's full registry will name it.
    static func signatureSchemeName(_ code: UInt16) -> String {
        SignatureScheme.byCode[code] ?? NegotiatedView.hexCode(code)
    }

    /// XN_FLAG_RFC2253, spelled out: Swift imports its plain parts but not the `(1ul << n)` ones.
    private static let rfc2253Flags: UInt = ASN1_STRFLGS_ESC_2253 | ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_ESC_MSB
        | ASN1_STRFLGS_UTF8_CONVERT | ASN1_STRFLGS_DUMP_UNKNOWN | ASN1_STRFLGS_DUMP_DER
        | (1 << 16) /* XN_FLAG_SEP_COMMA_PLUS */ | (1 << 20) /* XN_FLAG_DN_REV */ | (1 << 24) /* XN_FLAG_DUMP_UNKNOWN_FIELDS */

    /// A certificate subject in RFC 4514 order (`CN=localhost,O=interop-matrix`).
    static func subject(of certificate: OpaquePointer) -> String? {
        guard let name = X509_get_subject_name(certificate), let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, rfc2253Flags) >= 0 else { return nil }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while true {
            let n = BIO_read(bio, &chunk, Int32(chunk.count))
            if n <= 0 { break }
            bytes += chunk[..<Int(n)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
