internal import CShimOpenSSL
#if canImport(Glibc)
import Glibc
#endif
@_spi(Faults) import PeerKit

/// Owns one `SSL` on a non-blocking socket and maps OpenSSL's results into `AsyncOperationResult`.
final class OpenSSLConnection {
    private let handle: OpaquePointer
    private let context: OpenSSLContext
    private let role: Role
    /// The first fatal alert OpenSSL sent or received, from its info callback.
    fileprivate var alert: ObservedAlert?
    fileprivate let keyLog: KeyLog?
    private let request: PeerRequest
    /// KeyUpdate messages seen by the message callback.
    fileprivate var keyUpdates = KeyUpdateCount()
    private var keyUpdateScheduled = false
    /// A call failed for good (SSL_ERROR_SSL or SSL_ERROR_SYSCALL): OpenSSL has sent or received
    /// its fatal alert, or lost the transport.
    private var failedFatally = false
    /// The PSK identity this connection's callbacks handed OpenSSL (client, TLS 1.2 and 1.3) or
    /// found a TLS 1.3 session for (server).
    private var pskIdentity: String?
    /// Client, TLS 1.3: the identity's bytes, which OpenSSL reads after the callback returns.
    private var offeredIdentity: UnsafeMutableBufferPointer<UInt8>?
    /// Why a TLS 1.3 PSK callback could not make the PSK's session, for the handshake's error.
    private var pskFailure: TLSError?

