import PeerKit

/// The JSON lines a peer prints (docs/peer-protocol.md), as the runner decodes them.

/// `{"event":"capabilities",…}`: what a library supports at run time.
public struct PeerCapabilities: Codable, Sendable {
    public struct Library: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var version: String
    }

    public struct Suite: Codable, Sendable {
        public var code: String
        public var name: String?
        public var libraryName: String
        public var minVersion: String?
        public var maxVersion: String?
        public var isDefault: Bool?
        /// Implemented, but refused by the library's default policy (OpenSSL's security level).
        public var disabledByPolicy: Bool?
        /// false: negotiated, but the library has no setting that holds it to this suite alone
        /// (Go's crypto/tls and its TLS 1.3 suites). Absent means true.
        public var forceable: Bool?

        enum CodingKeys: String, CodingKey {
            case code, name, forceable
            case isDefault = "default"
            case disabledByPolicy = "disabled_by_policy"
            case libraryName = "library_name"
            case minVersion = "min_version"
            case maxVersion = "max_version"
        }
    }

    public var library: Library
    public var versions: [String]
    public var defaultVersions: [String]
    public var suites: [Suite]
    public var groups: [String]
    public var defaultGroups: [String]?
    public var signatureSchemes: [String]?
    public var certificateTypes: [String]
    public var notes: [String]
    /// Optional parts of the peer protocol the peer implements (`sni`, `resume-ticket`, …); absent
    /// in older peers, which then implement none.
    public var features: [String]?
    /// View fields this build can never read back (`group`, …); absent: none.
    public var notReadable: [String]?

    enum CodingKeys: String, CodingKey {
        case library, versions, suites, groups, notes, features
        case notReadable = "not_readable"
        case defaultVersions = "default_versions"
        case defaultGroups = "default_groups"
        case signatureSchemes = "signature_schemes"
        case certificateTypes = "certificate_types"
    }
}

/// `{"event":"result",…}`: how one side's connection ended.
public struct PeerResultLine: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case ok, failed, unsupported }

    public struct View: Codable, Sendable, Equatable {
        public var version: String?
        public var suite: String?
        public var suiteCode: String?
        public var librarySuite: String?
        public var group: String?
        public var signatureScheme: String?
        public var alpn: String?
        public var resumed: Bool?
        public var peerCertificate: String?
        public var serverName: String?
        public var pskIdentity: String?
        /// Fields the library cannot expose: null there means "not readable", not "none".
        public var notReadable: [String]?

        enum CodingKeys: String, CodingKey {
            case version, suite, group, alpn, resumed
            case notReadable = "not_readable"
            case suiteCode = "suite_code"
            case librarySuite = "library_suite"
            case signatureScheme = "signature_scheme"
            case peerCertificate = "peer_certificate"
            case serverName = "server_name"
            case pskIdentity = "psk_identity"
        }
    }

    /// The last connection's application data as this side counted it.
    public struct Exchange: Codable, Sendable, Equatable {
        public var bytesSent: Int
        public var bytesReceived: Int
        public var digestSent: String
        public var digestReceived: String
        public var keyUpdatesSent: Int?
        public var keyUpdatesReceived: Int?

        enum CodingKeys: String, CodingKey {
            case bytesSent = "bytes_sent"
            case bytesReceived = "bytes_received"
            case digestSent = "digest_sent"
            case digestReceived = "digest_received"
            case keyUpdatesSent = "key_updates_sent"
            case keyUpdatesReceived = "key_updates_received"
        }
    }

    public struct Failure: Codable, Sendable, Equatable {
        public var stage: FailureStage
        public var alert: String?
        public var alertCode: Int?
        public var alertDirection: ObservedAlert.Direction?
        public var libraryCode: String?
        /// Why this side rejected the other's certificate (stage `verify`), from its library's result.
        public var verifyReason: VerifyReason?
        public var message: String

        public init(stage: FailureStage, alert: String? = nil, alertCode: Int? = nil, alertDirection: ObservedAlert.Direction? = nil,
                    libraryCode: String? = nil, verifyReason: VerifyReason? = nil, message: String) {
            self.stage = stage
            self.alert = alert
            self.alertCode = alertCode
            self.alertDirection = alertDirection
            self.libraryCode = libraryCode
            self.verifyReason = verifyReason
            self.message = message
        }

        enum CodingKeys: String, CodingKey {
            case stage, alert, message
            case alertCode = "alert_code"
            case alertDirection = "alert_direction"
            case libraryCode = "library_code"
            case verifyReason = "verify_reason"
        }
    }

    public var role: String
    public var status: Status
    public var reason: String?
    public var view: View?
    /// Every connection's view, when the peer made or took several (`--resume`).
    public var views: [View]?
    public var exchange: Exchange?
    public var error: Failure?
    public var handshakeMs: Double?
    /// A worker's log of this cell (a one-cell peer writes it to stderr instead).
    public var log: String?

    enum CodingKeys: String, CodingKey {
        case role, status, reason, view, views, exchange, error, log
        case handshakeMs = "handshake_ms"
    }
}
