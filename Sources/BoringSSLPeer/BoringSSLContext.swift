internal import CNIOBoringSSL
@_spi(Faults) import PeerKit

/// Owns one `SSL_CTX`: certificates, trust, versions, suites, groups and verification for the cell.
final class BoringSSLContext {
    let handle: OpaquePointer
    /// The server's ALPN list in wire form, read by the selection callback for the context's life.
    fileprivate let alpnWire: UnsafeMutableBufferPointer<UInt8>
    fileprivate let alpnLength: Int
    /// The group the client's key share is for (the first of a forced list), set per connection.
    private(set) var keyShareGroup: UInt16?
    /// Server with `--alt-*`: a context holding only the alternate certificate chain and key.
    private(set) var alternateCredentials: OpaquePointer?
    /// `--psk`: the identity and key the PSK callbacks hand BoringSSL.
    let preSharedKey: PreSharedKey?

    init(request: PeerRequest) throws {
        let preSharedKey = try request.preSharedKey()
        guard let ctx = SSL_CTX_new(TLS_method()) else {
            throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_CTX_new"))
        }
        handle = ctx
        self.preSharedKey = preSharedKey
        let wire = request.alpnWire
        alpnWire = .allocate(capacity: max(1, wire.count))
        _ = alpnWire.initialize(from: wire)
        alpnLength = wire.count
        // Reads and writes may stop half way on a non-blocking socket; the buffer may move between retries.
        _ = SSL_CTX_set_mode(ctx, UInt32(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        try configureVersions(request)
        if let code = request.suiteCode { try forceSuite(code, versionForced: request.version != nil) }
        if request.group != nil { try forceGroups(request.groups) }
        if request.liftPolicy { try liftSignaturePolicy(groupsForced: request.group != nil) }
        try loadCredentials(request)
        try configureVerification(request)
        try configureResumption(request)
        if request.alternateName != nil {
            // The certificate is chosen per connection, once the ClientHello's SNI is known.
            _ = SSL_CTX_set_tlsext_servername_callback(ctx, chooseCertificate)
            guard let alternate = SSL_CTX_new(TLS_method()) else {
                throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_CTX_new (alternate)"))
            }
            alternateCredentials = alternate
            guard let certificate = request.alternateCertificatePath, let key = request.alternateKeyPath,
                  SSL_CTX_use_certificate_chain_file(alternate, certificate) == 1,
                  SSL_CTX_use_PrivateKey_file(alternate, key, SSL_FILETYPE_PEM) == 1,
                  SSL_CTX_check_private_key(alternate) == 1 else {
                throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "loading alternate certificate and key"))
            }
        }
        if request.keyLogPath != nil { SSL_CTX_set_keylog_callback(ctx, writeKeyLogLine) }
        if preSharedKey != nil {
            // TLS 1.2 PSK suites are enabled only with these callbacks set (ssl.h).
            if request.role == .server {
                SSL_CTX_set_psk_server_callback(ctx, serverPreSharedKey)
            } else {
                SSL_CTX_set_psk_client_callback(ctx, clientPreSharedKey)
            }
        }
        if !request.alpn.isEmpty {
            if request.role == .client {
                // Returns 0 on success, as in OpenSSL.
                guard SSL_CTX_set_alpn_protos(ctx, alpnWire.baseAddress, wire.count) == 0 else {
                    throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_CTX_set_alpn_protos"))
                }
            } else {
                SSL_CTX_set_alpn_select_cb(ctx, selectApplicationProtocol, Unmanaged.passUnretained(self).toOpaque())
            }
        }
    }

    deinit {
        SSL_CTX_free(handle)
        if let alternateCredentials { SSL_CTX_free(alternateCredentials) }
        alpnWire.deallocate()
    }

    private func configureVersions(_ request: PeerRequest) throws {
        if let version = request.version {
            guard SSL_CTX_set_min_proto_version(handle, version.wireValue) == 1,
                  SSL_CTX_set_max_proto_version(handle, version.wireValue) == 1 else {
                BoringSSLError.clear()
                throw Unsupported("BoringSSL refuses to be limited to \(version.rawValue)")
            }
        } else if request.liftPolicy {
            // BoringSSL's default floor is TLS 1.2 (ssl_versions.cc, set_min_version); it still
            // implements 1.0 and 1.1.
            _ = SSL_CTX_set_min_proto_version(handle, UInt16(TLS1_VERSION))
        }
    }

