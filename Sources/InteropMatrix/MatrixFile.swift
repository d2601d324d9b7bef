import Foundation
import PeerKit
import Yams

/// A matrix as people write it in `matrix/*.yml`: the libraries and the values of each dimension to
/// cross. Every cell is one combination; scenarios that do not apply to a combination skip it.
public struct MatrixFile: Sendable, Equatable {
    public var name: String
    public var servers: [String]
    public var clients: [String]
    public var scenarios: [String]
    public var versions: [TLSVersion]
    public var certs: [CertificateKeyType]
    public var clientAuth: [ClientAuth]
    /// Forced suites by IANA name; empty means each library's defaults.
    public var suites: [String]
    /// Forced groups by IANA name; empty means each library's defaults.
    public var groups: [String]
    /// Where it came from, for reports: a path or `built-in default`.
    public var source: String

    /// The keys a matrix file may use; anything else is an error, not silently ignored.
    static let keys: Set<String> = ["name", "servers", "clients", "libraries", "scenarios", "versions", "certs", "client_auth", "suites", "groups"]

    /// The built-in default, kept identical to `matrix/default.yml` (a test compares them).
    public static let builtInDefaultText = """
    # The built-in default matrix: what `swift run interop-matrix` runs with no --matrix.
    # Every server library x every client library (self-pairs included), TLS 1.2 and 1.3, an RSA and an
    # ECDSA certificate, without and with a required client certificate, each library's default suites
    # and groups. Kept small so it runs in seconds; matrix/ holds the larger ones.
    name: default
    servers: [openssl, mbedtls, gnutls]
    clients: [openssl, mbedtls, gnutls]
    scenarios: [basic, client-cert-missing]
    versions: [TLS1.2, TLS1.3]
    certs: [rsa2048, ecdsa-p256]
    client_auth: [none, required]

    """

    public static func builtInDefault() -> MatrixFile {
        // The text is part of the program; a failure here is a programming error caught by tests.
        try! MatrixFile(yaml: builtInDefaultText, source: "built-in default (matrix/default.yml)")
    }

    /// Reads a matrix file; errors name the file and the offending key.
    public static func load(path: String) throws(MatrixError) -> MatrixFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MatrixError(file: path, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MatrixError(file: path, message: "not UTF-8 text")
        }
        return try MatrixFile(yaml: text, source: path)
    }

    public init(yaml text: String, source: String) throws(MatrixError) {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw MatrixError(file: source, message: "not valid YAML: \(error)")
        }
        guard let mapping = node?.mapping else { throw MatrixError(file: source, message: "expected a mapping of keys such as servers:, versions:") }
        self.source = source
        for (key, _) in mapping {
            guard let k = key.string, MatrixFile.keys.contains(k) else {
                throw MatrixError(file: source, line: key.mark?.line, message: "unknown key '\(key.string ?? "?")' (known: \(MatrixFile.keys.sorted().joined(separator: ", ")))")
            }
        }
        func list(_ key: String) throws(MatrixError) -> [String]? {
            guard let value = mapping[key] else { return nil }
            if let scalar = value.string { return [scalar] }
            guard let sequence = value.sequence else {
                throw MatrixError(file: source, line: value.mark?.line, message: "'\(key)' must be a list")
            }
            var items: [String] = []
            for item in sequence {
                guard let s = item.string, item.scalar != nil else {
                    throw MatrixError(file: source, line: item.mark?.line, message: "'\(key)' items must be plain values")
                }
                items.append(s)
            }
            return items
        }
        func parsed<T>(_ key: String, _ make: (String) -> T?, choices: [String]) throws(MatrixError) -> [T]? {
            guard let items = try list(key) else { return nil }
            var values: [T] = []
            for item in items {
                guard let value = make(item) else {
                    throw MatrixError(file: source, line: mapping[key]?.mark?.line, message: "'\(key)': unknown value '\(item)' (one of: \(choices.joined(separator: ", ")))")
                }
                values.append(value)
            }
            return values
        }
        name = mapping["name"]?.string ?? "unnamed"
        let libraries = try list("libraries")
        servers = try list("servers") ?? libraries ?? []
        clients = try list("clients") ?? libraries ?? []
        scenarios = try list("scenarios") ?? ["basic"]
        for scenario in scenarios where Scenarios.named(scenario) == nil {
            throw MatrixError(file: source, line: mapping["scenarios"]?.mark?.line, message: "'scenarios': unknown scenario '\(scenario)' (one of: \(Scenarios.all.map(\.name).joined(separator: ", ")))")
        }
        versions = try parsed("versions", TLSVersion.init(rawValue:), choices: TLSVersion.allCases.map(\.rawValue)) ?? [.tls12, .tls13]
        certs = try parsed("certs", CertificateKeyType.init(rawValue:), choices: CertificateKeyType.allCases.map(\.rawValue)) ?? [.ecdsaP256]
        clientAuth = try parsed("client_auth", ClientAuth.init(rawValue:), choices: ClientAuth.allCases.map(\.rawValue)) ?? [.none]
        suites = try list("suites") ?? []
        groups = try parsed("groups", { NamedGroup.code(of: $0) == nil ? nil : $0 }, choices: NamedGroup.allNames) ?? []
        if servers.isEmpty || clients.isEmpty {
            throw MatrixError(file: source, message: "name at least one library under servers:/clients: (or libraries:)")
        }
    }
}

/// A matrix file that cannot be used, with where and why.
public struct MatrixError: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based, as Yams counts.
    public var line: Int?
    public var message: String

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(message)"
    }
}
