import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("The default matrix, run for real", .timeLimit(.minutes(10)))
struct DefaultMatrixTests {
    @Test("every pair of the libraries found completes verified handshakes; TLS 1.3 where one lacks it is unsupported, never a failure")
    func defaultMatrix() async throws {
        var run = MatrixRun(matrix: try MatrixFile.builtInDefault(), catalog: await Fixture.shared.catalog, jobs: 2)
        run.timeout = .seconds(10)
        let report = try await run.run()

        #expect(report.complete)
        // Every cell as the committed baseline says: passes, unsupported cells, and the known
        // failures it documents with their reason (in the basic scenario only a wolfSSL client's
        // TLS 1.3 connections to servers whose ticket nonces it refuses).
        var compared = report
        let baseline = try Baseline.load(path: Fixture.packageRoot.appendingPathComponent("matrix/expected/default.json").path)
        let comparison = baseline.compare(&compared, file: "matrix/expected/default.json") { _ in true }
        #expect(comparison.regressions.isEmpty, "regressions: \(comparison.regressions)")
        #expect(comparison.newCells.isEmpty && comparison.vanishedCells.isEmpty)
        let errors = report.results.filter { [.timeout, .crash, .error].contains($0.outcome) }
        #expect(errors.isEmpty, "\(errors.map { "\($0.id): \($0.outcome.rawValue) after \(Int($0.durationMs)) ms: \($0.reason ?? "")" })")
        let known = Set(comparison.knownFailures)
        let basicFailures = report.results.filter { $0.scenario == "basic" && ![.pass, .unsupported].contains($0.outcome) }
        #expect(basicFailures.allSatisfy { known.contains($0.id) }, "\(basicFailures.filter { !known.contains($0.id) }.map(\.id))")
        let pairs = Set(report.results.map { "\($0.server)>\($0.client)" })
        #expect(pairs.count == Fixture.libraries.count * Fixture.libraries.count)
        #expect(report.libraries.map(\.id).sorted() == Fixture.libraries)
        #expect(report.unavailableLibraries == nil)
        let versions = Dictionary(uniqueKeysWithValues: report.libraries.map { ($0.id, Set($0.capabilities?.versions ?? [])) })

        for server in Fixture.libraries {
            for client in Fixture.libraries {
                let tls12 = report.results.filter { $0.server == server && $0.client == client && $0.params.version == .tls12 && $0.scenario == "basic" && $0.expect.connectionBroken != true }
                #expect(!tls12.isEmpty && tls12.allSatisfy { $0.outcome == .pass }, "\(server)>\(client) TLS 1.2")
                for cell in tls12 {
                    // What passed was read back from both libraries, and they agree.
                    #expect(cell.clientView?.suiteCode == cell.serverView?.suiteCode)
                    #expect(cell.clientView?.suite.hasPrefix("TLS_") == true)
                    #expect(cell.clientView?.peerCertificate == CertificateAuthority.serverSubject)
                    if cell.params.clientAuth == .required {
                        #expect(cell.serverView?.peerCertificate == CertificateAuthority.clientSubject)
                    }
                }
                let tls13 = report.results.filter { $0.server == server && $0.client == client && $0.params.version == .tls13 && $0.scenario == "basic" && $0.params.group == nil }
                // The post-quantum hybrid cells: negotiated and read back where both sides have it,
                // unsupported (naming it, or TLS 1.3) where one lacks it.
                let hybrid = report.results.filter { $0.server == server && $0.client == client && $0.scenario == "basic" && $0.params.group == "X25519MLKEM768" }
                let bothHave = [server, client].allSatisfy { id in report.libraries.first { $0.id == id }?.capabilities?.groups.contains("X25519MLKEM768") == true }
                #expect(!hybrid.isEmpty, "\(server)>\(client) X25519MLKEM768")
                for cell in hybrid {
                    if bothHave {
                        #expect(cell.outcome == .pass && [cell.serverView?.group, cell.clientView?.group].contains("X25519MLKEM768"), "\(cell.id): \(cell.reason ?? "")")
                    } else {
                        let reason = cell.reason ?? ""
                        #expect(cell.outcome == .unsupported && (reason.contains("X25519MLKEM768") || reason.contains("TLS1.3")), "\(cell.id): \(reason)")
                    }
                }
                if let lacking = [server, client].first(where: { versions[$0]?.contains("TLS1.3") != true }) {
                    #expect(tls13.allSatisfy { $0.outcome == .unsupported && $0.reason?.contains(lacking) == true && $0.serverView == nil })
                } else {
                    #expect(!tls13.isEmpty && tls13.allSatisfy { $0.outcome == .pass || known.contains($0.id) }, "\(server)>\(client) TLS 1.3")
                    #expect(tls13.filter { $0.expect.handshake == .ok }.allSatisfy { $0.clientView?.version == .tls13 })
                    #expect(tls13.contains { $0.params.network == .segment1 })
                }
            }
        }

        // The report passes the contract's own checker.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("default-\(UUID().uuidString).json")
        try report.jsonData().write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        if let tool = Fixture.checkReport {
            let check = try await runProgram(tool, [path.path])
            #expect(check.status == 0, "check-report rejected the default matrix report: \(check.output)\(check.errors)")
        }
        let markdown = MarkdownReport.render(report)
        #expect(markdown.contains("| **openssl** |"))
        #expect(markdown.contains("## What each pair negotiated"))
    }

    @Test("matrix/default.yml is the built-in default the program carries")
    func defaultFileMatchesBuiltIn() throws {
        let path = Fixture.packageRoot.appendingPathComponent("matrix/default.yml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == (try MatrixFile.builtInDefaultText()))
        var fromFile = try MatrixFile.load(path: path)
        fromFile.source = try MatrixFile.builtInDefault().source
        #expect(fromFile == (try MatrixFile.builtInDefault()))
        #expect(fromFile.discoversLibraries, "the default crosses every library found, naming none")
    }
}