    init(context: OpenSSLContext, descriptor: Int32, request: PeerRequest, resuming session: OpenSSLSession?) throws(PeerFailure) {
        guard let ssl = SSL_new(context.handle) else { throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "SSL_new")) }
        handle = ssl
        self.context = context
        self.request = request
        role = request.role
        keyLog = try KeyLog.opened(for: request)
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        SSL_set_info_callback(ssl, recordAlert)
        SSL_set_msg_callback(ssl, countKeyUpdates)
        if let session, SSL_set_session(ssl, session.handle) != 1 {
            throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "SSL_set_session"))
        }
        guard SSL_set_fd(ssl, descriptor) == 1 else { throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "SSL_set_fd")) }
        if request.role == .client {
            // SNI, and the name the certificate must match (checked inside the handshake's verification).
            let named: Bool
            switch request.serverIdentity {
            case .dns(let name):
                named = CShimOpenSSL_SSL_set_tlsext_host_name(ssl, name) == 1
                    && (PeerFaults.skipVerification || SSL_set1_host(ssl, name) == 1)
            case .ipAddress(let text, _):
                // No SNI for an address (RFC 6066 §3); the certificate must carry it as an iPAddress SAN.
                named = PeerFaults.skipVerification || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), text) == 1
            }
            guard named else {
                throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "setting server name \(request.serverName)"))
            }
            SSL_set_connect_state(ssl)
        } else {
            SSL_set_accept_state(ssl)
        }
    }

    deinit {
        SSL_free(handle)
        offeredIdentity?.baseAddress.map { UnsafeMutablePointer($0).deallocate() }
    }

    func handshake() -> AsyncOperationResult<Void> {
        OpenSSLError.clear()
        let rc = SSL_do_handshake(handle)
        if rc == 1 { return .complete(()) }
        return map(rc, operation: "SSL_do_handshake")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> {
        OpenSSLError.clear()
        var count = 0
        let rc = SSL_read_ex(handle, buffer.baseAddress, buffer.count, &count)
        if rc == 1 { return .complete(count) }
        if SSL_get_error(handle, rc) == SSL_ERROR_ZERO_RETURN { return .complete(0) }
        return map(rc, operation: "SSL_read_ex")
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> {
        OpenSSLError.clear()
        var count = 0
        let rc = SSL_write_ex(handle, bytes.baseAddress, bytes.count, &count)
        if rc == 1 { return .complete(count) }
        return map(rc, operation: "SSL_write_ex")
    }

    /// After a failure: close_notify, unless OpenSSL already failed the connection (it sent its
    /// fatal alert then, and refuses SSL_shutdown: "SSL_shutdown() must not be called if a previous
    /// fatal error has occurred", SSL_shutdown(3)).
    func shutdownAfterFailure() -> AsyncOperationResult<Void> {
        if failedFatally {
            return .failed(TLSError(libraryCode: nil, message: "OpenSSL ended the connection with a fatal error; nothing more to send"))
        }
        return shutdown()
    }

    func shutdown() -> AsyncOperationResult<Void> {
        OpenSSLError.clear()
        // 0: our close_notify is sent, the peer's not yet seen (the caller reads for it); 1: both done.
        let rc = SSL_shutdown(handle)
        if rc >= 0 { return .complete(()) }
        return map(rc, operation: "SSL_shutdown")
    }

    /// Schedules a KeyUpdate asking the peer to update too, then pushes it out with
    /// SSL_do_handshake (OpenSSL otherwise sends it with the next write).
    func requestKeyUpdate() -> AsyncOperationResult<Void> {
        OpenSSLError.clear()
        if !keyUpdateScheduled {
            guard SSL_key_update(handle, SSL_KEY_UPDATE_REQUESTED) == 1 else {
                return .failed(OpenSSLError.drain(context: "SSL_key_update"))
            }
            keyUpdateScheduled = true
        }
        let rc = SSL_do_handshake(handle)
        if rc == 1 { return .complete(()) }
        return map(rc, operation: "SSL_do_handshake (KeyUpdate)")
    }

    func keyUpdateCount() -> KeyUpdateCount { keyUpdates }

    /// The session to offer on the next connection, once it can be resumed.
    func resumableSession() throws(PeerFailure) -> OpenSSLSession {
        guard let session = SSL_get1_session(handle) else {
            throw PeerFailure(stage: .data, message: "SSL_get1_session: OpenSSL kept no session of this connection")
        }
        let owned = OpenSSLSession(handle: session)
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
        guard SSL_use_certificate_chain_file(handle, certificate) == 1,
              SSL_use_PrivateKey_file(handle, key, SSL_FILETYPE_PEM) == 1 else {
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
        return SSL_TLSEXT_ERR_OK
    }

    fileprivate func observeMessage(sent: Bool, contentType: Int32, _ bytes: UnsafeRawBufferPointer) {
        // SSL3_MT_KEY_UPDATE (24) inside a handshake record.
        guard contentType == SSL3_RT_HANDSHAKE, bytes.first == UInt8(SSL3_MT_KEY_UPDATE) else { return }
        if sent { keyUpdates.sent += 1 } else { keyUpdates.received += 1 }
    }

    private func map<T>(_ rc: Int32, operation: String) -> AsyncOperationResult<T> {
        let code = SSL_get_error(handle, rc)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default: break
        }
        if code == SSL_ERROR_SSL || code == SSL_ERROR_SYSCALL { failedFatally = true }
        var (error, reason) = OpenSSLError.drainWithReason(context: operation)
        if let pskFailure {
            // A TLS 1.3 PSK callback failed the handshake: its reason first.
            error.message = pskFailure.message + "; " + error.message
        }
        if code == SSL_ERROR_SYSCALL && error.libraryCode == nil {
            let os = errno
            error.message = os == 0 ? "\(operation): connection closed by peer without close_notify"
                                    : "\(operation): \(String(cString: strerror(os)))"
            error.libraryCode = "SSL_ERROR_SYSCALL"
        } else if code == SSL_ERROR_ZERO_RETURN {
            error.message = "\(operation): peer sent close_notify"
        }
        let verifyResult = SSL_get_verify_result(handle)
        if verifyResult != X509_V_OK {
            // The peer certificate was rejected: say why in X509's words, keep the queue's text too;
            // the code is the verification result, the reason read from it (never from the text).
            let sentence = String(cString: X509_verify_cert_error_string(verifyResult))
            error.message = "certificate verify failed: \(sentence) (X509_V_ERR \(verifyResult)); " + error.message
            error.libraryCode = OpenSSLVerification.name(verifyResult)
            error.verifyReason = OpenSSLVerification.reason(verifyResult)
            error.isVerification = true
        } else if reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE {
            // A required client certificate that never came is the server's verification refusing
            // (SSL_VERIFY_FAIL_IF_NO_PEER_CERT), in TLS 1.3 as in 1.2.
            error.verifyReason = .noCertificate
            error.isVerification = true
        }
        error.alert = alert
        return .failed(error)
    }

    func negotiated() -> NegotiatedView {
        var view = NegotiatedView()
        view.version = TLSVersion(wireValue: UInt16(truncatingIfNeeded: SSL_version(handle)))
        if let cipher = SSL_get_current_cipher(handle) {
            view.suiteCode = SSL_CIPHER_get_protocol_id(cipher)
            let standard = String(cString: SSL_CIPHER_standard_name(cipher))
            view.suiteName = standard.hasPrefix("TLS_") ? standard : nil
            view.librarySuiteName = String(cString: SSL_CIPHER_get_name(cipher))
        }
        view.group = negotiatedGroup()
        view.signatureScheme = serverSignatureScheme()
        // An external PSK handshake reuses a session OpenSSL was handed, made of the key: that is
        // no resumption of an earlier connection.
        view.resumed = SSL_session_reused(handle) == 1 && !(view.version == .tls13 && pskIdentity != nil)
        var protocolName: UnsafePointer<UInt8>?
        var protocolLength: UInt32 = 0
        SSL_get0_alpn_selected(handle, &protocolName, &protocolLength)
        if let protocolName, protocolLength > 0 {
            view.alpn = String(decoding: UnsafeBufferPointer(start: protocolName, count: Int(protocolLength)), as: UTF8.self)
        }
        if role == .server, let name = SSL_get_servername(handle, TLSEXT_NAMETYPE_host_name) {
            view.serverName = String(cString: name)
        }
        if let certificate = SSL_get1_peer_certificate(handle) {
            view.peerCertificate = OpenSSLNames.subject(of: certificate)
            X509_free(certificate)
        }
        if let cipher = SSL_get_current_cipher(handle), [NID_kx_psk, NID_kx_dhe_psk, NID_kx_ecdhe_psk, NID_kx_rsa_psk].contains(SSL_CIPHER_get_kx_nid(cipher)) {
            // The server's is the identity OpenSSL received and kept in the session.
            view.pskIdentity = role == .server ? SSL_get_psk_identity(handle).map { String(cString: $0) } : pskIdentity
        } else if view.version == .tls13, SSL_session_reused(handle) == 1 {
            // The ServerHello selected the external PSK (SSL_session_reused: the handshake used
            // the PSK session), the one of this identity.
            view.pskIdentity = pskIdentity
        }
        return view
    }

    /// The server's PSK callback: the key for the one identity it knows, none (0) for any other,
    /// on which OpenSSL refuses with unknown_psk_identity.
    fileprivate func serverPreSharedKey(identity: String, into key: UnsafeMutableBufferPointer<UInt8>) -> UInt32 {
        guard let known = context.preSharedKey else { return 0 }
        return known.key(for: PeerFaults.acceptAnyPSKIdentity ? known.identity : identity, into: key)
    }

    /// The client's PSK callback: its identity (NUL-terminated) and key.
    fileprivate func clientPreSharedKey(identity: UnsafeMutableBufferPointer<CChar>, key: UnsafeMutableBufferPointer<UInt8>) -> UInt32 {
        guard let own = context.preSharedKey else { return 0 }
        let length = own.offer(identityInto: identity, keyInto: key)
        if length > 0 { pskIdentity = own.identity }
        return length
    }

    /// A TLS 1.3 session holding the external PSK: its key as the resumption secret, TLS 1.3, and
    /// TLS_AES_128_GCM_SHA256 for SHA-256, the hash of an external PSK (RFC 8446 §4.2.11). Throws
    /// OpenSSL's words when it cannot make one.
    private func externalSession(_ known: PreSharedKey) throws(TLSError) -> OpaquePointer {
        let code: [UInt8] = [0x13, 0x01]
        guard let cipher = SSL_CIPHER_find(handle, code), let session = SSL_SESSION_new() else {
            throw OpenSSLError.drain(context: "SSL_CIPHER_find or SSL_SESSION_new for the external PSK")
        }
        // The session id context is the context's own (OpenSSLContext.configureResumption), or the
        // client refuses the session as one "of a different context".
        let context = Array("interop-matrix".utf8)
        guard SSL_SESSION_set1_master_key(session, known.key, known.key.count) == 1, SSL_SESSION_set_cipher(session, cipher) == 1,
              SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) == 1,
              SSL_SESSION_set1_id_context(session, context, UInt32(context.count)) == 1 else {
            SSL_SESSION_free(session)
            throw OpenSSLError.drain(context: "making the external PSK's session")
        }
        return session
    }

    /// Server, TLS 1.3: the session of the external PSK for the one identity it knows; none for
    /// any other (OpenSSL then goes on with the certificate). A session it cannot make fails the
    /// handshake (false), rather than passing for an unknown identity.
    fileprivate func findExternalPreSharedKey(identity: String, session: inout OpaquePointer?) -> Bool {
        guard let known = context.preSharedKey, identity == known.identity || PeerFaults.acceptAnyPSKIdentity else { return true }
        do {
            session = try externalSession(known)
        } catch {
            pskFailure = error
            return false
        }
        pskIdentity = identity
        return true
    }

    /// Client, TLS 1.3: the external PSK to offer, unless the handshake's hash (after a
    /// HelloRetryRequest) is not its SHA-256. A session it cannot make fails the handshake (false),
    /// rather than a certificate handshake the PSK was not offered in.
    fileprivate func useExternalPreSharedKey(hash: OpaquePointer?, identity: UnsafeMutablePointer<UnsafePointer<UInt8>?>,
                                             length: UnsafeMutablePointer<Int>, session: inout OpaquePointer?) -> Bool {
        guard let own = context.preSharedKey else { return true }
        if let hash, EVP_MD_get_type(hash) != NID_sha256 { return true }
        do {
            session = try externalSession(own)
        } catch {
            pskFailure = error
            return false
        }
        // OpenSSL reads the identity after the callback returns: memory of this connection's own.
        if offeredIdentity == nil {
            let bytes = Array(own.identity.utf8)
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
            _ = buffer.initialize(from: bytes)
            offeredIdentity = UnsafeMutableBufferPointer(rebasing: buffer[..<bytes.count])
        }
        identity.pointee = UnsafePointer(offeredIdentity!.baseAddress)
        length.pointee = offeredIdentity!.count
        pskIdentity = own.identity
        return true
    }

    /// The scheme of the server's handshake signature: the server reads its own, the client its peer's.
    private func serverSignatureScheme() -> String? {
        var keyType: Int32 = 0
        var hash: Int32 = 0
        let found: Bool
        if role == .server {
            found = SSL_get_signature_type_nid(handle, &keyType) == 1 && CShimOpenSSL_SSL_get_signature_nid(handle, &hash) == 1
        } else {
            found = CShimOpenSSL_SSL_get_peer_signature_type_nid(handle, &keyType) == 1 && CShimOpenSSL_SSL_get_peer_signature_nid(handle, &hash) == 1
        }
        guard found else { return nil }
        return OpenSSLNames.signatureScheme(keyType: keyType, hash: hash)
    }

    private func negotiatedGroup() -> String? {
        let nid = CShimOpenSSL_SSL_get_negotiated_group(handle)
        if nid > 0, let name = OpenSSLNames.groupName(nid: nid) { return name }
        // TLS 1.2 (EC)DHE: the ephemeral key the handshake used says which group it was.
        var key: OpaquePointer?
        let found = role == .client ? CShimOpenSSL_SSL_get_peer_tmp_key(handle, &key) : CShimOpenSSL_SSL_get_tmp_key(handle, &key)
        guard found == 1, let key else { return nil }
        defer { EVP_PKEY_free(key) }
        return OpenSSLNames.groupName(ephemeralKey: key)
    }

    fileprivate func observe(where kind: Int32, value: Int32) {
        guard kind & SSL_CB_ALERT != 0, alert == nil else { return }
        let level = (value >> 8) & 0xff
        let description = UInt8(value & 0xff)
        // Only fatal alerts say why a connection died; close_notify is a warning-level alert.
        guard level == SSL3_AL_FATAL else { return }
        alert = ObservedAlert(code: description, direction: kind & SSL_CB_READ != 0 ? .received : .sent)
    }
}

