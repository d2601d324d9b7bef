internal import CShimGnuTLS
#if canImport(Glibc)
import Glibc
#endif
import PeerKit

/// Owns one `gnutls_session_t` on a non-blocking socket and maps GnuTLS's results into
/// `AsyncOperationResult`: `GNUTLS_E_AGAIN` becomes want-read or want-write by
/// `gnutls_record_get_direction`.
final class GnuTLSSession {
    private var handle: gnutls_session_t
    let credentials: GnuTLSCredentials
    /// `--psk`: the identity and key the PSK callbacks hand out or check.
    let preSharedKey: GnuTLSPSKCredentials?
    /// Client: the identity its PSK callback handed GnuTLS on this connection (nil until asked).
    var offeredPSKIdentity: String?
    /// Server: an identity its PSK callback refused as unknown on this connection.
    var refusedPSKIdentity: String?
    private let priority: GnuTLSPriority
    private let role: Role
    /// gnutls_session_set_verify_cert2 keeps the pointers it is given for the session's lifetime
    /// (its documentation says so), so the host name, purpose and their table live here.
    private let verifyName: UnsafeMutablePointer<CChar>?
    private let verifyPurpose: UnsafeMutablePointer<CChar>?
    /// The raw address of an IP-literal `--server-name` (4 or 16 bytes), for GNUTLS_DT_IP_ADDRESS.
    private let verifyAddress: UnsafeMutableBufferPointer<UInt8>?
    private let verifyData: UnsafeMutablePointer<gnutls_typed_vdata_st>
    fileprivate let keyLog: KeyLog?
    /// The server's session cache or ticket key, shared by its connections.
    private let resumption: GnuTLSServerResumption?
    /// KeyUpdate messages seen by the handshake hook.
    fileprivate(set) var keyUpdates = KeyUpdateCount()
    private let resumptionMode: ResumptionMode?
    /// A call failed with a fatal error: the alert went (map sends it) or came, or the transport is gone.
    private var failedFatally = false

