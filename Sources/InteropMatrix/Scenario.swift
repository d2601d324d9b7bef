import PeerKit

/// A kind of cell: what the peers are set up to do and what must come of it. One small type each.
public protocol Scenario: Sendable {
    /// The name reports use (`basic`, `client-cert-missing`).
    var name: String { get }
    /// Whether the scenario applies to these parameters at all (a scenario about client
    /// certificates needs client auth, say); cells it does not apply to are not generated.
    func applies(to params: CellParameters) -> Bool
    func expectation(for params: CellParameters) -> Expectation
    func clientPresentsCertificate(_ params: CellParameters) -> Bool
    /// Whether the peers run with their library's out-of-the-box configuration (no version, suite
    /// or group forced); the cell's version is then the one both defaults should agree on.
    var usesLibraryDefaults: Bool { get }
    /// The certificate the server presents instead of its good one, if any.
    var serverCertificate: CertificateVariant? { get }
    /// The certificate the client presents instead of its good one, if any.
    var clientCertificate: CertificateVariant? { get }
    /// A version the client is limited to instead of the cell's (the server keeps the cell's).
    func clientVersion(for params: CellParameters) -> TLSVersion?
    /// Suites (IANA names) each side is limited to instead of the cell's.
    func sideSuites(for params: CellParameters) -> (server: String?, client: String?)
    /// Application protocols (RFC 7301) each side offers or accepts, most preferred first.
    var applicationProtocols: (server: [String], client: [String]) { get }
    /// Key exchange groups each side is limited to instead of the cell's, most preferred first.
    var sideGroups: (server: [String], client: [String]) { get }
    /// Whether the client ends the connection without close_notify.
    var clientTruncates: Bool { get }
    /// SNI, resumption, a large transfer or a KeyUpdate.
    var features: ConnectionFeatures { get }
    /// Whether a cell of this scenario may force `suite` with a certificate of `cert` at `version`:
    /// by default a suite the certificate authenticates; a scenario with other credentials (a
    /// pre-shared key, a key-agreement certificate) takes its own suites instead.
    func admits(_ suite: CipherSuite, cert: CertificateKeyType, version: TLSVersion) -> Bool
}

extension Scenario {
    public var usesLibraryDefaults: Bool { false }
    public var serverCertificate: CertificateVariant? { nil }
    public var clientCertificate: CertificateVariant? { nil }
    public func clientVersion(for params: CellParameters) -> TLSVersion? { nil }
    public func sideSuites(for params: CellParameters) -> (server: String?, client: String?) { (nil, nil) }
    public var applicationProtocols: (server: [String], client: [String]) { ([], []) }
    public var sideGroups: (server: [String], client: [String]) { ([], []) }
    public var clientTruncates: Bool { false }
    public var features: ConnectionFeatures { ConnectionFeatures() }
    public func applies(to params: CellParameters) -> Bool { true }
    public func clientPresentsCertificate(_ params: CellParameters) -> Bool { params.clientAuth != .none }
    public func admits(_ suite: CipherSuite, cert: CertificateKeyType, version: TLSVersion) -> Bool {
        suite.isAuthenticated(by: cert, at: version)
    }
}

/// A verified handshake, an echo and close_notify both ways; the client presents its certificate
/// whenever the server asks for one.
public struct BasicScenario: Scenario {
    public var name: String { "basic" }
    public init() {}
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// The server requires a client certificate and the client has none: the server must refuse, at
/// stage `verify` with reason `no_certificate`. TLS 1.3 names the alert (certificate_required,
/// RFC 8446 §4.4.2.4); TLS 1.2 says the server may answer with handshake_failure (RFC 5246 §7.4.6).
public struct ClientCertificateMissingScenario: Scenario {
    public var name: String { "client-cert-missing" }
    public init() {}
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .required }
    public func clientPresentsCertificate(_ params: CellParameters) -> Bool { false }
    public func expectation(for params: CellParameters) -> Expectation {
        .refusal(by: .server, .certificate(.noCertificate), alert: params.version == .tls13 ? "certificate_required" : "handshake_failure")
    }
}

