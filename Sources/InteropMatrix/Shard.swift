/// One of N deterministic slices of a matrix (`--shard K/N`): a cell belongs to the shard its id
/// hashes to, so the same cell always lands in the same shard whatever machine runs it.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 1-based.
    public var index: Int
    public var count: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 10_000, k >= 1, k <= n else { return nil }
        index = k
        count = n
    }

    public var description: String { "\(index)/\(count)" }

    public func contains(_ id: String) -> Bool { Int(Shard.hash(id) % UInt64(count)) == index - 1 }

    /// FNV-1a, 64 bits: stable across runs, machines and Swift versions (unlike `Hasher`).
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        return value
    }

    /// A digest of a matrix's cell ids in order: equal digests mean the same cells.
    public static func digest(_ ids: [String]) -> String {
        let hex = String(hash(ids.joined(separator: "\n")), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
