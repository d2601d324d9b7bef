/// The one thing a peer implements per TLS library: configure the library, attach it to a connected
/// non-blocking socket, and take one non-blocking step at a time. The driver (`PeerSession`) owns the
/// sockets, the poll loop, the deadline, the echo exchange and the output, identically for every library.
public protocol TLSEngine: AnyObject {
    /// The library's identity, with the version it reports at run time.
    static var library: LibraryIdentity { get }

    /// What the library supports at run time, for `peer-<lib> capabilities`.
    static func capabilities() -> Capabilities

    /// Builds the library's configuration (certificates, trust, versions, suites, groups,
    /// verification) before any socket exists. Throws `Unsupported` when the library cannot do the
    /// request, or a `PeerFailure` at stage `setup` when it fails to load what it was given.
    init(request: PeerRequest) throws

    /// Binds a connection to the connected, non-blocking socket.
    func attach(socket descriptor: Int32) throws(PeerFailure)

    /// One handshake step.
    func handshake() -> AsyncOperationResult<Void>

    /// Reads application data; `.complete(0)` means the peer sent close_notify.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int>

    /// Writes application data; `.complete(n)` may be a partial write.
    func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int>

    /// Sends close_notify.
    func closeNotify() -> AsyncOperationResult<Void>

    /// After a failure past the handshake (a data-stage failure, a deadline): one step of ending the
    /// connection properly, as far as the library still allows. An engine whose library already
    /// ended the connection with a fatal alert (sent or received) or lost its transport sends nothing
    /// and fails, saying so; otherwise it sends close_notify. The driver bounds it in time.
    func closeAfterFailure() -> AsyncOperationResult<Void>

    /// The deadline passed in the middle of the handshake: one step of telling the other side with a
    /// user_canceled alert (RFC 8446 §6.1: "the sender is canceling the handshake for some reason
    /// unrelated to a protocol failure"), where the library lets a peer send one then. The default
    /// says the library does not.
    func cancelHandshake() -> AsyncOperationResult<Void>

    /// What the library says was negotiated. Called once the handshake is complete.
    func negotiated() -> NegotiatedView

    /// Client with `--resume`: keep the finished connection's session so the next `attach` offers
    /// it. Called after the data exchange (TLS 1.3 tickets arrive after the handshake), before
    /// close_notify.
    func keepSessionForResumption() throws(PeerFailure)

    /// `--key-update` (TLS 1.3): one step of sending a KeyUpdate with update_requested.
    func requestKeyUpdate() -> AsyncOperationResult<Void>

    /// KeyUpdate messages this connection sent and received so far, as the library's own callbacks
    /// saw them; nil where the library cannot tell.
    func keyUpdates() -> KeyUpdateCount?
}

extension TLSEngine {
    public func closeAfterFailure() -> AsyncOperationResult<Void> { closeNotify() }
    public func cancelHandshake() -> AsyncOperationResult<Void> {
        .failed(TLSError(libraryCode: nil, message: "\(Self.library.name) lets no alert be sent during a handshake"))
    }
    public func keepSessionForResumption() throws(PeerFailure) {
        throw PeerFailure(stage: .data, message: "\(Self.library.name) peer cannot keep a session for resumption")
    }
    public func requestKeyUpdate() -> AsyncOperationResult<Void> {
        .failed(TLSError(libraryCode: nil, message: "\(Self.library.name) peer cannot send a KeyUpdate"))
    }
    public func keyUpdates() -> KeyUpdateCount? { nil }
}

/// TLS 1.3 KeyUpdate messages one connection sent and received.
public struct KeyUpdateCount: Sendable {
    public var sent = 0
    public var received = 0
    public init() {}
}

/// A library's short id (`openssl`), display name and run-time version.
public struct LibraryIdentity: Sendable {
    public var id: String
    public var name: String
    public var version: String

    public init(id: String, name: String, version: String) {
        self.id = id
        self.name = name
        self.version = version
    }

    var json: JSON { .object([("id", .string(id)), ("name", .string(name)), ("version", .string(version))]) }
}

