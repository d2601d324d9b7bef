internal import CShimNSS
import PeerKit

/// What this NSS build supports, asked of the library itself.
enum NSSCapabilities {
    static func read() -> Capabilities {
        var supported = SSLVersionRange()
        var defaults = SSLVersionRange()
        _ = SSL_VersionRangeGetSupported(ssl_variant_stream, &supported)
        _ = SSL_VersionRangeGetDefault(ssl_variant_stream, &defaults)
        let versions = TLSVersion.allCases.filter { $0.wireValue >= supported.min && $0.wireValue <= supported.max }
        let defaultVersions = TLSVersion.allCases.filter { $0.wireValue >= defaults.min && $0.wireValue <= defaults.max }
        let suites = NSSConfiguration.implementedSuites.compactMap { code -> Capabilities.Suite? in
            var info = SSLCipherSuiteInfo()
            guard SSL_GetCipherSuiteInfo(code, &info, UInt32(MemoryLayout<SSLCipherSuiteInfo>.size)) == SECSuccess,
                  let name = info.cipherSuiteName.map({ String(cString: $0) }) else { return nil }
            var enabled: PRBool = PR_FALSE
            _ = SSL_CipherPrefGetDefault(Int32(code), &enabled)
            var policy: Int32 = 0
            _ = SSL_CipherPolicyGet(Int32(code), &policy)
            let tls13 = info.keaType == ssl_kea_tls13_any
            // AEAD and SHA-2 HMAC suites came with TLS 1.2 (RFC 5246, RFC 5288, RFC 5289).
            let tls12Only = !tls13 && (info.macAlgorithm == ssl_mac_aead || info.macAlgorithm == ssl_hmac_sha256 || info.macAlgorithm == ssl_hmac_sha384)
            var suite = Capabilities.Suite(
                code: code, name: nil, libraryName: name,
                minVersion: tls13 ? .tls13 : (tls12Only ? .tls12 : .tls10),
                maxVersion: tls13 ? .tls13 : .tls12,
                isDefault: enabled != PR_FALSE && policy != SSL_NOT_ALLOWED)
            suite.disabledByPolicy = policy == SSL_NOT_ALLOWED
            return suite
        }
        var capabilities = Capabilities(
            versions: versions, defaultVersions: defaultVersions, suites: suites,
            groups: NSSConfiguration.groups,
            // NSS has no call that reads back its default group list.
            defaultGroups: nil,
            certificateTypes: ["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521"],
            notes: [
                "initialized with NSS_NoDB_Init: certificates and keys are temporary objects, trust is the --ca given to CERT_PKIXVerifyCert as its only anchor",
                "CERT_SetSlopTime(0): NSS by default accepts a certificate up to 24 hours before its notBefore (PENDING_SLOP); the peer enforces notBefore",
                "no Ed25519 certificates: the peer loads none into NSS (3.87, the distribution's, has no Ed25519 signatures in TLS)",
                "no key log: NSS's SSLKEYLOGFILE is compiled out of Debian's build and its secret callback does not give the client random",
                "default groups are not readable: NSS has no call that returns its default group list",
                "no psk: NSS has no TLS 1.2 pre-shared key cipher suites; psk-tls13 is its external PSK (SSL_AddExternalPsk, SHA-256)",
                "no psk-ke: NSS does TLS 1.3 PSKs with psk_dhe_ke only: its client never offers psk_ke, and its server answers a psk_ke-only offer with the PSK and a key_share (psk_dhe_ke), against RFC 8446 §4.2.9",
            ])
        capabilities.signatureSchemes = []
        capabilities.features = ["sni", "resume-session-id", "resume-ticket", "transfer", "key-update", "ip-server-name", "psk-tls13"]
        return capabilities
    }
}
