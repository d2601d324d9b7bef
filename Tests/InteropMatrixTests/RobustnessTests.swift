import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("Nothing leaked, nothing hung, no hostile input crashes", .serialized, .timeLimit(.minutes(6)))
struct RobustnessTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("interop-matrix-robust-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    @Test("a stress run of 10,000 cells with injected faults leaves no process, port, descriptor or key behind")
    func stress() async throws {
        // A peer folder of its own, so the check for leftover peers sees only this run's.
        let peers = await Fixture.shared.privatePeerDirectory()
        try """
        servers: [openssl, crash, garbage, silent, flood, gnutls]
        clients: [openssl, gnutls]
        versions: [TLS1.2, TLS1.3]
        certs: [ecdsa-p256, rsa2048, ecdsa-p384]
        client_auth: [none, optional]
        suites: all
        groups: [x25519, secp256r1, secp384r1, secp521r1, x448]
        network: [none, segment-1]

        """.write(toFile: path("stress.yml"), atomically: true, encoding: .utf8)
        let environment = ["INTEROP_MATRIX_PEER_DIR": peers, "TMPDIR": folder.path]
        let run = try await runCLI(["--matrix", path("stress.yml"), "--json", path("stress.json"), "--quiet", "--jobs", "4"], environment: environment)
        #expect(run.status == 1, "the faulty peers fail their cells")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("stress.json"))))
        #expect(report.results.count >= 10_000)
        #expect(report.complete)
        #expect(report.summary.errors > 1000)
        let resources = try #require(report.resources)
        #expect(resources.processesLeft.isEmpty)
        #expect(resources.listeningPortsLeft.isEmpty)
        #expect(resources.descriptorsAfter <= resources.descriptorsBefore)
        #expect(resources.keysRemoved == true)
        #expect(Fixture.processes(mentioning: peers).isEmpty)
        // The run's private temporary folder is gone: only the files this test wrote remain.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("interop-matrix-") }
        #expect(left.isEmpty, "left behind: \(left)")
        if let tool = Fixture.checkReport {
            let check = Process()
            check.executableURL = URL(fileURLWithPath: tool)
            check.arguments = [path("stress.json")]
            check.standardOutput = FileHandle.nullDevice
            try check.run()
            try await offPool { check.waitUntilExit() }
            #expect(check.terminationStatus == 0)
        }
    }

    @Test("SIGINT stops the peers, removes the keys and writes a partial report marked incomplete", arguments: [SIGINT, SIGTERM])
    func interrupt(signal: Int32) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(Fixture.buildDirectory)/interop-matrix")
        // ECDSA only, so certificates are made at once and cells are running when the signal comes;
        // all three curves, so the run is still going after three seconds.
        process.arguments = ["--matrix", Fixture.packageRoot.appendingPathComponent("matrix/full.yml").path, "--filter", "ecdsa-p",
                             "--jobs", "1", "--json", path("partial.json"), "--quiet"]
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": folder.path]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await Task.sleep(for: .seconds(3))
        kill(process.processIdentifier, signal)
        try await offPool { process.waitUntilExit() }
        #expect(process.terminationStatus == 128 + signal)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("partial.json"))))
        #expect(!report.complete)
        #expect(report.stopped?.contains(signal == SIGINT ? "SIGINT" : "SIGTERM") == true)
        #expect(report.results.count > 0 && report.results.count < report.matrixCells ?? 0)
        #expect(report.resources?.processesLeft.isEmpty == true)
        #expect(report.resources?.keysRemoved == true)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("interop-matrix-") }
        #expect(left.isEmpty)
    }

    @Test("a whole-run --deadline ends the run with a partial report and exit 1")
    func deadline() async throws {
        let start = ContinuousClock.now
        let run = try await runCLI(["--matrix", Fixture.packageRoot.appendingPathComponent("matrix/full.yml").path, "--deadline", "2", "--json", path("deadline.json"), "--quiet"],
                             environment: ["TMPDIR": folder.path])
        #expect(run.status == 1)
        #expect(ContinuousClock.now - start < .seconds(15))
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("deadline.json"))))
        #expect(!report.complete)
        #expect(report.stopped?.contains("deadline") == true)
        #expect(report.summary.total == report.results.count)
    }

    @Test("a peer that floods stdout is stopped and reported, its output bounded")
    func flood() async throws {
        let runner = try await Fixture.shared.runner(libraries: ["openssl", "flood"])
        let result = await runner.run(.make("flood", "openssl"))
        #expect(result.outcome == .error)
        #expect(result.reason?.contains("not the peer protocol") == true)
        #expect((result.logs?["server"]?.utf8.count ?? 0) < 20_000)
    }

    @Test("a peer that exits without a word is a crash, and one whose child hangs is killed with its child")
    func silentAndForked() async throws {
        let runner = try await Fixture.shared.runner(timeout: .seconds(1), libraries: ["openssl", "silent", "forkhang"])
        let silent = await runner.run(.make("silent", "openssl"))
        #expect(silent.outcome == .crash)
        #expect(silent.error?.message.contains("without a result line") == true)
        let forked = await runner.run(.make("forkhang", "openssl"))
        #expect(forked.outcome == .timeout)
        try await Task.sleep(for: .milliseconds(200))
        let peers = Fixture.shared.peerDirectory
        #expect(Fixture.processes(mentioning: "\(peers)/peer-forkhang").isEmpty, "the hung peer's child outlived it")
    }

    @Test("thousands of mutated matrix files give a clean error or a matrix, never a crash")
    func fuzzMatrixFiles() throws {
        let seeds = [MatrixFile.builtInDefaultText, try String(contentsOf: Fixture.packageRoot.appendingPathComponent("matrix/full.yml"), encoding: .utf8)]
        let tokens = ["[", "]", "{", "}", ":", "- ", "\n", "  ", "'", "\"", "&a ", "*a", "!!binary ", "? ", "#", ",", "\t", "\u{0}", "TLS1.9", "all", "-1",
                      "999999999999999999999", "null", "~", "|", ">", "%YAML 1.2\n", "---\n", "...\n", "é", "\u{FEFF}"]
        var generator = SplitMix(seed: 0x1A7E_0F5E)
        var parsed = 0
        var refused = 0
        for round in 0..<3000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<(1 + Int(generator.next() % 6)) {
                let position = Int(generator.next() % UInt64(bytes.count + 1))
                switch generator.next() % 5 {
                case 0 where !bytes.isEmpty: bytes[min(position, bytes.count - 1)] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                case 1: bytes.insert(contentsOf: Array(tokens[Int(generator.next() % UInt64(tokens.count))].utf8), at: position)
                case 2: bytes.removeSubrange(position..<min(bytes.count, position + Int(generator.next() % 40)))
                case 3: bytes = Array(bytes.prefix(position))
                default: bytes.insert(contentsOf: bytes[position..<min(bytes.count, position + Int(generator.next() % 80))], at: position)
                }
            }
            let file = path("fuzz.yml")
            _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
            do {
                let matrix = try MatrixFile.load(path: file)
                _ = MatrixRun(matrix: matrix).cells().count
                parsed += 1
            } catch {
                #expect(!error.description.isEmpty)
                refused += 1
            }
        }
        // Mutations must reach both outcomes, or the loop tested nothing.
        #expect(refused > 100 && parsed > 10)
    }
}

/// A small deterministic random number generator, so a failing fuzz case can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
