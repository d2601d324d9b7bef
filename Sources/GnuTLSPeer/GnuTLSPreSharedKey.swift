internal import CShimGnuTLS
import PeerKit

/// `--psk`: this side's pre-shared key credentials, the server's or the client's, as GnuTLS keeps
/// them in two handle types. The same credentials serve the TLS 1.2-and-below PSK suites (RFC
/// 4279/5487/5489) and the TLS 1.3 external PSK (RFC 8446 §2.2), whose binder hash
/// gnutls_psk_allocate_*_credentials set to SHA-256, the one §4.2.11 names for a PSK that defines
/// none (and a GnuTLS server then takes only a SHA-256 TLS 1.3 suite with it).
enum GnuTLSPSKCredentials {
    case server(GnuTLSPSKServerCredentials)
    case client(GnuTLSPSKClientCredentials)

    /// The credentials `--psk FILE` asks for, or nil without `--psk`.
    static func make(request: PeerRequest) throws(PeerFailure) -> GnuTLSPSKCredentials? {
        guard let key = try request.preSharedKey() else { return nil }
        switch request.role {
        case .server: return .server(try GnuTLSPSKServerCredentials(key))
        case .client: return .client(try GnuTLSPSKClientCredentials(key))
        }
    }

    /// Adds them to a session beside its certificate credentials (RSA_PSK uses both).
    func set(on session: gnutls_session_t) -> Int32 {
        switch self {
        case .server(let credentials): gnutls_credentials_set(session, GNUTLS_CRD_PSK, UnsafeMutableRawPointer(credentials.handle))
        case .client(let credentials): gnutls_credentials_set(session, GNUTLS_CRD_PSK, UnsafeMutableRawPointer(credentials.handle))
        }
    }

    /// The key exchanges that authenticate with a PSK: the only ones a `--psk` suite may name.
    static let keyExchanges: [gnutls_kx_algorithm_t] = [GNUTLS_KX_PSK, GNUTLS_KX_DHE_PSK, GNUTLS_KX_ECDHE_PSK, GNUTLS_KX_RSA_PSK]

    static func isPSK(_ kx: gnutls_kx_algorithm_t) -> Bool { keyExchanges.contains(kx) }
}

/// Owns a `gnutls_psk_server_credentials_t` whose callback knows exactly one identity.
final class GnuTLSPSKServerCredentials {
    let handle: gnutls_psk_server_credentials_t
    /// The one identity and key this side knows.
    let known: PreSharedKey

    init(_ key: PreSharedKey) throws(PeerFailure) {
        var credentials: gnutls_psk_server_credentials_t?
        let rc = gnutls_psk_allocate_server_credentials(&credentials)
        guard rc == GNUTLS_E_SUCCESS, let credentials else {
            throw PeerFailure(stage: .setup, error: GnuTLSError.make(rc, "gnutls_psk_allocate_server_credentials"))
        }
        handle = credentials
        known = key
        // DHE_PSK with a client that names no RFC 7919 group takes these, as the certificate
        // credentials' DHE suites do.
        let dh = gnutls_psk_set_server_known_dh_params(credentials, GNUTLS_SEC_PARAM_MEDIUM)
        guard dh >= 0 else { throw PeerFailure(stage: .setup, error: GnuTLSError.make(dh, "gnutls_psk_set_server_known_dh_params")) }
        // The identity arrives as bytes (function2, GnuTLS 3.6.13+), compared exactly.
        gnutls_psk_set_server_credentials_function2(credentials, lookUpServerKey)
    }

    deinit { gnutls_psk_free_server_credentials(handle) }

    /// The identity a session's client sent and the callback accepted, as GnuTLS keeps it (its own
    /// copy, valid for the session, not to be freed; at TLS 1.3 kept only for the identity the
    /// server selected); nil when no PSK authenticated the session.
    static func acceptedIdentity(of session: gnutls_session_t) -> String? {
        var username = gnutls_datum_t()
        guard gnutls_psk_server_get_username2(session, &username) == GNUTLS_E_SUCCESS, let data = username.data else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(username.size)), as: UTF8.self)
    }
}

/// Owns a `gnutls_psk_client_credentials_t` whose callback hands GnuTLS the identity and key
/// whenever it asks, so the session can tell which identity it sent.
final class GnuTLSPSKClientCredentials {
    let handle: gnutls_psk_client_credentials_t
    /// The one identity and key this side knows.
    let known: PreSharedKey

