/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A host's module-signature facts (hostfacts.h). The EFI signature list
 * reader takes its bytes from another machine: every size is checked against
 * what is left before it is used, and the lists must fill the variable
 * exactly.
 */
#include "build-config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "remote/hostfacts.h"
#include "sign/signer.h"

/* One key=value a line, keys "sig.*"; the variables as one line of hex. */
const char sc_hostfacts_script[] =
	"v=$(cat /sys/kernel/security/lockdown 2>/dev/null); v=${v#*\\[}; v=${v%%]*}; "
	"echo \"sig.lockdown=$v\"; "
	"echo \"sig.enforce=$(cat /sys/module/module/parameters/sig_enforce 2>/dev/null)\"; "
	"e=/sys/firmware/efi; "
	"if [ ! -d $e ]; then echo sig.secureboot=no-efi; else "
	"set -- $(head -c 5 $e/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c "
	"2>/dev/null | od -An -tu1); echo \"sig.secureboot=${5:-}\"; fi; "
	"for v in db-d719b2cb-3d3a-4596-a3bc-dad00e67656f "
	"MokListRT-605dab50-e046-4300-abe6-3dd6db7f8a6b; do f=$e/efivars/$v; "
	"[ -r $f ] || continue; printf 'sig.%s=' \"${v%%-*}\"; "
	"head -c 262144 $f | od -An -v -tx1 | tr -d ' \\n'; echo; done";

/* EFI_CERT_X509_GUID a5c059a1-94e4-4aa7-87b5-ab155c2bf072, as it is stored. */
static const uint8_t x509_guid[16] = {0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
				      0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int sc_efi_certs(const uint8_t *buf, size_t len,
		 void (*fn)(void *arg, const uint8_t *der, size_t n), void *arg)
{
	size_t off = 4, count = 0;

	if (len < 4)
		return -EBADMSG;
	while (off < len) {
		const uint8_t *l = buf + off;
		size_t left = len - off, list, hdr, sig, body;

		/* GUID, SignatureListSize, SignatureHeaderSize, SignatureSize */
		if (left < 28)
			return -EBADMSG;
		list = le32(l + 16);
		hdr = le32(l + 20);
		sig = le32(l + 24);
		if (list < 28 || list > left || hdr > list - 28)
			return -EBADMSG;
		body = list - 28 - hdr;
		if (body && (sig <= 16 || body % sig))
			return -EBADMSG;
		if (!memcmp(l, x509_guid, 16))
			for (size_t s = 0; s < body; s += sig) {
				/* SignatureOwner (a GUID), then the certificate */
				fn(arg, l + 28 + hdr + s + 16, sig - 16);
				count++;
			}
		off += list;
	}
	return count > (size_t)INT32_MAX ? -EBADMSG : (int)count;
}

/* The DER length of the SEQUENCE at b (0: not one, or longer than n). */
static size_t der_length(const uint8_t *b, size_t n)
{
	size_t body = 0, k;

	if (n < 2 || b[0] != 0x30)
		return 0;
	if (b[1] < 0x80)
		return 2u + b[1] <= n ? 2u + b[1] : 0;
	k = b[1] & 0x7f;
	if (k == 0 || k > 4 || n < 2 + k)
		return 0;
	for (size_t i = 0; i < k; i++)
		body = body << 8 | b[2 + i];
	return body <= n - 2 - k ? 2 + k + body : 0;
}

/* Collecting certificates' names into a target. */
struct collect {
	struct sc_target *t;
	int r;
};

static void add_cert(void *arg, const uint8_t *der, size_t n)
{
	struct collect *c = arg;
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1], **nv;
	size_t dl = der_length(der, n);

	if (c->r < 0 || dl == 0)
		return;         /* not a certificate: not a signer anyone can name */
	sc_sha256(der, dl, md); /* a signature list may pad an entry */
	sc_hex(hex, md, sizeof(md));
	for (size_t i = 0; i < c->t->nsigners; i++)
		if (!strcmp(c->t->signers[i] + 7, hex))
			return;
	nv = realloc(c->t->signers, (c->t->nsigners + 1) * sizeof(*nv));
	if (!nv) {
		c->r = -ENOMEM;
		return;
	}
	c->t->signers = nv;
	nv[c->t->nsigners++] = sc_strdupf("sha256:%s", hex);
}

