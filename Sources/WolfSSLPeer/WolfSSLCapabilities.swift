internal import CShimWolfSSL
import PeerKit

/// What this wolfSSL build supports, asked of the library itself.
enum WolfSSLCapabilities {
    /// One suite of wolfSSL's own table: its code point and both of its names.
    struct SuiteEntry {
        var code: UInt16
        var libraryName: String
        var ianaName: String?
    }

    /// Every suite the build implements, found by asking `wolfSSL_get_cipher_name_from_suite` for
    /// each code point of the first bytes wolfSSL uses (0x00, 0x13 TLS 1.3, 0xC0 ECC, 0xCC ChaCha,
    /// 0xD0 ECDHE-PSK): wolfSSL's own table, never a typed list. It answers "None" for a code point
    /// it lacks.
    static let allSuites: [SuiteEntry] = {
        var entries: [SuiteEntry] = []
        for first: UInt8 in [0x00, 0x13, 0xC0, 0xCC, 0xD0] {
            for second in 0...255 {
                guard let name = wolfSSL_get_cipher_name_from_suite(first, UInt8(second)).map({ String(cString: $0) }),
                      name != "None" else { continue }
                let iana = wolfSSL_get_cipher_name_iana_from_suite(first, UInt8(second)).map { String(cString: $0) }
                entries.append(SuiteEntry(code: UInt16(first) << 8 | UInt16(second), libraryName: name,
                                          ianaName: iana.flatMap { $0.hasPrefix("TLS_") ? $0 : nil }))
            }
        }
        return entries
    }()

    static func suite(code: UInt16) -> SuiteEntry? { allSuites.first { $0.code == code } }

    /// The versions a suite can be used with. wolfSSL has no per-suite version call: TLS 1.3 suites
    /// are the 0x13 block and wolfSSL's TLS13- names (the integrity-only 0xC0B4/0xC0B5 of RFC 9150);
    /// AEAD and SHA-256/384 MAC suites need TLS 1.2 (RFC 5246 §1.2), the rest run from the lowest
    /// version the build has.
    static func versions(of entry: SuiteEntry, lowest: TLSVersion) -> (TLSVersion, TLSVersion) {
        if entry.code >> 8 == 0x13 || entry.libraryName.hasPrefix("TLS13-") { return (.tls13, .tls13) }
        let name = entry.ianaName ?? entry.libraryName
        let tls12Only = ["GCM", "CCM", "CHACHA20", "SHA256", "SHA384"].contains { name.contains($0) }
        return (tls12Only ? .tls12 : lowest, .tls12)
    }

    /// Versions this build accepts as a maximum (`wolfSSL_CTX_set_max_proto_version` fails for one
    /// compiled out: Debian 5.5.4 has no TLS 1.0, WOLFSSL_ALLOW_TLSV10 being unset).
    static let versions: [TLSVersion] = TLSVersion.allCases.filter { version in
        guard let ctx = wolfSSL_CTX_new(wolfSSLv23_client_method()) else { return false }
        defer { wolfSSL_CTX_free(ctx) }
        return wolfSSL_CTX_set_max_proto_version(ctx, Int32(version.wireValue)) == WOLFSSL_SUCCESS
    }

    /// The version range and suites of a client context left as it comes.
    private static func defaults() -> (versions: [TLSVersion], suites: Set<String>) {
        guard let ctx = wolfSSL_CTX_new(wolfSSLv23_client_method()) else { return ([], []) }
        defer { wolfSSL_CTX_free(ctx) }
        let low = UInt16(truncatingIfNeeded: wolfSSL_CTX_get_min_proto_version(ctx))
        let high = UInt16(truncatingIfNeeded: wolfSSL_CTX_get_max_proto_version(ctx))
        let versions = versions.filter { (low...high).contains($0.wireValue) }
        var names: Set<String> = []
        if let ssl = wolfSSL_new(ctx) {
            defer { wolfSSL_free(ssl) }
            if let stack = wolfSSL_get_ciphers_compat(ssl) {
                for index in 0..<wolfSSL_sk_SSL_CIPHER_num(stack) {
                    if let cipher = wolfSSL_sk_SSL_CIPHER_value(stack, index), let name = wolfSSL_CIPHER_get_name(cipher) {
                        names.insert(String(cString: name))
                    }
                }
            }
        }
        return (versions, names)
    }

