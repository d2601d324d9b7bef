internal import CShimNSS
import PeerKit

/// The peer's own certificate check, run from `SSL_AuthCertificateHook`: NSS's PKIX verification
/// against this cell's CA as the only trust anchor (no database holds trust), then the host name.
/// NSS sends the alert its error code calls for (`SSL3_SendAlertForCertError`).
enum NSSVerification {
    /// The NSS error code that refuses `certificate`, or nil when it is good.
    /// `presented` is the chain the peer sent in this handshake: a chain NSS completes with an
    /// intermediate it kept from another cell is refused as one whose issuer is unknown, as a fresh
    /// process would.
    static func verify(_ certificate: UnsafeMutablePointer<CERTCertificate>, presented: UnsafeMutablePointer<CERTCertList>?,
                       anchors: [NSSCertificate], asClient: Bool, host: String?) -> PRErrorCode? {
        // A peer without --ca trusts nothing.
        guard !anchors.isEmpty else { return SEC_ERROR_UNKNOWN_ISSUER.rawValue }
        // CERT_PKIXVerifyCert with cert_pi_trustAnchors answered SEC_ERROR_INVALID_ARGS for every
        // good chain in 3.87 here, so the check is NSS's classic one (what SSL_AuthCertificate
        // calls), with the CA marked trusted in memory (NSSCredentials).
        let usage = asClient ? certUsageSSLClient : certUsageSSLServer
        if CERT_VerifyCert(CERT_GetDefaultCertDB(), certificate, PR_TRUE, usage, PR_Now(), nil, nil) != SECSuccess { return PR_GetError() }
        if let built = CERT_GetCertChainFromCert(certificate, PR_Now(), usage) {
            defer { CERT_DestroyCertList(built) }
            if CShimNSS_first_unpresented(built, presented) != nil { return SEC_ERROR_UNKNOWN_ISSUER.rawValue }
        }
        if let host, CERT_VerifyCertName(certificate, host) != SECSuccess { return PR_GetError() }
        return nil
    }

    /// The protocol's `verify_reason` for an NSS verification error code.
    static func reason(_ code: PRErrorCode, certificate: UnsafeMutablePointer<CERTCertificate>) -> VerifyReason {
        switch code {
        case SEC_ERROR_EXPIRED_CERTIFICATE.rawValue, SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE.rawValue:
            // NSS has one code for both ends of the validity window; its own time check tells which.
            return CERT_CheckCertValidTimes(certificate, PR_Now(), PR_FALSE) == secCertTimeNotValidYet ? .notYetValid : .expired
        case SSL_ERROR_BAD_CERT_DOMAIN.rawValue:
            return .nameMismatch
        case SEC_ERROR_INADEQUATE_KEY_USAGE.rawValue, SEC_ERROR_INADEQUATE_CERT_TYPE.rawValue:
            return .keyUsage
        case SEC_ERROR_UNKNOWN_ISSUER.rawValue, SEC_ERROR_UNTRUSTED_ISSUER.rawValue, SEC_ERROR_UNTRUSTED_CERT.rawValue,
             SEC_ERROR_CA_CERT_INVALID.rawValue:
            return .untrusted
        case SEC_ERROR_BAD_SIGNATURE.rawValue, SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED.rawValue, SEC_ERROR_INVALID_KEY.rawValue:
            return .signature
        case SSL_ERROR_NO_CERTIFICATE.rawValue:
            return .noCertificate
        default:
            return .other
        }
    }
}

/// NSS's enums, which carry IANA code points, in the protocol's names.
enum NSSNames {
    static func group(_ group: SSLNamedGroup) -> String? {
        guard group.rawValue <= 0xFFFF else { return nil }
        return NamedGroup.byCode[UInt16(group.rawValue)]
    }

    /// The scheme's IANA name; one PeerKit's table lacks is written as its code point (`0x0420`).
    static func signatureScheme(_ scheme: SSLSignatureScheme) -> String? {
        guard scheme.rawValue != 0, scheme.rawValue <= 0xFFFF else { return nil }
        let code = UInt16(scheme.rawValue)
        return SignatureScheme.byCode[code] ?? NegotiatedView.hexCode(code)
    }
}
