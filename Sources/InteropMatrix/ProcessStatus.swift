import Foundation
import PeerKit

/// One process as Linux describes it in `/proc/PID/stat` (proc(5)): the fields after the command
/// name, which is in parentheses and may itself hold spaces and parentheses.
struct ProcessStatus {
    /// Fields 3 onwards: state, ppid, pgrp, … (`fields[0]` is field 3).
    private let fields: [Substring]

    init?(pid: Int32) {
        guard let stat = TextFile.text(at: "/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return nil }
        fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
    }

    /// `R`, `S`, `Z` (a zombie), `X` (dead), ….
    var state: Substring { fields[0] }
    var isAlive: Bool { state != "Z" && state != "X" }
    /// Field 5.
    var processGroup: Int32? { Int32(fields[2]) }
    /// Field 22, clock ticks since boot: with the pid, it names one process even after the pid is reused.
    var startTime: String { String(fields[19]) }
}
