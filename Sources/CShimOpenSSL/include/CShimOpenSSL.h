// OpenSSL for Swift: the headers the peer uses, plus out-of-line wrappers for the function-like
// macros Swift cannot import. Each wrapper is named after the macro it wraps and does nothing else.
#ifndef CSHIM_OPENSSL_H
#define CSHIM_OPENSSL_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/crypto.h>

int CShimOpenSSL_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
int CShimOpenSSL_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long CShimOpenSSL_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
int CShimOpenSSL_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list);
int CShimOpenSSL_SSL_CTX_set_dh_auto(SSL_CTX *ctx, int onoff);
int CShimOpenSSL_SSL_CTX_set1_sigalgs_list(SSL_CTX *ctx, const char *list);
int CShimOpenSSL_SSL_set_tlsext_host_name(SSL *ssl, const char *name);
int CShimOpenSSL_SSL_get_negotiated_group(SSL *ssl);
int CShimOpenSSL_SSL_get_peer_tmp_key(SSL *ssl, EVP_PKEY **key);
int CShimOpenSSL_SSL_get_tmp_key(SSL *ssl, EVP_PKEY **key);
int CShimOpenSSL_SSL_get_peer_signature_type_nid(const SSL *ssl, int *nid);
int CShimOpenSSL_SSL_get_peer_signature_nid(SSL *ssl, int *nid);
int CShimOpenSSL_SSL_get_signature_nid(SSL *ssl, int *nid);
long CShimOpenSSL_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *));

/// XN_FLAG_RFC2253 is an OR of other macros, which Swift does not import.
static const unsigned long CShimOpenSSL_XN_FLAG_RFC2253 = XN_FLAG_RFC2253;
/// SSL_OP_NO_TICKET is SSL_OP_BIT(14), a function-like macro.
static const uint64_t CShimOpenSSL_SSL_OP_NO_TICKET = SSL_OP_NO_TICKET;

#endif
