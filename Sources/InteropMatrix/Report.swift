import Foundation
import PeerKit

/// The JSON report, as `../shared/report-schema.json` (interop-matrix/report/v1) defines it.
/// Extra fields (both sides' errors, logs, notes, `complete`) are allowed by the schema.
public struct Report: Codable, Sendable {
    public struct Tool: Codable, Sendable {
        public var name = "interop-matrix"
        public var version = InteropMatrixVersion.current
    }

    public struct Library: Codable, Sendable {
        public var id: String
        public var name: String
        public var version: String
        /// What the library said it supports at run time (`peer-<id> capabilities`).
        public var capabilities: PeerCapabilities?
    }

    public struct Summary: Codable, Sendable, Equatable {
        public var total = 0
        public var passed = 0
        public var failed = 0
        public var unsupported = 0
        /// Timeouts, crashes and harness errors together.
        public var errors = 0
        /// Passed cells whose refusal carried another alert than the RFC names (or none).
        public var alertDeviations = 0

        enum CodingKeys: String, CodingKey {
            case total, passed, failed, unsupported, errors
            case alertDeviations = "alert_deviations"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            total = try c.decode(Int.self, forKey: .total)
            passed = try c.decode(Int.self, forKey: .passed)
            failed = try c.decode(Int.self, forKey: .failed)
            unsupported = try c.decode(Int.self, forKey: .unsupported)
            errors = try c.decode(Int.self, forKey: .errors)
            alertDeviations = try c.decodeIfPresent(Int.self, forKey: .alertDeviations) ?? 0
        }

        public init(results: [CellResult]) {
            total = results.count
            for result in results {
                if result.alertDeviation != nil { alertDeviations += 1 }
                switch result.outcome {
                case .pass: passed += 1
                case .fail: failed += 1
                case .unsupported: unsupported += 1
                case .timeout, .crash, .error: errors += 1
                }
            }
        }
    }

    public var schema = "interop-matrix/report/v1"
    public var tool = Tool()
    public var startedAt: String
    public var durationS: Double
    public var matrix: String
    public var libraries: [Library]
    public var summary: Summary
    public var results: [CellResult]
    /// False when the run was stopped before every cell ran.
    public var complete: Bool
    /// The matrix's `name:`.
    public var matrixName: String?
    /// Cells in the whole matrix (after filters, before sharding), and a digest of their ids:
    /// what `merge` checks shard reports against.
    public var matrixCells: Int?
    public var matrixDigest: String?
    /// `K/N` when this report is one shard of a run.
    public var shard: String?
    /// Shard reports a merged report was made of.
    public var mergedShards: [String]?
    /// How the run compares with a baseline, when one was given.
    public var baseline: BaselineComparison?
    /// Why the run stopped before every cell ran (a deadline, an interrupt).
    public var stopped: String?
    /// What the run left behind: descriptors, processes, listening ports, keys.
    public var resources: ResourceCheck?
    /// Libraries `all` found that could not take part (their capabilities failed), with why.
    public var unavailableLibraries: [UnavailableLibrary]?
    /// Per pair, what both sides support and no cell tried (`PairCoverage.of`).
    public var coverage: [PairCoverage]?
    /// Per t-way block, pair and scenario, the share of its covering array's t-tuples the run covered.
    public var coveringArrays: [CoveringArrayCoverage]?
    /// The matrix's `min_coverage` (percent), judged on complete, unsharded runs.
    public var minimumCoverage: Double?

    /// Why the run's coverage falls short of the matrix's `min_coverage`; nil when it does not (or
    /// cannot be judged: no minimum, a partial run, one shard of many).
    public var coverageShortfall: String? {
        guard let minimum = minimumCoverage, complete, shard == nil else { return nil }
        let summary = CoverageSummary(coverage ?? PairCoverage.of(self))
        guard summary.tried * 100 < minimum else { return nil }
        return String(format: "coverage %.1f%% is below the matrix's min_coverage %g%%", summary.tried * 100, minimum)
    }

    enum CodingKeys: String, CodingKey {
        case schema, tool, matrix, libraries, summary, results, complete, shard, baseline, stopped, resources, coverage
        case minimumCoverage = "min_coverage"
        case coveringArrays = "covering_arrays"
        case matrixName = "matrix_name"
        case matrixCells = "matrix_cells"
        case matrixDigest = "matrix_digest"
        case mergedShards = "merged_shards"
        case unavailableLibraries = "unavailable_libraries"
        case startedAt = "started_at"
        case durationS = "duration_s"
    }

