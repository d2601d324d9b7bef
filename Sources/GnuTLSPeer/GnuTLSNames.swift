internal import CShimGnuTLS
import PeerKit

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// GnuTLS's names for versions, suites and groups, read from the library's own tables.
enum GnuTLSNames {
    /// One entry of `gnutls_cipher_suite_info`.
    struct Suite {
        var code: UInt16
        var libraryName: String
        var keyExchange: String?
        var cipher: String
        var mac: String
        var keyExchangeID: gnutls_kx_algorithm_t
        var cipherID: gnutls_cipher_algorithm_t
        var macID: gnutls_mac_algorithm_t
        var minVersion: TLSVersion?
    }

    static let allSuites: [Suite] = {
        var result: [Suite] = []
        var index = 0
        while true {
            var id: [UInt8] = [0, 0]
            var kx = GNUTLS_KX_UNKNOWN
            var cipher = GNUTLS_CIPHER_UNKNOWN
            var mac = GNUTLS_MAC_UNKNOWN
            var minVersion = GNUTLS_VERSION_UNKNOWN
            guard let name = gnutls_cipher_suite_info(index, &id, &kx, &cipher, &mac, &minVersion) else { break }
            index += 1
            result.append(Suite(
                code: UInt16(id[0]) << 8 | UInt16(id[1]),
                libraryName: String(cString: name),
                keyExchange: kx == GNUTLS_KX_UNKNOWN ? nil : gnutls_kx_get_name(kx).map { String(cString: $0) },
                cipher: String(cString: gnutls_cipher_get_name(cipher)),
                mac: String(cString: gnutls_mac_get_name(mac)),
                keyExchangeID: kx, cipherID: cipher, macID: mac,
                minVersion: version(minVersion)))
        }
        return result
    }()

    static func suite(code: UInt16) -> Suite? { allSuites.first { $0.code == code } }

    static func version(_ protocolVersion: gnutls_protocol_t) -> TLSVersion? {
        switch protocolVersion {
        case GNUTLS_TLS1_0: .tls10
        case GNUTLS_TLS1_1: .tls11
        case GNUTLS_TLS1_2: .tls12
        case GNUTLS_TLS1_3: .tls13
        default: nil
        }
    }

    /// The versions this build implements (`gnutls_protocol_list`).
    static var supportedVersions: [TLSVersion] {
        var result: [TLSVersion] = []
        guard var cursor = gnutls_protocol_list() else { return [] }
        while cursor.pointee.rawValue != 0 {
            if let v = version(cursor.pointee) { result.append(v) }
            cursor += 1
        }
        return result.sorted()
    }

    /// `VERS-TLS1.2` for the priority string, when the build has that version.
    static func versionToken(_ version: TLSVersion) -> String? {
        guard supportedVersions.contains(version) else { return nil }
        return "VERS-" + version.rawValue
    }

    /// The groups this build implements, with GnuTLS's ids; names in IANA spelling.
    static var groups: [(id: gnutls_group_t, name: String)] {
        var result: [(gnutls_group_t, String)] = []
        guard var cursor = gnutls_group_list() else { return [] }
        while cursor.pointee.rawValue != 0 {
            if let name = groupName(cursor.pointee) { result.append((cursor.pointee, name)) }
            cursor += 1
        }
        return result
    }

    /// GnuTLS calls groups `SECP256R1`, `X25519`, `FFDHE2048`, `GC256B`: the IANA names, in capitals
    /// where the registry has small letters. A name the registry lacks is kept as GnuTLS spells it
    /// (GnuTLS exposes no code point), shown rather than dropped.
    static func groupName(_ group: gnutls_group_t) -> String? {
        guard group.rawValue != 0, let name = gnutls_group_get_name(group) else { return nil }
        let spelled = String(cString: name)
        let lower = spelled.lowercased()
        return NamedGroup.allNames.first { $0.lowercased() == lower } ?? spelled
    }

    static func groupToken(iana: String) -> String? {
        guard let entry = groups.first(where: { $0.name == iana }), let name = gnutls_group_get_name(entry.id) else { return nil }
        return "GROUP-" + String(cString: name)
    }

    /// GnuTLS's names for TLS signature algorithms (`RSA-PSS-RSAE-SHA256`, `ECDSA-SECP256R1-SHA256`,
    /// `RSA-SHA256`, `EdDSA-Ed25519`) in IANA spelling; nil for ones TLS does not use.
    static func signatureScheme(_ algorithm: gnutls_sign_algorithm_t) -> String? {
        guard algorithm.rawValue != 0, let raw = gnutls_sign_get_name(algorithm) else { return nil }
        let name = String(cString: raw).lowercased().replacingOccurrences(of: "-", with: "_")
        let renamed: [String: String] = [
            "eddsa_ed25519": "ed25519", "eddsa_ed448": "ed448",
            "rsa_sha1": "rsa_pkcs1_sha1", "rsa_sha256": "rsa_pkcs1_sha256", "rsa_sha384": "rsa_pkcs1_sha384", "rsa_sha512": "rsa_pkcs1_sha512",
            "ecdsa_sha256": "ecdsa_secp256r1_sha256", "ecdsa_sha384": "ecdsa_secp384r1_sha384", "ecdsa_sha512": "ecdsa_secp521r1_sha512",
            "rsa_pss_sha256": "rsa_pss_pss_sha256", "rsa_pss_sha384": "rsa_pss_pss_sha384", "rsa_pss_sha512": "rsa_pss_pss_sha512",
        ]
        let scheme = renamed[name] ?? name
        return SignatureScheme.code(of: scheme) == nil ? nil : scheme
    }

    /// The TLS signature schemes this build implements (`gnutls_sign_list`).
    static var signatureSchemes: [String] {
        var result = Set<String>()
        guard var cursor = gnutls_sign_list() else { return [] }
        while cursor.pointee.rawValue != 0 {
            if let scheme = signatureScheme(cursor.pointee) { result.insert(scheme) }
            cursor += 1
        }
        return SignatureScheme.allNames.filter(result.contains)
    }
}
