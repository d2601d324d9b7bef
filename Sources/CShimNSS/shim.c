#include "CShimNSS.h"

SECStatus CShimNSS_SSL_KeyUpdate(PRFileDesc *fd, PRBool requestUpdate) {
    return SSL_KeyUpdate(fd, requestUpdate);
}

SECStatus CShimNSS_SSL_SecretCallback(PRFileDesc *fd, SSLSecretCallback cb, void *arg) {
    return SSL_SecretCallback(fd, cb, arg);
}

SECStatus CShimNSS_SSL_AddExternalPsk(PRFileDesc *fd, PK11SymKey *psk, const PRUint8 *identity,
                                      unsigned int identityLen, SSLHashType hash) {
    return SSL_AddExternalPsk(fd, psk, identity, identityLen, hash);
}

CERTCertificateList *CShimNSS_certificate_list(CERTCertificate *const *certificates, int count) {
    PLArenaPool *arena = PORT_NewArena(2048);
    if (arena == NULL) {
        return NULL;
    }
    CERTCertificateList *list = PORT_ArenaZNew(arena, CERTCertificateList);
    SECItem *items = list == NULL ? NULL : PORT_ArenaZNewArray(arena, SECItem, count > 0 ? count : 1);
    if (items == NULL) {
        PORT_FreeArena(arena, PR_FALSE);
        return NULL;
    }
    for (int index = 0; index < count; index++) {
        if (SECITEM_CopyItem(arena, &items[index], &certificates[index]->derCert) != SECSuccess) {
            PORT_FreeArena(arena, PR_FALSE);
            return NULL;
        }
    }
    list->certs = items;
    list->len = count;
    list->arena = arena;
    return list;
}

CERTCertificate *CShimNSS_first_unpresented(CERTCertList *built, CERTCertList *presented) {
    if (built == NULL || CERT_LIST_EMPTY(built)) {
        return NULL;
    }
    for (CERTCertListNode *node = CERT_LIST_NEXT(CERT_LIST_HEAD(built)); !CERT_LIST_END(node, built); node = CERT_LIST_NEXT(node)) {
        if (node->cert->isRoot) {
            continue;
        }
        PRBool found = PR_FALSE;
        if (presented != NULL) {
            for (CERTCertListNode *sent = CERT_LIST_HEAD(presented); !CERT_LIST_END(sent, presented); sent = CERT_LIST_NEXT(sent)) {
                if (SECITEM_ItemsAreEqual(&sent->cert->derCert, &node->cert->derCert)) {
                    found = PR_TRUE;
                    break;
                }
            }
        }
        if (!found) {
            return node->cert;
        }
    }
    return NULL;
}
