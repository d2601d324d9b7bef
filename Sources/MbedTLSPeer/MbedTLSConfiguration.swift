internal import CShimMbedTLS
import PeerKit
#if canImport(Glibc)
import Glibc
#endif

/// Owns an entropy source and the CTR-DRBG seeded from it: the random numbers every connection uses.
final class MbedTLSRandom {
    let entropy = UnsafeMutablePointer<mbedtls_entropy_context>.allocate(capacity: 1)
    let drbg = UnsafeMutablePointer<mbedtls_ctr_drbg_context>.allocate(capacity: 1)

    init() throws(PeerFailure) {
        mbedtls_entropy_init(entropy)
        mbedtls_ctr_drbg_init(drbg)
        // 3.x: TLS 1.3 (and the DRBG's own PSA use) needs PSA Crypto set up first; idempotent.
        let psa = CShimMbedTLS_crypto_init()
        guard psa == 0 else { throw PeerFailure(stage: .setup, error: TLSError(libraryCode: String(psa), message: "psa_crypto_init failed (status \(psa))")) }
        let personalization = Array("interop-matrix".utf8)
        let rc = mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, entropy, personalization, personalization.count)
        guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "mbedtls_ctr_drbg_seed")) }
    }

    deinit {
        mbedtls_ctr_drbg_free(drbg)
        mbedtls_entropy_free(entropy)
        drbg.deallocate()
        entropy.deallocate()
    }
}

/// Owns an `mbedtls_x509_crt` chain parsed from a PEM file.
final class MbedTLSCertificateChain {
    let handle = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)

    init(path: String) throws(PeerFailure) {
        mbedtls_x509_crt_init(handle)
        let rc = mbedtls_x509_crt_parse_file(handle, path)
        guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "loading certificate \(path)")) }
    }

    deinit {
        mbedtls_x509_crt_free(handle)
        handle.deallocate()
    }
}

/// Owns an `mbedtls_pk_context` holding this peer's private key.
final class MbedTLSPrivateKey {
    let handle = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)

    init(path: String, random: MbedTLSRandom) throws(PeerFailure) {
        mbedtls_pk_init(handle)
        let rc = CShimMbedTLS_pk_parse_keyfile(handle, path, random.drbg)
        guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "loading private key \(path)")) }
    }

    deinit {
        mbedtls_pk_free(handle)
        handle.deallocate()
    }
}

/// Owns one `mbedtls_ssl_config` and everything it points to (Mbed TLS keeps the pointers, so the
/// suite and curve lists, certificates, key and random source live as long as the configuration).
final class MbedTLSConfiguration {
    let handle = UnsafeMutablePointer<mbedtls_ssl_config>.allocate(capacity: 1)
    let random: MbedTLSRandom
    private var trusted: MbedTLSCertificateChain?
    private var ownChain: MbedTLSCertificateChain?
    private var ownKey: MbedTLSPrivateKey?
    private var suiteList: UnsafeMutablePointer<Int32>?
    /// The forced groups: IANA code points (3.x) and the curve ids 2.28 takes instead.
    private var groupList: UnsafeMutablePointer<UInt16>?
    private var curveList: UnsafeMutablePointer<mbedtls_ecp_group_id>?
    private var keyLog: KeyLog?
    /// Where the library's secrets go: to `keyLog` (see `keyLogTarget`).
    private(set) var keyLogTarget: UnsafeMutablePointer<CShimMbedTLS_key_log>?
    /// The NULL-terminated ALPN list Mbed TLS keeps a pointer to.
    private var alpnList: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    /// The server's second certificate, for ClientHellos naming `alternateName` (SNI).
    private(set) var alternate: (name: String, chain: MbedTLSCertificateChain, key: MbedTLSPrivateKey)?
    /// The server's session cache or ticket keys (`--resume`).
    private var sessionCache: MbedTLSSessionCache?
    private var ticketKeys: MbedTLSTicketKeys?
    /// `--psk`: the identity and key the client offers, the one identity the server knows.
    let preSharedKey: PreSharedKey?

