import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// Every t-tuple (t values from t different dimensions) of some rows.
private func tuples(_ rows: [[String]], _ t: Int) -> Set<[String]> {
    var out = Set<[String]>()
    for row in rows {
        for dims in CoveringArray.combinations(of: row.count, taking: t) {
            out.insert(dims.flatMap { ["\($0)", row[$0]] })
        }
    }
    return out
}

@Suite("Covering arrays")
struct CoveringArrayTests {
    /// A product of dimensions with a constraint, as a matrix block's are: the third value only
    /// with some of the first's.
    static let candidates: [[String]] = {
        var rows: [[String]] = []
        for a in ["a1", "a2", "a3", "a4"] {
            for b in ["b1", "b2", "b3"] {
                for c in ["c1", "c2", "c3", "c4", "c5"] where !(c == "c5" && a != "a4") {
                    for d in ["d1", "d2"] {
                        for e in ["e1", "e2", "e3"] { rows.append([a, b, c, d, e]) }
                    }
                }
            }
        }
        return rows
    }()

    @Test("pairwise and 3-way choices cover every tuple the candidates have, with far fewer rows", arguments: [2, 3])
    func coversEveryTuple(strength: Int) {
        let rows = Self.candidates
        let array = CoveringArray(candidates: rows, strength: strength)
        let chosen = array.chosen.map { rows[$0] }
        #expect(tuples(chosen, strength) == tuples(rows, strength))
        #expect(array.covered == array.tuples && array.tuples == tuples(rows, strength).count)
        #expect(chosen.count < rows.count / (strength == 2 ? 8 : 2), "\(chosen.count) of \(rows.count)")
        // No row outside the candidates: a constraint is never broken to cover a tuple.
        #expect(!chosen.contains { $0[2] == "c5" && $0[0] != "a4" })
    }

    @Test("pairwise over four dimensions of three values needs at least 9 rows, and greedy stays near it")
    func nearTheBound() {
        let values = ["0", "1", "2"]
        let rows = values.flatMap { a in values.flatMap { b in values.flatMap { c in values.map { d in [a, b, c, d] } } } }
        let array = CoveringArray(candidates: rows, strength: 2)
        #expect(array.chosen.count >= 9 && array.chosen.count <= 13, "\(array.chosen.count)")
        #expect(tuples(array.chosen.map { rows[$0] }, 2).count == 54)
    }

    @Test("the lazy greedy takes exactly the rows plain greedy takes (most new tuples, earliest on a tie)", arguments: [2, 3])
    func sameAsPlainGreedy(strength: Int) {
        let rows = Self.candidates
        var uncovered = tuples(rows, strength)
        var picks: [Int] = []
        while !uncovered.isEmpty {
            var best = -1, bestGain = 0
            for (index, row) in rows.enumerated() {
                let gain = tuples([row], strength).intersection(uncovered).count
                if gain > bestGain { best = index; bestGain = gain }
            }
            picks.append(best)
            uncovered.subtract(tuples([rows[best]], strength))
        }
        #expect(CoveringArray(candidates: rows, strength: strength).chosen == picks.sorted())
    }

    @Test("the same candidates give the same rows, in the candidates' order")
    func deterministic() {
        let one = CoveringArray(candidates: Self.candidates, strength: 2).chosen
        let two = CoveringArray(candidates: Self.candidates, strength: 2).chosen
        #expect(one == two && one == one.sorted())
    }

    @Test("one candidate, no candidates, and a dimension of one value need no special case")
    func edges() {
        #expect(CoveringArray(candidates: [], strength: 2).chosen.isEmpty)
        #expect(CoveringArray(candidates: [["x", "y"]], strength: 2).chosen == [0])
        let rows = [["a", "n"], ["b", "n"], ["c", "n"]]
        #expect(CoveringArray(candidates: rows, strength: 2).chosen == [0, 1, 2])
    }
}

@Suite("coverage: in matrix blocks")
struct CoverageBlockTests {
    static let yaml = """
    libraries: [one, two]
    cross:
      - name: crossed
        versions: [TLS1.2, TLS1.3]
        suites: all
        certs: [rsa2048, ecdsa-p256]
        client_auth: [none, optional, required]
    """

