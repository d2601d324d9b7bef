internal import CShimGnuTLS
import PeerKit

/// What this GnuTLS build supports, asked of the library itself.
enum GnuTLSCapabilities {
    static func read() -> Capabilities {
        let suites = GnuTLSNames.allSuites.map { suite in
            Capabilities.Suite(
                code: suite.code, name: nil, libraryName: suite.libraryName,
                minVersion: suite.minVersion,
                maxVersion: suite.minVersion == .tls13 ? .tls13 : .tls12)
        }
        return Capabilities(
            versions: GnuTLSNames.supportedVersions,
            defaultVersions: defaultVersions(),
            suites: suites,
            groups: GnuTLSNames.groups.map(\.name),
            certificateTypes: ["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"],
            notes: [])
    }

    /// The versions the default priority (`NORMAL`, after any system-wide policy) enables.
    private static func defaultVersions() -> [TLSVersion] {
        var priority: gnutls_priority_t?
        guard gnutls_priority_init(&priority, "NORMAL", nil) == GNUTLS_E_SUCCESS, let priority else { return [] }
        defer { gnutls_priority_deinit(priority) }
        var list: UnsafePointer<UInt32>?
        let count = gnutls_priority_protocol_list(priority, &list)
        guard count > 0, let list else { return [] }
        return (0..<Int(count)).compactMap { GnuTLSNames.version(gnutls_protocol_t(list[$0])) }.sorted()
    }
}
