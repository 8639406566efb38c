/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_DIGEST_H
#define SC_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define SC_SHA256_LEN 32
#define SC_SHA256_HEXLEN 64

/*
 * SHA-256 through libcrypto's plain digest functions: no provider or
 * configuration loading (OPENSSL_CONF is never read), which keeps a cache hit
 * fast and keeps the setuid runner's environment out of the picture.
 */
struct sc_sha256;

/* Returns a new context, or NULL when out of memory. Free with sc_sha256_free(). */
struct sc_sha256 *sc_sha256_new(void);
void sc_sha256_free(struct sc_sha256 *ctx);
void sc_sha256_update(struct sc_sha256 *ctx, const void *data, size_t len);
/* Writes the digest to out; the context may not be updated afterwards. */
void sc_sha256_final(struct sc_sha256 *ctx, uint8_t out[SC_SHA256_LEN]);

/* One-shot digest of a buffer. */
void sc_sha256(const void *data, size_t len, uint8_t out[SC_SHA256_LEN]);

/*
 * Read fd from its offset to EOF into memory once (at most max bytes) and
 * hash exactly those bytes: what is checked afterwards is what was hashed.
 * Returns 0 with *buf (NUL-terminated; caller frees), *len and md, -EFBIG
 * when the file holds more than max bytes, or another -errno.
 */
int sc_read_fd_sha256(int fd, size_t max, char **buf, size_t *len,
		      uint8_t md[SC_SHA256_LEN]);

/*
 * The SHA-256 of what fd reads from its offset to EOF, in pieces (nothing
 * kept in memory), as hex. Returns 0 or -errno.
 */
int sc_sha256_fd(int fd, char hex[SC_SHA256_HEXLEN + 1]);

/*
 * The one file-digest helper: the SHA-256 of the regular file at path, as
 * hex. Returns 0, -EINVAL when path is not a regular file (nothing is read
 * from a FIFO or a device), or another -errno.
 */
int sc_sha256_file(const char *path, char hex[SC_SHA256_HEXLEN + 1]);

/* Lower-case hex of len bytes into out, which must hold 2 * len + 1 bytes. */
void sc_hex(char *out, const uint8_t *in, size_t len);

/*
 * Parse exactly 64 hex digits (either case) into out.
 * Returns 0, or -EINVAL when hex is not 64 hex digits.
 */
int sc_unhex_sha256(const char *hex, size_t len, uint8_t out[SC_SHA256_LEN]);

/* The value of one hex digit (either case), or -1. */
int sc_hexval(int c);

#endif
