import Foundation
import PeerKit

/// What a run tried of what each pair of libraries could do: per pair and dimension, the values
/// both sides support (from their capabilities) and those no cell that ran used. A cell counts as
/// having tried a value when it ran (passed, failed, timed out or crashed; not unsupported, not a
/// harness error) and the value was forced or read back as negotiated.
public struct PairCoverage: Codable, Sendable, Equatable {
    public var server: String
    public var client: String
    public var dimensions: [Dimension]
    /// Per two dimensions, the value pairs some cell both sides can run has, and those no cell
    /// that ran crossed: what one-at-a-time blocks never test together.
    public var crossings: [Crossing]?

    public struct Crossing: Codable, Sendable, Equatable {
        /// Two of `dimensionNames`, in that order.
        public var dimensions: [String]
        public var possible: Int
        public var crossed: Int
        /// The value pairs never crossed (at most `shownNeverCrossed` of them), in the registry's order.
        public var neverCrossed: [[String]]

        enum CodingKeys: String, CodingKey {
            case dimensions, possible, crossed
            case neverCrossed = "never_crossed"
        }
    }

    /// How many never-crossed value pairs a report keeps per pair and two dimensions.
    public static let shownNeverCrossed = 8

    public struct Dimension: Codable, Sendable, Equatable {
        /// `version`, `cert`, `client_auth`, `suite` or `group`.
        public var name: String
        /// How many values both sides support.
        public var supported: Int
        /// Those of them no cell tried, in the registry's order.
        public var neverTried: [String]

        enum CodingKeys: String, CodingKey {
            case name, supported
            case neverTried = "never_tried"
        }
    }

    public static let dimensionNames = ["version", "cert", "client_auth", "suite", "group"]

    /// The pairs of a report that ran at least one cell, in the report's order.
    public static func of(_ report: Report) -> [PairCoverage] {
        let capabilities = Dictionary(report.libraries.compactMap { library in library.capabilities.map { (library.id, $0) } },
                                      uniquingKeysWith: { a, _ in a })
        var order: [String] = []
        var byPair: [String: [CellResult]] = [:]
        for result in report.results {
            let pair = "\(result.server)>\(result.client)"
            if byPair[pair] == nil { order.append(pair) }
            byPair[pair, default: []].append(result)
        }
        return order.compactMap { pair in
            let results = byPair[pair]!
            guard let server = capabilities[results[0].server], let client = capabilities[results[0].client] else { return nil }
            return PairCoverage(server: results[0].server, client: results[0].client, server: server, client: client, results: results)
        }
    }

