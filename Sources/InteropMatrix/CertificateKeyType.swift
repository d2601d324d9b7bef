/// The key types certificates are generated with; the raw values are the report's `params.cert`.
public enum CertificateKeyType: String, CaseIterable, Sendable, Codable {
    case rsa2048
    case rsa3072
    case ecdsaP256 = "ecdsa-p256"
    case ecdsaP384 = "ecdsa-p384"
    case ecdsaP521 = "ecdsa-p521"
    case ed25519
}
