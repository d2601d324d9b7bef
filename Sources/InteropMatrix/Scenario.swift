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
}

extension Scenario {
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

/// Every scenario by name.
public enum Scenarios {
    public static let all: [any Scenario] = [BasicScenario(), ClientCertificateMissingScenario()]

    public static func named(_ name: String) -> (any Scenario)? { all.first { $0.name == name } }
}
