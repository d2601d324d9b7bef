internal import CShimWolfSSL
import PeerKit

/// Owns one `WOLFSSL_CTX`: certificates, trust, versions, suites, groups and verification.
final class WolfSSLContext {
    let handle: OpaquePointer
    /// `--psk`: the identity and key the PSK callbacks hand wolfSSL.
    let preSharedKey: PreSharedKey?

    init(request: PeerRequest) throws {
        let method = request.role == .server ? wolfSSLv23_server_method() : wolfSSLv23_client_method()
        let preSharedKey = try request.preSharedKey()
        guard let ctx = wolfSSL_CTX_new(method) else { throw PeerFailure(stage: .setup, message: "wolfSSL_CTX_new failed") }
        handle = ctx
        self.preSharedKey = preSharedKey
        if preSharedKey != nil {
            // TLS 1.2 PSK suites: wolfSSL asks for the key once it has the identity (server) or the
            // server's hint (client); the callbacks find the connection through its ex data.
            if request.role == .server {
                wolfSSL_CTX_set_psk_server_callback(ctx, serverPreSharedKey)
                wolfSSL_CTX_set_psk_server_tls13_callback(ctx, serverExternalPreSharedKey)
            } else {
                wolfSSL_CTX_set_psk_client_callback(ctx, clientPreSharedKey)
                wolfSSL_CTX_set_psk_client_tls13_callback(ctx, clientExternalPreSharedKey)
            }
            // TLS 1.3 psk_ke: the client offers it alone, the server takes nothing else.
            if request.preSharedKeyWithoutKeyExchange {
                guard wolfSSL_CTX_no_dhe_psk(ctx) == 0 else { throw PeerFailure(stage: .setup, message: "wolfSSL_CTX_no_dhe_psk failed") }
            }
        }
        if let version = request.version {
            guard WolfSSLCapabilities.versions.contains(version) else {
                throw Unsupported("wolfSSL \(WolfSSLEngine.library.version) is built without \(version.rawValue) (Debian's build has \(WolfSSLCapabilities.versions.map(\.rawValue).joined(separator: ", ")))")
            }
            try limit(to: version...version)
        }
        if let code = request.suiteCode { try forceSuite(code, version: request.version) }
        if !request.groups.isEmpty { try forceGroups(request.groups) }
        try loadCredentials(request)
        configureVerification(request)
        try configureResumption(request)
    }

    deinit { wolfSSL_CTX_free(handle) }

    private func limit(to range: ClosedRange<TLSVersion>) throws(PeerFailure) {
        guard wolfSSL_CTX_set_min_proto_version(handle, Int32(range.lowerBound.wireValue)) == WOLFSSL_SUCCESS,
              wolfSSL_CTX_set_max_proto_version(handle, Int32(range.upperBound.wireValue)) == WOLFSSL_SUCCESS else {
            throw PeerFailure(stage: .setup, error: WolfSSLError.queue("wolfSSL_CTX_set_min/max_proto_version \(range)"))
        }
    }

    /// One suite, by wolfSSL's own name for the code point. With OPENSSL_ALL wolfSSL's cipher list
    /// keeps the TLS 1.3 suites when a list names none (as OpenSSL does), so a TLS 1.2-and-below suite
    /// also caps the version at TLS 1.2, and a TLS 1.3 suite raises the floor to TLS 1.3: otherwise
    /// the other versions' suites would stay allowed.
    private func forceSuite(_ code: UInt16, version: TLSVersion?) throws {
        guard let suite = WolfSSLCapabilities.suite(code: code) else {
            throw Unsupported("wolfSSL \(WolfSSLEngine.library.version) does not implement cipher suite \(NegotiatedView.hexCode(code))")
        }
        let lowest = WolfSSLCapabilities.versions.first ?? .tls12
        let (low, high) = WolfSSLCapabilities.versions(of: suite, lowest: lowest)
        if let version, !(low...high).contains(version) {
            throw Unsupported("wolfSSL cannot use \(suite.libraryName) with \(version.rawValue)")
        }
        if version == nil { try limit(to: max(low, lowest)...high) }
        guard wolfSSL_CTX_set_cipher_list(handle, suite.libraryName) == WOLFSSL_SUCCESS else {
            throw Unsupported("wolfSSL refused cipher suite \(suite.libraryName): \(WolfSSLError.queue("wolfSSL_CTX_set_cipher_list").message)")
        }
    }