    init(_ key: PreSharedKey) throws(PeerFailure) {
        var credentials: gnutls_psk_client_credentials_t?
        let rc = gnutls_psk_allocate_client_credentials(&credentials)
        guard rc == GNUTLS_E_SUCCESS, let credentials else {
            throw PeerFailure(stage: .setup, error: GnuTLSError.make(rc, "gnutls_psk_allocate_client_credentials"))
        }
        handle = credentials
        known = key
        gnutls_psk_set_client_credentials_function2(credentials, offerClientKey)
    }

    deinit { gnutls_psk_free_client_credentials(handle) }
}

/// A copy of `bytes` in memory GnuTLS frees itself (it releases what PSK callbacks return with
/// gnutls_free), or an empty datum when the allocation fails.
private func gnutlsCopy(_ bytes: [UInt8]) -> gnutls_datum_t {
    guard let memory = CShimGnuTLS_gnutls_malloc(max(1, bytes.count)) else { return gnutls_datum_t() }
    bytes.withUnsafeBytes { if let base = $0.baseAddress { memory.copyMemory(from: base, byteCount: $0.count) } }
    return gnutls_datum_t(data: memory.assumingMemoryBound(to: UInt8.self), size: UInt32(bytes.count))
}

/// The session a PSK callback runs for, through its user pointer.
private func owner(of session: gnutls_session_t?) -> GnuTLSSession? {
    guard let session, let pointer = gnutls_session_get_ptr(session) else { return nil }
    return Unmanaged<GnuTLSSession>.fromOpaque(pointer).takeUnretainedValue()
}

/// GnuTLS's server PSK callback: the key of the one known identity. Any other identity is refused
/// with an error, GnuTLS's documented "the username does not exist", not with 1: 1 makes GnuTLS go
/// on with a random key (lib/auth/psk_passwd.c), which hides the unknown identity behind a failed
/// Finished (TLS 1.2) or binder (TLS 1.3). An error ends the handshake at once with
/// GNUTLS_E_KEYFILE_ERROR; at TLS 1.2 the session, which remembers the refused identity, answers it
/// with unknown_psk_identity (RFC 4279 §2). At TLS 1.3 the server should select no PSK and go on
/// with its certificate (RFC 8446 §4.2.11), but GnuTLS 3.7.9 calls this once, for the first
/// external identity offered, and returns any error of it as the handshake's
/// (lib/ext/pre_shared_key.c, server_recv_params: "this fails only on configuration errors"): no
/// return value lets it go on without a PSK, so the handshake fails as GnuTLS makes it fail.
private func lookUpServerKey(_ session: gnutls_session_t?, _ username: UnsafePointer<gnutls_datum_t>?, _ key: UnsafeMutablePointer<gnutls_datum_t>?) -> Int32 {
    guard let owner = owner(of: session), let username, let key, case .server(let credentials)? = owner.preSharedKey else { return -1 }
    let received = username.pointee.data.map { Array(UnsafeBufferPointer(start: $0, count: Int(username.pointee.size))) } ?? []
    guard received == Array(credentials.known.identity.utf8) else {
        owner.refusedPSKIdentity = String(decoding: received, as: UTF8.self)
        return -1
    }
    key.pointee = gnutlsCopy(credentials.known.key)
    return key.pointee.data == nil ? -1 : 0
}

/// GnuTLS's client PSK callback: the identity and key to send, noted on the session.
private func offerClientKey(_ session: gnutls_session_t?, _ username: UnsafeMutablePointer<gnutls_datum_t>?, _ key: UnsafeMutablePointer<gnutls_datum_t>?) -> Int32 {
    guard let owner = owner(of: session), let username, let key, case .client(let credentials)? = owner.preSharedKey else { return -1 }
    let identity = gnutlsCopy(Array(credentials.known.identity.utf8))
    let secret = gnutlsCopy(credentials.known.key)
    guard identity.data != nil, secret.data != nil else {
        if let data = identity.data { CShimGnuTLS_gnutls_free(data) }
        if let data = secret.data { CShimGnuTLS_gnutls_free(data) }
        return GNUTLS_E_MEMORY_ERROR
    }
    username.pointee = identity
    key.pointee = secret
    owner.offeredPSKIdentity = credentials.known.identity
    return 0
}
