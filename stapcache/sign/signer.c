/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A signer's name from its certificate file, without libcrypto's X.509 code
 * (signer.h): PEM is base64 between two lines, DER is checked to be one
 * whole SEQUENCE. Everything else about the certificate is the helper's.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/modsign.h"
#include "sign/signer.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

/* One DER SEQUENCE filling buf exactly (definite length, at most 4 length bytes). */
static bool der_whole_sequence(const uint8_t *b, size_t len)
{
	size_t hdr = 2, body;

	if (len < 2 || b[0] != 0x30)
		return false;
	if (b[1] < 0x80) {
		body = b[1];
	} else {
		size_t n = b[1] & 0x7f;

		if (n == 0 || n > 4 || len < 2 + n || b[2] == 0)
			return false;
		body = 0;
		for (size_t i = 0; i < n; i++)
			body = body << 8 | b[2 + i];
		if (body < 0x80)
			return false; /* DER uses the short form for these */
		hdr += n;
	}
	return body == len - hdr;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* base64 between p and end (whitespace skipped, '=' padding at the end only). */
static int b64_decode(const char *p, const char *end, uint8_t **out, size_t *out_len)
{
	uint8_t *o = malloc((size_t)(end - p) / 4 * 3 + 3);
	uint32_t acc = 0;
	size_t n = 0, bits = 0, pad = 0;

	if (!o)
		return -ENOMEM;
	for (; p < end; p++) {
		int v;

		if (strchr(" \t\r\n", *p))
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		v = b64val((unsigned char)*p);
		if (v < 0 || pad) {
			free(o);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (pad > 2 || (bits == 6)) {
		free(o);
		return -EINVAL;
	}
	*out = o;
	*out_len = n;
	return 0;
}

int sc_signer_cert_der(const void *buf, size_t len, uint8_t **der, size_t *der_len)
{
	const char *text = buf, *b, *e;
	uint8_t *d = NULL;
	size_t dl = 0;
	int r;

	b = len >= sizeof(PEM_BEGIN) - 1
		    ? memmem(text, len, PEM_BEGIN, sizeof(PEM_BEGIN) - 1)
		    : NULL;
	if (!b) {
		if (!der_whole_sequence(buf, len))
			return -EINVAL;
		d = malloc(len);
		if (!d)
			return -ENOMEM;
		memcpy(d, buf, len);
		*der = d;
		*der_len = len;
		return 0;
	}
	b += sizeof(PEM_BEGIN) - 1;
	e = memmem(b, len - (size_t)(b - text), PEM_END, sizeof(PEM_END) - 1);
	if (!e)
		return -EINVAL;
	r = b64_decode(b, e, &d, &dl);
	if (r == 0 && !der_whole_sequence(d, dl))
		r = -EINVAL;
	if (r < 0) {
		free(d);
		return r;
	}
	*der = d;
	*der_len = dl;
	return 0;
}

void sc_signer_short(const char *fp, char out[SC_SIGNER_SHORT_LEN + 1])
{
	snprintf(out, SC_SIGNER_SHORT_LEN + 1, "%s", fp);
}

bool sc_signer_fp_ok(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != SC_SIGNER_FP_LEN)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* Where the certificate is when only key names it (signer.h). */
static char *cert_path_of(const char *key, bool *is_dir)
{
	struct stat st;
	char *p;

	*is_dir = stat(key, &st) == 0 && S_ISDIR(st.st_mode);
	if (!*is_dir)
		return sc_strdupf("%s", key);
	p = sc_strdupf("%s/%s", key, SC_MODSIGN_CERT_DER_FILE);
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return sc_strdupf("%s/%s", key, SC_MODSIGN_CERT_PEM_FILE);
}

int sc_signer_open(const char *key, const char *cert, struct sc_signer *s,
		   struct sc_error *err)
{
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1], *buf = NULL;
	bool is_dir = false;
	size_t len = 0;
	int r;

	memset(s, 0, sizeof(*s));
	if (!cert && access(key, F_OK) < 0) {
		r = -errno;
		sc_error_set(err,
			     "no module-signing key %s: %s (stapcache signing-key generate "
			     "makes one)",
			     key, strerror(errno));
		return r;
	}
	s->key = sc_strdupf("%s", key);
	s->cert_given = cert != NULL;
	s->cert = cert ? sc_strdupf("%s", cert) : cert_path_of(key, &is_dir);
	r = sc_read_file(s->cert, SC_MODSIGN_FILE_MAX, &buf, &len);
	if (r < 0) {
		sc_error_set(err, "cannot read the certificate %s: %s", s->cert,
			     strerror(-r));
		goto fail;
	}
	r = sc_signer_cert_der(buf, len, &s->der, &s->der_len);
	if (r == -EINVAL)
		sc_error_set(err, "%s holds no X.509 certificate%s", s->cert,
			     !cert && !is_dir
				     ? " (a PEM key without its certificate: give "
				       "the certificate with --sign-cert CERT, or "
				       "signing-cert: in config.yaml)"
				     : " (PEM or DER)");
	else if (r < 0)
		sc_error_set(err, "%s: %s", s->cert, strerror(-r));
	if (r < 0)
		goto fail;
	sc_sha256(s->der, s->der_len, md);
	sc_hex(hex, md, sizeof(md));
	snprintf(s->fp, sizeof(s->fp), "sha256:%s", hex);
	free(buf);
	return 0;
fail:
	free(buf);
	sc_signer_clear(s);
	return r;
}

void sc_signer_clear(struct sc_signer *s)
{
	free(s->key);
	free(s->cert);
	free(s->der);
	memset(s, 0, sizeof(*s));
}
