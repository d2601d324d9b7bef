import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// The verdict's pre-shared key rules (`Verdict.judgePreSharedKey`, `RefusalCause.preSharedKey`), on
/// made-up peer reports, one row per rule, in the style of `VerdictTests`.
@Suite("Verdict rules for pre-shared keys")
struct PreSharedKeyVerdictTests {
    typealias Row = VerdictTests.Row

    static func cell(_ scenario: String, suite: String = "TLS_PSK_WITH_AES_128_GCM_SHA256", cert: String = "rsa2048", version: String = "TLS1.2") throws -> Cell {
        let yaml = "servers: [gnutls]\nclients: [openssl]\nscenarios: [\(scenario)]\nversions: [\(version)]\ncerts: [\(cert)]\nclient_auth: [none]\nsuites: [\(suite)]\n"
        return try #require(MatrixRun(matrix: try MatrixFile(yaml: yaml, source: "psk-verdict-tests")).cells().first)
    }

    static func view(suite: String = "0x00A8", identity: String?, peer: String? = nil, notReadable: [String]? = nil,
                     version: TLSVersion = .tls12, group: String? = nil) -> PeerResultLine.View {
        var view = VerdictTests.view(version: version, suite: suite, group: group, peer: peer)
        view.pskIdentity = identity
        view.notReadable = notReadable
        return view
    }

    static let identity = CertificateAuthority.pskIdentity

    static let rows: [Row] = [
        Row(name: "psk: both report the run's identity, no certificate crossed: pass", cell: { try cell("psk") },
            server: VerdictTests.ok("server", view(identity: identity)), client: VerdictTests.ok("client", view(identity: identity)), outcome: .pass),
        Row(name: "psk: the server accepted another identity: fail", cell: { try cell("psk") },
            server: VerdictTests.ok("server", view(identity: "someone else")), client: VerdictTests.ok("client", view(identity: identity)), outcome: .fail,
            says: "the server reports PSK identity someone else"),
        Row(name: "psk: no side says a PSK was used: fail", cell: { try cell("psk") },
            server: VerdictTests.ok("server", view(identity: nil)), client: VerdictTests.ok("client", view(identity: identity)), outcome: .fail,
            says: "the server reports no PSK identity"),
        Row(name: "psk: a client whose library cannot show the identity says so: pass, with a note", cell: { try cell("psk") },
            server: VerdictTests.ok("server", view(identity: identity)), client: VerdictTests.ok("client", view(identity: nil, notReadable: ["psk_identity"])), outcome: .pass,
            says: "cannot expose the PSK identity"),
        Row(name: "psk: a plain PSK suite during which a server certificate crossed: fail", cell: { try cell("psk") },
            server: VerdictTests.ok("server", view(identity: identity)), client: VerdictTests.ok("client", view(identity: identity, peer: CertificateAuthority.serverSubject)),
            outcome: .fail, says: "was to be authenticated by the pre-shared key alone"),
        Row(name: "psk: RSA_PSK authenticates the server by its certificate as well: pass", cell: { try cell("psk", suite: "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256") },
            server: VerdictTests.ok("server", view(suite: "0x00AC", identity: identity)),
            client: VerdictTests.ok("client", view(suite: "0x00AC", identity: identity, peer: CertificateAuthority.serverSubject)), outcome: .pass),
        Row(name: "psk: RSA_PSK without the server certificate: fail", cell: { try cell("psk", suite: "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256") },
            server: VerdictTests.ok("server", view(suite: "0x00AC", identity: identity)), client: VerdictTests.ok("client", view(suite: "0x00AC", identity: identity)),
            outcome: .fail, says: "client reports server certificate none"),
        Row(name: "psk-unknown-identity: the server refuses with unknown_psk_identity: pass", cell: { try cell("psk-unknown-identity") },
            server: VerdictTests.failed("server", .handshake, alert: "unknown_psk_identity", .sent, message: "psk identity not found"),
            client: VerdictTests.failed("client", .handshake, alert: "unknown_psk_identity", .received, message: "alert"), outcome: .pass),
        Row(name: "psk-unknown-identity hidden behind decrypt_error (RFC 4279 §2 allows it): pass, a counted deviation", cell: { try cell("psk-unknown-identity") },
            server: VerdictTests.failed("server", .handshake, alert: "decrypt_error", .sent, message: "bad finished"),
            client: VerdictTests.failed("client", .handshake, alert: "decrypt_error", .received, message: "alert"), outcome: .pass,
            deviation: AlertDeviation(side: .server, expected: "unknown_psk_identity", observed: "decrypt_error")),
        Row(name: "psk-unknown-identity refused as a suite the server will not take: fail", cell: { try cell("psk-unknown-identity") },
            server: VerdictTests.failed("server", .handshake, alert: "handshake_failure", .sent, message: "no shared cipher"),
            client: VerdictTests.failed("client", .handshake, alert: "handshake_failure", .received, message: "alert"), outcome: .fail,
            says: "refused the handshake's parameters with handshake_failure"),
        Row(name: "psk-unknown-identity accepted: fail", cell: { try cell("psk-unknown-identity") },
            server: VerdictTests.ok("server", view(identity: CertificateAuthority.unknownPSKIdentity)), client: VerdictTests.ok("client", view(identity: CertificateAuthority.unknownPSKIdentity)),
            outcome: .fail, says: "the handshake and echo succeeded"),
        Row(name: "psk-wrong-key: the server cannot decrypt the client's Finished: pass", cell: { try cell("psk-wrong-key") },
            server: VerdictTests.failed("server", .handshake, alert: "bad_record_mac", .sent, message: "decryption failed"),
            client: VerdictTests.failed("client", .handshake, alert: "bad_record_mac", .received, message: "alert"), outcome: .pass),
        Row(name: "psk-wrong-key refused by the client instead: fail", cell: { try cell("psk-wrong-key") },
            server: VerdictTests.failed("server", .handshake, alert: "bad_record_mac", .received, message: "alert"),
            client: VerdictTests.failed("client", .handshake, alert: "bad_record_mac", .sent, message: "decryption failed"), outcome: .fail,
            says: "the client refused first"),
    ]

