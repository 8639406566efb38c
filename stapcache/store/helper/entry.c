/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared-cache entries: building, signing and checking them (entry.h).
 * Invariant: sc_entry_verify returns SC_ENTRY_OK only when every field was
 * parsed from buf strictly, the inputs hash to the requested key, the meta
 * names that key and module and the module's digest, and a trusted key
 * signed exactly those digests.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "store/helper/entry.h"
#include "common/fsutil.h"

struct sc_builder_key {
	EVP_PKEY *pkey;
	uint8_t pub[SC_ED25519_PUBLEN];
};

static const char *const fields[] = {"entry.format", "key",      "module.name",
				     "inputs",       "meta",     "module",
				     "signer",       "signature"};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

const char *sc_entry_verdict_str(enum sc_entry_verdict v)
{
	switch (v) {
	case SC_ENTRY_OK:
		return "valid";
	case SC_ENTRY_MALFORMED:
		return "malformed";
	case SC_ENTRY_OTHER_KEY:
		return "belongs to another key";
	case SC_ENTRY_DIGEST:
		return "module digest mismatch";
	case SC_ENTRY_UNSIGNED:
		return "unsigned";
	case SC_ENTRY_UNTRUSTED:
		return "signed by an untrusted builder";
	case SC_ENTRY_BAD_SIGNATURE:
		return "bad signature";
	}
	return "?";
}

void sc_entry_clear(struct sc_entry *e)
{
	sc_record_free(e->rec);
	memset(e, 0, sizeof(*e));
}

/* ------------------------------------------------------------ keys */

void sc_builder_key_free(struct sc_builder_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

void sc_builder_key_public(const struct sc_builder_key *k, char *out, size_t n)
{
	char hex[2 * SC_ED25519_PUBLEN + 1];

	sc_hex(hex, k->pub, sizeof(k->pub));
	snprintf(out, n, "ed25519:%s", hex);
}

static int wrap_key(EVP_PKEY *pkey, struct sc_builder_key **out)
{
	struct sc_builder_key *k = calloc(1, sizeof(*k));
	size_t len = SC_ED25519_PUBLEN;

	if (!k)
		return -ENOMEM;
	if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pkey, k->pub, &len) != 1 ||
	    len != SC_ED25519_PUBLEN) {
		free(k);
		return -EINVAL;
	}
	k->pkey = pkey;
	*out = k;
	return 0;
}

int sc_builder_key_load(const char *path, struct sc_builder_key **out,
			struct sc_error *err)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *pkey;
	int r;

	if (!f) {
		r = -errno;
		sc_error_set(err, "cannot read the builder key %s: %s%s", path,
			     strerror(-r),
			     r == -ENOENT ? " (create one with 'stapcache key generate')"
					  : "");
		return r;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey || wrap_key(pkey, out) < 0) {
		EVP_PKEY_free(pkey);
		sc_error_set(err, "%s is not an Ed25519 private key in PEM form", path);
		return -EINVAL;
	}
	return 0;
}

int sc_builder_key_generate(const char *path, struct sc_error *err)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *pkey = NULL;
	char *dir = sc_strdupf("%s", path), *slash;
	FILE *f = NULL;
	int fd = -1, r = 0;

	if (!pc || !dir || EVP_PKEY_keygen_init(pc) != 1 ||
	    EVP_PKEY_keygen(pc, &pkey) != 1) {
		sc_error_set(err, "cannot generate an Ed25519 key");
		r = -EIO;
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)sc_mkdir_p(dir, 0700);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		sc_error_set(err, "cannot create %s: %s%s", path, strerror(-r),
			     r == -EEXIST ? " (a builder key is there already)" : "");
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f || PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fflush(f) != 0 || fsync(fd) < 0) {
		sc_error_set(err, "cannot write %s", path);
		r = -EIO;
	}
	if (f)
		fclose(f);
	else
		close(fd);
	if (r < 0)
		(void)unlink(path);
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pc);
	free(dir);
	return r;
}

/* ------------------------------------------------------------ signing */

static void digest_hex(const void *buf, size_t len, char hex[SC_SHA256_HEXLEN + 1])
{
	uint8_t md[SC_SHA256_LEN];

	sc_sha256(buf, len, md);
	sc_hex(hex, md, sizeof(md));
}

