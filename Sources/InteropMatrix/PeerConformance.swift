import Foundation
import PeerKit
import Subprocess
import Synchronization
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// `interop-matrix check-peer`: a conformance run of one peer against PEER-PROTOCOL.md, alone (its
/// capabilities line, exit codes, failures it must report by stage) and against a reference peer
/// (handshakes both ways, each refusal for its reason, truncation, and the optional features it
/// lists). A peer author's first command: each check says what the protocol expects and what came.
public struct PeerConformance: Sendable {
    /// One check's outcome.
    public struct Check: Sendable {
        public var name: String
        public var passed: Bool
        /// What the protocol expected, and what the peer did instead (empty when it passed).
        public var detail: String
    }

    public var candidate: PeerLibrary
    public var reference: PeerLibrary
    /// Each check's time limit.
    public var timeout: Duration = .seconds(10)

    public init(candidate: PeerLibrary, reference: PeerLibrary) {
        self.candidate = candidate
        self.reference = reference
    }

    /// Runs every check that applies to the candidate, in a stable order; `onCheck` hears of each as it ends.
    public func run(onCheck: @Sendable (Check) -> Void = { _ in }) async throws -> [Check] {
        var checks: [Check] = []
        func record(_ check: Check) {
            checks.append(check)
            onCheck(check)
        }
        for check in capabilityChecks() { record(check) }
        let directory = try CertificateDirectory()
        defer { directory.remove() }
        let certificates = try await CertificateAuthority.issue([.ecdsaP256], into: directory.url)
        guard let set = certificates[.ecdsaP256] else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no ecdsa-p256 certificates were issued"]) }
        for check in await exitCodeChecks(set) { record(check) }
        for check in await cellChecks(certificates) { record(check) }
        if candidate.capabilities.features?.contains("worker") == true {
            for check in await workerChecks(set) { record(check) }
        }
        return checks
    }

    // MARK: The capabilities line

    /// What the decoded capabilities say: names and code points the protocol defines. (A line whose
    /// fields have the wrong types never decodes: loading the peer fails, with the decoder's words;
    /// `ci/validate-peer-lines` checks the raw line against the schema.)
    func capabilityChecks() -> [Check] {
        let caps = candidate.capabilities
        var checks: [Check] = []
        func check(_ name: String, _ ok: Bool, _ detail: @autoclosure () -> String) {
            checks.append(Check(name: name, passed: ok, detail: ok ? "" : detail()))
        }
        let versions = Set(TLSVersion.allCases.map(\.rawValue))
        check("capabilities: versions are protocol names", !caps.versions.isEmpty && caps.versions.allSatisfy(versions.contains),
              "expected a non-empty list of \(versions.sorted().joined(separator: ", ")); got \(caps.versions)")
        check("capabilities: default_versions are among versions", caps.defaultVersions.allSatisfy(caps.versions.contains),
              "expected default_versions ⊆ versions; got \(caps.defaultVersions) of \(caps.versions)")
        let badCodes = caps.suites.filter { $0.code.range(of: "^0x[0-9A-F]{4}$", options: .regularExpression) == nil }.map(\.code)
        check("capabilities: suite codes are 0x + four upper-case hex digits", badCodes.isEmpty, "got \(badCodes.prefix(5))")
        let misnamed = caps.suites.filter { suite in
            guard let name = suite.name, let known = CipherSuiteRegistry.suite(codeText: suite.code) else { return false }
            return known.name != name
        }.map { "\($0.code) \($0.name ?? "")" }
        check("capabilities: suite names are the IANA registry's", misnamed.isEmpty, "expected the IANA name for each code point; got \(misnamed.prefix(5))")
        let unknownGroups = caps.groups.filter { NamedGroup.code(of: $0) == nil }
        check("capabilities: groups use IANA names", unknownGroups.isEmpty,
              "expected the registry's names (x25519, secp256r1, ffdhe2048, X25519MLKEM768) or, for a code point it lacks, 0x + four hex digits; got \(unknownGroups)")
        let keyTypes = Set(CertificateKeyType.allCases.map(\.rawValue))
        let unknownTypes = caps.certificateTypes.filter { !keyTypes.contains($0) }
        check("capabilities: certificate_types are the protocol's key types", !caps.certificateTypes.isEmpty && unknownTypes.isEmpty,
              "expected some of \(keyTypes.sorted().joined(separator: ", ")); got \(caps.certificateTypes)")
        let features: Set<String> = ["sni", "resume-session-id", "resume-ticket", "transfer", "key-update", "ip-server-name", "worker", "psk", "psk-tls13", "psk-ke"]
        let unknownFeatures = (caps.features ?? []).filter { !features.contains($0) }
        check("capabilities: features are the protocol's", unknownFeatures.isEmpty, "expected some of \(features.sorted().joined(separator: ", ")); got \(unknownFeatures)")
        check("capabilities: certificate_types include ecdsa-p256, which the other checks use", caps.certificateTypes.contains("ecdsa-p256"),
              "got \(caps.certificateTypes)")
        let viewFields: Set<String> = ["group", "signature_scheme", "peer_certificate", "psk_identity"]
        let unknownFields = (caps.notReadable ?? []).filter { !viewFields.contains($0) }
        check("capabilities: not_readable names view fields", unknownFields.isEmpty,
              "expected some of \(viewFields.sorted().joined(separator: ", ")); got \(unknownFields)")
        return checks
    }

