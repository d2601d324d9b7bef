internal import CShimOpenSSL
@_spi(Faults) import PeerKit

/// Owns one `SSL_CTX`: certificates, trust, versions, suites, groups and verification for the process.
final class OpenSSLContext {
    let handle: OpaquePointer
    /// The server's ALPN list in wire form, read by the selection callback for the context's life.
    fileprivate let alpnWire: UnsafeMutableBufferPointer<UInt8>
    /// `--psk`: the identity and key the PSK callbacks hand OpenSSL.
    let preSharedKey: PreSharedKey?

    init(request: PeerRequest) throws {
        let method = request.role == .server ? TLS_server_method() : TLS_client_method()
        let preSharedKey = try request.preSharedKey()
        guard let ctx = SSL_CTX_new(method) else { throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "SSL_CTX_new")) }
        handle = ctx
        self.preSharedKey = preSharedKey
        let wire = request.alpnWire
        alpnWire = .allocate(capacity: max(1, wire.count))
        _ = alpnWire.initialize(from: wire)
        alpnLength = wire.count
        // Reads and writes may stop half way on a non-blocking socket; the buffer may move between retries.
        _ = CShimOpenSSL_SSL_CTX_set_mode(ctx, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        if request.liftPolicy {
            // Level 0 allows what OpenSSL 3 implements but refuses by default: SHA-1 signatures in
            // TLS 1.0/1.1 handshakes, small keys (SSL_CTX_set_security_level(3)).
            SSL_CTX_set_security_level(ctx, 0)
        }
        if request.role == .server {
            // DHE suites need a group; let OpenSSL pick an RFC 7919 one sized to the certificate.
            _ = CShimOpenSSL_SSL_CTX_set_dh_auto(ctx, 1)
        }
        if let version = request.version {
            guard CShimOpenSSL_SSL_CTX_set_min_proto_version(ctx, Int32(version.wireValue)) == 1,
                  CShimOpenSSL_SSL_CTX_set_max_proto_version(ctx, Int32(version.wireValue)) == 1 else {
                throw Unsupported("OpenSSL \(OpenSSLEngine.library.version) refuses to be limited to \(version.rawValue)")
            }
        }
        if let code = request.suiteCode { try forceSuite(code, version: request.version) }
        if let group = request.group { try forceGroup(group) }
        try loadCredentials(request)
        try configureVerification(request)
        try configureResumption(request)
        if request.alternateName != nil {
            // The certificate is chosen per connection, once the ClientHello's SNI is known.
            _ = CShimOpenSSL_SSL_CTX_set_tlsext_servername_callback(ctx, chooseCertificate)
        }
        if request.keyLogPath != nil { SSL_CTX_set_keylog_callback(ctx, writeKeyLogLine) }
        if preSharedKey != nil {
            // TLS 1.2 PSK suites: OpenSSL asks for the key once it knows the identity (server) or
            // the server's hint (client); the callbacks find the connection through its ex data.
            if request.role == .server {
                SSL_CTX_set_psk_server_callback(ctx, serverPreSharedKey)
            } else {
                SSL_CTX_set_psk_client_callback(ctx, clientPreSharedKey)
            }
            // TLS 1.3 external PSK: a session made of the key, offered (client) or found by its
            // identity (server). OpenSSL's client always offers psk_dhe_ke, so psk_ke alone is
            // not in its features.
            if request.preSharedKeyWithoutKeyExchange {
                throw Unsupported("an OpenSSL client always offers psk_dhe_ke beside psk_ke (SSL_OP_ALLOW_NO_DHE_KEX adds psk_ke, it removes nothing)")
            }
            if request.suiteCode == nil {
                // The external PSK's hash is SHA-256: left to itself OpenSSL may settle on
                // TLS_AES_256_GCM_SHA384 first, and then never select the PSK.
                guard SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256") == 1 else {
                    throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "SSL_CTX_set_ciphersuites (the external PSK's SHA-256 suites)"))
                }
            }
            if request.role == .server {
                SSL_CTX_set_psk_find_session_callback(ctx, findExternalPreSharedKey)
            } else {
                SSL_CTX_set_psk_use_session_callback(ctx, useExternalPreSharedKey)
            }
        }
        if !request.alpn.isEmpty {
            if request.role == .client {
                // Returns 0 on success, unlike most of OpenSSL.
                guard SSL_CTX_set_alpn_protos(ctx, alpnWire.baseAddress, UInt32(request.alpnWire.count)) == 0 else {
                    throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "SSL_CTX_set_alpn_protos"))
                }
            } else {
                SSL_CTX_set_alpn_select_cb(ctx, selectApplicationProtocol, Unmanaged.passUnretained(self).toOpaque())
            }
        }
    }

    deinit {
        SSL_CTX_free(handle)
        alpnWire.deallocate()
    }

    fileprivate var alpnLength: Int = 0

    private func forceSuite(_ code: UInt16, version: TLSVersion?) throws {
        guard let suite = OpenSSLCapabilities.allSuites().first(where: { $0.code == code }) else {
            throw Unsupported("OpenSSL \(OpenSSLEngine.library.version) does not implement cipher suite \(NegotiatedView.hexCode(code))")
        }
        let ok: Int32
        if suite.minVersion == .tls13 {
            ok = SSL_CTX_set_ciphersuites(handle, suite.libraryName)
        } else {
            // An empty TLS 1.3 list leaves only the forced TLS 1.2-and-below suite.
            // The security level travels with the cipher string in OpenSSL; keep a lifted level 0.
            let level = SSL_CTX_get_security_level(handle) == 0 ? ":@SECLEVEL=0" : ""
            ok = SSL_CTX_set_cipher_list(handle, suite.libraryName + level) & SSL_CTX_set_ciphersuites(handle, "")
        }
        guard ok == 1 else {
            throw Unsupported("OpenSSL refused cipher suite \(suite.libraryName): \(OpenSSLError.drain(context: "SSL_CTX_set_cipher_list").message)")
        }
    }

    private func forceGroup(_ group: String) throws {
        // A list goes over as OpenSSL's colon-separated group list; the client's key share is for the first.
        let names = group.split(separator: ",").map { OpenSSLNames.groupName(iana: String($0)) }
        guard names.allSatisfy({ $0 != nil }), CShimOpenSSL_SSL_CTX_set1_groups_list(handle, names.compactMap { $0 }.joined(separator: ":")) == 1 else {
            OpenSSLError.clear()
            throw Unsupported("OpenSSL \(OpenSSLEngine.library.version) does not support group \(group)")
        }
    }

    private func loadCredentials(_ request: PeerRequest) throws(PeerFailure) {
        if let certificate = request.certificatePath, let key = request.keyPath {
            guard SSL_CTX_use_certificate_chain_file(handle, certificate) == 1 else {
                throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "loading certificate \(certificate)"))
            }
            guard SSL_CTX_use_PrivateKey_file(handle, key, SSL_FILETYPE_PEM) == 1,
                  SSL_CTX_check_private_key(handle) == 1 else {
                throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "loading private key \(key)"))
            }
        }
        if let ca = request.trustedCAPath {
            guard SSL_CTX_load_verify_locations(handle, ca, nil) == 1 else {
                throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "loading trusted CA \(ca)"))
            }
        }
    }

    private func configureResumption(_ request: PeerRequest) throws {
        // A server that verifies clients resumes only sessions of its own context (id context).
        let name = Array("interop-matrix".utf8)
        guard SSL_CTX_set_session_id_context(handle, name, UInt32(name.count)) == 1 else {
            throw PeerFailure(stage: .setup, error: OpenSSLError.drain(context: "SSL_CTX_set_session_id_context"))
        }
        if request.resumption == .sessionID {
            guard request.version != .tls13 else {
                throw Unsupported("TLS 1.3 has no session-id resumption (RFC 8446 §2.2: PSK tickets only)")
            }
            // Neither issue nor ask for tickets: the server's session cache, found by id, is all there is.
            SSL_CTX_set_options(handle, CShimOpenSSL_SSL_OP_NO_TICKET)
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
            }
        }
    }
}

