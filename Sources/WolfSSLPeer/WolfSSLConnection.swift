internal import CShimWolfSSL
#if canImport(Glibc)
import Glibc
#endif
import PeerKit

/// Owns one `WOLFSSL` on a non-blocking socket and maps wolfSSL's results into `AsyncOperationResult`.
final class WolfSSLConnection {
    private let handle: OpaquePointer
    private let context: WolfSSLContext
    private let request: PeerRequest
    private let keyLog: KeyLog?
    /// The ALPN list wolfSSL_UseALPN reads ("a,b"), kept for the connection's life.
    private var alpnList: [CChar]
    /// A call failed for good: wolfSSL has sent or received its fatal alert, or lost the transport.
    private var failedFatally = false
    /// The PSK identity wolfSSL handed the server callback (as the client sent it), or asked the
    /// client callback for and sent. wolfSSL_get_psk_identity reads the handshake's arrays, which
    /// wolfSSL frees once the handshake is done.
    private var pskIdentity: String?

    init(context: WolfSSLContext, descriptor: Int32, request: PeerRequest, resuming session: WolfSSLSession?) throws(PeerFailure) {
        guard let ssl = wolfSSL_new(context.handle) else { throw PeerFailure(stage: .setup, error: WolfSSLError.queue("wolfSSL_new")) }
        handle = ssl
        self.context = context
        self.request = request
        keyLog = try KeyLog.opened(for: request)
        alpnList = Array(request.alpn.joined(separator: ",").utf8CString)
        wolfSSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        if let session, wolfSSL_set_session(ssl, session.handle) != WOLFSSL_SUCCESS {
            throw PeerFailure(stage: .setup, error: WolfSSLError.queue("wolfSSL_set_session"))
        }
        guard wolfSSL_set_fd(ssl, descriptor) == WOLFSSL_SUCCESS else { throw PeerFailure(stage: .setup, error: WolfSSLError.queue("wolfSSL_set_fd")) }
        if !request.alpn.isEmpty {
            // A server with no protocol in common refuses (no_application_protocol, RFC 7301 §3.2).
            let rc = alpnList.withUnsafeMutableBufferPointer {
                wolfSSL_UseALPN(ssl, $0.baseAddress, UInt32($0.count - 1), UInt8(WOLFSSL_ALPN_FAILED_ON_MISMATCH))
            }
            guard rc == WOLFSSL_SUCCESS else { throw PeerFailure(stage: .setup, error: WolfSSLError.make(rc, "wolfSSL_UseALPN")) }
        }
        if request.role == .client { try name(ssl) }
        if request.role == .server, let group = wc_Dh_ffdhe2048_Get() {
            // DHE suites need a group, and a wolfSSL server has none of its own ("can't match cipher
            // suite" for every DHE-RSA suite otherwise): RFC 7919's ffdhe2048 from wolfSSL's table.
            // Set on the connection, not the context: wolfSSL 5.5.4's wolfSSL_CTX_SetTmpDH tests the
            // prime for primality every time (98 ms here, each cell's server), wolfSSL_SetTmpDH does not.
            _ = wolfSSL_SetTmpDH(ssl, group.pointee.p, Int32(group.pointee.p_len), group.pointee.g, Int32(group.pointee.g_len))
        }
    }

    deinit { wolfSSL_free(handle) }

    /// SNI, and the name the certificate must match, checked inside the handshake's verification.
    private func name(_ ssl: OpaquePointer) throws(PeerFailure) {
        switch request.serverIdentity {
        case .dns(let name):
            let bytes = Array(name.utf8)
            guard wolfSSL_UseSNI(ssl, UInt8(WOLFSSL_SNI_HOST_NAME), bytes, UInt16(bytes.count)) == WOLFSSL_SUCCESS,
                  wolfSSL_check_domain_name(ssl, name) == WOLFSSL_SUCCESS else {
                throw PeerFailure(stage: .setup, error: WolfSSLError.queue("setting server name \(name)"))
            }
        case .ipAddress(let text, _):
            // No SNI for an address (RFC 6066 §3); wolfSSL matches the verify parameter's address
            // against the certificate's iPAddress SANs (IPADDR_MISMATCH otherwise).
            guard let parameters = wolfSSL_get0_param(ssl), wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(parameters, text) == WOLFSSL_SUCCESS else {
                throw PeerFailure(stage: .setup, error: WolfSSLError.queue("setting server address \(text)"))
            }
        }
    }