    init(server serverID: String, client clientID: String, server: PeerCapabilities, client: PeerCapabilities, results: [CellResult]) {
        self.server = serverID
        self.client = clientID
        let ran = results.filter { [.pass, .fail, .timeout, .crash].contains($0.outcome) }
        func views(_ r: CellResult) -> [ReportView] { [r.serverView, r.clientView].compactMap { $0 } }

        let versions = TLSVersion.allCases.map(\.rawValue).filter { server.versions.contains($0) && client.versions.contains($0) }
        let triedVersions = Set(ran.flatMap { r in [r.params.version.rawValue] + views(r).map(\.version.rawValue) })

        let certs = CertificateKeyType.allCases.filter { server.certificateTypes.contains($0.rawValue) && client.certificateTypes.contains($0.rawValue) }
        let triedCerts = Set(ran.map(\.params.cert.rawValue))

        let auths = ClientAuth.allCases.map(\.rawValue)
        let triedAuths = Set(ran.map(\.params.clientAuth.rawValue))

        // Suites both implement that a certificate both can use authenticates at a version both have.
        let clientSuites = Set(client.suites.map(\.code))
        let usable = versions.compactMap(TLSVersion.init(rawValue:))
        // A suite counts with a certificate and version where a scenario both sides can run may
        // force it there (`Scenario.admits`): one of each way scenarios admit suites, the
        // certificate's (every scenario but these), the static ECDH ones, and the PSK ones where
        // both peers take a TLS 1.2 pre-shared key (feature psk).
        let bothPSK = [server, client].allSatisfy { ($0.features ?? []).contains("psk") }
        let admitting: [any Scenario] = [BasicScenario(), StaticECDHScenario()] + (bothPSK ? [PreSharedKeyScenario(.matching)] : [])
        func authenticates(_ suite: CipherSuite, _ cert: CertificateKeyType, _ version: TLSVersion) -> Bool {
            admitting.contains { $0.admits(suite, cert: cert, version: version) }
        }
        let suites = server.suites.map(\.code).filter(clientSuites.contains).compactMap(CipherSuiteRegistry.suite(codeText:)).filter { suite in
            certs.contains { cert in usable.contains { authenticates(suite, cert, $0) } }
        }
        let triedSuites = Set(ran.flatMap { r in [r.params.suiteCode].compactMap { $0 } + views(r).map(\.suiteCode) })

        let groups = server.groups.filter { client.groups.contains($0) && NamedGroup.code(of: $0) != nil }
        let triedGroups = Set(ran.flatMap { r in [r.params.group].compactMap { $0 } + views(r).compactMap(\.group) })

        // The combinations both sides can run, as a block of every value would have them (a suite
        // only with a certificate that authenticates it, a group only where a cell forces one),
        // and those the cells that ran had: their forced values, or those read back.
        var possible: [[String?]] = []
        let bothGroups = groups
        for version in usable {
            let versionGroups: [String?] = bothGroups.filter { NamedGroup.applies($0, to: version) }
            for cert in certs {
                for suite in suites where authenticates(suite, cert, version) {
                    let forced = MatrixRun.groups(versionGroups, version: version, cert: cert, suite: suite)
                    for group in forced.isEmpty ? [nil] : forced {
                        possible.append([version.rawValue, cert.rawValue, nil, suite.name, group])
                    }
                }
            }
        }
        let tried: [[String?]] = ran.map { r in
            let view = views(r).first
            return [view?.version.rawValue ?? r.params.version.rawValue, r.params.cert.rawValue, r.params.clientAuth.rawValue,
                    r.params.suite ?? views(r).lazy.map(\.suite).first { CipherSuiteRegistry.suite(named: $0) != nil },
                    r.params.group ?? views(r).lazy.compactMap(\.group).first]
        }
        crossings = Self.crossings(possible: possible, auths: auths, tried: tried)

        dimensions = [
            Dimension(name: "version", supported: versions.count, neverTried: versions.filter { !triedVersions.contains($0) }),
            Dimension(name: "cert", supported: certs.count, neverTried: certs.map(\.rawValue).filter { !triedCerts.contains($0) }),
            Dimension(name: "client_auth", supported: auths.count, neverTried: auths.filter { !triedAuths.contains($0) }),
            Dimension(name: "suite", supported: suites.count, neverTried: suites.filter { !triedSuites.contains($0.codeText) }.map(\.name)),
            Dimension(name: "group", supported: groups.count, neverTried: groups.filter { !triedGroups.contains($0) }),
        ]
    }

    public func dimension(_ name: String) -> Dimension? { dimensions.first { $0.name == name } }

    /// Per two dimensions (of `dimensionNames`), the value pairs of `possible` (rows of a value per
    /// dimension, client auth left nil: every mode goes with every combination) and of those the
    /// `tried` rows lack. A nil value (no group where none applies, a value not read back) pairs
    /// with nothing.
    static func crossings(possible: [[String?]], auths: [String], tried: [[String?]]) -> [Crossing] {
        let names = dimensionNames
        let authIndex = names.firstIndex(of: "client_auth")!
        var out: [Crossing] = []
        for a in 0..<names.count {
            for b in (a + 1)..<names.count {
                var order: [[String]] = []
                var all = Set<[String]>()
                func add(_ x: String?, _ y: String?) {
                    guard let x, let y, all.insert([x, y]).inserted else { return }
                    order.append([x, y])
                }
                for row in possible {
                    if a == authIndex { for auth in auths { add(auth, row[b]) } }
                    else if b == authIndex { for auth in auths { add(row[a], auth) } }
                    else { add(row[a], row[b]) }
                }
                guard !all.isEmpty else { continue }
                let crossed = Set(tried.compactMap { row -> [String]? in
                    guard let x = row[a], let y = row[b] else { return nil }
                    return [x, y]
                }).intersection(all)
                let never = order.filter { !crossed.contains($0) }
                out.append(Crossing(dimensions: [names[a], names[b]], possible: all.count, crossed: crossed.count,
                                    neverCrossed: Array(never.prefix(shownNeverCrossed))))
            }
        }
        return out
    }
}

