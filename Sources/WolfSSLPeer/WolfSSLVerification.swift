internal import CShimWolfSSL
import PeerKit

/// wolfSSL's verification result — the error code its handshake fails with when the other side's
/// certificate does not verify (wolfcrypt's ASN_* codes, the TLS layer's DOMAIN_NAME_MISMATCH,
/// NO_PEER_CERT, …) — normalized into the protocol's `verify_reason`. wolfSSL stops at its first
/// error, so there is one code.
enum WolfSSLVerification {
    static let reasons: [Int32: VerifyReason] = [
        wolfCode(ASN_AFTER_DATE_E): .expired,
        wolfCode(ASN_BEFORE_DATE_E): .notYetValid,
        wolfCode(DOMAIN_NAME_MISMATCH): .nameMismatch,
        wolfCode(IPADDR_MISMATCH): .nameMismatch,
        wolfCode(KEYUSAGE_E): .keyUsage,
        wolfCode(EXTKEYUSAGE_E): .keyUsage,
        wolfCode(EXTKEYUSE_AUTH_E): .keyUsage,
        wolfCode(KEYUSE_SIGNATURE_E): .keyUsage,
        wolfCode(KEYUSE_ENCIPHER_E): .keyUsage,
        wolfCode(ASN_NO_SIGNER_E): .untrusted,
        wolfCode(ASN_SELF_SIGNED_E): .untrusted,
        wolfCode(ASN_SIG_CONFIRM_E): .signature,
        wolfCode(ASN_SIG_OID_E): .signature,
        wolfCode(ASN_SIG_HASH_E): .signature,
        wolfCode(ASN_SIG_KEY_E): .signature,
        wolfCode(ASN_CRIT_EXT_E): .other,
        wolfCode(ASN_NAME_INVALID_E): .other,
        wolfCode(ASN_PATHLEN_SIZE_E): .other,
        wolfCode(ASN_PATHLEN_INV_E): .other,
        wolfCode(CRL_CERT_REVOKED): .other,
        wolfCode(OCSP_CERT_REVOKED): .other,
    ]

    /// The reason for a failed handshake's code, nil when the code is not a verification refusal.
    /// NO_PEER_CERT is the server's refusal of a client that sent no certificate
    /// (WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT).
    static func reason(_ code: Int32, role: Role) -> VerifyReason? {
        if code == wolfCode(NO_PEER_CERT) { return role == .server ? .noCertificate : .other }
        return reasons[code]
    }
}

/// wolfSSL's error codes as the Int32 its calls return: the TLS layer's are the named enum
/// `wolfSSL_ErrorCodes` (error-ssl.h), wolfcrypt's an anonymous enum Swift imports as Int.
func wolfCode(_ code: wolfSSL_ErrorCodes) -> Int32 { Int32(code.rawValue) }
func wolfCode(_ code: Int) -> Int32 { Int32(code) }
