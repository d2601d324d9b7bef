import Foundation
import Testing
@testable import InteropMatrix

@Suite("Resource ledger")
struct ResourceLedgerTests {
    @Test("a peer still listening is found, by its port and its executable, and gone once it is killed")
    func listeningPeer() async throws {
        let runner = try await Fixture.shared.runner()
        let set = try #require(runner.certificates[.ecdsaP256])
        let executable = Fixture.shared.peerDirectory + "/peer-openssl"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["server", "--cert", set.serverCertificate, "--key", set.serverKey, "--timeout-ms", "20000"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // SIGKILL: a child Foundation starts from a task inherits a blocked signal mask, so SIGTERM waits.
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let line = try await offPool { output.fileHandleForReading.availableData }
        let text = String(decoding: line, as: UTF8.self)
        let port = try #require(text.split(separator: ":").last.flatMap { Int($0.filter(\.isNumber)) })

        let ledger = ResourceLedger()
        ledger.portListened(UInt16(port))
        // Not one of this run's executables: another program's socket, not a leftover.
        #expect(ledger.check(keysRemoved: nil).listeningPortsLeft.isEmpty)
        ledger.peerStarted(processGroup: process.processIdentifier, executable: executable)
        #expect(ledger.check(keysRemoved: nil).listeningPortsLeft == [port])
        kill(process.processIdentifier, SIGKILL)
        try await offPool { process.waitUntilExit() }
        #expect(ledger.check(keysRemoved: nil).listeningPortsLeft.isEmpty)
    }
}
