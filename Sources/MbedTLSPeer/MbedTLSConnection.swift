internal import CShimMbedTLS
import PeerKit

/// Owns one `mbedtls_ssl_context` on a non-blocking socket and maps Mbed TLS's results into
/// `AsyncOperationResult`.
final class MbedTLSConnection {
    private let ssl = UnsafeMutablePointer<mbedtls_ssl_context>.allocate(capacity: 1)
    private let transport = UnsafeMutablePointer<mbedtls_net_context>.allocate(capacity: 1)
    private let configuration: MbedTLSConfiguration
    private let role: Role
    /// The ECDHE group and whether the session was resumed, caught while the handshake parameters
    /// still exist: 2.28 frees them when the handshake ends and has no getter for either.
    private var group: String?
    private var resumed = false
    /// 3.x, which cannot say whether a handshake resumed: whether it went through the state that
    /// sends or receives the server's Certificate, which a resumption (TLS 1.2 abbreviated
    /// handshake, TLS 1.3 PSK) skips.
    private var certificateStateSeen = false
    /// The SNI name the server's callback received.
    private var serverName: String?
    /// Server: the PSK identity its callback was handed and admitted.
    private var admittedPSKIdentity: String?
    /// Client: whether it offered a session of an earlier connection (a TLS 1.3 ticket is a PSK too).
    private let offersSession: Bool
    /// The first fatal alert seen on the wire in either direction.
    fileprivate var alert: ObservedAlert?
    /// A call failed for good: Mbed TLS sent or received its fatal alert (2.28 does not invalidate
    /// the context after one, so this side remembers), or the transport is gone.
    private var failedFatally = false

