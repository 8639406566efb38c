/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_STORE_HTTP_H
#define SC_STORE_HTTP_H

#include <stddef.h>

#include "common/error.h"

/*
 * The http(s):// back end of store.h (libcurl), for nginx's WebDAV module
 * and anything that speaks GET, PUT, MOVE and DELETE the same way:
 *
 *   GET  BASE/KE/KEY.entry               200: the entry; 404 or 410: absent
 *   PUT  BASE/KE/.KEY.entry.RANDOM.tmp   the upload, under a name no GET asks for
 *   MOVE it to BASE/KE/KEY.entry         (Overwrite: T): whole or absent
 *   DELETE the temporary name when the MOVE fails
 *
 * Every request is bounded by the connect and total timeouts; redirects are
 * not followed (credentials never go to another host); only http and https.
 */
struct sc_http;

/*
 * url is "http(s)://HOST[:PORT]/PREFIX"; auth_file (or NULL) holds one line,
 * "bearer TOKEN" or "basic USER:PASSWORD". Returns 0 and *out, or -errno
 * with err set.
 */
int sc_http_open(const char *url, unsigned connect_ms, unsigned timeout_ms,
		 const char *auth_file, struct sc_http **out, struct sc_error *err);
void sc_http_close(struct sc_http *h);

/* Returns 0 and *buf (caller frees; at most max bytes), -ENOENT, or -errno (err set). */
int sc_http_get(struct sc_http *h, const char *key, size_t max, char **buf, size_t *len,
		struct sc_error *err);
/* Returns 0 or -errno with err set. */
int sc_http_put(struct sc_http *h, const char *key, const char *buf, size_t len,
		struct sc_error *err);

#endif
