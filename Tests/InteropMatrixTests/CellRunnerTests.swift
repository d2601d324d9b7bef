import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("Cells that must not lie", .timeLimit(.minutes(2)))
struct CellRunnerTests {
    @Test("a client without a certificate is refused by a server that requires one, with the alert",
          arguments: ["openssl", "gnutls", "mbedtls"])
    func missingClientCertificateIsRefused(server: String) async throws {
        let runner = try await Fixture.shared.runner()
        let cell = Cell.make(server, "openssl", scenario: ClientCertificateMissingScenario(), version: .tls12, clientAuth: .required)
        let result = await runner.run(cell)
        #expect(result.outcome == .pass, "\(result.reason ?? "")")
        #expect(result.error?.side == .server)
        #expect(result.error?.stage == .verify)
        #expect(result.error?.verifyReason == .noCertificate)
        #expect(result.serverError?.message.isEmpty == false)
        #expect(result.clientError != nil, "the client must see the refusal too")
        if server != "mbedtls" {
            // OpenSSL and GnuTLS say which alert they sent; the client received the same one.
            #expect(result.error?.alert != nil)
            #expect(result.clientError?.alert == result.error?.alert)
        }
    }

    @Test("TLS 1.3: the refusal comes as certificate_required, which the client sees after its own handshake")
    func missingClientCertificateTLS13() async throws {
        let runner = try await Fixture.shared.runner()
        let result = await runner.run(.make("openssl", "gnutls", scenario: ClientCertificateMissingScenario(), version: .tls13, clientAuth: .required))
        #expect(result.outcome == .pass)
        #expect(result.error?.alert == "certificate_required")
        #expect(result.error?.alertCode == 116)
        #expect(result.clientError?.alert == "certificate_required")
        #expect(result.notes == nil)
    }

    @Test("a handshake that should have succeeded but was refused is a fail, whichever library serves",
          arguments: ["openssl", "gnutls", "mbedtls"])
    func refusedSuccessIsFail(server: String) async throws {
        let runner = try await Fixture.shared.runner()
        // The basic scenario expects success; withholding the client certificate must make it fail.
        var cell = Cell.make(server, "gnutls", version: .tls12, clientAuth: .required)
        cell.clientPresentsCertificate = false
        let result = await runner.run(cell)
        #expect(result.outcome == .fail)
        #expect(result.error?.side == .server)
        #expect(result.reason?.isEmpty == false)
    }

    @Test("expecting a refusal that never comes is a fail")
    func unexpectedSuccessIsFail() async throws {
        let runner = try await Fixture.shared.runner()
        var cell = Cell.make("gnutls", "openssl", scenario: ClientCertificateMissingScenario(), version: .tls12, clientAuth: .required)
        cell.clientPresentsCertificate = true
        let result = await runner.run(cell)
        #expect(result.outcome == .fail)
        #expect(result.reason?.contains("succeeded") == true)
    }

    @Test("TLS 1.3 with Mbed TLS 2.28 is unsupported before any process starts")
    func mbedtlsTLS13Unsupported() async throws {
        let runner = try await Fixture.shared.runner()
        for cell in [Cell.make("mbedtls", "openssl", version: .tls13), .make("openssl", "mbedtls", version: .tls13)] {
            let result = await runner.run(cell)
            #expect(result.outcome == .unsupported)
            #expect(result.reason?.contains("mbedtls") == true && result.reason?.contains("TLS1.3") == true)
            #expect(result.serverView == nil && result.clientView == nil && result.error == nil)
        }
    }

    @Test("a peer asked for what its library lacks says unsupported itself, before opening a socket")
    func peerSaysUnsupported() async throws {
        let runner = try await Fixture.shared.runner()
        let mbedtls = try #require(runner.libraries["mbedtls"])
        let set = try #require(runner.certificates[.ecdsaP256])
        let run = try await runProgram(mbedtls.executable, ["server", "--cert", set.serverCertificate, "--key", set.serverKey, "--version", "TLS1.3"])
        let output = run.output
        #expect(run.status == PeerProtocol.ExitCode.unsupported.rawValue)
        #expect(!output.contains("listening"))
        let line = try JSONDecoder().decode(PeerResultLine.self, from: Data(output.utf8))
        #expect(line.status == .unsupported)
        #expect(line.reason?.contains("TLS 1.3") == true)
    }

    @Test("a client that cannot connect reports ECONNREFUSED at tcp_connect")
    func clientConnectRefused() async throws {
        let runner = try await Fixture.shared.runner()
        let openssl = try #require(runner.libraries["openssl"])
        let set = try #require(runner.certificates[.ecdsaP256])
        // Bound, not listening: refused, and no parallel test's listener can take the port meanwhile.
        let refusing = try #require(SilentListener(listening: false))
        let closedPort = refusing.port
        defer { refusing.close() }
        let exit = try await PeerProcess.run(
            executable: openssl.executable,
            arguments: ["client", "--port", String(closedPort), "--ca", set.caCertificate, "--timeout-ms", "2000"],
            deadline: .now + .seconds(5))
        #expect(exit.termination == .exited(PeerProtocol.ExitCode.failed.rawValue))
        #expect(exit.result?.error?.stage == .tcpConnect)
        #expect(exit.result?.error?.libraryCode == "ECONNREFUSED")
    }
}

