import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("Matrix files")
struct MatrixFileTests {
    @Test("the default matrix expands to every pair of the libraries found, both versions, both certificates and both auth modes")
    func defaultExpansion() throws {
        let cells = MatrixRun(matrix: try MatrixFile.builtInDefault(), catalog: PeerCatalog(directory: Fixture.buildDirectory)).cells()
        let libraries = Fixture.libraries.count
        let pairs = libraries * libraries
        // pairs: ring, each library serving the next: as many pairs as libraries.
        let ring = libraries
        // pairs × (2 versions × 2 certs × (2 basic auth modes + 1 client-cert-missing) + 2 certs out of the box),
        // + segment-1 for every pair × 2 versions, + 4 impairments for the ring × 2 versions, + stall for the ring × 2 versions
        // + 14 refusal, chain, ALPN and close scenarios for every pair × 2 versions, + hrr (TLS 1.3 only) for every pair
        // + sni, resumption-ticket and large-transfer for every pair × 2 versions, + resumption-id (TLS 1.2)
        // and key-update (TLS 1.3) for every pair, + ip-address for every pair × 2 versions, + the hybrid
        // group over 3 networks and 2 hybrid HelloRetryRequests (TLS 1.3 only) for every pair, + 7 TLS 1.2
        // PSK suites and the 2 PSK refusals over 2 of them, + the TLS 1.3 external PSK's 4 scenarios, for every pair
        #expect(cells.count == pairs * (2 * 2 * 3 + 2) + pairs * 2 * 14 + pairs + pairs * 2 + ring * 4 * 2 + ring * 2 + pairs * 2 * 3 + pairs * 2 + pairs * 2 + pairs * 3 + pairs * 2
                + pairs * (7 + 2 * 2) + pairs * 4)
        #expect(Set(cells.filter { $0.params.network == .segment1 }.map { "\($0.server)>\($0.client)" }).count == pairs)
        let impaired = Set(cells.filter { $0.params.network == .reset }.map { "\($0.server)>\($0.client)" })
        #expect(Set(impaired.map { $0.split(separator: ">")[0] }).count == libraries, "every library serves once behind an impaired network")
        #expect(Set(impaired.map { $0.split(separator: ">")[1] }).count == libraries, "and is a client once")
        #expect(cells.filter { !$0.params.network.preservesConnection }.allSatisfy { $0.expect.connectionBroken })
        #expect(cells.filter { $0.scenario == "defaults" }.allSatisfy { $0.usesLibraryDefaults && $0.id.contains("/defaults/default/") })
        #expect(Set(cells.map(\.id)).count == cells.count)
        #expect(cells.filter { $0.scenario == "client-cert-missing" }.allSatisfy { $0.params.clientAuth == .required && !$0.clientPresentsCertificate })
    }

    @Test("pairs: ring makes each library serve the next in id order, and all names every peer found")
    func ringAndAll() throws {
        let folder = TestFolders.make("interop-matrix-all")
        for id in ["zeta", "alpha", "mid"] {
            try "#!/bin/sh\nexit 1\n".write(toFile: folder.appendingPathComponent("peer-\(id)").path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.appendingPathComponent("peer-\(id)").path)
        }
        // Not peers: a folder named like one, a file that is not executable, an id reports cannot carry.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("peer-folder.product"), withIntermediateDirectories: true)
        try "".write(toFile: folder.appendingPathComponent("peer-plain").path, atomically: true, encoding: .utf8)
        try "".write(toFile: folder.appendingPathComponent("fault-peer").path, atomically: true, encoding: .utf8)
        var catalog = PeerCatalog(directory: folder.path)
        catalog.extraDirectories = []
        #expect(catalog.discoverIDs() == ["alpha", "mid", "zeta"])
        let matrix = try MatrixFile(yaml: "libraries: all\nversions: [TLS1.2]\ncross:\n  - name: r\n    pairs: [ring]\n", source: "ring.yml")
        let run = MatrixRun(matrix: matrix, catalog: catalog)
        #expect(run.matrix.servers == ["alpha", "mid", "zeta"])
        #expect(Set(run.cells().map { "\($0.server)>\($0.client)" }) == ["alpha>mid", "mid>zeta", "zeta>alpha"])
        #expect(run.cellUpperBound() >= run.cells().count)
    }

    @Test("a peer all finds whose capabilities fail is listed with why, and the others run")
    func unavailableIsListed() async throws {
        let folder = TestFolders.make("interop-matrix-broken")
        let broken = folder.appendingPathComponent("peer-broken").path
        try "#!/bin/sh\necho 'cannot open libbroken.so.1' >&2\nexit 127\n".write(toFile: broken, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: broken)
        // A stale fault peer under a name that is no fault mode (as an old peer-fault build product was).
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("peer-stale").path,
                                                   withDestinationPath: "\(Fixture.buildDirectory)/fault-peer")
        var catalog = PeerCatalog(directory: Fixture.buildDirectory)
        catalog.extraDirectories = [folder.path]
        let matrix = try MatrixFile(yaml: "libraries: all\nversions: [TLS1.2]\n", source: "all.yml")
        let run = MatrixRun(matrix: matrix, catalog: catalog)
        #expect(run.matrix.servers.contains("broken"))
        let (libraries, unavailable, taking) = try await run.loadLibraries()
        #expect(unavailable.map(\.id) == ["broken", "stale"])
        #expect(unavailable.last?.reason.contains("names no fault mode") == true)
        #expect(unavailable.first?.reason.contains("cannot open libbroken.so.1") == true)
        #expect(libraries["broken"] == nil && !taking.matrix.servers.contains("broken") && !taking.matrix.servers.contains("stale"))
        #expect(taking.matrix.servers == Fixture.libraries)
        // Named, the same peer stops the run: the user asked for it.
        let named = MatrixRun(matrix: try MatrixFile(yaml: "libraries: [openssl, broken]\n", source: "named.yml"), catalog: catalog)
        await #expect(throws: CatalogError.self) { _ = try await named.loadLibraries() }
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