/* A line's value for key ("sig.KEY=VALUE"): a pointer into out and its length. */
static const char *value_of(const char *out, const char *key, size_t *n)
{
	size_t k = strlen(key);

	for (const char *l = out; l && *l;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == '=') {
			const char *v = l + k + 1, *e = strchr(v, '\n');

			*n = e ? (size_t)(e - v) : strlen(v);
			return v;
		}
	return NULL;
}

/* One variable's hex into *buf. Returns 0, -ENOENT (not there) or -EBADMSG. */
static int unhex_var(const char *out, const char *key, uint8_t **buf, size_t *len)
{
	size_t n = 0;
	const char *v = value_of(out, key, &n);
	uint8_t *b;

	if (!v)
		return -ENOENT;
	if (n % 2 || n / 2 > SC_EFIVAR_MAX)
		return -EBADMSG;
	b = malloc(n / 2 + 1);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = sc_hexval((unsigned char)v[2 * i]),
		    lo = sc_hexval((unsigned char)v[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -EBADMSG;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*buf = b;
	*len = n / 2;
	return 0;
}

/* The fact for key, mapped through from[] to to[] (NULL: unknown). */
static char *fact(const char *out, const char *key, const char *const *from,
		  const char *const *to)
{
	size_t n = 0;
	const char *v = value_of(out, key, &n);

	for (size_t i = 0; v && from[i]; i++)
		if (strlen(from[i]) == n && !strncmp(v, from[i], n))
			return sc_strdupf("%s", to[i]);
	return NULL;
}

static void clear_signers(struct sc_target *t)
{
	for (size_t i = 0; i < t->nsigners; i++)
		free(t->signers[i]);
	free(t->signers);
	t->signers = NULL;
	t->nsigners = 0;
}

int sc_hostfacts_apply(const char *out, struct sc_target *t)
{
	static const char *const lock[] = {"none", "integrity", "confidentiality", NULL};
	static const char *const yn_from[] = {"Y", "N", "1", "0", NULL};
	static const char *const yn_to[] = {"yes", "no", "yes", "no"};
	static const char *const sb_from[] = {"1", "0", "no-efi", NULL};
	static const char *const sb_to[] = {"on", "off", "off"};
	static const char *const vars[] = {"sig.db", "sig.MokListRT"};
	struct collect c = {.t = t, .r = 0};

	free(t->lockdown);
	free(t->sig_enforce);
	free(t->secure_boot);
	clear_signers(t);
	t->lockdown = fact(out, "sig.lockdown", lock, lock);
	t->sig_enforce = fact(out, "sig.enforce", yn_from, yn_to);
	t->secure_boot = fact(out, "sig.secureboot", sb_from, sb_to);
	for (size_t i = 0; i < 2 && c.r == 0; i++) {
		uint8_t *b = NULL;
		size_t len = 0;
		int r = unhex_var(out, vars[i], &b, &len);

		if (r == -ENOENT && i == 0)
			return 0; /* no db read: whom it trusts is not known */
		if (r == -ENOENT)
			continue;
		if (r == 0 && !t->signers) {
			t->signers = calloc(1, sizeof(*t->signers));
			if (!t->signers)
				r = -ENOMEM;
		}
		if (r == 0)
			r = sc_efi_certs(b, len, add_cert, &c);
		free(b);
		if (r < 0)
			c.r = r;
	}
	if (c.r < 0)
		clear_signers(t);
	return c.r < 0 ? c.r : 0;
}
