import Crypto
import _CryptoExtras
import Foundation
import PeerKit
import SwiftASN1
import X509

/// The PEM files one key type's peers load: a root CA, a server certificate for `localhost` and
/// 127.0.0.1, and a client certificate, each leaf signed by the root.
/// The flawed or unusual certificates a set also holds, for the scenarios that need them. The server
/// variants use the server key, the client variant the client key.
public enum CertificateVariant: String, Sendable, CaseIterable {
    case expiredServer = "server-expired"
    case notYetValidServer = "server-not-yet-valid"
    case wrongHostServer = "server-wrong-host"
    case badKeyUsageServer = "server-bad-key-usage"
    case selfSignedServer = "server-self-signed"
    case untrustedServer = "server-untrusted"
    case untrustedClient = "client-untrusted"
    /// The leaf under an intermediate CA, followed by the intermediate.
    case chainServer = "server-chain"
    /// The same leaf, without the intermediate its verification needs.
    case leafWithoutIntermediateServer = "server-leaf-only"
    /// A good certificate for another host name (`CertificateAuthority.alternateHost`), for SNI.
    case alternateServer = "server-alt"
    /// The server certificate whose key usage also allows keyAgreement, for static ECDH suites
    /// (RFC 8422 §5.3: the ECDH_ECDSA server's certificate key is its ECDH key).
    case keyAgreementServer = "server-key-agreement"
}

public struct CertificateSet: Sendable {
    public var keyType: CertificateKeyType
    public var caCertificate: String
    public var serverCertificate: String
    public var serverKey: String
    public var clientCertificate: String
    public var clientKey: String

    /// The files of a set in `directory`, by the names `issue` writes and `load` reads.
    static func files(in directory: URL, keyType: CertificateKeyType) -> CertificateSet {
        CertificateSet(
            keyType: keyType,
            caCertificate: directory.appendingPathComponent("ca.pem").path,
            serverCertificate: directory.appendingPathComponent("server.pem").path,
            serverKey: directory.appendingPathComponent("server.key").path,
            clientCertificate: directory.appendingPathComponent("client.pem").path,
            clientKey: directory.appendingPathComponent("client.key").path)
    }

    /// The PEM file of a variant, beside the others.
    public func path(_ variant: CertificateVariant) -> String {
        ((caCertificate as NSString).deletingLastPathComponent as NSString).appendingPathComponent("\(variant.rawValue).pem")
    }

    /// The `--psk` file a side is given, beside the certificates: the server always knows the
    /// run's identity with the run's key; the client offers that, or (`use`) another identity or
    /// another key.
    public func preSharedKeyFile(_ use: PreSharedKeyUse, role: Role) -> String {
        let name = role == .server || use == .matching ? "psk" : "psk-\(use.rawValue)"
        return ((caCertificate as NSString).deletingLastPathComponent as NSString).appendingPathComponent("\(name).txt")
    }
}

/// A certificate authority while certificates are being issued: its name, key and certificate.
struct Issuer {
    var name: DistinguishedName
    var key: Certificate.PrivateKey
    var keyType: CertificateKeyType
    /// nil for a self-signing leaf key.
    var certificate: Certificate?

    var keyIdentifier: SubjectKeyIdentifier { SubjectKeyIdentifier(hash: key.publicKey) }

    static func root(_ keyType: CertificateKeyType, name text: String, notBefore: Date, notAfter: Date) throws -> Issuer {
        let key = try CertificateAuthority.makeKey(keyType)
        let name = try DistinguishedName { OrganizationName("interop-matrix"); CommonName(text) }
        var issuer = Issuer(name: name, key: key, keyType: keyType, certificate: nil)
        issuer.certificate = try issuer.signCA(name, key: key.publicKey, from: notBefore, to: notAfter)
        return issuer
    }

    func intermediate(_ keyType: CertificateKeyType, name text: String, notBefore: Date, notAfter: Date) throws -> Issuer {
        let key = try CertificateAuthority.makeKey(keyType)
        let name = try DistinguishedName { OrganizationName("interop-matrix"); CommonName(text) }
        return Issuer(name: name, key: key, keyType: keyType, certificate: try signCA(name, key: key.publicKey, from: notBefore, to: notAfter))
    }

