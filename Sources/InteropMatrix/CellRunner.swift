import Foundation
import PeerKit
import Synchronization

/// Runs one cell: decides from capabilities whether it can run at all, spawns the server, then the
/// client on the port the server reports, and judges what both say.
public struct CellRunner: Sendable {
    public var libraries: [String: PeerLibrary]
    public var certificates: [CertificateKeyType: CertificateSet]
    /// The whole cell, both peers included, must end by then; hung peers are killed.
    public var timeout: Duration

    /// Records peer process groups and ports, to check nothing is left at the end of a run.
    public var ledger: ResourceLedger?
    /// Where per-cell logs, key logs and replay scripts go, if anywhere.
    public var artifacts: ArtifactStore?
    /// How to re-run one cell: `interop-matrix run` with these arguments plus `--only <id>`.
    public var replayArguments: [String] = []
    /// Long-lived peer workers, for the peers that can be one; nil starts a process per peer per cell.
    var workers: PeerWorkerPool?

    public init(libraries: [String: PeerLibrary], certificates: [CertificateKeyType: CertificateSet], timeout: Duration) {
        self.libraries = libraries
        self.certificates = certificates
        self.timeout = timeout
    }

    /// This runner's own executable, so a replay command can be pasted anywhere.
    static let runnerPath: String = {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "interop-matrix"
        return path.hasSuffix("/interop-matrix") ? path : "interop-matrix"
    }()

    /// Peers get a little less time than the cell, so they report their own timeout (with the
    /// stage they were in) before the runner has to kill them.
    func peerTimeoutMilliseconds(_ cell: Cell, role: Role) -> Int {
        let limit = cellTimeout(cell)
        let total = limit.inMilliseconds
        let share = max(100, total - min(1000, max(600, total / 5)))
        guard let cap = cell.params.network.peerTimeoutLimit(for: role) else { return share }
        return min(share, cap.inMilliseconds)
    }

    func cellTimeout(_ cell: Cell) -> Duration {
        cell.params.network.cellTimeoutLimit.map { min(timeout, $0) } ?? timeout
    }

    /// Runs a cell, and again up to `retries` times while it does not pass. A cell that passes on a
    /// retry is reported as passed and flaky, with the earlier attempts kept.
    public func run(_ cell: Cell, retries: Int) async -> CellResult {
        var result = await run(cell)
        var earlier: [String] = []
        var attempts = 1
        while attempts <= retries, ![.pass, .unsupported].contains(result.outcome) {
            earlier.append("\(result.outcome.rawValue): \(result.reason ?? "")")
            attempts += 1
            result = await run(cell)
        }
        if attempts > 1 {
            result.attempts = attempts
            result.earlierAttempts = earlier
            result.flaky = result.outcome == .pass
        }
        return result
    }

