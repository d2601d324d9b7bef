internal import CNIOBoringSSL
import PeerKit

/// What this BoringSSL supports, asked of the library: suites by code point
/// (`SSL_get_cipher_by_value`), groups by code point (`SSL_get_group_name`, `SSL_CTX_set1_group_ids`),
/// signature schemes by code point (`SSL_get_signature_algorithm_name`), defaults from a fresh context.
enum BoringSSLCapabilities {
    private static func version(_ wire: UInt16) -> TLSVersion? { TLSVersion(wireValue: wire) }

    /// Every suite BoringSSL knows by code point (TLS 1.3 and earlier), marked with the defaults.
    static func suites() -> [Capabilities.Suite] {
        let defaults = defaultTLS12Suites()
        var result: [Capabilities.Suite] = []
        // The blocks of the IANA cipher suite registry that hold assigned TLS suites (0x00xx, TLS 1.3's
        // 0x13xx, 0xC0xx-0xD0xx); scanning all 65,536 code points doubled the peer's start-up.
        let blocks: [ClosedRange<UInt16>] = [0x0000...0x00FF, 0x1300...0x13FF, 0xC000...0xD0FF]
        for code in blocks.joined() {
            guard let cipher = SSL_get_cipher_by_value(code) else { continue }
            let minimum = SSL_CIPHER_get_min_version(cipher)
            let standard = SSL_CIPHER_standard_name(cipher).map { String(cString: $0) }
            let isTLS13 = minimum == UInt16(TLS1_3_VERSION)
            // Every TLS 1.3 suite is in BoringSSL's built-in TLS 1.3 order; the 1.2 list is the context's.
            var suite = Capabilities.Suite(
                code: code, name: standard?.hasPrefix("TLS_") == true ? standard : nil,
                libraryName: String(cString: SSL_CIPHER_get_name(cipher)),
                minVersion: version(minimum) ?? .tls10,
                maxVersion: version(SSL_CIPHER_get_max_version(cipher)),
                isDefault: isTLS13 || defaults.contains(code))
            // PSK suites need a PSK callback, which the protocol has no option for: implemented,
            // listed, not default, never "disabled by policy".
            suite.disabledByPolicy = false
            result.append(suite)
        }
        return result
    }

    /// The TLS 1.2-and-below suites a fresh context offers (its cipher list, "ALL" by default).
    private static func defaultTLS12Suites() -> Set<UInt16> {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return [] }
        defer { SSL_CTX_free(ctx) }
        guard let stack = SSL_CTX_get_ciphers(ctx) else { return [] }
        var codes = Set<UInt16>()
        for index in 0..<sk_SSL_CIPHER_num(stack) {
            if let cipher = sk_SSL_CIPHER_value(stack, index) { codes.insert(SSL_CIPHER_get_protocol_id(cipher)) }
        }
        return codes
    }

    /// The groups BoringSSL names and accepts in a group list, asked one code point at a time.
    static func groups() -> [String] {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return [] }
        defer { SSL_CTX_free(ctx) }
        let accepted = BoringSSLNames.candidateGroupIDs.filter { id in
            var one = id
            return SSL_get_group_name(id) != nil && SSL_CTX_set1_group_ids(ctx, &one, 1) == 1
        }
        BoringSSLError.clear()
        return accepted.map(BoringSSLNames.groupName(id:))
    }

    /// The signature schemes BoringSSL names and accepts as verify preferences, by code point.
    static func signatureSchemes() -> [String] {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return [] }
        defer { SSL_CTX_free(ctx) }
        let candidates = Array(SignatureScheme.byCode.keys) + [0x0904, 0x0905, 0x0906]
        let accepted = candidates.sorted().filter { code in
            var one = code
            return SSL_get_signature_algorithm_name(code, 1) != nil
                && SSL_CTX_set_verify_algorithm_prefs(ctx, &one, 1) == 1
        }
        BoringSSLError.clear()
        return accepted.map(BoringSSLNames.signatureSchemeName)
    }

    /// The version range of a fresh context, as BoringSSL fills in its defaults (a bound of 0).
    static func defaultVersions() -> [TLSVersion] {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return [] }
        defer { SSL_CTX_free(ctx) }
        _ = SSL_CTX_set_min_proto_version(ctx, 0)
        _ = SSL_CTX_set_max_proto_version(ctx, 0)
        let low = SSL_CTX_get_min_proto_version(ctx), high = SSL_CTX_get_max_proto_version(ctx)
        return TLSVersion.allCases.filter { $0.wireValue >= low && $0.wireValue <= high }
    }

    /// Versions a context accepts as both bounds.
    static func versions() -> [TLSVersion] {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return [] }
        defer { SSL_CTX_free(ctx) }
        return TLSVersion.allCases.filter {
            SSL_CTX_set_min_proto_version(ctx, $0.wireValue) == 1 && SSL_CTX_set_max_proto_version(ctx, $0.wireValue) == 1
        }
    }

    static func read() -> Capabilities {
        var capabilities = Capabilities(
            versions: versions(),
            defaultVersions: defaultVersions(),
            suites: suites(),
            groups: groups(),
            // No getter for the default list; ssl_key_share.cc's DefaultSupportedGroupIds says
            // X25519MLKEM768, X25519, P-256, P-384, which the peer cannot ask at run time.
            defaultGroups: nil,
            certificateTypes: ["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"],
            notes: [
                "BoringSSL as vendored by swift-nio-ssl 2.37.6 (module CNIOBoringSSL, symbols prefixed CNIOBoringSSL_); BoringSSL has no release version, only BORINGSSL_API_VERSION",
                "TLS 1.3 suites are forced with SSL_CTX_set1_tls13_ciphers; TLS 1.2 and below with SSL_CTX_set_strict_cipher_list",
                "signature_scheme is read only by the client (SSL_get_peer_signature_algorithm); BoringSSL has no getter for a server's own choice",
                "PSK cipher suites need a PSK callback the protocol has no option for",
            ])
        capabilities.signatureSchemes = signatureSchemes()
        capabilities.features = ["sni", "resume-session-id", "resume-ticket", "transfer", "key-update", "ip-server-name", "psk"]
        return capabilities
    }
}
