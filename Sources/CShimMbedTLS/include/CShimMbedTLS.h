// Mbed TLS 2.28 for Swift: the headers the peer uses. Mbed TLS exposes plain functions and integer
// macros, which Swift imports as they are; ssl_internal.h is included because 2.28 keeps the
// negotiated key-exchange group only in the handshake parameters it declares.
#ifndef CSHIM_MBEDTLS_H
#define CSHIM_MBEDTLS_H

#include <mbedtls/config.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include <mbedtls/error.h>
#include <mbedtls/version.h>
#include <mbedtls/ecp.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/md.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>

/// The group of the ECDHE key exchange in progress, read from the handshake parameters
/// (MBEDTLS_ECP_DP_NONE when there is none). 2.28 has no public getter for it.
int CShimMbedTLS_handshake_ecdh_group(const mbedtls_ssl_context *ssl);

#endif