/// The server's ALPN choice: its own first protocol the client offered (SSL_select_next_proto).
/// With no overlap it refuses with no_application_protocol, as RFC 7301 §3.2 says a server should.
private func selectApplicationProtocol(_ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
                                       _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let context, let out, let outLength, let offered else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    let owner = Unmanaged<OpenSSLContext>.fromOpaque(context).takeUnretainedValue()
    var selected: UnsafeMutablePointer<UInt8>?
    let rc = SSL_select_next_proto(&selected, outLength, owner.alpnWire.baseAddress, UInt32(owner.alpnLength), offered, offeredLength)
    guard rc == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    out.pointee = UnsafePointer(selected)
    return SSL_TLSEXT_ERR_OK
}

/// OpenSSL's servername callback: a ClientHello naming the alternate host gets the alternate
/// certificate; any other name, or none, keeps the main one.
private func chooseCertificate(_ ssl: OpaquePointer?, _ alert: UnsafeMutablePointer<Int32>?, _ argument: UnsafeMutableRawPointer?) -> Int32 {
    guard let ssl, let pointer = SSL_get_ex_data(ssl, 0) else { return SSL_TLSEXT_ERR_NOACK }
    return Unmanaged<OpenSSLConnection>.fromOpaque(pointer).takeUnretainedValue().chooseCertificate()
}