    func signCA(_ subject: DistinguishedName, key publicKey: Certificate.PublicKey, from: Date, to: Date) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey, notValidBefore: from, notValidAfter: to,
            issuer: name, subject: subject, signatureAlgorithm: CertificateAuthority.signatureAlgorithm(keyType),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
                if certificate != nil || subject != name { AuthorityKeyIdentifier(keyIdentifier: keyIdentifier.keyIdentifier) }
            },
            issuerPrivateKey: key)
    }

    /// An end-entity certificate with the extensions TLS libraries check.
    func sign(_ subject: DistinguishedName, key publicKey: Certificate.PublicKey, usage: ExtendedKeyUsage.Usage, names: [GeneralName],
              from: Date, to: Date, keyAgreement: Bool = false) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey, notValidBefore: from, notValidAfter: to,
            issuer: name, subject: subject, signatureAlgorithm: CertificateAuthority.signatureAlgorithm(keyType),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                // RSA key transport suites encrypt to the server key, hence keyEncipherment for RSA.
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: keyType.isRSA, keyAgreement: keyAgreement))
                try ExtendedKeyUsage([usage])
                if !names.isEmpty { SubjectAlternativeNames(names) }
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: keyIdentifier.keyIdentifier)
            },
            issuerPrivateKey: key)
    }
}

/// Generates the certificates of a run with swift-certificates and swift-crypto, with the extensions
/// a real PKI puts in (RFC 5280 §4.2): basicConstraints, keyUsage, extendedKeyUsage, SAN and key
/// identifiers. Nothing is reused across runs.
public enum CertificateAuthority {
    /// The subject the server certificate carries, as peers report it (RFC 4514 order).
    public static let serverSubject = "CN=localhost,O=interop-matrix"
    public static let clientSubject = "CN=interop-matrix client,O=interop-matrix"
    /// The second host name a server answers for, with its own certificate (the sni scenario).
    public static let alternateHost = "alt.interop-matrix.test"
    public static let alternateSubject = "CN=\(alternateHost),O=interop-matrix"
    /// The PSK identity the server knows (RFC 4279 §5.1: UTF-8, as a device's name would be), and
    /// one it does not.
    public static let pskIdentity = "interop-matrix device"
    public static let unknownPSKIdentity = "interop-matrix stranger"

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
            let set = CertificateSet.files(in: directory.appendingPathComponent(keyType.rawValue), keyType: keyType)
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

        let root = try Issuer.root(keyType, name: "interop-matrix root CA \(keyType.rawValue)", notBefore: notBefore, notAfter: notAfter)
        let serverName = try DistinguishedName { OrganizationName("interop-matrix"); CommonName("localhost") }
        let clientName = try DistinguishedName { OrganizationName("interop-matrix"); CommonName("interop-matrix client") }
        let localhost: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        let serverKey = try makeKey(keyType)
        let clientKey = try makeKey(keyType)
        let server = try root.sign(serverName, key: serverKey.publicKey, usage: .serverAuth, names: localhost, from: notBefore, to: notAfter)
        let client = try root.sign(clientName, key: clientKey.publicKey, usage: .clientAuth, names: [], from: notBefore, to: notAfter)

        let set = CertificateSet.files(in: directory, keyType: keyType)
        try write(try root.certificate!.serializeAsPEM().pemString, to: set.caCertificate, mode: 0o644)
        try write(try server.serializeAsPEM().pemString, to: set.serverCertificate, mode: 0o644)
        try write(try client.serializeAsPEM().pemString, to: set.clientCertificate, mode: 0o644)
        try write(try pkcs8PEM(serverKey), to: set.serverKey, mode: 0o600)
        try write(try pkcs8PEM(clientKey), to: set.clientKey, mode: 0o600)

