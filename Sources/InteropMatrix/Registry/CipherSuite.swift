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
        let cipherAndMAC: [Substring]
        if parts.count == 2 {
            let exchange = parts[0]
            (keyExchange, authentication) = CipherSuite.split(exchange: exchange)
            cipherAndMAC = parts[1].split(separator: "_")
        } else {
            keyExchange = "any"
            authentication = "any"
            cipherAndMAC = body.split(separator: "_")
        }
        let hashes: Set<Substring> = ["SHA", "SHA256", "SHA384", "MD5", "IMIT"]
        if let last = cipherAndMAC.last, hashes.contains(last) {
            mac = String(last)
            cipher = cipherAndMAC.dropLast().joined(separator: "_")
        } else {
            mac = "AEAD"
            cipher = cipherAndMAC.joined(separator: "_")
        }
        if parts.count != 2 && !name.contains("GOST") {
            versions = .tls13 ... .tls13
        } else if ["SHA256", "SHA384"].contains(mac) || mac == "AEAD" || cipher.contains("GCM") || name.contains("GOST") {
            versions = .tls12 ... .tls12
        } else {
            versions = .tls10 ... .tls12
        }
    }

    /// `ECDHE_ECDSA` → (ECDHE, ECDSA); `RSA` → (RSA, RSA); `DHE_PSK` → (DHE, PSK); `PSK_DHE` → (DHE, PSK).
    private static func split(exchange: String) -> (String, String) {
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
