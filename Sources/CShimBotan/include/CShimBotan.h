#ifndef CSHIM_BOTAN_H
#define CSHIM_BOTAN_H

// A plain C face on Botan 2's C++ TLS API (botan/tls_client.h, tls_server.h), which Swift cannot
// import: one endpoint per peer configuration (policy, credentials, session manager, RNG), one
// channel per connection over it. Botan's channel has no socket: bytes read from the socket go in
// with CShimBotan_channel_received, and what it wants sent comes out of CShimBotan_channel_output.
// No C++ exception crosses this header: every call that can fail fills a CShimBotan_Error with
// Botan's own words (`what()`) and the alert it sent or received.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CShimBotan_Endpoint CShimBotan_Endpoint;
typedef struct CShimBotan_Channel CShimBotan_Channel;

/// Up to this many distinct Certificate_Status_Code errors of one failed path validation.
#define CSHIM_BOTAN_MAX_STATUS 16

/// What a failed call reports. Codes are -1 where there is none.
typedef struct {
    /// Botan's exception text (`what()`), or the shim's own words for a refused argument.
    char message[1024];
    /// The C++ exception's kind: "TLS_Exception", "Decoding_Error", "Invalid_Authentication_Tag", ….
    char kind[48];
    /// The alert Botan sent (Channel::received_data sends one for every exception it rethrows) …
    int alert_sent;
    /// … or the fatal alert the other side sent (Callbacks::tls_alert).
    int alert_received;
    /// The certificate check of Callbacks::tls_verify_cert_chain refused the other side's chain:
    /// the Certificate_Status_Code errors of the path validation, and its overall result.
    int verify_failed;
    int verify_overall;
    int verify_statuses[CSHIM_BOTAN_MAX_STATUS];
    int verify_status_count;
    /// Server: the client's Certificate message was empty (seen through tls_inspect_handshake_msg).
    int client_sent_no_certificate;
} CShimBotan_Error;

/// Botan::version_string() and the run-time version numbers.
const char *CShimBotan_version_string(void);
void CShimBotan_version(int *major, int *minor, int *patch);

/// One cipher suite Botan knows (Ciphersuite::all_known_ciphersuites()).
typedef struct {
    uint16_t code;
    char name[96];
    char kex[24];
    char auth[24];
    char cipher[40];
    char mac[24];
    int valid;
    /// Ciphersuite::psk_ciphersuite(): a PSK, DHE_PSK or ECDHE_PSK key exchange (Botan 2 has no RSA_PSK).
    int psk;
    /// In the default Policy's ciphersuite_list for TLS 1.2 / TLS 1.0.
    int default_tls12;
    int default_tls10;
    /// Ciphersuite::usable_in_version for TLS 1.0 and TLS 1.2.
    int usable_tls10;
    int usable_tls12;
} CShimBotan_SuiteInfo;

size_t CShimBotan_suite_count(void);
void CShimBotan_suite_info(size_t index, CShimBotan_SuiteInfo *out);

/// The default Policy's key exchange groups (TLS code points), in its order.
size_t CShimBotan_default_groups(uint16_t *out, size_t capacity);
/// Signature schemes this build knows (signature_scheme_is_known); `policy_default` set: only the
/// default Policy's allowed_signature_schemes().
size_t CShimBotan_signature_schemes(uint16_t *out, size_t capacity, int policy_default);
/// Whether the default Policy allows TLS 1.0, 1.1, 1.2 (index 0, 1, 2).
int CShimBotan_default_allows(int index);

// MARK: the endpoint

CShimBotan_Endpoint *CShimBotan_endpoint_new(int is_server, CShimBotan_Error *error);
void CShimBotan_endpoint_free(CShimBotan_Endpoint *endpoint);

