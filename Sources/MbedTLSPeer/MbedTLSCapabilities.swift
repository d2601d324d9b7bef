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
            guard let info = mbedtls_ssl_ciphersuite_from_id(cursor.pointee), let name = CShimMbedTLS_suite_name(info) else { continue }
            let libraryName = String(cString: name)
            var low: Int32 = 0, high: Int32 = 0
            CShimMbedTLS_suite_version_range(info, &low, &high)
            result.append(Capabilities.Suite(
                code: UInt16(CShimMbedTLS_suite_id(info)),
                // Not IANA's spelling everywhere (see MbedTLSConnection.negotiated): named by code point.
                name: nil,
                libraryName: libraryName,
                minVersion: version(minor: low),
                maxVersion: version(minor: high),
                // mbedtls_ssl_list_ciphersuites is the default preference list itself.
                isDefault: true))
        }
        return result
    }

    /// Whether the build lists a TLS 1.2 pre-shared key suite (its MBEDTLS_KEY_EXCHANGE_*_PSK_ENABLED
    /// options), which `--psk` needs.
    static func hasPreSharedKeySuites(_ suites: [Capabilities.Suite]) -> Bool {
        suites.contains { suite in
            mbedtls_ssl_ciphersuite_from_id(Int32(suite.code)).map { CShimMbedTLS_suite_uses_psk($0) != 0 } ?? false
        }
    }

    private static func version(minor: Int32) -> TLSVersion? {
        [TLSVersion.tls10, .tls11, .tls12, .tls13].first { MbedTLSVersion.minor($0) == minor }
    }

    /// A client configuration with the library's defaults, for reading them.
    private static func withDefaultConfiguration<T>(_ body: (UnsafePointer<mbedtls_ssl_config>) -> T) -> T? {
        let config = UnsafeMutablePointer<mbedtls_ssl_config>.allocate(capacity: 1)
        defer { mbedtls_ssl_config_free(config); config.deallocate() }
        mbedtls_ssl_config_init(config)
        guard mbedtls_ssl_config_defaults(config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) == 0 else { return nil }
        return body(config)
    }

    /// A 0-terminated list of 16-bit code points.
    private static func codes(_ list: UnsafePointer<UInt16>) -> [UInt16] {
        var result: [UInt16] = []
        var cursor = list
        while cursor.pointee != 0 { result.append(cursor.pointee); cursor += 1 }
        return result
    }

    /// The key-exchange groups: 3.x's default group list (every group the build has, in its order);
    /// 2.28's curves of `mbedtls_ecp_curve_list`, which it offers all when none is configured.
    static func groups() -> [String] {
        if let list = withDefaultConfiguration({ CShimMbedTLS_conf_groups_list($0).map(codes) }) ?? nil {
            return list.map { NamedGroup.name(code: $0) }
        }
        var result: [String] = []
        guard var cursor = mbedtls_ecp_curve_list() else { return [] }
        while cursor.pointee.grp_id != MBEDTLS_ECP_DP_NONE {
            result.append(NamedGroup.name(code: cursor.pointee.tls_id))
            cursor += 1
        }
        return result
    }

    /// The versions `mbedtls_ssl_config_defaults` enables for a client.
    private static func defaultVersions() -> [TLSVersion] {
        guard let (low, high) = withDefaultConfiguration({ config -> (Int32, Int32) in
            var low: Int32 = 0, high: Int32 = 0
            CShimMbedTLS_conf_version_range(config, &low, &high)
            return (low, high)
        }) else { return [] }
        return MbedTLSVersion.supported.filter { (low...high).contains(MbedTLSVersion.minor($0)) }
    }

    /// The signature algorithms offered: 3.x's default list; for 2.28, RSA PKCS#1 v1.5 and ECDSA with
    /// each hash the build has (`mbedtls_md_info_from_type`), as it has no RSA-PSS or EdDSA in TLS.
    static func signatureSchemes() -> [String] {
        if let list = withDefaultConfiguration({ CShimMbedTLS_conf_signature_algorithms($0).map(codes) }) ?? nil {
            return list.compactMap { SignatureScheme.byCode[$0] }
        }
        let hashes: [(mbedtls_md_type_t, String)] = [(MBEDTLS_MD_SHA1, "sha1"), (MBEDTLS_MD_SHA256, "sha256"), (MBEDTLS_MD_SHA384, "sha384"), (MBEDTLS_MD_SHA512, "sha512")]
        let available = hashes.filter { mbedtls_md_info_from_type($0.0) != nil }.map(\.1)
        let schemes = ["rsa", "ecdsa"].flatMap { key in available.compactMap { SignatureScheme.name(keyType: key, hash: $0) } }
        return SignatureScheme.allNames.filter(schemes.contains)
    }

    /// Why there is no `ip-server-name`: 2.28 matches a server name against dNSName SANs (and the CN)
    /// only, and `mbedtls_ssl_set_hostname` would also send an address as SNI.
    /// Why there is no `ip-server-name` in 3.x: it checks an address against iPAddress SANs
    /// (x509_crt.h: "DNS names and IP addresses are fully supported"), but sends it as SNI too.
    static let addressSentAsSNI = "no ip-server-name: Mbed TLS 3.x checks a certificate against an IP address, but mbedtls_ssl_set_hostname, "
        + "its only call for the name to check, also sends the address as SNI (3.6.6 did, to every server here), which RFC 6066 §3 forbids"

    static let noAddressNames = "no ip-server-name: Mbed TLS 2.28 cannot check a certificate against an IP address "
        + "(x509_crt.h: subject_alt_names lists \"only dNSName and OtherName\"), and mbedtls_ssl_set_hostname would send "
        + "the address as SNI, which RFC 6066 §3 forbids"

    static func read() -> Capabilities {
        let version = MbedTLSEngine.library.version
        let notes = MbedTLSVersion.is2x
            ? ["no TLS 1.3 in Mbed TLS 2.x", "no Ed25519 certificates", "no named FFDHE groups", noAddressNames]
            : ["no TLS 1.0 or 1.1 in Mbed TLS 3.x", "no Ed25519 certificates", "no function sends a TLS 1.3 KeyUpdate",
               "the negotiated group is not readable: Mbed TLS \(version) keeps it in handshake parameters its headers do not declare",
               addressSentAsSNI]
        let suites = suites()
        var capabilities = Capabilities(
            versions: MbedTLSVersion.supported,
            defaultVersions: defaultVersions(),
            suites: suites,
            groups: groups(),
            // With no group list configured, every group above is offered.
            defaultGroups: groups(),
            // Mbed TLS cannot use Ed25519 keys (its pk module has no EdDSA).
            certificateTypes: ["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521"],
            notes: notes)
        capabilities.signatureSchemes = signatureSchemes()
        capabilities.features = ["sni", "resume-session-id", "resume-ticket", "transfer"]
        if hasPreSharedKeySuites(suites) { capabilities.features.append("psk") }
        // TLS 1.3 external PSK: SHA-256's, so with a SHA-256 TLS 1.3 suite (RFC 8446 §4.2.11).
        if MbedTLSExternalPreSharedKey.withKeyExchange && suites.contains(where: { [0x1301, 0x1303, 0x1304, 0x1305].contains($0.code) }) {
            capabilities.features.append("psk-tls13")
            if MbedTLSExternalPreSharedKey.withoutKeyExchange {
                capabilities.features.append("psk-ke")
                capabilities.notes.append(MbedTLSExternalPreSharedKey.withoutKeyExchangeNote)
            }
        }
        // The handshake's signature algorithm is in no field either series exposes; 3.x keeps the
        // key-exchange group only in handshake parameters its headers do not declare.
        capabilities.notReadable = MbedTLSVersion.is2x ? ["signature_scheme"] : ["group", "signature_scheme"]
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
