#include "CShimMbedTLS.h"

int CShimMbedTLS_handshake_ecdh_group(const mbedtls_ssl_context *ssl) {
    if (ssl == NULL || ssl->handshake == NULL) {
        return MBEDTLS_ECP_DP_NONE;
    }
#if defined(MBEDTLS_ECDH_C)
#if defined(MBEDTLS_ECDH_LEGACY_CONTEXT)
    return (int)ssl->handshake->ecdh_ctx.grp.id;
#else
    return (int)ssl->handshake->ecdh_ctx.grp_id;
#endif
#else
    return MBEDTLS_ECP_DP_NONE;
#endif
}