/// Both peers exactly as their library comes (what most users run): nothing forced, no client
/// certificate. They must agree on the highest version both enable by default; a lower one is a
/// downgrade and fails the cell.
public struct DefaultsScenario: Scenario {
    public var name: String { "defaults" }
    public init() {}
    public var usesLibraryDefaults: Bool { true }
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none }
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// The server presents a flawed certificate; the client, which always verifies, must refuse it at
/// stage `verify` for exactly that flaw (its library's verification result, as `verify_reason`),
/// with the alert RFC 8446 §6.2 (and RFC 5246 §7.2.2) names for it. A refusal for another reason
/// fails; another alert is a counted deviation.
public struct FlawedServerCertificateScenario: Scenario {
    public let name: String
    public let serverCertificate: CertificateVariant?
    public let flaw: VerifyReason
    public let alert: String

    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none }
    public func expectation(for params: CellParameters) -> Expectation {
        .refusal(by: .client, .certificate(flaw), alert: alert)
    }

    public static let all: [FlawedServerCertificateScenario] = [
        .init(name: "expired-cert", serverCertificate: .expiredServer, flaw: .expired, alert: "certificate_expired"),
        // certificate_expired: "a certificate has expired or is not currently valid".
        .init(name: "not-yet-valid-cert", serverCertificate: .notYetValidServer, flaw: .notYetValid, alert: "certificate_expired"),
        .init(name: "wrong-host", serverCertificate: .wrongHostServer, flaw: .nameMismatch, alert: "certificate_unknown"),
        .init(name: "unknown-ca", serverCertificate: .untrustedServer, flaw: .untrusted, alert: "unknown_ca"),
        .init(name: "self-signed", serverCertificate: .selfSignedServer, flaw: .untrusted, alert: "unknown_ca"),
        .init(name: "missing-intermediate", serverCertificate: .leafWithoutIntermediateServer, flaw: .untrusted, alert: "unknown_ca"),
        .init(name: "bad-key-usage", serverCertificate: .badKeyUsageServer, flaw: .keyUsage, alert: "unsupported_certificate"),
    ]
}

/// The server sends its certificate with the intermediate CA it was issued by; the client trusts
/// only the root and must build the chain.
public struct ChainScenario: Scenario {
    public var name: String { "chain" }
    public init() {}
    public var serverCertificate: CertificateVariant? { .chainServer }
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none }
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// The server requires a client certificate; the client's is signed by a CA the server does not
/// trust. The server must refuse it as untrusted (stage `verify`), with unknown_ca.
public struct ClientCertificateUntrustedScenario: Scenario {
    public var name: String { "client-cert-untrusted" }
    public init() {}
    public var clientCertificate: CertificateVariant? { .untrustedClient }
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .required }
    public func expectation(for params: CellParameters) -> Expectation {
        .refusal(by: .server, .certificate(.untrusted), alert: "unknown_ca")
    }
}

/// The server allows only the cell's version and the client only the other of TLS 1.2 and 1.3
/// (server 1.3-only with a 1.2-only client, and back). The handshake must fail with
/// protocol_version (RFC 8446 §4.2.1), whichever side notices.
public struct VersionMismatchScenario: Scenario {
    public var name: String { "version-mismatch" }
    public init() {}
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none && [.tls12, .tls13].contains(params.version) }
    public func clientVersion(for params: CellParameters) -> TLSVersion? { params.version == .tls13 ? .tls12 : .tls13 }
    public func expectation(for params: CellParameters) -> Expectation {
        .refusal(by: nil, .handshake, alert: "protocol_version")
    }
}

