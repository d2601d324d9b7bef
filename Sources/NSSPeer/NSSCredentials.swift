internal import CShimNSS
#if canImport(Glibc)
import Glibc
#endif
import PeerKit

/// Owns a temporary `CERTCertificate` (in NSS's in-memory database, gone with its last reference).
final class NSSCertificate {
    let handle: UnsafeMutablePointer<CERTCertificate>

    init(der: [UInt8], path: String) throws(PeerFailure) {
        var bytes = der
        let imported = bytes.withUnsafeMutableBufferPointer { buffer -> UnsafeMutablePointer<CERTCertificate>? in
            var item = SECItem(type: siDERCertBuffer, data: buffer.baseAddress, len: UInt32(buffer.count))
            return CERT_NewTempCertificate(CERT_GetDefaultCertDB(), &item, nil, PR_FALSE, PR_TRUE)
        }
        guard let imported else { throw PeerFailure(stage: .setup, error: NSSError.last("CERT_NewTempCertificate \(path)")) }
        handle = imported
    }

    deinit { CERT_DestroyCertificate(handle) }
}

/// Owns a `SECKEYPrivateKey` imported from PKCS#8 into NSS's internal slot as a session object.
final class NSSPrivateKey {
    let handle: UnsafeMutablePointer<SECKEYPrivateKey>

    init(pkcs8: [UInt8], path: String) throws(PeerFailure) {
        guard let slot = PK11_GetInternalSlot() else { throw PeerFailure(stage: .setup, error: NSSError.last("PK11_GetInternalSlot")) }
        defer { PK11_FreeSlot(slot) }
        var bytes = pkcs8
        var key: UnsafeMutablePointer<SECKEYPrivateKey>?
        let rc = bytes.withUnsafeMutableBufferPointer { buffer -> SECStatus in
            var item = SECItem(type: siBuffer, data: buffer.baseAddress, len: UInt32(buffer.count))
            // Not permanent (no database), sensitive, usable for every operation.
            return PK11_ImportDERPrivateKeyInfoAndReturnKey(slot, &item, nil, nil, PR_FALSE, PR_TRUE, 0xFF /* KU_ALL, a cast macro */, &key, nil)
        }
        for index in bytes.indices { bytes[index] = 0 }
        guard rc == SECSuccess, let key else { throw PeerFailure(stage: .setup, error: NSSError.last("PK11_ImportDERPrivateKeyInfoAndReturnKey \(path)")) }
        handle = key
    }

    deinit { SECKEY_DestroyPrivateKey(handle) }
}

/// This side's certificate chain and key, the server's alternate (SNI) pair, the trusted CA, and
/// the TLS 1.3 external PSK.
final class NSSCredentials {
    /// Leaf first; the rest are in NSS's temporary database, where NSS finds them to send the chain.
    let chain: [NSSCertificate]
    let key: NSSPrivateKey?
    let alternateChain: [NSSCertificate]
    let alternateKey: NSSPrivateKey?
    let trustAnchors: [NSSCertificate]
    let preSharedKey: NSSPreSharedKey?

    init(request: PeerRequest) throws(PeerFailure) {
        preSharedKey = try request.preSharedKey().map(NSSPreSharedKey.init)
        if let certificate = request.certificatePath, let key = request.keyPath {
            chain = try NSSCredentials.certificates(certificate)
            self.key = try NSSCredentials.privateKey(key)
        } else {
            chain = []
            key = nil
        }
        if let certificate = request.alternateCertificatePath, let key = request.alternateKeyPath {
            alternateChain = try NSSCredentials.certificates(certificate)
            alternateKey = try NSSCredentials.privateKey(key)
        } else {
            alternateChain = []
            alternateKey = nil
        }
        trustAnchors = try request.trustedCAPath.map(NSSCredentials.certificates) ?? []
        for anchor in trustAnchors {
            // Trusted for issuing server and client certificates, in memory only (no database).
            var trust = CERTCertTrust()
            trust.sslFlags = UInt32(CERTDB_TRUSTED_CA | CERTDB_TRUSTED_CLIENT_CA | CERTDB_VALID_CA)
            guard CERT_ChangeCertTrust(CERT_GetDefaultCertDB(), anchor.handle, &trust) == SECSuccess else {
                throw PeerFailure(stage: .setup, error: NSSError.last("CERT_ChangeCertTrust \(request.trustedCAPath ?? "")"))
            }
        }
    }

    static func certificates(_ path: String) throws(PeerFailure) -> [NSSCertificate] {
        let blocks = try PEM.read(path, label: "CERTIFICATE")
        guard !blocks.isEmpty else { throw PeerFailure(stage: .setup, message: "\(path): no PEM CERTIFICATE block") }
        var certificates: [NSSCertificate] = []
        for der in blocks { certificates.append(try NSSCertificate(der: der, path: path)) }
        return certificates
    }

    static func privateKey(_ path: String) throws(PeerFailure) -> NSSPrivateKey {
        // The protocol's keys are PKCS#8 (`PRIVATE KEY`), the one form NSS imports.
        guard let der = try PEM.read(path, label: "PRIVATE KEY").first else {
            throw PeerFailure(stage: .setup, message: "\(path): no PEM PRIVATE KEY (PKCS#8) block")
        }
        return try NSSPrivateKey(pkcs8: der, path: path)
    }
}

/// PEM (RFC 7468) blocks of one label, decoded to DER. NSS reads only DER, so the peer decodes.
enum PEM {
    static func read(_ path: String, label: String) throws(PeerFailure) -> [[UInt8]] {
        guard let file = fopen(path, "rb") else { throw PeerFailure.system(.setup, "fopen \(path)", errno: errno) }
        defer { fclose(file) }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            text += buffer[..<n]
        }
        var blocks: [[UInt8]] = []
        var body: [UInt8]?
        for line in String(decoding: text, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            if line == "-----BEGIN \(label)-----" { body = [] }
            else if line == "-----END \(label)-----", let collected = body {
                guard let der = base64(collected) else { throw PeerFailure(stage: .setup, message: "\(path): bad base64 in a \(label) block") }
                blocks.append(der)
                body = nil
            } else if body != nil { body! += Array(line.utf8) }
        }
        return blocks
    }

    static func base64(_ text: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for c in text {
            let value: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="), UInt8(ascii: " "), UInt8(ascii: "\t"): continue
            default: return nil
            }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