/// The run's crossings over every pair, per two dimensions, for summaries.
public struct CrossingSummary: Sendable {
    public struct Entry: Sendable {
        public var dimensions: [String]
        public var possible: Int
        public var crossed: Int
        /// Pairs with a value pair never crossed, and a few such value pairs with how many pairs missed them.
        public var pairsShort: Int
        public var examples: [(values: [String], pairs: Int)]

        public var name: String { dimensions.joined(separator: " × ") }
    }

    public var entries: [Entry] = []

    public init(_ pairs: [PairCoverage]) {
        for pair in pairs {
            for crossing in pair.crossings ?? [] {
                let i = entries.firstIndex { $0.dimensions == crossing.dimensions } ?? {
                    entries.append(Entry(dimensions: crossing.dimensions, possible: 0, crossed: 0, pairsShort: 0, examples: []))
                    return entries.count - 1
                }()
                entries[i].possible += crossing.possible
                entries[i].crossed += crossing.crossed
                if crossing.crossed < crossing.possible { entries[i].pairsShort += 1 }
                for values in crossing.neverCrossed {
                    if let j = entries[i].examples.firstIndex(where: { $0.values == values }) { entries[i].examples[j].pairs += 1 }
                    else { entries[i].examples.append((values, 1)) }
                }
            }
        }
        for i in entries.indices {
            entries[i].examples = entries[i].examples.enumerated().sorted { ($0.element.pairs, -$0.offset) > ($1.element.pairs, -$1.offset) }.map(\.element)
        }
    }

    public var possible: Int { entries.reduce(0) { $0 + $1.possible } }
    public var crossed: Int { entries.reduce(0) { $0 + $1.crossed } }

    /// One line for the terminal: the share of value pairs crossed, and the least crossed dimensions.
    public var line: String? {
        guard possible > 0 else { return nil }
        let gaps = entries.filter { $0.crossed < $0.possible }.sorted { Double($0.crossed) / Double($0.possible) < Double($1.crossed) / Double($1.possible) }
        let shown = gaps.prefix(4).map { "\($0.name) \($0.crossed)/\($0.possible)" }
        return "crossings: \(CoveringArraySummary.percent(Double(crossed) / Double(possible))) of the value pairs both sides of a pair support were crossed in a cell"
            + (shown.isEmpty ? "" : " (least: " + shown.joined(separator: ", ") + "; the report's Never crossed names them)")
    }
}

/// The whole run's coverage in a few numbers, for summaries.
public struct CoverageSummary: Sendable {
    /// Per dimension: values supported by both sides summed over the pairs, and those never tried.
    public var supported: [String: Int] = [:]
    public var neverTried: [String: Int] = [:]
    /// Per dimension, the values never tried, most often missed first, each with how many pairs
    /// support it and never tried it.
    public var neverTriedValues: [String: [(value: String, pairs: Int)]] = [:]

    public init(_ pairs: [PairCoverage]) {
        for name in PairCoverage.dimensionNames {
            let dimensions = pairs.compactMap { $0.dimension(name) }
            supported[name] = dimensions.reduce(0) { $0 + $1.supported }
            neverTried[name] = dimensions.reduce(0) { $0 + $1.neverTried.count }
            var counts: [String: Int] = [:]
            var first: [String] = []
            for value in dimensions.flatMap(\.neverTried) {
                if counts[value] == nil { first.append(value) }
                counts[value, default: 0] += 1
            }
            neverTriedValues[name] = first.enumerated()
                .sorted { (counts[$0.element]!, -$0.offset) > (counts[$1.element]!, -$1.offset) }
                .map { (value: $0.element, pairs: counts[$0.element]!) }
        }
    }

