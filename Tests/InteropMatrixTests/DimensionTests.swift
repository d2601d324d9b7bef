import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("Forced versions, suites and groups, run for real", .timeLimit(.minutes(2)))
struct DimensionTests {
    func cell(_ server: String, _ client: String, _ version: TLSVersion, suite: String? = nil, group: String? = nil,
              cert: CertificateKeyType = .rsa2048, legacy: Bool = false) -> Cell {
        let code = suite.flatMap { CipherSuiteRegistry.suite(named: $0)?.codeText }
        var cell = Cell.make(server, client, version: version, cert: cert)
        cell.params = CellParameters(version: version, suite: suite, suiteCode: code, group: group, cert: cert, clientAuth: .none)
        cell.liftPolicy = legacy
        return cell
    }

    @Test("a forced suite is the one both sides negotiate", arguments: [
        ("openssl", "mbedtls", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
        ("mbedtls", "gnutls", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
        ("gnutls", "openssl", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
        ("openssl", "gnutls", "TLS_AES_128_CCM_SHA256"),
    ])
    func forcedSuite(server: String, client: String, suite: String) async throws {
        let runner = try await Fixture.shared.runner()
        let version: TLSVersion = suite.contains("_WITH_") ? .tls12 : .tls13
        let result = await runner.run(cell(server, client, version, suite: suite))
        #expect(result.outcome == .pass, "\(result.reason ?? "")")
        #expect(result.clientView?.suite == suite && result.serverView?.suite == suite)
        #expect(result.clientView?.suiteCode == CipherSuiteRegistry.suite(named: suite)?.codeText)
    }

    @Test("a forced group is the one both sides report", arguments: [("openssl", "gnutls", "secp384r1", TLSVersion.tls13), ("gnutls", "mbedtls", "x25519", .tls12), ("openssl", "openssl", "ffdhe3072", .tls13)])
    func forcedGroup(server: String, client: String, group: String, version: TLSVersion) async throws {
        let runner = try await Fixture.shared.runner()
        let result = await runner.run(cell(server, client, version, group: group))
        #expect(result.outcome == .pass, "\(result.reason ?? "")")
        #expect(result.serverView?.group == group)
        #expect(result.clientView?.group == nil || result.clientView?.group == group)
    }

    @Test("TLS 1.0 with OpenSSL 3 is off by its default policy: unsupported unless the matrix lifts it")
    func legacyPolicy() async throws {
        let runner = try await Fixture.shared.runner()
        let refused = await runner.run(cell("openssl", "gnutls", .tls10))
        #expect(refused.outcome == .unsupported)
        #expect(refused.reason?.contains("default policy") == true && refused.reason?.contains("legacy") == true)
        let lifted = await runner.run(cell("openssl", "gnutls", .tls10, legacy: true))
        #expect(lifted.outcome == .pass, "\(lifted.reason ?? "")")
        #expect(lifted.clientView?.version == .tls10)
    }

    @Test("Mbed TLS cannot take part with Ed25519 certificates on either side")
    func ed25519WithMbedTLS() async throws {
        let runner = try await Fixture.shared.runner()
        for pair in [("mbedtls", "openssl"), ("openssl", "mbedtls")] {
            let result = await runner.run(cell(pair.0, pair.1, .tls12, cert: .ed25519))
            #expect(result.outcome == .unsupported)
            #expect(result.reason?.contains("ed25519") == true)
        }
    }

    @Test("out of the box, the pair negotiates the highest version both enable by default")
    func defaults() async throws {
        let runner = try await Fixture.shared.runner()
        for (server, client, version) in [("openssl", "gnutls", TLSVersion.tls13), ("gnutls", "mbedtls", .tls12)] {
            let pair = [runner.libraries[server]!, runner.libraries[client]!]
            #expect(MatrixRun.defaultVersion(of: pair) == version)
            var cell = Cell.make(server, client, scenario: DefaultsScenario(), version: version)
            cell.usesLibraryDefaults = true
            let result = await runner.run(cell)
            #expect(result.outcome == .pass, "\(result.reason ?? "")")
            #expect(result.clientView?.version == version)
        }
    }
}