    /// A report file as `merge` and `compare` read it: readable, a report, of the schema this tool reads.
    public static func load(path: String) throws(ReportLoadError) -> Report {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReportLoadError(message: "\(path): cannot read the report") }
        let report: Report
        do {
            report = try JSONDecoder().decode(Report.self, from: data)
        } catch {
            throw ReportLoadError(message: "\(path): not an interop-matrix report: \(error)")
        }
        guard report.schema == schemaVersion else {
            throw ReportLoadError(message: "\(path): schema \(MatrixFile.shown(report.schema)), but this interop-matrix reads only \(schemaVersion)")
        }
        return report
    }

    public func jsonData() throws -> Data {
        try Report.encoder.encode(self)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Writes the same JSON as `jsonData()`, a result at a time, so a report of tens of thousands
    /// of cells never exists twice in memory (once as values, once as an encoder's tree).
    public func writeJSON(to url: URL) throws {
        var header = self
        header.results = []
        let text = String(decoding: try Report.encoder.encode(header), as: UTF8.self)
        guard let open = text.range(of: "\"results\" : ["), let close = text[open.upperBound...].firstIndex(of: "]") else {
            return try jsonData().write(to: url)
        }
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path])
        }
        let file = try FileHandle(forWritingTo: url)
        defer { try? file.close() }
        try file.write(contentsOf: Data(text[..<open.upperBound].utf8))
        let encoder = Report.encoder
        var chunk = ""
        for (index, result) in results.enumerated() {
            let item = String(decoding: try encoder.encode(result), as: UTF8.self)
            chunk += (index == 0 ? "\n" : ",\n") + item.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
            if chunk.utf8.count > 1 << 20 {
                try file.write(contentsOf: Data(chunk.utf8))
                chunk = ""
            }
        }
        chunk += results.isEmpty ? "" : "\n  "
        try file.write(contentsOf: Data(chunk.utf8))
        try file.write(contentsOf: Data(text[close...].utf8))
    }
}

public struct ReportLoadError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// What happened in one cell compared with what was expected.
public enum Outcome: String, Codable, Sendable, CaseIterable {
    case pass, fail, unsupported, timeout, crash, error
}

/// One side's view of the negotiated connection, as the report carries it.
public struct ReportView: Codable, Sendable, Equatable {
    public var version: TLSVersion
    public var suite: String
    public var suiteCode: String
    public var librarySuite: String?
    public var group: String?
    public var signatureScheme: String?
    public var alpn: String?
    public var resumed: Bool
    public var peerCertificate: String?
    /// Server: the SNI name its library received.
    public var serverName: String?
    /// The PSK identity the handshake was authenticated with, as this side's library handed it over.
    public var pskIdentity: String?
    /// With several connections (resumption), whether each was resumed, first to last.
    public var connectionsResumed: [Bool]?
    /// The last connection's application data as this side counted it.
    public var exchange: PeerResultLine.Exchange?
    /// Fields this side's library cannot expose: null there is "not readable", not "none".
    public var notReadable: [String]?

    enum CodingKeys: String, CodingKey {
        case version, suite, group, alpn, resumed, exchange
        case notReadable = "not_readable"
        case suiteCode = "suite_code"
        case librarySuite = "library_suite"
        case signatureScheme = "signature_scheme"
        case peerCertificate = "peer_certificate"
        case serverName = "server_name"
        case pskIdentity = "psk_identity"
        case connectionsResumed = "connections_resumed"
    }

    /// A view the schema accepts needs version, suite name and code point; a peer that could not
    /// read them back gives no view (and the cell says so).
    init?(_ line: PeerResultLine?) {
        self.init(line?.view)
        serverName = line?.view?.serverName
        exchange = line?.exchange
        if let views = line?.views, views.count > 1 { connectionsResumed = views.map { $0.resumed ?? false } }
    }

    init?(_ view: PeerResultLine.View?) {
        guard let view, let versionText = view.version, let version = TLSVersion(rawValue: versionText),
              let code = view.suiteCode else { return nil }
        // The code point came from the library; its name comes from the IANA registry, so both
        // sides spell it alike whatever their library calls it. A code point the registry lacks
        // keeps the peer's own IANA-style name.
        guard let suite = CipherSuiteRegistry.suite(codeText: code)?.name ?? view.suite, suite.hasPrefix("TLS_") else { return nil }
        self.version = version
        self.suite = suite
        suiteCode = code
        librarySuite = view.librarySuite
        group = view.group
        signatureScheme = view.signatureScheme
        alpn = view.alpn
        resumed = view.resumed ?? false
        peerCertificate = view.peerCertificate
        pskIdentity = view.pskIdentity
        notReadable = view.notReadable.flatMap { $0.isEmpty ? nil : $0 }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(suite, forKey: .suite)
        try c.encode(suiteCode, forKey: .suiteCode)
        try c.encode(librarySuite, forKey: .librarySuite)
        try c.encode(group, forKey: .group)
        try c.encode(signatureScheme, forKey: .signatureScheme)
        try c.encode(alpn, forKey: .alpn)
        try c.encode(resumed, forKey: .resumed)
        try c.encode(peerCertificate, forKey: .peerCertificate)
        try c.encodeIfPresent(serverName, forKey: .serverName)
        try c.encodeIfPresent(pskIdentity, forKey: .pskIdentity)
        try c.encodeIfPresent(connectionsResumed, forKey: .connectionsResumed)
        try c.encodeIfPresent(exchange, forKey: .exchange)
        try c.encodeIfPresent(notReadable, forKey: .notReadable)
    }

