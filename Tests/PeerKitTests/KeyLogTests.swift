import Foundation
import PeerKit
import Testing

@Suite("Key log")
struct KeyLogTests {
    @Test("a --keylog that cannot be opened fails the peer at setup, with the system's reason")
    func unopenableKeyLog() throws {
        let request = try PeerRequest(arguments: ["client", "--port", "1", "--keylog", "/nonexistent-folder/keys.log"])
        #expect {
            _ = try KeyLog.opened(for: request)
        } throws: { error in
            guard let failure = error as? PeerFailure else { return false }
            return failure.stage == .setup && failure.error.message.contains("/nonexistent-folder/keys.log") && failure.error.message.contains("No such file or directory")
        }
    }

    @Test("no --keylog, no key log; a writable path is opened")
    func keyLogOpened() throws {
        #expect(try KeyLog.opened(for: PeerRequest(arguments: ["client", "--port", "1"])) == nil)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keylog-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try KeyLog.opened(for: PeerRequest(arguments: ["client", "--port", "1", "--keylog", path])) != nil)
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