    /// "Allow exactly this suite": BoringSSL keeps its TLS 1.2 list and its TLS 1.3 list apart and
    /// neither may be emptied, so without a forced version the range shrinks to the suite's versions.
    private func forceSuite(_ code: UInt16, versionForced: Bool) throws {
        guard let cipher = SSL_get_cipher_by_value(code) else {
            throw Unsupported("BoringSSL does not implement cipher suite \(NegotiatedView.hexCode(code))")
        }
        let name = String(cString: SSL_CIPHER_get_name(cipher))
        if !versionForced {
            _ = SSL_CTX_set_max_proto_version(handle, SSL_CIPHER_get_max_version(cipher))
            if SSL_CIPHER_get_min_version(cipher) == UInt16(TLS1_3_VERSION) {
                _ = SSL_CTX_set_min_proto_version(handle, UInt16(TLS1_3_VERSION))
            }
        }
        if SSL_CIPHER_get_min_version(cipher) == UInt16(TLS1_3_VERSION) {
            // BoringSSL API 43 takes TLS 1.3 suites by code point (SSL_CTX_set1_tls13_ciphers);
            // the cipher string does not touch TLS 1.3.
            var id = code
            guard SSL_CTX_set1_tls13_ciphers(handle, &id, nil, 1) == 1 else {
                throw Unsupported("BoringSSL refused TLS 1.3 cipher suite \(name): \(BoringSSLError.drain(context: "SSL_CTX_set1_tls13_ciphers").message)")
            }
        } else {
            // The strict form fails on a name it does not know instead of ignoring it.
            guard SSL_CTX_set_strict_cipher_list(handle, name) == 1 else {
                throw Unsupported("BoringSSL refused cipher suite \(name): \(BoringSSLError.drain(context: "SSL_CTX_set_strict_cipher_list").message)")
            }
        }
    }

    /// `--legacy`: BoringSSL implements Ed25519 and ECDSA P-521 but leaves them out of what it accepts
    /// by default (extensions.cc kVerifySignatureAlgorithms; DefaultSupportedGroupIds has no P-521,
    /// which a TLS 1.2 ECDSA certificate's curve must be). Its defaults plus those.
    private func liftSignaturePolicy(groupsForced: Bool) throws {
        let schemes: [UInt16] = [
            UInt16(SSL_SIGN_ECDSA_SECP256R1_SHA256), UInt16(SSL_SIGN_RSA_PSS_RSAE_SHA256), UInt16(SSL_SIGN_RSA_PKCS1_SHA256),
            UInt16(SSL_SIGN_ECDSA_SECP384R1_SHA384), UInt16(SSL_SIGN_RSA_PSS_RSAE_SHA384), UInt16(SSL_SIGN_RSA_PKCS1_SHA384),
            UInt16(SSL_SIGN_RSA_PSS_RSAE_SHA512), UInt16(SSL_SIGN_RSA_PKCS1_SHA512), UInt16(SSL_SIGN_RSA_PKCS1_SHA1),
            UInt16(SSL_SIGN_ECDSA_SECP521R1_SHA512), UInt16(SSL_SIGN_ED25519), UInt16(SSL_SIGN_ECDSA_SHA1),
        ]
        guard SSL_CTX_set_verify_algorithm_prefs(handle, schemes, schemes.count) == 1 else {
            throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_CTX_set_verify_algorithm_prefs"))
        }
        if !groupsForced {
            let groups: [UInt16] = [UInt16(SSL_GROUP_X25519_MLKEM768), UInt16(SSL_GROUP_X25519), UInt16(SSL_GROUP_SECP256R1),
                                    UInt16(SSL_GROUP_SECP384R1), UInt16(SSL_GROUP_SECP521R1)]
            guard SSL_CTX_set1_group_ids(handle, groups, groups.count) == 1 else {
                throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_CTX_set1_group_ids"))
            }
        }
    }

    private func forceGroups(_ names: [String]) throws {
        var ids: [UInt16] = []
        for name in names {
            guard let id = BoringSSLNames.groupID(iana: name), SSL_get_group_name(id) != nil else {
                throw Unsupported("BoringSSL does not support group \(name)")
            }
            ids.append(id)
        }
        guard SSL_CTX_set1_group_ids(handle, ids, ids.count) == 1 else {
            let error = BoringSSLError.drain(context: "SSL_CTX_set1_group_ids")
            throw Unsupported("BoringSSL refused groups \(names.joined(separator: ",")): \(error.message)")
        }
        // BoringSSL's client sends key shares for up to two groups; the protocol says the first only.
        keyShareGroup = ids.first
    }

