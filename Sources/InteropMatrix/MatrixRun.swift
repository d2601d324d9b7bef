import Foundation
import PeerKit

/// A whole run: expands a matrix into cells, issues certificates, runs the cells `jobs` at a time
/// and builds the report.
public struct MatrixRun: Sendable {
    public var matrix: MatrixFile
    public var catalog: PeerCatalog
    public var jobs: Int
    /// Run cells on long-lived peer workers where the peers have a worker mode (the default);
    /// false starts a fresh server and client process for every cell.
    public var useWorkers = true
    public var timeout: Duration
    /// Keeps the generated certificates and keys (0600) instead of deleting them at the end.
    public var keepCertificates = false
    /// Run only this shard's cells (`--shard K/N`).
    public var shard: Shard?
    /// Re-run a cell that did not pass up to this many times; one that passes then is flaky.
    public var retries = 0
    /// Reuse the certificate sets in this folder (from `--keep-certs` or artifacts) instead of issuing new ones.
    public var certificateDirectory: String?
    /// Stops the run early (deadline, interrupt); the report is then marked incomplete.
    public var stop = RunStop()
    /// The whole run must end by then: running cells are stopped and the report marked incomplete.
    public var runDeadline: Duration?
    /// Keep per-cell logs, key logs and replay scripts here.
    public var artifacts: ArtifactStore?
    /// The arguments that select this matrix again (`--matrix FILE`), for replay commands.
    public var replayArguments: [String] = []
    /// Told which libraries found for `all` cannot take part, and why, before any cell runs.
    public var onUnavailable: (@Sendable ([UnavailableLibrary]) -> Void)?
    /// Told where the certificates are, once they exist.
    public var onCertificates: (@Sendable (String) -> Void)?
    /// Only cells whose id contains one of these run (all when empty).
    public var filters: [String] = []
    /// Only the cells with exactly these ids run (all when empty): what a replay uses.
    public var only: [String] = []

    /// The most cells a run may have; a matrix that can expand to more is refused before expansion.
    public static let maximumCells = 1_000_000

    public init(matrix: MatrixFile, catalog: PeerCatalog = PeerCatalog(), jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                timeout: Duration = .seconds(10)) {
        var matrix = matrix
        if matrix.discoversLibraries { matrix.resolveEveryLibrary(catalog.discoverIDs()) }
        self.matrix = matrix
        self.catalog = catalog
        self.jobs = jobs
        self.timeout = timeout
    }

    /// Every cell the matrix names, in a stable order. With the libraries' capabilities, `all`
    /// selections and the defaults scenario's version are resolved against what the pair supports;
    /// without them (`list` when a peer is missing), against the registry alone.
    public func cells(libraries: [String: PeerLibrary]? = nil) -> [Cell] {
        expansion(libraries: libraries).cells
    }

    /// The cells, as `cells(libraries:)`, and the covering array each t-way block chose per pair
    /// and scenario (those with at least one cell selected), for the report's share of t-tuples.
    public func expansion(libraries: [String: PeerLibrary]? = nil) -> (cells: [Cell], plans: [CoveringArrayCoverage]) {
        var cells: [Cell] = []
        var plans: [CoveringArrayCoverage] = []
        // Pairs whose runnable combinations are the same (without capabilities, every pair's) share
        // one covering array: the greedy choice is the costly part.
        var coverings: [[[String]]: CoveringArray] = [:]
        let ring = (matrix.ringLibraries.isEmpty ? matrix.libraryIDs : matrix.ringLibraries).sorted()
        for server in matrix.servers {
            for client in matrix.clients {
                let pair = [libraries?[server], libraries?[client]].compactMap { $0 }
                for block in matrix.blocks where block.includes(server: server, client: client, libraries: ring) {
                    for scenarioName in block.scenarios {
                        guard let scenario = Scenarios.named(scenarioName) else { continue }
                        cells += expand(block, scenario, server: server, client: client, pair: pair, libraries: libraries ?? [:],
                                        coverings: &coverings, plans: &plans)
                    }
                }
            }
        }
        var seen = Set<String>()
        let selected = cells.filter { cell in
            guard filters.isEmpty || filters.contains(where: { cell.id.contains($0) }) else { return false }
            guard only.isEmpty || only.contains(cell.id) else { return false }
            return seen.insert(cell.id).inserted
        }
        return (selected, plans.filter { $0.cells.contains(where: seen.contains) })
    }

