import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// Every rule of `Verdict`, on made-up peer reports: each row is a case a rule decides, so removing
/// the rule turns its row red. Real peers over real sockets are in the scenario and network tests.
@Suite("Verdict rules, table-driven")
struct VerdictTests {
    // MARK: Building made-up peer reports

    static func cell(_ scenario: String, version: TLSVersion = .tls13, clientAuth: ClientAuth = .none, network: String = "none",
                     group: String? = nil) throws -> Cell {
        var yaml = "servers: [gnutls]\nclients: [openssl]\nscenarios: [\(scenario)]\nversions: [\(version.rawValue)]\ncerts: [ecdsa-p256]\n"
        yaml += "client_auth: [\(clientAuth.rawValue)]\nnetwork: [\(network)]\n"
        if let group { yaml += "groups: [\(group)]\n" }
        let matrix = try MatrixFile(yaml: yaml, source: "verdict-tests")
        return try #require(MatrixRun(matrix: matrix).cells().first)
    }

    static func view(version: TLSVersion = .tls13, suite: String = "0x1301", group: String? = "x25519", peer: String?,
                     alpn: String? = nil) -> PeerResultLine.View {
        PeerResultLine.View(version: version.rawValue, suite: nil, suiteCode: suite, librarySuite: nil, group: group, signatureScheme: nil,
                            alpn: alpn, resumed: false, peerCertificate: peer, serverName: nil)
    }

    static let serverSees = view(peer: nil)
    static let clientSees = view(peer: CertificateAuthority.serverSubject)

    static func ok(_ role: String, _ view: PeerResultLine.View) -> PeerExit {
        PeerExit(termination: .exited(0), result: PeerResultLine(role: role, status: .ok, reason: nil, view: view, views: nil, exchange: nil,
                                                                error: nil, handshakeMs: 1, log: nil))
    }

    static func failed(_ role: String, _ stage: FailureStage, alert: String? = nil, _ direction: ObservedAlert.Direction? = nil,
                       reason: VerifyReason? = nil, view: PeerResultLine.View? = nil, message: String = "the library's words") -> PeerExit {
        let failure = PeerResultLine.Failure(stage: stage, alert: alert, alertDirection: direction, verifyReason: reason, message: message)
        return PeerExit(termination: .exited(1), result: PeerResultLine(role: role, status: .failed, reason: nil, view: view, views: nil,
                                                                        exchange: nil, error: failure, handshakeMs: nil, log: nil))
    }

