internal import CShimOpenSSL
@_spi(Faults) import PeerKit

/// The OpenSSL peer: one `SSL_CTX` per process and one `SSL` per connection, driven through
/// `SSL_do_handshake` / `SSL_read_ex` / `SSL_write_ex` on a non-blocking socket.
public final class OpenSSLEngine: TLSEngine {
    public static var library: LibraryIdentity {
        // OpenSSL_version(OPENSSL_VERSION_STRING) is the run-time library's "3.0.19", not the header's.
        LibraryIdentity(id: "openssl", name: "OpenSSL", version: String(cString: OpenSSL_version(OPENSSL_VERSION_STRING)))
    }

    private let request: PeerRequest
    private let context: OpenSSLContext
    private var connection: OpenSSLConnection?
    /// The client's session from its previous connection, offered on the next (`--resume`).
    private var savedSession: OpenSSLSession?

    public required init(request: PeerRequest) throws {
        self.request = request
        context = try OpenSSLContext(request: request)
    }

    public func attach(socket descriptor: Int32) throws(PeerFailure) {
        connection = try OpenSSLConnection(context: context, descriptor: descriptor, request: request, resuming: savedSession)
    }

    public func handshake() -> AsyncOperationResult<Void> { connection!.handshake() }
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> { connection!.read(into: buffer) }
    public func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> { connection!.write(bytes) }
    public func closeNotify() -> AsyncOperationResult<Void> { connection!.shutdown() }
    public func closeAfterFailure() -> AsyncOperationResult<Void> { connection!.shutdownAfterFailure() }
    // No cancelHandshake: OpenSSL 3.0 has no public call that sends an alert of the caller's choice,
    // and SSL_shutdown refuses while the handshake is under way (SSL_R_SHUTDOWN_WHILE_IN_INIT).
    public func negotiated() -> NegotiatedView { connection!.negotiated() }
    public func keepSessionForResumption() throws(PeerFailure) {
        if PeerFaults.forgetSessions { return }
        savedSession = try connection!.resumableSession()
    }
    public func requestKeyUpdate() -> AsyncOperationResult<Void> { connection!.requestKeyUpdate() }
    public func keyUpdates() -> KeyUpdateCount? { connection?.keyUpdateCount() }

    public static func capabilities() -> Capabilities { OpenSSLCapabilities.read() }
}
