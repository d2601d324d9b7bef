import Foundation

/// Where a run keeps what a person needs to look into a cell again (`--artifacts DIR`): the
/// certificates (`DIR/certs`, keys 0600), and per cell `DIR/cells/<cell>/` with both peers' logs,
/// an NSS key log of the session secrets (Wireshark's SSLKEYLOGFILE format), the cell's result and
/// a `replay.sh`. Cells that passed are removed unless `keepAll`.
public struct ArtifactStore: Sendable {
    public var root: URL
    public var keepAll: Bool

    public init(root: URL, keepAll: Bool) {
        self.root = root
        self.keepAll = keepAll
    }

    public var certificates: URL { root.appendingPathComponent("certs") }

    public func folder(for id: String) -> URL {
        let safe = id.replacingOccurrences(of: ">", with: "-to-").replacingOccurrences(of: "/", with: "__")
        return root.appendingPathComponent("cells").appendingPathComponent(safe)
    }

    /// Makes the cell's folder before its peers start (they write the key log into it).
    func prepare(_ id: String) -> URL? {
        let folder = folder(for: id)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return folder
        } catch {
            return nil
        }
    }

    /// Writes the cell's logs, result and replay script, or removes the folder of a passed cell.
    func finish(_ result: CellResult, serverLog: String, clientLog: String, peerCommands: [String]) {
        let folder = folder(for: result.id)
        guard keepAll || ![.pass, .unsupported].contains(result.outcome) else {
            try? FileManager.default.removeItem(at: folder)
            return
        }
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? Data(serverLog.utf8).write(to: folder.appendingPathComponent("server.log"))
        try? Data(clientLog.utf8).write(to: folder.appendingPathComponent("client.log"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(result) { try? data.write(to: folder.appendingPathComponent("result.json")) }
        // Every line is fixed text or a single-quoted word: a cell id, a path or a log may hold a
        // newline, and in a comment it would start a command of its own.
        var script = ["#!/bin/sh", "# Re-runs one cell with the same certificates, through the runner (the last line).",
                      "# Or run the two peers by hand: start the server, read the port from its first line,",
                      "# start the client with it in place of PORT (the commands are below, quoted).",
                      "cell=" + shellQuoted(result.id)]
        for (name, command) in zip(["server_command", "client_command"], peerCommands) {
            script.append(name + "=" + shellQuoted(command))
        }
        // The replay command is made of shell-quoted words (CellRunner), so it runs as it reads.
        script.append(result.replay ?? "")
        let path = folder.appendingPathComponent("replay.sh")
        try? Data((script.joined(separator: "\n") + "\n").utf8).write(to: path)
        chmod(path.path, 0o755)
    }
}

/// Quotes a word for a POSIX shell.
func shellQuoted(_ word: String) -> String {
    if !word.isEmpty, word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:@%+,".contains($0) }) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
