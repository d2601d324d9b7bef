internal import CShimNSS
import PeerKit

/// What a request asks of NSS, checked before any socket exists, and applied to each SSL socket.
enum NSSConfiguration {
    /// The key exchange groups this NSS implements (lib/ssl/sslgrp.c's table, `ssl_named_groups`),
    /// by their IANA code points, which are NSS's `SSLNamedGroup` values: 3.87's ECDHE and FFDHE
    /// groups, and from 3.110 on (its sslt.h) the hybrids X25519MLKEM768 (0x11EC) and
    /// X25519Kyber768Draft00 (0x6399), which 3.116 disabled.
    static let implementedGroups: [UInt16] = [29, 23, 24, 25, 256, 257, 258, 259, 260]
        + (NSS_VersionCheck("3.110") != PR_FALSE ? [0x11EC] : [])
        + (NSS_VersionCheck("3.110") != PR_FALSE && NSS_VersionCheck("3.116") == PR_FALSE ? [0x6399] : [])

    /// The groups this build allows: implemented and permitted for key exchange by NSS's policy.
    static var groups: [String] {
        implementedGroups.filter(groupAllowed).compactMap { NamedGroup.byCode[$0] }
    }

    static func groupAllowed(_ code: UInt16) -> Bool {
        let oid: SECOidTag
        switch code {
        case 29: oid = SEC_OID_CURVE25519
        case 23: oid = SEC_OID_ANSIX962_EC_PRIME256V1
        case 24: oid = SEC_OID_SECG_EC_SECP384R1
        case 25: oid = SEC_OID_SECG_EC_SECP521R1
        // Their policy OIDs (secoidt.h of 3.110), by number: 3.87's header has no names for them.
        case 0x11EC: oid = SECOidTag(rawValue: 389) // SEC_OID_MLKEM768X25519
        case 0x6399: oid = SECOidTag(rawValue: 372) // SEC_OID_XYBER768D00
        default: return true // finite-field groups have no per-group policy OID
        }
        var policy: UInt32 = 0
        guard NSS_GetAlgorithmPolicy(oid, &policy) == SECSuccess else { return false }
        return policy & UInt32(NSS_USE_ALG_IN_SSL_KX) != 0
    }

    static var implementedSuites: [UInt16] {
        guard let list = SSL_GetImplementedCiphers() else { return [] }
        return (0..<Int(SSL_GetNumImplementedCiphers())).map { list[$0] }
    }

    static func wireVersion(_ version: TLSVersion) -> UInt16 { version.wireValue }

    /// Throws `Unsupported` for a version, suite, group or pre-shared key this NSS cannot use.
    static func check(_ request: PeerRequest) throws {
        try NSSPreSharedKey.check(request)
        let version = NSSLibrary.library
        if let wanted = request.version {
            var supported = SSLVersionRange()
            _ = SSL_VersionRangeGetSupported(ssl_variant_stream, &supported)
            guard wanted.wireValue >= supported.min && wanted.wireValue <= supported.max else {
                throw Unsupported("NSS \(version) does not support \(wanted.rawValue)")
            }
        }
        if let code = request.suiteCode {
            guard implementedSuites.contains(code) else {
                throw Unsupported("NSS \(version) does not implement cipher suite \(NegotiatedView.hexCode(code))")
            }
            var policy: Int32 = 0
            if SSL_CipherPolicyGet(Int32(code), &policy) == SECSuccess, policy == SSL_NOT_ALLOWED {
                throw Unsupported("NSS \(version)'s policy does not allow cipher suite \(NegotiatedView.hexCode(code)) (SSL_CipherPolicyGet)")
            }
        }
        for group in request.groups {
            guard let code = NamedGroup.code(of: group), implementedGroups.contains(code), groupAllowed(code) else {
                throw Unsupported("NSS \(version) does not support group \(group)")
            }
        }
    }

    /// Versions, suites and groups on one SSL socket.
    static func apply(_ request: PeerRequest, to fd: UnsafeMutablePointer<PRFileDesc>) throws(PeerFailure) {
        // A pre-shared key exists for NSS only at TLS 1.3, so a `--psk` without `--version` pins it.
        if let version = request.version ?? (request.preSharedKeyPath != nil ? .tls13 : nil) {
            var range = SSLVersionRange(min: version.wireValue, max: version.wireValue)
            guard SSL_VersionRangeSet(fd, &range) == SECSuccess else { throw PeerFailure(stage: .setup, error: NSSError.last("SSL_VersionRangeSet")) }
        }
        if let code = request.suiteCode {
            for suite in implementedSuites { _ = SSL_CipherPrefSet(fd, Int32(suite), PR_FALSE) }
            guard SSL_CipherPrefSet(fd, Int32(code), PR_TRUE) == SECSuccess else {
                throw PeerFailure(stage: .setup, error: NSSError.last("SSL_CipherPrefSet \(NegotiatedView.hexCode(code))"))
            }
        }
        if !request.groups.isEmpty {
            var groups = request.groups.compactMap { NamedGroup.code(of: $0) }.map { SSLNamedGroup(rawValue: UInt32($0)) }
            guard SSL_NamedGroupConfig(fd, &groups, UInt32(groups.count)) == SECSuccess else {
                throw PeerFailure(stage: .setup, error: NSSError.last("SSL_NamedGroupConfig"))
            }
        }
    }
}

extension NSSLibrary {
    static var library: String { String(cString: NSS_GetVersion()) }
}
