internal import CShimGnuTLS
#if canImport(Glibc)
import Glibc
#endif
import PeerKit

/// The GnuTLS peer: certificate credentials and a priority cache per process, one session per
/// connection, driven through `gnutls_handshake` / `gnutls_record_*` on a non-blocking socket.
public final class GnuTLSEngine: TLSEngine {
    public static var library: LibraryIdentity {
        LibraryIdentity(id: "gnutls", name: "GnuTLS", version: String(cString: gnutls_check_version(nil)))
    }

    private let request: PeerRequest
    private let credentials: GnuTLSCredentials
    private let priority: GnuTLSPriority
    /// `--psk`: the identity and key this side knows, beside its certificate credentials.
    private let preSharedKey: GnuTLSPSKCredentials?
    private var session: GnuTLSSession?
    /// What a server resumes with: its session cache (session ids) or its ticket key.
    private let resumption: GnuTLSServerResumption?
    /// The client's previous session (`gnutls_session_get_data2`), offered on its next connection.
    private var savedSession: [UInt8]?

    public required init(request: PeerRequest) throws {
        self.request = request
        priority = try GnuTLSPriority(request: request)
        credentials = try GnuTLSCredentials(request: request)
        preSharedKey = try GnuTLSPSKCredentials.make(request: request)
        if request.resumption == .sessionID && request.version == .tls13 {
            throw Unsupported("TLS 1.3 has no session-id resumption (RFC 8446 §2.2: PSK tickets only)")
        }
        resumption = request.role == .server ? try request.resumption.map(GnuTLSServerResumption.init) : nil
    }

    public func attach(socket descriptor: Int32) throws(PeerFailure) {
        session = try GnuTLSSession(request: request, credentials: credentials, preSharedKey: preSharedKey, priority: priority,
                                    descriptor: descriptor, resumption: resumption, resuming: savedSession)
    }

    public func keepSessionForResumption() throws(PeerFailure) { savedSession = try session!.resumptionData() }
    public func requestKeyUpdate() -> AsyncOperationResult<Void> { session!.requestKeyUpdate() }
    public func keyUpdates() -> KeyUpdateCount? { session?.keyUpdates }

    public func handshake() -> AsyncOperationResult<Void> { session!.handshake() }
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> { session!.read(into: buffer) }
    public func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> { session!.write(bytes) }
    public func closeNotify() -> AsyncOperationResult<Void> { session!.bye() }
    public func closeAfterFailure() -> AsyncOperationResult<Void> { session!.byeAfterFailure() }
    public func cancelHandshake() -> AsyncOperationResult<Void> { session!.cancelHandshake() }
    public func negotiated() -> NegotiatedView { session!.negotiated() }

    public static func capabilities() -> Capabilities { GnuTLSCapabilities.read() }
}

/// A GnuTLS error code in the library's own words.
enum GnuTLSError {
    static func make(_ code: Int32, _ operation: String) -> TLSError {
        TLSError(libraryCode: String(code), message: "\(operation): \(String(cString: gnutls_strerror(code)))")
    }
}

/// Owns a `gnutls_certificate_credentials_t`: this peer's certificate and key, and its trusted CA.
final class GnuTLSCredentials {
    let handle: gnutls_certificate_credentials_t
    /// A client's certificate, handed out by `presentClientCertificate` whenever a server asks.
    let clientCertificate: GnuTLSClientCertificate?

