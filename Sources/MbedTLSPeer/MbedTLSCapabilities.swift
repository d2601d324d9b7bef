internal import CShimMbedTLS
import PeerKit

/// What this Mbed TLS build supports, asked of the library itself.
enum MbedTLSCapabilities {
    /// Every suite the build implements, from `mbedtls_ssl_list_ciphersuites` (its preference order).
    static func suites() -> [Capabilities.Suite] {
        var result: [Capabilities.Suite] = []
        guard var cursor = mbedtls_ssl_list_ciphersuites() else { return [] }
        while cursor.pointee != 0 {
            defer { cursor += 1 }
            guard let info = mbedtls_ssl_ciphersuite_from_id(cursor.pointee), let name = info.pointee.name else { continue }
            let libraryName = String(cString: name)
            result.append(Capabilities.Suite(
                code: UInt16(info.pointee.id),
                // Not IANA's spelling everywhere (see MbedTLSConnection.negotiated): named by code point.
                name: nil,
                libraryName: libraryName,
                minVersion: version(minor: info.pointee.min_minor_ver),
                maxVersion: version(minor: info.pointee.max_minor_ver),
                // mbedtls_ssl_list_ciphersuites is the default preference list itself.
                isDefault: true))
        }
        return result
    }

    private static func version(minor: Int32) -> TLSVersion? {
        [TLSVersion.tls10, .tls11, .tls12, .tls13].first { MbedTLSVersion.minor($0) == minor }
    }

    /// The curves `mbedtls_ecp_curve_list` offers, by their TLS code point.
    static func curves() -> [(id: mbedtls_ecp_group_id, name: String)] {
        var result: [(mbedtls_ecp_group_id, String)] = []
        guard var cursor = mbedtls_ecp_curve_list() else { return [] }
        while cursor.pointee.grp_id != MBEDTLS_ECP_DP_NONE {
            result.append((cursor.pointee.grp_id, NamedGroup.name(code: cursor.pointee.tls_id)))
            cursor += 1
        }
        return result
    }

    static func curve(iana: String) -> mbedtls_ecp_group_id? { curves().first { $0.name == iana }?.id }

    /// The versions `mbedtls_ssl_config_defaults` enables for a client.
    private static func defaultVersions() -> [TLSVersion] {
        let config = UnsafeMutablePointer<mbedtls_ssl_config>.allocate(capacity: 1)
        defer { mbedtls_ssl_config_free(config); config.deallocate() }
        mbedtls_ssl_config_init(config)
        guard mbedtls_ssl_config_defaults(config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) == 0 else { return [] }
        let low = Int32(config.pointee.min_minor_ver), high = Int32(config.pointee.max_minor_ver)
        return MbedTLSVersion.supported.filter { (low...high).contains(MbedTLSVersion.minor($0)) }
    }

    /// TLS 1.2 signature algorithms Mbed TLS 2.28 offers: RSA PKCS#1 v1.5 and ECDSA with each hash
    /// this build has (`mbedtls_md_info_from_type`); it has no RSA-PSS or EdDSA in TLS.
    static func signatureSchemes() -> [String] {
        let hashes: [(mbedtls_md_type_t, String)] = [(MBEDTLS_MD_SHA1, "sha1"), (MBEDTLS_MD_SHA256, "sha256"), (MBEDTLS_MD_SHA384, "sha384"), (MBEDTLS_MD_SHA512, "sha512")]
        let available = hashes.filter { mbedtls_md_info_from_type($0.0) != nil }.map(\.1)
        let schemes = ["rsa", "ecdsa"].flatMap { key in available.compactMap { SignatureScheme.name(keyType: key, hash: $0) } }
        return SignatureScheme.allNames.filter(schemes.contains)
    }

    /// Why there is no `ip-server-name`: 2.28 matches a server name against dNSName SANs (and the CN)
    /// only, and `mbedtls_ssl_set_hostname` would also send an address as SNI.
    static let noAddressNames = "no ip-server-name: Mbed TLS 2.28 cannot check a certificate against an IP address "
        + "(x509_crt.h: subject_alt_names lists \"only dNSName and OtherName\"), and mbedtls_ssl_set_hostname would send "
        + "the address as SNI, which RFC 6066 §3 forbids"

    static func read() -> Capabilities {
        var capabilities = Capabilities(
            versions: MbedTLSVersion.supported,
            defaultVersions: defaultVersions(),
            suites: suites(),
            groups: curves().map(\.name),
            // With no mbedtls_ssl_conf_curves, every curve of mbedtls_ecp_curve_list is offered.
            defaultGroups: curves().map(\.name),
            // Mbed TLS 2.28 cannot use Ed25519 keys (its pk module has no EdDSA).
            certificateTypes: ["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521"],
            notes: ["no TLS 1.3 in Mbed TLS 2.x", "no Ed25519 certificates", "no named FFDHE groups", noAddressNames])
        capabilities.signatureSchemes = signatureSchemes()
        capabilities.features = ["sni", "resume-session-id", "resume-ticket", "transfer"]
        return capabilities
    }

    /// A certificate subject in RFC 4514 order. `mbedtls_x509_dn_gets` writes the RDNs in
    /// certificate order separated by ", "; RFC 4514 lists them the other way round, comma only.
    static func subject(of certificate: UnsafePointer<mbedtls_x509_crt>) -> String? {
        var buffer = [CChar](repeating: 0, count: 512)
        var subject = certificate.pointee.subject
        guard mbedtls_x509_dn_gets(&buffer, buffer.count, &subject) >= 0 else { return nil }
        let text = String(nulTerminated: buffer)
        return text.components(separatedBy: ", ").reversed().joined(separator: ",")
    }
}

private extension String {
    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
