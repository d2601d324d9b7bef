import Foundation
import Testing
@testable import InteropMatrix

@Suite("Matrix files")
struct MatrixFileTests {
    @Test("the default matrix expands to every pair, both versions, both certificates and both auth modes")
    func defaultExpansion() {
        let cells = MatrixRun(matrix: MatrixFile.builtInDefault()).cells()
        // 9 pairs × 2 versions × 2 certs × (2 basic auth modes + 1 client-cert-missing)
        #expect(cells.count == 9 * 2 * 2 * 3)
        #expect(Set(cells.map(\.id)).count == cells.count)
        #expect(cells.filter { $0.scenario == "client-cert-missing" }.allSatisfy { $0.params.clientAuth == .required && !$0.clientPresentsCertificate })
    }

    @Test("an unknown key is an error naming the file, the line and the key")
    func unknownKey() {
        #expect {
            _ = try MatrixFile(yaml: "servers: [openssl]\nclients: [openssl]\nversionz: [TLS1.2]\n", source: "m.yml")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("m.yml:3:") && text.contains("versionz")
        }
    }

    @Test("an unknown value is an error that lists the choices")
    func unknownValue() {
        #expect {
            _ = try MatrixFile(yaml: "libraries: [openssl]\nversions: [TLS1.4]\n", source: "m.yml")
        } throws: { error in "\(error)".contains("TLS1.4") && "\(error)".contains("TLS1.3") }
    }

    @Test("text that is not a mapping is refused")
    func notAMapping() {
        #expect(throws: MatrixError.self) { _ = try MatrixFile(yaml: "- a\n- b\n", source: "m.yml") }
        #expect(throws: MatrixError.self) { _ = try MatrixFile(yaml: "servers: [openssl\n", source: "m.yml") }
    }
}
