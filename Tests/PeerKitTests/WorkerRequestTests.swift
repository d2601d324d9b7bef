import Testing
@testable import PeerKit

@Suite("Worker requests and the new options")
struct WorkerRequestTests {
    @Test("a request line is a JSON array of strings, escapes and all, and anything else is refused")
    func parse() {
        #expect(JSON.parseStringArray(#"["server","--cert","/tmp/a b/server.pem"]"#) == ["server", "--cert", "/tmp/a b/server.pem"])
        #expect(JSON.parseStringArray(#" [ "a\"b" , "c\\d\n", "\u00e9\ud83d\ude00" ] "#) == ["a\"b", "c\\d\n", "é😀"])
        #expect(JSON.parseStringArray("[]") == [])
        // What the writer produces, the reader reads back.
        let odd = ["tab\there", "quote\"", "back\\slash", "line\nbreak", "\u{01}"]
        #expect(JSON.parseStringArray(JSON.array(odd.map(JSON.string)).serialized) == odd)
        for bad in ["", "[", "[1]", #"["a",]"#, #"["a"] x"#, #"{"a":"b"}"#, #"["\x"]"#, "[\"raw\u{01}\"]"] {
            #expect(JSON.parseStringArray(bad) == nil, "accepted \(bad)")
        }
    }

    @Test("--alt-*, --resume, --transfer and --key-update parse; the alternate certificate needs all three")
    func options() throws {
        let request = try PeerRequest(arguments: ["server", "--cert", "c", "--key", "k", "--alt-name", "alt.example", "--alt-cert", "a", "--alt-key", "k",
                                                  "--resume", "session-id", "--transfer", "4194304"])
        #expect(request.alternateName == "alt.example" && request.resumption == .sessionID && request.transferBytes == 4 << 20)
        #expect(request.connections == 2)
        #expect(try PeerRequest(arguments: ["client", "--port", "1", "--key-update"]).keyUpdate)
        #expect(throws: PeerRequest.UsageError.self) { try PeerRequest(arguments: ["server", "--cert", "c", "--key", "k", "--alt-name", "x"]) }
        #expect(throws: PeerRequest.UsageError.self) { try PeerRequest(arguments: ["client", "--port", "1", "--resume", "psk"]) }
        #expect(throws: PeerRequest.UsageError.self) { try PeerRequest(arguments: ["client", "--port", "1", "--transfer", "0"]) }
    }

    @Test("the transfer pattern and digest are the documented ones")
    func pattern() {
        // Byte i is the top byte of i × 0x9E3779B97F4A7C15 (mod 2^64).
        #expect(TransferPattern.byte(at: 0) == 0)
        #expect(TransferPattern.byte(at: 1) == 0x9E)
        #expect(TransferPattern.byte(at: 2) == 0x3C)
        var digest = Digest()
        [UInt8]("a".utf8).withUnsafeBytes { digest.add($0) }
        // FNV-1a 64 of "a".
        #expect(digest.text == "fnv1a64:af63dc4c8601ec8c")
    }
}
