internal import CShimWolfSSL
import PeerKit

/// The wolfSSL peer: one `WOLFSSL_CTX` per cell and one `WOLFSSL` per connection, driven through
/// `wolfSSL_connect` / `wolfSSL_accept` / `wolfSSL_read` / `wolfSSL_write` on a non-blocking socket.
public final class WolfSSLEngine: TLSEngine {
    public static var library: LibraryIdentity {
        LibraryIdentity(id: "wolfssl", name: "wolfSSL", version: String(cString: wolfSSL_lib_version()))
    }

    /// wolfSSL_Init once per process, before any context.
    private static let initialized: Bool = wolfSSL_Init() == WOLFSSL_SUCCESS

    private let request: PeerRequest
    private let context: WolfSSLContext
    private var connection: WolfSSLConnection?
    /// The client's session from its previous connection, offered on the next (`--resume`).
    private var savedSession: WolfSSLSession?

    public required init(request: PeerRequest) throws {
        guard Self.initialized else { throw PeerFailure(stage: .setup, message: "wolfSSL_Init failed") }
        self.request = request
        context = try WolfSSLContext(request: request)
    }

    public func attach(socket descriptor: Int32) throws(PeerFailure) {
        connection = nil
        connection = try WolfSSLConnection(context: context, descriptor: descriptor, request: request, resuming: savedSession)
    }

    public func handshake() -> AsyncOperationResult<Void> { connection!.handshake() }
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> { connection!.read(into: buffer) }
    public func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> { connection!.write(bytes) }
    public func closeNotify() -> AsyncOperationResult<Void> { connection!.shutdown() }
    public func closeAfterFailure() -> AsyncOperationResult<Void> { connection!.shutdownAfterFailure() }
    // No cancelHandshake: wolfSSL 5.5.4 has no public call that sends an alert of the caller's choice.
    public func negotiated() -> NegotiatedView { connection!.negotiated() }
    public func keepSessionForResumption() throws(PeerFailure) { savedSession = try connection!.resumableSession() }
    public func requestKeyUpdate() -> AsyncOperationResult<Void> { connection!.requestKeyUpdate() }
    // keyUpdates() stays nil: wolfSSL 5.5.4's message callback (wolfSSL_set_msg_callback) is not
    // called for TLS 1.3 KeyUpdate messages either way (tried: zero counts while the OpenSSL side
    // counted one each way), and it has no other hook that sees them.

    public static func capabilities() -> Capabilities {
        _ = initialized
        return WolfSSLCapabilities.read()
    }
}

/// A wolfSSL error in the library's own words (`wolfSSL_ERR_error_string_n`), with its code.
enum WolfSSLError {
    static func make(_ code: Int32, _ operation: String) -> TLSError {
        TLSError(libraryCode: String(code), message: "\(operation): \(text(UInt(bitPattern: Int(code)))) (\(code))")
    }

    /// The oldest error on wolfSSL's (per-thread) error queue, for calls that return only failure.
    /// wolfSSL queues its negative codes negated; the text is the library's either way.
    static func queue(_ operation: String) -> TLSError {
        let code = wolfSSL_ERR_get_error()
        guard code != 0 else { return TLSError(libraryCode: nil, message: "\(operation) failed") }
        let signed = Int(bitPattern: code)
        let value = signed > 0 && signed < 0x10000 ? -signed : signed
        return TLSError(libraryCode: String(value), message: "\(operation): \(text(code)) (\(value))")
    }

    private static func text(_ code: UInt) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        wolfSSL_ERR_error_string_n(code, &buffer, UInt(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
