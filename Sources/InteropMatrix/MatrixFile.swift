import Foundation
import PeerKit
import Yams

/// Which suites (or groups) a block crosses: each library's defaults, every one that fits, or a list.
public enum Selection: Sendable, Equatable {
    /// Nothing forced: each library uses its default configuration.
    case defaults
    /// Every value the registry has that fits the cell (version, certificate) and that at least one
    /// library of the pair implements; the other side lacking it makes the cell unsupported.
    case all
    case named([String])
}

/// One full cross of dimensions. A matrix is one or more blocks, so a large matrix varies each
/// dimension around a base instead of multiplying them all.
public struct MatrixBlock: Sendable, Equatable {
    public var name: String
    public var scenarios: [String]
    public var versions: [TLSVersion]
    public var certs: [CertificateKeyType]
    public var clientAuth: [ClientAuth]
    public var suites: Selection
    public var groups: Selection
    /// Lift libraries' default policies (OpenSSL's security level) so TLS 1.0/1.1 can be tried.
    public var legacy: Bool
    /// What the network does to each cell's bytes (`none`: direct).
    public var network: [Impairment] = [.none]
    /// Limit the block to these `server>client` pairs (all pairs of the matrix when empty). `ring`
    /// stands for each library serving the next one in id order (the last serving the first): every
    /// library once as server and once as client, each with another library, whatever libraries
    /// the run has.
    public var pairs: [String] = []
    /// Every combination of the block's values (`full`), or a t-way covering array of those each
    /// pair can run (`pairwise`, `3-way`).
    public var coverage: Coverage = .full

    public static let ring = "ring"

    /// Whether the block crosses `server>client`, the matrix's libraries being `libraries` in order.
    func includes(server: String, client: String, libraries: [String]) -> Bool {
        if pairs.isEmpty || pairs.contains("\(server)>\(client)") { return true }
        guard pairs.contains(MatrixBlock.ring), let index = libraries.firstIndex(of: server) else { return false }
        return libraries[(index + 1) % libraries.count] == client
    }
}

/// A matrix as people write it in `matrix/*.yml` (see README.md, "Matrix files").
public struct MatrixFile: Sendable, Equatable {
    public var name: String
    public var servers: [String]
    public var clients: [String]
    /// The libraries `all` stood for, once resolved: those found whose capabilities fail are left
    /// out and reported, where a named library that fails stops the run.
    public var discoveredLibraries: Set<String> = []
    /// The libraries `pairs: ring` goes round: the file's own (with `all` resolved), whatever
    /// `--libs` narrows the run to, so a narrowed run's cells are a subset of the whole run's.
    public var ringLibraries: [String] = []

    /// Whether `servers`, `clients` or `libraries` say `all`.
    public var discoversLibraries: Bool { (servers + clients).contains(PeerCatalog.everyLibrary) }

    /// `all` replaced by every library found (`ids`), in id order, beside any named.
    public mutating func resolveEveryLibrary(_ ids: [String]) {
        func resolved(_ list: [String]) -> [String] {
            var out: [String] = []
            var seen = Set<String>()
            for id in list.flatMap({ $0 == PeerCatalog.everyLibrary ? ids : [$0] }) where seen.insert(id).inserted { out.append(id) }
            return out
        }
        if (servers + clients).contains(PeerCatalog.everyLibrary) { discoveredLibraries.formUnion(ids) }
        servers = resolved(servers)
        clients = resolved(clients)
        ringLibraries = resolved(ringLibraries)
    }

    /// The libraries taking part, servers first, each once.
    public var libraryIDs: [String] {
        var ids: [String] = []
        var seen = Set<String>()
        for id in servers + clients where seen.insert(id).inserted { ids.append(id) }
        return ids
    }
    public var blocks: [MatrixBlock]
    /// Where it came from, for reports: a path or `built-in default`.
    public var source: String

    /// The share of the values both sides of each pair support (`PairCoverage`) that a complete
    /// run must try, in percent (`min_coverage:`); a run below it fails (exit 1).
    public var minimumCoverage: Double?

    static let topKeys: Set<String> = ["name", "servers", "clients", "libraries", "cross", "min_coverage"]
    static let blockKeys: Set<String> = ["name", "scenarios", "versions", "certs", "client_auth", "suites", "groups", "legacy", "network", "pairs", "coverage"]

