// Mbed TLS for Swift, 2.28 and 3.x alike: the headers the peer uses, and a version-neutral face for
// what the two series spell differently. Mbed TLS exposes plain functions and integer macros, which
// Swift imports as they are; 3.x makes most structure fields private (MBEDTLS_PRIVATE), so the few
// the peer reads go through the accessors below. The distribution's 2.28 is built by SwiftPM; the
// 3.x peer (mbedtls-3.6) is built by Sources/peer-mbedtls-3.6/build against another prefix's headers.
#ifndef CSHIM_MBEDTLS_H
#define CSHIM_MBEDTLS_H

#include <stdint.h>
#include <mbedtls/version.h>
#if MBEDTLS_VERSION_MAJOR < 3
#include <mbedtls/config.h>
// 2.28 keeps the negotiated key-exchange group and the resumption flag only in the handshake
// parameters this internal header declares; 3.x no longer installs their declaration at all.
#include <mbedtls/ssl_internal.h>
#else
#include <psa/crypto.h>
#endif
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include <mbedtls/error.h>
#include <mbedtls/ecp.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/md.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>

/// The error a certificate the handshake refuses comes with: 2.28's BAD_HS_CERTIFICATE, 3.x's
/// BAD_CERTIFICATE.
#if MBEDTLS_VERSION_MAJOR < 3
static const int CShimMbedTLS_ERR_BAD_CERTIFICATE = MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE;
#else
static const int CShimMbedTLS_ERR_BAD_CERTIFICATE = MBEDTLS_ERR_SSL_BAD_CERTIFICATE;
#endif

/// The group of the ECDHE key exchange in progress, read from the handshake parameters
/// (MBEDTLS_ECP_DP_NONE when there is none, and always on 3.x, whose parameters are opaque).
int CShimMbedTLS_handshake_ecdh_group(const mbedtls_ssl_context *ssl);

/// Whether the handshake in progress resumes a session: 1 or 0 from 2.28's handshake parameters,
/// -1 on 3.x, which has no way to say (the caller watches the handshake's states instead).
int CShimMbedTLS_handshake_resumed(const mbedtls_ssl_context *ssl);

/// The state of the handshake's state machine (`mbedtls_ssl_states`).
int CShimMbedTLS_handshake_state(const mbedtls_ssl_context *ssl);

/// The context given to `mbedtls_ssl_set_bio`.
void *CShimMbedTLS_bio_context(const mbedtls_ssl_context *ssl);

/// The description byte of the alert record just received (after MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE).
int CShimMbedTLS_received_alert(const mbedtls_ssl_context *ssl);

/// A configuration's version range as wire minor versions (1 TLS 1.0 … 4 TLS 1.3), and setting it.
void CShimMbedTLS_conf_version_range(const mbedtls_ssl_config *conf, int *min_minor, int *max_minor);
void CShimMbedTLS_conf_set_version_range(mbedtls_ssl_config *conf, int min_minor, int max_minor);

/// A cipher suite's id, name and version range (wire minor versions).
int CShimMbedTLS_suite_id(const mbedtls_ssl_ciphersuite_t *info);
const char *CShimMbedTLS_suite_name(const mbedtls_ssl_ciphersuite_t *info);
void CShimMbedTLS_suite_version_range(const mbedtls_ssl_ciphersuite_t *info, int *min_minor, int *max_minor);
/// Whether a suite's key exchange is one of the pre-shared key ones of TLS 1.2 and below (PSK,
/// DHE_PSK, ECDHE_PSK, RSA_PSK: RFC 4279, 5487, 5489): 2.28's mbedtls_ssl_ciphersuite_uses_psk, which
/// 3.x moved into a header it does not install (library/ssl_ciphersuites_internal.h).
int CShimMbedTLS_suite_uses_psk(const mbedtls_ssl_ciphersuite_t *info);

/// `mbedtls_pk_parse_keyfile`, which takes a random source on 3.x.
int CShimMbedTLS_pk_parse_keyfile(mbedtls_pk_context *key, const char *path, mbedtls_ctr_drbg_context *drbg);

