import Foundation
import Testing
import X509
@testable import InteropMatrix

@Suite("Generated certificates")
struct CertificateAuthorityTests {
    @Test("keys are 0600 in a 0700 folder, and the leaves carry the extensions TLS libraries check",
          arguments: [CertificateKeyType.ecdsaP256, .ed25519, .rsa2048])
    func issue(keyType: CertificateKeyType) async throws {
        let directory = try CertificateDirectory()
        defer { directory.remove() }
        let sets = try await CertificateAuthority.issue([keyType], into: directory.url)
        let set = try #require(sets[keyType])
        for key in [set.serverKey, set.clientKey] {
            let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // PKCS#8, as PEER-PROTOCOL.md says: NSS imports no other form.
            #expect(try String(contentsOfFile: key, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        }
        let folderMode = try FileManager.default.attributesOfItem(atPath: directory.url.path)[.posixPermissions] as? Int
        #expect(folderMode == 0o700)

        let server = try Certificate(pemEncoded: String(contentsOfFile: set.serverCertificate, encoding: .utf8))
        let ca = try Certificate(pemEncoded: String(contentsOfFile: set.caCertificate, encoding: .utf8))
        #expect(server.issuer == ca.subject)
        #expect(try server.extensions.subjectAlternativeNames?.contains(.dnsName("localhost")) == true)
        #expect(try server.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(try server.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
        #expect(try server.extensions.authorityKeyIdentifier?.keyIdentifier == ca.extensions.subjectKeyIdentifier?.keyIdentifier)
        let client = try Certificate(pemEncoded: String(contentsOfFile: set.clientCertificate, encoding: .utf8))
        #expect(try client.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
    }
}