/// Owns one `SSL_SESSION` kept for resumption.
final class OpenSSLSession {
    let handle: OpaquePointer
    init(handle: OpaquePointer) { self.handle = handle }
    deinit { SSL_SESSION_free(handle) }
}

/// OpenSSL's message callback: every protocol message sent or received, used to count KeyUpdates.
private func countKeyUpdates(_ writing: Int32, _ version: Int32, _ contentType: Int32, _ bytes: UnsafeRawPointer?, _ length: Int,
                             _ ssl: OpaquePointer?, _ argument: UnsafeMutableRawPointer?) {
    guard let ssl, let bytes, let pointer = SSL_get_ex_data(ssl, 0) else { return }
    Unmanaged<OpenSSLConnection>.fromOpaque(pointer).takeUnretainedValue()
        .observeMessage(sent: writing == 1, contentType: contentType, UnsafeRawBufferPointer(start: bytes, count: length))
}

/// OpenSSL's PSK server callback, given the identity the client sent.
func serverPreSharedKey(_ ssl: OpaquePointer?, _ identity: UnsafePointer<CChar>?, _ key: UnsafeMutablePointer<UInt8>?, _ room: UInt32) -> UInt32 {
    guard let ssl, let identity, let key, let pointer = SSL_get_ex_data(ssl, 0) else { return 0 }
    return Unmanaged<OpenSSLConnection>.fromOpaque(pointer).takeUnretainedValue()
        .serverPreSharedKey(identity: String(cString: identity), into: UnsafeMutableBufferPointer(start: key, count: Int(room)))
}

