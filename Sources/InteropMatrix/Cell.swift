import PeerKit

/// The parameters of one cell besides its pair and scenario; `nil` means the library's default.
public struct CellParameters: Sendable, Hashable, Codable {
    public var version: TLSVersion
    /// IANA name of a forced cipher suite.
    public var suite: String?
    /// IANA code point of a forced cipher suite (`0xC02B`).
    public var suiteCode: String?
    public var group: String?
    /// The server certificate's key type (and the client certificate's, when one is presented).
    public var cert: CertificateKeyType
    public var clientAuth: ClientAuth
    /// What the network between them does (`none`: a direct connection).
    public var network: Impairment = .none

    public init(version: TLSVersion, suite: String? = nil, suiteCode: String? = nil, group: String? = nil,
                cert: CertificateKeyType, clientAuth: ClientAuth) {
        self.version = version
        self.suite = suite
        self.suiteCode = suiteCode
        self.group = group
        self.cert = cert
        self.clientAuth = clientAuth
    }

    // The report's `params` object: snake_case, unforced values written as null.
    enum CodingKeys: String, CodingKey {
        case version, suite, group, cert, network
        case suiteCode = "suite_code"
        case clientAuth = "client_auth"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(TLSVersion.self, forKey: .version)
        suite = try c.decodeIfPresent(String.self, forKey: .suite)
        suiteCode = try c.decodeIfPresent(String.self, forKey: .suiteCode)
        group = try c.decodeIfPresent(String.self, forKey: .group)
        cert = try c.decode(CertificateKeyType.self, forKey: .cert)
        clientAuth = try c.decode(ClientAuth.self, forKey: .clientAuth)
        network = try c.decodeIfPresent(Impairment.self, forKey: .network) ?? .none
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(suite, forKey: .suite)
        try c.encode(suiteCode, forKey: .suiteCode)
        try c.encode(group, forKey: .group)
        try c.encode(cert, forKey: .cert)
        try c.encode(clientAuth, forKey: .clientAuth)
        try c.encode(network, forKey: .network)
    }
}

/// What must end an expected refusal: the stage at which the refusing side fails and, for a
/// certificate, the reason its own library gives (`error.verify_reason`). A refusal for another
/// reason is a fail, however it ended.
public enum RefusalCause: Sendable, Hashable {
    /// The refusing side rejects the other side's certificate (stage `verify`) for exactly this reason.
    case certificate(VerifyReason)
    /// The refusing side ends the handshake (stage `handshake`): a version, suite or protocol it
    /// will not take.
    case handshake
    /// The refusing side ends the handshake (stage `handshake`) because the client's pre-shared
    /// key is not one it holds: an identity it does not know, or a key that does not match.
    case preSharedKey(PreSharedKeyUse)

    /// The stage the refusing side must report.
    public var stage: FailureStage {
        switch self {
        case .certificate: .verify
        case .handshake, .preSharedKey: .handshake
        }
    }

    public var verifyReason: VerifyReason? {
        if case .certificate(let reason) = self { return reason }
        return nil
    }
}

/// How a network that breaks connections on purpose must show in both sides' reports: each
/// impairment has its own (`Impairment.expectedFailure`).
public struct NetworkFailure: Sendable, Hashable {
    /// Both handshakes complete before the damage (corrupt); otherwise neither needs to.
    public var handshakeCompletes: Bool
    public var serverStage: FailureStage
    public var clientStage: FailureStage
    /// The side that meets the damage, and the alert RFC 8446 §5.2 / RFC 5246 §6.2.3 has it send.
    public var detectedBy: Role?
    public var alert: String?
}

/// What a cell must show to pass.
public struct Expectation: Sendable, Hashable {
    public enum Handshake: String, Sendable, Codable { case ok, refused }
    public var handshake: Handshake
    /// The alert the refusing side should send (RFC 8446 §6, RFC 5246 §7.2); nil when any will do.
    public var alert: String?
    public var refusedBy: Role?
    /// Why the handshake must be refused (set for every expected refusal).
    public var refusal: RefusalCause?
    /// The network breaks the connection: both sides must fail, each at the stage this names.
    public var network: NetworkFailure?
    /// The client ends without close_notify: the server must report the truncation (stage shutdown).
    public var truncatedByClient = false
    /// The group both sides must report, when the scenario sets one.
    public var group: String?
    /// The application protocol both sides must report (ALPN), when the scenario sets one.
    public var applicationProtocol: String?

    public var connectionBroken: Bool { network != nil }

    public static let success = Expectation(handshake: .ok, alert: nil, refusedBy: nil)

    /// A refusal by `side` (nil: whichever side notices) for `cause`, with the alert the RFC names.
    public static func refusal(by side: Role?, _ cause: RefusalCause, alert: String) -> Expectation {
        var expect = Expectation(handshake: .refused, alert: alert, refusedBy: side)
        expect.refusal = cause
        return expect
    }

    /// A connection the network breaks: both sides must fail as `failure` says.
    public static func broken(_ failure: NetworkFailure) -> Expectation {
        var expect = Expectation(handshake: .refused, alert: failure.alert, refusedBy: failure.detectedBy)
        expect.network = failure
        return expect
    }

    init(handshake: Handshake, alert: String?, refusedBy: Role?) {
        self.handshake = handshake
        self.alert = alert
        self.refusedBy = refusedBy
    }
}

/// One server library × client library × scenario × parameters: the unit the matrix runs and reports.
public struct Cell: Sendable, Hashable {
    public init(server: String, client: String, scenario: String, params: CellParameters, expect: Expectation, clientPresentsCertificate: Bool) {
        self.server = server
        self.client = client
        self.scenario = scenario
        self.params = params
        self.expect = expect
        self.clientPresentsCertificate = clientPresentsCertificate
    }

