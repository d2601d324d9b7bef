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
        let groups = NamedGroup.allNames.filter { g in libraries.contains { $0.capabilities.groups.contains(g) } }
        row("group", { caps, g in caps.groups.contains(g) ? "yes" : "-" }, values: groups)
        row("cert", { caps, c in caps.certificateTypes.contains(c) ? "yes" : "-" }, values: CertificateKeyType.allCases.map(\.rawValue))
        var names: [String: String] = [:]
        for library in libraries { for suite in library.capabilities.suites { names[suite.code] = names[suite.code] ?? suite.name } }
        out.append("suites (by IANA code point):")
        for code in names.keys.sorted() {
            out.append("  \(code) \(names[code] ?? "")".padding(60) + libraries.map { lib in
                lib.capabilities.suites.contains { $0.code == code } ? "yes".padding(22) : "-".padding(22)
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