    /// The built-in default matrix's text: `DefaultMatrix/default.yml`, a resource the program
    /// carries beside its executable (`matrix/default.yml` links to the same file).
    public static func builtInDefaultText() throws(MatrixError) -> String {
        let bundle = "interop-matrix_InteropMatrix.resources"
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let folders = [(executable as NSString).deletingLastPathComponent, Bundle.main.bundlePath, (Bundle.main.bundlePath as NSString).deletingLastPathComponent]
        for folder in folders {
            let path = "\(folder)/\(bundle)/default.yml"
            if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) { return text }
        }
        throw MatrixError(file: "built-in default", message: "\(bundle)/default.yml is not beside the executable (looked in \(folders.joined(separator: ", "))); pass --matrix matrix/default.yml, or copy that folder with the program")
    }

    public static func builtInDefault() throws(MatrixError) -> MatrixFile {
        try MatrixFile(yaml: builtInDefaultText(), source: "built-in default (matrix/default.yml)")
    }

    /// Reads a matrix file; errors name the file, the line and the offending key.
    public static func load(path: String) throws(MatrixError) -> MatrixFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MatrixError(file: path, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MatrixError(file: path, message: "not UTF-8 text")
        }
        return try MatrixFile(yaml: text, source: path)
    }

    /// Matrix files are small; these bounds turn hostile input into an error instead of a crash.
    static let maximumSize = 1 << 20
    static let maximumNesting = 64

    public init(yaml text: String, source: String) throws(MatrixError) {
        guard text.utf8.count <= MatrixFile.maximumSize else {
            throw MatrixError(file: source, message: "the file is \(text.utf8.count) bytes; a matrix file may have at most \(MatrixFile.maximumSize)")
        }
        if let line = MatrixFile.tooDeep(text) {
            throw MatrixError(file: source, line: line, message: "nested more than \(MatrixFile.maximumNesting) levels deep")
        }
        if let line = MatrixFile.aliasLine(text) {
            // Anchors and aliases are what "billion laughs" files are made of; matrices need neither.
            throw MatrixError(file: source, line: line, message: "YAML anchors and aliases (& and *) are not allowed in matrix files")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            let (line, message) = MatrixFile.yamlProblem(error)
            throw MatrixError(file: source, line: line, message: "not valid YAML: \(message)")
        }
        guard let mapping = node?.mapping else {
            throw MatrixError(file: source, message: "expected a mapping of keys such as servers:, versions:")
        }
        let reader = MatrixReader(source: source)
        try reader.checkKeys(mapping, allowed: MatrixFile.topKeys.union(MatrixFile.blockKeys))
        self.source = source
        name = try reader.scalar(mapping, "name") ?? "unnamed"
        let libraries = try reader.list(mapping, "libraries")
        servers = try reader.list(mapping, "servers") ?? libraries ?? []
        clients = try reader.list(mapping, "clients") ?? libraries ?? []
        var ring: [String] = []
        var seen = Set<String>()
        for id in servers + clients where seen.insert(id).inserted { ring.append(id) }
        ringLibraries = ring
        for id in servers + clients where id.range(of: "^[a-z0-9][a-z0-9_.-]*$", options: .regularExpression) == nil {
            throw MatrixError(file: source, line: (mapping["servers"] ?? mapping["clients"] ?? mapping["libraries"])?.mark?.line,
                              message: "\(MatrixFile.shown(id)) is not a library id (lowercase letters, digits, . _ -)")
        }
        if servers.isEmpty || clients.isEmpty {
            throw MatrixError(file: source, message: "name at least one library under servers:/clients: (or libraries:)")
        }
        if let text = try reader.scalar(mapping, "min_coverage") {
            guard let percent = Double(text), percent >= 0, percent <= 100 else {
                throw MatrixError(file: source, line: mapping["min_coverage"]?.mark?.line, message: "'min_coverage' must be a percentage from 0 to 100, not \(MatrixFile.shown(text))")
            }
            minimumCoverage = percent
        }
        let base = try reader.block(mapping, name: "base", inheriting: nil)
        if let cross = mapping["cross"] {
            guard let items = cross.sequence, !items.isEmpty else {
                throw MatrixError(file: source, line: cross.mark?.line, message: "'cross' must be a list of blocks")
            }
            var blocks: [MatrixBlock] = []
            for (index, item) in items.enumerated() {
                guard let blockMapping = item.mapping else {
                    throw MatrixError(file: source, line: item.mark?.line, message: "each item of 'cross' must be a mapping")
                }
                try reader.checkKeys(blockMapping, allowed: MatrixFile.blockKeys)
                blocks.append(try reader.block(blockMapping, name: "block \(index + 1)", inheriting: base))
            }
            self.blocks = blocks
        } else {
            blocks = [base]
        }
    }
}

extension MatrixFile {
    /// A value from the file as an error message quotes it: in single quotes, control characters
    /// escaped, at most 60 characters (a hostile file can hold a value of megabytes).
    static func shown(_ value: String) -> String {
        let limit = 60
        var text = ""
        for scalar in value.unicodeScalars.prefix(limit) {
            text += scalar.value < 0x20 || scalar.value == 0x7F ? scalar.escaped(asASCII: true) : String(scalar)
        }
        let count = value.unicodeScalars.count
        return "'" + text + "'" + (count > limit ? "… (\(count) characters)" : "")
    }

