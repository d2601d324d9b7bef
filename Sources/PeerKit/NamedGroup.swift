/// TLS key exchange groups by IANA code point: the whole "TLS Supported Groups" registry (RFC 8422
/// §5.1.1, RFC 7919 §2, RFC 8446 §4.2.7, RFC 8734, RFC 9189, RFC 9367, RFC 8998, the ML-KEM and hybrid
/// ECDHE-MLKEM drafts, and the X25519Kyber768Draft00 code point that shipped before them), spelled as
/// the registry spells them. Peers translate whatever their library reports (an OpenSSL NID, a GnuTLS
/// enum, an Mbed TLS curve id, a code point) into these names with `name(code:)`, which gives a code
/// point the registry lacks as `0x11EC`, so nothing a library reports is ever dropped.
public enum NamedGroup {
    /// What kind of key exchange a group is; it decides where `groups: all` and a version can use it.
    public enum Kind: Sendable {
        /// Elliptic-curve Diffie-Hellman (RFC 8422, RFC 7748, RFC 8734).
        case ecdhe
        /// Finite-field Diffie-Hellman (RFC 7919).
        case ffdhe
        /// A post-quantum KEM alone (ML-KEM, FIPS 203).
        case kem
        /// A classical ECDHE share and a post-quantum KEM share in one (draft-ietf-tls-ecdhe-mlkem).
        case hybrid
        /// A national group that only its own suites use: GOST (RFC 9189, RFC 9367), SM2 (RFC 8998).
        case national
        /// The explicit-curve placeholders RFC 8422 §5.1.1 deprecates: not a group one can force.
        case explicitCurves
    }

    public struct Entry: Sendable {
        public let code: UInt16
        public let name: String
        public let kind: Kind
        /// Defined for TLS 1.3 (RFC 8446 §4.2.7 and the RFCs that add TLS 1.3 groups).
        public let tls13: Bool
        /// Defined for TLS 1.2 and earlier (RFC 8422, RFC 7919, RFC 9189).
        public let beforeTLS13: Bool
    }

    public static let registry: [Entry] = {
        var entries: [Entry] = []
        func add(_ code: UInt16, _ name: String, _ kind: Kind, tls13: Bool, beforeTLS13: Bool) {
            entries.append(Entry(code: code, name: name, kind: kind, tls13: tls13, beforeTLS13: beforeTLS13))
        }
        // RFC 4492's curves, kept by RFC 8422 for TLS 1.2 and earlier only, most of them deprecated.
        let legacyCurves = ["sect163k1", "sect163r1", "sect163r2", "sect193r1", "sect193r2", "sect233k1", "sect233r1",
                            "sect239k1", "sect283k1", "sect283r1", "sect409k1", "sect409r1", "sect571k1", "sect571r1",
                            "secp160k1", "secp160r1", "secp160r2", "secp192k1", "secp192r1", "secp224k1", "secp224r1", "secp256k1"]
        for (offset, name) in legacyCurves.enumerated() { add(UInt16(1 + offset), name, .ecdhe, tls13: false, beforeTLS13: true) }
        add(23, "secp256r1", .ecdhe, tls13: true, beforeTLS13: true)
        add(24, "secp384r1", .ecdhe, tls13: true, beforeTLS13: true)
        add(25, "secp521r1", .ecdhe, tls13: true, beforeTLS13: true)
        // RFC 7027's brainpool curves are TLS 1.2 only; RFC 8734 gives TLS 1.3 its own code points.
        add(26, "brainpoolP256r1", .ecdhe, tls13: false, beforeTLS13: true)
        add(27, "brainpoolP384r1", .ecdhe, tls13: false, beforeTLS13: true)
        add(28, "brainpoolP512r1", .ecdhe, tls13: false, beforeTLS13: true)
        add(29, "x25519", .ecdhe, tls13: true, beforeTLS13: true)
        add(30, "x448", .ecdhe, tls13: true, beforeTLS13: true)
        add(31, "brainpoolP256r1tls13", .ecdhe, tls13: true, beforeTLS13: false)
        add(32, "brainpoolP384r1tls13", .ecdhe, tls13: true, beforeTLS13: false)
        add(33, "brainpoolP512r1tls13", .ecdhe, tls13: true, beforeTLS13: false)
        for (offset, name) in ["GC256A", "GC256B", "GC256C", "GC256D", "GC512A", "GC512B", "GC512C"].enumerated() {
            add(UInt16(34 + offset), name, .national, tls13: true, beforeTLS13: true)
        }
        add(41, "curveSM2", .national, tls13: true, beforeTLS13: false)
        for (offset, bits) in [2048, 3072, 4096, 6144, 8192].enumerated() {
            add(UInt16(256 + offset), "ffdhe\(bits)", .ffdhe, tls13: true, beforeTLS13: true)
        }
        add(512, "MLKEM512", .kem, tls13: true, beforeTLS13: false)
        add(513, "MLKEM768", .kem, tls13: true, beforeTLS13: false)
        add(514, "MLKEM1024", .kem, tls13: true, beforeTLS13: false)
        add(0x11EB, "SecP256r1MLKEM768", .hybrid, tls13: true, beforeTLS13: false)
        add(0x11EC, "X25519MLKEM768", .hybrid, tls13: true, beforeTLS13: false)
        add(0x11ED, "SecP384r1MLKEM1024", .hybrid, tls13: true, beforeTLS13: false)
        add(0x6399, "X25519Kyber768Draft00", .hybrid, tls13: true, beforeTLS13: false)
        add(0x639A, "SecP256r1Kyber768Draft00", .hybrid, tls13: true, beforeTLS13: false)
        add(0xFF01, "arbitrary_explicit_prime_curves", .explicitCurves, tls13: false, beforeTLS13: true)
        add(0xFF02, "arbitrary_explicit_char2_curves", .explicitCurves, tls13: false, beforeTLS13: true)
        return entries
    }()

