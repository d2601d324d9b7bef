internal import CNIOBoringSSL
import PeerKit

/// BoringSSL's error queue in the library's own words: `library_code` is the packed code of the first
/// error in hex, the message every queued line (`ERR_error_string_n`) joined.
enum BoringSSLError {
    static func drain(context: String) -> TLSError { drainWithReason(context: context).error }

    /// Like `drain`, also returning the library and reason of the first error (0, 0 when empty).
    static func drainWithReason(context: String) -> (error: TLSError, library: Int32, reason: Int32) {
        var lines: [String] = []
        var first: UInt32 = 0
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if first == 0 { first = code }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            lines.append(String(nulTerminated: buffer))
        }
        let message = lines.isEmpty ? context : "\(context): " + lines.joined(separator: "; ")
        let error = TLSError(libraryCode: first == 0 ? nil : String(first, radix: 16, uppercase: true), message: message)
        return (error, first == 0 ? 0 : ERR_GET_LIB(first), first == 0 ? 0 : ERR_GET_REASON(first))
    }

    static func clear() { ERR_clear_error() }
}
