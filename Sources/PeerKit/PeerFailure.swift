/// Where in a connection's life a peer failed. The names are the report schema's `error.stage`.
public enum FailureStage: String, Sendable, Codable, CaseIterable {
    case setup
    case tcpConnect = "tcp_connect"
    case tcpAccept = "tcp_accept"
    case handshake
    case verify
    case data
    case shutdown
    case timeout
    /// Runner only, never a peer's: the peer died, or ended without the protocol's result line.
    case crash
}

/// Why this side rejected the other side's certificate, normalized from the library's own
/// verification result (`X509_V_ERR_*`, `gnutls_certificate_status_t` bits, `MBEDTLS_X509_BADCERT_*`
/// flags), never from its message text. The names are the peer protocol's `error.verify_reason`.
public enum VerifyReason: String, Sendable, CaseIterable, Codable {
    /// The certificate's notAfter has passed.
    case expired
    /// The certificate's notBefore is in the future.
    case notYetValid = "not_yet_valid"
    /// The certificate does not name the host (or IP address) asked for.
    case nameMismatch = "name_mismatch"
    /// No chain to a trusted root: unknown issuer, self-signed, or an incomplete chain.
    case untrusted
    /// keyUsage or extendedKeyUsage does not allow the certificate's use here.
    case keyUsage = "key_usage"
    /// A signature in the chain does not verify, or uses an algorithm or key size the library's
    /// policy refuses (a hash too weak, a key too small).
    case signature
    /// The other side sent no certificate where one was required (a server with client auth required).
    case noCertificate = "no_certificate"
    /// The library rejected the certificate for a reason none of the above names.
    case other
}

/// An error as a TLS library reported it: its own code and words, and the alert it sent or received
/// where the library lets us know. `isVerification` marks a rejected peer certificate;
/// `verifyReason` says why, where the library's verification result tells.
public struct TLSError: Error, Sendable {
    public var libraryCode: String?
    public var message: String
    public var alert: ObservedAlert?
    public var isVerification: Bool
    /// Setting a reason marks the error as a verification refusal.
    public var verifyReason: VerifyReason? {
        didSet { if verifyReason != nil { isVerification = true } }
    }

    public init(libraryCode: String?, message: String, alert: ObservedAlert? = nil, isVerification: Bool = false,
                verifyReason: VerifyReason? = nil) {
        self.libraryCode = libraryCode
        self.message = message
        self.alert = alert
        self.isVerification = isVerification || verifyReason != nil
        self.verifyReason = verifyReason
    }
}

/// Why a peer's connection failed: the stage and the library's (or the OS's) own error.
public struct PeerFailure: Error, Sendable {
    public var stage: FailureStage
    public var error: TLSError

    public init(stage: FailureStage, error: TLSError) {
        self.stage = stage
        self.error = error
    }

    public init(stage: FailureStage, code: String? = nil, message: String) {
        self.init(stage: stage, error: TLSError(libraryCode: code, message: message))
    }

    /// A failure from a system call, keeping the errno name and `strerror` text.
    public static func system(_ stage: FailureStage, _ call: String, errno code: Int32) -> PeerFailure {
        PeerFailure(stage: stage, code: ErrnoName.name(code), message: "\(call): \(ErrnoName.describe(code))")
    }

    var json: JSON {
        .object([
            ("stage", .string(stage.rawValue)),
            ("alert", .optional(error.alert?.name)),
            ("alert_code", .optional(error.alert.map { Int($0.code) })),
            ("alert_direction", .optional(error.alert?.direction.rawValue)),
            ("library_code", .optional(error.libraryCode)),
            ("verify_reason", .optional(stage == .verify ? error.verifyReason?.rawValue : nil)),
            ("message", .string(error.message)),
        ])
    }
}

/// The result of one non-blocking step, the same shape for every library: each library's
/// WANT_READ / GNUTLS_E_AGAIN / MBEDTLS_ERR_SSL_WANT_WRITE maps into it in its engine.
public enum AsyncOperationResult<Value> {
    case complete(Value)
    case wantRead
    case wantWrite
    case failed(TLSError)
}

/// Why a peer will not try a configuration, decided before any byte is sent.
public struct Unsupported: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