    init(request: PeerRequest) throws {
        mbedtls_ssl_config_init(handle)
        // Unsupported requests are refused before anything is loaded or any socket exists.
        if let version = request.version, !MbedTLSVersion.supported.contains(version) {
            throw Unsupported(MbedTLSVersion.missing(version))
        }
        try MbedTLSExternalPreSharedKey.refuseUnsupported(request)
        preSharedKey = try MbedTLSConfiguration.readPreSharedKey(request)
        random = try MbedTLSRandom()
        let endpoint = request.role == .server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT
        let rc = mbedtls_ssl_config_defaults(handle, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)
        guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "mbedtls_ssl_config_defaults")) }
        mbedtls_ssl_conf_rng(handle, mbedtls_ctr_drbg_random, random.drbg)
        if let version = request.version {
            CShimMbedTLS_conf_set_version_range(handle, MbedTLSVersion.minor(version), MbedTLSVersion.minor(version))
        }
        if let code = request.suiteCode { try forceSuite(code) }
        if let group = request.group { try forceGroup(group) }
        try loadCredentials(request)
        try configurePreSharedKey(request)
        if !request.alpn.isEmpty {
            let list = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: request.alpn.count + 1)
            for (index, name) in request.alpn.enumerated() { list[index] = UnsafePointer(strdup(name)) }
            list[request.alpn.count] = nil
            alpnList = list
            let rc = mbedtls_ssl_conf_alpn_protocols(handle, list)
            guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "mbedtls_ssl_conf_alpn_protocols")) }
        }
        if let log = try KeyLog.opened(for: request) {
            keyLog = log
            let target = UnsafeMutablePointer<CShimMbedTLS_key_log>.allocate(capacity: 1)
            target.initialize(to: CShimMbedTLS_key_log(line: appendKeyLine, context: Unmanaged.passUnretained(log).toOpaque()))
            keyLogTarget = target
            // 2.28 hands over the TLS 1.2 master secret here; 3.x on each connection (keyLogTarget).
            CShimMbedTLS_conf_key_log(handle, target)
        }
        if request.role == .server {
            // Every ClientHello's SNI goes through the callback: it is reported, and picks the
            // alternate certificate when it names the alternate host.
            mbedtls_ssl_conf_sni(handle, chooseCertificate, nil)
        }
        try configureResumption(request)
        switch (request.role, request.clientAuth) {
        case (.client, _), (.server, .required): mbedtls_ssl_conf_authmode(handle, MBEDTLS_SSL_VERIFY_REQUIRED)
        case (.server, .optional): mbedtls_ssl_conf_authmode(handle, MBEDTLS_SSL_VERIFY_OPTIONAL)
        case (.server, .none): mbedtls_ssl_conf_authmode(handle, MBEDTLS_SSL_VERIFY_NONE)
        }
    }

    deinit {
        mbedtls_ssl_config_free(handle)
        handle.deallocate()
        suiteList?.deallocate()
        groupList?.deallocate()
        curveList?.deallocate()
        keyLogTarget?.deallocate()
        if let alpnList {
            var index = 0
            while let name = alpnList[index] { free(UnsafeMutablePointer(mutating: name)); index += 1 }
            alpnList.deallocate()
        }
    }

    private func configureResumption(_ request: PeerRequest) throws {
        guard let mode = request.resumption else { return }
        switch (request.role, mode) {
        case (.client, .sessionID):
            mbedtls_ssl_conf_session_tickets(handle, MBEDTLS_SSL_SESSION_TICKETS_DISABLED)
        case (.client, .ticket):
            mbedtls_ssl_conf_session_tickets(handle, MBEDTLS_SSL_SESSION_TICKETS_ENABLED)
            CShimMbedTLS_conf_signal_new_session_tickets(handle)
        case (.server, .sessionID):
            let cache = MbedTLSSessionCache()
            sessionCache = cache
            mbedtls_ssl_conf_session_cache(handle, cache.handle, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set)
        case (.server, .ticket):
            let keys = try MbedTLSTicketKeys(random: random)
            ticketKeys = keys
            mbedtls_ssl_conf_session_tickets_cb(handle, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, keys.handle)
        }
    }

    /// The `--psk` file's identity and key, refused as unsupported when the key is longer than this
    /// build takes (MBEDTLS_PSK_MAX_LEN: 32 bytes in 2.28, 48 in 3.6 with TLS 1.3 tickets and
    /// SHA-384; mbedtls_ssl_conf_psk and mbedtls_ssl_set_hs_psk return BAD_INPUT_DATA beyond it),
    /// before the server's callback could only answer "unknown identity".
    private static func readPreSharedKey(_ request: PeerRequest) throws -> PreSharedKey? {
        guard let preSharedKey = try request.preSharedKey() else { return nil }
        if preSharedKey.key.count > Int(MBEDTLS_PSK_MAX_LEN) {
            throw Unsupported("Mbed TLS \(MbedTLSEngine.library.version) takes pre-shared keys of at most \(MBEDTLS_PSK_MAX_LEN) bytes "
                + "(MBEDTLS_PSK_MAX_LEN); this one has \(preSharedKey.key.count)")
        }
        return preSharedKey
    }

    /// `--psk`. The client offers its identity and key as configuration (Mbed TLS copies both, and
    /// never says which identity it sent). The server admits exactly its one identity in the PSK
    /// callback, which is handed the identity the client sent (`admitPreSharedKey`). At TLS 1.3 the
    /// same PSK is an external one, used with the key exchanges of `--psk-mode` (3.x).
    private func configurePreSharedKey(_ request: PeerRequest) throws(PeerFailure) {
        guard let preSharedKey else { return }
        CShimMbedTLS_conf_tls13_key_exchange_modes(handle, MbedTLSExternalPreSharedKey.keyExchangeModes(request))
        switch request.role {
        case .client:
            let identity = Array(preSharedKey.identity.utf8)
            let rc = mbedtls_ssl_conf_psk(handle, preSharedKey.key, preSharedKey.key.count, identity, identity.count)
            guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "mbedtls_ssl_conf_psk")) }
        case .server:
            mbedtls_ssl_conf_psk_cb(handle, admitPreSharedKey, nil)
        }
    }

    private func forceSuite(_ code: UInt16) throws {
        guard mbedtls_ssl_ciphersuite_from_id(Int32(code)) != nil else {
            throw Unsupported("Mbed TLS \(MbedTLSEngine.library.version) does not implement cipher suite \(NegotiatedView.hexCode(code))")
        }
        let list = UnsafeMutablePointer<Int32>.allocate(capacity: 2)
        list[0] = Int32(code)
        list[1] = 0
        suiteList = list
        mbedtls_ssl_conf_ciphersuites(handle, list)
    }

    private func forceGroup(_ group: String) throws {
        let names = group.split(separator: ",").map(String.init)
        var codes: [UInt16] = []
        for name in names {
            guard let code = NamedGroup.code(of: name) else { throw Unsupported(MbedTLSConfiguration.missing(group: name)) }
            codes.append(code)
        }
        let list = UnsafeMutablePointer<UInt16>.allocate(capacity: codes.count + 1)
        for (index, code) in codes.enumerated() { list[index] = code }
        list[codes.count] = 0
        groupList = list
        let scratch = UnsafeMutablePointer<mbedtls_ecp_group_id>.allocate(capacity: codes.count + 1)
        curveList = scratch
        let unknown = CShimMbedTLS_conf_groups(handle, list, scratch)
        if unknown != 0 { throw Unsupported(MbedTLSConfiguration.missing(group: NamedGroup.name(code: unknown))) }
    }

    private static func missing(group name: String) -> String {
        MbedTLSVersion.is2x
            ? "Mbed TLS \(MbedTLSEngine.library.version) does not support group \(name) (it has no named finite-field groups, and only the curves of mbedtls_ecp_curve_list)"
            : "Mbed TLS \(MbedTLSEngine.library.version) does not support group \(name) (not in the default group list of mbedtls_ssl_config_defaults, which holds every group the build has)"
    }

    private func loadCredentials(_ request: PeerRequest) throws(PeerFailure) {
        if let ca = request.trustedCAPath {
            let chain = try MbedTLSCertificateChain(path: ca)
            trusted = chain
            mbedtls_ssl_conf_ca_chain(handle, chain.handle, nil)
        }
        if let certificate = request.certificatePath, let key = request.keyPath {
            let chain = try MbedTLSCertificateChain(path: certificate)
            let privateKey = try MbedTLSPrivateKey(path: key, random: random)
            ownChain = chain
            ownKey = privateKey
            let rc = mbedtls_ssl_conf_own_cert(handle, chain.handle, privateKey.handle)
            guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "mbedtls_ssl_conf_own_cert")) }
        }
        if let name = request.alternateName, let certificate = request.alternateCertificatePath, let key = request.alternateKeyPath {
            alternate = (name, try MbedTLSCertificateChain(path: certificate), try MbedTLSPrivateKey(path: key, random: random))
        }
    }
}