/// Limits the key-exchange groups to `iana` (TLS NamedGroup code points, 0-terminated, kept by the
/// caller as long as the configuration). 2.28 takes curve ids instead: `scratch` (as long as `iana`,
/// kept as long) receives them. Returns the first code point the library has no group for, or 0.
uint16_t CShimMbedTLS_conf_groups(mbedtls_ssl_config *conf, const uint16_t *iana, mbedtls_ecp_group_id *scratch);

/// The groups and signature algorithms a configuration offers by default, as 0-terminated IANA code
/// points; NULL on 2.28, whose defaults are its curve list and hash list.
const uint16_t *CShimMbedTLS_conf_groups_list(const mbedtls_ssl_config *conf);
const uint16_t *CShimMbedTLS_conf_signature_algorithms(const mbedtls_ssl_config *conf);

/// 3.x's "a TLS 1.3 NewSessionTicket arrived" from mbedtls_ssl_read (after
/// CShimMbedTLS_conf_signal_new_session_tickets); a value 2.28 never returns.
#if MBEDTLS_VERSION_MAJOR < 3
static const int CShimMbedTLS_ERR_RECEIVED_NEW_SESSION_TICKET = INT32_MIN;
#else
static const int CShimMbedTLS_ERR_RECEIVED_NEW_SESSION_TICKET = MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET;
#endif

/// 3.x (TLS 1.3): a client keeps the tickets it receives only when asked to, and then reports each
/// from mbedtls_ssl_read. No-op on 2.28, which keeps its TLS 1.2 ticket without asking.
void CShimMbedTLS_conf_signal_new_session_tickets(mbedtls_ssl_config *conf);

/// The TLS 1.3 key exchanges a configuration allows, as `mbedtls_ssl_conf_tls13_key_exchange_modes`
/// takes them (ssl.h): the PSK alone (psk_ke), the PSK with (EC)DHE (psk_dhe_ke), and (EC)DHE with a
/// certificate. 2.28 has no TLS 1.3: the values only keep the Swift source the same for both series.
#if MBEDTLS_VERSION_MAJOR < 3
static const int CShimMbedTLS_TLS1_3_KEY_EXCHANGE_MODE_PSK = 1;
static const int CShimMbedTLS_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL = 2;
static const int CShimMbedTLS_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL = 4;
#else
static const int CShimMbedTLS_TLS1_3_KEY_EXCHANGE_MODE_PSK = MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK;
static const int CShimMbedTLS_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL = MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL;
static const int CShimMbedTLS_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL = MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL;
#endif

/// `mbedtls_ssl_conf_tls13_key_exchange_modes` on a 3.x build with TLS 1.3 (its default is all
/// three); a no-op elsewhere, where the function does not exist.
void CShimMbedTLS_conf_tls13_key_exchange_modes(mbedtls_ssl_config *conf, int kex_modes);

/// One key log line's parts: an NSS key log label, the ClientHello random (32 bytes) and a secret.
typedef void CShimMbedTLS_key_line(void *context, const char *label, const unsigned char *client_random,
                                   const unsigned char *secret, size_t secret_length);
/// Where a connection's secrets go; the caller keeps it as long as the configuration.
typedef struct {
    CShimMbedTLS_key_line *line;
    void *context;
} CShimMbedTLS_key_log;
/// 2.28 exports the TLS 1.2 master secret from the configuration, 3.x exports every secret (TLS 1.2
/// master secret, TLS 1.3 traffic secrets) from each connection: call both, each is a no-op where it
/// does not apply.
void CShimMbedTLS_conf_key_log(mbedtls_ssl_config *conf, CShimMbedTLS_key_log *log);
void CShimMbedTLS_ssl_key_log(mbedtls_ssl_context *ssl, CShimMbedTLS_key_log *log);

/// `psa_crypto_init()` on 3.x, which TLS 1.3 needs before any handshake; 0 on 2.28.
int CShimMbedTLS_crypto_init(void);

#endif
