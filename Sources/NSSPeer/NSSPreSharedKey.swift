internal import CShimNSS
import PeerKit

/// The TLS 1.3 external PSK of `--psk` (RFC 8446 §2.2): its identity, and its key as a
/// `PK11SymKey` in NSS's internal slot, which this class owns. NSS has no TLS 1.2 PSK suites
/// (RFC 4279), so this is the only pre-shared key the peer knows.
///
/// `SSL_AddExternalPsk` (sslexp.h, experimental) takes one PSK per socket with its
/// hash; the server selects it when the client's identity is this one and the binder verifies,
/// and otherwise goes on with its certificate. NSS does PSKs with (EC)DHE only, so the peer has no
/// `psk-ke`: its client offers psk_dhe_ke alone (tls13_ClientSendPskModesXtn), and its server
/// ("We insist on DHE", tls13_NegotiateKeyExchange) answers a psk_ke-only offer with psk_dhe_ke
/// anyway: 3.87 and 3.110 were seen selecting the external PSK with a key_share for one, where
/// RFC 8446 §4.2.9 forbids a mode the client did not list.
final class NSSPreSharedKey {
    let identity: String
    private let handle: OpaquePointer

    init(_ preSharedKey: PreSharedKey) throws(PeerFailure) {
        guard let slot = PK11_GetInternalSlot() else { throw PeerFailure(stage: .setup, error: NSSError.last("PK11_GetInternalSlot")) }
        defer { PK11_FreeSlot(slot) }
        var bytes = preSharedKey.key
        // As NSS's own tests import one (gtests/ssl_gtest/tls_psk_unittest.cc): a generic secret
        // for HKDF, usable for derivation, which is all TLS 1.3's key schedule does with it.
        let imported = bytes.withUnsafeMutableBufferPointer { buffer -> OpaquePointer? in
            var item = SECItem(type: siBuffer, data: buffer.baseAddress, len: UInt32(buffer.count))
            return PK11_ImportSymKey(slot, CK_MECHANISM_TYPE(CKM_HKDF_KEY_GEN), PK11_OriginUnwrap, CK_ATTRIBUTE_TYPE(CKA_DERIVE), &item, nil)
        }
        for index in bytes.indices { bytes[index] = 0 }
        guard let imported else { throw PeerFailure(stage: .setup, error: NSSError.last("PK11_ImportSymKey (the --psk key)")) }
        identity = preSharedKey.identity
        handle = imported
    }

    deinit { PK11_FreeSymKey(handle) }

    /// Offers (client) or accepts (server) the key on `fd`, with SHA-256, the hash of an external
    /// PSK for which none is defined (RFC 8446 §4.2.11). NSS takes its own reference to the key.
    func add(to fd: UnsafeMutablePointer<PRFileDesc>) -> SECStatus {
        let label = Array(identity.utf8)
        return label.withUnsafeBufferPointer { CShimNSS_SSL_AddExternalPsk(fd, handle, $0.baseAddress, UInt32($0.count), ssl_hash_sha256) }
    }

    /// Throws `Unsupported` for a `--psk` request NSS cannot serve: anything but TLS 1.3, and
    /// psk_ke alone.
    static func check(_ request: PeerRequest) throws {
        guard request.preSharedKeyPath != nil else { return }
        let version = NSSLibrary.library
        if let wanted = request.version, wanted != .tls13 {
            throw Unsupported("NSS \(version) has no pre-shared key cipher suites (RFC 4279) for \(wanted.rawValue); its external PSK (SSL_AddExternalPsk) is TLS 1.3 only")
        }
        if request.preSharedKeyWithoutKeyExchange {
            throw Unsupported("NSS \(version) does TLS 1.3 PSKs with psk_dhe_ke only: its client offers psk_dhe_ke alone, its server always adds (EC)DHE (no psk_ke)")
        }
    }
}
