import Foundation
import PeerKit
import Synchronization
import Testing
@testable import InteropMatrix

/// What the runner tests share: the real peers, one run's certificates, and fault peers linked under
/// the names that select their misbehaviour.
actor Fixture {
    static let shared = Fixture()

    /// The folder SwiftPM builds the peers into (the test binary's own folder).
    static let buildDirectory = PeerCatalog.executableDirectory()

    /// Every library whose peer was built: what tests that go over every library take, so adding a
    /// peer adds its cases with no test edited.
    /// (Peers SwiftPM does not build come from `.build/peers`; one whose toolchain was missing is
    /// left out, as a run lists it unavailable.)
    static let libraries: [String] = { let catalog = PeerCatalog(directory: buildDirectory); return catalog.discoverIDs().filter { catalog.notBuiltReason($0) == nil } }()

    /// Issued once: the actor is re-entered while a call awaits, so the work is shared as a task
    /// (issuing twice into one folder would swap the CA under a running peer).
    private var certificates: Task<[CertificateKeyType: CertificateSet], any Error>?
    private var libraries: [String: PeerLibrary]?
    let certificateDirectory = TestFolders.register(try! CertificateDirectory())
    /// Real peers plus the fault peers (`peer-hang`, `peer-crash`, …) and the lying ones (`peer-noverify`,
    /// `peer-nosni`, …; see Sources/fault-peer), all in one folder.
    let peerDirectory: String = Fixture.linkPeers()

    /// Another folder with the same peers, for a test that must tell its own peer processes apart.
    func privatePeerDirectory() -> String { Fixture.linkPeers() }

    private static func linkPeers() -> String {
        let dir = TestFolders.register(try! CertificateDirectory()).url.path
        for id in Fixture.libraries {
            try! FileManager.default.createSymbolicLink(atPath: "\(dir)/peer-\(id)", withDestinationPath: PeerCatalog(directory: Fixture.buildDirectory).executable(for: id))
        }
        // The benchmark's floor lives beside the peers.
        try! FileManager.default.createSymbolicLink(atPath: "\(dir)/interop-floor", withDestinationPath: "\(Fixture.buildDirectory)/interop-floor")
        for mode in ["hang", "crash", "garbage", "listenhang", "flaky", "flood", "silent", "forkhang",
                     "noverify", "nosni", "noresume", "nokeyupdate", "badecho", "latetimeout", "anypsk"] {
            try! FileManager.default.createSymbolicLink(atPath: "\(dir)/peer-\(mode)", withDestinationPath: "\(Fixture.buildDirectory)/fault-peer")
        }
        return dir
    }

    /// The built peers alone, as a run finds them: what `all` (the default matrix) discovers.
    var catalog: PeerCatalog {
        var catalog = PeerCatalog(directory: Fixture.buildDirectory)
        catalog.extraDirectories = []
        return catalog
    }

    /// The built peers and the fault peers, for runners that name a fault peer.
    var faultCatalog: PeerCatalog {
        var catalog = PeerCatalog(directory: peerDirectory)
        catalog.extraDirectories = []
        return catalog
    }

    func runner(timeout: Duration = .seconds(10), libraries ids: [String] = Fixture.libraries) async throws -> CellRunner {
        if certificates == nil {
            let directory = certificateDirectory.url
            certificates = Task { try await CertificateAuthority.issue([.rsa2048, .ecdsaP256, .ed25519], into: directory) }
        }
        let issued = try await certificates!.value
        var loaded = libraries ?? [:]
        let missing = ids.filter { loaded[$0] == nil }
        if !missing.isEmpty {
            for (id, library) in try await faultCatalog.load(missing) { loaded[id] = library }
            libraries = loaded
        }
        return CellRunner(libraries: loaded, certificates: issued, timeout: timeout)
    }

    /// Processes still running whose command line mentions `text`.
    nonisolated static func processes(mentioning text: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid -> String? in
            guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text) ? "\(pid): \(line)" : nil
        }
    }

    /// `../shared/tools/check-report` beside the package, when it is there (it is in CI).
    nonisolated static var checkReport: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let tool = root.deletingLastPathComponent().appendingPathComponent("shared/tools/check-report").path
        return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil
    }

    nonisolated static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

extension Cell {
    static func make(_ server: String, _ client: String, scenario: any Scenario = BasicScenario(), version: TLSVersion = .tls12,
                     cert: CertificateKeyType = .ecdsaP256, clientAuth: ClientAuth = .none) -> Cell {
        let params = CellParameters(version: version, cert: cert, clientAuth: clientAuth)
        return Cell(server: server, client: client, scenario: scenario.name, params: params,
                    expect: scenario.expectation(for: params), clientPresentsCertificate: scenario.clientPresentsCertificate(params))
    }
}

/// Runs blocking work (waiting for a process, reading a pipe to its end) on a thread of its own, so it
/// never holds one of the few threads Swift concurrency runs every test's timers on.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// The temporary folders tests make (some hold private keys), removed when the test process exits:
/// suites are structs, made afresh for each test, with no teardown of their own.
enum TestFolders {
    private static let made = Mutex<[String]>([])
    private static let removeAtExit: Void = { atexit { TestFolders.removeAll() } }()

    /// A new empty folder `$TMPDIR/<prefix>-<uuid>`.
    static func make(_ prefix: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        track(url.path)
        return url
    }

    @discardableResult
    static func register(_ directory: CertificateDirectory) -> CertificateDirectory {
        track(directory.url.path)
        return directory
    }

    static func track(_ path: String) {
        _ = removeAtExit
        made.withLock { $0.append(path) }
    }

    static func removeAll() {
        for path in made.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// What a run of the `interop-matrix` executable did: its status and both outputs.
struct CLIRun {
    var status: Int32
    var output: String
    var errors: String
    var errorLines: [Substring] { errors.split(separator: "\n") }
}

/// Runs the `interop-matrix` executable built beside the tests, in `directory` if given, keeping stderr.
func runCLIKeepingErrors(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) async throws -> CLIRun {
    try await runProgram("\(Fixture.buildDirectory)/interop-matrix", arguments, environment: environment, directory: directory)
}

/// Runs a program to its end, off the concurrency pool, with `input` on its stdin; returns its
/// status, stdout and stderr (read at once, so neither pipe can fill and block it).
func runProgram(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
                input: String? = nil) async throws -> CLIRun {
    try await TestChild.run(executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                            directory: directory?.path, input: input)
}
