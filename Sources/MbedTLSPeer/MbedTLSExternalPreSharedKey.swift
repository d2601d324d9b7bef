internal import CShimMbedTLS
import PeerKit

/// `--psk` at TLS 1.3 in Mbed TLS 3.x: an external PSK (RFC 8446 §2.2), offered from the same
/// configuration as a TLS 1.2 PSK (`mbedtls_ssl_conf_psk`) and found by the same server callback
/// (`mbedtls_ssl_conf_psk_cb`, which 3.6 also calls for each identity of a ClientHello's
/// pre_shared_key). Both sides tie an external PSK to SHA-256, the protocol's hash
/// (ssl_tls13_client.c ssl_tls13_psk_get_psk, ssl_tls13_server.c ssl_tls13_parse_pre_shared_key_ext:
/// PSA_ALG_SHA_256). Which key exchanges a handshake may use is
/// `mbedtls_ssl_conf_tls13_key_exchange_modes`, all three by default.
enum MbedTLSExternalPreSharedKey {
    /// Whether this build has psk_dhe_ke, and the certificate handshake a server falls back to for
    /// an identity it does not know.
    static var withKeyExchange: Bool {
        !MbedTLSVersion.is2x && MbedTLSVersion.supported.contains(.tls13)
            && compiled("MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED")
            && compiled("MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED")
    }

    /// Whether this build also has psk_ke, the PSK alone.
    static var withoutKeyExchange: Bool {
        withKeyExchange && compiled("MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED")
    }

    private static func compiled(_ feature: String) -> Bool { mbedtls_version_check_feature(feature) == 0 }

    /// Refuses, before anything is loaded, a `--psk` request at TLS 1.3 this build cannot serve.
    static func refuseUnsupported(_ request: PeerRequest) throws {
        guard request.preSharedKeyPath != nil else { return }
        let library = "Mbed TLS \(MbedTLSEngine.library.version)"
        if request.preSharedKeyWithoutKeyExchange && !withoutKeyExchange {
            throw Unsupported(MbedTLSVersion.is2x
                ? "\(library) has no TLS 1.3, so no psk_ke"
                : "\(library) is built without MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED (psk_ke)")
        }
        if request.version == .tls13 && !withKeyExchange {
            throw Unsupported("\(library) is built without MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED "
                + "or MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED (psk_dhe_ke, and the certificate an unknown identity falls back to)")
        }
    }

    /// The TLS 1.3 key exchanges a `--psk` side allows (RFC 8446 §4.2.9). psk_dhe_ke (the default)
    /// comes with the certificate handshake, which a server needs for an identity it does not know
    /// (§4.2.11) and a client to verify that server's certificate. psk_ke (`--psk-mode ke`) comes
    /// alone on both sides: the client then sends no key share, and a server that also allowed the
    /// certificate handshake would prefer it to psk_ke whenever a ClientHello carries a key share
    /// (ssl_tls13_parse_client_hello: "Our built-in order of preference is 1) (EC)DHE-PSK Mode
    /// 2) Certificate Mode 3) Plain PSK Mode"; 3.6.6 did so even with the identity and binder
    /// right), so it accepts psk_ke only, and has no certificate to fall back to.
    static func keyExchangeModes(_ request: PeerRequest) -> Int32 {
        request.preSharedKeyWithoutKeyExchange
            ? CShimMbedTLS_TLS1_3_KEY_EXCHANGE_MODE_PSK
            : CShimMbedTLS_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL | CShimMbedTLS_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL
    }

    /// What capabilities say about `--psk-mode ke` on the server (see `keyExchangeModes`).
    static let withoutKeyExchangeNote = "psk-ke: under --psk-mode ke the server allows psk_ke alone, as Mbed TLS prefers a certificate "
        + "handshake to psk_ke whenever both are allowed and the ClientHello has a key share; an identity it does not know then ends "
        + "the handshake (missing_extension) instead of falling back to the certificate"
}
