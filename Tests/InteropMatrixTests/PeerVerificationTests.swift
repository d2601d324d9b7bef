import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// The real peers reject flawed certificates at stage `verify` with the `verify_reason` their
/// library's verification result gives (PEER-PROTOCOL.md, "verify_reason"), and accept the same
/// certificate once the flaw is gone, so each expectation can fail either way.
@Suite("Peers say why they rejected a certificate", .serialized, .timeLimit(.minutes(3)))
struct PeerVerificationTests {
    static let clients = ["openssl", "gnutls", "mbedtls"]

    /// A flawed server certificate, the reason it must be refused for, and the certificate
    /// without the flaw (same key, same names) that must be accepted.
    struct Flaw: Sendable, CustomTestStringConvertible {
        var certificate: CertificateVariant
        var reason: VerifyReason
        var repaired: CertificateVariant?
        var testDescription: String { "\(certificate.rawValue) → \(reason.rawValue)" }
    }

    static let flaws: [Flaw] = [
        Flaw(certificate: .expiredServer, reason: .expired),
        Flaw(certificate: .notYetValidServer, reason: .notYetValid),
        Flaw(certificate: .wrongHostServer, reason: .nameMismatch),
        Flaw(certificate: .untrustedServer, reason: .untrusted),
        Flaw(certificate: .selfSignedServer, reason: .untrusted),
        Flaw(certificate: .leafWithoutIntermediateServer, reason: .untrusted, repaired: .chainServer),
        Flaw(certificate: .badKeyUsageServer, reason: .keyUsage),
    ]

    @Test("a flawed server certificate is refused by the client at verify, for its flaw; repaired, it passes",
          arguments: clients, flaws)
    func flawedServerCertificate(client: String, flaw: Flaw) async throws {
        let certificates = try await PrivateCertificates.issue()
        defer { certificates.remove() }
        let set = certificates.set
        let flawed = try await PeerPair.run(server: "openssl", ["--cert", set.path(flaw.certificate), "--key", set.serverKey],
                                            client: client, ["--ca", set.caCertificate])
        let failure = try #require(flawed.client.result?.error, "\(flawed.client.summary)")
        #expect(flawed.client.status == PeerProtocol.ExitCode.failed.rawValue)
        #expect(failure.stage == FailureStage.verify.rawValue, "\(flawed.client.summary)")
        #expect(failure.verifyReason == flaw.reason.rawValue, "\(flawed.client.summary)")
        #expect(failure.libraryCode?.isEmpty == false)
        // The side that received the refusal did not itself reject a certificate.
        #expect(flawed.server.result?.error?.stage != FailureStage.verify.rawValue, "\(flawed.server.summary)")

        let repaired = flaw.repaired.map(set.path) ?? set.serverCertificate
        let good = try await PeerPair.run(server: "openssl", ["--cert", repaired, "--key", set.serverKey],
                                          client: client, ["--ca", set.caCertificate])
        #expect(good.client.result?.status == "ok", "\(good.client.summary)")
        #expect(good.server.result?.status == "ok", "\(good.server.summary)")
    }

    @Test("a client with no --ca trusts nothing: verify, untrusted, in every library", arguments: clients)
    func noTrustAnchor(client: String) async throws {
        let certificates = try await PrivateCertificates.issue()
        defer { certificates.remove() }
        let set = certificates.set
        let run = try await PeerPair.run(server: "openssl", ["--cert", set.serverCertificate, "--key", set.serverKey], client: client, [])
        let failure = try #require(run.client.result?.error, "\(run.client.summary)")
        #expect(failure.stage == FailureStage.verify.rawValue, "\(run.client.summary)")
        #expect(failure.verifyReason == VerifyReason.untrusted.rawValue, "\(run.client.summary)")
    }

    /// Servers that verify client certificates, with the versions each can speak.
    static let clientAuthServers: [(String, TLSVersion)] = [
        ("openssl", .tls12), ("openssl", .tls13), ("gnutls", .tls12), ("gnutls", .tls13), ("mbedtls", .tls12),
    ]

    @Test("a server requiring a client certificate refuses a client without one at verify, no_certificate; with one, it passes",
          arguments: clientAuthServers)
    func missingClientCertificate(server: String, version: TLSVersion) async throws {
        let certificates = try await PrivateCertificates.issue()
        defer { certificates.remove() }
        let set = certificates.set
        let serverArguments = ["--cert", set.serverCertificate, "--key", set.serverKey, "--ca", set.caCertificate,
                               "--client-auth", "required", "--version", version.rawValue]
        let missing = try await PeerPair.run(server: server, serverArguments, client: "openssl", ["--ca", set.caCertificate])
        let failure = try #require(missing.server.result?.error, "\(missing.server.summary)")
        #expect(failure.stage == FailureStage.verify.rawValue, "\(missing.server.summary)")
        #expect(failure.verifyReason == VerifyReason.noCertificate.rawValue, "\(missing.server.summary)")
        #expect(missing.client.result?.status == "failed", "\(missing.client.summary)")

        let untrusted = try await PeerPair.run(server: server, serverArguments, client: "openssl",
                                               ["--ca", set.caCertificate, "--cert", set.path(.untrustedClient), "--key", set.clientKey])
        #expect(untrusted.server.result?.error?.stage == FailureStage.verify.rawValue, "\(untrusted.server.summary)")
        #expect(untrusted.server.result?.error?.verifyReason == VerifyReason.untrusted.rawValue, "\(untrusted.server.summary)")

        let presented = try await PeerPair.run(server: server, serverArguments, client: "openssl",
                                               ["--ca", set.caCertificate, "--cert", set.clientCertificate, "--key", set.clientKey])
        #expect(presented.server.result?.status == "ok", "\(presented.server.summary)")
        #expect(presented.client.result?.status == "ok", "\(presented.client.summary)")
    }

