import Foundation
import Synchronization

/// What a run left behind, checked at its end and written into the report: open descriptors of the
/// runner before and after, processes of any peer's process group still alive, loopback ports a
/// peer listened on that still listen, and whether the private keys were removed.
public struct ResourceCheck: Codable, Sendable, Equatable {
    public var descriptorsBefore: Int
    public var descriptorsAfter: Int
    public var processesLeft: [Int32]
    public var listeningPortsLeft: [Int]
    /// nil when the certificates were kept on purpose (`--keep-certs`, `--artifacts`, `--certs`).
    public var keysRemoved: Bool?

    enum CodingKeys: String, CodingKey {
        case descriptorsBefore = "descriptors_before"
        case descriptorsAfter = "descriptors_after"
        case processesLeft = "processes_left"
        case listeningPortsLeft = "listening_ports_left"
        case keysRemoved = "keys_removed"
    }

}

/// Records every peer process group and listening port of a run, to check at its end that none is left.
public final class ResourceLedger: Sendable {
    private let groups = Mutex<Set<Int32>>([])
    private let ports = Mutex<Set<Int>>([])
    private let before = Mutex(0)

    public init() {}

    /// Counts the runner's open descriptors as the cells start (after the one-time setup that
    /// spawning and certificate generation do).
    public func markStart() { before.withLock { $0 = Self.openDescriptors() } }

    func peerStarted(processGroup: Int32) { groups.withLock { _ = $0.insert(processGroup) } }
    func portListened(_ port: UInt16) { ports.withLock { _ = $0.insert(Int(port)) } }

    public func check(keysRemoved: Bool?) -> ResourceCheck {
        let groups = self.groups.withLock { $0 }
        let ports = self.ports.withLock { $0 }
        return ResourceCheck(descriptorsBefore: before.withLock { $0 }, descriptorsAfter: Self.openDescriptors(),
                             processesLeft: Self.processes(inGroups: groups), listeningPortsLeft: Self.listening(among: ports).sorted(),
                             keysRemoved: keysRemoved)
    }

    static func openDescriptors() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }

    /// Live processes whose process group is one a peer led (a peer's children included).
    static func processes(inGroups groups: Set<Int32>) -> [Int32] {
        guard !groups.isEmpty else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> Int32? in
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // Fields after the command: state, ppid, pgrp.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let group = Int32(fields[2]) else { return nil }
            return groups.contains(group) ? pid : nil
        }.sorted()
    }

    /// Which of `ports` are still in LISTEN state on IPv4 (`/proc/net/tcp`, state 0A).
    static func listening(among ports: Set<Int>) -> Set<Int> {
        guard !ports.isEmpty, let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return [] }
        var found = Set<Int>()
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 3, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                  let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16) else { continue }
            if ports.contains(port) { found.insert(port) }
        }
        return found
    }
}
