/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "common/digest.h"
#include "common/fsutil.h"

struct sc_sha256 {
	SHA256_CTX ctx;
};

struct sc_sha256 *sc_sha256_new(void)
{
	struct sc_sha256 *c = malloc(sizeof(*c));

	if (c)
		SHA256_Init(&c->ctx);
	return c;
}

void sc_sha256_free(struct sc_sha256 *ctx)
{
	free(ctx);
}

void sc_sha256_update(struct sc_sha256 *ctx, const void *data, size_t len)
{
	SHA256_Update(&ctx->ctx, data, len);
}

void sc_sha256_final(struct sc_sha256 *ctx, uint8_t out[SC_SHA256_LEN])
{
	SHA256_Final(out, &ctx->ctx);
}

void sc_sha256(const void *data, size_t len, uint8_t out[SC_SHA256_LEN])
{
	SHA256_CTX ctx;

	/* Not SHA256(): in OpenSSL 3 it goes through EVP and loads providers. */
	SHA256_Init(&ctx);
	SHA256_Update(&ctx, data, len);
	SHA256_Final(out, &ctx);
}

int sc_read_fd_sha256(int fd, size_t max, char **buf, size_t *len,
		      uint8_t md[SC_SHA256_LEN])
{
	char *b = NULL;
	size_t n = 0;
	int r = sc_read_fd(fd, max, &b, &n);

	if (r < 0)
		return r;
	sc_sha256(b, n, md);
	*buf = b;
	*len = n;
	return 0;
}

int sc_sha256_fd(int fd, char hex[SC_SHA256_HEXLEN + 1])
{
	uint8_t md[SC_SHA256_LEN], buf[65536];
	struct sc_sha256 *h = sc_sha256_new();
	ssize_t got;
	int r = 0;

	if (!h)
		return -ENOMEM;
	while ((got = read(fd, buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		sc_sha256_update(h, buf, (size_t)got);
	}
	sc_sha256_final(h, md);
	sc_sha256_free(h);
	if (r == 0)
		sc_hex(hex, md, sizeof(md));
	return r;
}

int sc_sha256_file(const char *path, char hex[SC_SHA256_HEXLEN + 1])
{
	/* O_NONBLOCK: a FIFO's open must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), r;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else
		r = sc_sha256_fd(fd, hex);
	close(fd);
	return r;
}

void sc_hex(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int sc_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sc_unhex_sha256(const char *hex, size_t len, uint8_t out[SC_SHA256_LEN])
{
	size_t i;

	if (len != SC_SHA256_HEXLEN)
		return -EINVAL;
	for (i = 0; i < SC_SHA256_LEN; i++) {
		int hi = sc_hexval((unsigned char)hex[2 * i]),
		    lo = sc_hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