    // MARK: Exit codes and failures by stage, the peer alone

    func exitCodeChecks(_ set: CertificateSet) async -> [Check] {
        var checks: [Check] = []
        /// Runs the candidate alone and judges its exit; a peer that cannot even be started fails
        /// the check, with the reason, rather than the check going missing.
        func check(_ name: String, _ arguments: [String], expected: String, listens: Bool = false,
                   _ passes: (PeerExit) -> Bool, then measured: () async -> String? = { nil }) async {
            let start = ContinuousClock.now
            do {
                let exit = try await PeerProcess.run(executable: candidate.executable, arguments: arguments, deadline: start + timeout,
                                                     onListening: listens ? { _ in } : nil)
                let took = ContinuousClock.now - start
                var problem = passes(exit) ? nil : "got \(describe(exit)) after \(took)"
                if problem == nil { problem = await measured() }
                checks.append(Check(name: name, passed: problem == nil, detail: problem.map { "expected \(expected); \($0)" } ?? ""))
            } catch {
                checks.append(Check(name: name, passed: false, detail: "expected \(expected); the peer could not be started: \(error)"))
            }
        }

        await check("an unknown option is a usage error (exit 2, a line on stderr)", ["client", "--port", "1", "--no-such-option"],
                    expected: "exit 2, no result line, a message on stderr") { exit in
            exit.termination == .exited(PeerProtocol.ExitCode.usage.rawValue) && exit.result == nil && !exit.log.isEmpty
        }
        // A forced suite the peer cannot take is unsupported before any socket: TLS_NULL_WITH_NULL_NULL,
        // which no library offers, and a suite it lists as not forceable.
        let unlisted = "0x0000"
        var refusedSuites: [(name: String, code: String)] = []
        if !candidate.capabilities.suites.contains(where: { $0.code == unlisted }) {
            refusedSuites.append(("a suite it does not implement", unlisted))
        }
        if let fixed = candidate.capabilities.suites.first(where: { $0.forceable == false }) {
            refusedSuites.append(("a suite it cannot be held to (forceable: false)", fixed.code))
        }
        for (name, code) in refusedSuites {
            await check("\(name) is unsupported (exit 3, a reason, no listening)",
                        ["server", "--cert", set.serverCertificate, "--key", set.serverKey, "--suite", code, "--timeout-ms", "2000"],
                        expected: "exit 3 with status unsupported and a reason", listens: true) { exit in
                exit.termination == .exited(PeerProtocol.ExitCode.unsupported.rawValue) && exit.result?.status == .unsupported && exit.result?.reason != nil
            }
        }
        // Two loopback sockets of the runner's own: one bound but not listening (a connect to it is
        // refused, and while it is held no other program can take the port: a port merely closed
        // was taken by another test's listener under a parallel run), one that accepts
        // and never answers (TCP completes, no TLS byte comes), timing how long the client waits.
        guard let closed = SilentListener(listening: false), let silent = SilentListener() else {
            checks.append(Check(name: "a refused connection and a silent server", passed: false,
                                detail: "the runner could not open a loopback listener: \(String(cString: strerror(errno)))"))
            return checks
        }
        await check("a refused connection fails at tcp_connect with ECONNREFUSED",
                    ["client", "--port", String(closed.port), "--ca", set.caCertificate, "--timeout-ms", "3000"],
                    expected: "exit 1, stage tcp_connect, library_code ECONNREFUSED") { exit in
            exit.termination == .exited(PeerProtocol.ExitCode.failed.rawValue) && exit.result?.error?.stage == .tcpConnect
                && exit.result?.error?.libraryCode == "ECONNREFUSED"
        }
        await check("a silent server: the client reports stage timeout within its --timeout-ms",
                    ["client", "--port", String(silent.port), "--ca", set.caCertificate, "--timeout-ms", "700"],
                    expected: "stage timeout about 700 ms after connecting, timed by the silent server") { exit in
            exit.result?.error?.stage == .timeout
        } then: {
            // The client's own wait, from the silent server's accept to the client's end of stream:
            // the runner's clock would count the peer's start-up and the runner's own wake-up too.
            guard let stayed = await silent.connectedFor() else { return "the client never connected, or never left" }
            return stayed < .seconds(3) ? nil : "the client stayed \(stayed) on the silent connection"
        }
        return checks
    }

