// wolfSSL 5.5.4 (Debian libwolfssl-dev) for Swift. options.h comes first: it records how Debian
// configured the library (OPENSSL_ALL, WOLFSSL_TLS13, HAVE_SNI, HAVE_ALPN, HAVE_SESSION_TICKET, …),
// and every other header reads those switches. wolfSSL exposes plain functions for everything the
// peer uses, so this shim wraps nothing.
#ifndef CSHIM_WOLFSSL_H
#define CSHIM_WOLFSSL_H

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/dh.h>

#endif
