import Foundation
import PeerKit

/// A cipher suite from the IANA registry, with what its name says about it.
public struct CipherSuite: Sendable, Hashable {
    public let code: UInt16
    /// The IANA name (`TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`).
    public let name: String
    /// `ECDHE`, `DHE`, `RSA`, `PSK`, `DH_anon`, …; `any` for TLS 1.3 suites (RFC 8446 §B.4).
    public let keyExchange: String
    /// `ECDSA`, `RSA`, `DSS`, `PSK`, `anon`, …; `any` for TLS 1.3 suites (any certificate signs).
    public let authentication: String
    /// `AES_128_GCM`, `CHACHA20_POLY1305`, `3DES_EDE_CBC`, …
    public let cipher: String
    /// The record MAC (`SHA`, `SHA256`, `MD5`), or `AEAD` for AEAD ciphers without a named hash.
    public let mac: String
    /// The versions the suite is defined for: TLS 1.3 suites for 1.3 only; AEAD and SHA-256/384
    /// suites for TLS 1.2 (RFC 5246, 5288, 5289, 6655, 7905); the rest for TLS 1.0 to 1.2.
    public let versions: ClosedRange<TLSVersion>

    /// `0xC02B`, as reports write code points.
    public var codeText: String { NegotiatedView.hexCode(code) }

    init(code: UInt16, name: String) {
        self.code = code
        self.name = name
        let body = name.hasPrefix("TLS_") ? String(name.dropFirst(4)) : name
        let parts = body.components(separatedBy: "_WITH_")
        var exchange = ("any", "any")
        let cipherAndMAC: [Substring]
        if parts.count == 2 {
            exchange = CipherSuite.split(exchange: parts[0])
            cipherAndMAC = parts[1].split(separator: "_")
        } else if body.hasPrefix("ECCPWD_") {
            exchange = ("ECCPWD", "ECCPWD")
            cipherAndMAC = body.dropFirst("ECCPWD_".count).split(separator: "_")
        } else {
            cipherAndMAC = body.split(separator: "_")
        }
        let hashes: Set<Substring> = ["SHA", "SHA256", "SHA384", "SHA512", "MD5", "IMIT", "SM3"]
        if let last = cipherAndMAC.last, hashes.contains(last), cipherAndMAC.count > 1 {
            mac = String(last)
            cipher = cipherAndMAC.dropLast().joined(separator: "_")
        } else {
            mac = "AEAD"
            cipher = cipherAndMAC.joined(separator: "_")
        }
        let tls13: ClosedRange<TLSVersion> = .tls13 ... .tls13
        if CipherSuite.signalingValues.contains(name) {
            // Not suites: values a ClientHello carries to signal something (RFC 5746 §3.3,
            // RFC 7507 §2), and TLS_NULL_WITH_NULL_NULL, the state before any suite is chosen.
            exchange = ("none", "none")
            versions = .tls10 ... .tls12
        } else if body.hasPrefix("GOSTR341112_256_WITH_") {
            // RFC 9189 defines the CTR_OMAC and CNT_IMIT suites for TLS 1.2, RFC 9367 the MGM ones for TLS 1.3.
            let mgm = name.contains("_MGM_")
            exchange = mgm ? ("any", "any") : ("GOSTR341112_256", "GOSTR341112_256")
            versions = mgm ? tls13 : .tls12 ... .tls12
        } else if body.hasPrefix("ECCPWD_") {
            // RFC 8492: password-authenticated, defined for TLS 1.2 and 1.3.
            versions = .tls12 ... .tls13
        } else if parts.count != 2 {
            // TLS 1.3 names the AEAD and hash only (RFC 8446 §B.4; RFC 8998 SM4, RFC 9150
            // integrity-only, the AEGIS drafts).
            versions = tls13
        } else if name.contains("_EXPORT_") {
            // RFC 4346 §A.5: TLS 1.1 implementations MUST NOT negotiate export suites.
            versions = .tls10 ... .tls10
        } else if ["SHA256", "SHA384"].contains(mac) || mac == "AEAD" || cipher.contains("GCM") {
            versions = .tls12 ... .tls12
        } else {
            versions = .tls10 ... .tls12
        }
        (keyExchange, authentication) = exchange
    }

