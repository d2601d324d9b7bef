import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// The pre-shared key scenarios: which cells a matrix makes of them, the files the peers are given,
/// and the handshakes and refusals run for real between OpenSSL peers, with a server that hands its
/// key to any identity caught.
@Suite("Pre-shared key scenarios", .timeLimit(.minutes(3)))
struct PreSharedKeyScenarioTests {
    func cells(_ scenarios: String, suites: String?, certs: String = "[rsa2048, ecdsa-p256]", versions: String = "[TLS1.2, TLS1.3]") throws -> [Cell] {
        let yaml = "servers: [openssl]\nclients: [openssl]\nscenarios: [\(scenarios)]\nversions: \(versions)\ncerts: \(certs)\nclient_auth: [none, required]\n" + (suites.map { "suites: \($0)\n" } ?? "")
        return MatrixRun(matrix: try MatrixFile(yaml: yaml, source: "psk-tests")).cells()
    }

    @Test("a PSK scenario takes PSK suites at TLS 1.2 (RSA_PSK only with an RSA certificate) and SHA-256 suites at TLS 1.3, never client auth")
    func expansion() throws {
        let suites = "[TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_RSA_PSK_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384]"
        let made = try cells("psk", suites: suites)
        #expect(Set(made.map { "\($0.params.version.rawValue) \($0.params.suite!) \($0.params.cert.rawValue)" }) == [
            "TLS1.2 TLS_PSK_WITH_AES_128_GCM_SHA256 rsa2048", "TLS1.2 TLS_PSK_WITH_AES_128_GCM_SHA256 ecdsa-p256", "TLS1.2 TLS_RSA_PSK_WITH_AES_128_GCM_SHA256 rsa2048",
            "TLS1.3 TLS_AES_128_GCM_SHA256 rsa2048", "TLS1.3 TLS_AES_128_GCM_SHA256 ecdsa-p256",
        ])
        #expect(made.allSatisfy { $0.params.clientAuth == .none && $0.features.preSharedKey == .matching })
        for cell in made {
            let feature = cell.params.version == .tls13 ? "psk-tls13" : "psk"
            #expect(cell.features.required(of: .server, at: cell.params.version) == [feature] && cell.features.required(of: .client, at: cell.params.version) == [feature])
        }
        // psk_ke is TLS 1.3's alone, and asks for its own feature.
        let keOnly = try cells("psk-ke", suites: suites)
        #expect(!keOnly.isEmpty && keOnly.allSatisfy { $0.params.version == .tls13 && $0.features.required(of: .client, at: .tls13) == ["psk-ke"] })
        // Every other scenario leaves the PSK suites out, even where it names them.
        #expect(try cells("basic", suites: suites).allSatisfy { !(CipherSuiteRegistry.suite(named: $0.params.suite!)?.isPSK ?? true) })
        // With no suite forced there is no PSK suite, so only TLS 1.3 cells, whose external PSK takes
        // the suite the libraries agree on.
        let unforced = try cells("psk", suites: nil)
        #expect(!unforced.isEmpty && unforced.allSatisfy { $0.params.version == .tls13 && $0.params.suite == nil })
    }

    @Test("the refusal scenarios expect the server to refuse at handshake with the alert the RFC names; in TLS 1.3 an unknown identity falls back to the certificate")
    func refusals() throws {
        let thirteen = try cells("psk-unknown-identity, psk-wrong-key", suites: "[TLS_AES_128_GCM_SHA256]", certs: "[rsa2048]", versions: "[TLS1.3]")
        #expect(thirteen.first { $0.scenario == "psk-unknown-identity" }?.expect.handshake == .ok)
        let binder = try #require(thirteen.first { $0.scenario == "psk-wrong-key" })
        #expect(binder.expect.refusedBy == .server && binder.expect.alert == "decrypt_error")
        let unknown = try #require(try cells("psk-unknown-identity", suites: "[TLS_PSK_WITH_AES_128_GCM_SHA256]", certs: "[rsa2048]").first)
        #expect(unknown.expect.refusedBy == .server && unknown.expect.alert == "unknown_psk_identity" && unknown.expect.refusal == .preSharedKey(.unknownIdentity))
        let wrong = try #require(try cells("psk-wrong-key", suites: "[TLS_PSK_WITH_AES_128_GCM_SHA256]", certs: "[rsa2048]").first)
        #expect(wrong.expect.refusedBy == .server && wrong.expect.alert == "bad_record_mac" && wrong.expect.refusal?.stage == .handshake)
    }

    @Test("each run's key is new; the server knows the run's identity, the refused clients another identity or another key, all 0600")
    func files() async throws {
        let folder = TestFolders.register(try CertificateDirectory())
        let first = try CertificateAuthority.issue(.rsa2048, into: folder.url.appendingPathComponent("a"))
        let second = try CertificateAuthority.issue(.rsa2048, into: folder.url.appendingPathComponent("b"))
        func key(_ set: CertificateSet, _ use: PreSharedKeyUse, _ role: Role) throws -> PreSharedKey {
            let path = set.preSharedKeyFile(use, role: role)
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
            return try PreSharedKey(fileText: String(contentsOfFile: path, encoding: .utf8))
        }
        let server = try key(first, .wrongKey, .server)
        #expect(server == (try key(first, .matching, .client)))
        #expect(server.identity == CertificateAuthority.pskIdentity && server.key.count == 32)
        let stranger = try key(first, .unknownIdentity, .client)
        #expect(stranger.identity == CertificateAuthority.unknownPSKIdentity && stranger.key == server.key)
        let wrong = try key(first, .wrongKey, .client)
        #expect(wrong.identity == server.identity && wrong.key != server.key)
        #expect(try key(second, .matching, .server).key != server.key)
    }

    @Test("OpenSSL with OpenSSL: every kind of PSK suite passes, both refusals pass, and a server that takes any identity is caught")
    func runForReal() async throws {
        let runner = try await Fixture.shared.runner(timeout: .seconds(20), libraries: ["openssl", "anypsk"])
        let suites = "[TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_DHE_PSK_WITH_AES_128_GCM_SHA256, TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256, TLS_RSA_PSK_WITH_AES_128_GCM_SHA256]"
        for cell in try cells("psk, psk-unknown-identity, psk-wrong-key", suites: suites, certs: "[rsa2048]", versions: "[TLS1.2]") {
            let result = await runner.run(cell)
            #expect(result.outcome == .pass, "\(cell.id): \(result.reason ?? "")")
            #expect(result.alertDeviation == nil, "\(cell.id)")
            if cell.scenario == "psk" {
                #expect(result.serverView?.pskIdentity == CertificateAuthority.pskIdentity)
                #expect(result.clientView?.pskIdentity == CertificateAuthority.pskIdentity)
            }
        }
        // TLS 1.3: the external PSK, the certificate for a stranger, and the binder of a wrong key.
        for cell in try cells("psk, psk-unknown-identity, psk-wrong-key", suites: "[TLS_AES_128_GCM_SHA256]", certs: "[ecdsa-p256]", versions: "[TLS1.3]") {
            let result = await runner.run(cell)
            #expect(result.outcome == .pass, "\(cell.id): \(result.reason ?? "")")
            // OpenSSL 3.0 refuses a binder that does not verify with illegal_parameter, not the
            // decrypt_error RFC 8446 §6.2 names: a counted deviation.
            #expect(result.alertDeviation == nil || (cell.scenario == "psk-wrong-key" && result.alertDeviation?.observed == "illegal_parameter"),
                    "\(cell.id): \(String(describing: result.alertDeviation))")
        }
        var liar = try #require(try cells("psk-unknown-identity", suites: "[TLS_PSK_WITH_AES_128_GCM_SHA256]", certs: "[rsa2048]", versions: "[TLS1.2]").first)
        liar.server = "anypsk"
        let caught = await runner.run(liar)
        #expect(caught.outcome == .fail)
        #expect(caught.reason?.contains("succeeded") == true, "\(caught.reason ?? "")")
        var liar13 = try #require(try cells("psk-unknown-identity", suites: "[TLS_AES_128_GCM_SHA256]", certs: "[ecdsa-p256]", versions: "[TLS1.3]").first)
        liar13.server = "anypsk"
        let caught13 = await runner.run(liar13)
        #expect(caught13.outcome == .fail)
        #expect(caught13.reason?.contains("yet the server reports PSK identity") == true, "\(caught13.reason ?? "")")
    }
}