    static func cell13(_ scenario: String) throws -> Cell { try cell(scenario, suite: "TLS_AES_128_GCM_SHA256", version: "TLS1.3") }
    static func view13(identity: String?, peer: String? = nil, group: String? = "x25519") -> PeerResultLine.View {
        view(suite: "0x1301", identity: identity, peer: peer, version: .tls13, group: group)
    }

    static let tls13Rows: [Row] = [
        Row(name: "TLS 1.3 psk: both report the external PSK's identity, no certificate: pass", cell: { try cell13("psk") },
            server: VerdictTests.ok("server", view13(identity: identity)), client: VerdictTests.ok("client", view13(identity: identity)), outcome: .pass),
        Row(name: "TLS 1.3 psk: the server selected no PSK and fell back to its certificate: fail", cell: { try cell13("psk") },
            server: VerdictTests.ok("server", view13(identity: nil)), client: VerdictTests.ok("client", view13(identity: nil, peer: CertificateAuthority.serverSubject)),
            outcome: .fail, says: "fell back to its certificate"),
        Row(name: "TLS 1.3 psk: a certificate crossed in a PSK handshake: fail", cell: { try cell13("psk") },
            server: VerdictTests.ok("server", view13(identity: identity)), client: VerdictTests.ok("client", view13(identity: identity, peer: CertificateAuthority.serverSubject)),
            outcome: .fail, says: "was to be authenticated by the pre-shared key alone"),
        Row(name: "TLS 1.3 psk-ke: a key exchange group was used: fail", cell: { try cell13("psk-ke") },
            server: VerdictTests.ok("server", view13(identity: identity)), client: VerdictTests.ok("client", view13(identity: identity)),
            outcome: .fail, says: "psk_ke has no key exchange"),
        Row(name: "TLS 1.3 psk-ke: no group, the key alone: pass", cell: { try cell13("psk-ke") },
            server: VerdictTests.ok("server", view13(identity: identity, group: nil)), client: VerdictTests.ok("client", view13(identity: identity, group: nil)), outcome: .pass),
        Row(name: "TLS 1.3 psk-unknown-identity: no PSK selected, the certificate verified: pass", cell: { try cell13("psk-unknown-identity") },
            server: VerdictTests.ok("server", view13(identity: nil)), client: VerdictTests.ok("client", view13(identity: nil, peer: CertificateAuthority.serverSubject)), outcome: .pass),
        Row(name: "TLS 1.3 psk-unknown-identity: the server took the stranger's PSK: fail", cell: { try cell13("psk-unknown-identity") },
            server: VerdictTests.ok("server", view13(identity: CertificateAuthority.unknownPSKIdentity)), client: VerdictTests.ok("client", view13(identity: CertificateAuthority.unknownPSKIdentity)),
            outcome: .fail, says: "yet the server reports PSK identity"),
        Row(name: "TLS 1.3 psk-wrong-key: the binder fails, decrypt_error: pass", cell: { try cell13("psk-wrong-key") },
            server: VerdictTests.failed("server", .handshake, alert: "decrypt_error", .sent, message: "bad binder"),
            client: VerdictTests.failed("client", .handshake, alert: "decrypt_error", .received, message: "alert"), outcome: .pass),
    ]

    @Test("TLS 1.3 external PSK cells", arguments: tls13Rows)
    func tls13(_ row: Row) throws { try VerdictTests().check(row) }

    @Test("pre-shared key cells", arguments: rows)
    func row(_ row: Row) throws { try VerdictTests().check(row) }
}