/// Owns a server's `mbedtls_ssl_cache_context`: sessions by id, for session-id resumption.
final class MbedTLSSessionCache {
    let handle = UnsafeMutablePointer<mbedtls_ssl_cache_context>.allocate(capacity: 1)
    init() { mbedtls_ssl_cache_init(handle) }
    deinit {
        mbedtls_ssl_cache_free(handle)
        handle.deallocate()
    }
}

/// Owns a server's `mbedtls_ssl_ticket_context`: the keys session tickets (RFC 5077) are sealed with.
final class MbedTLSTicketKeys {
    let handle = UnsafeMutablePointer<mbedtls_ssl_ticket_context>.allocate(capacity: 1)
    init(random: MbedTLSRandom) throws(PeerFailure) {
        mbedtls_ssl_ticket_init(handle)
        let rc = mbedtls_ssl_ticket_setup(handle, mbedtls_ctr_drbg_random, random.drbg, MBEDTLS_CIPHER_AES_256_GCM, 86_400)
        guard rc == 0 else { throw PeerFailure(stage: .setup, error: MbedTLSError.make(rc, "mbedtls_ssl_ticket_setup")) }
    }
    deinit {
        mbedtls_ssl_ticket_free(handle)
        handle.deallocate()
    }
}

/// Owns a client's `mbedtls_ssl_session`, kept from one connection to resume on the next.
final class MbedTLSSession {
    let handle = UnsafeMutablePointer<mbedtls_ssl_session>.allocate(capacity: 1)
    init() { mbedtls_ssl_session_init(handle) }
    deinit {
        mbedtls_ssl_session_free(handle)
        handle.deallocate()
    }
}

