internal import CShimBotan
import PeerKit

/// Botan's path validation result (`Botan::Certificate_Status_Code`, pkix_enums.h) normalized into
/// the protocol's `verify_reason`. The shim hands over every error code of the failed validation
/// (`Path_Validation_Result::all_statuses`), so `VerifyReason.precedence` picks the one named.
enum BotanVerification {
    /// The codes of pkix_enums.h (Botan 2.19) a refusal can carry, with their enum names.
    static let codes: [Int32: (name: String, reason: VerifyReason)] = [
        1000: ("SIGNATURE_METHOD_TOO_WEAK", .signature),
        1001: ("UNTRUSTED_HASH", .signature),
        2000: ("CERT_NOT_YET_VALID", .notYetValid),
        2001: ("CERT_HAS_EXPIRED", .expired),
        3000: ("CERT_ISSUER_NOT_FOUND", .untrusted),
        3001: ("CANNOT_ESTABLISH_TRUST", .untrusted),
        3002: ("CERT_CHAIN_LOOP", .other),
        3003: ("CHAIN_LACKS_TRUST_ROOT", .untrusted),
        3004: ("CHAIN_NAME_MISMATCH", .untrusted),
        4000: ("POLICY_ERROR", .other),
        4001: ("INVALID_USAGE", .keyUsage),
        4002: ("CERT_CHAIN_TOO_LONG", .other),
        4003: ("CA_CERT_NOT_FOR_CERT_ISSUER", .other),
        4004: ("NAME_CONSTRAINT_ERROR", .other),
        4008: ("CERT_NAME_NOMATCH", .nameMismatch),
        4009: ("UNKNOWN_CRITICAL_EXTENSION", .other),
        5000: ("CERT_IS_REVOKED", .other),
        5002: ("SIGNATURE_ERROR", .signature),
        5003: ("CERT_PUBKEY_INVALID", .signature),
        5004: ("SIGNATURE_ALGO_UNKNOWN", .signature),
        5005: ("SIGNATURE_ALGO_BAD_PARAMS", .signature),
    ]

    static func reason(_ statuses: [Int32]) -> VerifyReason {
        VerifyReason.first(of: statuses.map { codes[$0]?.reason ?? .other })
    }

    /// `library_code`: the overall result's enum name (`Certificate_Status_Code <n>` for one
    /// without a name here).
    static func code(_ status: Int32) -> String {
        codes[status].map { $0.name } ?? "Certificate_Status_Code \(status)"
    }
}
