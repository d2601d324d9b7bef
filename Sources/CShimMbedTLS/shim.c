// The 3.x accessors read fields the headers mark private: this file is where that is allowed.
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "CShimMbedTLS.h"

int CShimMbedTLS_handshake_ecdh_group(const mbedtls_ssl_context *ssl) {
#if MBEDTLS_VERSION_MAJOR < 3 && defined(MBEDTLS_ECDH_C)
    if (ssl == NULL || ssl->handshake == NULL) {
        return MBEDTLS_ECP_DP_NONE;
    }
#if defined(MBEDTLS_ECDH_LEGACY_CONTEXT)
    return (int)ssl->handshake->ecdh_ctx.grp.id;
#else
    return (int)ssl->handshake->ecdh_ctx.grp_id;
#endif
#else
    (void)ssl;
    return MBEDTLS_ECP_DP_NONE;
#endif
}

int CShimMbedTLS_handshake_resumed(const mbedtls_ssl_context *ssl) {
#if MBEDTLS_VERSION_MAJOR < 3
    return ssl->handshake != NULL && ssl->handshake->resume != 0;
#else
    (void)ssl;
    return -1;
#endif
}

int CShimMbedTLS_handshake_state(const mbedtls_ssl_context *ssl) { return ssl->state; }

void *CShimMbedTLS_bio_context(const mbedtls_ssl_context *ssl) { return ssl->p_bio; }

int CShimMbedTLS_received_alert(const mbedtls_ssl_context *ssl) {
    return ssl->in_msg == NULL ? -1 : ssl->in_msg[1];
}

void CShimMbedTLS_conf_version_range(const mbedtls_ssl_config *conf, int *min_minor, int *max_minor) {
#if MBEDTLS_VERSION_MAJOR < 3
    *min_minor = conf->min_minor_ver;
    *max_minor = conf->max_minor_ver;
#else
    *min_minor = conf->min_tls_version & 0xFF;
    *max_minor = conf->max_tls_version & 0xFF;
#endif
}

void CShimMbedTLS_conf_set_version_range(mbedtls_ssl_config *conf, int min_minor, int max_minor) {
#if MBEDTLS_VERSION_MAJOR < 3
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, min_minor);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, max_minor);
#else
    mbedtls_ssl_conf_min_tls_version(conf, (mbedtls_ssl_protocol_version)(0x0300 | min_minor));
    mbedtls_ssl_conf_max_tls_version(conf, (mbedtls_ssl_protocol_version)(0x0300 | max_minor));
#endif
}

int CShimMbedTLS_suite_id(const mbedtls_ssl_ciphersuite_t *info) { return info->id; }

const char *CShimMbedTLS_suite_name(const mbedtls_ssl_ciphersuite_t *info) { return info->name; }

void CShimMbedTLS_suite_version_range(const mbedtls_ssl_ciphersuite_t *info, int *min_minor, int *max_minor) {
#if MBEDTLS_VERSION_MAJOR < 3
    *min_minor = info->min_minor_ver;
    *max_minor = info->max_minor_ver;
#else
    *min_minor = info->min_tls_version & 0xFF;
    *max_minor = info->max_tls_version & 0xFF;
#endif
}

int CShimMbedTLS_suite_uses_psk(const mbedtls_ssl_ciphersuite_t *info) {
#if MBEDTLS_VERSION_MAJOR < 3
    return mbedtls_ssl_ciphersuite_uses_psk(info);
#else
    switch ((mbedtls_key_exchange_type_t)info->key_exchange) {
    case MBEDTLS_KEY_EXCHANGE_PSK:
    case MBEDTLS_KEY_EXCHANGE_DHE_PSK:
    case MBEDTLS_KEY_EXCHANGE_ECDHE_PSK:
    case MBEDTLS_KEY_EXCHANGE_RSA_PSK:
        return 1;
    default:
        return 0;
    }
#endif
}

int CShimMbedTLS_pk_parse_keyfile(mbedtls_pk_context *key, const char *path, mbedtls_ctr_drbg_context *drbg) {
#if MBEDTLS_VERSION_MAJOR < 3
    (void)drbg;
    return mbedtls_pk_parse_keyfile(key, path, NULL);
#else
    return mbedtls_pk_parse_keyfile(key, path, NULL, mbedtls_ctr_drbg_random, drbg);
#endif
}

