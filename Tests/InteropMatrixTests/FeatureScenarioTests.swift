import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// SNI, resumption, large transfers and KeyUpdate, run for real; and for each, a peer that leaves the
/// feature undone (Sources/fault-peer) while reporting as usual, which the harness must fail.
@Suite("Feature scenarios, run for real", .timeLimit(.minutes(3)))
struct FeatureScenarioTests {
    func cell(_ name: String, _ server: String, _ client: String, _ version: TLSVersion) throws -> Cell {
        let matrix = try MatrixFile(yaml: "servers: [\(server)]\nclients: [\(client)]\nscenarios: [\(name)]\nversions: [\(version.rawValue)]\ncerts: [ecdsa-p256]\nclient_auth: [none]\n", source: "t")
        let runner = MatrixRun(matrix: matrix)
        return try #require(runner.cells().first, "no \(name) cell for \(server)>\(client) \(version.rawValue)")
    }

    func run(_ cell: Cell, libraries: [String] = Fixture.libraries) async throws -> CellResult {
        let runner = try await Fixture.shared.runner(timeout: .seconds(20), libraries: libraries)
        return await runner.run(cell)
    }

    static let pairs = [("openssl", "gnutls"), ("gnutls", "mbedtls"), ("mbedtls", "openssl")]

    @Test("sni: the server presents the certificate for the name the client asked for, and reports that name")
    func sni() async throws {
        for (server, client) in Self.pairs {
            let result = try await run(try cell("sni", server, client, .tls12))
            #expect(result.outcome == .pass, "\(server)>\(client): \(result.reason ?? "")")
            #expect(result.clientView?.peerCertificate == CertificateAuthority.alternateSubject)
            #expect(result.serverView?.serverName == CertificateAuthority.alternateHost)
        }
        // A server that ignores SNI presents its main certificate, which the client refuses.
        let caught = try await run(try cell("sni", "nosni", "gnutls", .tls13), libraries: ["nosni", "gnutls"])
        #expect(caught.outcome == .fail, "\(caught.reason ?? "")")
    }

    @Test("resumption: the second connection is resumed on both sides, by session id and by ticket", arguments: ["resumption-id", "resumption-ticket"])
    func resumption(name: String) async throws {
        for (server, client) in Self.pairs {
            let result = try await run(try cell(name, server, client, .tls12))
            #expect(result.outcome == .pass, "\(server)>\(client): \(result.reason ?? "")")
            #expect(result.serverView?.connectionsResumed == [false, true])
            #expect(result.clientView?.connectionsResumed == [false, true])
        }
        // A client that keeps no session does a full handshake again: a silent fallback is a fail.
        let caught = try await run(try cell(name, "gnutls", "noresume", .tls12), libraries: ["gnutls", "noresume"])
        #expect(caught.outcome == .fail)
        #expect(caught.reason?.contains("silently fell back") == true, "\(caught.reason ?? "")")
    }

    @Test("resumption-ticket in TLS 1.3 resumes with a PSK ticket")
    func pskTicket() async throws {
        for (server, client) in [("openssl", "gnutls"), ("gnutls", "openssl")] {
            let result = try await run(try cell("resumption-ticket", server, client, .tls13))
            #expect(result.outcome == .pass, "\(server)>\(client): \(result.reason ?? "")")
            #expect(result.clientView?.resumed == true)
        }
    }

    @Test("large-transfer: 4 MiB each way arrive intact and the digests agree")
    func largeTransfer() async throws {
        for (server, client) in Self.pairs {
            let result = try await run(try cell("large-transfer", server, client, .tls12))
            #expect(result.outcome == .pass, "\(server)>\(client): \(result.reason ?? "")")
            let exchange = try #require(result.clientView?.exchange)
            #expect(exchange.bytesReceived == LargeTransferScenario.bytes)
            #expect(exchange.digestReceived == result.serverView?.exchange?.digestReceived)
        }
        // A server that flips one bit of the echo is caught by the client at that byte.
        let caught = try await run(try cell("large-transfer", "badecho", "gnutls", .tls13), libraries: ["badecho", "gnutls"])
        #expect(caught.outcome == .fail)
        #expect(caught.clientError?.message.contains("byte \(1 << 20)") == true, "\(caught.clientError?.message ?? "")")
    }

    @Test("key-update: both libraries count a KeyUpdate each way; Mbed TLS 2.28 is unsupported")
    func keyUpdate() async throws {
        for (server, client) in [("openssl", "gnutls"), ("gnutls", "openssl"), ("openssl", "openssl"), ("gnutls", "gnutls")] {
            let result = try await run(try cell("key-update", server, client, .tls13))
            #expect(result.outcome == .pass, "\(server)>\(client): \(result.reason ?? "")")
            #expect(result.clientView?.exchange?.keyUpdatesSent == 1)
            #expect(result.serverView?.exchange?.keyUpdatesReceived == 1)
            #expect(result.serverView?.exchange?.keyUpdatesSent == 1)
        }
        let mbedTLS = try await run(try cell("key-update", "openssl", "mbedtls", .tls13))
        #expect(mbedTLS.outcome == .unsupported)
        // A client that never sends one cannot pass.
        let caught = try await run(try cell("key-update", "gnutls", "nokeyupdate", .tls13), libraries: ["gnutls", "nokeyupdate"])
        #expect(caught.outcome == .fail)
        #expect(caught.reason?.contains("sent no KeyUpdate") == true, "\(caught.reason ?? "")")
    }

    @Test("a client that skips verification is caught accepting flawed certificates", arguments: ["expired-cert", "wrong-host", "unknown-ca", "self-signed"])
    func liarCaught(name: String) async throws {
        let result = try await run(try cell(name, "gnutls", "noverify", .tls13), libraries: ["gnutls", "noverify"])
        #expect(result.outcome == .fail)
        #expect(result.reason?.contains("succeeded") == true, "\(result.reason ?? "")")
    }
}
