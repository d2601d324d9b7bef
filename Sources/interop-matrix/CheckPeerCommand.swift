import ArgumentParser
import Foundation
import InteropMatrix

extension InteropMatrixCommand {
    /// `interop-matrix check-peer ID|PATH`: does a peer keep PEER-PROTOCOL.md?
    struct CheckPeer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-peer",
            abstract: "Check one peer against the peer protocol, alone and against a reference peer.",
            discussion: """
            Runs the peer's capabilities, its exit codes (usage 2, unsupported 3), the failures it must \
            report by stage (a refused connection, a silent server), handshakes both ways with the \
            reference, every refusal for its reason (verify_reason), truncation, the optional features it \
            lists, and the worker protocol if it has one. Prints each check as PASS or FAIL with what the \
            protocol expected and what came. Exit codes: 0 every check passed; 1 a check failed; 3 the \
            peer or the reference could not be loaded; 64 a bad option.
            """)

        @Argument(help: "A library id (peer-<id> beside interop-matrix or in a folder of INTEROP_MATRIX_PEER_PATH), or the path of a peer-<id> executable.")
        var peer: String

        @Option(name: .long, help: "The reference peer to cross it with (default: the first other library found, by id; the peer itself when it is the only one).")
        var reference: String?

        @Option(name: .long, help: "Seconds each check may take.")
        var timeout: Double = 10

        func validate() throws {
            guard timeout >= 0.5, timeout <= 600 else { throw ValidationError("--timeout takes seconds between 0.5 and 600, e.g. --timeout 10") }
        }

        func run() async throws {
            let candidate: PeerLibrary
            let referenceLibrary: PeerLibrary
            do {
                candidate = peer.contains("/") ? try await PeerCatalog.library(at: peer) : try await PeerCatalog().load([peer])[peer]!
                let catalog = PeerCatalog()
                let referenceID = reference ?? catalog.discoverIDs().first { $0 != candidate.id } ?? candidate.id
                referenceLibrary = try await catalog.load([referenceID])[referenceID]!
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: \(error)\n".utf8))
                throw ExitCode(3)
            }
            print("check-peer: \(candidate.id) (\(candidate.name) \(candidate.version)) against \(referenceLibrary.id) (\(referenceLibrary.name) \(referenceLibrary.version))")
            var conformance = PeerConformance(candidate: candidate, reference: referenceLibrary)
            conformance.timeout = .milliseconds(Int(timeout * 1000))
            let checks = try await conformance.run { check in
                print((check.passed ? "PASS " : "FAIL ") + check.name + (check.detail.isEmpty ? "" : "\n     " + check.detail))
            }
            let failed = checks.filter { !$0.passed }.count
            print("\(checks.count - failed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
