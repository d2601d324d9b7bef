#ifndef CSHIM_NSS_H
#define CSHIM_NSS_H

// NSS and NSPR as the NSS peer uses them. Debian installs the headers under /usr/include/nss and
// /usr/include/nspr (pkg-config nss); Package.swift adds both to the search path.
#include <nspr.h>
#include <private/pprio.h>
#include <nss.h>
#include <cert.h>
#include <certt.h>
#include <certdb.h>
#include <keyhi.h>
#include <pk11pub.h>
#include <secerr.h>
#include <ssl.h>
#include <sslerr.h>
#include <sslexp.h>
#include <sslproto.h>

// sslexp.h's experimental calls are function-like macros over SSL_GetExperimentalAPI, which Swift
// cannot import; each wrapper is named after the macro it wraps.
SECStatus CShimNSS_SSL_KeyUpdate(PRFileDesc *fd, PRBool requestUpdate);
SECStatus CShimNSS_SSL_SecretCallback(PRFileDesc *fd, SSLSecretCallback cb, void *arg);
SECStatus CShimNSS_SSL_AddExternalPsk(PRFileDesc *fd, PK11SymKey *psk, const PRUint8 *identity,
                                      unsigned int identityLen, SSLHashType hash);

// A peer serves many cells in one process, and NSS keeps certificates it has seen in its temporary
// store, where its chain building finds them. These keep each cell to its own certificates.

/// The chain a server sends, exactly `certificates` (leaf first), for SSLExtraServerCertData:
/// without one, NSS builds it from its store, which may hold another cell's intermediate.
/// Freed with CERT_DestroyCertificateList.
CERTCertificateList *CShimNSS_certificate_list(CERTCertificate *const *certificates, int count);

/// The first certificate of `built` (a chain NSS built, leaf first; CERT_LIST_* are macros) after
/// the leaf that is neither self-signed (a trust anchor) nor among `presented` (what the peer sent
/// in this handshake), or NULL.
CERTCertificate *CShimNSS_first_unpresented(CERTCertList *built, CERTCertList *presented);

#endif