    static func library(_ id: String, suites: [String], groups: [String] = ["x25519"], notReadable: [String] = []) throws -> PeerLibrary {
        let list = suites.map { #"{"code":"\#($0)","library_name":"\#($0)"}"# }.joined(separator: ",")
        let line = """
        {"library":{"id":"\(id)","name":"\(id)","version":"1"},"versions":["TLS1.2","TLS1.3"],"default_versions":["TLS1.2","TLS1.3"],
         "suites":[\(list)],"groups":\(groups),"certificate_types":["rsa2048","ecdsa-p256"],"notes":[],"features":[],"not_readable":\(notReadable)}
        """
        return PeerLibrary(id: id, executable: "/nonexistent/peer-\(id)", capabilities: try JSONDecoder().decode(PeerCapabilities.self, from: Data(line.utf8)))
    }

    @Test("a pairwise block has fewer cells than the full one and every value pair of those the pair can run")
    func pairwiseBlock() throws {
        let one = try Self.library("one", suites: ["0x1301", "0x1302", "0xC02F", "0xC030", "0xC02B", "0x009C"])
        let two = try Self.library("two", suites: ["0x1301", "0x1303", "0xC02F", "0xC02B", "0xC02C", "0x009C"])
        let libraries = ["one": one, "two": two]
        let full = MatrixRun(matrix: try MatrixFile(yaml: Self.yaml, source: "m.yml")).cells(libraries: libraries)
        let pairwise = MatrixRun(matrix: try MatrixFile(yaml: Self.yaml + "\n    coverage: pairwise\n", source: "m.yml")).cells(libraries: libraries)
        let planner = CellRunner(libraries: libraries, certificates: [:], timeout: .seconds(1))
        for (server, client) in [("one", "two"), ("two", "one"), ("one", "one")] {
            let runnable = full.filter { $0.server == server && $0.client == client && planner.unsupportedReason($0) == nil }
            let chosen = pairwise.filter { $0.server == server && $0.client == client }
            #expect(!chosen.isEmpty && chosen.count < runnable.count, "\(server)>\(client): \(chosen.count) of \(runnable.count)")
            #expect(tuples(chosen.map(\.coverageRow), 2) == tuples(runnable.map(\.coverageRow), 2), "\(server)>\(client)")
            // Only what both sides implement: no covering cell is spent on an unsupported one.
            #expect(chosen.allSatisfy { planner.unsupportedReason($0) == nil })
        }
        // The suites only one side has are in the full block (as unsupported cells), never in the pairwise one.
        #expect(full.contains { $0.server == "one" && $0.client == "two" && $0.params.suiteCode == "0xC030" })
        #expect(!pairwise.contains { $0.server == "one" && $0.client == "two" && $0.params.suiteCode == "0xC030" })
    }

    @Test("a pair where neither side reads the group back crosses its suites, certificates and modes with the default groups")
    func pairWithoutGroupReadBack() throws {
        let suites = ["0x1301", "0x1302", "0xC02F", "0xC02B", "0x009C"]
        let blind = try Self.library("blind", suites: suites, groups: ["x25519", "secp256r1"], notReadable: ["group"])
        let seeing = try Self.library("seeing", suites: suites, groups: ["x25519", "secp256r1"])
        let yaml = Self.yaml + "\n    groups: all\n    coverage: pairwise\n"
        let cells = MatrixRun(matrix: try MatrixFile(yaml: yaml.replacingOccurrences(of: "[one, two]", with: "[blind, seeing]"), source: "m.yml"))
            .cells(libraries: ["blind": blind, "seeing": seeing])
        let planner = CellRunner(libraries: ["blind": blind, "seeing": seeing], certificates: [:], timeout: .seconds(1))
        #expect(cells.allSatisfy { planner.unsupportedReason($0) == nil })
        let blindPair = cells.filter { $0.server == "blind" && $0.client == "blind" }
        // No forced group (none could be seen in effect), yet every suite, certificate and mode.
        #expect(!blindPair.isEmpty && blindPair.allSatisfy { $0.params.group == nil })
        #expect(Set(blindPair.compactMap(\.params.suiteCode)) == Set(suites))
        #expect(Set(blindPair.map(\.params.clientAuth)) == Set(ClientAuth.allCases))
        #expect(tuples(blindPair.map(\.coverageRow), 2).count > 0)
        // A pair with one side that reads the group still forces every group.
        let mixed = cells.filter { $0.server == "blind" && $0.client == "seeing" }
        #expect(Set(mixed.compactMap(\.params.group)) == ["x25519", "secp256r1"])
    }

    @Test("coverage is inherited from the top level, and an unknown value names the choices")
    func parsing() throws {
        let file = try MatrixFile(yaml: "libraries: [one]\ncoverage: 3-way\ncross:\n  - name: a\n  - name: b\n    coverage: full\n", source: "m.yml")
        #expect(file.blocks.map(\.coverage) == [.strength(3), .full])
        #expect {
            _ = try MatrixFile(yaml: "libraries: [one]\ncoverage: 4-way\n", source: "m.yml")
        } throws: { "\($0)".contains("m.yml:2") && "\($0)".contains("pairwise") }
    }
}