/// Each side allows one suite, not the other's. The server must refuse with handshake_failure
/// (RFC 8446 §4.1.1, RFC 5246 §7.4.1.3).
public struct NoSharedSuiteScenario: Scenario {
    public var name: String { "no-shared-suite" }
    public init() {}
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none && params.cert != .ed25519 && params.version >= .tls12 }
    public func sideSuites(for params: CellParameters) -> (server: String?, client: String?) {
        switch (params.version, params.cert.isRSA) {
        case (.tls13, _): ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384")
        case (_, true): ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        default: ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
        }
    }
    public func expectation(for params: CellParameters) -> Expectation {
        .refusal(by: .server, .handshake, alert: "handshake_failure")
    }
}

/// Both sides speak ALPN with overlapping lists in different orders: both must report the same
/// protocol, the server's preference (RFC 7301 §3.2: the server selects).
public struct ALPNScenario: Scenario {
    public var name: String { "alpn" }
    public init() {}
    public var applicationProtocols: (server: [String], client: [String]) { (["h2", "http/1.1"], ["http/1.1", "h2"]) }
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none }
    public func expectation(for params: CellParameters) -> Expectation {
        var expect = Expectation.success
        expect.applicationProtocol = "h2"
        return expect
    }
}

/// ALPN lists with no protocol in common. RFC 7301 §3.2: "In the event that the server supports no
/// protocols that the client advertises, then the server SHALL respond with a fatal
/// no_application_protocol alert." A server that carries on without ALPN breaks that SHALL and fails
/// the cell (the client would speak a protocol the server never agreed to).
public struct ALPNMismatchScenario: Scenario {
    public var name: String { "alpn-mismatch" }
    public init() {}
    public var applicationProtocols: (server: [String], client: [String]) { (["h2"], ["http/1.1"]) }
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none }
    public func expectation(for params: CellParameters) -> Expectation {
        .refusal(by: .server, .handshake, alert: "no_application_protocol")
    }
}

/// TLS 1.3 HelloRetryRequest: the client's first key share is for a group the server does not take;
/// the server must ask again for the one it does (RFC 8446 §4.1.4) and both must report that one.
/// `hrr`: x25519 first, the server takes secp384r1. With a post-quantum hybrid, the large share
/// (X25519MLKEM768's is 1,216 bytes) is the first or the second ClientHello's:
/// `hrr-hybrid-declined`: X25519MLKEM768 first, the server takes only secp256r1;
/// `hrr-to-hybrid`: x25519 first, the server takes only X25519MLKEM768. A client that sends a share for
/// its second group as well may get no HelloRetryRequest; the group both report must still be the
/// server's.
public struct HelloRetryScenario: Scenario {
    public let name: String
    /// The only group the server takes, and the client's groups, first key share first.
    let serverGroup: String
    let clientGroups: [String]

    init(name: String, serverGroup: String, clientGroups: [String]) {
        self.name = name
        self.serverGroup = serverGroup
        self.clientGroups = clientGroups
    }

    public static let classic = HelloRetryScenario(name: "hrr", serverGroup: "secp384r1", clientGroups: ["x25519", "secp384r1"])
    public static let hybridDeclined = HelloRetryScenario(name: "hrr-hybrid-declined", serverGroup: "secp256r1", clientGroups: ["X25519MLKEM768", "secp256r1"])
    public static let toHybrid = HelloRetryScenario(name: "hrr-to-hybrid", serverGroup: "X25519MLKEM768", clientGroups: ["x25519", "X25519MLKEM768"])
    static let all = [classic, hybridDeclined, toHybrid]

    public var sideGroups: (server: [String], client: [String]) { ([serverGroup], clientGroups) }
    public func applies(to params: CellParameters) -> Bool { params.version == .tls13 && params.clientAuth == .none }
    public func expectation(for params: CellParameters) -> Expectation {
        var expect = Expectation.success
        expect.group = serverGroup
        return expect
    }
}

/// The client completes the echo, then closes TCP without close_notify. The server must notice:
/// a truncated stream (RFC 8446 §6.1, RFC 5246 §7.2.1) reported at stage shutdown, not a clean end.
/// (Both sides seeing each other's close_notify is checked in every other cell.)
public struct CloseNotifyScenario: Scenario {
    public var name: String { "close-notify" }
    public init() {}
    public var clientTruncates: Bool { true }
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none }
    public func expectation(for params: CellParameters) -> Expectation {
        var expect = Expectation.success
        expect.truncatedByClient = true
        return expect
    }
}

