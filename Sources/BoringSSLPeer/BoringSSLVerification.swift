internal import CNIOBoringSSL
import PeerKit

/// BoringSSL's verification result (`SSL_get_verify_result`, an `X509_V_ERR_*` code; BoringSSL stops
/// at the first flaw, so there is one) mapped to PEER-PROTOCOL.md's `verify_reason`, and the code's
/// macro name for `library_code`.
enum BoringSSLVerification {
    private struct Entry {
        let name: String
        let reason: VerifyReason
    }

    private static let table: [Int32: Entry] = {
        let rows: [(Int32, String, VerifyReason)] = [
            (X509_V_ERR_CERT_HAS_EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED", .expired),
            (X509_V_ERR_CERT_NOT_YET_VALID, "X509_V_ERR_CERT_NOT_YET_VALID", .notYetValid),
            (X509_V_ERR_HOSTNAME_MISMATCH, "X509_V_ERR_HOSTNAME_MISMATCH", .nameMismatch),
            (X509_V_ERR_IP_ADDRESS_MISMATCH, "X509_V_ERR_IP_ADDRESS_MISMATCH", .nameMismatch),
            (X509_V_ERR_EMAIL_MISMATCH, "X509_V_ERR_EMAIL_MISMATCH", .nameMismatch),
            (X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT", .untrusted),
            (X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY", .untrusted),
            (X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT", .untrusted),
            (X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN", .untrusted),
            (X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE", .untrusted),
            (X509_V_ERR_CERT_UNTRUSTED, "X509_V_ERR_CERT_UNTRUSTED", .untrusted),
            (X509_V_ERR_INVALID_PURPOSE, "X509_V_ERR_INVALID_PURPOSE", .keyUsage),
            (X509_V_ERR_KEYUSAGE_NO_CERTSIGN, "X509_V_ERR_KEYUSAGE_NO_CERTSIGN", .keyUsage),
            (X509_V_ERR_KEYUSAGE_NO_CRL_SIGN, "X509_V_ERR_KEYUSAGE_NO_CRL_SIGN", .keyUsage),
            (X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE, "X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE", .keyUsage),
            (X509_V_ERR_CERT_SIGNATURE_FAILURE, "X509_V_ERR_CERT_SIGNATURE_FAILURE", .signature),
            (X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, "X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE", .signature),
            (X509_V_ERR_INVALID_CA, "X509_V_ERR_INVALID_CA", .other),
            (X509_V_ERR_CERT_REVOKED, "X509_V_ERR_CERT_REVOKED", .other),
            (X509_V_ERR_CERT_CHAIN_TOO_LONG, "X509_V_ERR_CERT_CHAIN_TOO_LONG", .other),
            (X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, "X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION", .other),
        ]
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.0, Entry(name: $0.1, reason: $0.2)) })
    }()

    static func reason(_ code: Int) -> VerifyReason { table[Int32(truncatingIfNeeded: code)]?.reason ?? .other }

    /// `X509_V_ERR <n>` for a code without a name here: BoringSSL has only its sentence.
    static func name(_ code: Int) -> String { table[Int32(truncatingIfNeeded: code)]?.name ?? "X509_V_ERR \(code)" }
}
