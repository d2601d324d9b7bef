internal import CShimNSS
#if canImport(Glibc)
import Glibc
#endif
import PeerKit

/// The NSS peer: NSS initialized once per process without a database (`NSS_NoDB_Init`), this cell's
/// certificates and keys imported as temporary objects, one SSL socket per connection, driven through
/// `SSL_ForceHandshake` / `PR_Read` / `PR_Write` on the non-blocking socket.
public final class NSSEngine: TLSEngine {
    public static var library: LibraryIdentity {
        NSSLibrary.initialize()
        return LibraryIdentity(id: id, name: "NSS", version: String(cString: NSS_GetVersion()))
    }

    /// `nss` as SwiftPM builds it against the distribution's NSS; a build against another NSS
    /// (ci/build-swift-peer, which sets PEER_VARIANT) is a peer of its own, `nss-<major>.<minor>`.
    #if PEER_VARIANT
    static let id = "nss-\(NSS_VMAJOR).\(NSS_VMINOR)"
    #else
    static let id = "nss"
    #endif

    private let request: PeerRequest
    private let credentials: NSSCredentials
    private var connection: NSSConnection?
    /// This engine's client session-cache key (`SSL_SetSockPeerID`): both connections of a cell share
    /// it, so the second resumes the first; no other cell's session is ever offered.
    private let peerID: String

    public required init(request: PeerRequest) throws {
        NSSLibrary.initialize()
        self.request = request
        if request.resumption == .sessionID && request.version == .tls13 {
            throw Unsupported("TLS 1.3 has no session-id resumption (RFC 8446 §2.2: PSK tickets only)")
        }
        try NSSConfiguration.check(request)
        credentials = try NSSCredentials(request: request)
        NSSLibrary.cellCount += 1
        peerID = "interop-matrix-\(getpid())-\(NSSLibrary.cellCount)"
        if request.role == .server {
            // A fresh server session cache per cell, so a worker never resumes another cell's session.
            NSSLibrary.resetServerCache()
        } else {
            SSL_ClearSessionCache()
        }
    }

    public func attach(socket descriptor: Int32) throws(PeerFailure) {
        connection = nil
        connection = try NSSConnection(request: request, credentials: credentials, descriptor: descriptor, peerID: peerID)
    }

    public func handshake() -> AsyncOperationResult<Void> { connection!.handshake() }
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> { connection!.read(into: buffer) }
    public func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> { connection!.write(bytes) }
    public func closeNotify() -> AsyncOperationResult<Void> { connection!.closeNotify() }
    public func closeAfterFailure() -> AsyncOperationResult<Void> { connection!.closeAfterFailure() }
    public func negotiated() -> NegotiatedView { connection!.negotiated() }
    /// NSS keeps the client's session in its own cache under the peer id; the next connection with
    /// the same id and URL offers it. In TLS 1.3 there is something to offer only once a
    /// NewSessionTicket arrived, which the second handshake's `resumed` shows.
    public func keepSessionForResumption() throws(PeerFailure) {}
    public func requestKeyUpdate() -> AsyncOperationResult<Void> { connection!.requestKeyUpdate() }
    public func keyUpdates() -> KeyUpdateCount? { connection?.keyUpdates }

    public static func capabilities() -> Capabilities {
        NSSLibrary.initialize()
        return NSSCapabilities.read()
    }
}

/// NSS's process-wide state: initialized once, without a certificate database.
enum NSSLibrary {
    nonisolated(unsafe) static var initialized = false
    nonisolated(unsafe) static var cellCount = 0
    nonisolated(unsafe) static var serverCacheConfigured = false

    static func initialize() {
        guard !initialized else { return }
        initialized = true
        guard NSS_NoDB_Init(nil) == SECSuccess else {
            PeerProtocol.log("NSS_NoDB_Init: \(NSSError.describe(PR_GetError()))")
            exit(1)
        }
        // Every cipher suite NSS implements and its policy allows, as an application outside France
        // sets (NSS_SetDomesticPolicy); the defaults (SSL_CipherPrefGetDefault) stay as NSS has them.
        _ = NSS_SetDomesticPolicy()
        // NSS accepts a certificate up to CERT_GetSlopTime() seconds (86,400 by default,
        // PENDING_SLOP in lib/certdb/certdb.c) before its notBefore; RFC 5280 §4.1.2.5 makes it
        // valid only from notBefore, and the protocol checks exactly that.
        _ = CERT_SetSlopTime(0)
    }

    /// A server needs a session-id cache even to serve one connection
    /// (SSL_ERROR_SERVER_CACHE_NOT_CONFIGURED otherwise).
    static func resetServerCache() {
        if serverCacheConfigured { _ = SSL_ShutdownServerSessionIDCache() }
        serverCacheConfigured = SSL_ConfigServerSessionIDCache(64, 0, 0, nil) == SECSuccess
    }
}

/// An NSPR/NSS error code in the library's own words: its name (`SEC_ERROR_EXPIRED_CERTIFICATE`) and text.
enum NSSError {
    static func name(_ code: PRErrorCode) -> String {
        PR_ErrorToName(code).map { String(cString: $0) } ?? String(code)
    }

    static func describe(_ code: PRErrorCode) -> String {
        let text = PR_ErrorToString(code, PRLanguageCode(PR_LANGUAGE_I_DEFAULT)).map { String(cString: $0) } ?? ""
        return "\(name(code)) (\(code)): \(text)"
    }

    static func make(_ code: PRErrorCode, _ operation: String) -> TLSError {
        TLSError(libraryCode: name(code), message: "\(operation): \(describe(code))")
    }

    static func last(_ operation: String) -> TLSError { make(PR_GetError(), operation) }
}
