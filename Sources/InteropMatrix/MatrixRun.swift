import Foundation
import PeerKit

/// A whole run: expands a matrix into cells, issues certificates, runs the cells `jobs` at a time
/// and builds the report.
public struct MatrixRun: Sendable {
    public var matrix: MatrixFile
    public var catalog: PeerCatalog
    public var jobs: Int
    public var timeout: Duration
    /// Keeps the generated certificates and keys (0600) instead of deleting them at the end.
    public var keepCertificates = false
    /// Only cells whose id contains one of these run (all when empty).
    public var filters: [String] = []

    public init(matrix: MatrixFile, catalog: PeerCatalog = PeerCatalog(), jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                timeout: Duration = .seconds(10)) {
        self.matrix = matrix
        self.catalog = catalog
        self.jobs = jobs
        self.timeout = timeout
    }

    /// Every cell the matrix names, in a stable order.
    public func cells(libraries: [String: PeerLibrary]? = nil) -> [Cell] {
        var cells: [Cell] = []
        let suites: [(name: String?, code: String?)] = matrix.suites.isEmpty ? [(nil, nil)] : matrix.suites.map { name in
            (name, libraries.flatMap { Self.codePoint(ofSuite: name, in: $0) })
        }
        let groups: [String?] = matrix.groups.isEmpty ? [nil] : matrix.groups
        for server in matrix.servers {
            for client in matrix.clients {
                for scenarioName in matrix.scenarios {
                    guard let scenario = Scenarios.named(scenarioName) else { continue }
                    for version in matrix.versions {
                        for suite in suites {
                            for group in groups {
                                for cert in matrix.certs {
                                    for auth in matrix.clientAuth {
                                        let params = CellParameters(version: version, suite: suite.name, suiteCode: suite.code, group: group, cert: cert, clientAuth: auth)
                                        guard scenario.applies(to: params) else { continue }
                                        let cell = Cell(server: server, client: client, scenario: scenario.name, params: params,
                                                        expect: scenario.expectation(for: params),
                                                        clientPresentsCertificate: scenario.clientPresentsCertificate(params))
                                        if filters.isEmpty || filters.contains(where: { cell.id.contains($0) }) { cells.append(cell) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return cells
    }

    /// The code point of a suite named in a matrix, as the libraries themselves report it.
    static func codePoint(ofSuite name: String, in libraries: [String: PeerLibrary]) -> String? {
        for library in libraries.values {
            if let suite = library.capabilities.suites.first(where: { $0.name == name || $0.libraryName == name }) { return suite.code }
        }
        return nil
    }

    /// Runs the matrix. `progress` is called after each cell with the cells done so far.
    public func run(progress: (@Sendable (CellResult, Int, Int) -> Void)? = nil) async throws -> Report {
        let started = Date()
        let clock = ContinuousClock.now
        var ids: [String] = []
        for id in matrix.servers + matrix.clients where !ids.contains(id) { ids.append(id) }
        let libraries = try await catalog.load(ids)
        let cells = cells(libraries: libraries)
        let directory = try CertificateDirectory()
        defer { if !keepCertificates { directory.remove() } }
        let certificates = try await CertificateAuthority.issue(Array(Set(cells.map(\.params.cert))).sorted { $0.rawValue < $1.rawValue }, into: directory.url)
        let runner = CellRunner(libraries: libraries, certificates: certificates, timeout: timeout)

        var results = [CellResult?](repeating: nil, count: cells.count)
        await withTaskGroup(of: (Int, CellResult).self) { group in
            var next = 0
            var done = 0
            func launch() {
                let index = next
                next += 1
                group.addTask { (index, await runner.run(cells[index])) }
            }
            while next < cells.count && next < max(1, jobs) { launch() }
            while let (index, result) = await group.next() {
                results[index] = result
                done += 1
                progress?(result, done, cells.count)
                if next < cells.count { launch() }
            }
        }
        let finished = results.compactMap { $0 }
        let used = Set(cells.flatMap { [$0.server, $0.client] })
        return Report(
            startedAt: ISO8601DateFormatter().string(from: started),
            durationS: Double((ContinuousClock.now - clock).components.attoseconds) / 1e18 + Double((ContinuousClock.now - clock).components.seconds),
            matrix: matrix.source,
            libraries: ids.filter(used.contains).compactMap { libraries[$0] }
                .map { Report.Library(id: $0.id, name: $0.name, version: $0.version) },
            summary: Report.Summary(results: finished),
            results: finished,
            complete: finished.count == cells.count)
    }
}

/// A private temporary folder (0700) for one run's certificates and keys.
public struct CertificateDirectory: Sendable {
    public let url: URL

    public init() throws {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("interop-matrix-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "mkdtemp failed: \(String(cString: strerror(errno)))"])
        }
        url = URL(fileURLWithPath: String(cString: made))
    }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}
