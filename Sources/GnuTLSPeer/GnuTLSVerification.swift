internal import CShimGnuTLS
import PeerKit

/// GnuTLS's verification result (`gnutls_session_get_verify_cert_status`, a set of
/// `gnutls_certificate_status_t` bits) normalized into the protocol's `verify_reason`.
/// GnuTLS may set several bits at once (always with GNUTLS_CERT_INVALID); `VerifyReason.precedence`
/// picks the one a result names.
enum GnuTLSVerification {
    static let reasons: [(bits: UInt32, reason: VerifyReason)] = [
        (GNUTLS_CERT_EXPIRED.rawValue, .expired),
        (GNUTLS_CERT_NOT_ACTIVATED.rawValue, .notYetValid),
        (GNUTLS_CERT_UNEXPECTED_OWNER.rawValue, .nameMismatch),
        (GNUTLS_CERT_PURPOSE_MISMATCH.rawValue, .keyUsage),
        (GNUTLS_CERT_SIGNER_NOT_FOUND.rawValue | GNUTLS_CERT_SIGNER_NOT_CA.rawValue, .untrusted),
        (GNUTLS_CERT_SIGNATURE_FAILURE.rawValue | GNUTLS_CERT_INSECURE_ALGORITHM.rawValue, .signature),
    ]

    static func reason(_ status: UInt32) -> VerifyReason {
        VerifyReason.first(of: reasons.filter { status & $0.bits != 0 }.map(\.reason))
    }

    /// The status bits as `library_code`: `0x` and eight hex digits.
    static func code(_ status: UInt32) -> String {
        let digits = String(status, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