    private func loadCredentials(_ request: PeerRequest) throws(PeerFailure) {
        if let certificate = request.certificatePath, let key = request.keyPath {
            guard SSL_CTX_use_certificate_chain_file(handle, certificate) == 1 else {
                throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "loading certificate \(certificate)"))
            }
            guard SSL_CTX_use_PrivateKey_file(handle, key, SSL_FILETYPE_PEM) == 1,
                  SSL_CTX_check_private_key(handle) == 1 else {
                throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "loading private key \(key)"))
            }
        }
        if let ca = request.trustedCAPath {
            guard SSL_CTX_load_verify_locations(handle, ca, nil) == 1 else {
                throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "loading trusted CA \(ca)"))
            }
        }
    }

    private func configureResumption(_ request: PeerRequest) throws {
        // A server that verifies clients resumes only sessions of its own context (id context).
        let name = Array("interop-matrix".utf8)
        guard SSL_CTX_set_session_id_context(handle, name, name.count) == 1 else {
            throw PeerFailure(stage: .setup, error: BoringSSLError.drain(context: "SSL_CTX_set_session_id_context"))
        }
        if request.role == .client {
            // BoringSSL hands a TLS 1.3 client its tickets only through the new-session callback
            // (SSL_get1_session keeps returning the handshake's own, unresumable session), and calls it
            // only with client caching on.
            _ = SSL_CTX_set_session_cache_mode(handle, SSL_SESS_CACHE_CLIENT)
            SSL_CTX_sess_set_new_cb(handle, keepNewSession)
        }
        if request.resumption == .sessionID {
            guard request.version != .tls13 else {
                throw Unsupported("TLS 1.3 has no session-id resumption (RFC 8446 §2.2: PSK tickets only)")
            }
            // Neither issue nor ask for tickets: the server's session cache, found by id, is all there is.
            _ = SSL_CTX_set_options(handle, UInt32(SSL_OP_NO_TICKET))
        }
    }

    private func configureVerification(_ request: PeerRequest) throws(PeerFailure) {
        switch request.role {
        case .client:
            // Chain and host name checks; the host name itself is set per connection (SSL_set1_host).
            SSL_CTX_set_verify(handle, PeerFaults.skipVerification ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nil)
        case .server:
            switch request.clientAuth {
            case .none: SSL_CTX_set_verify(handle, SSL_VERIFY_NONE, nil)
            case .optional: SSL_CTX_set_verify(handle, SSL_VERIFY_PEER, nil)
            case .required: SSL_CTX_set_verify(handle, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            }
            if request.clientAuth != .none, let ca = request.trustedCAPath {
                // Name the acceptable CAs in CertificateRequest, as a real server does.
                if let names = SSL_load_client_CA_file(ca) { SSL_CTX_set_client_CA_list(handle, names) }
                BoringSSLError.clear()
            }
        }
    }
}

/// The server's ALPN choice: its own first protocol the client offered (SSL_select_next_proto).
/// With no overlap it refuses with no_application_protocol, as RFC 7301 §3.2 says a server should.
private func selectApplicationProtocol(_ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
                                       _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let context, let out, let outLength, let offered else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    let owner = Unmanaged<BoringSSLContext>.fromOpaque(context).takeUnretainedValue()
    var selected: UnsafeMutablePointer<UInt8>?
    let rc = SSL_select_next_proto(&selected, outLength, owner.alpnWire.baseAddress, UInt32(owner.alpnLength), offered, offeredLength)
    guard rc == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    out.pointee = UnsafePointer(selected)
    return SSL_TLSEXT_ERR_OK
}

/// The servername callback: a ClientHello naming the alternate host gets the alternate
/// certificate; any other name, or none, keeps the main one.
private func chooseCertificate(_ ssl: OpaquePointer?, _ alert: UnsafeMutablePointer<Int32>?, _ argument: UnsafeMutableRawPointer?) -> Int32 {
    guard let ssl, let pointer = SSL_get_ex_data(ssl, 0) else { return SSL_TLSEXT_ERR_NOACK }
    return Unmanaged<BoringSSLConnection>.fromOpaque(pointer).takeUnretainedValue().chooseCertificate()
}