        // The flawed certificates the refusal scenarios present, all for the same keys: validity in
        // the past or the future (no faking the clock), another host name, no serverAuth usage,
        // self-signed, signed by a CA nobody trusts, and a leaf under an intermediate CA, sent with
        // and without that intermediate.
        func pem(_ certificates: [Certificate], _ variant: CertificateVariant) throws {
            try write(try certificates.map { try $0.serializeAsPEM().pemString }.joined(separator: "\n"), to: set.path(variant), mode: 0o644)
        }
        let day: TimeInterval = 86_400
        try pem([root.sign(serverName, key: serverKey.publicKey, usage: .serverAuth, names: localhost, from: Date().addingTimeInterval(-30 * day), to: Date().addingTimeInterval(-day))], .expiredServer)
        try pem([root.sign(serverName, key: serverKey.publicKey, usage: .serverAuth, names: localhost, from: Date().addingTimeInterval(day), to: Date().addingTimeInterval(30 * day))], .notYetValidServer)
        let elsewhere = try DistinguishedName { OrganizationName("interop-matrix"); CommonName("elsewhere.example") }
        try pem([root.sign(elsewhere, key: serverKey.publicKey, usage: .serverAuth, names: [.dnsName("elsewhere.example")], from: notBefore, to: notAfter)], .wrongHostServer)
        try pem([root.sign(serverName, key: serverKey.publicKey, usage: .clientAuth, names: localhost, from: notBefore, to: notAfter)], .badKeyUsageServer)
        let selfSigned = Issuer(name: serverName, key: serverKey, keyType: keyType, certificate: nil)
        try pem([selfSigned.sign(serverName, key: serverKey.publicKey, usage: .serverAuth, names: localhost, from: notBefore, to: notAfter)], .selfSignedServer)
        let stranger = try Issuer.root(keyType, name: "interop-matrix untrusted CA \(keyType.rawValue)", notBefore: notBefore, notAfter: notAfter)
        try pem([stranger.sign(serverName, key: serverKey.publicKey, usage: .serverAuth, names: localhost, from: notBefore, to: notAfter)], .untrustedServer)
        try pem([stranger.sign(clientName, key: clientKey.publicKey, usage: .clientAuth, names: [], from: notBefore, to: notAfter)], .untrustedClient)
        let intermediate = try root.intermediate(keyType, name: "interop-matrix intermediate CA \(keyType.rawValue)", notBefore: notBefore, notAfter: notAfter)
        let chained = try intermediate.sign(serverName, key: serverKey.publicKey, usage: .serverAuth, names: localhost, from: notBefore, to: notAfter)
        try pem([chained, intermediate.certificate!], .chainServer)
        try pem([chained], .leafWithoutIntermediateServer)
        let alternate = try DistinguishedName { OrganizationName("interop-matrix"); CommonName(alternateHost) }
        try pem([root.sign(alternate, key: serverKey.publicKey, usage: .serverAuth, names: [.dnsName(alternateHost)], from: notBefore, to: notAfter)], .alternateServer)
        try pem([root.sign(serverName, key: serverKey.publicKey, usage: .serverAuth, names: localhost, from: notBefore, to: notAfter, keyAgreement: true)], .keyAgreementServer)

        // The run's pre-shared key (32 random bytes, like the keys above made anew each run), and
        // the two a client presents to be refused: an identity the server does not know, and the
        // server's identity with another key.
        let key = PreSharedKey(identity: pskIdentity, key: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        let otherKey = PreSharedKey(identity: pskIdentity, key: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        try write(key.fileText, to: set.preSharedKeyFile(.matching, role: .server), mode: 0o600)
        try write(PreSharedKey(identity: unknownPSKIdentity, key: key.key).fileText, to: set.preSharedKeyFile(.unknownIdentity, role: .client), mode: 0o600)
        try write(otherKey.fileText, to: set.preSharedKeyFile(.wrongKey, role: .client), mode: 0o600)
        return set
    }

    /// A private key as PKCS#8 PEM (`PRIVATE KEY`), what PEER-PROTOCOL.md promises `--key` is:
    /// swift-certificates writes RSA keys as PKCS#1 (`RSA PRIVATE KEY`), which NSS cannot import.
    static func pkcs8PEM(_ key: Certificate.PrivateKey) throws -> String {
        let pem = try key.serializeAsPEM()
        guard pem.discriminator == "RSA PRIVATE KEY" else { return pem.pemString }
        return try _RSA.Signing.PrivateKey(pemRepresentation: pem.pemString).pkcs8PEMRepresentation
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
