import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("The IANA cipher suite registry")
struct CipherSuiteRegistryTests {
    @Test("names say what a suite is made of and which versions define it")
    func parsesNames() throws {
        let gcm = try #require(CipherSuiteRegistry.suite(code: 0xC02B))
        #expect(gcm.name == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
        #expect((gcm.keyExchange, gcm.authentication, gcm.cipher, gcm.mac) == ("ECDHE", "ECDSA", "AES_128_GCM", "SHA256"))
        #expect(gcm.versions == .tls12 ... .tls12)
        let cbc = try #require(CipherSuiteRegistry.suite(named: "TLS_RSA_WITH_AES_128_CBC_SHA"))
        #expect((cbc.keyExchange, cbc.authentication, cbc.mac) == ("RSA", "RSA", "SHA"))
        #expect(cbc.versions == .tls10 ... .tls12)
        let ccm = try #require(CipherSuiteRegistry.suite(code: 0xC0AE))
        #expect(ccm.mac == "AEAD" && ccm.cipher == "AES_128_CCM_8")
        let tls13 = try #require(CipherSuiteRegistry.suite(code: 0x1305))
        #expect(tls13.name == "TLS_AES_128_CCM_8_SHA256" && tls13.versions == .tls13 ... .tls13 && tls13.keyExchange == "any")
        #expect(CipherSuiteRegistry.suite(code: 0xC0AA)?.name == "TLS_PSK_DHE_WITH_AES_128_CCM_8")
        #expect(CipherSuiteRegistry.suite(code: 0xC0AA)?.keyExchange == "DHE")
    }

    @Test("the whole IANA table is there, and its odd entries are classified as the RFCs define them")
    func wholeRegistry() throws {
        #expect(CipherSuiteRegistry.all.count >= 350)
        let scsv = try #require(CipherSuiteRegistry.suite(code: 0x5600))
        #expect(scsv.name == "TLS_FALLBACK_SCSV" && scsv.keyExchange == "none" && scsv.authentication == "none")
        #expect(!scsv.isAuthenticated(by: .rsa2048, at: .tls12) && !scsv.isAuthenticated(by: .rsa2048, at: .tls13))
        #expect(try #require(CipherSuiteRegistry.suite(code: 0x00FF)).keyExchange == "none")
        let export = try #require(CipherSuiteRegistry.suite(code: 0x0003))
        #expect(export.name == "TLS_RSA_EXPORT_WITH_RC4_40_MD5" && export.versions == .tls10 ... .tls10)
        #expect((export.keyExchange, export.authentication) == ("RSA", "RSA"))
        #expect(try #require(CipherSuiteRegistry.suite(code: 0xC102)).versions == .tls12 ... .tls12)
        let mgm = try #require(CipherSuiteRegistry.suite(code: 0xC103))
        #expect(mgm.versions == .tls13 ... .tls13 && mgm.keyExchange == "any")
        let sm4 = try #require(CipherSuiteRegistry.suite(code: 0x00C6))
        #expect(sm4.name == "TLS_SM4_GCM_SM3" && sm4.versions == .tls13 ... .tls13 && sm4.mac == "SM3")
        let pwd = try #require(CipherSuiteRegistry.suite(code: 0xC0B0))
        #expect(pwd.keyExchange == "ECCPWD" && pwd.versions == .tls12 ... .tls13 && !pwd.isAuthenticated(by: .ecdsaP256, at: .tls12))
        #expect(try #require(CipherSuiteRegistry.suite(code: 0xC0B4)).versions == .tls13 ... .tls13)
        #expect(try #require(CipherSuiteRegistry.suite(code: 0xD005)).name == "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256")
        #expect(CipherSuiteRegistry.suite(code: 0x0066) == nil, "never assigned")
    }

    @Test("which certificates authenticate which suites")
    func authentication() throws {
        let ecdsa = try #require(CipherSuiteRegistry.suite(code: 0xC02B))
        #expect(ecdsa.isAuthenticated(by: .ecdsaP384, at: .tls12))
        #expect(ecdsa.isAuthenticated(by: .ed25519, at: .tls12))
        #expect(!ecdsa.isAuthenticated(by: .rsa2048, at: .tls12))
        #expect(!ecdsa.isAuthenticated(by: .ecdsaP256, at: .tls13))
        let dhe = try #require(CipherSuiteRegistry.suite(named: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"))
        #expect(dhe.isAuthenticated(by: .rsa3072, at: .tls10))
        #expect(!dhe.isAuthenticated(by: .ecdsaP256, at: .tls10))
        let psk = try #require(CipherSuiteRegistry.suite(named: "TLS_PSK_WITH_AES_128_GCM_SHA256"))
        #expect(!psk.isAuthenticated(by: .rsa2048, at: .tls12))
        #expect(try #require(CipherSuiteRegistry.suite(code: 0x1301)).isAuthenticated(by: .ed25519, at: .tls13))
    }

    @Test("code points are unique, and OpenSSL's standard names are the registry's")
    func agreesWithOpenSSL() async throws {
        #expect(Set(CipherSuiteRegistry.all.map(\.code)).count == CipherSuiteRegistry.all.count)
        let runner = try await Fixture.shared.runner()
        let openssl = try #require(runner.libraries["openssl"])
        for suite in openssl.capabilities.suites {
            guard let name = suite.name, let known = CipherSuiteRegistry.suite(codeText: suite.code) else { continue }
            #expect(known.name == name, "\(suite.code)")
        }
    }

    @Test("a code point a library reports that the registry does not know is kept, not dropped")
    func unknownCodePointsKept() async throws {
        let runner = try await Fixture.shared.runner()
        let gnutls = try #require(runner.libraries["gnutls"])
        let unknown = gnutls.capabilities.suites.filter { CipherSuiteRegistry.suite(codeText: $0.code) == nil }
        #expect(unknown.contains { $0.code == "0x0066" })
        // GnuTLS beside OpenSSL, which lacks 0x0066: the unique-support section shows what no other
        // library of the run has.
        let openssl = try #require(runner.libraries["openssl"])
        #expect(!openssl.capabilities.suites.contains { $0.code == "0x0066" })
        let report = Report(startedAt: "", durationS: 0, matrix: "", libraries: [gnutls, openssl].map {
            Report.Library(id: $0.id, name: $0.name, version: $0.version, capabilities: $0.capabilities)
        }, summary: Report.Summary(results: []), results: [], complete: true)
        #expect(MarkdownReport.render(report).contains("0x0066 (not in the IANA registry"))
    }
}