    public func run(_ cell: Cell) async -> CellResult {
        // A cell's duration is its own: from the moment its peers are ready (a worker's start, a
        // JVM's seconds on a busy machine, is not in it, as it is not in the cell's timeout).
        var start = ContinuousClock.now
        func elapsed() -> Double { (ContinuousClock.now - start).inSeconds * 1000 }

        if let reason = unsupportedReason(cell) {
            var result = CellResult(cell: cell, outcome: .unsupported, durationMs: elapsed())
            result.reason = reason
            return result
        }
        guard let server = libraries[cell.server], let client = libraries[cell.client], let set = certificates[cell.params.cert] else {
            var result = CellResult(cell: cell, outcome: .error, durationMs: elapsed())
            result.reason = "the runner has no peer or certificates for this cell"
            result.error = ReportError(side: .runner, stage: .setup, message: result.reason!)
            return result
        }
        // Workers are taken from the pool first, so starting one never eats into the cell's time.
        let serverWorker: PeerWorker?
        let clientWorker: PeerWorker?
        do {
            serverWorker = try await acquireWorker(server)
        } catch {
            return harnessError(cell, "could not start peer-\(cell.server): \(error)", elapsed())
        }
        do {
            clientWorker = try await acquireWorker(client)
        } catch {
            if let serverWorker { await workers?.checkin(serverWorker) }
            return harnessError(cell, "could not start peer-\(cell.client): \(error)", elapsed())
        }
        start = ContinuousClock.now
        let deadline = start + cellTimeout(cell)
        let clientExit = Mutex<PeerExit?>(nil)
        let clientLaunchError = Mutex<String?>(nil)
        let clientLaunched = Mutex(false)
        let proxyFailure = Mutex<String?>(nil)
        let folder = artifacts?.prepare(cell.id)
        let keyLog = folder.map { ["--keylog", $0.appendingPathComponent("keylog.txt").path] } ?? []
        let serverArgs = serverArguments(cell, set) + keyLog
        var result: CellResult
        var serverExit: PeerExit?
        do {
            serverExit = try await launch(server, on: serverWorker, arguments: serverArgs, deadline: deadline) { port in
                do {
                    // An impaired network puts a proxy between them; the client connects to it.
                    var proxy: ImpairmentProxy?
                    if cell.params.network != .none {
                        proxy = try ImpairmentProxy(impairment: cell.params.network, upstreamPort: port, version: cell.params.version)
                        proxy?.start(until: deadline)
                    }
                    let exit: PeerExit
                    do {
                        clientLaunched.withLock { $0 = true }
                        exit = try await launch(client, on: clientWorker, arguments: clientArguments(cell, set, port: proxy?.port ?? port) + keyLog, deadline: deadline, onListening: nil)
                    } catch {
                        await proxy?.stop()
                        throw error
                    }
                    await proxy?.stop()
                    if let failure = proxy?.failure { proxyFailure.withLock { $0 = failure } }
                    clientExit.withLock { $0 = exit }
                } catch {
                    clientLaunchError.withLock { $0 = "\(error)" }
                }
            }
            if let message = clientLaunchError.withLock({ $0 }) {
                result = harnessError(cell, "could not start peer-\(cell.client): \(message)", elapsed())
            } else if let failure = proxyFailure.withLock({ $0 }) {
                // Whatever the peers said, the network between them was not the one the cell names.
                result = harnessError(cell, "the \(cell.params.network) impairment proxy failed: \(failure)", elapsed())
            } else {
                result = Verdict.judge(cell, server: serverExit!, client: clientExit.withLock { $0 }, durationMs: elapsed(),
                                       cellTimeout: cellTimeout(cell))
            }
        } catch {
            result = harnessError(cell, "could not start peer-\(cell.server): \(error)", elapsed())
        }
        // The server never listened (or the proxy failed): the client's worker did nothing, and goes back.
        if let clientWorker, !clientLaunched.withLock({ $0 }) { await workers?.checkin(clientWorker) }
        result.replay = ([CellRunner.runnerPath, "run"] + replayArguments + ["--only", cell.id]).map(shellQuoted).joined(separator: " ")
        if let artifacts {
            let commands = [
                ([server.executable] + serverArgs).map(shellQuoted).joined(separator: " "),
                ([client.executable] + clientArguments(cell, set, port: 0) + keyLog).map(shellQuoted).joined(separator: " ").replacingOccurrences(of: "--port 0", with: "--port PORT"),
            ]
            artifacts.finish(result, serverLog: serverExit?.log ?? "", clientLog: clientExit.withLock { $0 }?.log ?? "", peerCommands: commands)
        }
        return result
    }

    /// A worker for this side when the peer has a worker mode and the run uses workers; nil means a
    /// process of its own.
    private func acquireWorker(_ library: PeerLibrary) async throws -> PeerWorker? {
        guard let workers, library.capabilities.features?.contains("worker") == true else { return nil }
        return try await workers.checkout(library.executable)
    }

    /// Runs one side on its worker (given back to the pool afterwards), or in a process of its own.
    private func launch(_ library: PeerLibrary, on worker: PeerWorker?, arguments: [String], deadline: ContinuousClock.Instant,
                        onListening: ((UInt16) async -> Void)?) async throws -> PeerExit {
        guard let worker else {
            return try await PeerProcess.run(executable: library.executable, arguments: arguments, deadline: deadline, ledger: ledger, onListening: onListening)
        }
        let exit = await worker.run(arguments: arguments, deadline: deadline, ledger: ledger, onListening: onListening)
        await workers?.checkin(worker)
        return exit
    }

    private func harnessError(_ cell: Cell, _ message: String, _ durationMs: Double) -> CellResult {
        var result = CellResult(cell: cell, outcome: .error, durationMs: durationMs)
        result.reason = message
        result.error = ReportError(side: .runner, stage: .setup, message: message)
        return result
    }

    func common(_ cell: Cell, role: Role) -> [String] {
        var arguments = ["--timeout-ms", String(peerTimeoutMilliseconds(cell, role: role))]
        if let mode = cell.features.resumption { arguments += ["--resume", mode.rawValue] }
        if let bytes = cell.features.transferBytes { arguments += ["--transfer", String(bytes)] }
        if cell.usesLibraryDefaults { return arguments }
        arguments += ["--version", version(cell, role).rawValue]
        if let code = suiteCode(cell, role) { arguments += ["--suite", code] }
        let alpn = role == .server ? cell.serverALPN : cell.clientALPN
        if !alpn.isEmpty { arguments += ["--alpn", alpn.joined(separator: ",")] }
        let groups = role == .server ? cell.serverGroups : cell.clientGroups
        if !groups.isEmpty {
            arguments += ["--group", groups.joined(separator: ",")]
        } else if let group = cell.params.group {
            arguments += ["--group", group]
        }
        if cell.liftPolicy { arguments.append("--legacy") }
        return arguments
    }

    /// `--psk FILE` for a side of a pre-shared key cell.
    func preSharedKeyArguments(_ cell: Cell, _ set: CertificateSet, role: Role) -> [String] {
        guard let use = cell.features.preSharedKey else { return [] }
        return ["--psk", set.preSharedKeyFile(use, role: role)] + (cell.features.preSharedKeyWithoutKeyExchange ? ["--psk-mode", "ke"] : [])
    }