    /// The share of supported values tried, over every pair and dimension (1 when nothing is supported).
    public var tried: Double {
        let total = supported.values.reduce(0, +)
        return total == 0 ? 1 : Double(total - neverTried.values.reduce(0, +)) / Double(total)
    }

    /// One line for the terminal: how much was never tried, per dimension.
    public var line: String {
        let parts = PairCoverage.dimensionNames.compactMap { name -> String? in
            guard let never = neverTried[name], let all = supported[name], all > 0 else { return nil }
            return "\(name) \(all - never)/\(all)"
        }
        return String(format: "coverage: %.0f%% of the values both sides of a pair support were tried (", tried * 100) + parts.joined(separator: ", ") + ")"
    }
}

/// For one t-way block, pair and scenario: how many of the t-tuples its covering array covers were
/// exercised by a cell that ran (passed, failed, timed out or crashed). A cell that did not run
/// (a harness error, a stopped or filtered run, another shard) covers nothing, so a complete run
/// shows 100% and anything less names what the run lost.
public struct CoveringArrayCoverage: Codable, Sendable, Equatable {
    public var block: String
    public var scenario: String
    public var server: String
    public var client: String
    public var strength: Int
    /// The distinct t-tuples of the combinations the pair can run: what the chosen cells cover.
    public var tuples: Int
    /// Of them, those covered by cells that ran (0 until `counted`).
    public var covered: Int
    /// The covering array's cell ids, in the block's order: what `merge` counts again over every
    /// shard's results.
    public var cells: [String]

    public var share: Double { tuples == 0 ? 1 : Double(covered) / Double(tuples) }

    /// The entries (as the expansion plans them, or as a shard counted them) with the tuples
    /// that `results` (those that ran; a merge's, of every shard) cover.
    public static func counted(_ entries: [CoveringArrayCoverage], results: [CellResult]) -> [CoveringArrayCoverage] {
        let ran = Dictionary(results.filter { [.pass, .fail, .timeout, .crash].contains($0.outcome) }.map { ($0.id, $0.params) },
                             uniquingKeysWith: { a, _ in a })
        return entries.map { entry in
            var counted = entry
            counted.covered = CoveringArray.tupleCount(of: entry.cells.compactMap { ran[$0]?.coverageRow }, strength: entry.strength)
            return counted
        }
    }

    /// `pairwise`, `3-way`.
    public var strengthName: String { Coverage.strength(strength).description }
}

/// The covering arrays of a run per block and strength, for summaries.
public struct CoveringArraySummary: Sendable, Equatable {
    public struct Block: Sendable, Equatable {
        public var block: String
        public var strength: String
        /// Pair and scenario entries, and those whose run covered less than all their tuples.
        public var entries: Int
        public var short: [CoveringArrayCoverage]
        public var tuples: Int
        public var covered: Int
        public var share: Double { tuples == 0 ? 1 : Double(covered) / Double(tuples) }
    }

    public var blocks: [Block] = []

    public init(_ entries: [CoveringArrayCoverage]) {
        for entry in entries {
            if let i = blocks.firstIndex(where: { $0.block == entry.block && $0.strength == entry.strengthName }) {
                blocks[i].entries += 1
                blocks[i].tuples += entry.tuples
                blocks[i].covered += entry.covered
                if entry.covered < entry.tuples { blocks[i].short.append(entry) }
            } else {
                blocks.append(Block(block: entry.block, strength: entry.strengthName, entries: 1,
                                    short: entry.covered < entry.tuples ? [entry] : [], tuples: entry.tuples, covered: entry.covered))
            }
        }
    }

    /// One line for the terminal, per block: the share of its t-tuples the run covered.
    public var line: String? {
        guard !blocks.isEmpty else { return nil }
        let parts = blocks.map { b in
            "\(b.block) (\(b.strength)) \(Self.percent(b.share)) of \(b.tuples) tuples over \(b.entries) pairs"
                + (b.short.isEmpty ? "" : ", \(b.short.count) short of 100%")
        }
        return "covering arrays: " + parts.joined(separator: "; ")
    }

    /// A share as a percentage with one decimal, rounded down: 99.96% is not shown as 100%.
    public static func percent(_ share: Double) -> String {
        String(format: "%.1f%%", floor(share * 1000) / 10)
    }
}
