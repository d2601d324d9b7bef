import Foundation
import PeerKit
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
    private let executables = Mutex<Set<String>>([])
    private let before = Mutex(0)

    public init() {}

    /// Counts the runner's open descriptors as the cells start (after the one-time setup that
    /// spawning and certificate generation do).
    public func markStart() { before.withLock { $0 = Self.openDescriptors() } }

    func peerStarted(processGroup: Int32, executable: String) {
        groups.withLock { _ = $0.insert(processGroup) }
        executables.withLock { _ = $0.insert(executable) }
    }
    func portListened(_ port: UInt16) { ports.withLock { _ = $0.insert(Int(port)) } }

    public func check(keysRemoved: Bool?) -> ResourceCheck {
        let groups = self.groups.withLock { $0 }
        let ports = self.ports.withLock { $0 }
        return ResourceCheck(descriptorsBefore: before.withLock { $0 }, descriptorsAfter: Self.openDescriptors(),
                             processesLeft: Self.processes(inGroups: groups), listeningPortsLeft: Self.listening(among: ports, ownedByOneOf: executables.withLock { $0 }).sorted(),
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
            guard let pid = Int32(name), let group = ProcessStatus(pid: pid)?.processGroup else { return nil }
            return groups.contains(group) ? pid : nil
        }.sorted()
    }

    /// Which of `ports` are still in LISTEN state on IPv4 (`/proc/net/tcp`, state 0A) in a process
    /// running one of this run's peer executables. (Another program may well listen on a port
    /// number a peer used earlier: with thousands of cells, most ephemeral ports were once a peer's.)
    static func listening(among ports: Set<Int>, ownedByOneOf executables: Set<String>) -> Set<Int> {
        guard !ports.isEmpty, let table = TextFile.text(at: "/proc/net/tcp") else { return [] }
        var candidates: [String: Int] = [:]
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                  let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16), ports.contains(port) else { continue }
            candidates["socket:[\(fields[9])]"] = port
        }
        guard !candidates.isEmpty else { return [] }
        var found = Set<Int>()
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(pid) != nil {
            guard let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  let first = command.split(separator: 0, omittingEmptySubsequences: false).first,
                  executables.contains(String(decoding: first, as: UTF8.self)) else { continue }
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [] {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"), let port = candidates[target] {
                    found.insert(port)
                }
            }
        }
        return found
    }
}