    /// The most cells the matrix can expand to, counted from its dimensions without building a
    /// cell: every pair × scenario × version × certificate × suite × group × client auth × network
    /// of each block, with `all` taken as every registry entry that fits the version and
    /// certificate, or with the libraries' capabilities (`libraries`) every entry either side of
    /// the pair implements. Cells a scenario skips, duplicates and --filter/--only/--shard are not
    /// taken off, so the count is an upper bound. Saturates at `Int.max`.
    public func cellUpperBound(libraries: [String: PeerLibrary]? = nil) -> Int {
        let servers = Set(matrix.servers), clients = Set(matrix.clients)
        var total = 0
        guard let libraries else {
            for block in matrix.blocks {
                let ring = max(servers.count, clients.count)
                let pairs = block.pairs.isEmpty ? Self.times(servers.count, clients.count)
                    : Set(block.pairs).filter { pair in
                        let sides = pair.split(separator: ">").map(String.init)
                        return sides.count == 2 && servers.contains(sides[0]) && clients.contains(sides[1])
                    }.count + (block.pairs.contains(MatrixBlock.ring) ? ring : 0)
                total = Self.plus(total, Self.times(pairs, cellUpperBound(block, pair: [])))
            }
            return total
        }
        let ring = (matrix.ringLibraries.isEmpty ? matrix.libraryIDs : matrix.ringLibraries).sorted()
        for server in matrix.servers {
            for client in matrix.clients {
                let pair = [libraries[server], libraries[client]].compactMap { $0 }
                for block in matrix.blocks where block.includes(server: server, client: client, libraries: ring) {
                    total = Self.plus(total, cellUpperBound(block, pair: pair))
                }
            }
        }
        return total
    }

    private static func times(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? Int.max : product
    }