    init(request: PeerRequest) throws(PeerFailure) {
        var credentials: gnutls_certificate_credentials_t?
        let rc = gnutls_certificate_allocate_credentials(&credentials)
        guard rc == GNUTLS_E_SUCCESS, let credentials else {
            throw PeerFailure(stage: .setup, error: GnuTLSError.make(rc, "gnutls_certificate_allocate_credentials"))
        }
        handle = credentials
        if let ca = request.trustedCAPath {
            let loaded = gnutls_certificate_set_x509_trust_file(credentials, ca, GNUTLS_X509_FMT_PEM)
            guard loaded > 0 else {
                throw PeerFailure(stage: .setup, error: GnuTLSError.make(loaded < 0 ? loaded : GNUTLS_E_FILE_ERROR, "loading trusted CA \(ca)"))
            }
        }
        if request.role == .server {
            // DHE suites need finite-field parameters; use GnuTLS's RFC 7919 groups as a real server would.
            let rc = gnutls_certificate_set_known_dh_params(credentials, GNUTLS_SEC_PARAM_MEDIUM)
            guard rc >= 0 else { throw PeerFailure(stage: .setup, error: GnuTLSError.make(rc, "gnutls_certificate_set_known_dh_params")) }
        }
        if request.role == .client, let certificate = request.certificatePath, let key = request.keyPath {
            // GnuTLS on its own sends only a certificate issued by one of the CAs the server's
            // CertificateRequest names (RFC 8446 §4.4.2.3 and RFC 5246 §7.4.4 say SHOULD), and
            // none otherwise. The peer protocol has a client present what it was given whenever
            // asked, so the server's own verification is what a cell tests: the certificate is
            // handed out by a retrieve callback, which drops that CA-name rule and keeps GnuTLS's
            // other one, the key's algorithm among those the server accepts.
            clientCertificate = try GnuTLSClientCertificate(certificate: certificate, key: key)
            gnutls_certificate_set_retrieve_function2(credentials, presentClientCertificate)
        } else {
            clientCertificate = nil
            if let certificate = request.certificatePath, let key = request.keyPath {
                try load(certificate, key)
            }
        }
        if let certificate = request.alternateCertificatePath, let key = request.alternateKeyPath {
            // A second certificate: GnuTLS itself picks, per ClientHello, the one whose names
            // match the client's SNI (the first one when none does).
            try load(certificate, key)
        }
    }

    private func load(_ certificate: String, _ key: String) throws(PeerFailure) {
        let loaded = gnutls_certificate_set_x509_key_file(handle, certificate, key, GNUTLS_X509_FMT_PEM)
        guard loaded >= 0 else {
            throw PeerFailure(stage: .setup, error: GnuTLSError.make(loaded, "loading certificate \(certificate) and key \(key)"))
        }
    }

    deinit { gnutls_certificate_free_credentials(handle) }
}

/// Owns a client's certificate chain (`gnutls_pcert_st`s) and private key for the retrieve callback,
/// which lends them to GnuTLS for the session's life and never hands over ownership
/// (gnutls_certificate_set_retrieve_function2: "the pcert and key are not deinitialized").
final class GnuTLSClientCertificate {
    private let chain: UnsafeMutablePointer<gnutls_pcert_st>
    let chainLength: UInt32
    let key: gnutls_privkey_t
    private static let capacity = 8

    init(certificate: String, key path: String) throws(PeerFailure) {
        chain = .allocate(capacity: Self.capacity)
        var count = UInt32(Self.capacity)
        let imported = gnutls_pcert_list_import_x509_file(chain, &count, certificate, GNUTLS_X509_FMT_PEM, nil, nil, 0)
        guard imported >= 0, count > 0 else {
            chain.deallocate()
            throw PeerFailure(stage: .setup, error: GnuTLSError.make(imported < 0 ? imported : GNUTLS_E_FILE_ERROR, "gnutls_pcert_list_import_x509_file \(certificate)"))
        }
        chainLength = count
        var privateKey: gnutls_privkey_t?
        var rc = gnutls_privkey_init(&privateKey)
        var file = gnutls_datum_t()
        if rc >= 0 { rc = gnutls_load_file(path, &file) }
        if rc >= 0, let privateKey {
            rc = gnutls_privkey_import_x509_raw(privateKey, &file, GNUTLS_X509_FMT_PEM, nil, 0)
        }
        if let data = file.data { CShimGnuTLS_gnutls_free(data) }
        guard rc >= 0, let privateKey else {
            if let privateKey { gnutls_privkey_deinit(privateKey) }
            for index in 0..<Int(count) { gnutls_pcert_deinit(chain + index) }
            chain.deallocate()
            throw PeerFailure(stage: .setup, error: GnuTLSError.make(rc, "loading the client key \(path)"))
        }
        self.key = privateKey
    }

    /// The key's public-key algorithm, as GnuTLS names the ones a server accepts.
    var algorithm: gnutls_pk_algorithm_t { gnutls_pk_algorithm_t(rawValue: UInt32(bitPattern: gnutls_privkey_get_pk_algorithm(key, nil))) }

    /// Lends the chain to GnuTLS's callback; valid while this object lives (the credentials own it).
    func lend(_ pcert: UnsafeMutablePointer<UnsafeMutablePointer<gnutls_pcert_st>?>, _ length: UnsafeMutablePointer<UInt32>,
              _ privateKey: UnsafeMutablePointer<gnutls_privkey_t?>) {
        pcert.pointee = chain
        length.pointee = chainLength
        privateKey.pointee = key
    }