    /// Groups by IANA code point: wolfSSL's WOLFSSL_ECC_* and WOLFSSL_FFDHE_* values are the code
    /// points themselves (ssl.h), and `wolfSSL_CTX_UseSupportedCurve` refuses one compiled out.
    static let groups: [UInt16] = NamedGroup.byCode.keys.sorted().filter { code in
        guard let ctx = wolfSSL_CTX_new(wolfSSLv23_client_method()) else { return false }
        defer { wolfSSL_CTX_free(ctx) }
        return wolfSSL_CTX_UseSupportedCurve(ctx, code) == WOLFSSL_SUCCESS
    }

    /// wolfSSL's spelling of a group in `wolfSSL_get_curve_name` (its ECC set names, "X25519",
    /// "X448", "FFDHE_2048"…), read into the IANA name.
    static func groupName(library name: String) -> String? {
        let table: [String: String] = [
            "SECP224R1": "secp224r1", "SECP256K1": "secp256k1", "SECP256R1": "secp256r1", "SECP384R1": "secp384r1",
            "SECP521R1": "secp521r1", "BRAINPOOLP256R1": "brainpoolP256r1", "BRAINPOOLP384R1": "brainpoolP384r1",
            "BRAINPOOLP512R1": "brainpoolP512r1", "X25519": "x25519", "X448": "x448", "CURVE25519": "x25519", "CURVE448": "x448",
            "FFDHE_2048": "ffdhe2048", "FFDHE_3072": "ffdhe3072", "FFDHE_4096": "ffdhe4096", "FFDHE_6144": "ffdhe6144", "FFDHE_8192": "ffdhe8192",
        ]
        return table[name.uppercased()]
    }

    /// The RFC 7919 group of a TLS 1.3 FFDHE key exchange, from the prime's size in bits
    /// (`wolfSSL_GetDhKey_Sz`); nil for 0 (no FFDHE) or any other size.
    static func ffdheGroup(bits: Int32) -> String? {
        [2048: "ffdhe2048", 3072: "ffdhe3072", 4096: "ffdhe4096", 6144: "ffdhe6144", 8192: "ffdhe8192"][bits]
    }

    static func read() -> Capabilities {
        let (defaultVersions, defaultNames) = defaults()
        let lowest = versions.first ?? .tls12
        let suites = allSuites.map { entry in
            let (low, high) = WolfSSLCapabilities.versions(of: entry, lowest: lowest)
            return Capabilities.Suite(code: entry.code, name: entry.ianaName, libraryName: entry.libraryName,
                                      minVersion: low, maxVersion: high, isDefault: defaultNames.contains(entry.libraryName))
        }
        let groupNames = groups.compactMap { NamedGroup.byCode[$0] }
        var capabilities = Capabilities(
            versions: versions,
            defaultVersions: defaultVersions,
            suites: suites,
            groups: groupNames,
            // wolfSSL 5.5.4 has no call that lists the groups a default ClientHello offers.
            defaultGroups: nil,
            certificateTypes: ["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"],
            notes: [
                "no TLS 1.0 in Debian's build (WOLFSSL_ALLOW_TLSV10 unset)",
                "FFDHE groups of this build: \(groupNames.filter { $0.hasPrefix("ffdhe") }.joined(separator: ", "))",
                "no key log for TLS 1.3: Debian's build lacks HAVE_SECRET_CALLBACK (no wolfSSL_CTX_set_keylog_callback, no wolfSSL_set_tls13_secret_cb); TLS 1.2 CLIENT_RANDOM lines are written from wolfSSL_SESSION_get_master_key",
                "signature scheme not readable (no wolfSSL_get_peer_signature_nid in 5.5.4)",
                "no user_canceled on a handshake deadline: wolfSSL 5.5.4 has no call that sends an alert of the caller's choice",
            ])
        capabilities.features = ["sni", "resume-session-id", "resume-ticket", "transfer", "key-update", "ip-server-name", "psk", "psk-tls13", "psk-ke"]
        return capabilities
    }
}
