internal import CNIOBoringSSL
#if canImport(Glibc)
import Glibc
#endif
@_spi(Faults) import PeerKit

/// Owns one `SSL` on a non-blocking socket and maps BoringSSL's results into `AsyncOperationResult`.
final class BoringSSLConnection {
    private let handle: OpaquePointer
    private let context: BoringSSLContext
    private let role: Role
    private let request: PeerRequest
    /// The first fatal alert BoringSSL sent or received, from its info callback.
    fileprivate var alert: ObservedAlert?
    fileprivate let keyLog: KeyLog?
    /// KeyUpdate messages seen by the message callback.
    fileprivate var keyUpdates = KeyUpdateCount()
    private var keyUpdateQueued = false
    /// A call failed for good (SSL_ERROR_SSL or SSL_ERROR_SYSCALL): BoringSSL has sent or received its
    /// fatal alert, or lost the transport.
    private var failedFatally = false
    /// The last resumable session BoringSSL handed over (a TLS 1.2 session, or a TLS 1.3 ticket).
    fileprivate var latestSession: BoringSSLSession?

    init(context: BoringSSLContext, descriptor: Int32, request: PeerRequest, resuming session: BoringSSLSession?) throws(PeerFailure) {
        guard let ssl = SSL_new(context.handle) else {
            throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_new"))
        }
        handle = ssl
        self.context = context
        self.request = request
        role = request.role
        keyLog = try KeyLog.opened(for: request)
        _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        SSL_set_info_callback(ssl, recordAlert)
        SSL_set_msg_callback(ssl, countKeyUpdates)
        if let session, SSL_set_session(ssl, session.handle) != 1 {
            throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_set_session"))
        }
        guard SSL_set_fd(ssl, descriptor) == 1 else {
            throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_set_fd"))
        }
        if request.role == .client {
            if var group = context.keyShareGroup, SSL_set1_client_key_shares(ssl, &group, 1) != 1 {
                throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_set1_client_key_shares"))
            }
            // SNI, and the name the certificate must match (checked inside the handshake's verification).
            let named: Bool
            switch request.serverIdentity {
            case .dns(let name):
                named = SSL_set_tlsext_host_name(ssl, name) == 1
                    && (PeerFaults.skipVerification || SSL_set1_host(ssl, name) == 1)
            case .ipAddress(let text, _):
                // No SNI for an address (RFC 6066 §3); the certificate must carry it as an iPAddress SAN.
                named = PeerFaults.skipVerification || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), text) == 1
            }
            guard named else {
                throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "setting server name \(request.serverName)"))
            }
            SSL_set_connect_state(ssl)
        } else {
            SSL_set_accept_state(ssl)
        }
    }

    deinit { SSL_free(handle) }

    func handshake() -> AsyncOperationResult<Void> {
        BoringSSLError.clear()
        let rc = SSL_do_handshake(handle)
        if rc == 1 { return .complete(()) }
        return map(rc, operation: "SSL_do_handshake")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> {
        BoringSSLError.clear()
        let rc = SSL_read(handle, buffer.baseAddress, Int32(clamping: buffer.count))
        if rc > 0 { return .complete(Int(rc)) }
        if SSL_get_error(handle, rc) == SSL_ERROR_ZERO_RETURN { return .complete(0) }
        return map(rc, operation: "SSL_read")
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> {
        BoringSSLError.clear()
        let rc = SSL_write(handle, bytes.baseAddress, Int32(clamping: bytes.count))
        if rc > 0 { return .complete(Int(rc)) }
        return map(rc, operation: "SSL_write")
    }

    /// After a failure: close_notify, unless BoringSSL already failed the connection (it sent or
    /// received its fatal alert then, or lost the transport).
    func shutdownAfterFailure() -> AsyncOperationResult<Void> {
        if failedFatally {
            return .failed(TLSError(libraryCode: nil, message: "BoringSSL ended the connection with a fatal error; nothing more to send"))
        }
        return shutdown()
    }

    func shutdown() -> AsyncOperationResult<Void> {
        BoringSSLError.clear()
        // 0: our close_notify is sent, the peer's not yet seen (the caller reads for it); 1: both done.
        let rc = SSL_shutdown(handle)
        if rc >= 0 { return .complete(()) }
        return map(rc, operation: "SSL_shutdown")
    }

    /// The deadline passed mid-handshake: user_canceled (RFC 8446 §6.1) through SSL_send_fatal_alert,
    /// retried with the same alert after a want-write as its documentation asks.
    func cancelHandshake() -> AsyncOperationResult<Void> {
        BoringSSLError.clear()
        let rc = SSL_send_fatal_alert(handle, UInt8(SSL_AD_USER_CANCELLED))
        if rc > 0 { return .complete(()) }
        return map(rc, operation: "SSL_send_fatal_alert(user_canceled)")
    }

    /// Queues a KeyUpdate asking the peer to update too, then flushes it with a zero-length
    /// SSL_write (BoringSSL sends it with the next write otherwise, SSL_key_update(3)).
    func requestKeyUpdate() -> AsyncOperationResult<Void> {
        BoringSSLError.clear()
        if !keyUpdateQueued {
            guard SSL_key_update(handle, SSL_KEY_UPDATE_REQUESTED) == 1 else {
                return .failed(BoringSSLError.drain(context: "SSL_key_update"))
            }
            keyUpdateQueued = true
        }
        var nothing: UInt8 = 0
        let rc = SSL_write(handle, &nothing, 0)
        if rc >= 0 && ERR_peek_error() == 0 { return .complete(()) }
        return map(rc, operation: "SSL_write (KeyUpdate)")
    }

    func keyUpdateCount() -> KeyUpdateCount { keyUpdates }

    /// The session to offer on the next connection, once it can be resumed.
    func resumableSession() throws(PeerFailure) -> BoringSSLSession {
        if let latestSession { return latestSession }
        guard let session = SSL_get1_session(handle) else {
            throw PeerFailure(stage: .data, message: "SSL_get1_session: BoringSSL kept no session of this connection")
        }
        let owned = BoringSSLSession(handle: session)
        guard SSL_SESSION_is_resumable(session) == 1 else {
            throw PeerFailure(stage: .data, message: "SSL_SESSION_is_resumable: the server gave this connection nothing to resume with (no session id or ticket)")
        }
        return owned
    }

    /// Servername callback: the alternate certificate for its host name, the main one otherwise.
    func chooseCertificate() -> Int32 {
        guard let name = SSL_get_servername(handle, TLSEXT_NAMETYPE_host_name).map({ String(cString: $0) }),
              name.lowercased() == request.alternateName?.lowercased(),
              let certificate = request.alternateCertificatePath, let key = request.alternateKeyPath else {
            return SSL_TLSEXT_ERR_OK
        }
        // BoringSSL has no per-SSL chain-file loader: the alternate context holds that certificate
        // chain and key, and SSL_set_SSL_CTX swaps the certificate configuration in.
        guard let alternate = context.alternateCredentials, SSL_set_SSL_CTX(handle, alternate) != nil else {
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
        _ = (certificate, key)
        return SSL_TLSEXT_ERR_OK
    }

    fileprivate func observeMessage(sent: Bool, contentType: Int32, _ bytes: UnsafeRawBufferPointer) {
        // SSL3_MT_KEY_UPDATE (24) inside a handshake record.
        guard contentType == SSL3_RT_HANDSHAKE, bytes.first == UInt8(SSL3_MT_KEY_UPDATE) else { return }
        if sent { keyUpdates.sent += 1 } else { keyUpdates.received += 1 }
    }

    fileprivate func observe(where kind: Int32, value: Int32) {
        guard kind & SSL_CB_ALERT != 0, alert == nil else { return }
        let level = (value >> 8) & 0xff
        // Only fatal alerts say why a connection died; close_notify is a warning-level alert.
        guard level == SSL3_AL_FATAL else { return }
        alert = ObservedAlert(code: UInt8(value & 0xff), direction: kind & SSL_CB_READ != 0 ? .received : .sent)
    }

    private func map<T>(_ rc: Int32, operation: String) -> AsyncOperationResult<T> {
        let code = SSL_get_error(handle, rc)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default: break
        }
        if code == SSL_ERROR_SSL || code == SSL_ERROR_SYSCALL { failedFatally = true }
        var (error, library, reason) = BoringSSLError.drainWithReason(context: operation)
        if code == SSL_ERROR_SYSCALL && error.libraryCode == nil {
            let os = errno
            error.message = os == 0 ? "\(operation): connection closed by peer without close_notify"
                                    : "\(operation): \(String(cString: strerror(os)))"
            error.libraryCode = "SSL_ERROR_SYSCALL"
        } else if code == SSL_ERROR_ZERO_RETURN {
            error.message = "\(operation): peer sent close_notify"
        }
        let verifyResult = SSL_get_verify_result(handle)
        if library == ERR_LIB_SSL && reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE {
            // A required client certificate that never came is the server's verification refusing
            // (SSL_VERIFY_FAIL_IF_NO_PEER_CERT), in TLS 1.3 as in 1.2. Nothing was verified then, and
            // SSL_get_verify_result says so with X509_V_ERR_INVALID_CALL.
            error.verifyReason = .noCertificate
        } else if verifyResult != X509_V_OK && verifyResult != X509_V_ERR_INVALID_CALL {
            // The peer certificate was rejected: say why in X509's words, keep the queue's text too;
            // the code is the verification result, the reason read from it (never from the text).
            let sentence = String(cString: X509_verify_cert_error_string(verifyResult))
            error.message = "certificate verify failed: \(sentence) (X509_V_ERR \(verifyResult)); " + error.message
            error.libraryCode = BoringSSLVerification.name(verifyResult)
            error.verifyReason = BoringSSLVerification.reason(verifyResult)
        }
        error.alert = alert
        return .failed(error)
    }

    func negotiated() -> NegotiatedView {
        var view = NegotiatedView()
        view.version = TLSVersion(wireValue: UInt16(truncatingIfNeeded: SSL_version(handle)))
        if let cipher = SSL_get_current_cipher(handle) {
            view.suiteCode = SSL_CIPHER_get_protocol_id(cipher)
            view.suiteName = SSL_CIPHER_standard_name(cipher).map { String(cString: $0) }
            view.librarySuiteName = String(cString: SSL_CIPHER_get_name(cipher))
        }
        // The group's TLS code point itself (SSL_get_group_id), in TLS 1.2 ECDHE as in TLS 1.3.
        let group = SSL_get_group_id(handle)
        view.group = group == 0 ? nil : BoringSSLNames.groupName(id: group)
        view.signatureScheme = serverSignatureScheme()
        // A server's own signature choice has no public getter: not readable, not "none".
        if role == .server { view.notReadable = ["signature_scheme"] }
        view.resumed = SSL_session_reused(handle) == 1
        var protocolName: UnsafePointer<UInt8>?
        var protocolLength: UInt32 = 0
        SSL_get0_alpn_selected(handle, &protocolName, &protocolLength)
        if let protocolName, protocolLength > 0 {
            view.alpn = String(decoding: UnsafeBufferPointer(start: protocolName, count: Int(protocolLength)), as: UTF8.self)
        }
        if role == .server, let name = SSL_get_servername(handle, TLSEXT_NAMETYPE_host_name) {
            view.serverName = String(cString: name)
        }
        if let certificate = SSL_get_peer_certificate(handle) {
            view.peerCertificate = BoringSSLNames.subject(of: certificate)
            X509_free(certificate)
        }
        // "The TLS 1.2 PSK identity that was negotiated by ssl or NULL if PSK was not used", either role.
        view.pskIdentity = SSL_get_psk_identity(handle).map { String(cString: $0) }
        return view
    }

    /// The server's PSK callback: the key for the one identity it knows, none (0) for any other.
    fileprivate func serverPreSharedKey(identity: String, into key: UnsafeMutableBufferPointer<UInt8>) -> UInt32 {
        context.preSharedKey?.key(for: identity, into: key) ?? 0
    }

    /// The client's PSK callback: its identity (NUL-terminated) and key.
    fileprivate func clientPreSharedKey(identity: UnsafeMutableBufferPointer<CChar>, key: UnsafeMutableBufferPointer<UInt8>) -> UInt32 {
        context.preSharedKey?.offer(identityInto: identity, keyInto: key) ?? 0
    }

    /// The scheme of the server's handshake signature. BoringSSL exposes only the peer's
    /// (SSL_get_peer_signature_algorithm, a code point), so the client reads it; a server reads
    /// nothing (its own choice has no public getter) and says so in not_readable.
    private func serverSignatureScheme() -> String? {
        guard role == .client else { return nil }
        let code = SSL_get_peer_signature_algorithm(handle)
        guard code != 0 else { return nil }
        return BoringSSLNames.signatureSchemeName(code)
    }
}

/// Owns one `SSL_SESSION` kept for resumption.
final class BoringSSLSession {
    let handle: OpaquePointer
    init(handle: OpaquePointer) { self.handle = handle }
    deinit { SSL_SESSION_free(handle) }
}

/// The message callback: every handshake message sent or received, used to count KeyUpdates.
private func countKeyUpdates(_ writing: Int32, _ version: Int32, _ contentType: Int32, _ bytes: UnsafeRawPointer?, _ length: Int,
                             _ ssl: OpaquePointer?, _ argument: UnsafeMutableRawPointer?) {
    guard let ssl, let bytes, let pointer = SSL_get_ex_data(ssl, 0) else { return }
    Unmanaged<BoringSSLConnection>.fromOpaque(pointer).takeUnretainedValue()
        .observeMessage(sent: writing == 1, contentType: contentType, UnsafeRawBufferPointer(start: bytes, count: length))
}

/// The new-session callback (client): keeps the session, taking BoringSSL's reference (returns 1).
func keepNewSession(_ ssl: OpaquePointer?, _ session: OpaquePointer?) -> Int32 {
    guard let ssl, let session, let pointer = SSL_get_ex_data(ssl, 0) else { return 0 }
    Unmanaged<BoringSSLConnection>.fromOpaque(pointer).takeUnretainedValue().latestSession = BoringSSLSession(handle: session)
    return 1
}

/// The key log callback: BoringSSL formats the NSS key log lines itself.
/// BoringSSL's PSK server callback, given the identity the client sent.
func serverPreSharedKey(_ ssl: OpaquePointer?, _ identity: UnsafePointer<CChar>?, _ key: UnsafeMutablePointer<UInt8>?, _ room: UInt32) -> UInt32 {
    guard let ssl, let identity, let key, let pointer = SSL_get_ex_data(ssl, 0) else { return 0 }
    return Unmanaged<BoringSSLConnection>.fromOpaque(pointer).takeUnretainedValue()
        .serverPreSharedKey(identity: String(cString: identity), into: UnsafeMutableBufferPointer(start: key, count: Int(room)))
}

/// BoringSSL's PSK client callback, given the server's identity hint (unused: the client has one key).
func clientPreSharedKey(_ ssl: OpaquePointer?, _ hint: UnsafePointer<CChar>?, _ identity: UnsafeMutablePointer<CChar>?, _ identityRoom: UInt32,
                        _ key: UnsafeMutablePointer<UInt8>?, _ keyRoom: UInt32) -> UInt32 {
    guard let ssl, let identity, let key, let pointer = SSL_get_ex_data(ssl, 0) else { return 0 }
    return Unmanaged<BoringSSLConnection>.fromOpaque(pointer).takeUnretainedValue()
        .clientPreSharedKey(identity: UnsafeMutableBufferPointer(start: identity, count: Int(identityRoom)),
                            key: UnsafeMutableBufferPointer(start: key, count: Int(keyRoom)))
}

func writeKeyLogLine(_ ssl: OpaquePointer?, _ line: UnsafePointer<CChar>?) {
    guard let ssl, let line, let pointer = SSL_get_ex_data(ssl, 0) else { return }
    Unmanaged<BoringSSLConnection>.fromOpaque(pointer).takeUnretainedValue().keyLog?.append(line: String(cString: line))
}

/// The info callback: finds the connection through the SSL's ex data and records alerts.
private func recordAlert(_ ssl: OpaquePointer?, _ kind: Int32, _ value: Int32) {
    guard let ssl, let pointer = SSL_get_ex_data(ssl, 0) else { return }
    Unmanaged<BoringSSLConnection>.fromOpaque(pointer).takeUnretainedValue().observe(where: kind, value: value)
}