    /// A field's value for people: its value, "none", or "not readable" where the library cannot expose it.
    public func shown(_ field: String, _ value: String?) -> String {
        value ?? (notReadable?.contains(field) == true ? "not readable" : "none")
    }
}

/// A refusal that met its expectation with another alert than the one the RFC names, or with none:
/// still a pass, but counted in every format and compared with the baseline.
public struct AlertDeviation: Codable, Sendable, Equatable {
    /// The side whose alert it is (the refusing side, or the side that met the network's damage).
    public var side: ReportError.Side
    /// The alert the RFC names.
    public var expected: String
    /// The alert that side's library reports sending (or the other side receiving); nil: none.
    public var observed: String?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(side, forKey: .side)
        try c.encode(expected, forKey: .expected)
        try c.encode(observed, forKey: .observed)
    }

    /// `sent handshake_failure where the RFC names certificate_required` — for the reports.
    public var text: String {
        "\(side.rawValue) \(observed.map { "sent \($0)" } ?? "sent no alert") where the RFC names \(expected)"
    }
}

/// An error as the report carries it: which side, which stage, the alert, the library's words.
public struct ReportError: Codable, Sendable, Equatable {
    public enum Side: String, Codable, Sendable { case server, client, runner }
    public var side: Side
    public var stage: FailureStage
    public var alert: String?
    public var alertCode: Int?
    /// Which way the alert went, from this side's point of view.
    public var alertDirection: ObservedAlert.Direction?
    public var libraryCode: String?
    /// At stage `verify`: why this side's library rejected the other's certificate.
    public var verifyReason: VerifyReason?
    public var message: String

    enum CodingKeys: String, CodingKey {
        case side, stage, alert, message
        case alertCode = "alert_code"
        case alertDirection = "alert_direction"
        case libraryCode = "library_code"
        case verifyReason = "verify_reason"
    }

    init(side: Side, stage: FailureStage, message: String, alert: String? = nil, alertCode: Int? = nil,
         alertDirection: ObservedAlert.Direction? = nil, libraryCode: String? = nil, verifyReason: VerifyReason? = nil) {
        self.side = side
        self.stage = stage
        self.message = message
        self.alert = alert
        self.alertCode = alertCode
        self.alertDirection = alertDirection
        self.libraryCode = libraryCode
        self.verifyReason = verifyReason
    }

    init(side: Side, _ failure: PeerResultLine.Failure) {
        self.init(side: side, stage: failure.stage, message: failure.message, alert: failure.alert,
                  alertCode: failure.alertCode, alertDirection: failure.alertDirection, libraryCode: failure.libraryCode,
                  verifyReason: failure.verifyReason)
    }

    /// The alert this side sent, if it says it sent one.
    var sentAlert: String? { alertDirection == .sent ? alert : nil }
    /// The alert this side received, if it says it received one.
    var receivedAlert: String? { alertDirection == .received ? alert : nil }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(side, forKey: .side)
        try c.encode(stage, forKey: .stage)
        try c.encode(alert, forKey: .alert)
        try c.encode(alertCode, forKey: .alertCode)
        try c.encode(alertDirection, forKey: .alertDirection)
        try c.encode(libraryCode, forKey: .libraryCode)
        try c.encodeIfPresent(verifyReason, forKey: .verifyReason)
        try c.encode(message, forKey: .message)
    }
}

