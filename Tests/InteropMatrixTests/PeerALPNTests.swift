import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// RFC 7301 §3.2: "In the event that the server supports no protocols that the client advertises,
/// then the server SHALL respond with a fatal "no_application_protocol" alert." Every server peer
/// given `--alpn` does, and both sides say so.
@Suite("Servers refuse an ALPN list they share nothing with", .serialized, .timeLimit(.minutes(2)))
struct PeerALPNTests {
    static let servers: [(String, TLSVersion)] = [
        ("openssl", .tls12), ("openssl", .tls13), ("gnutls", .tls12), ("gnutls", .tls13), ("mbedtls", .tls12),
    ]

    /// Every server and client pair, in every version both speak (Mbed TLS 2.28: TLS 1.2 only).
    static let pairs: [(String, String, TLSVersion)] = ["openssl", "gnutls", "mbedtls"].flatMap { server in
        ["openssl", "gnutls", "mbedtls"].flatMap { client in
            [TLSVersion.tls12, .tls13].filter { $0 == .tls12 || (server != "mbedtls" && client != "mbedtls") }.map { (server, client, $0) }
        }
    }

    @Test("no protocol in common: no_application_protocol, sent by the server and received by the client", arguments: pairs)
    func noOverlap(server: String, client: String, version: TLSVersion) async throws {
        let certificates = try await PrivateCertificates.issue()
        defer { certificates.remove() }
        let set = certificates.set
        let serverArguments = ["--cert", set.serverCertificate, "--key", set.serverKey, "--alpn", "h2", "--version", version.rawValue]
        let run = try await PeerPair.run(server: server, serverArguments, client: client, ["--ca", set.caCertificate, "--alpn", "http/1.1"])
        #expect(run.server.result?.status == "failed", "\(run.server.summary)")
        #expect(run.server.result?.error?.alert == "no_application_protocol", "\(run.server.summary)")
        #expect(run.server.result?.error?.alertDirection == "sent", "\(run.server.summary)")
        #expect(run.client.result?.error?.alert == "no_application_protocol", "\(run.client.summary)")
        #expect(run.client.result?.error?.alertDirection == "received", "\(run.client.summary)")

        let shared = try await PeerPair.run(server: server, serverArguments, client: client, ["--ca", set.caCertificate, "--alpn", "http/1.1,h2"])
        #expect(shared.client.result?.status == "ok", "\(shared.client.summary)")
        #expect(shared.client.result?.view?.alpn == "h2")
        #expect(shared.server.result?.view?.alpn == "h2")
    }

    @Test("a client that offers no ALPN is served without it; a server without --alpn ignores a client's list", arguments: servers)
    func oneSidedALPN(server: String, version: TLSVersion) async throws {
        let certificates = try await PrivateCertificates.issue()
        defer { certificates.remove() }
        let set = certificates.set
        let base = ["--cert", set.serverCertificate, "--key", set.serverKey, "--version", version.rawValue]
        let silentClient = try await PeerPair.run(server: server, base + ["--alpn", "h2"], client: "openssl", ["--ca", set.caCertificate])
        #expect(silentClient.server.result?.status == "ok", "\(silentClient.server.summary)")
        #expect(silentClient.server.result?.view?.alpn == nil)
        let silentServer = try await PeerPair.run(server: server, base, client: "openssl", ["--ca", set.caCertificate, "--alpn", "h2"])
        #expect(silentServer.client.result?.status == "ok", "\(silentServer.client.summary)")
        #expect(silentServer.client.result?.view?.alpn == nil)
    }
}