    // MARK: Cells against the reference peer

    /// Scenarios in both roles where they apply, judged by the same rules as any matrix.
    func cellChecks(_ certificates: [CertificateKeyType: CertificateSet]) async -> [Check] {
        let c = candidate.id, r = reference.id
        let versions = [TLSVersion.tls12, .tls13].filter {
            candidate.capabilities.versions.contains($0.rawValue) && reference.capabilities.versions.contains($0.rawValue)
        }
        let features = Set(candidate.capabilities.features ?? [])
        var blocks: [String] = []
        let list = versions.map(\.rawValue).joined(separator: ", ")
        // Handshakes both ways, with and without client auth; refusals for each certificate flaw and
        // each side's reason; a client that leaves without close_notify.
        blocks.append("  - scenarios: [basic]\n    client_auth: [none, required]\n    pairs: [\(c)>\(r), \(r)>\(c)]")
        blocks.append("  - scenarios: [expired-cert, not-yet-valid-cert, wrong-host, unknown-ca, self-signed, missing-intermediate, bad-key-usage]\n    pairs: [\(r)>\(c)]")
        blocks.append("  - scenarios: [client-cert-missing, client-cert-untrusted]\n    client_auth: [required]\n    pairs: [\(c)>\(r)]")
        blocks.append("  - scenarios: [close-notify]\n    pairs: [\(c)>\(r), \(r)>\(c)]")
        var optional: [String] = []
        if features.contains("resume-session-id") { optional.append("resumption-id") }
        if features.contains("resume-ticket") { optional.append("resumption-ticket") }
        if features.contains("sni") { optional.append("sni") }
        if features.contains("ip-server-name") { optional.append("ip-address") }
        if features.contains("key-update") { optional.append("key-update") }
        if features.contains("transfer") { optional.append("large-transfer") }
        if !optional.isEmpty { blocks.append("  - scenarios: [\(optional.joined(separator: ", "))]\n    pairs: [\(c)>\(r), \(r)>\(c)]") }
        if features.contains("psk") {
            // A PSK suite of each kind both sides have (RFC 4279's PSK and DHE_PSK, RFC 5489's
            // ECDHE_PSK; RSA_PSK needs an RSA certificate, which these checks do not issue), the
            // handshake both ways and the server's two refusals, over the plain PSK suites the
            // default matrix refuses over (each PSK library here has one of the two).
            let suites = "[TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CBC_SHA, TLS_DHE_PSK_WITH_AES_128_GCM_SHA256, TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256, TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256]"
            blocks.append("  - scenarios: [psk]\n    versions: [TLS1.2]\n    suites: \(suites)\n    pairs: [\(c)>\(r), \(r)>\(c)]")
            blocks.append("  - scenarios: [psk-unknown-identity, psk-wrong-key]\n    versions: [TLS1.2]\n    suites: [TLS_PSK_WITH_AES_128_CBC_SHA, TLS_PSK_WITH_CHACHA20_POLY1305_SHA256]\n    pairs: [\(c)>\(r)]")
        }
        if features.contains("psk-tls13") {
            // A TLS 1.3 external PSK both ways, the fallback to the certificate for an unknown
            // identity and the binder that fails for a wrong key; psk_ke where the peer has it.
            // The fallback is checked with the candidate as client (it offered a PSK and must still
            // verify the certificate): as a server it is the library's own choice, which GnuTLS
            // 3.7.9 cannot make (it aborts), and the matrix reports it with the library's words.
            let scenarios = ["psk", "psk-wrong-key"] + (features.contains("psk-ke") ? ["psk-ke"] : [])
            blocks.append("  - scenarios: [\(scenarios.joined(separator: ", "))]\n    versions: [TLS1.3]\n    suites: [TLS_AES_128_GCM_SHA256]\n    pairs: [\(c)>\(r), \(r)>\(c)]")
            blocks.append("  - scenarios: [psk-unknown-identity]\n    versions: [TLS1.3]\n    suites: [TLS_AES_128_GCM_SHA256]\n    pairs: [\(r)>\(c)]")
        }
        let ids = c == r ? c : "\(c), \(r)"
        let yaml = "name: check-peer\nlibraries: [\(ids)]\nversions: [\(list)]\ncerts: [ecdsa-p256]\nclient_auth: [none]\ncross:\n" + blocks.joined(separator: "\n") + "\n"
        // The reference may be the candidate itself (check-peer openssl): one entry then.
        let libraries = Dictionary([(r, reference), (c, candidate)], uniquingKeysWith: { _, candidate in candidate })
        let cells: [Cell]
        do {
            cells = MatrixRun(matrix: try MatrixFile(yaml: yaml, source: "check-peer")).cells(libraries: libraries)
        } catch {
            return [Check(name: "the conformance cells", passed: false, detail: "could not build them: \(error)")]
        }
        let runner = CellRunner(libraries: libraries, certificates: certificates, timeout: timeout)
        var checks: [Check] = []
        // What capabilities call never readable, every view of the candidate's must say is not readable.
        let neverReadable = candidate.capabilities.notReadable ?? []
        var overclaimed: [String] = []
        for cell in cells {
            let result = await runner.run(cell)
            for (side, view) in [(cell.server, result.serverView), (cell.client, result.clientView)] where side == c {
                guard let view else { continue }
                let missing = neverReadable.filter { !(view.notReadable ?? []).contains($0) }
                if !missing.isEmpty { overclaimed.append("\(cell.id): \(missing.joined(separator: ", "))") }
            }
            // What the candidate could not do is said in its capabilities; it is not a failure here.
            guard result.outcome != .unsupported else { continue }
            let ok = result.outcome == .pass
            var detail = ""
            if !ok {
                let expected = cell.expect.handshake == .ok ? "a verified handshake, echo and close_notify both ways" :
                    "the \(cell.expect.refusedBy?.rawValue ?? "either side") refusing at stage \(cell.expect.refusal?.stage.rawValue ?? "handshake")" +
                    (cell.expect.refusal?.verifyReason.map { " with verify_reason \($0.rawValue)" } ?? "")
                detail = "expected \(expected); got \(result.outcome.rawValue): \(result.reason ?? "")"
            }
            checks.append(Check(name: "\(cell.id)", passed: ok, detail: detail))
        }
        if !neverReadable.isEmpty {
            checks.append(Check(name: "views name the capabilities' not_readable fields (\(neverReadable.joined(separator: ", "))) as not readable",
                                passed: overclaimed.isEmpty,
                                detail: overclaimed.isEmpty ? "" : "expected each view's not_readable to hold them; missing in \(overclaimed.prefix(3).joined(separator: "; "))"))
        }
        return checks
    }

