internal import CShimMbedTLS
import PeerKit

/// Mbed TLS's verification result (`mbedtls_ssl_get_verify_result`, `MBEDTLS_X509_BADCERT_*` flags)
/// normalized into the protocol's `verify_reason`. Mbed TLS checks every certificate of the chain
/// for every flaw and ORs the flags, so several may be set: `VerifyReason.precedence` picks the one
/// a result names.
enum MbedTLSVerification {
    static let reasons: [(flags: UInt32, reason: VerifyReason)] = [
        (UInt32(MBEDTLS_X509_BADCERT_EXPIRED), .expired),
        (UInt32(MBEDTLS_X509_BADCERT_FUTURE), .notYetValid),
        (UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH), .nameMismatch),
        (UInt32(MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE | MBEDTLS_X509_BADCERT_NS_CERT_TYPE), .keyUsage),
        // NOT_TRUSTED is also what 2.28 says of a signature that does not verify ("not correctly
        // signed by the trusted CA"): it has no flag of its own for that.
        (UInt32(MBEDTLS_X509_BADCERT_NOT_TRUSTED), .untrusted),
        (UInt32(MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY), .signature),
        (UInt32(MBEDTLS_X509_BADCERT_MISSING), .noCertificate),
    ]

    static func reason(_ flags: UInt32) -> VerifyReason {
        VerifyReason.first(of: reasons.filter { flags & $0.flags != 0 }.map(\.reason))
    }

    /// Whether `flags` (read after a failed handshake) record a flaw of the other side's
    /// certificate: a flag of the table, not 0 (nothing checked yet), not -1 (no session), and not
    /// SKIP_VERIFY alone.
    static func isRefusal(_ flags: UInt32) -> Bool {
        flags != UInt32.max && reasons.contains { flags & $0.flags != 0 }
    }

    /// The flags as `library_code`: `0x` and eight hex digits.
    static func code(_ flags: UInt32) -> String {
        let digits = String(flags, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
