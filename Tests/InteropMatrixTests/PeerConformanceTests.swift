import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// `check-peer`: every built-in peer keeps the protocol, and each lying peer is caught by name.
/// One check-peer at a time: eleven of them at once, each crossing dozens of cells, in the test
/// run's first seconds starved the timing tests of the other suites (a cell timeout seen 3 s late).
@Suite("check-peer", .serialized, .timeLimit(.minutes(6)))
struct PeerConformanceTests {
    func library(_ id: String) async throws -> PeerLibrary {
        try await PeerCatalog.library(at: "\(Fixture.shared.peerDirectory)/peer-\(id)")
    }

    @Test("every built-in peer passes every check against OpenSSL", arguments: Fixture.libraries)
    func builtInPeersConform(id: String) async throws {
        let checks = try await PeerConformance(candidate: try await library(id), reference: try await library("openssl")).run()
        #expect(checks.count > 20, "the checks ran")
        for check in checks where !check.passed { Issue.record("\(id): \(check.name): \(check.detail)") }
    }

    @Test("a peer that lies is failed, naming the check it broke",
          arguments: [("noverify", "/expired-cert/"), ("nosni", "/sni/"), ("noresume", "/resumption-"), ("nokeyupdate", "/key-update/"), ("badecho", "/large-transfer/"),
                      ("latetimeout", "a silent server")])
    func liarsAreCaught(mode: String, check: String) async throws {
        let checks = try await PeerConformance(candidate: try await library(mode), reference: try await library("openssl")).run()
        let failed = checks.filter { !$0.passed }
        #expect(failed.contains { $0.name.contains(check) }, "\(failed.map(\.name))")
        #expect(failed.allSatisfy { !$0.detail.isEmpty }, "a failed check says what was expected and what came")
    }

    @Test("a path that is not a peer executable is refused with a reason")
    func notAPeer() async throws {
        await #expect(throws: CatalogError.self) { try await PeerCatalog.library(at: "/bin/sh") }
    }
}
