import Testing
@testable import PeerKit
#if canImport(Glibc)
import Glibc
#endif

@Suite("Text files read to their end")
struct TextFileTests {
    @Test("a file is read whole, a missing one is nil, and one over the limit is refused rather than cut")
    func limits() throws {
        var template = Array("/tmp/interop-matrix-text-XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        try #require(descriptor >= 0)
        let path = String(cString: template)
        defer { unlink(path) }
        let text = String(repeating: "0123456789abcdef", count: 10_000)
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
        close(descriptor)
        #expect(TextFile.text(at: path) == text)
        #expect(TextFile.text(at: path, limit: text.utf8.count) == text)
        #expect(TextFile.text(at: path, limit: text.utf8.count - 1) == nil)
        #expect(TextFile.text(at: path + ".missing") == nil)
    }
}