/// The client asks for a second host name (SNI); the server holds a certificate for it besides its
/// main one and must present that one. The client verifies it against the name it asked for, and the
/// server reports the name it received.
public struct SNIScenario: Scenario {
    public var name: String { "sni" }
    public init() {}
    public var features: ConnectionFeatures { ConnectionFeatures(alternateHost: true) }
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none }
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// The client names the server by its IP address, as clients of devices and internal services do:
/// it must send no SNI (RFC 6066 §3 permits no address literals there), verify the certificate
/// against its iPAddress SAN (RFC 6125 §6.2, RFC 5280 §4.2.1.6), and the server must report no name.
public struct AddressServerNameScenario: Scenario {
    public var name: String { "ip-address" }
    public init() {}
    public var features: ConnectionFeatures {
        var features = ConnectionFeatures()
        features.addressAsServerName = true
        return features
    }
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none }
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// The client connects twice and offers the first connection's session the second time; both sides
/// must report the second connection resumed (and the first not). A silent full handshake fails.
/// `resumption-id`: TLS 1.2 and below, the server's session cache found by session id, no tickets.
/// `resumption-ticket`: a session ticket (RFC 5077) in TLS 1.2, a PSK ticket in TLS 1.3.
public struct ResumptionScenario: Scenario {
    public let mode: ResumptionMode
    public var name: String { mode == .sessionID ? "resumption-id" : "resumption-ticket" }
    public init(_ mode: ResumptionMode) { self.mode = mode }
    public var features: ConnectionFeatures { ConnectionFeatures(resumption: mode) }
    public func applies(to params: CellParameters) -> Bool {
        params.clientAuth == .none && (mode == .ticket || params.version <= .tls12)
    }
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// 4 MiB each way: the client sends a known byte stream while it reads the server's echo of it,
/// through the non-blocking loop (partial writes, short reads, records split across poll wake-ups);
/// both sides check every byte and report digests, which must match.
public struct LargeTransferScenario: Scenario {
    public static let bytes = 4 << 20
    public var name: String { "large-transfer" }
    public init() {}
    public var features: ConnectionFeatures { ConnectionFeatures(transferBytes: Self.bytes) }
    /// Over a direct connection: megabytes through a byte-per-segment proxy would measure the proxy.
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none && params.network == .none }
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// TLS 1.3 KeyUpdate (RFC 8446 §4.6.3): after the handshake the client updates its keys and asks the
/// server to update too; the echo then runs on the new keys. Both libraries must count one KeyUpdate
/// each way.
public struct KeyUpdateScenario: Scenario {
    public var name: String { "key-update" }
    public init() {}
    public var features: ConnectionFeatures { ConnectionFeatures(keyUpdate: true) }
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .none && params.version == .tls13 }
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// A pre-shared key, each side given it by file. Up to TLS 1.2 over a PSK suite (RFC 4279): `psk`,
/// the client offers the server's identity and key; both must agree on the PSK suite, the server
/// must report the identity it accepted, and no certificate crosses unless the suite is RSA_PSK.
/// `psk-unknown-identity`: the server does not know the client's identity and must refuse, with
/// unknown_psk_identity (RFC 4279 §2; the same section lets a server hide that behind
/// decrypt_error, which is then a counted deviation). `psk-wrong-key`: the identity is known, the
/// key differs: the client's Finished, protected with keys from the other secret, cannot be
/// decrypted by the server, which must refuse with bad_record_mac (RFC 5246 §6.2.3).
/// In TLS 1.3 an external PSK (RFC 8446 §2.2, SHA-256): `psk` with psk_dhe_ke and `psk-ke` with
/// psk_ke alone must authenticate by the key (both report the identity, no certificate crosses,
/// and under psk_ke no key exchange group); for an unknown identity the server selects no PSK and
/// the handshake goes on with its certificate (§4.2.11), which the client verifies; a wrong key
/// fails the binder, and the server must abort with decrypt_error (§4.2.11, §6.2).
public struct PreSharedKeyScenario: Scenario {
    public let use: PreSharedKeyUse
    /// psk_ke: TLS 1.3 only.
    public let withoutKeyExchange: Bool
    public var name: String { withoutKeyExchange ? "psk-ke" : use == .matching ? "psk" : "psk-\(use.rawValue)" }
    public init(_ use: PreSharedKeyUse, withoutKeyExchange: Bool = false) {
        self.use = use
        self.withoutKeyExchange = withoutKeyExchange
    }
    public var features: ConnectionFeatures {
        var features = ConnectionFeatures()
        features.preSharedKey = use
        features.preSharedKeyWithoutKeyExchange = withoutKeyExchange
        return features
    }
    public func admits(_ suite: CipherSuite, cert: CertificateKeyType, version: TLSVersion) -> Bool {
        suite.isPSKAuthenticated(by: cert, at: version)
    }
    public func applies(to params: CellParameters) -> Bool {
        guard params.clientAuth == .none else { return false }
        // A TLS 1.3 cell may leave the suite to the libraries (an external PSK takes a SHA-256 one).
        guard let name = params.suite else { return params.version == .tls13 }
        guard let suite = CipherSuiteRegistry.suite(named: name) else { return false }
        return admits(suite, cert: params.cert, version: params.version) && (!withoutKeyExchange || params.version == .tls13)
    }
    public func expectation(for params: CellParameters) -> Expectation {
        switch (use, params.version == .tls13) {
        case (.matching, _), (.unknownIdentity, true): .success
        case (.unknownIdentity, false): .refusal(by: .server, .preSharedKey(use), alert: "unknown_psk_identity")
        case (.wrongKey, false): .refusal(by: .server, .preSharedKey(use), alert: "bad_record_mac")
        case (.wrongKey, true): .refusal(by: .server, .preSharedKey(use), alert: "decrypt_error")
        }
    }
    static let all = [PreSharedKeyScenario(.matching), PreSharedKeyScenario(.unknownIdentity), PreSharedKeyScenario(.wrongKey),
                      PreSharedKeyScenario(.matching, withoutKeyExchange: true)]
}

/// A static ECDH_ECDSA suite (RFC 8422 §2.1), which Mbed TLS still implements: the server's
/// certificate key is its ECDH key, and the certificate's key usage allows keyAgreement (the
/// runner's key-agreement variant); with or without a client certificate, as compat.sh runs them.
public struct StaticECDHScenario: Scenario {
    public var name: String { "static-ecdh" }
    public init() {}
    public var serverCertificate: CertificateVariant? { .keyAgreementServer }
    public func admits(_ suite: CipherSuite, cert: CertificateKeyType, version: TLSVersion) -> Bool {
        suite.isStaticECDHAuthenticated(by: cert, at: version)
    }
    public func applies(to params: CellParameters) -> Bool {
        guard let name = params.suite, let suite = CipherSuiteRegistry.suite(named: name) else { return false }
        return admits(suite, cert: params.cert, version: params.version)
    }
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// Every scenario by name.
public enum Scenarios {
    public static let all: [any Scenario] = [BasicScenario(), ClientCertificateMissingScenario(), DefaultsScenario(), ChainScenario(),
                                             ClientCertificateUntrustedScenario(), VersionMismatchScenario(), NoSharedSuiteScenario(),
                                             ALPNScenario(), ALPNMismatchScenario(), CloseNotifyScenario(),
                                             SNIScenario(), AddressServerNameScenario(), ResumptionScenario(.sessionID), ResumptionScenario(.ticket),
                                             LargeTransferScenario(), KeyUpdateScenario()]
        + FlawedServerCertificateScenario.all + HelloRetryScenario.all + PreSharedKeyScenario.all + [StaticECDHScenario()]

    public static func named(_ name: String) -> (any Scenario)? { all.first { $0.name == name } }
}