/// What a library supports, as it reports at run time.
public struct Capabilities: Sendable {
    /// One cipher suite the library implements.
    public struct Suite: Sendable {
        public var code: UInt16
        /// The library's IANA-style name where it gives one.
        public var name: String?
        /// The library's own spelling.
        public var libraryName: String
        /// The lowest and highest versions the suite can be used with.
        public var minVersion: TLSVersion?
        public var maxVersion: TLSVersion?
        /// Whether the library's out-of-the-box configuration offers it.
        public var isDefault: Bool
        /// Implemented, but refused by the library's default policy even when asked for by name
        /// (OpenSSL's security level refusing NULL ciphers, say).
        public var disabledByPolicy = false

        public init(code: UInt16, name: String?, libraryName: String, minVersion: TLSVersion?, maxVersion: TLSVersion?, isDefault: Bool) {
            self.code = code
            self.name = name
            self.libraryName = libraryName
            self.minVersion = minVersion
            self.maxVersion = maxVersion
            self.isDefault = isDefault
        }
    }

    public var versions: [TLSVersion]
    /// Versions the library's out-of-the-box configuration enables.
    public var defaultVersions: [TLSVersion]
    public var suites: [Suite]
    /// Key exchange groups, IANA spelling.
    public var groups: [String]
    /// The groups the default configuration offers, in its order; nil where the library has no way
    /// to say (OpenSSL 3.0).
    public var defaultGroups: [String]?
    /// Signature schemes (IANA names) the library can sign or verify handshakes with.
    public var signatureSchemes: [String] = []
    /// Certificate key types this peer can load and use (`rsa2048`, `ecdsa-p256`, `ed25519`, …).
    public var certificateTypes: [String]
    /// Free-text remarks on limits of this build (`no TLS 1.3 in this build`).
    public var notes: [String]
    /// The optional parts of the peer protocol this peer implements: `sni` (`--alt-*`),
    /// `resume-session-id`, `resume-ticket` (`--resume`), `transfer`, `key-update`.
    public var features: [String] = []
    /// View fields this build can never read back, in either role (`group`, `signature_scheme`,
    /// `peer_certificate`): a cell whose verdict needs one that neither side can read is unsupported.
    public var notReadable: [String] = []

    public init(versions: [TLSVersion], defaultVersions: [TLSVersion], suites: [Suite], groups: [String],
                defaultGroups: [String]?, certificateTypes: [String], notes: [String]) {
        self.defaultGroups = defaultGroups
        self.versions = versions
        self.defaultVersions = defaultVersions
        self.suites = suites
        self.groups = groups
        self.certificateTypes = certificateTypes
        self.notes = notes
    }

    func json(library: LibraryIdentity) -> JSON {
        .object([
            ("event", .string("capabilities")),
            ("protocol", .int(PeerProtocol.version)),
            ("library", library.json),
            ("versions", .array(versions.map { .string($0.rawValue) })),
            ("default_versions", .array(defaultVersions.map { .string($0.rawValue) })),
            ("suites", .array(suites.map { suite in
                .object([
                    ("code", .string(NegotiatedView.hexCode(suite.code))),
                    ("name", .optional(suite.name)),
                    ("library_name", .string(suite.libraryName)),
                    ("min_version", .optional(suite.minVersion?.rawValue)),
                    ("max_version", .optional(suite.maxVersion?.rawValue)),
                    ("default", .bool(suite.isDefault)),
                    ("disabled_by_policy", .bool(suite.disabledByPolicy)),
                ])
            })),
            ("groups", .array(groups.map(JSON.string))),
            ("default_groups", defaultGroups.map { .array($0.map(JSON.string)) } ?? .null),
            ("signature_schemes", .array(signatureSchemes.map(JSON.string))),
            ("certificate_types", .array(certificateTypes.map(JSON.string))),
            ("notes", .array(notes.map(JSON.string))),
            ("features", .array(features.map(JSON.string))),
            ("not_readable", .array(notReadable.map(JSON.string))),
        ])
    }
}
