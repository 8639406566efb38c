/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_STORE_REDIS_TLS_H
#define SC_STORE_REDIS_TLS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "common/error.h"

/*
 * The rediss:// transport of store.c: the Redis protocol over an OpenSSL TLS
 * connection (Debian's hiredis 0.14 has no TLS). Commands are formatted by
 * hiredis (redisFormatCommand) and replies parsed by its redisReader, so
 * store.c sends the same commands over either transport.
 *
 * The server's certificate is always verified, against the system CA store
 * (OpenSSL's default paths, which honour SSL_CERT_FILE and SSL_CERT_DIR) and
 * ca_file when not NULL, and must name host (DNS name or IP address).
 */
struct sc_rtls;

/* Returns 0 and *out, or -errno with err set. */
int sc_rtls_open(const char *host, unsigned port, const char *ca_file,
		 unsigned connect_ms, unsigned timeout_ms, struct sc_rtls **out,
		 struct sc_error *err);
void sc_rtls_close(struct sc_rtls *t);

/*
 * Sends one formatted command and returns its reply (freeReplyObject), or
 * NULL with err set; after a failure the connection is unusable.
 */
redisReply *sc_rtls_command(struct sc_rtls *t, const char *cmd, size_t len,
			    struct sc_error *err);

#endif
