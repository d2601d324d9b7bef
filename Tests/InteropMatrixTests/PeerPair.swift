import Foundation
import PeerKit
@testable import InteropMatrix

/// One server peer and one client peer, run by hand against each other with the options a test
/// gives, their result lines read as the protocol writes them (including fields the runner's
/// decoder does not know yet, such as `error.verify_reason`). For the peer-behaviour tests, which
/// ask one library's peer a precise question; the cell runner is the matrix tests' business.
struct PeerPair {
    /// The JSON result line of one peer, decoded by the protocol's own field names.
    struct Result: Decodable, Sendable {
        struct Failure: Decodable, Sendable {
            var stage: String
            var alert: String?
            var alertDirection: String?
            var libraryCode: String?
            var verifyReason: String?
            var message: String
        }
        struct View: Decodable, Sendable {
            var alpn: String?
            var serverName: String?
            var peerCertificate: String?
        }
        var status: String
        var reason: String?
        var view: View?
        var error: Failure?
    }

    /// How one peer ended: its exit status, its result line, and its log (stderr).
    struct End: Sendable {
        var status: Int32
        var result: Result?
        var log: String
        var summary: String { "exit \(status); \(result.map { "\($0.status) \($0.error.map { "\($0.stage) \($0.verifyReason ?? "-"): \($0.message)" } ?? "")" } ?? "no result line"); log: \(log.suffix(600))" }
    }

    /// `peer-<id>` as SwiftPM built it; a path (with a `/`) is taken as it is.
    static func executable(_ id: String) -> String { id.contains("/") ? id : PeerCatalog(directory: Fixture.buildDirectory).executable(for: id) }

    /// Runs `server` (which prints its port), then `client` with `--port` added, and waits for both.
    /// The client runs with a 5 s peer deadline, the server with 20 s: it waits for a client that a
    /// loaded test run may start seconds later (CI saw its listener gone before a client came). A
    /// peer still running 10 s past its deadline is killed.
    static func run(server: String, _ serverArguments: [String], client: String, _ clientArguments: [String]) async throws -> (server: End, client: End) {
        let server = try PeerProcessHandle(executable: executable(server), arguments: ["server", "--timeout-ms", "20000"] + serverArguments, lifetime: 30)
        defer { server.stop() }
        guard let port = try await offPool({ server.readPort() }) else {
            let end = try await offPool { server.finish() }
            return (end, End(status: -1, result: nil, log: "not started: the server printed no port"))
        }
        let client = try PeerProcessHandle(executable: executable(client),
                                           arguments: ["client", "--timeout-ms", "5000", "--port", String(port)] + clientArguments)
        defer { client.stop() }
        let clientEnd = try await offPool { client.finish() }
        let serverEnd = try await offPool { server.finish() }
        return (serverEnd, clientEnd)
    }

    /// `peer-<id> capabilities`, decoded as the runner decodes it.
    static func capabilities(_ id: String) async throws -> PeerCapabilities {
        let peer = try PeerProcessHandle(executable: executable(id), arguments: ["capabilities"])
        defer { peer.stop() }
        let data = try await offPool { peer.finishRaw() }
        return try JSONDecoder().decode(PeerCapabilities.self, from: data)
    }

    /// Runs a client alone (one that must stop before it connects, or has nowhere to connect).
    static func runClient(_ id: String, _ arguments: [String]) async throws -> End {
        let client = try PeerProcessHandle(executable: executable(id), arguments: ["client", "--timeout-ms", "5000"] + arguments)
        defer { client.stop() }
        return try await offPool { client.finish() }
    }
}

/// A peer process with its stdout and stderr read to the end; killed if it outlives its time.
private final class PeerProcessHandle: @unchecked Sendable {
    private let child: TestChild
    private var pending = Data()
    private let killer: DispatchWorkItem

    init(executable: String, arguments: [String], lifetime: Double = 10) throws {
        child = try TestChild(executable, arguments)
        let child = self.child
        killer = DispatchWorkItem { child.kill() }
        DispatchQueue.global().asyncAfter(deadline: .now() + lifetime, execute: killer)
    }

    /// Reads stdout up to the `listening` line and returns its port (nil if the peer ended first).
    func readPort() -> UInt16? {
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = pending[pending.startIndex..<newline]
                pending.removeSubrange(pending.startIndex...newline)
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                   object["event"] as? String == "listening", let port = object["port"] as? Int {
                    return UInt16(port)
                }
                continue
            }
            let chunk = child.readOutputChunk()
            if chunk.isEmpty { return nil }
            pending += chunk
        }
    }

    /// Waits for the end; returns the exit status, the result line and the log.
    func finish() -> PeerPair.End {
        let (rest, errors) = child.readToEnd()
        let status = child.wait()
        killer.cancel()
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let lines = (pending + rest).split(separator: 10)
        let result = lines.compactMap { line -> PeerPair.Result? in
            guard (try? JSONSerialization.jsonObject(with: line) as? [String: Any])?["event"] as? String == "result" else { return nil }
            return try? decoder.decode(PeerPair.Result.self, from: line)
        }.last
        return PeerPair.End(status: status, result: result, log: String(decoding: errors, as: UTF8.self))
    }

    /// Waits for the end; returns stdout as it is.
    func finishRaw() -> Data {
        let data = pending + child.readToEnd().output
        child.wait()
        killer.cancel()
        return data
    }

    func stop() {
        killer.cancel()
        child.kill()
    }
}

/// One test's own certificates (ECDSA P-256, made in a private 0700 folder), removed with `remove()`.
struct PrivateCertificates {
    let directory: CertificateDirectory
    let set: CertificateSet

    static func issue() async throws -> PrivateCertificates {
        let directory = try CertificateDirectory()
        do {
            let sets = try await CertificateAuthority.issue([.ecdsaP256], into: directory.url)
            return PrivateCertificates(directory: directory, set: sets[.ecdsaP256]!)
        } catch {
            directory.remove()
            throw error
        }
    }

    func remove() { directory.remove() }
}