/// OpenSSL's PSK client callback, given the server's identity hint (unused: the client has one key).
func clientPreSharedKey(_ ssl: OpaquePointer?, _ hint: UnsafePointer<CChar>?, _ identity: UnsafeMutablePointer<CChar>?, _ identityRoom: UInt32,
                        _ key: UnsafeMutablePointer<UInt8>?, _ keyRoom: UInt32) -> UInt32 {
    guard let ssl, let identity, let key, let pointer = SSL_get_ex_data(ssl, 0) else { return 0 }
    return Unmanaged<OpenSSLConnection>.fromOpaque(pointer).takeUnretainedValue()
        .clientPreSharedKey(identity: UnsafeMutableBufferPointer(start: identity, count: Int(identityRoom)),
                            key: UnsafeMutableBufferPointer(start: key, count: Int(keyRoom)))
}

/// OpenSSL's TLS 1.3 server callback: the session for the identity the client offered (none for
/// an unknown one); 0 fails the handshake.
func findExternalPreSharedKey(_ ssl: OpaquePointer?, _ identity: UnsafePointer<UInt8>?, _ length: Int, _ session: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let ssl, let identity, let session, let pointer = SSL_get_ex_data(ssl, 0) else { return 0 }
    let name = String(decoding: UnsafeBufferPointer(start: identity, count: length), as: UTF8.self)
    var found: OpaquePointer?
    let ok = Unmanaged<OpenSSLConnection>.fromOpaque(pointer).takeUnretainedValue().findExternalPreSharedKey(identity: name, session: &found)
    session.pointee = found
    return ok ? 1 : 0
}