/// One cell's line in the report.
public struct CellResult: Codable, Sendable {
    public struct Expect: Codable, Sendable, Equatable {
        public var handshake: Expectation.Handshake
        public var alert: String?
        public var refusedBy: Role?
        /// True when the network breaks the connection on purpose (`network`): both sides must fail cleanly.
        public var connectionBroken: Bool?
        /// True when the client ends without close_notify and the server must report the truncation.
        public var truncatedByClient: Bool?
        /// The SNI name the server must report, when the client asks for the alternate host.
        public var serverName: String?
        /// How the second connection must be resumed (`session-id`, `ticket`).
        public var resumption: String?
        /// Bytes each way that must arrive intact.
        public var transferBytes: Int?
        /// True when both sides must count a KeyUpdate each way.
        public var keyUpdate: Bool?
        /// The pre-shared key the client offers: `matching`, `unknown-identity`, `wrong-key`.
        public var preSharedKey: String?
        /// For a refusal: the stage the refusing side must fail at, and at `verify` the reason.
        public var stage: FailureStage?
        public var verifyReason: VerifyReason?
        /// For a network that breaks the connection: the stage each side must fail at.
        public var serverStage: FailureStage?
        public var clientStage: FailureStage?

        enum CodingKeys: String, CodingKey {
            case handshake, alert, resumption
            case refusedBy = "refused_by"
            case connectionBroken = "connection_broken"
            case truncatedByClient = "truncated_by_client"
            case serverName = "server_name"
            case transferBytes = "transfer_bytes"
            case keyUpdate = "key_update"
            case preSharedKey = "psk"
            case stage
            case verifyReason = "verify_reason"
            case serverStage = "server_stage"
            case clientStage = "client_stage"
        }
    }

    public var id: String
    public var server: String
    public var client: String
    public var scenario: String
    public var params: CellParameters
    public var expect: Expect
    public var outcome: Outcome
    public var reason: String?
    public var serverView: ReportView?
    public var clientView: ReportView?
    /// The error that decided the cell: the refusing side's, or the first side's to fail.
    public var error: ReportError?
    public var serverError: ReportError?
    public var clientError: ReportError?
    /// Remarks that do not change the outcome (an alert other than the one the RFC names, say).
    public var notes: [String]?
    /// For an expected refusal or a broken network: the alert it carried, as the refusing side's
    /// library reports sending it (or the other side's, receiving it); nil when neither says.
    public var observedAlert: String?
    /// Set when that alert is not the one the RFC names (a pass all the same, counted).
    public var alertDeviation: AlertDeviation?
    public var handshakeMs: Double?
    public var durationMs: Double
    /// The ends of both peers' stderr, kept for cells that did not pass.
    public var logs: [String: String]?
    /// The cell's position in the whole matrix: shard reports merge back in this order.
    public var index: Int?
    /// How many times the cell ran (more than 1 with `--retries`).
    public var attempts: Int?
    /// It did not pass at first, then passed on a retry.
    public var flaky: Bool?
    /// The earlier attempts' outcomes and reasons, when there were retries.
    public var earlierAttempts: [String]?
    /// What the cell is against the baseline.
    public var baselineStatus: BaselineStatus?
    /// The baseline's reason and link for a known failure.
    public var knownFailure: String?
    /// The command that re-runs exactly this cell.
    public var replay: String?

    enum CodingKeys: String, CodingKey {
        case id, server, client, scenario, params, expect, outcome, reason, error, notes, logs, index, attempts, flaky, replay
        case earlierAttempts = "earlier_attempts"
        case observedAlert = "observed_alert"
        case alertDeviation = "alert_deviation"
        case baselineStatus = "baseline"
        case knownFailure = "known_failure"
        case serverView = "server_view"
        case clientView = "client_view"
        case serverError = "server_error"
        case clientError = "client_error"
        case handshakeMs = "handshake_ms"
        case durationMs = "duration_ms"
    }

    init(cell: Cell, outcome: Outcome, durationMs: Double) {
        id = cell.id
        server = cell.server
        client = cell.client
        scenario = cell.scenario
        params = cell.params
        expect = Expect(handshake: cell.expect.handshake, alert: cell.expect.alert, refusedBy: cell.expect.refusedBy,
                        connectionBroken: cell.expect.connectionBroken ? true : nil,
                        truncatedByClient: cell.expect.truncatedByClient ? true : nil,
                        serverName: cell.features.alternateHost ? CertificateAuthority.alternateHost : nil,
                        resumption: cell.features.resumption?.rawValue, transferBytes: cell.features.transferBytes,
                        keyUpdate: cell.features.keyUpdate ? true : nil, preSharedKey: cell.features.preSharedKey?.rawValue,
                        stage: cell.expect.refusal?.stage, verifyReason: cell.expect.refusal?.verifyReason,
                        serverStage: cell.expect.network?.serverStage, clientStage: cell.expect.network?.clientStage)
        self.outcome = outcome
        self.durationMs = durationMs
    }
}

/// The tool's version, as reports carry it.
public enum InteropMatrixVersion {
    public static let current = "0.1.0"
}