@Suite("Matrix blocks and selections")
struct MatrixBlockTests {
    @Test("blocks inherit the top level and override it; all and legacy are per block")
    func blocks() throws {
        let file = try MatrixFile(yaml: """
        libraries: [openssl, gnutls]
        versions: [TLS1.2]
        certs: [rsa2048]
        cross:
          - name: suites
            suites: all
          - name: old
            versions: [TLS1.0]
            legacy: true
          - groups: [x25519, ffdhe2048]
            versions: [TLS1.2, TLS1.3]
        """, source: "m.yml")
        #expect(file.blocks.count == 3)
        #expect(file.blocks[0].suites == .all && file.blocks[0].versions == [.tls12] && !file.blocks[0].legacy)
        #expect(file.blocks[1].versions == [.tls10] && file.blocks[1].legacy && file.blocks[1].certs == [.rsa2048])
        let cells = MatrixRun(matrix: file).cells()
        // Without capabilities, `all` is every registry suite an RSA certificate authenticates at TLS 1.2.
        let suites = Set(cells.filter { $0.params.suiteCode != nil }.compactMap(\.params.suite))
        #expect(suites.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") && suites.contains("TLS_RSA_WITH_AES_128_CBC_SHA"))
        #expect(!suites.contains("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), "an RSA certificate cannot authenticate ECDSA suites")
        #expect(!suites.contains { $0.contains("PSK") || $0.contains("anon") })
        #expect(cells.filter { $0.params.version == .tls10 }.allSatisfy { $0.liftPolicy })
        // Finite-field groups are TLS 1.3 groups only.
        #expect(!cells.contains { $0.params.group == "ffdhe2048" && $0.params.version == .tls12 })
        #expect(cells.contains { $0.params.group == "ffdhe2048" && $0.params.version == .tls13 })
    }