    public var server: String
    public var client: String
    public var scenario: String
    public var params: CellParameters
    public var expect: Expectation
    /// Whether the client loads its certificate (a scenario may withhold it on purpose).
    public var clientPresentsCertificate: Bool
    /// The flawed or chained certificate a side presents instead of its good one, if any.
    public var serverCertificate: CertificateVariant?
    public var clientCertificate: CertificateVariant?
    /// The client's own version, when it differs from `params.version` (which the server uses).
    public var clientVersion: TLSVersion?
    /// The client closes without close_notify.
    public var clientTruncates = false
    /// Each side's own suite code point, when the sides are limited to different suites.
    public var serverSuiteCode: String?
    public var clientSuiteCode: String?
    /// ALPN lists each side offers or accepts.
    public var serverALPN: [String] = []
    public var clientALPN: [String] = []
    /// Groups each side is limited to, when they differ.
    public var serverGroups: [String] = []
    public var clientGroups: [String] = []
    /// Peers run with their library's defaults; `params.version` is what they should agree on.
    public var usesLibraryDefaults = false
    /// Peers lift their library's default policy (`legacy: true` in the matrix).
    public var liftPolicy = false
    /// SNI, resumption, a large transfer or a KeyUpdate, when the scenario uses them.
    public var features = ConnectionFeatures()

    /// Stable across runs and unique in a matrix: the key of baselines and merges.
    public var id: String {
        let p = params
        let version = usesLibraryDefaults ? "default" : p.version.rawValue
        let network = p.network == .none ? "" : "/net-\(p.network)"
        return "\(server)>\(client)/\(scenario)/\(version)/\(p.suite ?? "default")/\(p.group ?? "default")/\(p.cert.rawValue)/auth-\(p.clientAuth.rawValue)\(network)"
    }
}

/// Which pre-shared key the client offers: the server's own, or one the server must refuse.
public enum PreSharedKeyUse: String, Sendable, Hashable {
    case matching
    /// An identity the server does not know.
    case unknownIdentity = "unknown-identity"
    /// The server's identity with another key.
    case wrongKey = "wrong-key"
}

/// What a scenario asks of the connection beyond the handshake: the optional parts of the peer
/// protocol, each named by the capability feature a peer must list to be given it.
public struct ConnectionFeatures: Sendable, Hashable {
    /// The client asks for `CertificateAuthority.alternateHost`; the server holds a second
    /// certificate for that name and must present it.
    public var alternateHost = false
    /// The client connects twice and must resume the first session the second time.
    public var resumption: ResumptionMode?
    /// Bytes sent each way instead of the echo line.
    public var transferBytes: Int?
    /// TLS 1.3: the client sends a KeyUpdate asking the server to update too.
    public var keyUpdate = false
    /// The client names the server by its address (`127.0.0.1`): no SNI (RFC 6066 §3), verified
    /// against the certificate's iPAddress SAN.
    public var addressAsServerName = false
    /// Both sides get a pre-shared key (`--psk`): the server the run's, the client the run's or,
    /// to be refused, one with another identity or another key.
    public var preSharedKey: PreSharedKeyUse?
    /// TLS 1.3: the PSK alone, psk_ke (`--psk-mode ke`), instead of psk_dhe_ke (RFC 8446 §4.2.9).
    public var preSharedKeyWithoutKeyExchange = false

    public init(alternateHost: Bool = false, resumption: ResumptionMode? = nil, transferBytes: Int? = nil, keyUpdate: Bool = false) {
        self.alternateHost = alternateHost
        self.resumption = resumption
        self.transferBytes = transferBytes
        self.keyUpdate = keyUpdate
    }

    /// The name the client asks for (`--server-name`): the alternate host, the server's address,
    /// or `localhost`, which the server's main certificate names.
    public var serverName: String {
        alternateHost ? CertificateAuthority.alternateHost : addressAsServerName ? "127.0.0.1" : "localhost"
    }

    /// The `features` of the peer protocol's capabilities this needs of a side. `ip-server-name` is
    /// the client's alone: naming the server by its address is all the client's doing, and the
    /// server only reports the SNI it received (none), which `sni` covers.
    public func required(of role: Role, at version: TLSVersion? = nil) -> [String] {
        var names: [String] = []
        if alternateHost { names.append("sni") }
        switch resumption {
        case .sessionID: names.append("resume-session-id")
        case .ticket: names.append("resume-ticket")
        case nil: break
        }
        if transferBytes != nil { names.append("transfer") }
        if keyUpdate { names.append("key-update") }
        if preSharedKey != nil {
            // TLS 1.2 and below: the PSK suites; TLS 1.3: an external PSK, psk_dhe_ke or psk_ke.
            names.append(version != .tls13 ? "psk" : preSharedKeyWithoutKeyExchange ? "psk-ke" : "psk-tls13")
        }
        // The server's reported SNI (none) is evidence only from a peer that reads SNI back.
        if addressAsServerName {
            if role == .client { names.append("ip-server-name") }
            if !names.contains("sni") { names.append("sni") }
        }
        return names
    }
}

extension Cell {
    /// The values a covering array crosses: one per dimension a matrix block varies.
    var coverageRow: [String] { params.coverageRow }
}

extension CellParameters {
    /// The values a covering array crosses, as `Cell.coverageRow`.
    var coverageRow: [String] {
        [version.rawValue, cert.rawValue, suite ?? "-", group ?? "-", clientAuth.rawValue, network.description]
    }
}
