#include "CShimGnuTLS.h"

void CShimGnuTLS_gnutls_transport_set_int(gnutls_session_t session, int fd) {
    gnutls_transport_set_int(session, fd);
}

// gnutls_free is a function pointer variable whose value the library may replace at init time.
void CShimGnuTLS_gnutls_free(void *pointer) {
    gnutls_free(pointer);
}

// gnutls_malloc is such a variable too; a session cache hands GnuTLS memory it will free.
void *CShimGnuTLS_gnutls_malloc(size_t size) {
    return gnutls_malloc(size);
}
