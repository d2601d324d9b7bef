internal import CNIOBoringSSL
@_spi(Faults) import PeerKit

/// The BoringSSL peer (the copy swift-nio-ssl vendors as `CNIOBoringSSL`, every symbol prefixed
/// `CNIOBoringSSL_` at link level by `#pragma redefine_extname`, so Swift calls the plain names): one `SSL_CTX` per cell, one `SSL` per connection, driven through
/// `SSL_do_handshake` / `SSL_read` / `SSL_write` on a non-blocking socket.
public final class BoringSSLEngine: TLSEngine {
    public static var library: LibraryIdentity {
        // BoringSSL has no releases and no version string: OpenSSL_version(OPENSSL_VERSION) is just
        // "BoringSSL". Its one version number is BORINGSSL_API_VERSION; the library is linked
        // statically, so the header's number is the running library's.
        LibraryIdentity(id: "boringssl", name: String(cString: OpenSSL_version(OPENSSL_VERSION)),
                        version: "API \(BORINGSSL_API_VERSION)")
    }

    private let request: PeerRequest
    private let context: BoringSSLContext
    private var connection: BoringSSLConnection?
    /// The client's session from its previous connection, offered on the next (`--resume`).
    private var savedSession: BoringSSLSession?

    public required init(request: PeerRequest) throws {
        self.request = request
        context = try BoringSSLContext(request: request)
    }

    public func attach(socket descriptor: Int32) throws(PeerFailure) {
        connection = try BoringSSLConnection(context: context, descriptor: descriptor, request: request, resuming: savedSession)
    }

    public func handshake() -> AsyncOperationResult<Void> { connection!.handshake() }
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> { connection!.read(into: buffer) }
    public func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> { connection!.write(bytes) }
    public func closeNotify() -> AsyncOperationResult<Void> { connection!.shutdown() }
    public func closeAfterFailure() -> AsyncOperationResult<Void> { connection!.shutdownAfterFailure() }
    /// BoringSSL, unlike OpenSSL 3.0, can send an alert of the caller's choice mid-handshake.
    public func cancelHandshake() -> AsyncOperationResult<Void> { connection!.cancelHandshake() }
    public func negotiated() -> NegotiatedView { connection!.negotiated() }
    public func keepSessionForResumption() throws(PeerFailure) {
        if PeerFaults.forgetSessions { return }
        savedSession = try connection!.resumableSession()
    }
    public func requestKeyUpdate() -> AsyncOperationResult<Void> { connection!.requestKeyUpdate() }
    public func keyUpdates() -> KeyUpdateCount? { connection?.keyUpdateCount() }

    public static func capabilities() -> Capabilities { BoringSSLCapabilities.read() }
}