    public static let byCode: [UInt16: String] = Dictionary(uniqueKeysWithValues: registry.map { ($0.code, $0.name) })
    private static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: registry.map { ($0.name, $0) })

    /// The registry's name for a code point, or the code point itself (`0x11EC`) when the registry
    /// lacks it: what a peer reports, so an unknown group is shown rather than dropped.
    public static func name(code: UInt16) -> String { byCode[code] ?? NegotiatedView.hexCode(code) }

    /// The code point of a registry name, or of a name written as a code point (`0x11EC`).
    public static func code(of name: String) -> UInt16? {
        if let entry = byName[name] { return entry.code }
        return codePoint(name)
    }

    public static func entry(_ name: String) -> Entry? { byName[name] }

    /// `0x11EC` (four hex digits) as a number.
    static func codePoint(_ text: String) -> UInt16? {
        guard text.hasPrefix("0x"), text.count == 6 else { return nil }
        return UInt16(text.dropFirst(2), radix: 16)
    }

    /// Whether a group can be negotiated as a group at `version`. TLS 1.3 takes the groups defined for
    /// it; before it only elliptic curves are (RFC 8422), finite-field groups being the server's choice
    /// (RFC 7919 §4 lets a client offer them, but the server picks the DHE parameters). A code point
    /// outside the registry is left to the libraries.
    public static func applies(_ name: String, to version: TLSVersion) -> Bool {
        guard let entry = byName[name] else { return code(of: name) != nil }
        if version == .tls13 { return entry.tls13 }
        return entry.beforeTLS13 && entry.kind != .ffdhe
    }

    /// Whether `groups: all` crosses the group: not the national groups, which need their own suites,
    /// nor the explicit-curve placeholders. A matrix that names one still gets it.
    public static func crossedByAll(_ name: String) -> Bool {
        guard let entry = byName[name] else { return true }
        return entry.kind != .national && entry.kind != .explicitCurves
    }

    /// Every registry name in code order.
    public static var allNames: [String] { registry.sorted { $0.code < $1.code }.map(\.name) }

    /// Names in code order, those outside the registry (`0x…`) last.
    public static func ordered(_ names: some Sequence<String>) -> [String] {
        Set(names).sorted { (code(of: $0) ?? .max, $0) < (code(of: $1) ?? .max, $1) }
    }
}