    @Test("an IP-literal --server-name sends no SNI and is checked against the iPAddress SAN", arguments: ["openssl", "gnutls"])
    func addressServerName(client: String) async throws {
        let certificates = try await PrivateCertificates.issue()
        defer { certificates.remove() }
        let set = certificates.set
        // The server certificate names localhost and 127.0.0.1 (CertificateAuthority).
        let good = try await PeerPair.run(server: "openssl", ["--cert", set.serverCertificate, "--key", set.serverKey],
                                          client: client, ["--ca", set.caCertificate, "--server-name", "127.0.0.1"])
        #expect(good.client.result?.status == "ok", "\(good.client.summary)")
        #expect(good.server.result?.status == "ok", "\(good.server.summary)")
        #expect(good.server.result?.view != nil)
        #expect(good.server.result?.view?.serverName == nil, "RFC 6066 §3: no address in SNI")

        // Another address, and a certificate without any address: both a name mismatch.
        for (certificate, name) in [(set.serverCertificate, "127.0.0.2"), (set.serverCertificate, "::1"), (set.path(.wrongHostServer), "127.0.0.1")] {
            let wrong = try await PeerPair.run(server: "openssl", ["--cert", certificate, "--key", set.serverKey],
                                               client: client, ["--ca", set.caCertificate, "--server-name", name])
            #expect(wrong.client.result?.error?.stage == FailureStage.verify.rawValue, "\(name): \(wrong.client.summary)")
            #expect(wrong.client.result?.error?.verifyReason == VerifyReason.nameMismatch.rawValue, "\(name): \(wrong.client.summary)")
        }

        // A host name still goes out as SNI.
        let named = try await PeerPair.run(server: "openssl", ["--cert", set.serverCertificate, "--key", set.serverKey],
                                           client: client, ["--ca", set.caCertificate, "--server-name", "localhost"])
        #expect(named.server.result?.view?.serverName == "localhost", "\(named.server.summary)")
    }

    @Test("Mbed TLS 2.28 cannot check an address: it says unsupported before connecting, and its capabilities say why")
    func mbedtlsAddressServerName() async throws {
        let end = try await PeerPair.runClient("mbedtls", ["--port", "9", "--server-name", "127.0.0.1"])
        #expect(end.status == PeerProtocol.ExitCode.unsupported.rawValue, "\(end.summary)")
        #expect(end.result?.status == "unsupported")
        #expect(end.result?.reason?.contains("IP address") == true, "\(end.summary)")
    }

    @Test("ip-server-name is asked of the client alone; the server of an address cell needs only sni")
    func addressFeatureIsTheClients() {
        var features = ConnectionFeatures()
        features.addressAsServerName = true
        #expect(features.required(of: .client).contains("ip-server-name"))
        #expect(!features.required(of: .server).contains("ip-server-name"))
        #expect(features.required(of: .server).contains("sni"))
    }

    @Test("Mbed TLS 3.6 checks an address but would send it as SNI: as a client it says unsupported, as a server it serves the cell")
    func mbedtls36AddressServerName() async throws {
        guard Fixture.libraries.contains("mbedtls-3.6") else { return }
        let end = try await PeerPair.runClient("mbedtls-3.6", ["--port", "9", "--server-name", "127.0.0.1"])
        #expect(end.status == PeerProtocol.ExitCode.unsupported.rawValue, "\(end.summary)")
        #expect(end.result?.reason?.contains("SNI") == true, "\(end.summary)")
        let runner = try await Fixture.shared.runner()
        let cells = MatrixRun(matrix: try MatrixFile(yaml: "servers: [mbedtls-3.6]\nclients: [openssl]\nscenarios: [ip-address]\nversions: [TLS1.3]\ncerts: [ecdsa-p256]\nclient_auth: [none]\n", source: "t")).cells()
        let served = await runner.run(try #require(cells.first))
        #expect(served.outcome == .pass, "\(served.reason ?? "")")
        #expect(served.serverView?.serverName == nil)
    }

    @Test("capabilities list ip-server-name where the library can check an address, and say why not where it cannot",
          arguments: [("openssl", true), ("gnutls", true), ("mbedtls", false)])
    func addressCapability(library: String, listed: Bool) async throws {
        let capabilities = try await PeerPair.capabilities(library)
        #expect(capabilities.features?.contains("ip-server-name") == listed)
        #expect(capabilities.notes.contains { $0.contains("ip-server-name") } == !listed)
    }
}
