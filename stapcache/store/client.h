/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_STORE_CLIENT_H
#define SC_STORE_CLIENT_H

#include "core/context.h"

/*
 * The stapcache side of the shared cache: it runs the stapcache-store helper
 * (which links hiredis, libcurl and OpenSSL's EVP) only on a local miss, so a local
 * hit never loads either. Built from the context's shared-cache settings.
 */
struct sc_shared;

/* NULL when no shared-cache: is configured (or out of memory). */
struct sc_shared *sc_shared_new(const struct sc_ctx *ctx);
void sc_shared_free(struct sc_shared *s);

enum sc_shared_result {
	SC_SHARED_HIT,
	SC_SHARED_MISS,
	SC_SHARED_REJECT,
	SC_SHARED_ERROR
};

/*
 * Look key up; on a hit dir holds MODULE.ko, inputs and meta, verified by
 * the helper. On a miss under a build lease, the lease is held until
 * sc_shared_done. Never fails the request: problems are one warning line.
 */
enum sc_shared_result sc_shared_fetch(struct sc_shared *s, const char *key,
				      const char *module, const char *dir);
/* The same without a lease, for `stapcache verify`: nothing is held afterwards. */
enum sc_shared_result sc_shared_peek(struct sc_shared *s, const char *key,
				     const char *module, const char *dir);
/* Sign and upload the published entry in entry_dir. Returns 0 or -1 (warned). */
int sc_shared_upload(struct sc_shared *s, const char *key, const char *module,
		     const char *entry_dir);
/* Release a lease sc_shared_fetch took (after the upload); a no-op without one. */
void sc_shared_done(struct sc_shared *s);

/* The helper's path: next to this program (the build tree), else pkglibexecdir. */
char *sc_shared_helper_path(void);

#endif
