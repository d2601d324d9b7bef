import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1
import X509

/// The PEM files one key type's peers load: a root CA, a server certificate for `localhost` and
/// 127.0.0.1, and a client certificate, each leaf signed by the root.
public struct CertificateSet: Sendable {
    public var keyType: CertificateKeyType
    public var caCertificate: String
    public var serverCertificate: String
    public var serverKey: String
    public var clientCertificate: String
    public var clientKey: String
}

/// Generates the certificates of a run with swift-certificates and swift-crypto, with the extensions
/// a real PKI puts in (RFC 5280 §4.2): basicConstraints, keyUsage, extendedKeyUsage, SAN and key
/// identifiers. Nothing is reused across runs.
public enum CertificateAuthority {
    /// The subject the server certificate carries, as peers report it (RFC 4514 order).
    public static let serverSubject = "CN=localhost,O=interop-matrix"
    public static let clientSubject = "CN=interop-matrix client,O=interop-matrix"

    /// Writes one `CertificateSet` per key type into `directory` (keys 0600).
    public static func issue(_ keyTypes: [CertificateKeyType], into directory: URL) async throws -> [CertificateKeyType: CertificateSet] {
        try await withThrowingTaskGroup(of: CertificateSet.self) { group in
            for keyType in Set(keyTypes) {
                group.addTask { try issue(keyType, into: directory.appendingPathComponent(keyType.rawValue)) }
            }
            var sets: [CertificateKeyType: CertificateSet] = [:]
            for try await set in group { sets[set.keyType] = set }
            return sets
        }
    }

    /// The certificate sets an earlier run left in `directory` (`--keep-certs`, artifacts), for a replay.
    public static func load(_ keyTypes: [CertificateKeyType], from directory: URL) throws -> [CertificateKeyType: CertificateSet] {
        var sets: [CertificateKeyType: CertificateSet] = [:]
        for keyType in keyTypes {
            let folder = directory.appendingPathComponent(keyType.rawValue)
            let set = CertificateSet(
                keyType: keyType,
                caCertificate: folder.appendingPathComponent("ca.pem").path,
                serverCertificate: folder.appendingPathComponent("server.pem").path,
                serverKey: folder.appendingPathComponent("server.key").path,
                clientCertificate: folder.appendingPathComponent("client.pem").path,
                clientKey: folder.appendingPathComponent("client.key").path)
            for path in [set.caCertificate, set.serverCertificate, set.serverKey, set.clientCertificate, set.clientKey]
            where !FileManager.default.isReadableFile(atPath: path) {
                throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "no \(path) to reuse"])
            }
            sets[keyType] = set
        }
        return sets
    }

    static func issue(_ keyType: CertificateKeyType, into directory: URL) throws -> CertificateSet {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Valid from an hour ago, so clock skew between "now" here and in a peer never matters.
        let notBefore = Date().addingTimeInterval(-3600)
        let notAfter = Date().addingTimeInterval(7 * 86400)

        let caKey = try makeKey(keyType)
        let caName = try DistinguishedName {
            OrganizationName("interop-matrix")
            CommonName("interop-matrix root CA \(keyType.rawValue)")
        }
        let caKeyID = SubjectKeyIdentifier(hash: caKey.publicKey)
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: caKey.publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: caName, subject: caName,
            signatureAlgorithm: signatureAlgorithm(keyType),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                caKeyID
            },
            issuerPrivateKey: caKey)

        func leaf(_ subject: DistinguishedName, usage: ExtendedKeyUsage.Usage, names: [GeneralName]) throws -> (Certificate, Certificate.PrivateKey) {
            let key = try makeKey(keyType)
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: key.publicKey,
                notValidBefore: notBefore, notValidAfter: notAfter,
                issuer: caName, subject: subject,
                signatureAlgorithm: signatureAlgorithm(keyType),
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    // RSA key transport suites encrypt to the server key, hence keyEncipherment for RSA.
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: keyType.isRSA))
                    try ExtendedKeyUsage([usage])
                    if !names.isEmpty { SubjectAlternativeNames(names) }
                    SubjectKeyIdentifier(hash: key.publicKey)
                    AuthorityKeyIdentifier(keyIdentifier: caKeyID.keyIdentifier)
                },
                issuerPrivateKey: caKey)
            return (certificate, key)
        }

        let (server, serverKey) = try leaf(
            try DistinguishedName { OrganizationName("interop-matrix"); CommonName("localhost") },
            usage: .serverAuth,
            names: [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
        let (client, clientKey) = try leaf(
            try DistinguishedName { OrganizationName("interop-matrix"); CommonName("interop-matrix client") },
            usage: .clientAuth, names: [])

        let set = CertificateSet(
            keyType: keyType,
            caCertificate: directory.appendingPathComponent("ca.pem").path,
            serverCertificate: directory.appendingPathComponent("server.pem").path,
            serverKey: directory.appendingPathComponent("server.key").path,
            clientCertificate: directory.appendingPathComponent("client.pem").path,
            clientKey: directory.appendingPathComponent("client.key").path)
        try write(try ca.serializeAsPEM().pemString, to: set.caCertificate, mode: 0o644)
        try write(try server.serializeAsPEM().pemString, to: set.serverCertificate, mode: 0o644)
        try write(try client.serializeAsPEM().pemString, to: set.clientCertificate, mode: 0o644)
        try write(try serverKey.serializeAsPEM().pemString, to: set.serverKey, mode: 0o600)
        try write(try clientKey.serializeAsPEM().pemString, to: set.clientKey, mode: 0o600)
        return set
    }

    static func makeKey(_ keyType: CertificateKeyType) throws -> Certificate.PrivateKey {
        switch keyType {
        case .rsa2048: Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .rsa3072: Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits3072))
        case .ecdsaP256: Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .ecdsaP384: Certificate.PrivateKey(P384.Signing.PrivateKey())
        case .ecdsaP521: Certificate.PrivateKey(P521.Signing.PrivateKey())
        case .ed25519: Certificate.PrivateKey(Curve25519.Signing.PrivateKey())
        }
    }

    static func signatureAlgorithm(_ keyType: CertificateKeyType) -> Certificate.SignatureAlgorithm {
        switch keyType {
        case .rsa2048, .rsa3072: .sha256WithRSAEncryption
        case .ecdsaP256: .ecdsaWithSHA256
        case .ecdsaP384: .ecdsaWithSHA384
        case .ecdsaP521: .ecdsaWithSHA512
        case .ed25519: .ed25519
        }
    }

    /// Creates the file with its final mode at once, so a private key is never readable by others.
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
            offset += n
        }
    }
}

extension CertificateKeyType {
    var isRSA: Bool { self == .rsa2048 || self == .rsa3072 }
}
