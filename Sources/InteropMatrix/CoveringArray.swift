/// How much of a block's cross a run makes (`coverage:` in a matrix block).
public enum Coverage: Sendable, Equatable, CustomStringConvertible {
    /// Every combination of the block's values.
    case full
    /// A t-way covering array: every combination of t values (from t different dimensions) that
    /// some runnable cell of the pair has is in at least one cell; 2 is pairwise.
    case strength(Int)

    public init?(_ text: String) {
        switch text {
        case "full": self = .full
        case "pairwise", "2-way": self = .strength(2)
        case "3-way": self = .strength(3)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .full: "full"
        case .strength(2): "pairwise"
        case .strength(let t): "\(t)-way"
        }
    }

    public static let names = ["full", "pairwise", "3-way"]
}

/// A t-way covering array chosen from a list of candidate rows, each a value per dimension.
///
/// The candidates are every combination the constraints allow (a suite only with a certificate
/// that can authenticate it, a group only where it applies, both sides able to run it), so the
/// tuples to cover are those that occur in some candidate, and no row is ever an impossible one.
/// Greedy, in the manner of AETG and IPOG's horizontal step: each pick is the candidate that
/// covers the most tuples not yet covered, the earliest on a tie, so the same candidates give the
/// same rows on every machine (shards and baselines rely on it).
public struct CoveringArray: Sendable {
    /// The indexes of the chosen candidates, in the candidates' order.
    public let chosen: [Int]
    /// How many distinct t-tuples the candidates have, and how many the chosen rows cover.
    public let tuples: Int
    public let covered: Int

    /// Chooses from `candidates` (equal-length rows of values) rows covering every t-tuple.
    public init(candidates: [[String]], strength t: Int) {
        let rowTuples = Self.rowTuples(of: candidates, strength: t)
        var uncovered = Set(rowTuples.joined())
        let total = uncovered.count
        // Lazy greedy: a candidate's gain only falls as rows are chosen, so a heap of gains found
        // earlier is re-checked at the top only. A candidate whose fresh gain still beats the next
        // one's older gain (ties to the earlier index) is the one plain greedy would take.
        var heap = GainHeap(rowTuples.indices.map { (gain: rowTuples[$0].count, index: $0) })
        var picks: [Int] = []
        while !uncovered.isEmpty, let top = heap.pop() {
            let gain = rowTuples[top.index].reduce(0) { $0 + (uncovered.contains($1) ? 1 : 0) }
            guard gain > 0 else { continue }
            if let next = heap.peek, GainHeap.before(next, (gain, top.index)) {
                heap.push((gain, top.index))
                continue
            }
            picks.append(top.index)
            uncovered.subtract(rowTuples[top.index])
        }
        chosen = picks.sorted()
        tuples = total
        covered = total - uncovered.count
    }

    /// How many distinct t-tuples (t values from t different dimensions) `rows` have together.
    public static func tupleCount(of rows: [[String]], strength t: Int) -> Int {
        Set(rowTuples(of: rows, strength: t).joined()).count
    }

    /// Each row's distinct t-tuples, each a number: every (dimension, value) gets a number, and a
    /// tuple is its t numbers packed in one integer (the same numbers for the same rows).
    static func rowTuples(of rows: [[String]], strength t: Int) -> [[Int]] {
        var ids: [String: Int] = [:]
        func id(_ dimension: Int, _ value: String) -> Int {
            let key = "\(dimension)\u{1}\(value)"
            if let known = ids[key] { return known }
            ids[key] = ids.count
            return ids.count - 1
        }
        let encoded = rows.map { row in row.enumerated().map { id($0.offset, $0.element) } }
        let width = rows.first?.count ?? 0
        let combinations = combinations(of: width, taking: max(1, min(t, width)))
        return encoded.map { row in
            Array(Set(combinations.map { dims in dims.reduce(0) { $0 &* 1_000_003 &+ row[$1] &+ 1 } }))
        }
    }

    /// Every way to pick `k` of `n` dimensions, in increasing order.
    static func combinations(of n: Int, taking k: Int) -> [[Int]] {
        guard k > 0, k <= n else { return k == 0 ? [[]] : [] }
        var out: [[Int]] = []
        var current: [Int] = []
        func walk(_ from: Int) {
            if current.count == k { out.append(current); return }
            guard from < n else { return }
            for next in from..<n where n - next >= k - current.count {
                current.append(next)
                walk(next + 1)
                current.removeLast()
            }
        }
        walk(0)
        return out
    }
}

/// A max-heap of candidates by gain, the earlier index first on equal gains.
struct GainHeap {
    typealias Entry = (gain: Int, index: Int)
    private var items: [Entry]

    init(_ entries: [Entry]) {
        items = entries
        for i in stride(from: items.count / 2 - 1, through: 0, by: -1) { down(i) }
    }

    /// Whether `a` comes out before `b`.
    static func before(_ a: Entry, _ b: Entry) -> Bool { a.gain != b.gain ? a.gain > b.gain : a.index < b.index }

    var peek: Entry? { items.first }

    mutating func push(_ entry: Entry) {
        items.append(entry)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        if !items.isEmpty { down(0) }
        return top
    }

    private mutating func down(_ start: Int) {
        var i = start
        while true {
            var best = i
            for child in [2 * i + 1, 2 * i + 2] where child < items.count && Self.before(items[child], items[best]) { best = child }
            guard best != i else { return }
            items.swapAt(i, best)
            i = best
        }
    }
}