    /// One row: a cell, what each side reported, and what the verdict must say.
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var cell: @Sendable () throws -> Cell
        var server: PeerExit
        var client: PeerExit?
        var outcome: Outcome
        /// Text the reason (or, for a pass, a note) must contain.
        var says: String?
        var deviation: AlertDeviation? = nil
        var testDescription: String { name }
    }

    // MARK: Successful handshakes

    static let successRows: [Row] = [
        Row(name: "agreeing views, verified certificate: pass", cell: { try cell("basic") },
            server: ok("server", serverSees), client: ok("client", clientSees), outcome: .pass),
        Row(name: "a side without a view: fail", cell: { try cell("basic") },
            server: ok("server", serverSees), client: PeerExit(termination: .exited(0), result: PeerResultLine(role: "client", status: .ok, reason: nil, view: nil, views: nil, exchange: nil, error: nil, handshakeMs: nil, log: nil)),
            outcome: .fail, says: "client did not report"),
        Row(name: "the sides disagree on the version: fail", cell: { try cell("basic") },
            server: ok("server", view(version: .tls12, suite: "0xC02B", peer: nil)), client: ok("client", clientSees), outcome: .fail, says: "disagree on the version"),
        Row(name: "the sides disagree on the suite: fail", cell: { try cell("basic") },
            server: ok("server", view(suite: "0x1302", peer: nil)), client: ok("client", clientSees), outcome: .fail, says: "disagree on the suite"),
        Row(name: "the sides disagree on the group: fail", cell: { try cell("basic") },
            server: ok("server", view(group: "secp256r1", peer: nil)), client: ok("client", clientSees), outcome: .fail, says: "disagree on the group"),
        Row(name: "a version other than the one asked for: fail", cell: { try cell("basic", version: .tls12) },
            server: ok("server", serverSees), client: ok("client", clientSees), outcome: .fail, says: "asked for TLS1.2"),
        Row(name: "a forced group neither side reports: fail", cell: { try cell("basic", group: "secp384r1") },
            server: ok("server", view(group: nil, peer: nil)), client: ok("client", view(group: nil, peer: CertificateAuthority.serverSubject)),
            outcome: .fail, says: "neither side reports the key exchange group; secp384r1 was forced"),
        Row(name: "a forced group one side reads back: pass", cell: { try cell("basic", group: "secp384r1") },
            server: ok("server", view(group: "secp384r1", peer: nil)), client: ok("client", view(group: nil, peer: CertificateAuthority.serverSubject)),
            outcome: .pass),
        Row(name: "another group than the forced one: fail", cell: { try cell("basic", group: "secp384r1") },
            server: ok("server", serverSees), client: ok("client", clientSees), outcome: .fail, says: "asked for group secp384r1"),
        Row(name: "a client whose library cannot expose the server certificate says so: pass, with a note", cell: { try cell("basic") },
            server: ok("server", serverSees), client: ok("client", {
                var unreadable = view(peer: nil)
                unreadable.notReadable = ["peer_certificate"]
                return unreadable
            }()), outcome: .pass, says: "not readable"),
        Row(name: "a client that reports no server certificate, and does not say it cannot read one: fail", cell: { try cell("basic") },
            server: ok("server", serverSees), client: ok("client", view(peer: nil)), outcome: .fail, says: "client reports server certificate none"),
        Row(name: "the client reports another server certificate: fail", cell: { try cell("basic") },
            server: ok("server", serverSees), client: ok("client", view(peer: "CN=someone-else")), outcome: .fail, says: "client reports server certificate"),
        Row(name: "client auth required and the server reports no client certificate: fail", cell: { try cell("basic", clientAuth: .required) },
            server: ok("server", serverSees), client: ok("client", clientSees), outcome: .fail, says: "client auth was required"),
        Row(name: "an expected success where a side failed: fail with that side's error", cell: { try cell("basic") },
            server: failed("server", .handshake, alert: "handshake_failure", .sent), client: failed("client", .handshake, alert: "handshake_failure", .received),
            outcome: .fail, says: "server handshake"),
        Row(name: "the overlapping ALPN lists, and the server's choice both sides report: pass", cell: { try cell("alpn") },
            server: ok("server", view(peer: nil, alpn: "h2")), client: ok("client", view(peer: CertificateAuthority.serverSubject, alpn: "h2")), outcome: .pass),
        Row(name: "overlapping ALPN lists and no protocol negotiated: fail", cell: { try cell("alpn") },
            server: ok("server", serverSees), client: ok("client", clientSees), outcome: .fail, says: "no application protocol"),
        Row(name: "hrr: the group the server insists on must be reported", cell: { try cell("hrr") },
            server: ok("server", serverSees), client: ok("client", clientSees), outcome: .fail, says: "asked for group secp384r1"),
    ]

    // MARK: Expected refusals

    static let refusalRows: [Row] = [
        Row(name: "expired-cert: the client rejects it as expired, the server receives the alert: pass", cell: { try cell("expired-cert") },
            server: failed("server", .handshake, alert: "certificate_expired", .received),
            client: failed("client", .verify, alert: "certificate_expired", .sent, reason: .expired), outcome: .pass),
        Row(name: "expired-cert rejected as untrusted: fail naming both reasons", cell: { try cell("expired-cert") },
            server: failed("server", .handshake, alert: "unknown_ca", .received),
            client: failed("client", .verify, alert: "unknown_ca", .sent, reason: .untrusted), outcome: .fail, says: "as expired; its library rejected it as untrusted"),
        Row(name: "expired-cert refused by an unrelated handshake failure: fail", cell: { try cell("expired-cert") },
            server: failed("server", .handshake, alert: "decode_error", .received),
            client: failed("client", .handshake, alert: "decode_error", .sent), outcome: .fail, says: "it failed at handshake instead"),
        Row(name: "expired-cert with no verify_reason from the peer: fail", cell: { try cell("expired-cert") },
            server: failed("server", .handshake, alert: "certificate_expired", .received),
            client: failed("client", .verify, alert: "certificate_expired", .sent), outcome: .fail, says: "gave no verify_reason"),
        Row(name: "the server refused first where the client should have: fail", cell: { try cell("bad-key-usage") },
            server: failed("server", .handshake, alert: "handshake_failure", .sent),
            client: failed("client", .handshake, alert: "handshake_failure", .received), outcome: .fail, says: "the server refused first"),
        Row(name: "the other side waits until its timeout: fail", cell: { try cell("expired-cert") },
            server: failed("server", .timeout),
            client: failed("client", .verify, alert: "certificate_expired", .sent, reason: .expired), outcome: .fail, says: "never learned"),
        Row(name: "the other side cannot read the alert and fails with its own: fail", cell: { try cell("expired-cert") },
            server: failed("server", .handshake, alert: "bad_record_mac", .sent),
            client: failed("client", .verify, alert: "certificate_expired", .sent, reason: .expired), outcome: .fail, says: "did not read the client's certificate_expired alert"),
        Row(name: "another alert than the RFC names: pass, counted as a deviation, with both notes kept", cell: { try cell("expired-cert") },
            server: failed("server", .handshake, alert: "decode_error", .received),
            client: failed("client", .verify, alert: "bad_certificate", .sent, reason: .expired), outcome: .pass, says: "received decode_error",
            deviation: AlertDeviation(side: .client, expected: "certificate_expired", observed: "bad_certificate")),
        Row(name: "a refusal with no alert either side reports: pass, counted as a deviation", cell: { try cell("expired-cert") },
            server: failed("server", .handshake, message: "EOF"),
            client: failed("client", .verify, reason: .expired), outcome: .pass, says: "no alert",
            deviation: AlertDeviation(side: .client, expected: "certificate_expired", observed: nil)),
        Row(name: "only the other side reports the alert: it is the evidence, and it matches", cell: { try cell("expired-cert") },
            server: failed("server", .handshake, alert: "certificate_expired", .received),
            client: failed("client", .verify, reason: .expired), outcome: .pass),
        Row(name: "client-cert-missing: the server finds no certificate (verify, no_certificate): pass", cell: { try cell("client-cert-missing", clientAuth: .required) },
            server: failed("server", .verify, alert: "certificate_required", .sent, reason: .noCertificate),
            client: failed("client", .data, alert: "certificate_required", .received), outcome: .pass),
        Row(name: "client-cert-untrusted refused because no certificate came: fail", cell: { try cell("client-cert-untrusted", clientAuth: .required) },
            server: failed("server", .verify, alert: "certificate_required", .sent, reason: .noCertificate),
            client: failed("client", .data, alert: "certificate_required", .received), outcome: .fail, says: "rejected it as no_certificate"),
        Row(name: "no-shared-suite refused over a certificate instead: fail", cell: { try cell("no-shared-suite") },
            server: failed("server", .verify, alert: "bad_certificate", .sent, reason: .other),
            client: failed("client", .handshake, alert: "bad_certificate", .received), outcome: .fail, says: "rejected a certificate instead"),
        Row(name: "no-shared-suite refused by the server with handshake_failure: pass", cell: { try cell("no-shared-suite") },
            server: failed("server", .handshake, alert: "handshake_failure", .sent),
            client: failed("client", .handshake, alert: "handshake_failure", .received), outcome: .pass),
        Row(name: "version-mismatch: either side may refuse; the alert the client received counts", cell: { try cell("version-mismatch") },
            server: failed("server", .handshake, message: "no alert reported"),
            client: failed("client", .handshake, alert: "protocol_version", .received), outcome: .pass),
        Row(name: "alpn-mismatch: the server carries on without ALPN (RFC 7301 §3.2 says SHALL refuse): fail", cell: { try cell("alpn-mismatch") },
            server: ok("server", serverSees), client: ok("client", clientSees), outcome: .fail, says: "carried on without ALPN"),
        Row(name: "alpn-mismatch refused with no_application_protocol: pass", cell: { try cell("alpn-mismatch") },
            server: failed("server", .handshake, alert: "no_application_protocol", .sent),
            client: failed("client", .handshake, alert: "no_application_protocol", .received), outcome: .pass),
        Row(name: "a refusal expected and everything succeeded: fail", cell: { try cell("expired-cert") },
            server: ok("server", serverSees), client: ok("client", clientSees), outcome: .fail, says: "expected the client to refuse"),
    ]

    // MARK: Networks that break the connection, and a client that truncates

    static let networkRows: [Row] = [
        Row(name: "corrupt: both handshakes complete, the server fails at data with bad_record_mac: pass", cell: { try cell("basic", network: "corrupt") },
            server: failed("server", .data, alert: "bad_record_mac", .sent, view: serverSees),
            client: failed("client", .data, alert: "bad_record_mac", .received, view: clientSees), outcome: .pass),
        Row(name: "corrupt: a handshake that never completed is another failure: fail", cell: { try cell("basic", network: "corrupt") },
            server: failed("server", .data, alert: "bad_record_mac", .sent),
            client: failed("client", .data, alert: "bad_record_mac", .received, view: clientSees), outcome: .fail, says: "both handshakes must complete"),
        Row(name: "corrupt: the server fails at another stage: fail", cell: { try cell("basic", network: "corrupt") },
            server: failed("server", .shutdown, view: serverSees),
            client: failed("client", .data, view: clientSees), outcome: .fail, says: "server must fail at stage data"),
        Row(name: "corrupt: the server reports another alert: pass, counted", cell: { try cell("basic", network: "corrupt") },
            server: failed("server", .data, alert: "decode_error", .sent, view: serverSees),
            client: failed("client", .data, alert: "decode_error", .received, view: clientSees), outcome: .pass,
            deviation: AlertDeviation(side: .server, expected: "bad_record_mac", observed: "decode_error")),
        Row(name: "truncate: both fail in the handshake: pass", cell: { try cell("basic", network: "truncate-after-100") },
            server: failed("server", .handshake), client: failed("client", .handshake), outcome: .pass),
        Row(name: "truncate: a side that waits for its timeout instead: fail", cell: { try cell("basic", network: "truncate-after-100") },
            server: failed("server", .timeout), client: failed("client", .handshake), outcome: .fail, says: "server must fail at stage handshake"),
        Row(name: "reset: both fail in the handshake: pass", cell: { try cell("basic", network: "reset") },
            server: failed("server", .handshake), client: failed("client", .handshake), outcome: .pass),
        Row(name: "stall: both meet their own timeout: pass", cell: { try cell("basic", network: "stall") },
            server: failed("server", .timeout), client: failed("client", .timeout), outcome: .pass),
        Row(name: "stall: the client fails in the handshake instead: fail", cell: { try cell("basic", network: "stall") },
            server: failed("server", .timeout), client: failed("client", .handshake), outcome: .fail, says: "client must fail at stage timeout"),
        Row(name: "a broken network whose client completed the echo: fail", cell: { try cell("basic", network: "reset") },
            server: failed("server", .handshake), client: ok("client", clientSees), outcome: .fail, says: "survived"),
        Row(name: "close-notify: the server reports the truncation at shutdown: pass", cell: { try cell("close-notify") },
            server: failed("server", .shutdown, view: serverSees), client: ok("client", clientSees), outcome: .pass, says: "truncation"),
        Row(name: "close-notify: the server takes it for a clean close: fail", cell: { try cell("close-notify") },
            server: ok("server", serverSees), client: ok("client", clientSees), outcome: .fail, says: "clean close"),
        Row(name: "close-notify: the server fails at data instead: fail", cell: { try cell("close-notify") },
            server: failed("server", .data, view: serverSees), client: ok("client", clientSees), outcome: .fail, says: "failed before the close"),
    ]

    // MARK: Which rule comes first

    static let precedenceRows: [Row] = [
        Row(name: "a crash beats everything the other side said", cell: { try cell("expired-cert") },
            server: PeerExit(termination: .signaled(SIGSEGV)), client: failed("client", .verify, alert: "certificate_expired", .sent, reason: .expired),
            outcome: .crash, says: "SIGSEGV"),
        Row(name: "a peer killed at the cell deadline is a timeout, before any refusal rule", cell: { try cell("expired-cert") },
            server: { var e = PeerExit(termination: .signaled(SIGKILL)); e.killedAtDeadline = true; return e }(),
            client: failed("client", .verify, alert: "certificate_expired", .sent, reason: .expired), outcome: .timeout),
        Row(name: "a peer that says unsupported at run time has lying capabilities: error, never unsupported", cell: { try cell("basic") },
            server: PeerExit(termination: .exited(3), result: PeerResultLine(role: "server", status: .unsupported, reason: "priority string rejected", view: nil, views: nil, exchange: nil, error: nil, handshakeMs: nil, log: nil)),
            client: ok("client", clientSees), outcome: .error, says: "capabilities are wrong"),
        Row(name: "a peer that rejected its arguments is a harness error", cell: { try cell("basic") },
            server: PeerExit(termination: .exited(2), log: "peer-x: unknown option --bogus"), client: nil, outcome: .error, says: "rejected the runner's arguments"),
        Row(name: "a peer that exits 0 without a result line crashed", cell: { try cell("basic") },
            server: ok("server", serverSees), client: PeerExit(termination: .exited(0)), outcome: .crash, says: "without reporting a result"),
    ]

    @Test("successful handshakes", arguments: successRows)
    func success(row: Row) throws { try check(row) }

    @Test("expected refusals", arguments: refusalRows)
    func refusals(row: Row) throws { try check(row) }

    @Test("broken networks and truncation", arguments: networkRows)
    func networks(row: Row) throws { try check(row) }

    @Test("precedence of the rules", arguments: precedenceRows)
    func precedence(row: Row) throws { try check(row) }

    func check(_ row: Row) throws {
        let result = Verdict.judge(try row.cell(), server: row.server, client: row.client, durationMs: 1)
        #expect(result.outcome == row.outcome, "\(result.reason ?? "")")
        if let says = row.says {
            let text = ([result.reason] + (result.notes ?? [])).compactMap { $0 }.joined(separator: " | ")
            #expect(text.contains(says), "\(text)")
        }
        #expect(result.alertDeviation == row.deviation)
        if result.outcome == .pass && result.expect.handshake == .refused {
            // What check-report demands of every passing refusal: an error that says what refused.
            #expect(result.error != nil)
        }
        if result.outcome != .pass && result.outcome != .unsupported {
            #expect(result.reason != nil || result.error != nil)
        }
    }

    @Test("notes add up: a deviation's note does not replace the other side's")
    func notesAppend() throws {
        let result = Verdict.judge(try Self.cell("expired-cert"), server: Self.failed("server", .handshake, alert: "decode_error", .received),
                                   client: Self.failed("client", .verify, alert: "bad_certificate", .sent, reason: .expired), durationMs: 1)
        #expect(result.notes?.count == 2)
        #expect(result.notes?.contains { $0.contains("server received decode_error") } == true)
        #expect(result.notes?.contains { $0.contains("where the RFC names certificate_expired") } == true)
    }

    @Test("the summary counts alert deviations, and a failed cell never carries one")
    func deviationsCounted() throws {
        let deviating = Verdict.judge(try Self.cell("expired-cert"), server: Self.failed("server", .handshake, alert: "bad_certificate", .received),
                                      client: Self.failed("client", .verify, alert: "bad_certificate", .sent, reason: .expired), durationMs: 1)
        let failing = Verdict.judge(try Self.cell("expired-cert"), server: Self.failed("server", .timeout),
                                    client: Self.failed("client", .verify, alert: "bad_certificate", .sent, reason: .expired), durationMs: 1)
        #expect(deviating.alertDeviation != nil)
        #expect(failing.outcome == .fail && failing.alertDeviation == nil)
        #expect(Report.Summary(results: [deviating, failing]).alertDeviations == 1)
    }
}
