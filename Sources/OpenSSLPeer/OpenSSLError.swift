internal import CShimOpenSSL
import PeerKit

/// OpenSSL's error queue, drained into the library's own words: `library_code` is the packed code of
/// the first error (as `openssl errstr` takes it), the message every queued line joined.
enum OpenSSLError {
    static func drain(context: String) -> TLSError { drainWithReason(context: context).error }

    /// Like `drain`, also returning `ERR_GET_REASON` of the first error (0 when the queue was empty).
    static func drainWithReason(context: String) -> (error: TLSError, reason: Int32) {
        var lines: [String] = []
        var first: UInt = 0
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
        return (error, first == 0 ? 0 : ERR_GET_REASON(first))
    }

    /// Clears what earlier calls left in the queue so a failure reports only its own errors.
    static func clear() { ERR_clear_error() }
}
