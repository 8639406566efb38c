/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What common/modsign.c and common/modsign-key.c share; not for other files. */
#ifndef SC_MODSIGN_PRIV_H
#define SC_MODSIGN_PRIV_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"

struct sc_modsign_cert {
	X509 *x509;
};

struct sc_modsign_key {
	EVP_PKEY *pkey;
	struct sc_modsign_cert cert;
};

/* Put libcrypto's reason for its latest failure after the message, empty its
 * error queue, and return r. */
int sc_modsign_crypto_fail(struct sc_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
