import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// The verdict's pre-shared key rules (`Verdict.judgePreSharedKey`, `RefusalCause.preSharedKey`), on
/// made-up peer reports, one row per rule, in the style of `VerdictTests`.
@Suite("Verdict rules for pre-shared keys")
struct PreSharedKeyVerdictTests {
    typealias Row = VerdictTests.Row

    static func cell(_ scenario: String, suite: String = "TLS_PSK_WITH_AES_128_GCM_SHA256", cert: String = "rsa2048") throws -> Cell {
        let yaml = "servers: [gnutls]\nclients: [openssl]\nscenarios: [\(scenario)]\nversions: [TLS1.2]\ncerts: [\(cert)]\nclient_auth: [none]\nsuites: [\(suite)]\n"
        return try #require(MatrixRun(matrix: try MatrixFile(yaml: yaml, source: "psk-verdict-tests")).cells().first)
    }

    static func view(suite: String = "0x00A8", identity: String?, peer: String? = nil, notReadable: [String]? = nil) -> PeerResultLine.View {
        var view = VerdictTests.view(version: .tls12, suite: suite, group: nil, peer: peer)
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
            outcome: .fail, says: "authenticates by the pre-shared key alone"),
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

    @Test("pre-shared key cells", arguments: rows)
    func row(_ row: Row) throws { try VerdictTests().check(row) }
}
