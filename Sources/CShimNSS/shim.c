#include "CShimNSS.h"

SECStatus CShimNSS_SSL_KeyUpdate(PRFileDesc *fd, PRBool requestUpdate) {
    return SSL_KeyUpdate(fd, requestUpdate);
}

SECStatus CShimNSS_SSL_SecretCallback(PRFileDesc *fd, SSLSecretCallback cb, void *arg) {
    return SSL_SecretCallback(fd, cb, arg);
}