    init(configuration: MbedTLSConfiguration, descriptor: Int32, request: PeerRequest, resuming session: MbedTLSSession?) throws(PeerFailure) {
        self.configuration = configuration
        role = request.role
        offersSession = session != nil
        mbedtls_ssl_init(ssl)
        transport.pointee.fd = descriptor
        let rc = mbedtls_ssl_setup(ssl, configuration.handle)
        guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "mbedtls_ssl_setup")) }
        if request.role == .client {
            // SNI and the name the certificate must match; verification itself is authmode REQUIRED.
            // (An address literal never gets here: MbedTLSConfiguration refuses it.)
            let named = mbedtls_ssl_set_hostname(ssl, request.serverName)
            guard named == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(named, "mbedtls_ssl_set_hostname")) }
        }
        mbedtls_ssl_set_bio(ssl, Unmanaged.passUnretained(self).toOpaque(), sendRecord, receiveRecord, nil)
        if let target = configuration.keyLogTarget { CShimMbedTLS_ssl_key_log(ssl, target) }
        if let session {
            let rc = mbedtls_ssl_set_session(ssl, session.handle)
            guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "mbedtls_ssl_set_session")) }
        }
    }

    /// Server: the SNI callback's name; the alternate certificate when it names the alternate host.
    func received(serverName name: String) -> Int32 {
        serverName = name
        guard let alternate = configuration.alternate, alternate.name.lowercased() == name.lowercased() else { return 0 }
        return mbedtls_ssl_set_hs_own_cert(ssl, alternate.chain.handle, alternate.key.handle)
    }

    /// Server: the identity of the PSK callback. The one identity of `--psk` (byte for byte, not by
    /// Unicode equivalence) gets its key for this handshake; any other is unknown, which Mbed TLS
    /// refuses with unknown_psk_identity at TLS 1.2 (ssl_parse_client_psk_identity: any non-zero
    /// result) and passes over at TLS 1.3, where it selects no PSK and goes on with its certificate
    /// (ssl_tls13_parse_pre_shared_key_ext: MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY). Admitted is not
    /// selected at TLS 1.3: a binder that does not verify ends the handshake, and a key exchange
    /// mode the client does not offer leaves the PSK unused (`selectedExternalPreSharedKey`).
    func received(pskIdentity identity: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard let known = configuration.preSharedKey, identity.elementsEqual(known.identity.utf8) else { return -1 }
        let rc = mbedtls_ssl_set_hs_psk(ssl, known.key, known.key.count)
        if rc == 0 { admittedPSKIdentity = String(decoding: identity, as: UTF8.self) }
        return rc
    }

    /// Client: a copy of this connection's session, to offer on the next one.
    func resumableSession() throws(PeerFailure) -> MbedTLSSession {
        let session = MbedTLSSession()
        let rc = mbedtls_ssl_get_session(ssl, session.handle)
        guard rc == 0 else { throw PeerFailure(stage: .data, error: MbedTLSError.make(rc, "mbedtls_ssl_get_session")) }
        return session
    }

    deinit {
        mbedtls_ssl_free(ssl)
        ssl.deallocate()
        transport.deallocate()
    }

    fileprivate func send(_ buffer: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
        let rc = mbedtls_net_send(transport, buffer, length)
        // Mbed TLS sends its fatal alerts itself and does not say which; a plaintext alert record
        // (type 21, length 2, level 2) on the wire does. Encrypted alerts stay unknown (null).
        if rc >= 7, let buffer, alert == nil, buffer[0] == 21, buffer[3] == 0, buffer[4] == 2, buffer[5] == 2 {
            alert = ObservedAlert(code: buffer[6], direction: .sent)
        }
        return rc
    }

    fileprivate func receive(_ buffer: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
        mbedtls_net_recv(transport, buffer, length)
    }

    func handshake() -> AsyncOperationResult<Void> {
        while CShimMbedTLS_handshake_state(ssl) != Int32(MBEDTLS_SSL_HANDSHAKE_OVER.rawValue) {
            let rc = mbedtls_ssl_handshake_step(ssl)
            noteHandshakeParameters()
            if rc != 0 { return map(rc, "mbedtls_ssl_handshake") }
        }
        // An external PSK skips the certificate as a resumption does, and is none.
        if CShimMbedTLS_handshake_resumed(ssl) < 0 { resumed = !certificateStateSeen && !selectedExternalPreSharedKey }
        return .complete(())
    }

    /// Whether a completed TLS 1.3 handshake used the external PSK of `--psk` (3.x). Neither side
    /// has a getter for the key exchange mode (handshake->key_exchange_mode is in a header 3.x does
    /// not install), but both state machines go from EncryptedExtensions straight to the server's
    /// Finished when the ServerHello selected a PSK, and through the server's Certificate when it
    /// did not (ssl_tls13_client.c ssl_tls13_process_encrypted_extensions,
    /// ssl_tls13_server.c ssl_tls13_write_encrypted_extensions). The PSK is then the external one
    /// when it is the only one there was: the client offered no ticket, the server's callback
    /// admitted the identity (a ticket is found without it).
    private var selectedExternalPreSharedKey: Bool {
        guard configuration.preSharedKey != nil, !certificateStateSeen,
              MbedTLSVersion.parse(String(cString: mbedtls_ssl_get_version(ssl))) == .tls13 else { return false }
        return role == .server ? admittedPSKIdentity != nil : !offersSession
    }

    private func noteHandshakeParameters() {
        switch CShimMbedTLS_handshake_resumed(ssl) {
        case 1: resumed = true
        case -1 where CShimMbedTLS_handshake_state(ssl) == Int32(MBEDTLS_SSL_SERVER_CERTIFICATE.rawValue): certificateStateSeen = true
        default: break
        }
        let id = mbedtls_ecp_group_id(UInt32(CShimMbedTLS_handshake_ecdh_group(ssl)))
        guard id != MBEDTLS_ECP_DP_NONE, let info = mbedtls_ecp_curve_info_from_grp_id(id) else { return }
        group = NamedGroup.name(code: info.pointee.tls_id)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> {
        var rc = mbedtls_ssl_read(ssl, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count)
        // 3.x, TLS 1.3: a NewSessionTicket was taken in (the session now holds it); read on.
        while rc == CShimMbedTLS_ERR_RECEIVED_NEW_SESSION_TICKET {
            rc = mbedtls_ssl_read(ssl, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count)
        }
        if rc > 0 { return .complete(Int(rc)) }
        if rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY { return .complete(0) }
        if rc == 0 {
            return .failed(TLSError(libraryCode: "0", message: "mbedtls_ssl_read: connection closed by peer without close_notify", alert: alert))
        }
        return map(rc, "mbedtls_ssl_read")
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> {
        let rc = mbedtls_ssl_write(ssl, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        if rc >= 0 { return .complete(Int(rc)) }
        return map(rc, "mbedtls_ssl_write")
    }

    /// After a failure: close_notify, unless the connection already failed fatally.
    func closeNotifyAfterFailure() -> AsyncOperationResult<Void> {
        if failedFatally {
            return .failed(TLSError(libraryCode: nil, message: "Mbed TLS ended the connection with a fatal error; nothing more to send"))
        }
        return closeNotify()
    }

    /// A deadline mid-handshake: a user_canceled alert (mbedtls_ssl_send_alert_message works in any
    /// state; mbedtls_ssl_close_notify sends nothing before the handshake is over).
    func cancelHandshake() -> AsyncOperationResult<Void> {
        if failedFatally {
            return .failed(TLSError(libraryCode: nil, message: "Mbed TLS ended the connection with a fatal error; nothing more to send"))
        }
        let rc = mbedtls_ssl_send_alert_message(ssl, UInt8(MBEDTLS_SSL_ALERT_LEVEL_WARNING), UInt8(MBEDTLS_SSL_ALERT_MSG_USER_CANCELED))
        if rc == 0 { return .complete(()) }
        return map(rc, "mbedtls_ssl_send_alert_message")
    }

    func closeNotify() -> AsyncOperationResult<Void> {
        let rc = mbedtls_ssl_close_notify(ssl)
        if rc == 0 { return .complete(()) }
        return map(rc, "mbedtls_ssl_close_notify")
    }

    private func map<T>(_ rc: Int32, _ operation: String) -> AsyncOperationResult<T> {
        switch rc {
        case MBEDTLS_ERR_SSL_WANT_READ: return .wantRead
        case MBEDTLS_ERR_SSL_WANT_WRITE: return .wantWrite
        default: break
        }
        failedFatally = true
        var error = MbedTLSError.make(rc, operation)
        switch rc {
        case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
            // The alert record's description byte stays in the input buffer.
            let code = CShimMbedTLS_received_alert(ssl)
            if code >= 0 { error.alert = ObservedAlert(code: UInt8(code), direction: .received) }
        case CShimMbedTLS_ERR_BAD_CERTIFICATE where MbedTLSVerification.isRefusal(mbedtls_ssl_get_verify_result(ssl)):
            // 2.28 (BAD_HS_CERTIFICATE) and 3.x (BAD_CERTIFICATE) report a certificate whose (extended) key usage does not fit as a bad Certificate
            // message, with the verification flags set ("bad certificate (usage extensions)",
            // ssl_tls.c): a verification refusal all the same.
            let flags = mbedtls_ssl_get_verify_result(ssl)
            error.message = "\(error.message) (\(MbedTLSError.hex(rc))): " + verificationFlags(flags)
            error.libraryCode = MbedTLSVerification.code(flags)
            error.verifyReason = MbedTLSVerification.reason(flags)
            error.alert = alert
        case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED:
            // The code is the verification flags, the reason read from them; the handshake's error
            // code stays in the message. CA_CHAIN_REQUIRED: authmode REQUIRED with no trusted CA
            // (no --ca), which nothing can be trusted under.
            let flags = mbedtls_ssl_get_verify_result(ssl)
            error.message = "\(error.message) (\(MbedTLSError.hex(rc))): " + verificationFlags(flags)
            error.libraryCode = MbedTLSVerification.code(flags)
            let reason = MbedTLSVerification.reason(flags)
            error.verifyReason = rc == MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED && reason == .other ? .untrusted : reason
            error.alert = alert
        case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
            // The server asked for a client certificate that never came (authmode REQUIRED); 2.28
            // sends no alert then ("The client should know what's going on", ssl_tls.c).
            if role == .server { error.verifyReason = .noCertificate }
            error.alert = alert
        default:
            error.alert = alert
        }
        return .failed(error)
    }

    /// `mbedtls_x509_crt_verify_info` for the flags of the failed verification.
    private func verificationFlags(_ flags: UInt32) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        mbedtls_x509_crt_verify_info(&buffer, buffer.count, "", flags)
        let text = String(nulTerminated: buffer).split(separator: "\n").joined(separator: "; ")
        return "\(text) (flags 0x\(String(flags, radix: 16)))"
    }

    func negotiated() -> NegotiatedView {
        var view = NegotiatedView()
        view.version = MbedTLSVersion.parse(String(cString: mbedtls_ssl_get_version(ssl)))
        var preSharedKeySuite = false
        if let name = mbedtls_ssl_get_ciphersuite(ssl) {
            let libraryName = String(cString: name)
            view.librarySuiteName = libraryName
            let id = mbedtls_ssl_get_ciphersuite_id(name)
            if id > 0 { view.suiteCode = UInt16(id) }
            if let info = mbedtls_ssl_ciphersuite_from_id(id) { preSharedKeySuite = CShimMbedTLS_suite_uses_psk(info) != 0 }
            // Mbed TLS's names are IANA-like, not IANA's (0xC0AA is its TLS-DHE-PSK-WITH-AES-128-CCM-8,
            // IANA's TLS_PSK_DHE_WITH_AES_128_CCM_8): the name is not the library's to give, so the
            // runner names the suite from its code point.
            view.suiteName = nil
        }
        view.group = group
        // Neither series keeps the handshake's signature algorithm in a field it exposes, and 3.x
        // keeps the key-exchange group only in handshake parameters it does not declare.
        view.notReadable = group == nil && !MbedTLSVersion.is2x ? ["signature_scheme", "group"] : ["signature_scheme"]
        if view.version == .tls13, let preSharedKey = configuration.preSharedKey {
            // The external PSK's identity when the server selected it: the server's is the one its
            // callback admitted, the client's the only one it offered. None when the server selected
            // no PSK and authenticated with its certificate.
            if selectedExternalPreSharedKey {
                view.pskIdentity = role == .server ? admittedPSKIdentity : preSharedKey.identity
            } else if role == .client && !certificateStateSeen {
                // A PSK and no certificate, but a ticket was offered before the external PSK:
                // nothing says which of the two the ServerHello selected.
                view.notReadable.append("psk_identity")
            }
        } else if preSharedKeySuite {
            // The server's identity is the one its callback admitted. A client's identity is
            // configuration only (mbedtls_ssl_conf_psk): nothing shows the library sent it. Neither
            // does a resumed session, which keeps no identity and calls no callback.
            if let identity = admittedPSKIdentity { view.pskIdentity = identity } else { view.notReadable.append("psk_identity") }
        }
        view.resumed = resumed
        view.serverName = serverName
        if let name = mbedtls_ssl_get_alpn_protocol(ssl) { view.alpn = String(cString: name) }
        if let certificate = mbedtls_ssl_get_peer_cert(ssl) {
            view.peerCertificate = MbedTLSCapabilities.subject(of: certificate)
        }
        return view
    }
}


/// Mbed TLS's send callback: back to the connection through the context pointer.
private func sendRecord(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    Unmanaged<MbedTLSConnection>.fromOpaque(context!).takeUnretainedValue().send(buffer, length)
}

private func receiveRecord(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
    Unmanaged<MbedTLSConnection>.fromOpaque(context!).takeUnretainedValue().receive(buffer, length)
}