    /// What libyaml (through Yams) found wrong, as one short line and the line it is on: its problem
    /// and context words, never the quoted file text Yams adds to its description.
    static func yamlProblem(_ error: any Error) -> (line: Int?, message: String) {
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return (mark.line, oneLine(problem + (context.map { " (\($0.text))" } ?? "")))
        case .reader(let problem, let offset, _, _):
            return (nil, oneLine(problem + (offset.map { " at byte \($0)" } ?? "")))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (context.mark.line, "duplicate key\(duplicates.count == 1 ? "" : "s") \(duplicates.prefix(5).map(shown).joined(separator: ", ")) in the mapping")
        default:
            return (nil, oneLine("\(error)"))
        }
    }

    /// A parser's message (which may span lines and quote a whole line of the file) as one line of
    /// at most 300 characters.
    public static func oneLine(_ message: String) -> String {
        let joined = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
        return joined.count > 300 ? String(joined.prefix(300)) + "…" : joined
    }

    /// The line of the first `&anchor` or `*alias` outside quotes and comments, or nil.
    static func aliasLine(_ text: String) -> Int? {
        var line = 1
        var found: Int?
        scanOutsideQuotes(text) { character, previous, _ in
            if character == "\n" { line += 1 }
            if found == nil, character == "&" || character == "*", " \n\t[{,:-".contains(previous) { found = line }
        }
        return found
    }

    /// Calls `visit` with each character outside quoted scalars and comments (and each newline),
    /// with the character before it and whether it is the first of its line. A quote only opens a
    /// scalar where one can start (after a space, an indicator or a line start), so the apostrophe
    /// in `name: Bob's matrix` is text, as YAML reads it; `''` inside single quotes and `\"` inside
    /// double quotes are escapes, not ends.
    static func scanOutsideQuotes(_ text: String, _ visit: (Character, Character, Bool) -> Void) {
        let characters = Array(text)
        var inQuote: Character?
        var inComment = false
        var previous: Character = "\n"
        var index = 0
        while index < characters.count {
            let character = characters[index]
            defer { previous = character; index += 1 }
            if character == "\n" {
                inComment = false
                // A quoted scalar may span lines; newlines are still counted.
                visit(character, previous, false)
                continue
            }
            if inComment { continue }
            if let quote = inQuote {
                if quote == "\"" && character == "\\" { index += 1; continue }
                if character == quote {
                    if quote == "'" && index + 1 < characters.count && characters[index + 1] == "'" { index += 1; continue }
                    inQuote = nil
                }
                continue
            }
            if (character == "\"" || character == "'") && " \t\n[{,:-?".contains(previous) {
                inQuote = character
                continue
            }
            if character == "#" && " \t\n".contains(previous) {
                inComment = true
                continue
            }
            visit(character, previous, previous == "\n")
        }
    }

    /// The line where flow brackets or indentation nest deeper than `maximumNesting` (libyaml
    /// recurses per level), or nil.
    static func tooDeep(_ text: String) -> Int? {
        var depth = 0
        var line = 1
        var indentation = 0
        var atLineStart = true
        var found: Int?
        scanOutsideQuotes(text) { character, _, _ in
            guard found == nil else { return }
            if character == "\n" { line += 1; indentation = 0; atLineStart = true; return }
            if atLineStart {
                if character == " " {
                    indentation += 1
                    // Block nesting: two spaces a level, so very deep indentation is very deep nesting.
                    if indentation > 2 * maximumNesting { found = line }
                    return
                }
                atLineStart = false
            }
            switch character {
            case "[", "{": depth += 1
            case "]", "}": depth = max(0, depth - 1)
            default: break
            }
            if depth > maximumNesting { found = line }
        }
        return found
    }
}

/// Reads the values of a matrix file's YAML nodes, turning every mistake into a `MatrixError`.
struct MatrixReader {
    let source: String

    func fail(_ node: Node?, _ message: String) -> MatrixError {
        MatrixError(file: source, line: node?.mark?.line, message: message)
    }

