import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// The refusal rules, on made-up peer reports: the other side must learn of the refusal.
@Suite("Verdicts on refusals")
struct VerdictTests {
    func cell() throws -> Cell {
        let matrix = try MatrixFile(yaml: "servers: [gnutls]\nclients: [openssl]\nscenarios: [expired-cert]\nversions: [TLS1.3]\ncerts: [ecdsa-p256]\nclient_auth: [none]\n", source: "t")
        return try #require(MatrixRun(matrix: matrix).cells().first)
    }

    func exit(_ role: String, stage: String, alert: String?, direction: String?, message: String = "m") -> PeerExit {
        let failure = PeerResultLine.Failure(stage: stage, alert: alert, alertCode: nil, alertDirection: direction, libraryCode: nil, message: message)
        let line = PeerResultLine(role: role, status: .failed, reason: nil, view: nil, views: nil, exchange: nil, error: failure, handshakeMs: nil, log: nil)
        return PeerExit(termination: .exited(1), result: line)
    }

    @Test("the client refuses and the server receives its alert: pass")
    func seen() throws {
        let result = Verdict.judge(try cell(), server: exit("server", stage: "handshake", alert: "certificate_expired", direction: "received"),
                                   client: exit("client", stage: "verify", alert: "certificate_expired", direction: "sent"), durationMs: 1)
        #expect(result.outcome == .pass)
        #expect(result.notes == nil)
    }

    @Test("the server cannot read the client's alert and fails with one of its own: fail, saying so")
    func unread() throws {
        let result = Verdict.judge(try cell(), server: exit("server", stage: "handshake", alert: "bad_record_mac", direction: "sent", message: "Decryption has failed."),
                                   client: exit("client", stage: "verify", alert: "certificate_expired", direction: "sent"), durationMs: 1)
        #expect(result.outcome == .fail)
        #expect(result.reason?.contains("did not read the client's certificate_expired alert") == true)
    }

    @Test("the server waits until its timeout: fail")
    func leftWaiting() throws {
        let result = Verdict.judge(try cell(), server: exit("server", stage: "timeout", alert: nil, direction: nil),
                                   client: exit("client", stage: "verify", alert: "certificate_expired", direction: "sent"), durationMs: 1)
        #expect(result.outcome == .fail)
        #expect(result.reason?.contains("never learned") == true)
    }

    @Test("the server sees only the connection end, or another alert: pass with a note")
    func closeOnly() throws {
        let closed = Verdict.judge(try cell(), server: exit("server", stage: "handshake", alert: nil, direction: nil, message: "EOF"),
                                   client: exit("client", stage: "verify", alert: "certificate_expired", direction: "sent"), durationMs: 1)
        #expect(closed.outcome == .pass)
        #expect(closed.notes?.contains { $0.contains("saw no alert") } == true)
        let other = Verdict.judge(try cell(), server: exit("server", stage: "handshake", alert: "bad_certificate", direction: "received"),
                                  client: exit("client", stage: "verify", alert: "certificate_expired", direction: "sent"), durationMs: 1)
        #expect(other.outcome == .pass)
        #expect(other.notes?.contains { $0.contains("received bad_certificate") } == true)
    }
}