    private static func plus(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    /// One pair's bound in one block (`pair` empty: any pair, from the registry alone).
    private func cellUpperBound(_ block: MatrixBlock, pair: [PeerLibrary]) -> Int {
        let times = Self.times, plus = Self.plus
        var perPair = 0
        for name in block.scenarios {
            guard let scenario = Scenarios.named(name) else { continue }
            if scenario.usesLibraryDefaults {
                perPair = plus(perPair, times(block.certs.count, block.network.count))
                continue
            }
            var full = 0
            var largestSuites = 0, largestGroups = 1
            for version in block.versions {
                let versionGroups = groups(block.groups, version: version, pair: pair)
                largestGroups = max(largestGroups, versionGroups.count)
                for cert in block.certs {
                    let certSuites = suites(block.suites, version: version, cert: cert, pair: pair, scenario: scenario)
                    largestSuites = max(largestSuites, certSuites.count)
                    let combinations = certSuites.reduce(0) { plus($0, max(1, Self.groups(versionGroups, version: version, cert: cert, suite: $1).count)) }
                    full = plus(full, times(times(combinations, block.clientAuth.count), block.network.count))
                }
            }
            if case .strength(let t) = block.coverage {
                // Each cell of a covering array covers at least one tuple not yet covered, so
                // there are at most as many cells as t-tuples of the dimensions' values.
                let sizes = [block.versions.count, block.certs.count, largestSuites, largestGroups, block.clientAuth.count, block.network.count]
                let tuples = CoveringArray.combinations(of: sizes.count, taking: min(t, sizes.count))
                    .reduce(0) { sum, dims in plus(sum, dims.reduce(1) { times($0, sizes[$1]) }) }
                full = min(full, tuples)
            }
            perPair = plus(perPair, full)
        }
        return perPair
    }

    /// Whether a cell id is one this run would run, were the matrix to name it: the id's pair is
    /// among the servers and clients, it passes --filter and --only, and it is in the shard. A
    /// baseline cell outside the selection is not "vanished" from a narrowed run.
    public func selects(id: String) -> Bool {
        guard let pair = id.split(separator: "/", maxSplits: 1).first else { return false }
        let sides = pair.split(separator: ">", maxSplits: 1).map(String.init)
        guard sides.count == 2, matrix.servers.contains(sides[0]), matrix.clients.contains(sides[1]) else { return false }
        guard filters.isEmpty || filters.contains(where: { id.contains($0) }) else { return false }
        guard only.isEmpty || only.contains(id) else { return false }
        return shard?.contains(id) ?? true
    }

    /// A block's cells for one pair and scenario: every combination, or with `coverage:` a t-way
    /// covering array of the combinations the pair can run (with capabilities known; without them,
    /// `list` covers every combination the registry allows).
    private func expand(_ block: MatrixBlock, _ scenario: any Scenario, server: String, client: String, pair: [PeerLibrary],
                        libraries: [String: PeerLibrary], coverings: inout [[[String]]: CoveringArray], plans: inout [CoveringArrayCoverage]) -> [Cell] {
        let cells = combinations(block, scenario, server: server, client: client, pair: pair)
        guard case .strength(let t) = block.coverage else { return cells }
        let planner = CellRunner(libraries: libraries, certificates: [:], timeout: timeout)
        var runnable = pair.count == 2 ? cells.filter { planner.unsupportedReason($0) == nil } : cells
        if pair.count == 2, cells.contains(where: { $0.params.group != nil }), !runnable.contains(where: { $0.params.group != nil }) {
            // Neither side can show a forced group in effect (no group read-back), so no cell that
            // forces one can pass: the pair's combinations are crossed with the libraries' default
            // groups instead, rather than leaving its suites, certificates and modes untried.
            var defaults = block
            defaults.groups = .defaults
            runnable = combinations(defaults, scenario, server: server, client: client, pair: pair).filter { planner.unsupportedReason($0) == nil }
        }
        let rows = runnable.map(\.coverageRow) + [["strength \(t)"]]
        let array = coverings[rows] ?? CoveringArray(candidates: Array(rows.dropLast()), strength: t)
        coverings[rows] = array
        let chosen = array.chosen.map { runnable[$0] }
        if !chosen.isEmpty {
            plans.append(CoveringArrayCoverage(block: block.name, scenario: scenario.name, server: server, client: client, strength: t,
                                               tuples: array.tuples, covered: 0, cells: chosen.map(\.id)))
        }
        return chosen
    }

    private func combinations(_ block: MatrixBlock, _ scenario: any Scenario, server: String, client: String, pair: [PeerLibrary]) -> [Cell] {
        func cell(_ params: CellParameters) -> [Cell] {
            block.network.compactMap { network in impaired(params, network) }
        }
        func impaired(_ base: CellParameters, _ network: Impairment) -> Cell? {
            var params = base
            params.network = network
            guard scenario.applies(to: params) else { return nil }
            var expect = scenario.expectation(for: params)
            if let failure = network.expectedFailure {
                // A network that breaks connections only makes sense where the handshake should work.
                guard expect.handshake == .ok else { return nil }
                expect = .broken(failure)
            }
            var cell = Cell(server: server, client: client, scenario: scenario.name, params: params,
                            expect: expect, clientPresentsCertificate: scenario.clientPresentsCertificate(params))
            cell.usesLibraryDefaults = scenario.usesLibraryDefaults
            cell.serverCertificate = scenario.serverCertificate
            cell.clientVersion = scenario.clientVersion(for: params)
            (cell.serverALPN, cell.clientALPN) = scenario.applicationProtocols
            (cell.serverGroups, cell.clientGroups) = scenario.sideGroups
            cell.clientTruncates = scenario.clientTruncates
            cell.features = scenario.features
            let suites = scenario.sideSuites(for: params)
            cell.serverSuiteCode = suites.server.flatMap { CipherSuiteRegistry.suite(named: $0)?.codeText }
            cell.clientSuiteCode = suites.client.flatMap { CipherSuiteRegistry.suite(named: $0)?.codeText }
            cell.clientCertificate = scenario.clientCertificate
            cell.liftPolicy = block.legacy
            return cell
        }
        if scenario.usesLibraryDefaults {
            let version = Self.defaultVersion(of: pair) ?? .tls13
            return block.certs.flatMap { cell(CellParameters(version: version, cert: $0, clientAuth: .none)) }
        }
        var cells: [Cell] = []
        for version in block.versions {
            for cert in block.certs {
                let versionGroups = groups(block.groups, version: version, pair: pair)
                for suite in suites(block.suites, version: version, cert: cert, pair: pair, scenario: scenario) {
                    for group in Self.groups(versionGroups, version: version, cert: cert, suite: suite) {
                        for auth in block.clientAuth {
                            let params = CellParameters(version: version, suite: suite?.name, suiteCode: suite?.codeText, group: group, cert: cert, clientAuth: auth)
                            cells += cell(params)
                        }
                    }
                }
            }
        }
        return cells
    }

    /// The suites a block crosses for one version and certificate: only suites the certificate can
    /// authenticate at that version, and for `all` only those at least one side implements. A
    /// scenario with other credentials takes its own (`Scenario.admits`: a pre-shared key's PSK
    /// suites, a key-agreement certificate's static ECDH ones), so `suites: all` elsewhere never
    /// turns into such cells.
    private func suites(_ selection: Selection, version: TLSVersion, cert: CertificateKeyType, pair: [PeerLibrary], scenario: any Scenario) -> [CipherSuite?] {
        let candidates: [CipherSuite]
        switch selection {
        case .defaults: return [nil]
        case .named(let names): candidates = names.compactMap(CipherSuiteRegistry.suite(named:))
        case .all:
            let implemented = Set(pair.flatMap { $0.capabilities.suites.map(\.code) })
            candidates = CipherSuiteRegistry.all.filter { pair.isEmpty || implemented.contains($0.codeText) }
        }
        return candidates.filter { scenario.admits($0, cert: cert, version: version) }
    }

    /// Of the groups a block crosses at `version`, those a cell with this certificate and suite
    /// forces: before TLS 1.3 a group only matters to an ECDHE suite (with DHE or RSA key transport
    /// forcing one would only take away the library's finite-field parameters), and the client's
    /// groups also bound the curve of an ECDSA server certificate (RFC 8422 §5.1; OpenSSL says
    /// "wrong curve"), so only its own curve is forced.
    static func groups(_ groups: [String?], version: TLSVersion, cert: CertificateKeyType, suite: CipherSuite?) -> [String?] {
        guard version == .tls13 || suite == nil || suite?.keyExchange == "ECDHE" else { return [nil] }
        return groups.filter { group in
            guard let group, version < .tls13, cert.isECDSA || cert == .ed25519 else { return true }
            return group == cert.curveName
        }
    }

    /// The groups a block crosses for one version (`NamedGroup.applies`).
    private func groups(_ selection: Selection, version: TLSVersion, pair: [PeerLibrary]) -> [String?] {
        let candidates: [String]
        switch selection {
        case .defaults: return [nil]
        case .named(let names): candidates = names
        case .all:
            let supported = Set(pair.flatMap(\.capabilities.groups))
            // Every group either library reports, the registry's and any it lacks (`0x…`), less those
            // `groups: all` leaves to a matrix that names them.
            let known = pair.isEmpty ? NamedGroup.allNames : NamedGroup.ordered(supported)
            candidates = known.filter(NamedGroup.crossedByAll)
        }
        return candidates.filter { NamedGroup.applies($0, to: version) }
    }

    /// The highest version both libraries enable out of the box: what their defaults should negotiate.
    static func defaultVersion(of pair: [PeerLibrary]) -> TLSVersion? {
        guard pair.count == 2 else { return pair.first.flatMap { $0.capabilities.defaultVersions.compactMap(TLSVersion.init(rawValue:)).max() } }
        let common = Set(pair[0].capabilities.defaultVersions).intersection(pair[1].capabilities.defaultVersions)
        return common.compactMap(TLSVersion.init(rawValue:)).max()
    }

    /// The libraries' capabilities, and this run without the libraries `all` found whose
    /// capabilities fail (told to `onUnavailable`, and later the report).
    public func loadLibraries() async throws(CatalogError) -> (libraries: [String: PeerLibrary], unavailable: [UnavailableLibrary], run: MatrixRun) {
        if matrix.servers.isEmpty || matrix.clients.isEmpty {
            throw CatalogError(missingLibrary: true, message: "no peer-<id> executable in \(catalog.searched), so 'all' names no library; build them with `swift build`")
        }
        let (libraries, unavailable) = try await catalog.load(matrix.libraryIDs, tolerating: matrix.discoveredLibraries)
        var run = self
        let gone = Set(unavailable.map(\.id))
        run.matrix.servers.removeAll(where: gone.contains)
        run.matrix.clients.removeAll(where: gone.contains)
        run.matrix.ringLibraries.removeAll(where: gone.contains)
        if !unavailable.isEmpty { onUnavailable?(unavailable) }
        if run.matrix.servers.isEmpty || run.matrix.clients.isEmpty {
            throw CatalogError(message: "no library found can take part: " + unavailable.map { "\($0.id): \($0.reason)" }.joined(separator: "; "))
        }
        return (libraries, unavailable, run)
    }

    /// Runs the matrix. `progress` is called after each cell with the cells done so far.
    public func run(progress: (@Sendable (CellResult, Int, Int) -> Void)? = nil) async throws -> Report {
        let started = Date()
        let clock = ContinuousClock.now
        let ledger = ResourceLedger()
        // Keys of earlier runs that were killed outright (SIGKILL) are still on disk: remove them.
        CertificateDirectory.removeAbandoned()
        let (libraries, unavailable, taking) = try await loadLibraries()
        let (allCells, plans) = taking.expansion(libraries: libraries)
        let selected = allCells.enumerated().filter { shard?.contains($0.element.id) ?? true }
        let cells = selected.map(\.element)
        let certificateSets: [CertificateKeyType: CertificateSet]
        var directory: CertificateDirectory?
        if let reuse = certificateDirectory {
            certificateSets = try CertificateAuthority.load(Array(Set(cells.map(\.params.cert))), from: URL(fileURLWithPath: reuse))
        } else if let artifacts {
            try FileManager.default.createDirectory(at: artifacts.certificates, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            certificateSets = try await CertificateAuthority.issue(Array(Set(cells.map(\.params.cert))).sorted { $0.rawValue < $1.rawValue }, into: artifacts.certificates)
        } else {
            let made = try CertificateDirectory()
            directory = made
            certificateSets = try await CertificateAuthority.issue(Array(Set(cells.map(\.params.cert))).sorted { $0.rawValue < $1.rawValue }, into: made.url)
            onCertificates?(made.url.path)
        }
        defer { if !keepCertificates { directory?.remove() } }
        var configured = CellRunner(libraries: libraries, certificates: certificateSets, timeout: timeout)
        configured.artifacts = artifacts
        configured.ledger = ledger
        let workers = useWorkers ? PeerWorkerPool(ledger: ledger) : nil
        configured.workers = workers
        let kept = certificateDirectory ?? artifacts?.certificates.path ?? (keepCertificates ? directory?.url.path : nil)
        configured.replayArguments = replayArguments + (kept.map { ["--certs", $0] } ?? [])
        let runner = configured
        let retries = self.retries

        var results = [CellResult?](repeating: nil, count: cells.count)
        ledger.markStart()
        let stop = self.stop
        if let deadline = runDeadline {
            let reason = "the run deadline (\(deadline)) passed"
            Task { try? await Task.sleep(for: deadline); stop.stop(because: reason) }
        }
        // Two lanes: cells that mostly wait on a slow network (started first, they overlap with
        // everything else) and the CPU-bound rest, `jobs` at a time.
        let waiting = cells.indices.filter { cells[$0].params.network.isMostlyWaiting }
        let working = cells.indices.filter { !cells[$0].params.network.isMostlyWaiting }
        let waitingLimit = max(1, jobs) * 4
        await withTaskGroup(of: (Int, CellResult)?.self) { group in
            var nextWaiting = 0
            var nextWorking = 0
            var runningWaiting = 0
            var runningWorking = 0
            var done = 0
            var next: Int { nextWaiting + nextWorking }
            func launch(_ index: Int) {
                group.addTask {
                    let result = await runner.run(cells[index], retries: retries)
                    return (index, result)
                }
            }
            func fill() {
                while nextWaiting < waiting.count && runningWaiting < waitingLimit && stop.reason == nil {
                    launch(waiting[nextWaiting])
                    nextWaiting += 1
                    runningWaiting += 1
                }
                while nextWorking < working.count && runningWorking < max(1, jobs) && stop.reason == nil {
                    launch(working[nextWorking])
                    nextWorking += 1
                    runningWorking += 1
                }
            }
            // Returns nil when the run is stopped, so the loop below stops launching cells.
            group.addTask { await stop.wait(); return nil }
            fill()
            // A shard (or a selection) with no cells is complete before it starts; without this the
            // loop below would wait for the stop task, which only a stop ends.
            if cells.isEmpty { group.cancelAll() }
            while let item = await group.next() {
                guard let (index, finished) = item else {
                    group.cancelAll()
                    continue
                }
                var result = finished
                if let reason = stop.reason, ![.pass, .unsupported].contains(result.outcome) {
                    // Its peers were killed because the run stopped; what they said is not a verdict.
                    result = CellResult(cell: cells[index], outcome: .error, durationMs: result.durationMs)
                    result.reason = "stopped before it finished: \(reason)"
                    result.error = ReportError(side: .runner, stage: .timeout, message: result.reason!)
                }
                result.index = selected[index].offset
                results[index] = result
                done += 1
                if cells[index].params.network.isMostlyWaiting { runningWaiting -= 1 } else { runningWorking -= 1 }
                progress?(result, done, cells.count)
                fill()
                if done == cells.count || (stop.reason != nil && next == done) { group.cancelAll() }
            }
        }
        await workers?.shutdown()
        let finished = results.compactMap { $0 }
        let used = Set(cells.flatMap { [$0.server, $0.client] })
        var report = Report(
            startedAt: ISO8601DateFormatter().string(from: started),
            durationS: (ContinuousClock.now - clock).inSeconds,
            matrix: matrix.source,
            libraries: taking.matrix.libraryIDs.filter(used.contains).compactMap { libraries[$0] }
                .map { Report.Library(id: $0.id, name: $0.name, version: $0.version, capabilities: $0.capabilities) },
            summary: Report.Summary(results: finished),
            results: finished,
            complete: finished.count == cells.count)
        report.matrixName = matrix.name
        report.unavailableLibraries = unavailable.isEmpty ? nil : unavailable
        report.matrixCells = allCells.count
        report.matrixDigest = Shard.digest(allCells.map(\.id))
        report.shard = shard?.description
        report.stopped = stop.reason
        report.coverage = PairCoverage.of(report)
        report.coveringArrays = plans.isEmpty ? nil : CoveringArrayCoverage.counted(plans, results: finished)
        report.minimumCoverage = matrix.minimumCoverage
        var keysRemoved: Bool?
        if let directory, !keepCertificates {
            directory.remove()
            keysRemoved = !FileManager.default.fileExists(atPath: directory.url.path)
        }
        report.resources = ledger.check(keysRemoved: keysRemoved)
        return report
    }
}

/// A private temporary folder (0700) for one run's certificates and keys,
/// `$TMPDIR/interop-matrix-XXXXXX`. It records the process that owns it (`owner`: its pid and
/// start time), so a later run can remove the folders of runs that were killed before they could
/// (SIGKILL, a power cut) and leave those of live runs alone.
public struct CertificateDirectory: Sendable {
    public let url: URL

    static let prefix = "interop-matrix-"
    static let ownerFile = "owner"

    public init() throws {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("\(Self.prefix)XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "mkdtemp failed: \(String(cString: strerror(errno)))"])
        }
        url = URL(fileURLWithPath: String(cString: made))
        let pid = getpid()
        let owner = "\(pid) \(ProcessStatus(pid: pid)?.startTime ?? "?")\n"
        try Data(owner.utf8).write(to: url.appendingPathComponent(Self.ownerFile))
    }

    public func remove() { try? FileManager.default.removeItem(at: url) }

    /// Removes the key folders in `folder` (the temporary folder by default) whose owner is dead:
    /// its pid is gone, or is now another process (a different start time). A folder without an
    /// owner record (being made right now, or not ours) is left alone. Returns what it removed.
    @discardableResult
    public static func removeAbandoned(in folder: String = NSTemporaryDirectory()) -> [String] {
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            // Only mkdtemp's shape: the prefix and six characters.
            guard name.hasPrefix(prefix), name.count == prefix.count + 6 else { continue }
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent(ownerFile)) else { continue }
            let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
            guard let first = fields.first, let pid = Int32(first), pid > 0 else { continue }
            let alive = kill(pid, 0) == 0 || errno == EPERM
            if alive, fields.count < 2 || fields[1] == "?" || ProcessStatus(pid: pid)?.startTime == fields[1] { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }
}
