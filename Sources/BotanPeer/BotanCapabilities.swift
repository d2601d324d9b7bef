internal import CShimBotan
import PeerKit

/// What this Botan build supports, asked of the library itself (Ciphersuite::all_known_ciphersuites,
/// the default TLS::Policy).
enum BotanCapabilities {
    /// Botan 2 has no TLS 1.3.
    static let versions: [TLSVersion] = [.tls10, .tls11, .tls12]

    static func defaultVersions() -> [TLSVersion] {
        versions.enumerated().filter { CShimBotan_default_allows(Int32($0.offset)) == 1 }.map(\.element)
    }

    /// Every suite Botan knows (Ciphersuite::all_known_ciphersuites) and can run (`valid`).
    private static func knownSuites() -> [CShimBotan_SuiteInfo] {
        (0..<CShimBotan_suite_count()).compactMap { index -> CShimBotan_SuiteInfo? in
            var info = CShimBotan_SuiteInfo()
            CShimBotan_suite_info(index, &info)
            return info.valid == 1 ? info : nil
        }
    }

    /// The suites a certificate can authenticate here: ECDHE, DHE, RSA key transport and CECPQ1
    /// (Botan's NewHope+X25519 experiment on Google's code points 0x16B7-0x16BA, which its default
    /// Policy enables) with RSA or ECDSA signatures (IMPLICIT: RSA key transport). Left out: the
    /// PSK suites (`preSharedKeySuites`, with `--psk` only), SRP and anonymous suites (this peer
    /// has no password) and DSS (no DSA certificates).
    static func certificateSuites() -> [CShimBotan_SuiteInfo] {
        knownSuites().filter { info in
            var info = info
            return ["ECDH", "DH", "RSA", "CECPQ1"].contains(text(&info.kex)) && ["RSA", "ECDSA", "IMPLICIT"].contains(text(&info.auth))
        }
    }

    /// The suites a pre-shared key authenticates (Ciphersuite::psk_ciphersuite: RFC 4279's PSK and
    /// DHE_PSK, RFC 5489's ECDHE_PSK and their later AEAD siblings). Botan 2 implements no RSA_PSK
    /// (TLS::Kex_Algo has none).
    static func preSharedKeySuites() -> [CShimBotan_SuiteInfo] {
        knownSuites().filter { $0.psk == 1 }
    }

    static func suites() -> [Capabilities.Suite] {
        (certificateSuites() + preSharedKeySuites()).map { info in
            var info = info
            let name = text(&info.name)
            return Capabilities.Suite(
                code: info.code,
                // Botan's spelling is IANA's without "TLS_"; the runner names suites from the code point.
                name: nil,
                libraryName: name,
                minVersion: info.usable_tls10 == 1 ? .tls10 : .tls12,
                maxVersion: .tls12,
                isDefault: info.default_tls12 == 1 || info.default_tls10 == 1)
        }
    }

    /// Botan 2's Group_Params: every one of them is in the default Policy's key_exchange_groups.
    static func groupCodes() -> [UInt16] {
        var codes = [UInt16](repeating: 0, count: 32)
        let count = CShimBotan_default_groups(&codes, codes.count)
        return Array(codes.prefix(count))
    }

    static func groups() -> [String] { groupCodes().map(NamedGroup.name(code:)) }

    static func signatureSchemes() -> [String] {
        var codes = [UInt16](repeating: 0, count: 32)
        let count = CShimBotan_signature_schemes(&codes, codes.count, 0)
        return codes.prefix(count).map(SignatureScheme.name(code:))
    }

    static func read() -> Capabilities {
        var capabilities = Capabilities(
            versions: versions,
            defaultVersions: defaultVersions(),
            suites: suites(),
            groups: groups(),
            defaultGroups: groups(),
            // Botan 2's TLS authenticates with RSA, DSA or ECDSA only (TLS::Auth_Method): an
            // Ed25519 certificate fits no TLS 1.2 suite.
            certificateTypes: ["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521"],
            notes: [
                "no TLS 1.3 in Botan 2",
                "no Ed25519 certificates: Botan 2's TLS signs with RSA, DSA or ECDSA only",
                "TLS 1.0 and 1.1 are off in Botan's default Policy (allow_tls10/allow_tls11); --legacy turns them on with SHA-1 signatures",
                "a forced suite widens the Policy's allowed ciphers, MACs and key exchanges by that suite",
                "no ip-server-name: Botan 2.19 matches a host name against dNSName SANs (and the CN) only",
                "verification failures are answered with bad_certificate, as Botan's own tls_verify_cert_chain does",
                "a Botan server asks for a client certificate only with a suite that signs (Certificate_Req needs signature_used()): RSA key transport suites never ask",
                "no RSA_PSK suites: Botan 2 implements PSK, DHE_PSK and ECDHE_PSK only",
                "a Botan server sends a ServerKeyExchange with an empty psk_identity_hint for plain PSK suites too, where RFC 4279 §2 omits the message when there is no hint",
                "an unknown PSK identity gets an empty key from Credentials_Manager::psk, which Botan refuses with unknown_psk_identity (Policy::hide_unknown_users is false)",
            ])
        capabilities.signatureSchemes = signatureSchemes()
        capabilities.features = ["sni", "resume-session-id", "resume-ticket", "transfer"]
        // TLS 1.2 PSK suites only: Botan 2 has no TLS 1.3, so no external PSK (psk-tls13, psk-ke).
        if !preSharedKeySuites().isEmpty { capabilities.features.append("psk") }
        return capabilities
    }

    static func text<T>(_ tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
