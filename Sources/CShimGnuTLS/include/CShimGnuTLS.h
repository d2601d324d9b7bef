// GnuTLS for Swift: the headers the peer uses, plus out-of-line wrappers for the function-like
// macros Swift cannot import.
#ifndef CSHIM_GNUTLS_H
#define CSHIM_GNUTLS_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>

void CShimGnuTLS_gnutls_transport_set_int(gnutls_session_t session, int fd);
void CShimGnuTLS_gnutls_free(void *pointer);
void *CShimGnuTLS_gnutls_malloc(size_t size);

#endif