    deinit {
        for index in 0..<Int(chainLength) { gnutls_pcert_deinit(chain + index) }
        chain.deallocate()
        gnutls_privkey_deinit(key)
    }
}

/// GnuTLS's client-certificate callback: the certificate this client was given, whatever CAs the
/// server named. Reaches the credentials through the session's user pointer (its `GnuTLSSession`).
private func presentClientCertificate(_ session: gnutls_session_t?, _ acceptableCAs: UnsafePointer<gnutls_datum_t>?, _ caCount: Int32,
                                      _ algorithms: UnsafePointer<gnutls_pk_algorithm_t>?, _ algorithmCount: Int32,
                                      _ pcert: UnsafeMutablePointer<UnsafeMutablePointer<gnutls_pcert_st>?>?, _ length: UnsafeMutablePointer<UInt32>?,
                                      _ privateKey: UnsafeMutablePointer<gnutls_privkey_t?>?) -> Int32 {
    guard let session, let pcert, let length, let privateKey, let pointer = gnutls_session_get_ptr(session) else { return -1 }
    let owner = Unmanaged<GnuTLSSession>.fromOpaque(pointer).takeUnretainedValue()
    // As GnuTLS's own selection does: a key of an algorithm the server did not list is not offered
    // (for TLS 1.2 it maps the CertificateRequest's certificate_types to these algorithms).
    let accepted = algorithms.map { Array(UnsafeBufferPointer(start: $0, count: Int(max(0, algorithmCount)))) } ?? []
    // GnuTLS lists a signature scheme by the key it signs with: rsa_pss_rsae_* as RSA-PSS, though
    // it signs with an rsaEncryption key. A server that names only rsa_pss_rsae_* for RSA (Go 1.27
    // moves rsa_pkcs1_* to signature_algorithms_cert) accepts an RSA key, as GnuTLS's own selection
    // knows (it checks each scheme against the certificate).
    let compatible = owner.credentials.clientCertificate.map { certificate in
        accepted.isEmpty || accepted.contains(certificate.algorithm)
            || (certificate.algorithm == GNUTLS_PK_RSA && accepted.contains(GNUTLS_PK_RSA_PSS))
    } ?? false
    guard let certificate = owner.credentials.clientCertificate, compatible else {
        // Nothing to present: an empty Certificate message, as GnuTLS would send.
        pcert.pointee = nil
        length.pointee = 0
        privateKey.pointee = nil
        return 0
    }
    certificate.lend(pcert, length, privateKey)
    return 0
}

/// Owns a `gnutls_priority_t` built from the request: the library default, or a priority string
/// that limits the version, suite and group to what the cell asks for.
final class GnuTLSPriority {
    let handle: gnutls_priority_t

    init(request: PeerRequest) throws {
        let text = try GnuTLSPriority.priorityString(for: request)
        var priority: gnutls_priority_t?
        // The error position points into the string, so it is read while the string is alive.
        let (rc, at) = text.withCString { cText in
            var errorPosition: UnsafePointer<CChar>?
            let rc = gnutls_priority_init(&priority, cText, &errorPosition)
            return (rc, errorPosition.map { String(cString: $0) } ?? "")
        }
        guard rc == GNUTLS_E_SUCCESS, let priority else {
            throw Unsupported("GnuTLS \(GnuTLSEngine.library.version) rejects priority \"\(text)\" at \"\(at)\": \(String(cString: gnutls_strerror(rc)))")
        }
        handle = priority
    }

    deinit { gnutls_priority_deinit(handle) }

