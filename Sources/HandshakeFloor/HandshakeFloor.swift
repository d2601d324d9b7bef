import Foundation
import PeerKit

/// The benchmark's floor: the cells' handshakes, data and close done back to back in one process,
/// server and client on two threads over loopback, with no process start-up and no runner. Each cell
/// still gets fresh engines (TLS contexts, certificates, settings), as in a real run.
///
/// Input, one cell per line: a JSON array of strings, `[server-id, client-id, N, N server
/// arguments…, client arguments…]`, the arguments as the runner gives peers; the client's `--port`
/// value is replaced by the server's port. Output, one line per cell: `ok` or `failed <why>`, then
/// at the end `cells <n> seconds <s>`.
public enum HandshakeFloor {
    /// Runs the floor over `engines` (interop-floor passes every Swift peer it links), each under
    /// its library's id.
    public static func main(engines list: [any TLSEngine.Type]) -> Never {
        let engines = Dictionary(list.map { ($0.library.id, $0) }, uniquingKeysWith: { first, _ in first })
        signal(SIGPIPE, SIG_IGN)
        var cells = 0
        var failures = 0
        let start = ContinuousClock.now
        while let line = readLine(strippingNewline: true) {
            guard let items = JSON.parseStringArray(line), items.count >= 3, let count = Int(items[2]),
                  let server = engines[items[0]], let client = engines[items[1]], items.count >= 3 + count else {
                print("failed: not a floor line: \(line.prefix(200))")
                continue
            }
            let serverArguments = Array(items[3..<(3 + count)])
            let clientArguments = Array(items[(3 + count)...])
            cells += 1
            let verdict = run(server, serverArguments, client, clientArguments)
            if verdict != "ok" { failures += 1 }
            print(verdict)
        }
        print("cells \(cells) failed \(failures) seconds \((ContinuousClock.now - start).inSeconds)")
        exit(0)
    }

    /// One cell: the server on its own thread, the client on this one.
    static func run(_ server: any TLSEngine.Type, _ serverArguments: [String], _ client: any TLSEngine.Type, _ clientArguments: [String]) -> String {
        let serverRequest: PeerRequest
        do { serverRequest = try PeerRequest(arguments: serverArguments) } catch { return "failed: server arguments: \(error.message)" }
        let listening = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let port = LockedInt()
        let serverStatus = LockedInt()
        nonisolated(unsafe) let server = server
        let thread = Thread {
            let output = PeerOutput(mode: .collect) { value in
                port.set(Int(value))
                listening.signal()
            }
            let outcome = Peer.run(server, serverRequest, output: output)
            serverStatus.set(outcome.status == .ok ? 1 : 0)
            listening.signal()
            finished.signal()
        }
        thread.start()
        listening.wait()
        guard let chosen = port.get() else {
            finished.wait()
            return "failed: the server did not listen"
        }
        var arguments = clientArguments
        if let index = arguments.firstIndex(of: "--port"), index + 1 < arguments.count { arguments[index + 1] = String(chosen) }
        let clientRequest: PeerRequest
        do {
            clientRequest = try PeerRequest(arguments: arguments)
        } catch {
            finished.wait()
            return "failed: client arguments: \(error.message)"
        }
        let outcome = Peer.run(client, clientRequest, output: PeerOutput(mode: .collect))
        finished.wait()
        switch (serverStatus.get() == 1, outcome.status) {
        case (true, .ok): return "ok"
        case (_, .unsupported): return "failed: unsupported"
        default: return "failed: server \(serverStatus.get() == 1 ? "ok" : "failed"), client \(outcome.status.rawValue)"
        }
    }
}

/// An integer two threads share (the server's port, its status).
final class LockedInt: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int?
    func set(_ new: Int) { lock.lock(); value = new; lock.unlock() }
    func get() -> Int? { lock.lock(); defer { lock.unlock() }; return value }
}
