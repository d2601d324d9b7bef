import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("Refusal scenarios, run for real", .timeLimit(.minutes(2)))
struct ScenarioTests {
    static let refusals = FlawedServerCertificateScenario.all.map(\.name) + ["client-cert-untrusted", "version-mismatch", "no-shared-suite", "client-cert-missing"]

    func cell(_ name: String, _ server: String, _ client: String, _ version: TLSVersion) throws -> Cell {
        let scenario = try #require(Scenarios.named(name))
        let auth: ClientAuth = ["client-cert-untrusted", "client-cert-missing"].contains(name) ? .required : .none
        let params = CellParameters(version: version, cert: .ecdsaP256, clientAuth: auth)
        let cells = MatrixRun(matrix: try MatrixFile(yaml: "servers: [\(server)]\nclients: [\(client)]\nscenarios: [\(name)]\nversions: [\(version.rawValue)]\nclient_auth: [\(auth.rawValue)]\n", source: "t")).cells()
        #expect(scenario.applies(to: params))
        return try #require(cells.first)
    }

    @Test("each refusal happens, on the expected side, with an alert on the wire", arguments: refusals)
    func refused(name: String) async throws {
        let runner = try await Fixture.shared.runner()
        let result = await runner.run(try cell(name, "openssl", "gnutls", .tls13))
        #expect(result.outcome == .pass, "\(result.reason ?? "")")
        #expect(result.error != nil)
        if let side = result.expect.refusedBy { #expect(result.error?.side.rawValue == side.rawValue) }
        #expect(result.serverError?.alert != nil || result.clientError?.alert != nil)
    }

    @Test("without the flaw, the same expectation is a fail: the harness never passes a refusal that did not happen", arguments: refusals)
    func flawRemovedIsFail(name: String) async throws {
        let runner = try await Fixture.shared.runner()
        var honest = try cell(name, "gnutls", "openssl", .tls12)
        honest.serverCertificate = nil
        honest.clientCertificate = nil
        honest.clientVersion = nil
        honest.serverSuiteCode = nil
        honest.clientSuiteCode = nil
        honest.clientPresentsCertificate = honest.params.clientAuth != .none
        let result = await runner.run(honest)
        #expect(result.outcome == .fail, "\(name): \(result.reason ?? "")")
        #expect(result.reason?.contains("succeeded") == true)
    }

    @Test("a chain through an intermediate CA verifies for every pair that can run it", arguments: ["openssl", "mbedtls", "gnutls"])
    func chain(client: String) async throws {
        let runner = try await Fixture.shared.runner()
        let result = await runner.run(try cell("chain", "gnutls", client, .tls12))
        #expect(result.outcome == .pass, "\(result.reason ?? "")")
        #expect(result.clientView?.peerCertificate == CertificateAuthority.serverSubject)
        // The same cell with the intermediate left out is refused, and so fails as a chain cell.
        var broken = try cell("chain", "gnutls", client, .tls12)
        broken.serverCertificate = .leafWithoutIntermediateServer
        #expect(await runner.run(broken).outcome == .fail)
    }

    @Test("ALPN: both sides report the server's choice; with no common protocol the server refuses with no_application_protocol")
    func alpn() async throws {
        let runner = try await Fixture.shared.runner()
        for (server, client) in [("openssl", "gnutls"), ("gnutls", "mbedtls"), ("mbedtls", "openssl")] {
            let agreed = await runner.run(try cell("alpn", server, client, .tls12))
            #expect(agreed.outcome == .pass, "\(agreed.reason ?? "")")
            #expect(agreed.serverView?.alpn == "h2" && agreed.clientView?.alpn == "h2")
            let none = await runner.run(try cell("alpn-mismatch", server, client, .tls12))
            #expect(none.outcome == .pass, "\(none.reason ?? "")")
            // RFC 7301 §3.2: the server SHALL refuse; every library here does.
            #expect(none.error?.side == .server && none.error?.alert == "no_application_protocol")
        }
        // Lists that do overlap, where none should: the negotiated protocol is caught.
        var overlapping = try cell("alpn-mismatch", "gnutls", "openssl", .tls13)
        overlapping.clientALPN = ["h2"]
        let negotiated = await runner.run(overlapping)
        #expect(negotiated.outcome == .fail)
        #expect(negotiated.reason?.contains("expected the server to refuse") == true, "\(negotiated.reason ?? "")")
        // A server that shares no protocol cannot pass as one that negotiated h2.
        var lying = try cell("alpn", "openssl", "gnutls", .tls13)
        lying.serverALPN = ["spdy/3"]
        let caught = await runner.run(lying)
        #expect(caught.outcome == .fail)
    }

    @Test("HelloRetryRequest: the server asks again for its group and both sides report it")
    func helloRetry() async throws {
        let runner = try await Fixture.shared.runner()
        for (server, client) in [("openssl", "gnutls"), ("gnutls", "openssl")] {
            let result = await runner.run(try cell("hrr", server, client, .tls13))
            #expect(result.outcome == .pass, "\(result.reason ?? "")")
            #expect(result.serverView?.group == "secp384r1")
        }
        // Expecting a group that was not negotiated is caught.
        var lying = try cell("hrr", "openssl", "openssl", .tls13)
        lying.expect.group = "x448"
        #expect(await runner.run(lying).outcome == .fail)
    }

    @Test("HelloRetryRequest with a post-quantum hybrid: out of it and into it where both sides have it, unsupported where one lacks it")
    func hybridHelloRetry() async throws {
        let runner = try await Fixture.shared.runner()
        let hybrid = ["boringssl", "gotls", "nss-3.110"].filter(Fixture.libraries.contains)
        for server in hybrid {
            for client in hybrid {
                let declined = await runner.run(try cell("hrr-hybrid-declined", server, client, .tls13))
                #expect(declined.outcome == .pass, "\(server)>\(client): \(declined.reason ?? "")")
                #expect([declined.serverView?.group, declined.clientView?.group].contains("secp256r1"))
                let into = await runner.run(try cell("hrr-to-hybrid", server, client, .tls13))
                #expect(into.outcome == .pass, "\(server)>\(client): \(into.reason ?? "")")
                #expect([into.serverView?.group, into.clientView?.group].contains("X25519MLKEM768"))
            }
        }
        // OpenSSL 3.0 has no hybrid: decided from its capabilities, before a byte is sent.
        let lacking = await runner.run(try cell("hrr-to-hybrid", "openssl", "gnutls", .tls13))
        #expect(lacking.outcome == .unsupported)
        #expect(lacking.reason?.contains("X25519MLKEM768") == true, "\(lacking.reason ?? "")")
    }

    @Test("a client that leaves without close_notify is reported as a truncation by every server library", arguments: ["openssl", "mbedtls", "gnutls"])
    func truncation(server: String) async throws {
        let runner = try await Fixture.shared.runner()
        let result = await runner.run(try cell("close-notify", server, "openssl", .tls12))
        #expect(result.outcome == .pass, "\(result.reason ?? "")")
        #expect(result.serverError?.stage == .shutdown)
        // The same client closing cleanly is no truncation: expecting one then is a fail.
        var clean = try cell("close-notify", server, "openssl", .tls12)
        clean.clientTruncates = false
        #expect(await runner.run(clean).outcome == .fail)
    }
}
