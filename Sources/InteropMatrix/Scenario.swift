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
}

extension Scenario {
    public var usesLibraryDefaults: Bool { false }
    public func applies(to params: CellParameters) -> Bool { true }
    public func clientPresentsCertificate(_ params: CellParameters) -> Bool { params.clientAuth != .none }
}

/// A verified handshake, an echo and close_notify both ways; the client presents its certificate
/// whenever the server asks for one.
public struct BasicScenario: Scenario {
    public var name: String { "basic" }
    public init() {}
    public func expectation(for params: CellParameters) -> Expectation { .success }
}

/// The server requires a client certificate and the client has none: the server must refuse.
/// TLS 1.3 names the alert (certificate_required, RFC 8446 §4.4.2.4); TLS 1.2 says the server may
/// answer with handshake_failure (RFC 5246 §7.4.6).
public struct ClientCertificateMissingScenario: Scenario {
    public var name: String { "client-cert-missing" }
    public init() {}
    public func applies(to params: CellParameters) -> Bool { params.clientAuth == .required }
    public func clientPresentsCertificate(_ params: CellParameters) -> Bool { false }
    public func expectation(for params: CellParameters) -> Expectation {
        Expectation(handshake: .refused,
                    alert: params.version == .tls13 ? "certificate_required" : "handshake_failure",
                    refusedBy: .server)
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

/// Every scenario by name.
public enum Scenarios {
    public static let all: [any Scenario] = [BasicScenario(), ClientCertificateMissingScenario(), DefaultsScenario()]

    public static func named(_ name: String) -> (any Scenario)? { all.first { $0.name == name } }
}