/* What a builder signs: the key and the digests of module, inputs and meta. */
static int signed_message(const char *key_hex, const char *module, size_t module_len,
			  const char *inputs, size_t inputs_len, const char *meta,
			  size_t meta_len, char **out, size_t *out_len)
{
	char m[SC_SHA256_HEXLEN + 1], i[SC_SHA256_HEXLEN + 1], t[SC_SHA256_HEXLEN + 1];
	struct sc_record *rec = sc_record_new();
	int r = rec ? 0 : -ENOMEM;

	digest_hex(module, module_len, m);
	digest_hex(inputs, inputs_len, i);
	digest_hex(meta, meta_len, t);
	r = r ?: sc_record_add_str(rec, "signed", "stapcache-entry 1");
	r = r ?: sc_record_add_str(rec, "key", key_hex);
	r = r ?: sc_record_add_str(rec, "module.sha256", m);
	r = r ?: sc_record_add_str(rec, "inputs.sha256", i);
	r = r ?: sc_record_add_str(rec, "meta.sha256", t);
	r = r ?: sc_record_serialize(rec, out, out_len);
	sc_record_free(rec);
	return r;
}

int sc_entry_build(const char *key_hex, const char *module_name, const char *inputs,
		   size_t inputs_len, const char *meta, size_t meta_len,
		   const char *module, size_t module_len, const struct sc_builder_key *k,
		   char **out, size_t *out_len, struct sc_error *err)
{
	uint8_t sig[SC_ED25519_SIGLEN];
	char sighex[2 * SC_ED25519_SIGLEN + 1], pub[96], *msg = NULL;
	size_t msg_len = 0, sig_len = sizeof(sig);
	struct sc_record *rec = NULL;
	EVP_MD_CTX *mc = NULL;
	int r = signed_message(key_hex, module, module_len, inputs, inputs_len, meta,
			       meta_len, &msg, &msg_len);

	if (r == 0) {
		mc = EVP_MD_CTX_new();
		if (!mc || EVP_DigestSignInit(mc, NULL, NULL, NULL, k->pkey) != 1 ||
		    EVP_DigestSign(mc, sig, &sig_len, (const unsigned char *)msg,
				   msg_len) != 1 ||
		    sig_len != sizeof(sig))
			r = -EIO;
	}
	if (r == 0) {
		sc_hex(sighex, sig, sizeof(sig));
		sc_builder_key_public(k, pub, sizeof(pub));
		rec = sc_record_new();
		r = rec ? 0 : -ENOMEM;
		r = r ?: sc_record_addf(rec, "entry.format", "%d", SC_ENTRY_FORMAT);
		r = r ?: sc_record_add_str(rec, "key", key_hex);
		r = r ?: sc_record_add_str(rec, "module.name", module_name);
		r = r ?: sc_record_add(rec, "inputs", inputs, inputs_len);
		r = r ?: sc_record_add(rec, "meta", meta, meta_len);
		r = r ?: sc_record_add(rec, "module", module, module_len);
		r = r ?: sc_record_add_str(rec, "signer", pub);
		r = r ?: sc_record_add_str(rec, "signature", sighex);
		r = r ?: sc_record_serialize(rec, out, out_len);
	}
	if (r < 0)
		sc_error_set(err, "cannot sign the entry: %s", strerror(-r));
	EVP_MD_CTX_free(mc);
	sc_record_free(rec);
	free(msg);
	return r;
}

/* ------------------------------------------------------------ checking */

static enum sc_entry_verdict fail(struct sc_error *err, enum sc_entry_verdict v,
				  const char *why)
{
	sc_error_set(err, "%s: %s", sc_entry_verdict_str(v), why);
	return v;
}

/* Is pub ("ed25519:HEX") one of the lines of trusted? */
static bool is_trusted(const char *pub, const char *trusted)
{
	size_t pl = strlen(pub);

	for (const char *p = trusted; p && *p;) {
		size_t l = strcspn(p, "\n");
		const char *q = p;

		/* An item may carry a comment after the key: "ed25519:HEX name". */
		if (l >= pl && !strncasecmp(q, pub, pl) &&
		    (l == pl || q[pl] == ' ' || q[pl] == '\t'))
			return true;
		p += l;
		if (*p)
			p++;
	}
	return false;
}