    @Test("an unknown suite name is an error that says what names are expected")
    func unknownSuite() {
        #expect {
            _ = try MatrixFile(yaml: "libraries: [openssl]\nsuites: [ECDHE-RSA-AES128-GCM-SHA256]\n", source: "m.yml")
        } throws: { "\($0)".contains("m.yml:2") && "\($0)".contains("IANA") }
    }

    @Test("matrix/full.yml expands to thousands of cells, each suite with a certificate that can authenticate it")
    func fullMatrix() throws {
        let file = try MatrixFile.load(path: Fixture.packageRoot.appendingPathComponent("matrix/full.yml").path)
        let cells = MatrixRun(matrix: file).cells()
        #expect(cells.count > 2000)
        for cell in cells where cell.params.suiteCode != nil {
            let suite = try #require(CipherSuiteRegistry.suite(codeText: cell.params.suiteCode!))
            #expect(suite.isAuthenticated(by: cell.params.cert, at: cell.params.version), "\(cell.id)")
        }
        #expect(Set(cells.map(\.params.version)) == Set(TLSVersion.allCases))
        #expect(Set(cells.map(\.params.cert)) == Set(CertificateKeyType.allCases))
        #expect(Set(cells.map(\.params.clientAuth)) == Set(ClientAuth.allCases))
    }

    @Test("duplicate keys, tabs and other YAML errors are one line naming the file and the line", arguments: [
        ("name: x\nservers: [openssl]\nservers: [gnutls]\nclients: [openssl]\n", "m.yml:2: not valid YAML: duplicate key 'servers'"),
        ("name: x\nservers: [openssl]\n\tclients: [openssl]\n", "m.yml:3: not valid YAML: found character that cannot start any token"),
        ("servers: [openssl\nclients: [openssl]\n", "m.yml:"),
    ])
    func oneLineYAMLErrors(text: String, prefix: String) {
        #expect {
            _ = try MatrixFile(yaml: text, source: "m.yml")
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix(prefix) && !message.contains("\n") && message.count < 300
        }
    }

    @Test("a value of megabytes is quoted in an error by its first characters only")
    func longValuesCapped() {
        let long = String(repeating: "A", count: 900_000)
        for text in ["servers: [\(long)]\nclients: [openssl]\n", "libraries: [openssl]\nscenarios: [\(long)]\n",
                     "libraries: [openssl]\n\(long): 1\n", "libraries: [openssl]\nversions: ['\(long)\n\n']\n"] {
            #expect {
                _ = try MatrixFile(yaml: text, source: "m.yml")
            } throws: { error in
                // The value is cut to its first characters; what stays is the message and, for a
                // scenario, the list of the scenarios there are.
                let message = "\(error)"
                return message.count < 1000 && !message.contains("\n")
            }
        }
    }

    @Test("an apostrophe in a plain value does not hide the anchors and aliases after it", arguments: [
        "name: Bob's matrix\nservers: &s [openssl]\nclients: *s\n",
        "name: it's\nlibraries: [openssl]\ncross:\n  - &b {name: a}\n  - *b\n",
        "name: 'it''s'\nservers: &s [openssl]\nclients: *s\n",
        "name: \"say \\\"hi\\\"\"\nservers: &s [openssl]\nclients: *s\n",
    ])
    func anchorsAfterApostrophes(text: String) {
        #expect {
            _ = try MatrixFile(yaml: text, source: "m.yml")
        } throws: { error in "\(error)".contains("anchors and aliases") }
    }

    @Test("quoted ampersands and stars, and an apostrophe, are still fine")
    func quotedSymbolsAllowed() throws {
        let matrix = try MatrixFile(yaml: "name: 'Bob & Alice *'\nservers: [openssl] # a comment's &x\nclients: [\"openssl\"]\n", source: "m.yml")
        #expect(matrix.name == "Bob & Alice *")
        let plain = try MatrixFile(yaml: "name: Bob's matrix\nlibraries: [openssl]\n", source: "m.yml")
        #expect(plain.name == "Bob's matrix")
    }
}