    /// Registry entries that are not suites a handshake can settle on.
    static let signalingValues: Set<String> = ["TLS_NULL_WITH_NULL_NULL", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", "TLS_FALLBACK_SCSV"]


    /// `ECDHE_ECDSA` → (ECDHE, ECDSA); `RSA` → (RSA, RSA); `DHE_PSK` → (DHE, PSK); `PSK_DHE` → (DHE, PSK).
    private static func split(exchange full: String) -> (String, String) {
        // RSA_EXPORT, DH_anon_EXPORT, KRB5_EXPORT: the export restriction is not a part of the exchange.
        let exchange = full.hasSuffix("_EXPORT") ? String(full.dropLast("_EXPORT".count)) : full
        switch exchange {
        case "RSA": return ("RSA", "RSA")
        case "PSK": return ("PSK", "PSK")
        case "PSK_DHE": return ("DHE", "PSK")
        case "SRP_SHA": return ("SRP", "SRP")
        default: break
        }
        if exchange.hasPrefix("SRP_SHA_") { return ("SRP", String(exchange.dropFirst(8))) }
        guard let underscore = exchange.firstIndex(of: "_") else { return (exchange, exchange) }
        return (String(exchange[..<underscore]), String(exchange[exchange.index(after: underscore)...]))
    }

    /// A pre-shared key suite (RFC 4279, 5487, 5489): PSK, DHE_PSK, ECDHE_PSK and RSA_PSK.
    public var isPSK: Bool { authentication == "PSK" }

    /// Whether a cell with a certificate of `keyType` can use this suite with a pre-shared key at
    /// `version`: before TLS 1.3 a PSK suite, where the key authenticates both sides and RSA_PSK also
    /// the server by an RSA certificate (RFC 4279 §4), the others sending no certificate; in TLS 1.3
    /// a suite whose hash is SHA-256, the hash of an external PSK none was defined for (RFC 8446
    /// §4.2.11), with any certificate (the server falls back to it for an identity it does not know).
    public func isPSKAuthenticated(by keyType: CertificateKeyType, at version: TLSVersion) -> Bool {
        guard versions.contains(version) else { return false }
        if version == .tls13 { return name.hasSuffix("_SHA256") }
        return isPSK && (keyExchange != "RSA" || keyType.isRSA)
    }

    /// A static ECDH suite whose server certificate is an ECDSA one (RFC 8422 §2.1, ECDH_ECDSA): the
    /// certificate's key is the server's ECDH key, so its key usage must allow keyAgreement.
    public func isStaticECDHAuthenticated(by keyType: CertificateKeyType, at version: TLSVersion) -> Bool {
        keyExchange == "ECDH" && authentication == "ECDSA" && keyType.isECDSA && version < .tls13 && versions.contains(version)
    }

    /// Whether the server presents its certificate in this suite: every suite but PSK, DHE_PSK and
    /// ECDHE_PSK (and the anonymous ones).
    public var sendsServerCertificate: Bool { !(isPSK && keyExchange != "RSA") && authentication != "anon" }

    /// Whether a server with a certificate of `keyType` can use this suite, authenticating with it:
    /// TLS 1.3 suites with any certificate; ECDHE_ECDSA with ECDSA and (TLS 1.2, RFC 8422) Ed25519;
    /// ECDHE_RSA, DHE_RSA and RSA key transport with RSA. Static-DH, DSS, PSK, SRP and anonymous
    /// suites need other credentials and are not certificate-authenticated here.
    public func isAuthenticated(by keyType: CertificateKeyType, at version: TLSVersion) -> Bool {
        guard versions.contains(version) else { return false }
        if version == .tls13 { return true }
        switch (keyExchange, authentication) {
        case ("ECDHE", "ECDSA"):
            return keyType == .ed25519 ? version == .tls12 : keyType.isECDSA
        case ("ECDHE", "RSA"), ("DHE", "RSA"), ("RSA", "RSA"):
            return keyType.isRSA
        default:
            return false
        }
    }
}

/// The registry the runner names suites from: one entry per IANA code point.
public enum CipherSuiteRegistry {
    public static let all: [CipherSuite] = IANACipherSuites.table.map { CipherSuite(code: $0.0, name: $0.1) }
    private static let byCode: [UInt16: CipherSuite] = Dictionary(all.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
    private static let byName: [String: CipherSuite] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

    public static func suite(code: UInt16) -> CipherSuite? { byCode[code] }
    public static func suite(codeText: String) -> CipherSuite? {
        guard codeText.hasPrefix("0x"), let code = UInt16(codeText.dropFirst(2), radix: 16) else { return nil }
        return byCode[code]
    }
    public static func suite(named name: String) -> CipherSuite? { byName[name] }
}

extension CertificateKeyType {
    var isECDSA: Bool { self == .ecdsaP256 || self == .ecdsaP384 || self == .ecdsaP521 }

    /// The named curve of an ECDSA key (IANA group name); nil for other key types.
    var curveName: String? {
        switch self {
        case .ecdsaP256: "secp256r1"
        case .ecdsaP384: "secp384r1"
        case .ecdsaP521: "secp521r1"
        default: nil
        }
    }
}
