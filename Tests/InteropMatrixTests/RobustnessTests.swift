import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

@Suite("Nothing leaked, nothing hung, no hostile input crashes", .serialized, .timeLimit(.minutes(6)))
struct RobustnessTests {
    let folder = TestFolders.make("interop-matrix-robust")

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
            let check = try await runProgram(tool, [path("stress.json")])
            #expect(check.status == 0, "\(check.output)\(check.errors)")
        }
    }

    @Test("SIGINT, SIGTERM and SIGHUP stop the peers, remove the keys and write a partial report marked incomplete", arguments: [SIGINT, SIGTERM, SIGHUP])
    func interrupt(signal: Int32) async throws {
        // ECDSA only, so certificates are made at once; all three curves, one cell at a time, so the run
        // is far from its end when the signal comes.
        let process = try TestChild("\(Fixture.buildDirectory)/interop-matrix",
                                    ["--matrix", Fixture.packageRoot.appendingPathComponent("matrix/full.yml").path, "--filter", "ecdsa-p",
                                     "--jobs", "1", "--json", path("partial.json")],
                                    environment: ProcessInfo.processInfo.environment.merging(["TMPDIR": folder.path]) { $1 },
                                    output: .null, errors: .pipe)
        // The signal comes once a cell has its result: its progress line ("[done/total] ...", written
        // for every 25th cell and every one not passing) is on stderr. Not after a fixed time: a CI
        // machine busy with other suites once had no result after three seconds.
        let progressed = try await offPool { () -> Bool in
            var written = ""
            while true {
                let chunk = process.readErrorsChunk()
                if chunk.isEmpty { return false }
                written += String(decoding: chunk, as: UTF8.self)
                if written.split(separator: "\n").contains(where: { $0.hasPrefix("[") }) { return true }
            }
        }
        try #require(progressed, "the run ended before a cell had its result")
        process.kill(signal)
        let status = try await offPool { () -> Int32 in
            _ = process.readToEnd()
            return process.wait()
        }
        #expect(status == 128 + signal)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("partial.json"))))
        #expect(!report.complete)
        #expect(report.stopped?.contains([SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][signal]!) == true)
        #expect(report.results.count > 0 && report.results.count < report.matrixCells ?? 0)
        // Each one left with its state (Z: dead, never reaped by the runner).
        let left = (report.resources?.processesLeft ?? []).map { pid in
            "\(pid) " + ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)).map { String($0.prefix(40)) } ?? "gone")
        }
        #expect(report.resources?.processesLeft.isEmpty == true, "left: \(left)")
        #expect(report.resources?.keysRemoved == true)
        let keys = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("interop-matrix-") }
        #expect(keys.isEmpty)
    }

    @Test("after SIGKILL of the runner its workers exit at once, and the next run removes the dead run's keys")
    func killedRunner() async throws {
        let peers = await Fixture.shared.privatePeerDirectory()
        let temporary = folder.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        let environment = ProcessInfo.processInfo.environment.merging(["INTEROP_MATRIX_PEER_DIR": peers, "TMPDIR": temporary.path]) { $1 }
        // An openssl server worker listens for a client (peer-hang, a one-cell fault peer) that never
        // connects: without a watch on its parent it would listen for seconds after the runner died.
        try "servers: [openssl]\nclients: [hang]\nversions: [TLS1.3]\n".write(toFile: path("orphan.yml"), atomically: true, encoding: .utf8)
        let process = try TestChild("\(Fixture.buildDirectory)/interop-matrix", ["--matrix", path("orphan.yml"), "--timeout", "30", "--no-baseline", "--quiet"],
                                    environment: environment, output: .null, errors: .null)
        let worker = "\(peers)/peer-openssl worker"
        let started = ContinuousClock.now
        while Fixture.processes(mentioning: worker).isEmpty && ContinuousClock.now - started < .seconds(20) {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(!Fixture.processes(mentioning: worker).isEmpty)
        process.kill()
        _ = try await offPool { process.wait() }
        try await Task.sleep(for: .seconds(1))
        #expect(Fixture.processes(mentioning: worker).isEmpty, "the worker outlived the runner")
        // The one-cell fault peer has no watch (and no timeout of its own): the test ends it.
        for line in Fixture.processes(mentioning: peers) {
            if let pid = Int32(line.prefix { $0 != ":" }) { kill(pid, SIGKILL) }
        }
        let keys = try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter { $0.hasPrefix("interop-matrix-") }
        #expect(keys.count == 1, "the killed run left its key folder: \(keys)")
        // The next run finds the folder's owner dead and removes it.
        let next = try await runCLI(["--libs", "openssl", "--filter", "basic/TLS1.3/default/default/ecdsa-p256/auth-none", "--no-baseline", "--quiet"],
                                    environment: ["TMPDIR": temporary.path])
        #expect(next.status == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter { $0.hasPrefix("interop-matrix-") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("only key folders whose owner is dead are removed: a live run's, and folders without an owner, stay")
    func abandonedKeyFolders() throws {
        let temporary = folder.appendingPathComponent("abandoned").path
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        // A pid that was alive and is no more.
        let gone = try TestChild("/bin/true", [], output: .null, errors: .null)
        gone.wait()
        let me = getpid()
        let owners = ["interop-matrix-dead01": "\(gone.pid) 1\n",
                      "interop-matrix-live01": "\(me) \(ProcessStatus(pid: me)!.startTime)\n",
                      // Our pid, but another start time: the pid was reused by someone else.
                      "interop-matrix-reuse1": "\(me) 1\n"]
        for (name, owner) in owners {
            try FileManager.default.createDirectory(atPath: "\(temporary)/\(name)", withIntermediateDirectories: true)
            try owner.write(toFile: "\(temporary)/\(name)/owner", atomically: true, encoding: .utf8)
            try "key".write(toFile: "\(temporary)/\(name)/client.key", atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: "\(temporary)/interop-matrix-noown1", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(temporary)/interop-matrix-robust-other", withIntermediateDirectories: true)
        let removed = CertificateDirectory.removeAbandoned(in: temporary).map { ($0 as NSString).lastPathComponent }.sorted()
        #expect(removed == ["interop-matrix-dead01", "interop-matrix-reuse1"])
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary).sorted()
        #expect(left == ["interop-matrix-live01", "interop-matrix-noown1", "interop-matrix-robust-other"])
    }

    @Test("a whole-run --deadline ends the run with a partial report and exit 1")
    func deadline() async throws {
        let start = ContinuousClock.now
        // The built-in default (a minute of cells): full.yml's pairwise block takes seconds to choose
        // before any cell runs, which a debug build on a loaded machine stretched past this test's bound.
        let run = try await runCLI(["--deadline", "2", "--json", path("deadline.json"), "--quiet"],
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
    func fuzzMatrixFiles() async throws {
        // full.yml without its `coverage: pairwise` line (its block's full product is then over the
        // bound, so it is refused unexpanded): choosing a covering array from every registry
        // combination takes half a second per mutated file in a debug build, many minutes over
        // the rounds (the key's parsing and expansion are CoverageBlockTests').
        let full = try String(contentsOf: Fixture.packageRoot.appendingPathComponent("matrix/full.yml"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("coverage:") }.joined(separator: "\n")
        let seeds = [try MatrixFile.builtInDefaultText(), full]
        let file = path("fuzz.yml")
        // Minutes of parsing, on a thread of its own: on Swift concurrency's few threads it would hold
        // one from the timers of the suites that run beside it.
        let (parsed, refused, unexplained) = try await offPool { () -> (Int, Int, Int) in
            let tokens = ["[", "]", "{", "}", ":", "- ", "\n", "  ", "'", "\"", "&a ", "*a", "!!binary ", "? ", "#", ",", "\t", "\u{0}", "TLS1.9", "all", "-1",
                          "999999999999999999999", "null", "~", "|", ">", "%YAML 1.2\n", "---\n", "...\n", "é", "\u{FEFF}"]
            var generator = SplitMix(seed: 0x1A7E_0F5E)
            var parsed = 0
            var refused = 0
            var unexplained = 0
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
                _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
                do {
                    let matrix = try MatrixFile.load(path: file)
                    // As the command line does: a matrix over the bound is refused before expansion.
                    let run = MatrixRun(matrix: matrix)
                    if run.cellUpperBound() <= MatrixRun.maximumCells { _ = run.cells().count }
                    parsed += 1
                } catch {
                    refused += 1
                    if "\(error)".isEmpty { unexplained += 1 }
                }
            }
            return (parsed, refused, unexplained)
        }
        #expect(unexplained == 0, "refusals without a word")
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