static int unhex(const char *hex, uint8_t *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		/* Lower case only, as written: an entry has one spelling, and
		 * any changed byte is refused (tests/unit/test-entry). */
		if (!hex[2 * i] || !hex[2 * i + 1] ||
		    !strchr("0123456789abcdef", hex[2 * i]) ||
		    !strchr("0123456789abcdef", hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static bool signature_ok(const char *signer, const char *sighex, const char *msg,
			 size_t msg_len)
{
	uint8_t pub[SC_ED25519_PUBLEN], sig[SC_ED25519_SIGLEN];
	EVP_PKEY *pkey;
	EVP_MD_CTX *mc;
	bool ok = false;

	if (strncmp(signer, "ed25519:", 8) || unhex(signer + 8, pub, sizeof(pub)) < 0 ||
	    unhex(sighex, sig, sizeof(sig)) < 0)
		return false;
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, sizeof(pub));
	mc = EVP_MD_CTX_new();
	if (pkey && mc && EVP_DigestVerifyInit(mc, NULL, NULL, NULL, pkey) == 1)
		ok = EVP_DigestVerify(mc, sig, sizeof(sig), (const unsigned char *)msg,
				      msg_len) == 1;
	EVP_MD_CTX_free(mc);
	EVP_PKEY_free(pkey);
	return ok;
}

/* The meta must name this key, this module and the module's digest. */
static enum sc_entry_verdict check_meta(const struct sc_entry *e, const char *key_hex,
					const char *module_name, struct sc_error *err)
{
	char hex[SC_SHA256_HEXLEN + 1];
	struct sc_record *meta = NULL;
	enum sc_entry_verdict v = SC_ENTRY_OK;
	const char *mk, *mm, *ms;

	if (sc_record_parse(e->meta, e->meta_len, &meta, NULL) < 0)
		return fail(err, SC_ENTRY_MALFORMED, "its metadata is not a record");
	mk = sc_record_get(meta, "key");
	mm = sc_record_get(meta, "module");
	ms = sc_record_get(meta, "sha256");
	digest_hex(e->module, e->module_len, hex);
	if (!mk || !mm || !ms)
		v = fail(err, SC_ENTRY_MALFORMED,
			 "its metadata lacks key, module or sha256");
	else if (strcmp(mk, key_hex) || strcmp(mm, module_name))
		v = fail(err, SC_ENTRY_OTHER_KEY,
			 "its metadata names another key or module");
	else if (strcmp(ms, hex))
		v = fail(err, SC_ENTRY_DIGEST,
			 "the module's SHA-256 is not the one recorded");
	sc_record_free(meta);
	return v;
}

enum sc_entry_verdict sc_entry_verify(const char *buf, size_t len, const char *key_hex,
				      const char *module_name, const char *trusted,
				      struct sc_entry *e, struct sc_error *err)
{
	char hex[SC_SHA256_HEXLEN + 1], *msg = NULL;
	const char *sig;
	size_t msg_len = 0, i, n;
	enum sc_entry_verdict v;

	memset(e, 0, sizeof(*e));
	if (len > SC_ENTRY_MAX || sc_record_parse(buf, len, &e->rec, NULL) < 0)
		return fail(err, SC_ENTRY_MALFORMED, "not an entry record");
	/* Exactly the fields, in order; only the signer and signature may be missing. */
	n = sc_record_count(e->rec);
	for (i = 0; i < n && i < N_FIELDS; i++)
		if (strcmp(sc_record_label(e->rec, i), fields[i]))
			break;
	if (i < 6 || i != n || n > N_FIELDS) {
		sc_entry_clear(e);
		return fail(err, SC_ENTRY_MALFORMED,
			    "missing, extra or misplaced fields");
	}
	if (n < N_FIELDS) {
		sc_entry_clear(e);
		return fail(err, SC_ENTRY_UNSIGNED, "no signer or signature");
	}
	if (strcmp(sc_record_value(e->rec, 0, NULL), "1")) {
		sc_entry_clear(e);
		return fail(err, SC_ENTRY_MALFORMED, "unknown entry format");
	}
	e->key = sc_record_value(e->rec, 1, NULL);
	e->module_name = sc_record_value(e->rec, 2, NULL);
	e->inputs = sc_record_value(e->rec, 3, &e->inputs_len);
	e->meta = sc_record_value(e->rec, 4, &e->meta_len);
	e->module = sc_record_value(e->rec, 5, &e->module_len);
	e->signer = sc_record_value(e->rec, 6, NULL);
	sig = sc_record_value(e->rec, 7, NULL);
	digest_hex(e->inputs, e->inputs_len, hex);
	if (strcmp(e->key, key_hex) || strcmp(hex, key_hex) ||
	    strcmp(e->module_name, module_name))
		v = fail(err, SC_ENTRY_OTHER_KEY,
			 "it is stored for another key or module");
	else if ((v = check_meta(e, key_hex, module_name, err)) != SC_ENTRY_OK)
		;
	else if (!is_trusted(e->signer, trusted))
		v = fail(err, SC_ENTRY_UNTRUSTED, e->signer);
	else if (signed_message(key_hex, e->module, e->module_len, e->inputs,
				e->inputs_len, e->meta, e->meta_len, &msg,
				&msg_len) < 0 ||
		 !signature_ok(e->signer, sig, msg, msg_len))
		v = fail(err, SC_ENTRY_BAD_SIGNATURE, e->signer);
	free(msg);
	if (v != SC_ENTRY_OK)
		sc_entry_clear(e);
	return v;
}
