import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// Every line a built-in peer prints keeps the peer protocol's JSON Schemas (Sources/PeerKit/schemas),
/// checked by `ci/validate-peer-lines`, the tool a peer author in any language runs on their own peer.
@Suite("Peer lines against the protocol's schemas", .timeLimit(.minutes(2)))
struct PeerSchemaTests {
    /// A peer's stdout lines, run to its end.
    static func lines(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> [String] {
        try await runProgram(executable, arguments, input: input).output.split(separator: "\n").map(String.init)
    }

    /// A server and a client through one handshake: the server's listening and result lines, the client's result.
    static func handshake(server: String, client: String, serverArguments: [String], clientArguments: [String]) async throws -> [String] {
        try await offPool {
            let server = try TestChild(server, serverArguments, errors: .null)
            defer { server.kill() }
            var buffer = Data()
            while !buffer.contains(UInt8(ascii: "\n")) {
                let chunk = server.readOutputChunk()
                if chunk.isEmpty { break }
                buffer += chunk
            }
            let first = String(decoding: buffer, as: UTF8.self)
            let port = try #require(first.split(separator: "\n").first.flatMap { line in
                line.split(separator: ":").last.map { $0.filter(\.isNumber) }
            })
            let client = try TestChild(client, clientArguments + ["--port", String(port)], errors: .null)
            let clientData = client.readToEnd().output
            client.wait()
            let rest = server.readToEnd().output
            server.wait()
            return (first + String(decoding: rest, as: UTF8.self) + String(decoding: clientData, as: UTF8.self)).split(separator: "\n").map(String.init)
        }
    }

    @Test("capabilities, listening, result (ok, failed by stage with verify_reason, unsupported) and usage lines", arguments: Fixture.libraries)
    func linesKeepTheSchemas(id: String) async throws {
        let set = try #require(try await Fixture.shared.runner().certificates[.ecdsaP256])
        let peer = PeerPair.executable(id)
        let openssl = "\(Fixture.buildDirectory)/peer-openssl"
        var lines = try await Self.lines(peer, ["capabilities"])
        lines += try await Self.lines(peer, ["client", "--port", "1", "--ca", set.caCertificate, "--timeout-ms", "2000"])
        lines += try await Self.lines(peer, ["server", "--cert", set.serverCertificate, "--key", set.serverKey, "--suite", "0x0000"])
        lines += try await Self.lines(peer, ["worker"], input: "not json\n[\"client\",\"--no-such-option\"]\n")
        let server = ["server", "--cert", set.serverCertificate, "--key", set.serverKey, "--ca", set.caCertificate, "--timeout-ms", "5000"]
        let client = ["client", "--ca", set.caCertificate, "--server-name", "localhost", "--timeout-ms", "5000"]
        lines += try await Self.handshake(server: peer, client: openssl, serverArguments: server, clientArguments: client)
        let expired = ["server", "--cert", set.path(.expiredServer), "--key", set.serverKey, "--ca", set.caCertificate, "--timeout-ms", "5000"]
        lines += try await Self.handshake(server: openssl, client: peer, serverArguments: expired, clientArguments: client)
        #expect(lines.contains { $0.contains(#""verify_reason":"expired""#) }, "the refused certificate's line says why: \(lines)")

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("interop-matrix-lines-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        let validate = Fixture.packageRoot.appendingPathComponent("ci/validate-peer-lines").path
        let validation = try await runProgram(validate, [file.path])
        let (status, output) = (validation.status, validation.output)
        #expect(status == 0, "\(output)")
        #expect(lines.count >= 9, "\(lines)")
    }
}
