import PeerKit

/// Botan's names for what it negotiated, turned into the protocol's IANA names.
enum BotanNames {
    /// The TLS 1.2 SignatureScheme of a handshake signature, from the key algorithm and the EMSA
    /// string Botan signed or verified with (Handshake_State::choose_sig_format in 2.19:
    /// `EMSA3(SHA-256)` for RSA PKCS#1 v1.5, `PSSR(SHA-256,MGF1,32)` for RSA-PSS, `EMSA1(SHA-256)`
    /// for ECDSA, `Pure` for EdDSA). Nil for what has no code point (TLS 1.0/1.1's
    /// `EMSA3(Parallel(MD5,SHA-160))`).
    static func signatureScheme(key: String, emsa: String) -> String? {
        let hashes: [(String, UInt16)] = [("SHA-1)", 0x02), ("SHA-160)", 0x02), ("SHA-256", 0x04), ("SHA-384", 0x05), ("SHA-512", 0x06)]
        func hashByte() -> UInt16? {
            if emsa.contains("Parallel(") { return nil }
            return hashes.first { emsa.contains($0.0) }?.1
        }
        switch key {
        case "RSA":
            if emsa.hasPrefix("PSSR(") || emsa.hasPrefix("PSS(") {
                guard let hash = hashByte(), hash >= 0x04 else { return nil }
                return SignatureScheme.name(code: 0x0804 + hash - 0x04)
            }
            guard emsa.hasPrefix("EMSA3("), let hash = hashByte() else { return nil }
            return SignatureScheme.name(code: hash << 8 | 0x01)
        case "ECDSA":
            guard emsa.hasPrefix("EMSA1("), let hash = hashByte() else { return nil }
            return SignatureScheme.name(code: hash << 8 | 0x03)
        case "Ed25519":
            return SignatureScheme.name(code: 0x0807)
        default:
            return nil
        }
    }
}
