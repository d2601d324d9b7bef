internal import CShimGnuTLS
import PeerKit

/// What this GnuTLS build supports, asked of the library itself.
enum GnuTLSCapabilities {
    static func read() -> Capabilities {
        let defaults = DefaultPriority()
        let suites = GnuTLSNames.allSuites.enumerated().map { index, suite in
            Capabilities.Suite(
                code: suite.code, name: nil, libraryName: suite.libraryName,
                minVersion: suite.minVersion,
                maxVersion: suite.minVersion == .tls13 ? .tls13 : .tls12,
                isDefault: defaults.suiteIndexes.contains(index))
        }
        var capabilities = Capabilities(
            versions: GnuTLSNames.supportedVersions,
            defaultVersions: defaults.versions,
            suites: suites,
            groups: GnuTLSNames.groups.map(\.name),
            defaultGroups: defaults.groups,
            certificateTypes: ["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"],
            notes: ["a client presents its certificate whenever asked, through gnutls_certificate_set_retrieve_function2: GnuTLS on its own sends only one issued by a CA the server's CertificateRequest names"])
        capabilities.signatureSchemes = GnuTLSNames.signatureSchemes
        capabilities.features = ["sni", "resume-session-id", "resume-ticket", "transfer", "key-update", "ip-server-name"]
        // A build without PSK (./configure --disable-psk) has no PSK suites in its table.
        if GnuTLSNames.allSuites.contains(where: { GnuTLSPSKCredentials.isPSK($0.keyExchangeID) }) {
            capabilities.features.append("psk")
            // The same credentials give a TLS 1.3 external PSK, and the priority string alone picks
            // its modes: a client with +PSK and no (EC)DHE-PSK offers psk_ke alone, a server accepts
            // only it.
            if GnuTLSNames.supportedVersions.contains(.tls13) {
                capabilities.features += ["psk-tls13", "psk-ke"]
            }
        }
        return capabilities
    }

    /// What the default priority (`NORMAL`, after any system-wide policy) enables.
    struct DefaultPriority {
        var versions: [TLSVersion] = []
        var groups: [String] = []
        /// Indexes into `gnutls_cipher_suite_info`'s table.
        var suiteIndexes: Set<Int> = []

        init() {
            var priority: gnutls_priority_t?
            guard gnutls_priority_init(&priority, "NORMAL", nil) == GNUTLS_E_SUCCESS, let priority else { return }
            defer { gnutls_priority_deinit(priority) }
            var list: UnsafePointer<UInt32>?
            let count = gnutls_priority_protocol_list(priority, &list)
            if count > 0, let list {
                versions = (0..<Int(count)).compactMap { GnuTLSNames.version(gnutls_protocol_t(list[$0])) }.sorted()
            }
            var groupList: UnsafePointer<UInt32>?
            let groupCount = gnutls_priority_group_list(priority, &groupList)
            if groupCount > 0, let groupList {
                groups = (0..<Int(groupCount)).compactMap { GnuTLSNames.groupName(gnutls_group_t(groupList[$0])) }
            }
            var index: UInt32 = 0
            while true {
                var suiteIndex: UInt32 = 0
                let rc = gnutls_priority_get_cipher_suite_index(priority, index, &suiteIndex)
                if rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE { break }
                if rc == GNUTLS_E_SUCCESS { suiteIndexes.insert(Int(suiteIndex)) }
                index += 1
            }
        }
    }
}