    func checkKeys(_ mapping: Node.Mapping, allowed: Set<String>) throws(MatrixError) {
        for (key, _) in mapping {
            guard let k = key.string, key.scalar != nil, allowed.contains(k) else {
                throw fail(key, "unknown key \(MatrixFile.shown(key.string ?? "?")) (known: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
    }

    func scalar(_ mapping: Node.Mapping, _ key: String) throws(MatrixError) -> String? {
        guard let value = mapping[key] else { return nil }
        guard value.scalar != nil, let text = value.string else { throw fail(value, "'\(key)' must be a single value") }
        return text
    }

    func bool(_ mapping: Node.Mapping, _ key: String) throws(MatrixError) -> Bool? {
        guard let text = try scalar(mapping, key) else { return nil }
        switch text {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw fail(mapping[key], "'\(key)' must be true or false")
        }
    }

    func list(_ mapping: Node.Mapping, _ key: String) throws(MatrixError) -> [String]? {
        guard let value = mapping[key] else { return nil }
        if value.scalar != nil, let single = value.string { return [single] }
        guard let sequence = value.sequence else { throw fail(value, "'\(key)' must be a list") }
        if sequence.count > 10_000 { throw fail(value, "'\(key)' has \(sequence.count) items; at most 10000") }
        var items: [String] = []
        for item in sequence {
            guard item.scalar != nil, let text = item.string else { throw fail(item, "'\(key)' items must be plain values") }
            items.append(text)
        }
        return items
    }

    func parsed<T>(_ mapping: Node.Mapping, _ key: String, choices: [String], _ make: (String) -> T?) throws(MatrixError) -> [T]? {
        guard let items = try list(mapping, key) else { return nil }
        if items == ["all"] { return choices.compactMap(make) }
        var values: [T] = []
        for item in items {
            guard let value = make(item) else {
                throw fail(mapping[key], "'\(key)': unknown value \(MatrixFile.shown(item)) (one of: \(choices.joined(separator: ", ")), or all)")
            }
            values.append(value)
        }
        return values
    }

    func selection(_ mapping: Node.Mapping, _ key: String, known: (String) -> Bool) throws(MatrixError) -> Selection? {
        guard let items = try list(mapping, key) else { return nil }
        if items == ["all"] { return .all }
        if items == ["default"] || items.isEmpty { return .defaults }
        for item in items where !known(item) {
            throw fail(mapping[key], "'\(key)': unknown \(key == "suites" ? "cipher suite" : "group") \(MatrixFile.shown(item)) (IANA names, e.g. \(key == "suites" ? "TLS_AES_128_GCM_SHA256" : "x25519"), or all)")
        }
        return .named(items)
    }

    func block(_ mapping: Node.Mapping, name: String, inheriting base: MatrixBlock?) throws(MatrixError) -> MatrixBlock {
        let scenarios = try list(mapping, "scenarios") ?? base?.scenarios ?? ["basic"]
        for scenario in scenarios where Scenarios.named(scenario) == nil {
            throw fail(mapping["scenarios"], "'scenarios': unknown scenario \(MatrixFile.shown(scenario)) (one of: \(Scenarios.all.map(\.name).joined(separator: ", ")))")
        }
        return MatrixBlock(
            name: try scalar(mapping, "name") ?? name,
            scenarios: scenarios,
            versions: try parsed(mapping, "versions", choices: TLSVersion.allCases.map(\.rawValue), TLSVersion.init(rawValue:)) ?? base?.versions ?? [.tls12, .tls13],
            certs: try parsed(mapping, "certs", choices: CertificateKeyType.allCases.map(\.rawValue), CertificateKeyType.init(rawValue:)) ?? base?.certs ?? [.ecdsaP256],
            clientAuth: try parsed(mapping, "client_auth", choices: ClientAuth.allCases.map(\.rawValue), ClientAuth.init(rawValue:)) ?? base?.clientAuth ?? [.none],
            suites: try selection(mapping, "suites") { CipherSuiteRegistry.suite(named: $0) != nil } ?? base?.suites ?? .defaults,
            groups: try selection(mapping, "groups") { NamedGroup.code(of: $0) != nil } ?? base?.groups ?? .defaults,
            legacy: try bool(mapping, "legacy") ?? base?.legacy ?? false,
            network: try parsed(mapping, "network", choices: Impairment.names, Impairment.init) ?? base?.network ?? [.none],
            pairs: try pairs(mapping) ?? base?.pairs ?? [],
            coverage: try coverage(mapping) ?? base?.coverage ?? .full)
    }

    func coverage(_ mapping: Node.Mapping) throws(MatrixError) -> Coverage? {
        guard let text = try scalar(mapping, "coverage") else { return nil }
        guard let coverage = Coverage(text) else {
            throw fail(mapping["coverage"], "'coverage': unknown value \(MatrixFile.shown(text)) (one of: \(Coverage.names.joined(separator: ", ")))")
        }
        return coverage
    }

    func pairs(_ mapping: Node.Mapping) throws(MatrixError) -> [String]? {
        guard let items = try list(mapping, "pairs") else { return nil }
        for item in items where item != MatrixBlock.ring && item.split(separator: ">").count != 2 {
            throw fail(mapping["pairs"], "'pairs': \(MatrixFile.shown(item)) is not server>client (e.g. openssl>gnutls) nor ring")
        }
        return items
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