    // MARK: The worker protocol

    func workerChecks(_ set: CertificateSet) async -> [Check] {
        // The runner's readiness request first, as a new worker gets it, then two bad requests.
        let script = [
            PeerWorker.readyRequest,
            "not json",
            #"["client","--port","1","--no-such-option"]"#,
        ].joined(separator: "\n") + "\n"
        do {
            let result = try await PeerProcess.retryingTextFileBusy {
                try await Subprocess.run(.path(FilePath(candidate.executable)), arguments: ["worker"], input: .string(script),
                                         output: .bytes(limit: 1 << 20), error: .discarded)
            }
            let lines = String(decoding: result.standardOutput, as: UTF8.self).split(separator: "\n").map(String.init)
            let usages = lines.filter { $0.contains(#""event":"usage""#) }
            let ok = result.terminationStatus.isSuccess && usages.count == 3 && lines.count == 3
            return [Check(name: "worker: the readiness request and a bad request get a usage line each, end of input exits 0", passed: ok,
                          detail: ok ? "" : "expected three {\"event\":\"usage\",…} lines and exit 0; got \(lines.count) lines (\(lines.prefix(2).map { String($0.prefix(100)) })) and \(result.terminationStatus)")]
        } catch {
            return [Check(name: "worker: the readiness request and a bad request get a usage line each, end of input exits 0", passed: false, detail: "could not run the worker: \(error)")]
        }
    }

    // MARK: Helpers

    private func describe(_ exit: PeerExit) -> String {
        var parts = ["\(exit.termination)"]
        if let result = exit.result {
            parts.append("status \(result.status.rawValue)")
            if let error = result.error { parts.append("stage \(error.stage.rawValue), code \(error.libraryCode ?? "none"): \(error.message)") }
            if let reason = result.reason { parts.append("reason: \(reason)") }
        } else {
            parts.append("no result line")
        }
        if let violation = exit.protocolViolations.first { parts.append("printed \"\(violation.prefix(100))\"") }
        return parts.joined(separator: ", ")
    }
}

/// A loopback server that says nothing: it accepts one connection on a thread of its own and reads
/// it to its end, never writing a byte, noting when the client arrived and when it left. Its clock,
/// not the runner's, judges a client's timeout: on a loaded machine a peer's start-up or the runner's
/// wake-up may take seconds, the client's wait on the silent socket does not. With
/// `listening: false`, a port held but refusing: a connect to it meets a reset (ECONNREFUSED). Its
/// descriptors are closed by `close()` or at the latest in `deinit`.
final class SilentListener: Sendable {
    let port: UInt16
    private let connection: SilentConnection?
    /// The bound, not listening, socket of `listening: false`; nil once closed.
    private let refusing: Mutex<Int32?>

    init?(listening: Bool = true) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = ImpairmentProxy.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && (!listening || listen(fd, 4) == 0) && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else {
            Glibc.close(fd)
            return nil
        }
        port = UInt16(bigEndian: address.sin_port)
        if listening {
            let connection = SilentConnection()
            Thread.detachNewThread { connection.serve(fd) }
            self.connection = connection
            refusing = Mutex(nil)
        } else {
            connection = nil
            refusing = Mutex(fd)
        }
    }

    /// How long the one client stayed connected, from the accept to its end of the stream; waits up
    /// to `patience` for the accepting thread to see the end (the client may have just exited); nil
    /// when no client came or it has not left.
    func connectedFor(patience: Duration = .seconds(5)) async -> Duration? {
        guard let connection else { return nil }
        let giveUp = ContinuousClock.now + patience
        while ContinuousClock.now < giveUp {
            if let stayed = connection.stayed { return stayed }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return connection.stayed
    }

    /// Stops listening: a connect to `port` is then refused (at once when not listening, within
    /// 100 ms when listening), and the accepting thread ends.
    func close() {
        connection?.stop()
        refusing.withLock { fd in
            if let open = fd { Glibc.close(open) }
            fd = nil
        }
    }

    deinit { close() }
}

/// The silent server's side of its one connection, shared with its thread, which owns the descriptors.
private final class SilentConnection: Sendable {
    private struct State {
        var arrived: ContinuousClock.Instant?
        var left: ContinuousClock.Instant?
        var stopping = false
    }
    private let state = Mutex(State())

    var stayed: Duration? { state.withLock { s in s.arrived.flatMap { start in s.left.map { $0 - start } } } }

    func stop() { state.withLock { $0.stopping = true } }

    /// Waits (100 ms at a time, so `stop()` ends it) for one client, reads until its end of stream
    /// or a reset, then idles until told to stop, and closes both descriptors.
    func serve(_ listener: Int32) {
        var connection: Int32 = -1
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !state.withLock({ $0.stopping }) {
            if connection >= 0 && state.withLock({ $0.left != nil }) {
                usleep(100_000)
                continue
            }
            var ready = pollfd(fd: connection >= 0 ? connection : listener, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) == 1 else { continue }
            if connection < 0 {
                connection = accept(listener, nil, nil)
                if connection >= 0 {
                    _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                    state.withLock { $0.arrived = .now }
                }
            } else {
                let n = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
                if n <= 0 { state.withLock { $0.left = .now } }
            }
        }
        if connection >= 0 { Glibc.close(connection) }
        Glibc.close(listener)
    }
}