    func serverArguments(_ cell: Cell, _ set: CertificateSet) -> [String] {
        var arguments = ["server", "--cert", cell.serverCertificate.map(set.path) ?? set.serverCertificate, "--key", set.serverKey, "--ca", set.caCertificate,
                         "--client-auth", cell.params.clientAuth.rawValue]
        if cell.features.alternateHost {
            arguments += ["--alt-name", CertificateAuthority.alternateHost, "--alt-cert", set.path(.alternateServer), "--alt-key", set.serverKey]
        }
        return arguments + preSharedKeyArguments(cell, set, role: .server) + common(cell, role: .server)
    }

    func clientArguments(_ cell: Cell, _ set: CertificateSet, port: UInt16) -> [String] {
        // Port 0 only ever appears in replay scripts, as a placeholder.
        var arguments = ["client", "--port", String(port), "--server-name", cell.features.serverName, "--ca", set.caCertificate]
        if cell.features.keyUpdate { arguments.append("--key-update") }
        if cell.clientPresentsCertificate { arguments += ["--cert", cell.clientCertificate.map(set.path) ?? set.clientCertificate, "--key", set.clientKey] }
        if cell.clientTruncates { arguments.append("--truncate") }
        return arguments + preSharedKeyArguments(cell, set, role: .client) + common(cell, role: .client)
    }

    func version(_ cell: Cell, _ role: Role) -> TLSVersion {
        role == .client ? cell.clientVersion ?? cell.params.version : cell.params.version
    }

    func suiteCode(_ cell: Cell, _ role: Role) -> String? {
        (role == .client ? cell.clientSuiteCode : cell.serverSuiteCode) ?? cell.params.suiteCode
    }

    /// Why a cell cannot run, from what each library said it supports; nil when both sides can.
    func unsupportedReason(_ cell: Cell) -> String? {
        for (side, id) in [(Role.server, cell.server), (Role.client, cell.client)] {
            let role = side.rawValue
            let wanted = version(cell, side)
            guard let library = libraries[id] else { continue }
            let caps = library.capabilities
            let who = "\(role) \(id) \(library.version)"
            // The server presents a certificate of this type; the client verifies a chain of it
            // (and presents one when asked): both sides must handle the key type.
            if !caps.certificateTypes.contains(cell.params.cert.rawValue) {
                return "\(who) cannot use \(cell.params.cert.rawValue) certificates"
            }
            if let missing = cell.features.required(of: side, at: wanted).first(where: { !(caps.features ?? []).contains($0) }) {
                return "\(who): its peer does not implement \(missing) (the library or this peer lacks the API)"
            }
            // Out of the box nothing is forced, so nothing can be unsupported: a pair whose
            // defaults share no version is an incompatibility the handshake shows (a fail).
            if cell.usesLibraryDefaults { continue }
            if !caps.versions.contains(wanted.rawValue) {
                return "\(who) does not support \(wanted.rawValue) (it has \(caps.versions.joined(separator: ", ")))"
            }
            if !cell.liftPolicy && !caps.defaultVersions.contains(wanted.rawValue) {
                return "\(who) implements \(wanted.rawValue) but its default policy disables it; set legacy: true in the matrix to lift the policy"
            }
            if let code = suiteCode(cell, side) {
                guard let suite = caps.suites.first(where: { $0.code == code }) else {
                    return "\(who) does not implement suite \(CipherSuiteRegistry.suite(codeText: code)?.name ?? code) (\(code))"
                }
                if suite.forceable == false {
                    return "\(who) negotiates suite \(cell.params.suite ?? code) but cannot be held to it alone (the library has no setting that chooses it)"
                }
                if !cell.liftPolicy && suite.disabledByPolicy == true {
                    return "\(who) implements suite \(cell.params.suite ?? code) but its default policy disables it; set legacy: true in the matrix to lift the policy"
                }
                if let low = suite.minVersion.flatMap(TLSVersion.init(rawValue:)), let high = suite.maxVersion.flatMap(TLSVersion.init(rawValue:)),
                   !(low...high).contains(wanted) {
                    return "\(who) defines suite \(cell.params.suite ?? code) for \(low.rawValue)-\(high.rawValue) only"
                }
            }
            let groups = (side == .server ? cell.serverGroups : cell.clientGroups) + (cell.params.group.map { [$0] } ?? [])
            if let missing = groups.first(where: { !caps.groups.contains($0) }) {
                return "\(who) does not support group \(missing)"
            }
        }
        // A forced or expected group passes only when a side shows it in effect (Verdict): when
        // neither library can ever read the group back, the cell cannot be decided.
        if let group = cell.expect.group ?? cell.params.group,
           let server = libraries[cell.server], let client = libraries[cell.client],
           server.capabilities.notReadable?.contains("group") == true, client.capabilities.notReadable?.contains("group") == true {
            return "neither server \(cell.server) \(server.version) nor client \(cell.client) \(client.version) can read the negotiated group back (not_readable in both capabilities), so \(group) cannot be seen in effect"
        }
        return nil
    }
}
