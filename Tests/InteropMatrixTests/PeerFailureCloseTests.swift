import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// What a peer does when the data it got back is wrong: it says exactly how (PEER-PROTOCOL.md,
/// step 3), and it still ends the TLS connection with close_notify before closing TCP, so the other
/// side sees an orderly end rather than a truncation.
@Suite("A failed data exchange is explained and closed properly", .serialized, .timeLimit(.minutes(2)))
struct PeerFailureCloseTests {
    @Test("an echo that prints like the right one is caught, shown escaped, and the client still sends close_notify",
          arguments: ["openssl", "gnutls", "mbedtls"])
    func lookAlikeEcho(client: String) async throws {
        let certificates = try await PrivateCertificates.issue()
        defer { certificates.remove() }
        let set = certificates.set
        // fault-peer started as peer-lookalike: an OpenSSL server whose echo has a no-break space.
        let run = try await PeerPair.run(server: try faultPeer("lookalike", in: certificates), ["--cert", set.serverCertificate, "--key", set.serverKey],
                                         client: client, ["--ca", set.caCertificate, "--message", "ping"])
        let failure = try #require(run.client.result?.error, "\(run.client.summary)")
        #expect(failure.stage == FailureStage.data.rawValue)
        #expect(failure.message.contains(#"expected 9 bytes "ping pong""#), "\(failure.message)")
        #expect(failure.message.contains(#"got 10 bytes "ping\xC2\xA0pong""#), "\(failure.message)")
        #expect(failure.message.contains("first difference at byte 4 (expected 0x20, got 0xC2)"), "\(failure.message)")
        // The server read the client's close_notify and answered it: an orderly end on its side.
        #expect(run.server.result?.status == "ok", "\(run.server.summary)")
        #expect(run.client.log.contains("close_notify sent after the failure"), "\(run.client.log)")
    }

    @Test("a client whose deadline passes waiting for the echo still sends close_notify, without waiting past it",
          arguments: ["openssl", "gnutls", "mbedtls"])
    func deadlineClose(client: String) async throws {
        let certificates = try await PrivateCertificates.issue()
        defer { certificates.remove() }
        let set = certificates.set
        // fault-peer started as peer-noecho: an OpenSSL server that reads the line, never answers,
        // and waits for the client's close_notify.
        let started = ContinuousClock.now
        let run = try await PeerPair.run(server: try faultPeer("noecho", in: certificates), ["--cert", set.serverCertificate, "--key", set.serverKey],
                                         client: client, ["--ca", set.caCertificate, "--timeout-ms", "1000"])
        #expect(run.client.result?.error?.stage == FailureStage.timeout.rawValue, "\(run.client.summary)")
        #expect(run.client.log.contains("close_notify sent after the failure"), "\(run.client.log)")
        #expect(run.server.result?.status == "ok", "the server read the client's close_notify: \(run.server.summary)")
        // Loose: two peers' start-up and a busy test process's late resumption are in it. A client
        // that waited past its deadline is caught by the stage and the log above.
        #expect(ContinuousClock.now - started < .seconds(30), "the client ended at its own deadline")
    }

    @Test("a client whose deadline passes mid-handshake sends user_canceled where its library lets it",
          arguments: [("openssl", false), ("gnutls", true), ("mbedtls", true)])
    func handshakeDeadline(client: String, cancels: Bool) async throws {
        // A listener that takes the connection and never answers the ClientHello.
        let listener = try TCPListener()
        let end = try await PeerPair.runClient(client, ["--port", String(listener.port), "--timeout-ms", "500"])
        #expect(end.result?.error?.stage == FailureStage.timeout.rawValue, "\(end.summary)")
        let socket = try listener.accept(until: Deadline(millisecondsFromNow: 1000))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while try socket.wait(for: .readable, until: Deadline(millisecondsFromNow: 1000)) {
            let n = recv(socket.descriptor, &chunk, chunk.count, 0)
            if n <= 0 { break }
            received += chunk[..<n]
        }
        #expect(received.first == 22, "the ClientHello came first")
        // An alert record in the clear (no keys yet): type 21, length 2, warning (1), user_canceled (90).
        let alert = (0..<max(0, received.count - 6)).contains { i in
            received[i] == 21 && received[i + 1] == 3 && received[i + 3] == 0 && received[i + 4] == 2 && received[i + 5] == 1 && received[i + 6] == 90
        }
        #expect(alert == cancels, "\(received.count) bytes; \(end.log)")
        #expect(end.log.contains(cancels ? "user_canceled sent after the failure" : "no user_canceled after the failure"), "\(end.log)")
    }

    /// fault-peer linked as `peer-<mode>` in the test's own folder (removed with its certificates).
    private func faultPeer(_ mode: String, in certificates: PrivateCertificates) throws -> String {
        let folder = certificates.directory.url.appendingPathComponent("peers").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/peer-\(mode)", withDestinationPath: "\(Fixture.buildDirectory)/fault-peer")
        return "\(folder)/peer-\(mode)"
    }
}