    /// Groups by IANA code point (wolfSSL's WOLFSSL_ECC_*/WOLFSSL_FFDHE_* are those values), most
    /// preferred first: `wolfSSL_CTX_set_groups` orders TLS 1.3 key shares (the first gets the
    /// client's share) and the supported_groups extension.
    private func forceGroups(_ names: [String]) throws {
        var codes: [Int32] = []
        for name in names {
            guard let code = NamedGroup.code(of: name), WolfSSLCapabilities.groups.contains(code) else {
                throw Unsupported("wolfSSL \(WolfSSLEngine.library.version) does not support group \(name) in this build")
            }
            codes.append(Int32(code))
        }
        guard wolfSSL_CTX_set_groups(handle, &codes, Int32(codes.count)) == WOLFSSL_SUCCESS else {
            throw Unsupported("wolfSSL_CTX_set_groups refused \(names.joined(separator: ","))")
        }
        for code in codes where wolfSSL_CTX_UseSupportedCurve(handle, UInt16(code)) != WOLFSSL_SUCCESS {
            throw Unsupported("wolfSSL_CTX_UseSupportedCurve refused group \(NamedGroup.byCode[UInt16(code)] ?? String(code))")
        }
    }

    private func loadCredentials(_ request: PeerRequest) throws(PeerFailure) {
        if let certificate = request.certificatePath, let key = request.keyPath {
            guard wolfSSL_CTX_use_certificate_chain_file(handle, certificate) == WOLFSSL_SUCCESS else {
                throw PeerFailure(stage: .setup, error: WolfSSLError.queue("loading certificate \(certificate)"))
            }
            guard wolfSSL_CTX_use_PrivateKey_file(handle, key, Int32(WOLFSSL_FILETYPE_PEM)) == WOLFSSL_SUCCESS,
                  wolfSSL_CTX_check_private_key(handle) == WOLFSSL_SUCCESS else {
                throw PeerFailure(stage: .setup, error: WolfSSLError.queue("loading private key \(key)"))
            }
        }
        if let ca = request.trustedCAPath {
            guard wolfSSL_CTX_load_verify_locations(handle, ca, nil) == WOLFSSL_SUCCESS else {
                throw PeerFailure(stage: .setup, error: WolfSSLError.queue("loading trusted CA \(ca)"))
            }
        }
    }

    private func configureVerification(_ request: PeerRequest) {
        switch (request.role, request.clientAuth) {
        case (.client, _): wolfSSL_CTX_set_verify(handle, Int32(WOLFSSL_VERIFY_PEER), nil)
        case (.server, .none): wolfSSL_CTX_set_verify(handle, Int32(WOLFSSL_VERIFY_NONE), nil)
        case (.server, .optional): wolfSSL_CTX_set_verify(handle, Int32(WOLFSSL_VERIFY_PEER), nil)
        case (.server, .required): wolfSSL_CTX_set_verify(handle, Int32(WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT), nil)
        }
        if request.role == .server, request.clientAuth != .none, let ca = request.trustedCAPath,
           let names = wolfSSL_load_client_CA_file(ca) {
            // Name the acceptable CAs in CertificateRequest, as a real server does.
            wolfSSL_CTX_set_client_CA_list(handle, names)
        }
        if request.role == .server {
            // Every ClientHello's SNI goes through the callback: it picks the alternate certificate.
            wolfSSL_CTX_set_servername_callback(handle, chooseCertificate)
        }
    }

    private func configureResumption(_ request: PeerRequest) throws {
        // A server that verifies clients resumes only sessions of its own context.
        let name = Array("interop-matrix".utf8)
        guard wolfSSL_CTX_set_session_id_context(handle, name, UInt32(name.count)) == WOLFSSL_SUCCESS else {
            throw PeerFailure(stage: .setup, error: WolfSSLError.queue("wolfSSL_CTX_set_session_id_context"))
        }
        switch request.resumption {
        case .sessionID?:
            guard request.version != .tls13 else {
                throw Unsupported("TLS 1.3 has no session-id resumption (RFC 8446 §2.2: PSK tickets only)")
            }
            // No tickets either way: the server's session cache, found by id, is all there is.
            _ = wolfSSL_CTX_NoTicketTLSv12(handle)
        case .ticket?:
            // A client asks for RFC 5077 tickets only when told to; a server issues them with its
            // built-in ticket key (and TLS 1.3 tickets after every handshake).
            if request.role == .client { _ = wolfSSL_CTX_UseSessionTicket(handle) }
        case nil:
            break
        }
    }
}

/// wolfSSL's SNI callback: a ClientHello naming the alternate host gets the alternate certificate.
private func chooseCertificate(_ ssl: OpaquePointer?, _ alert: UnsafeMutablePointer<Int32>?, _ argument: UnsafeMutableRawPointer?) -> Int32 {
    guard let ssl, let pointer = wolfSSL_get_ex_data(ssl, 0) else { return 0 }
    return Unmanaged<WolfSSLConnection>.fromOpaque(pointer).takeUnretainedValue().chooseCertificate()
}
