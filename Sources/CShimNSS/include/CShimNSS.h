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

#endif
