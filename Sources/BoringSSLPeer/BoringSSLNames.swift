internal import CNIOBoringSSL
import PeerKit

/// Translations between BoringSSL's identifiers and the names reports use. BoringSSL speaks TLS code
/// points for groups and signature schemes (`SSL_GROUP_*`, `SSL_SIGN_*`), so no NID detour.
enum BoringSSLNames {
    /// The report's name for a group code point: the IANA registry's (PeerKit's `NamedGroup`), or
    /// the code point itself (`0x1234`) for one the registry lacks.
    static func groupName(id: UInt16) -> String { NamedGroup.name(code: id) }

    /// The code point of an IANA group name (or a `0x1234` code point as `groupName` writes it).
    static func groupID(iana name: String) -> UInt16? { NamedGroup.code(of: name) }

    /// Every group code point worth asking BoringSSL about: the whole registry.
    static var candidateGroupIDs: [UInt16] { NamedGroup.registry.map(\.code).sorted() }

    /// The IANA name of a signature scheme code point, or the code point for one the registry lacks.
    static func signatureSchemeName(_ code: UInt16) -> String { SignatureScheme.name(code: code) }

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
