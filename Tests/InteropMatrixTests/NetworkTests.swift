import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("Impaired networks, through the proxy", .timeLimit(.minutes(2)))
struct NetworkTests {
    func cell(_ server: String, _ client: String, _ version: TLSVersion, _ network: Impairment) -> Cell {
        var params = CellParameters(version: version, cert: .ecdsaP256, clientAuth: .none)
        params.network = network
        let expect = network.expectedFailure.map(Expectation.broken) ?? .success
        return Cell(server: server, client: client, scenario: "basic", params: params, expect: expect, clientPresentsCertificate: false)
    }

    @Test("every byte in its own segment, 50 ms late, or the first flight cut into pieces still makes a verified handshake and echo",
          arguments: [("openssl", "mbedtls", TLSVersion.tls12, Impairment.segment1), ("gnutls", "openssl", .tls13, .segment1),
                      ("mbedtls", "gnutls", .tls12, .delay50ms), ("openssl", "gnutls", .tls13, .delay50ms),
                      ("gnutls", "openssl", .tls13, .splitFirstFlight), ("openssl", "mbedtls", .tls12, .splitFirstFlight)])
    func survivableNetworks(server: String, client: String, version: TLSVersion, network: Impairment) async throws {
        let runner = try await Fixture.shared.runner()
        let result = await runner.run(cell(server, client, version, network))
        #expect(result.outcome == .pass, "\(result.reason ?? "")")
        #expect(result.params.network == network)
        #expect(result.id.hasSuffix("/net-\(network)"))
        if network == .delay50ms { #expect(result.durationMs >= 100) }
        // The ClientHello went in at least six pieces 10 ms apart (cuts at 1, 5, 7, 64, 300 bytes).
        if network == .splitFirstFlight { #expect(result.durationMs >= 50) }
    }

    @Test("the proxy carries a resuming client's two connections, both impaired, and the second still resumes")
    func resumptionThroughTheProxy() async throws {
        let matrix = try MatrixFile(yaml: "servers: [gnutls]\nclients: [openssl]\nscenarios: [resumption-ticket]\nversions: [TLS1.3]\ncerts: [ecdsa-p256]\nclient_auth: [none]\nnetwork: [segment-1, delay-50ms]\n", source: "t")
        let cells = MatrixRun(matrix: matrix).cells()
        #expect(cells.count == 2)
        let runner = try await Fixture.shared.runner()
        for cell in cells {
            let result = await runner.run(cell)
            #expect(result.outcome == .pass, "\(cell.params.network): \(result.reason ?? "")")
            #expect(result.clientView?.connectionsResumed == [false, true])
        }
    }

    @Test("a corrupted record is refused by both sides, never accepted", arguments: [("openssl", "gnutls", TLSVersion.tls13), ("gnutls", "mbedtls", .tls12), ("mbedtls", "openssl", .tls12)])
    func corruptRecord(server: String, client: String, version: TLSVersion) async throws {
        let runner = try await Fixture.shared.runner()
        let result = await runner.run(cell(server, client, version, .corrupt))
        #expect(result.outcome == .pass, "\(result.reason ?? "")")
        #expect(result.serverError != nil && result.clientError != nil, "both sides must report the failure")
        // Both handshakes completed; the server met the damage in the data.
        #expect(result.serverView != nil && result.clientView != nil)
        #expect(result.serverError?.stage == .data)
        #expect(result.clientError?.stage == .data)
        // The server's library reports sending bad_record_mac, or (Mbed TLS, which does not say)
        // the client's reports receiving it: RFC 8446 §5.2's alert either way, no deviation.
        #expect(result.observedAlert == "bad_record_mac" && result.alertDeviation == nil,
                "\(String(describing: result.serverError)) / \(String(describing: result.clientError))")
    }

    @Test("a stalled, cut or reset connection fails cleanly on both sides, in time, without the runner killing anyone",
          arguments: [Impairment.stall, .truncate(after: 100), .reset])
    func brokenNetworks(network: Impairment) async throws {
        let runner = try await Fixture.shared.runner()
        let result = await runner.run(cell("openssl", "gnutls", .tls13, network))
        #expect(result.outcome == .pass, "\(result.reason ?? "")")
        #expect(result.serverError?.stage == network.expectedFailure?.serverStage)
        #expect(result.clientError?.stage == network.expectedFailure?.clientStage)
        // By their own failures (a stall's client gives up after 1.5 s, its server after 3 s, the others fail at once): a peer
        // the runner had to kill at the cell deadline would make the cell a timeout, not the pass above.
    }

    @Test("a network failure at another stage than its impairment causes fails: a corrupt network whose handshake never completes")
    func wrongStageFails() async throws {
        let runner = try await Fixture.shared.runner()
        // Cut after 100 bytes, but judged as if the record were corrupted after the handshake.
        var misjudged = cell("openssl", "gnutls", .tls13, .truncate(after: 100))
        misjudged.expect = .broken(try #require(Impairment.corrupt.expectedFailure))
        let result = await runner.run(misjudged)
        #expect(result.outcome == .fail)
        #expect(result.reason?.contains("both handshakes must complete") == true, "\(result.reason ?? "")")
    }

    @Test("a connection expected to break that survives is caught as a fail")
    func survivingBrokenConnectionFails() async throws {
        let runner = try await Fixture.shared.runner()
        var lying = cell("openssl", "gnutls", .tls13, .segment1)
        lying.expect = .broken(try #require(Impairment.reset.expectedFailure))
        let result = await runner.run(lying)
        #expect(result.outcome == .fail)
        #expect(result.reason?.contains("survived") == true)
    }

    @Test("network names parse and print back", arguments: ["none", "segment-1", "delay-50ms", "split-first-flight", "stall", "truncate-after-37", "reset", "corrupt"])
    func names(name: String) {
        #expect(Impairment(name)?.description == name)
        #expect(Impairment("truncate-after-x") == nil)
    }
}