/// Mbed TLS's SNI callback; the connection is the context of its I/O callbacks.
private func chooseCertificate(_ unused: UnsafeMutableRawPointer?, _ ssl: UnsafeMutablePointer<mbedtls_ssl_context>?,
                               _ name: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    guard let ssl, let connection = CShimMbedTLS_bio_context(ssl), let name else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: name, count: length), as: UTF8.self)
    return Unmanaged<MbedTLSConnection>.fromOpaque(connection).takeUnretainedValue().received(serverName: text)
}

/// Mbed TLS's PSK callback (server): the identity the client sent, in its TLS 1.2 ClientKeyExchange
/// or, at TLS 1.3 (3.x), each identity of its ClientHello's pre_shared_key until one is admitted; 0
/// once the key for it is set, non-zero for an identity this server does not know. The connection
/// is the context of its I/O callbacks.
private func admitPreSharedKey(_ unused: UnsafeMutableRawPointer?, _ ssl: UnsafeMutablePointer<mbedtls_ssl_context>?,
                               _ identity: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    guard let ssl, let connection = CShimMbedTLS_bio_context(ssl) else { return -1 }
    let bytes = identity.map { UnsafeBufferPointer(start: $0, count: length) } ?? UnsafeBufferPointer(start: nil, count: 0)
    return Unmanaged<MbedTLSConnection>.fromOpaque(connection).takeUnretainedValue().received(pskIdentity: bytes)
}

/// The shim's key log hook: one NSS key log line.
private func appendKeyLine(_ context: UnsafeMutableRawPointer?, _ label: UnsafePointer<CChar>?, _ clientRandom: UnsafePointer<UInt8>?,
                           _ secret: UnsafePointer<UInt8>?, _ length: Int) {
    guard let context, let label, let clientRandom, let secret else { return }
    Unmanaged<KeyLog>.fromOpaque(context).takeUnretainedValue().append(
        label: String(cString: label), clientRandom: UnsafeRawBufferPointer(start: clientRandom, count: 32),
        secret: UnsafeRawBufferPointer(start: secret, count: length))
}