uint16_t CShimMbedTLS_conf_groups(mbedtls_ssl_config *conf, const uint16_t *iana, mbedtls_ecp_group_id *scratch) {
#if MBEDTLS_VERSION_MAJOR < 3
    size_t count = 0;
    for (; iana[count] != 0; count++) {
        const mbedtls_ecp_curve_info *info = mbedtls_ecp_curve_info_from_tls_id(iana[count]);
        if (info == NULL) {
            return iana[count];
        }
        scratch[count] = info->grp_id;
    }
    scratch[count] = MBEDTLS_ECP_DP_NONE;
    mbedtls_ssl_conf_curves(conf, scratch);
#else
    (void)scratch;
    // Only groups of the default list are known to this build (it has no other way to say).
    for (size_t index = 0; iana[index] != 0; index++) {
        const uint16_t *known = conf->group_list;
        while (known != NULL && *known != 0 && *known != iana[index]) {
            known++;
        }
        if (known == NULL || *known == 0) {
            return iana[index];
        }
    }
    mbedtls_ssl_conf_groups(conf, iana);
#endif
    return 0;
}

const uint16_t *CShimMbedTLS_conf_groups_list(const mbedtls_ssl_config *conf) {
#if MBEDTLS_VERSION_MAJOR < 3
    (void)conf;
    return NULL;
#else
    return conf->group_list;
#endif
}

const uint16_t *CShimMbedTLS_conf_signature_algorithms(const mbedtls_ssl_config *conf) {
#if MBEDTLS_VERSION_MAJOR < 3
    (void)conf;
    return NULL;
#else
    return conf->sig_algs;
#endif
}

int CShimMbedTLS_crypto_init(void) {
#if MBEDTLS_VERSION_MAJOR < 3
    return 0;
#else
    return (int)psa_crypto_init();
#endif
}

void CShimMbedTLS_conf_signal_new_session_tickets(mbedtls_ssl_config *conf) {
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#else
    (void)conf;
#endif
}

void CShimMbedTLS_conf_tls13_key_exchange_modes(mbedtls_ssl_config *conf, int kex_modes) {
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
    mbedtls_ssl_conf_tls13_key_exchange_modes(conf, kex_modes);
#else
    (void)conf; (void)kex_modes;
#endif
}

#if MBEDTLS_VERSION_MAJOR < 3
static int export_master_secret(void *context, const unsigned char *master_secret, const unsigned char *key_block,
                                size_t mac_length, size_t key_length, size_t iv_length,
                                const unsigned char client_random[32], const unsigned char server_random[32],
                                mbedtls_tls_prf_types prf) {
    (void)key_block; (void)mac_length; (void)key_length; (void)iv_length; (void)server_random; (void)prf;
    CShimMbedTLS_key_log *log = context;
    log->line(log->context, "CLIENT_RANDOM", client_random, master_secret, 48);
    return 0;
}
#else
static void export_secret(void *context, mbedtls_ssl_key_export_type type, const unsigned char *secret, size_t length,
                          const unsigned char client_random[32], const unsigned char server_random[32],
                          mbedtls_tls_prf_types prf) {
    (void)server_random; (void)prf;
    const char *label = NULL;
    switch (type) {
    case MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET: label = "CLIENT_RANDOM"; break;
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_EARLY_SECRET: label = "CLIENT_EARLY_TRAFFIC_SECRET"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_HANDSHAKE_TRAFFIC_SECRET: label = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_HANDSHAKE_TRAFFIC_SECRET: label = "SERVER_HANDSHAKE_TRAFFIC_SECRET"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_APPLICATION_TRAFFIC_SECRET: label = "CLIENT_TRAFFIC_SECRET_0"; break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_APPLICATION_TRAFFIC_SECRET: label = "SERVER_TRAFFIC_SECRET_0"; break;
#endif
    default: return;
    }
    CShimMbedTLS_key_log *log = context;
    log->line(log->context, label, client_random, secret, length);
}
#endif

void CShimMbedTLS_conf_key_log(mbedtls_ssl_config *conf, CShimMbedTLS_key_log *log) {
#if MBEDTLS_VERSION_MAJOR < 3
    mbedtls_ssl_conf_export_keys_ext_cb(conf, export_master_secret, log);
#else
    (void)conf; (void)log;
#endif
}

void CShimMbedTLS_ssl_key_log(mbedtls_ssl_context *ssl, CShimMbedTLS_key_log *log) {
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_ssl_set_export_keys_cb(ssl, export_secret, log);
#else
    (void)ssl; (void)log;
#endif
}
