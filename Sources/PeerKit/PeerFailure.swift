/// Where in a connection's life a peer failed. The names are the report schema's `error.stage`.
public enum FailureStage: String, Sendable {
    case setup
    case tcpConnect = "tcp_connect"
    case tcpAccept = "tcp_accept"
    case handshake
    case verify
    case data
    case shutdown
    case timeout
}

/// An error as a TLS library reported it: its own code and words, and the alert it sent or received
/// where the library lets us know. `isVerification` marks a rejected peer certificate.
public struct TLSError: Error, Sendable {
    public var libraryCode: String?
    public var message: String
    public var alert: ObservedAlert?
    public var isVerification: Bool

    public init(libraryCode: String?, message: String, alert: ObservedAlert? = nil, isVerification: Bool = false) {
        self.libraryCode = libraryCode
        self.message = message
        self.alert = alert
        self.isVerification = isVerification
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
