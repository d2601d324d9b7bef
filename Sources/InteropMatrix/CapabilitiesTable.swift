import PeerKit

/// Libraries' capabilities side by side, for `interop-matrix capabilities`.
public enum CapabilitiesTable {
    public static func render(_ libraries: [PeerLibrary]) -> String {
        var out: [String] = []
        out.append("library".padding(14) + libraries.map { "\($0.id) \($0.version)".padding(22) }.joined())
        func row(_ title: String, _ has: (PeerCapabilities, String) -> String, values: [String]) {
            for value in values {
                out.append("\(title) \(value)".padding(40) + libraries.map { has($0.capabilities, value).padding(22) }.joined())
            }
        }
        let versions = TLSVersion.allCases.map(\.rawValue)
        row("version", { caps, v in caps.versions.contains(v) ? (caps.defaultVersions.contains(v) ? "yes" : "yes (off by default)") : "-" }, values: versions)
        // Every group a library reports, in code order; any the registry lacks (`0x…`) last.
        let groups = NamedGroup.ordered(libraries.flatMap(\.capabilities.groups))
        row("group", { caps, g in caps.groups.contains(g) ? "yes" : "-" }, values: groups)
        let reported = Set(libraries.flatMap { $0.capabilities.signatureSchemes ?? [] })
        let schemes = SignatureScheme.allNames.filter(reported.contains) + reported.subtracting(SignatureScheme.allNames).sorted()
        row("signature", { caps, name in caps.signatureSchemes?.contains(name) == true ? "yes" : "-" }, values: schemes)
        row("cert", { caps, c in caps.certificateTypes.contains(c) ? "yes" : "-" }, values: CertificateKeyType.allCases.map(\.rawValue))
        let codes = Set(libraries.flatMap { $0.capabilities.suites.map(\.code) }).sorted()
        out.append("suites by IANA code point (default: on out of the box; yes: on when asked for; off by policy: refused unless the policy is lifted; unforceable: negotiated, but the library cannot be held to it alone):")
        for code in codes {
            let name = CipherSuiteRegistry.suite(codeText: code)?.name
                ?? libraries.lazy.compactMap { $0.capabilities.suites.first { $0.code == code } }.first.map { "(not in the IANA registry: \($0.libraryName))" } ?? ""
            out.append("  \(code) \(name)".padding(60) + libraries.map { lib in
                guard let suite = lib.capabilities.suites.first(where: { $0.code == code }) else { return "-".padding(22) }
                if suite.disabledByPolicy == true { return "off by policy".padding(22) }
                if suite.forceable == false { return (suite.isDefault == true ? "default, unforceable" : "unforceable").padding(22) }
                return (suite.isDefault == true ? "default" : "yes").padding(22)
            }.joined())
        }
        for library in libraries where !library.capabilities.notes.isEmpty {
            out.append("\(library.id): " + library.capabilities.notes.joined(separator: "; "))
        }
        return out.joined(separator: "\n")
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
