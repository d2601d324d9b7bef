internal import CShimOpenSSL
import PeerKit

/// Translations between OpenSSL's names (NIDs, curve short names) and the IANA names reports use.
enum OpenSSLNames {
    /// OpenSSL short names that differ from the IANA group name (RFC 8422 §5.1.1 calls prime256v1 secp256r1).
    private static let ianaByShortName: [String: String] = [
        "prime192v1": "secp192r1", "prime256v1": "secp256r1", "X25519": "x25519", "X448": "x448",
    ]

    /// The IANA name for a group OpenSSL reports as a NID (or, for groups without a NID, as
    /// `TLSEXT_nid_unknown | code point`).
    static func groupName(nid: Int32) -> String? {
        let unknownFlag: Int32 = 0x0100_0000
        if nid & unknownFlag != 0 { return NamedGroup.name(code: UInt16(nid & 0xffff)) }
        guard let shortName = OBJ_nid2sn(nid) else { return nil }
        return canonical(String(cString: shortName))
    }

    /// The group of an ephemeral (EC)DH key: its group name, or for X25519/X448 its key type.
    static func groupName(ephemeralKey key: OpaquePointer) -> String? {
        var buffer = [CChar](repeating: 0, count: 80)
        var length = 0
        if EVP_PKEY_get_group_name(key, &buffer, buffer.count, &length) == 1 {
            return canonical(String(nulTerminated: buffer))
        }
        guard let type = EVP_PKEY_get0_type_name(key) else { return nil }
        return canonical(String(cString: type))
    }

    /// The IANA name where the registry has it; OpenSSL's own short name otherwise, shown rather than dropped.
    private static func canonical(_ shortName: String) -> String? {
        ianaByShortName[shortName] ?? shortName
    }

    /// OpenSSL's object short name for an IANA group name (`prime256v1` for secp256r1).
    static func shortName(iana: String) -> String {
        ianaByShortName.first { $0.value == iana }?.key ?? iana
    }

    /// The name OpenSSL's group list takes for an IANA group; OpenSSL 3 knows the IANA spellings.
    static func groupName(iana: String) -> String? {
        NamedGroup.code(of: iana) == nil ? nil : iana
    }

    /// A signature scheme from the key-type and hash NIDs OpenSSL reports for a handshake signature.
    static func signatureScheme(keyType: Int32, hash: Int32) -> String? {
        let key: String
        switch keyType {
        case EVP_PKEY_RSA: key = "rsa"
        case EVP_PKEY_RSA_PSS: key = "rsa-pss"
        case EVP_PKEY_EC: key = "ecdsa"
        case EVP_PKEY_ED25519: key = "ed25519"
        case EVP_PKEY_ED448: key = "ed448"
        default: return nil
        }
        let digest: String?
        switch hash {
        case NID_sha1: digest = "sha1"
        case NID_sha256: digest = "sha256"
        case NID_sha384: digest = "sha384"
        case NID_sha512: digest = "sha512"
        default: digest = nil
        }
        return SignatureScheme.name(keyType: key, hash: digest)
    }

    /// A certificate subject in RFC 4514 order (`CN=localhost,O=interop-matrix`).
    static func subject(of certificate: OpaquePointer) -> String? {
        guard let name = X509_get_subject_name(certificate), let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, CShimOpenSSL_XN_FLAG_RFC2253) >= 0 else { return nil }
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
