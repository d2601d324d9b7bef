#include "CShimOpenSSL.h"

int CShimOpenSSL_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

int CShimOpenSSL_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

long CShimOpenSSL_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

int CShimOpenSSL_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

int CShimOpenSSL_SSL_CTX_set_dh_auto(SSL_CTX *ctx, int onoff) {
    return (int)SSL_CTX_set_dh_auto(ctx, onoff);
}

int CShimOpenSSL_SSL_CTX_set1_sigalgs_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_sigalgs_list(ctx, list);
}

int CShimOpenSSL_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

int CShimOpenSSL_SSL_get_negotiated_group(SSL *ssl) {
    return (int)SSL_get_negotiated_group(ssl);
}

int CShimOpenSSL_SSL_get_peer_tmp_key(SSL *ssl, EVP_PKEY **key) {
    return (int)SSL_get_peer_tmp_key(ssl, key);
}

int CShimOpenSSL_SSL_get_tmp_key(SSL *ssl, EVP_PKEY **key) {
    return (int)SSL_get_tmp_key(ssl, key);
}

int CShimOpenSSL_SSL_get_peer_signature_type_nid(const SSL *ssl, int *nid) {
    return (int)SSL_get_peer_signature_type_nid(ssl, nid);
}

int CShimOpenSSL_SSL_get_peer_signature_nid(SSL *ssl, int *nid) {
    return (int)SSL_get_peer_signature_nid(ssl, nid);
}

int CShimOpenSSL_SSL_get_signature_nid(SSL *ssl, int *nid) {
    return (int)SSL_get_signature_nid(ssl, nid);
}

long CShimOpenSSL_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *)) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, callback);
}
