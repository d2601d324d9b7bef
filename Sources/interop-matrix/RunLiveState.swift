import Foundation
import InteropMatrix

/// Progress on stderr while cells run: one line rewritten in place on a terminal (cells done, failures,
/// time left), plain lines for each failure and every 25 cells otherwise.
final class Progress: @unchecked Sendable {
    private let terminal: Bool
    private let lock = NSLock()
    private let start = Date()
    private var failures = 0

    init(terminal: Bool) { self.terminal = terminal }

    func record(_ result: CellResult, done: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let bad = ![.pass, .unsupported].contains(result.outcome)
        if bad { failures += 1 }
        if terminal {
            if bad { write("\r\u{1B}[2K\(result.outcome.rawValue.uppercased()) \(result.id): \(result.reason ?? "")\n") }
            let elapsed = Date().timeIntervalSince(start)
            let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
            write("\r\u{1B}[2K[\(done)/\(total)] \(failures) not passing · \(String(format: "%.0f", eta)) s left")
        } else if bad {
            write("[\(done)/\(total)] \(result.outcome.rawValue.uppercased()) \(result.id): \(result.reason ?? "")\n")
        } else if done == total || done % 25 == 0 {
            write("[\(done)/\(total)] cells done, \(failures) not passing\n")
        }
    }

    func finish() {
        if terminal { write("\r\u{1B}[2K") }
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}

/// Turns SIGINT, SIGTERM and SIGHUP (a closed terminal, a CI job cancelled) into a stop of the
/// run, so it ends cleanly with a partial report and exits 128 + the signal's number.
final class InterruptWatch: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var signal: Int32?

    static let names: [Int32: String] = [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"]

    var received: Int32? { lock.lock(); defer { lock.unlock() }; return signal }

    init(stop: RunStop) {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            Foundation.signal(number, SIG_IGN)
            let name = Self.names[number] ?? "signal \(number)"
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                let first = self.signal == nil
                if first { self.signal = number }
                self.lock.unlock()
                guard first else { return }
                // With SIGHUP the terminal may be gone: a failed write to stderr must not matter.
                FileHandle.standardError.write(Data("\ninterop-matrix: \(name): stopping the peers and writing a partial report\n".utf8))
                stop.stop(because: "interrupted by \(name)")
            }
            source.resume()
            sources.append(source)
        }
    }
}