/// OpenSSL's TLS 1.3 client callback: the session and identity to offer; 0 fails the handshake.
func useExternalPreSharedKey(_ ssl: OpaquePointer?, _ hash: OpaquePointer?, _ identity: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
                             _ length: UnsafeMutablePointer<Int>?, _ session: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let ssl, let identity, let length, let session, let pointer = SSL_get_ex_data(ssl, 0) else { return 0 }
    var offered: OpaquePointer?
    let ok = Unmanaged<OpenSSLConnection>.fromOpaque(pointer).takeUnretainedValue()
        .useExternalPreSharedKey(hash: hash, identity: identity, length: length, session: &offered)
    session.pointee = offered
    return ok ? 1 : 0
}

/// OpenSSL's key log callback: it formats NSS key log lines itself.
func writeKeyLogLine(_ ssl: OpaquePointer?, _ line: UnsafePointer<CChar>?) {
    guard let ssl, let line, let pointer = SSL_get_ex_data(ssl, 0) else { return }
    Unmanaged<OpenSSLConnection>.fromOpaque(pointer).takeUnretainedValue().keyLog?.append(line: String(cString: line))
}

/// OpenSSL's info callback: finds the connection through the SSL's app data and records alerts.
private func recordAlert(_ ssl: OpaquePointer?, _ kind: Int32, _ value: Int32) {
    guard let ssl, let pointer = SSL_get_ex_data(ssl, 0) else { return }
    Unmanaged<OpenSSLConnection>.fromOpaque(pointer).takeUnretainedValue().observe(where: kind, value: value)
}
