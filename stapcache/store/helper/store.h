/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_STORE_STORE_H
#define SC_STORE_STORE_H

#include <stddef.h>

#include "common/error.h"

/*
 * One second-level store, named by a URL (config.yaml's shared-cache:):
 *   file:///PATH                        PATH/KE/KEY.entry, published by rename
 *   redis://[USER:PASS@]HOST[:PORT][/DB] stapcache:entry:KEY, lease stapcache:lease:KEY
 *   rediss://...                         the same over verified TLS (redis_tls.h)
 *   http(s)://HOST[:PORT]/PREFIX         PREFIX/KE/KEY.entry: GET, PUT + MOVE (http.h)
 * Every operation is bounded by the connect and transfer timeouts.
 */
struct sc_store;

struct sc_store_opts {
	unsigned connect_ms, timeout_ms;
	const char *auth_file; /* http(s): "bearer TOKEN" or "basic USER:PASS" */
	const char *ca_file;   /* rediss: extra CA certificates (PEM), or NULL */
};

int sc_store_open(const char *url, const struct sc_store_opts *o, struct sc_store **out,
		  struct sc_error *err);
void sc_store_close(struct sc_store *s);
const char *sc_store_url(const struct sc_store *s);

/* Returns 0 and *buf (caller frees), -ENOENT when absent, another -errno (err set). */
int sc_store_get(struct sc_store *s, const char *key, char **buf, size_t *len,
		 struct sc_error *err);
/* Returns 0 or -errno with err set. */
int sc_store_put(struct sc_store *s, const char *key, const char *buf, size_t len,
		 struct sc_error *err);

/*
 * A build lease (Redis; -ENOTSUP elsewhere): acquire returns 1 when this
 * process now holds it (token identifies the holder), 0 when another does.
 * renew returns 1 while still ours. release deletes it only when ours.
 */
int sc_store_lease_acquire(struct sc_store *s, const char *key, const char *token,
			   unsigned ttl_ms, struct sc_error *err);
int sc_store_lease_renew(struct sc_store *s, const char *key, const char *token,
			 unsigned ttl_ms, struct sc_error *err);
void sc_store_lease_release(struct sc_store *s, const char *key, const char *token);

#endif