    /// `NORMAL` (GnuTLS's default) narrowed with `-…-ALL:+…` for each forced parameter.
    static func priorityString(for request: PeerRequest) throws -> String {
        var parts = ["NORMAL"]
        if let version = request.version {
            guard let token = GnuTLSNames.versionToken(version) else {
                throw Unsupported("GnuTLS \(GnuTLSEngine.library.version) does not support \(version.rawValue)")
            }
            parts += ["-VERS-ALL", "+" + token]
        }
        var suite: GnuTLSNames.Suite?
        if let code = request.suiteCode {
            guard let named = GnuTLSNames.suite(code: code) else {
                throw Unsupported("GnuTLS \(GnuTLSEngine.library.version) does not implement cipher suite \(NegotiatedView.hexCode(code))")
            }
            // NORMAL enables no PSK key exchange; "-KX-ALL:+PSK" (or +DHE-PSK, +ECDHE-PSK, +RSA-PSK)
            // allows exactly the suite's, as for any other suite. A TLS 1.3 suite names no key
            // exchange, and NORMAL's stay.
            parts += ["-CIPHER-ALL", "+" + named.cipher, "-MAC-ALL", "+" + named.mac]
            if let kx = named.keyExchange { parts += ["-KX-ALL", "+" + kx] }
            suite = named
        }
        if request.preSharedKeyPath != nil {
            parts += try preSharedKeyParts(for: request, suite: suite)
        }
        if !request.groups.isEmpty {
            parts.append("-GROUP-ALL")
            for group in request.groups {
                guard let token = GnuTLSNames.groupToken(iana: group) else {
                    throw Unsupported("GnuTLS \(GnuTLSEngine.library.version) does not support group \(group)")
                }
                parts.append("+" + token)
            }
        }
        return parts.joined(separator: ":")
    }

    /// What `--psk` adds to the priority string. At TLS 1.3 (`--version TLS1.3` or a TLS 1.3
    /// suite) the key is an external PSK (RFC 8446 §2.2) and the PSK credentials alone make GnuTLS
    /// offer or accept it; the key exchange modes (§4.2.9) come from the PSK key exchanges the
    /// priority enables (lib/ext/psk_ke_modes.c): ECDHE-PSK and DHE-PSK give psk_dhe_ke, PSK gives
    /// psk_ke, and nothing else goes into the extension. NORMAL's certificate key exchanges stay,
    /// so a handshake where the server selects no PSK is a certificate one.
    private static func preSharedKeyParts(for request: PeerRequest, suite: GnuTLSNames.Suite?) throws(PeerFailure) -> [String] {
        if request.version == .tls13 || suite?.minVersion == .tls13 {
            return request.preSharedKeyWithoutKeyExchange ? ["+PSK"] : ["+ECDHE-PSK", "+DHE-PSK"]
        }
        guard let suite else {
            throw PeerFailure(stage: .setup, message: "--psk needs --suite naming a PSK suite (PSK, DHE_PSK, ECDHE_PSK, RSA_PSK), or --version TLS1.3")
        }
        guard GnuTLSPSKCredentials.isPSK(suite.keyExchangeID) else {
            throw PeerFailure(stage: .setup, message: "--psk needs a PSK suite (PSK, DHE_PSK, ECDHE_PSK, RSA_PSK) or a TLS 1.3 one; \(NegotiatedView.hexCode(suite.code)) is GnuTLS's \(suite.libraryName)")
        }
        guard !request.preSharedKeyWithoutKeyExchange else {
            throw PeerFailure(stage: .setup, message: "--psk-mode is TLS 1.3's (RFC 8446 §4.2.9); \(suite.libraryName) is a TLS 1.2-and-below suite")
        }
        // The PSK suites of RFC 4279/5487/5489 are TLS 1.2 and below. With PSK credentials and
        // TLS 1.3 enabled GnuTLS would offer or take the key as a TLS 1.3 external PSK instead.
        return request.version == nil ? ["-VERS-TLS1.3"] : []
    }
}

/// A GnuTLS server's means to resume: a session cache it reaches through the db callbacks
/// (session ids), or a ticket encryption key (tickets, TLS 1.3 PSK).
final class GnuTLSServerResumption {
    let mode: ResumptionMode
    /// Sessions by id, for the db callbacks.
    var cache: [[UInt8]: [UInt8]] = [:]
    /// From gnutls_session_ticket_key_generate, freed by gnutls_free.
    private(set) var ticketKey = gnutls_datum_t()

    init(_ mode: ResumptionMode) throws(PeerFailure) {
        self.mode = mode
        if mode == .ticket {
            let rc = gnutls_session_ticket_key_generate(&ticketKey)
            guard rc == GNUTLS_E_SUCCESS else { throw PeerFailure(stage: .setup, error: GnuTLSError.make(rc, "gnutls_session_ticket_key_generate")) }
        }
    }

    deinit {
        if let data = ticketKey.data {
            memset(data, 0, Int(ticketKey.size))
            CShimGnuTLS_gnutls_free(data)
        }
    }
}