    func handshake() -> AsyncOperationResult<Void> {
        let rc = request.role == .client ? wolfSSL_connect(handle) : wolfSSL_accept(handle)
        if rc == WOLFSSL_SUCCESS {
            logTLS12Secret()
            return .complete(())
        }
        return map(rc, request.role == .client ? "wolfSSL_connect" : "wolfSSL_accept")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> {
        let rc = wolfSSL_read(handle, buffer.baseAddress, Int32(buffer.count))
        if rc > 0 { return .complete(Int(rc)) }
        if wolfSSL_get_error(handle, rc) == wolfCode(WOLFSSL_ERROR_ZERO_RETURN) { return .complete(0) }
        return map(rc, "wolfSSL_read")
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> {
        let rc = wolfSSL_write(handle, bytes.baseAddress, Int32(bytes.count))
        if rc > 0 { return .complete(Int(rc)) }
        return map(rc, "wolfSSL_write")
    }

    /// Sends close_notify: WOLFSSL_SHUTDOWN_NOT_DONE (or 0) once ours is out and the peer's not yet
    /// read (the driver reads for it), WOLFSSL_SUCCESS when both are done.
    func shutdown() -> AsyncOperationResult<Void> {
        let rc = wolfSSL_shutdown(handle)
        if rc >= 0 { return .complete(()) }
        return map(rc, "wolfSSL_shutdown")
    }

    func shutdownAfterFailure() -> AsyncOperationResult<Void> {
        if failedFatally {
            return .failed(TLSError(libraryCode: nil, message: "wolfSSL ended the connection with a fatal error; nothing more to send"))
        }
        return shutdown()
    }

    /// `wolfSSL_update_keys` sends a KeyUpdate with update_requested (tls13.c SendTls13KeyUpdate);
    /// a want-write leaves it queued, and calling again flushes it.
    func requestKeyUpdate() -> AsyncOperationResult<Void> {
        let rc = wolfSSL_update_keys(handle)
        if rc == WOLFSSL_SUCCESS { return .complete(()) }
        return map(rc, "wolfSSL_update_keys")
    }

    /// The session to offer on the next connection.
    func resumableSession() throws(PeerFailure) -> WolfSSLSession {
        guard let session = wolfSSL_get1_session(handle) else {
            throw PeerFailure(stage: .data, message: "wolfSSL_get1_session: wolfSSL kept no session of this connection")
        }
        let owned = WolfSSLSession(handle: session)
        guard wolfSSL_SESSION_is_resumable(session) == 1 else {
            throw PeerFailure(stage: .data, message: "wolfSSL_SESSION_is_resumable: the server gave this connection nothing to resume with")
        }
        return owned
    }

    /// SNI callback: the alternate certificate for its host name, the main one otherwise.
    func chooseCertificate() -> Int32 {
        guard let name = wolfSSL_get_servername(handle, UInt8(WOLFSSL_SNI_HOST_NAME)).map({ String(cString: $0) }),
              name.lowercased() == request.alternateName?.lowercased(),
              let certificate = request.alternateCertificatePath, let key = request.alternateKeyPath else { return 0 }
        guard wolfSSL_use_certificate_chain_file(handle, certificate) == WOLFSSL_SUCCESS,
              wolfSSL_use_PrivateKey_file(handle, key, Int32(WOLFSSL_FILETYPE_PEM)) == WOLFSSL_SUCCESS else {
            return Int32(WOLFSSL_FATAL_ERROR)
        }
        return 0
    }

    /// TLS 1.2 and below: the NSS CLIENT_RANDOM line from the client random and master secret
    /// (Debian's wolfSSL has no key log callback; TLS 1.3 secrets are out of reach).
    private func logTLS12Secret() {
        guard let keyLog, wolfSSL_version(handle) < Int32(TLSVersion.tls13.wireValue), let session = wolfSSL_get_session(handle) else { return }
        var random = [UInt8](repeating: 0, count: 32)
        var secret = [UInt8](repeating: 0, count: 48)
        guard wolfSSL_get_client_random(handle, &random, random.count) == random.count,
              wolfSSL_SESSION_get_master_key(session, &secret, Int32(secret.count)) == secret.count else { return }
        random.withUnsafeBytes { r in secret.withUnsafeBytes { s in keyLog.append(label: "CLIENT_RANDOM", clientRandom: r, secret: s) } }
    }

    private func map<T>(_ rc: Int32, _ operation: String) -> AsyncOperationResult<T> {
        let code = wolfSSL_get_error(handle, rc)
        switch code {
        case wolfCode(WOLFSSL_ERROR_WANT_READ): return .wantRead
        case wolfCode(WOLFSSL_ERROR_WANT_WRITE): return .wantWrite
        default: break
        }
        failedFatally = true
        var error = WolfSSLError.make(code, operation)
        if let reason = WolfSSLVerification.reason(code, role: request.role) {
            error.verifyReason = reason
        }
        error.alert = alert(code)
        return .failed(error)
    }

    /// The fatal alert of this failure, from wolfSSL's alert history: received when wolfSSL says it
    /// got one (FATAL_ERROR), else the one it sent.
    private func alert(_ code: Int32) -> ObservedAlert? {
        var history = WOLFSSL_ALERT_HISTORY()
        guard wolfSSL_get_alert_history(handle, &history) == WOLFSSL_SUCCESS else { return nil }
        let fatal: Int32 = 2
        if code == wolfCode(FATAL_ERROR), history.last_rx.level == fatal, (0...255).contains(history.last_rx.code) {
            return ObservedAlert(code: UInt8(history.last_rx.code), direction: .received)
        }
        if history.last_tx.level == fatal, (0...255).contains(history.last_tx.code) {
            return ObservedAlert(code: UInt8(history.last_tx.code), direction: .sent)
        }
        if history.last_rx.level == fatal, (0...255).contains(history.last_rx.code) {
            return ObservedAlert(code: UInt8(history.last_rx.code), direction: .received)
        }
        return nil
    }

    func negotiated() -> NegotiatedView {
        var view = NegotiatedView()
        view.version = TLSVersion(wireValue: UInt16(truncatingIfNeeded: wolfSSL_version(handle)))
        let suite = wolfSSL_get_current_cipher_suite(handle)
        if suite >= 0 {
            let first = UInt8(truncatingIfNeeded: suite >> 8), second = UInt8(truncatingIfNeeded: suite)
            view.suiteCode = UInt16(first) << 8 | UInt16(second)
            view.librarySuiteName = wolfSSL_get_cipher_name_from_suite(first, second).map { String(cString: $0) }
            view.suiteName = wolfSSL_get_cipher_name_iana_from_suite(first, second).map { String(cString: $0) }.flatMap { $0.hasPrefix("TLS_") ? $0 : nil }
        }
        if let name = wolfSSL_get_curve_name(handle) {
            view.group = WolfSSLCapabilities.groupName(library: String(cString: name))
        } else if view.version == .tls13 {
            // wolfSSL 5.5.4 sets ssl->namedGroup, which wolfSSL_get_curve_name reads for FFDHE, only
            // in a client (TLSX_KeyShare_Parse, on the ServerHello); its TLS 1.3 server keeps the
            // FFDHE group in ssl->session alone, so the name is NULL there. TLSX_KeyShare_ProcessDh
            // records the prime's size on both sides (wolfSSL_GetDhKey_Sz), and in TLS 1.3 an FFDHE
            // key share is always one of RFC 7919's groups (RFC 8446 §4.2.7), one per size.
            view.group = WolfSSLCapabilities.ffdheGroup(bits: wolfSSL_GetDhKey_Sz(handle))
        }
        view.resumed = wolfSSL_session_reused(handle) == 1
        var protocolName: UnsafeMutablePointer<CChar>?
        var protocolLength: UInt16 = 0
        if wolfSSL_ALPN_GetProtocol(handle, &protocolName, &protocolLength) == WOLFSSL_SUCCESS, let protocolName, protocolLength > 0 {
            view.alpn = String(decoding: UnsafeRawBufferPointer(start: protocolName, count: Int(protocolLength)), as: UTF8.self)
        }
        if request.role == .server, let name = wolfSSL_get_servername(handle, UInt8(WOLFSSL_SNI_HOST_NAME)) {
            view.serverName = String(cString: name)
        }
        if let certificate = wolfSSL_get_peer_certificate(handle) {
            view.peerCertificate = WolfSSLNames.subject(of: certificate)
            wolfSSL_X509_free(certificate)
        } else if let chain = wolfSSL_get_peer_chain(handle), wolfSSL_get_chain_count(chain) > 0 {
            // A certificate came (and was verified), but 5.5.4 cannot decode it into a WOLFSSL_X509:
            // an Ed25519 one fails with "Setting Cert Public Key error" (134). Not readable, not none.
            view.notReadable.append("peer_certificate")
        }
        if view.suiteName?.contains("_PSK_") == true || view.suiteName?.hasPrefix("TLS_PSK_") == true {
            view.pskIdentity = pskIdentity
        } else if view.version == .tls13, let pskIdentity, wolfSSL_get_peer_chain(handle).map({ wolfSSL_get_chain_count($0) }) ?? 0 == 0,
                  view.peerCertificate == nil, !view.notReadable.contains("peer_certificate") {
            // TLS 1.3 authenticates a server by a certificate or a PSK: the handshake succeeded
            // with the external PSK the callback handed over (the server's callback only hands it
            // for the identity it knows), and no certificate crossed. wolfSSL_session_reused
            // says 0 for an external PSK.
            view.pskIdentity = pskIdentity
            if request.role == .client && request.preSharedKeyWithoutKeyExchange {
                // wolfSSL_get_curve_name names the group of the client's own key share whether or
                // not the server used it, and under psk_ke it does not.
                view.group = nil
                view.notReadable.append("group")
            }
        }
        return view
    }

    /// The server's PSK callback: the key for the one identity it knows, none (0) for any other.
    fileprivate func serverPreSharedKey(identity: String, into key: UnsafeMutableBufferPointer<UInt8>) -> UInt32 {
        let length = context.preSharedKey?.key(for: identity, into: key) ?? 0
        if length > 0 { pskIdentity = identity }
        return length
    }

    /// The TLS 1.3 suite of the external PSK: SHA-256's, as RFC 8446 §4.2.11 has it.
    static let externalSuite: StaticString = "TLS13-AES128-GCM-SHA256"

    /// The client's PSK callback: its identity (NUL-terminated) and key.
    fileprivate func clientPreSharedKey(identity: UnsafeMutableBufferPointer<CChar>, key: UnsafeMutableBufferPointer<UInt8>) -> UInt32 {
        guard let own = context.preSharedKey else { return 0 }
        let length = own.offer(identityInto: identity, keyInto: key)
        if length > 0 { pskIdentity = own.identity }
        return length
    }
}

/// Owns one `WOLFSSL_SESSION` kept for resumption.
final class WolfSSLSession {
    let handle: OpaquePointer
    init(handle: OpaquePointer) { self.handle = handle }
    deinit { wolfSSL_SESSION_free(handle) }
}

/// wolfSSL's PSK server callback, given the identity the client sent.
func serverPreSharedKey(_ ssl: OpaquePointer?, _ identity: UnsafePointer<CChar>?, _ key: UnsafeMutablePointer<UInt8>?, _ room: UInt32) -> UInt32 {
    guard let ssl, let identity, let key, let pointer = wolfSSL_get_ex_data(ssl, 0) else { return 0 }
    return Unmanaged<WolfSSLConnection>.fromOpaque(pointer).takeUnretainedValue()
        .serverPreSharedKey(identity: String(cString: identity), into: UnsafeMutableBufferPointer(start: key, count: Int(room)))
}

/// wolfSSL's PSK client callback, given the server's identity hint (unused: the client has one key).
func clientPreSharedKey(_ ssl: OpaquePointer?, _ hint: UnsafePointer<CChar>?, _ identity: UnsafeMutablePointer<CChar>?, _ identityRoom: UInt32,
                        _ key: UnsafeMutablePointer<UInt8>?, _ keyRoom: UInt32) -> UInt32 {
    guard let ssl, let identity, let key, let pointer = wolfSSL_get_ex_data(ssl, 0) else { return 0 }
    return Unmanaged<WolfSSLConnection>.fromOpaque(pointer).takeUnretainedValue()
        .clientPreSharedKey(identity: UnsafeMutableBufferPointer(start: identity, count: Int(identityRoom)),
                            key: UnsafeMutableBufferPointer(start: key, count: Int(keyRoom)))
}

/// wolfSSL's TLS 1.3 PSK server callback: the key for the identity the client offered, and its suite.
func serverExternalPreSharedKey(_ ssl: OpaquePointer?, _ identity: UnsafePointer<CChar>?, _ key: UnsafeMutablePointer<UInt8>?, _ room: UInt32,
                                _ suite: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> UInt32 {
    guard let suite else { return 0 }
    let length = serverPreSharedKey(ssl, identity, key, room)
    if length > 0 { suite.pointee = UnsafeRawPointer(WolfSSLConnection.externalSuite.utf8Start).assumingMemoryBound(to: CChar.self) }
    return length
}

/// wolfSSL's TLS 1.3 PSK client callback: identity, key and the PSK's suite.
func clientExternalPreSharedKey(_ ssl: OpaquePointer?, _ hint: UnsafePointer<CChar>?, _ identity: UnsafeMutablePointer<CChar>?, _ identityRoom: UInt32,
                                _ key: UnsafeMutablePointer<UInt8>?, _ keyRoom: UInt32, _ suite: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> UInt32 {
    guard let suite else { return 0 }
    let length = clientPreSharedKey(ssl, hint, identity, identityRoom, key, keyRoom)
    if length > 0 { suite.pointee = UnsafeRawPointer(WolfSSLConnection.externalSuite.utf8Start).assumingMemoryBound(to: CChar.self) }
    return length
}