/// What is decided before any process starts, from capabilities alone.
@Suite("Unsupported comes from capabilities only")
struct UnsupportedDecisionTests {
    static func library(_ id: String, versions: [String], defaults: [String]) throws -> PeerLibrary {
        let line = """
        {"library":{"id":"\(id)","name":"\(id)","version":"1"},"versions":\(versions),"default_versions":\(defaults),
         "suites":[],"groups":["x25519"],"certificate_types":["ecdsa-p256"],"notes":[],"features":[]}
        """
        let capabilities = try JSONDecoder().decode(PeerCapabilities.self, from: Data(line.utf8))
        return PeerLibrary(id: id, executable: "/nonexistent/peer-\(id)", capabilities: capabilities)
    }

    @Test("two libraries whose defaults share no version: the defaults cell runs (and can only fail), it is never unsupported")
    func defaultsWithoutCommonVersion() throws {
        let old = try Self.library("old", versions: ["TLS1.0", "TLS1.1", "TLS1.2"], defaults: ["TLS1.2"])
        let new = try Self.library("new", versions: ["TLS1.2", "TLS1.3"], defaults: ["TLS1.3"])
        let matrix = try MatrixFile(yaml: "servers: [old]\nclients: [new]\nscenarios: [defaults]\ncerts: [ecdsa-p256]\n", source: "t")
        let cell = try #require(MatrixRun(matrix: matrix).cells(libraries: ["old": old, "new": new]).first)
        let runner = CellRunner(libraries: ["old": old, "new": new], certificates: [:], timeout: .seconds(1))
        #expect(runner.unsupportedReason(cell) == nil)
        // Forcing a version one side lacks is unsupported, as before: the capability decision stands.
        let forced = Cell.make("old", "new", version: .tls13, cert: .ecdsaP256)
        #expect(runner.unsupportedReason(forced)?.contains("does not support TLS1.3") == true)
    }

    @Test("a suite a library negotiates but cannot be held to (forceable: false) is unsupported when forced, with that reason")
    func unforceableSuite() throws {
        let line = """
        {"library":{"id":"fixed","name":"fixed","version":"1"},"versions":["TLS1.3"],"default_versions":["TLS1.3"],
         "suites":[{"code":"0x1301","library_name":"A","default":true,"forceable":false},{"code":"0x1302","library_name":"B"}],
         "groups":["x25519"],"certificate_types":["ecdsa-p256"],"notes":[],"features":[]}
        """
        let fixed = PeerLibrary(id: "fixed", executable: "/nonexistent/peer-fixed",
                                capabilities: try JSONDecoder().decode(PeerCapabilities.self, from: Data(line.utf8)))
        let other = try Self.library("other", versions: ["TLS1.3"], defaults: ["TLS1.3"])
        let runner = CellRunner(libraries: ["fixed": fixed, "other": other], certificates: [:], timeout: .seconds(1))
        var cell = Cell.make("fixed", "fixed", version: .tls13)
        #expect(runner.unsupportedReason(cell) == nil)
        cell.params.suite = "TLS_AES_128_GCM_SHA256"
        cell.params.suiteCode = "0x1301"
        #expect(runner.unsupportedReason(cell)?.contains("cannot be held to it alone") == true, "\(runner.unsupportedReason(cell) ?? "nil")")
        cell.params.suiteCode = "0x1302"
        #expect(runner.unsupportedReason(cell) == nil)
    }

    @Test("a forced group that neither side can ever read back (not_readable: group in both) is unsupported; one side reading it is enough")
    func unreadableGroup() throws {
        func library(_ id: String, notReadable: [String]) throws -> PeerLibrary {
            let line = """
            {"library":{"id":"\(id)","name":"\(id)","version":"1"},"versions":["TLS1.3"],"default_versions":["TLS1.3"],
             "suites":[{"code":"0x1301","library_name":"A","default":true}],"groups":["x25519","secp384r1"],
             "certificate_types":["ecdsa-p256"],"notes":[],"features":[],"not_readable":\(notReadable)}
            """
            return PeerLibrary(id: id, executable: "/nonexistent/peer-\(id)", capabilities: try JSONDecoder().decode(PeerCapabilities.self, from: Data(line.utf8)))
        }
        let runner = CellRunner(libraries: ["blind": try library("blind", notReadable: ["group", "signature_scheme"]),
                                            "sees": try library("sees", notReadable: ["signature_scheme"])],
                                certificates: [:], timeout: .seconds(1))
        var cell = Cell.make("blind", "blind", version: .tls13)
        #expect(runner.unsupportedReason(cell) == nil, "nothing forced: nothing to see")
        cell.params.group = "secp384r1"
        #expect(runner.unsupportedReason(cell)?.contains("neither server blind 1 nor client blind 1 can read the negotiated group back") == true,
                "\(runner.unsupportedReason(cell) ?? "nil")")
        let hrr = Cell.make("blind", "blind", scenario: try #require(Scenarios.named("hrr")), version: .tls13)
        #expect(runner.unsupportedReason(hrr)?.contains("secp384r1 cannot be seen in effect") == true, "an expected group, as forced")
        cell.client = "sees"
        #expect(runner.unsupportedReason(cell) == nil)
    }

}