    init(request: PeerRequest, credentials: GnuTLSCredentials, preSharedKey: GnuTLSPSKCredentials?, priority: GnuTLSPriority,
         descriptor: Int32, resumption: GnuTLSServerResumption?, resuming saved: [UInt8]?) throws(PeerFailure) {
        var session: gnutls_session_t?
        var flags = UInt32(request.role == .server ? GNUTLS_SERVER : GNUTLS_CLIENT) | UInt32(GNUTLS_NONBLOCK)
        // Session-id resumption: the client neither asks for nor takes tickets.
        if request.resumption == .sessionID { flags |= UInt32(GNUTLS_NO_TICKETS) }
        let rc = gnutls_init(&session, flags)
        guard rc == GNUTLS_E_SUCCESS, let session else { throw PeerFailure(stage: .setup, error: GnuTLSError.make(rc, "gnutls_init")) }
        handle = session
        self.credentials = credentials
        self.preSharedKey = preSharedKey
        self.priority = priority
        role = request.role
        self.resumption = resumption
        resumptionMode = request.resumption
        let identity = request.serverIdentity
        verifyName = request.role == .client ? identity.sniHostName.map { strdup($0) } : nil
        if request.role == .client, case .ipAddress(_, let bytes) = identity {
            let address = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
            _ = address.initialize(from: bytes)
            verifyAddress = address
        } else {
            verifyAddress = nil
        }
        // GnuTLS checks extendedKeyUsage only when told which purpose to expect (RFC 5280 §4.2.1.12):
        // id-kp-serverAuth for the server's certificate, id-kp-clientAuth for the client's.
        verifyPurpose = strdup(request.role == .client ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")
        verifyData = .allocate(capacity: 2)
        keyLog = try KeyLog.opened(for: request)
        try check(gnutls_priority_set(session, priority.handle), "gnutls_priority_set")
        try check(gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, UnsafeMutableRawPointer(credentials.handle)), "gnutls_credentials_set")
        if let preSharedKey {
            try check(preSharedKey.set(on: session), "gnutls_credentials_set GNUTLS_CRD_PSK")
        }
        switch request.role {
        case .client:
            // Verifies the chain against the trusted CA, the certificate against the host name (or
            // address) and its purpose, inside the handshake.
            if let verifyName {
                try check(gnutls_server_name_set(session, GNUTLS_NAME_DNS, verifyName, strlen(verifyName)), "gnutls_server_name_set")
                verifyData[0] = gnutls_typed_vdata_st(type: GNUTLS_DT_DNS_HOSTNAME, data: UnsafeMutableRawPointer(verifyName).assumingMemoryBound(to: UInt8.self), size: 0)
            } else if let verifyAddress {
                // No SNI for an address (RFC 6066 §3); GNUTLS_DT_IP_ADDRESS (3.6.0+) matches its raw
                // bytes against the certificate's iPAddress SANs.
                verifyData[0] = gnutls_typed_vdata_st(type: GNUTLS_DT_IP_ADDRESS, data: verifyAddress.baseAddress, size: UInt32(verifyAddress.count))
            }
            verifyData[1] = gnutls_typed_vdata_st(type: GNUTLS_DT_KEY_PURPOSE_OID, data: UnsafeMutableRawPointer(verifyPurpose!).assumingMemoryBound(to: UInt8.self), size: 0)
            gnutls_session_set_verify_cert2(session, verifyData, 2, 0)
        case .server:
            switch request.clientAuth {
            case .none: gnutls_certificate_server_set_request(session, GNUTLS_CERT_IGNORE)
            case .optional: gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST)
            case .required: gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE)
            }
            if request.clientAuth != .none {
                verifyData[0] = gnutls_typed_vdata_st(type: GNUTLS_DT_KEY_PURPOSE_OID, data: UnsafeMutableRawPointer(verifyPurpose!).assumingMemoryBound(to: UInt8.self), size: 0)
                gnutls_session_set_verify_cert2(session, verifyData, 1, 0)
            }
        }
        if !request.alpn.isEmpty {
            // The server insists on an overlap (no_application_protocol otherwise, RFC 7301 §3.2)
            // and prefers its own order.
            let flags = request.role == .server ? UInt32(GNUTLS_ALPN_MANDATORY.rawValue | GNUTLS_ALPN_SERVER_PRECEDENCE.rawValue) : 0
            var names = request.alpn.map { Array($0.utf8) }
            let rc = names.withUnsafeMutableBufferPointer { buffers -> Int32 in
                var data = buffers.indices.map { i in
                    buffers[i].withUnsafeMutableBufferPointer { gnutls_datum_t(data: $0.baseAddress, size: UInt32($0.count)) }
                }
                return gnutls_alpn_set_protocols(session, &data, UInt32(data.count), flags)
            }
            try check(rc, "gnutls_alpn_set_protocols")
        }
        CShimGnuTLS_gnutls_transport_set_int(session, descriptor)
        gnutls_session_set_ptr(session, Unmanaged.passUnretained(self).toOpaque())
        if keyLog != nil {
            gnutls_session_set_keylog_function(session, writeKeyLogSecret)
        }
        gnutls_handshake_set_hook_function(session, UInt32(GNUTLS_HANDSHAKE_KEY_UPDATE.rawValue), GNUTLS_HOOK_POST, countKeyUpdate)
        if let resumption {
            switch resumption.mode {
            case .ticket:
                var key = resumption.ticketKey
                try check(gnutls_session_ticket_enable_server(session, &key), "gnutls_session_ticket_enable_server")
            case .sessionID:
                gnutls_db_set_ptr(session, Unmanaged.passUnretained(resumption).toOpaque())
                gnutls_db_set_store_function(session, storeSession)
                gnutls_db_set_retrieve_function(session, retrieveSession)
                gnutls_db_set_remove_function(session, removeSession)
            }
        }
        if var saved {
            let rc = saved.withUnsafeMutableBytes { gnutls_session_set_data(session, $0.baseAddress, $0.count) }
            try check(rc, "gnutls_session_set_data")
        }
    }

    /// The session to offer on the next connection (`gnutls_session_get_data2`). In TLS 1.3 it
    /// holds a ticket only once the server's NewSessionTicket has been read.
    func resumptionData() throws(PeerFailure) -> [UInt8] {
        if resumptionMode == .ticket && gnutls_protocol_get_version(handle) == GNUTLS_TLS1_3
            && gnutls_session_get_flags(handle) & UInt32(GNUTLS_SFLAGS_SESSION_TICKET.rawValue) == 0 {
            throw PeerFailure(stage: .data, message: "gnutls_session_get_flags: no NewSessionTicket was received on this connection, nothing to resume with")
        }
        var data = gnutls_datum_t()
        let rc = gnutls_session_get_data2(handle, &data)
        guard rc == GNUTLS_E_SUCCESS, let bytes = data.data else {
            throw PeerFailure(stage: .data, error: GnuTLSError.make(rc, "gnutls_session_get_data2"))
        }
        defer { CShimGnuTLS_gnutls_free(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: Int(data.size)))
    }

    /// One step of a KeyUpdate asking the peer to update its keys too.
    func requestKeyUpdate() -> AsyncOperationResult<Void> {
        let rc = gnutls_session_key_update(handle, UInt32(GNUTLS_KU_PEER))
        if rc == GNUTLS_E_SUCCESS { return .complete(()) }
        return map(rc, "gnutls_session_key_update")
    }

    fileprivate func observeKeyUpdate(incoming: Bool) {
        if incoming { keyUpdates.received += 1 } else { keyUpdates.sent += 1 }
    }

    fileprivate func logSecret(label: UnsafePointer<CChar>, secret: UnsafePointer<gnutls_datum_t>) {
        var client = gnutls_datum_t()
        var server = gnutls_datum_t()
        gnutls_session_get_random(handle, &client, &server)
        guard let keyLog, let random = client.data, let bytes = secret.pointee.data else { return }
        keyLog.append(label: String(cString: label),
                      clientRandom: UnsafeRawBufferPointer(start: random, count: Int(client.size)),
                      secret: UnsafeRawBufferPointer(start: bytes, count: Int(secret.pointee.size)))
    }

    deinit {
        gnutls_deinit(handle)
        free(verifyName)
        free(verifyPurpose)
        verifyAddress?.deallocate()
        verifyData.deallocate()
    }

    private func check(_ rc: Int32, _ operation: String) throws(PeerFailure) {
        guard rc >= 0 else { throw PeerFailure(stage: .setup, error: GnuTLSError.make(rc, operation)) }
    }

    func handshake() -> AsyncOperationResult<Void> {
        while true {
            let rc = gnutls_handshake(handle)
            if rc == GNUTLS_E_SUCCESS { return .complete(()) }
            // A warning alert or an interrupted call: the handshake goes on.
            if gnutls_error_is_fatal(rc) == 0 && rc != GNUTLS_E_AGAIN { continue }
            return map(rc, "gnutls_handshake")
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> {
        while true {
            let rc = gnutls_record_recv(handle, buffer.baseAddress, buffer.count)
            if rc >= 0 { return .complete(rc) }
            if gnutls_error_is_fatal(Int32(rc)) == 0 && rc != GNUTLS_E_AGAIN { continue }
            return map(Int32(rc), "gnutls_record_recv")
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> {
        while true {
            let rc = gnutls_record_send(handle, bytes.baseAddress, bytes.count)
            if rc >= 0 { return .complete(rc) }
            if rc == GNUTLS_E_INTERRUPTED { continue }
            return map(Int32(rc), "gnutls_record_send")
        }
    }

    /// After a failure: close_notify, unless the connection already failed fatally (GnuTLS
    /// invalidates a session after a fatal error; its alert went out from `map`).
    func byeAfterFailure() -> AsyncOperationResult<Void> {
        if failedFatally {
            return .failed(TLSError(libraryCode: nil, message: "GnuTLS ended the connection with a fatal error; nothing more to send"))
        }
        return bye()
    }

    /// A deadline mid-handshake: a user_canceled alert, which gnutls_alert_send sends at any time.
    func cancelHandshake() -> AsyncOperationResult<Void> {
        if failedFatally {
            return .failed(TLSError(libraryCode: nil, message: "GnuTLS ended the connection with a fatal error; nothing more to send"))
        }
        let rc = gnutls_alert_send(handle, GNUTLS_AL_WARNING, GNUTLS_A_USER_CANCELED)
        if rc == GNUTLS_E_SUCCESS { return .complete(()) }
        return map(rc, "gnutls_alert_send")
    }

    func bye() -> AsyncOperationResult<Void> {
        let rc = gnutls_bye(handle, GNUTLS_SHUT_WR)
        if rc == GNUTLS_E_SUCCESS { return .complete(()) }
        return map(rc, "gnutls_bye")
    }

    private func map<T>(_ rc: Int32, _ operation: String) -> AsyncOperationResult<T> {
        if rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED {
            return gnutls_record_get_direction(handle) == 0 ? .wantRead : .wantWrite
        }
        if gnutls_error_is_fatal(rc) != 0 { failedFatally = true }
        var error = GnuTLSError.make(rc, operation)
        switch rc {
        case GNUTLS_E_FATAL_ALERT_RECEIVED, GNUTLS_E_WARNING_ALERT_RECEIVED:
            let code = UInt8(truncatingIfNeeded: gnutls_alert_get(handle).rawValue)
            error.alert = ObservedAlert(code: code, direction: .received)
        case GNUTLS_E_PREMATURE_TERMINATION, GNUTLS_E_PUSH_ERROR, GNUTLS_E_PULL_ERROR:
            break // The transport is gone; there is nobody to send an alert to.
        case GNUTLS_E_KEYFILE_ERROR where role == .server && refusedPSKIdentity != nil && gnutls_protocol_get_version(handle) == GNUTLS_TLS1_3:
            // TLS 1.3 has no unknown_psk_identity to answer with (RFC 8446 §4.2.11: the server
            // selects no PSK); GnuTLS 3.7.9 ends the handshake on the callback's refusal instead
            // (lookUpServerKey), with the alert it deems appropriate.
            error.message += " (the PSK identity \"\(refusedPSKIdentity ?? "")\" is unknown to this server; GnuTLS ends a TLS 1.3 handshake on the PSK callback's refusal instead of selecting no PSK)"
            error.alert = sendAppropriateAlert(rc)
        case GNUTLS_E_KEYFILE_ERROR where role == .server && refusedPSKIdentity != nil:
            // GnuTLS turns any error of the server's PSK callback into GNUTLS_E_KEYFILE_ERROR (alias
            // GNUTLS_E_SRP_PWD_ERROR, lib/auth/psk_passwd.c), for which gnutls_error_to_alert names
            // internal_error. The callback refused an identity it does not know, which RFC 4279 §2
            // answers with unknown_psk_identity.
            error.message += " (the PSK identity \"\(refusedPSKIdentity ?? "")\" is unknown to this server)"
            if gnutls_alert_send(handle, GNUTLS_AL_FATAL, GNUTLS_A_UNKNOWN_PSK_IDENTITY) == GNUTLS_E_SUCCESS {
                error.alert = ObservedAlert(code: UInt8(GNUTLS_A_UNKNOWN_PSK_IDENTITY.rawValue), direction: .sent)
            }
        default:
            error.alert = sendAppropriateAlert(rc)
        }
        switch rc {
        case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
            // The code is the verification status, the reason read from its bits; the handshake's
            // error code stays in the message.
            let status = gnutls_session_get_verify_cert_status(handle)
            error.message += " (\(rc)): " + verificationStatus(status)
            error.libraryCode = GnuTLSVerification.code(status)
            error.verifyReason = GnuTLSVerification.reason(status)
        case GNUTLS_E_NO_CERTIFICATE_FOUND, GNUTLS_E_CERTIFICATE_REQUIRED:
            // The server asked for a client certificate that never came (GNUTLS_CERT_REQUIRE).
            if role == .server { error.verifyReason = .noCertificate }
        default: break
        }
        return .failed(error)
    }

    /// GnuTLS leaves sending the alert to the application: sends the one GnuTLS deems appropriate
    /// for `rc`, and says which went.
    private func sendAppropriateAlert(_ rc: Int32) -> ObservedAlert? {
        var level: Int32 = 0
        let alert = gnutls_error_to_alert(rc, &level)
        guard alert >= 0, gnutls_alert_send_appropriate(handle, rc) == GNUTLS_E_SUCCESS else { return nil }
        return ObservedAlert(code: UInt8(truncatingIfNeeded: alert), direction: .sent)
    }

    /// GnuTLS's own sentence for why the peer certificate was rejected.
    private func verificationStatus(_ status: UInt32) -> String {
        var text = gnutls_datum_t()
        guard gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == GNUTLS_E_SUCCESS,
              let data = text.data else { return "status 0x\(String(status, radix: 16))" }
        defer { CShimGnuTLS_gnutls_free(data) }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(text.size)), as: UTF8.self)
    }

    func negotiated() -> NegotiatedView {
        var view = NegotiatedView()
        view.version = GnuTLSNames.version(gnutls_protocol_get_version(handle))
        if let name = gnutls_ciphersuite_get(handle) {
            let standard = String(cString: name)
            view.suiteName = standard.hasPrefix("TLS_") ? standard : nil
        }
        if let suite = currentSuite(version: view.version) {
            view.suiteCode = suite.code
            view.librarySuiteName = suite.libraryName
        }
        view.group = GnuTLSNames.groupName(gnutls_group_get(handle))
        // The algorithm the server signs the handshake with, the same on both sides.
        view.signatureScheme = GnuTLSNames.signatureScheme(gnutls_sign_algorithm_t(rawValue: UInt32(bitPattern: gnutls_sign_algorithm_get(handle))))
        view.resumed = gnutls_session_is_resumed(handle) != 0
        var selected = gnutls_datum_t()
        if gnutls_alpn_get_selected_protocol(handle, &selected) == GNUTLS_E_SUCCESS, let data = selected.data {
            view.alpn = String(decoding: UnsafeBufferPointer(start: data, count: Int(selected.size)), as: UTF8.self)
        }
        view.peerCertificate = peerSubject()
        // At TLS 1.3 gnutls_kx_get names a PSK key exchange (PSK, or (EC)DHE-PSK by the group) once
        // the ServerHello's pre_shared_key selected a PSK, on both sides, and a certificate one when
        // it selected none; a resumed session's PSK is its ticket, not the external one. The
        // client offers one external PSK, so the one selected is the identity its callback sent.
        if GnuTLSPSKCredentials.isPSK(gnutls_kx_get(handle)) && !(view.version == .tls13 && view.resumed) {
            view.pskIdentity = role == .server ? GnuTLSPSKServerCredentials.acceptedIdentity(of: handle) : offeredPSKIdentity
        }
        if role == .server {
            var name = [CChar](repeating: 0, count: 256)
            var length = name.count
            var type: UInt32 = 0
            if gnutls_server_name_get(handle, &name, &length, &type, 0) == GNUTLS_E_SUCCESS, type == GNUTLS_NAME_DNS.rawValue {
                view.serverName = String(decoding: name[..<min(length, name.count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return view
    }

    /// The code point of the negotiated suite: the entry of GnuTLS's suite table with the session's
    /// key exchange, cipher and MAC (TLS 1.3 suites are keyed by cipher and PRF hash alone).
    private func currentSuite(version: TLSVersion?) -> GnuTLSNames.Suite? {
        let cipher = gnutls_cipher_get(handle)
        if version == .tls13 {
            let prf = gnutls_prf_hash_get(handle)
            return GnuTLSNames.allSuites.first {
                $0.minVersion == .tls13 && $0.cipherID == cipher && ($0.macID.rawValue == prf.rawValue || $0.macID == GNUTLS_MAC_AEAD)
            }
        }
        let kx = gnutls_kx_get(handle)
        let mac = gnutls_mac_get(handle)
        return GnuTLSNames.allSuites.first {
            $0.minVersion != .tls13 && $0.keyExchangeID == kx && $0.cipherID == cipher && $0.macID == mac
        }
    }

    /// The subject of the first certificate the other side sent, RFC 4514 style.
    private func peerSubject() -> String? {
        var count: UInt32 = 0
        guard let list = gnutls_certificate_get_peers(handle, &count), count > 0 else { return nil }
        var certificate: gnutls_x509_crt_t?
        guard gnutls_x509_crt_init(&certificate) == GNUTLS_E_SUCCESS, let certificate else { return nil }
        defer { gnutls_x509_crt_deinit(certificate) }
        guard gnutls_x509_crt_import(certificate, list, GNUTLS_X509_FMT_DER) == GNUTLS_E_SUCCESS else { return nil }
        var dn = gnutls_datum_t()
        guard gnutls_x509_crt_get_dn3(certificate, &dn, 0) == GNUTLS_E_SUCCESS, let data = dn.data else { return nil }
        defer { CShimGnuTLS_gnutls_free(data) }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(dn.size)), as: UTF8.self)
    }
}

/// GnuTLS's key log hook: back to the session through its user pointer.
private func writeKeyLogSecret(_ session: gnutls_session_t?, _ label: UnsafePointer<CChar>?, _ secret: UnsafePointer<gnutls_datum_t>?) -> Int32 {
    guard let session, let label, let secret, let pointer = gnutls_session_get_ptr(session) else { return 0 }
    Unmanaged<GnuTLSSession>.fromOpaque(pointer).takeUnretainedValue().logSecret(label: label, secret: secret)
    return 0
}

/// GnuTLS's handshake hook, set for KeyUpdate messages only, after each is sent or received.
private func countKeyUpdate(_ session: gnutls_session_t?, _ type: UInt32, _ when: UInt32, _ incoming: UInt32, _ message: UnsafePointer<gnutls_datum_t>?) -> Int32 {
    guard let session, type == GNUTLS_HANDSHAKE_KEY_UPDATE.rawValue, let pointer = gnutls_session_get_ptr(session) else { return 0 }
    Unmanaged<GnuTLSSession>.fromOpaque(pointer).takeUnretainedValue().observeKeyUpdate(incoming: incoming != 0)
    return 0
}

// The server's session cache, reached through gnutls_db_set_ptr. GnuTLS frees what retrieve
// returns with gnutls_free, so it is copied into gnutls_malloc'ed memory.
private func cache(_ pointer: UnsafeMutableRawPointer?) -> GnuTLSServerResumption? {
    pointer.map { Unmanaged<GnuTLSServerResumption>.fromOpaque($0).takeUnretainedValue() }
}

private func bytes(_ datum: gnutls_datum_t) -> [UInt8] {
    guard let data = datum.data else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: Int(datum.size)))
}

private func storeSession(_ pointer: UnsafeMutableRawPointer?, _ key: gnutls_datum_t, _ data: gnutls_datum_t) -> Int32 {
    guard let owner = cache(pointer) else { return -1 }
    owner.cache[bytes(key)] = bytes(data)
    return 0
}

private func retrieveSession(_ pointer: UnsafeMutableRawPointer?, _ key: gnutls_datum_t) -> gnutls_datum_t {
    guard let owner = cache(pointer), let stored = owner.cache[bytes(key)],
          let copy = CShimGnuTLS_gnutls_malloc(max(1, stored.count)) else { return gnutls_datum_t() }
    stored.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    return gnutls_datum_t(data: copy.assumingMemoryBound(to: UInt8.self), size: UInt32(stored.count))
}

private func removeSession(_ pointer: UnsafeMutableRawPointer?, _ key: gnutls_datum_t) -> Int32 {
    guard let owner = cache(pointer) else { return -1 }
    return owner.cache.removeValue(forKey: bytes(key)) == nil ? -1 : 0
}
