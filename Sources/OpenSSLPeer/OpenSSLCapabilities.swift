internal import CShimOpenSSL
import PeerKit

/// What this OpenSSL build supports, asked of the library itself.
enum OpenSSLCapabilities {
    /// The five TLS 1.3 suites of RFC 8446 §B.4; OpenSSL enables only three by default, so they are
    /// named to make it list all it implements (it ignores names it does not know).
    private static let tls13SuiteNames = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"

    /// Every suite the library implements, whatever the default configuration enables.
    static func allSuites() -> [Capabilities.Suite] {
        let defaults = Set(suites(cipherList: nil, tls13: nil).map(\.code))
        let allowed = allowedByPolicy()
        let needsOtherCredentials = pskOrSRPSuites()
        return suites(cipherList: "ALL:COMPLEMENTOFALL:@SECLEVEL=0", tls13: tls13SuiteNames).map {
            var suite = $0
            suite.isDefault = defaults.contains(suite.code)
            // PSK and SRP suites are left out of the supported list for want of a PSK or SRP
            // callback, not by policy.
            suite.disabledByPolicy = !allowed.contains(suite.code) && !needsOtherCredentials.contains(suite.code)
            return suite
        }
    }

    private static func suites(cipherList: String?, tls13: String?) -> [Capabilities.Suite] {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return [] }
        defer { SSL_CTX_free(ctx) }
        if let cipherList { _ = SSL_CTX_set_cipher_list(ctx, cipherList) }
        if let tls13 { _ = SSL_CTX_set_ciphersuites(ctx, tls13) }
        guard let stack = SSL_CTX_get_ciphers(ctx) else { return [] }
        var result: [Capabilities.Suite] = []
        for index in 0..<OPENSSL_sk_num(stack) {
            guard let raw = OPENSSL_sk_value(stack, index) else { continue }
            let cipher = OpaquePointer(raw)
            let standard = String(cString: SSL_CIPHER_standard_name(cipher))
            let minimum = String(cString: SSL_CIPHER_get_version(cipher))
            let isTLS13 = minimum == "TLSv1.3"
            result.append(Capabilities.Suite(
                code: SSL_CIPHER_get_protocol_id(cipher),
                name: standard.hasPrefix("TLS_") ? standard : nil,
                libraryName: String(cString: SSL_CIPHER_get_name(cipher)),
                minVersion: isTLS13 ? .tls13 : (minimum == "TLSv1.2" ? .tls12 : .tls10),
                maxVersion: isTLS13 ? .tls13 : .tls12,
                isDefault: cipherList == nil))
        }
        OpenSSLError.clear()
        return result
    }

    /// The suites the default security level lets a connection use when named in the cipher list:
    /// `SSL_get1_supported_ciphers` filters by security level, which `SSL_CTX_get_ciphers` does not.
    static func allowedByPolicy() -> Set<UInt16> {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { return [] }
        defer { SSL_CTX_free(ctx) }
        _ = SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL")
        _ = SSL_CTX_set_ciphersuites(ctx, tls13SuiteNames)
        guard let ssl = SSL_new(ctx) else { return [] }
        defer { SSL_free(ssl) }
        guard let stack = SSL_get1_supported_ciphers(ssl) else { return [] }
        defer { OPENSSL_sk_free(stack) }
        var codes = Set<UInt16>()
        for index in 0..<OPENSSL_sk_num(stack) {
            if let raw = OPENSSL_sk_value(stack, index) { codes.insert(SSL_CIPHER_get_protocol_id(OpaquePointer(raw))) }
        }
        OpenSSLError.clear()
        return codes
    }

    /// Suites whose key exchange needs a pre-shared key or an SRP password (`SSL_CIPHER_get_kx_nid`).
    static func pskOrSRPSuites() -> Set<UInt16> {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return [] }
        defer { SSL_CTX_free(ctx) }
        _ = SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL:@SECLEVEL=0")
        guard let stack = SSL_CTX_get_ciphers(ctx) else { return [] }
        let kinds: Set<Int32> = [NID_kx_psk, NID_kx_ecdhe_psk, NID_kx_dhe_psk, NID_kx_rsa_psk, NID_kx_srp]
        var codes = Set<UInt16>()
        for index in 0..<OPENSSL_sk_num(stack) {
            guard let raw = OPENSSL_sk_value(stack, index) else { continue }
            let cipher = OpaquePointer(raw)
            if kinds.contains(SSL_CIPHER_get_kx_nid(cipher)) { codes.insert(SSL_CIPHER_get_protocol_id(cipher)) }
        }
        OpenSSLError.clear()
        return codes
    }

    /// The groups the library accepts in a group list, asked one IANA name at a time, less the
    /// elliptic curves its security level refuses at handshake time (`groups.refused`).
    static func groups() -> (usable: [String], refused: [String], level: Int32, minimumBits: Int32) {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return ([], [], 0, 0) }
        defer { SSL_CTX_free(ctx) }
        let accepted = NamedGroup.allNames.filter { CShimOpenSSL_SSL_CTX_set1_groups_list(ctx, $0) == 1 }
        OpenSSLError.clear()
        // SSL_CTX_set1_groups_list takes every curve OpenSSL implements, but a handshake offers only
        // those with at least the level's bits of security (SSL_CTX_set_security_level(3): 80, 112,
        // 128, 192, 256 bits for levels 1 to 5); a curve's security is half its order's bits.
        let level = SSL_CTX_get_security_level(ctx)
        let minimumBits: Int32 = [0, 80, 112, 128, 192, 256][Int(max(0, min(5, level)))]
        let refused = accepted.filter { name in
            let nid = OBJ_sn2nid(OpenSSLNames.shortName(iana: name))
            guard nid != NID_undef, let group = EC_GROUP_new_by_curve_name(nid) else { return false }
            defer { EC_GROUP_free(group) }
            return EC_GROUP_order_bits(group) / 2 < minimumBits
        }
        OpenSSLError.clear()
        return (accepted.filter { !refused.contains($0) }, refused, level, minimumBits)
    }

    /// The signature schemes OpenSSL accepts in a signature algorithms list, asked one name at a time.
    static func signatureSchemes() -> [String] {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return [] }
        defer { SSL_CTX_free(ctx) }
        let accepted = SignatureScheme.allNames.filter { CShimOpenSSL_SSL_CTX_set1_sigalgs_list(ctx, $0) == 1 }
        OpenSSLError.clear()
        return accepted
    }

    static func read() -> Capabilities {
        let groups = groups()
        var capabilities = Capabilities(
            versions: [.tls10, .tls11, .tls12, .tls13],
            // OpenSSL 3 refuses TLS 1.0/1.1 handshakes at security level 1 and above (SHA-1 signatures,
            // SSL_CTX_set_security_level(3)); Debian's openssl.cnf sets level 2.
            defaultVersions: [.tls12, .tls13],
            suites: allSuites(),
            groups: groups.usable,
            defaultGroups: nil,
            certificateTypes: ["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"],
            notes: [])
        if !groups.refused.isEmpty {
            capabilities.notes.append("groups implemented but refused at this system's security level \(groups.level) (fewer than \(groups.minimumBits) bits of security): \(groups.refused.joined(separator: ", "))")
        }
        capabilities.signatureSchemes = signatureSchemes()
        capabilities.features = ["sni", "resume-session-id", "resume-ticket", "transfer", "key-update", "ip-server-name", "psk", "psk-tls13"]
        return capabilities
    }
}