/// Which of TLS 1.0, 1.1, 1.2 the policy allows.
void CShimBotan_endpoint_allow_versions(CShimBotan_Endpoint *endpoint, int tls10, int tls11, int tls12);
/// Lifts what the default policy refuses but Botan implements: SHA-1 signature hashes.
void CShimBotan_endpoint_lift_policy(CShimBotan_Endpoint *endpoint);
/// Exactly this suite: the policy's lists widened by its cipher, MAC and key exchange, and its
/// ciphersuite_list narrowed to it. 0 if Botan does not know the code.
int CShimBotan_endpoint_force_suite(CShimBotan_Endpoint *endpoint, uint16_t code);
/// Exactly these groups (TLS code points), most preferred first. 0 if one is not Botan's.
int CShimBotan_endpoint_force_groups(CShimBotan_Endpoint *endpoint, const uint16_t *codes, size_t count);
/// Server: ask for (request) and insist on (require) a client certificate.
void CShimBotan_endpoint_client_auth(CShimBotan_Endpoint *endpoint, int request, int require);
int CShimBotan_endpoint_load_trust(CShimBotan_Endpoint *endpoint, const char *path, CShimBotan_Error *error);
int CShimBotan_endpoint_load_identity(CShimBotan_Endpoint *endpoint, const char *cert, const char *key, CShimBotan_Error *error);
int CShimBotan_endpoint_load_alternate(CShimBotan_Endpoint *endpoint, const char *name, const char *cert, const char *key, CShimBotan_Error *error);
/// ALPN: offered (client) or accepted (server), most preferred first.
void CShimBotan_endpoint_add_protocol(CShimBotan_Endpoint *endpoint, const char *protocol);
/// `--psk`: the one identity and key, which the client offers and the server knows (any other
/// identity gets an empty key from Credentials_Manager::psk, which Botan refuses with
/// unknown_psk_identity); the Policy's key exchanges widened by PSK, DHE_PSK and ECDHE_PSK.
void CShimBotan_endpoint_pre_shared_key(CShimBotan_Endpoint *endpoint, const char *identity, const uint8_t *key, size_t key_length);
/// 0: Botan's default (no ticket key, so a server issues no tickets); 1: session ids only (the
/// client sends no session_ticket extension); 2: tickets (the server gets a ticket key).
void CShimBotan_endpoint_resumption(CShimBotan_Endpoint *endpoint, int mode);

// MARK: the channel

/// A TLS::Server, or a TLS::Client whose Server_Information carries `host` (NULL or "": no SNI
/// and no host-name check) and `port` (with the host, the session manager's key for resumption).
CShimBotan_Channel *CShimBotan_channel_new(CShimBotan_Endpoint *endpoint, const char *host, uint16_t port, CShimBotan_Error *error);
void CShimBotan_channel_free(CShimBotan_Channel *channel);

/// Feeds bytes read from the socket. 1 on success, 0 on failure (error filled).
int CShimBotan_channel_received(CShimBotan_Channel *channel, const uint8_t *bytes, size_t count, CShimBotan_Error *error);
/// The bytes the channel emitted and that are not yet sent.
const uint8_t *CShimBotan_channel_output(CShimBotan_Channel *channel, size_t *count);
void CShimBotan_channel_consume_output(CShimBotan_Channel *channel, size_t count);
/// Application data received and not yet taken.
size_t CShimBotan_channel_take(CShimBotan_Channel *channel, uint8_t *buffer, size_t capacity);
size_t CShimBotan_channel_available(CShimBotan_Channel *channel);
int CShimBotan_channel_send(CShimBotan_Channel *channel, const uint8_t *bytes, size_t count, CShimBotan_Error *error);
/// Sends close_notify (Channel::close), unless the channel is closed already.
int CShimBotan_channel_close(CShimBotan_Channel *channel, CShimBotan_Error *error);
/// Sends a warning alert of `type`.
int CShimBotan_channel_send_alert(CShimBotan_Channel *channel, int type, CShimBotan_Error *error);

int CShimBotan_channel_is_active(CShimBotan_Channel *channel);
int CShimBotan_channel_is_closed(CShimBotan_Channel *channel);
int CShimBotan_channel_close_notify_received(CShimBotan_Channel *channel);
/// The fatal alert received, -1 if none.
int CShimBotan_channel_fatal_alert_received(CShimBotan_Channel *channel);
/// A fatal alert was sent or received, or an exception ended the channel.
int CShimBotan_channel_failed(CShimBotan_Channel *channel);

/// What the established session says, and what the handshake's messages showed.
typedef struct {
    uint16_t version;
    uint16_t suite;
    char suite_name[96];
    char alpn[256];
    /// Server: the SNI host name of the ClientHello (Client_Hello::sni_hostname).
    char server_name[256];
    int resumed;
    /// The ServerKeyExchange's group (TLS code point), 0 if it had none Botan names.
    uint16_t group;
    int has_group;
    /// The server's handshake signature as Botan made (server) or checked (client) it:
    /// the EMSA string and key algorithm of tls_sign_message / tls_verify_message.
    char signature_emsa[64];
    char signature_key[24];
    int has_peer_certificate;
    char peer_subject[512];
    /// The session's suite has a PSK key exchange (Ciphersuite::kex_method, key_exchange_is_psk) …
    int psk_suite;
    /// … and the identity the handshake's PSK callbacks saw: the server's psk() was asked for it and
    /// answered with the key, or the client's psk_identity() gave it to send (RFC 4279 §5.1: at
    /// most 128 bytes).
    int has_psk_identity;
    char psk_identity[256];
    int has_secrets;
    uint8_t client_random[32];
    uint8_t master_secret[48];
} CShimBotan_Negotiated;

void CShimBotan_channel_negotiated(CShimBotan_Channel *channel, CShimBotan_Negotiated *out);

#ifdef __cplusplus
}
#endif

#endif
