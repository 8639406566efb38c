/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared-cache entries (stapcache/store/entry.c): a signed entry verifies;
 * every way of breaking it (unsigned, untrusted, a flipped byte anywhere,
 * another key, truncation, random corruption) is refused, never served.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/helper/entry.h"
#include "common/fsutil.h"
#include "common/record.h"
#include "tests/lib/tap.h"

static char key[SC_SHA256_HEXLEN + 1], module_sha[SC_SHA256_HEXLEN + 1];
static const char module[] = "\177ELF fake module bytes";
static char *inputs, *meta;
static size_t inputs_len, meta_len;

static void make_parts(const char *meta_key)
{
	struct sc_record *in = sc_record_new(), *m = sc_record_new();
	uint8_t md[SC_SHA256_LEN];

	sc_record_add_str(in, "key.format", "3");
	sc_record_add_str(in, "script", "probe begin { exit() }");
	free(inputs);
	free(meta);
	sc_record_serialize(in, &inputs, &inputs_len);
	sc_record_digest(in, md);
	sc_hex(key, md, sizeof(md));
	sc_sha256(module, sizeof(module) - 1, md);
	sc_hex(module_sha, md, sizeof(md));
	sc_record_add_str(m, "key", meta_key ? meta_key : key);
	sc_record_add_str(m, "module", "stap_test");
	sc_record_add_str(m, "sha256", module_sha);
	sc_record_serialize(m, &meta, &meta_len);
	sc_record_free(in);
	sc_record_free(m);
}

static enum sc_entry_verdict check(const char *buf, size_t len, const char *trusted)
{
	struct sc_error err = {{0}};
	struct sc_entry e;
	enum sc_entry_verdict v =
		sc_entry_verify(buf, len, key, "stap_test", trusted, &e, &err);

	if (v == SC_ENTRY_OK)
		sc_entry_clear(&e);
	return v;
}

/* Rebuild buf without its last n fields. */
static char *drop_fields(const char *buf, size_t len, size_t n, size_t *out_len)
{
	struct sc_record *rec = NULL, *cut = sc_record_new();
	char *out = NULL;

	sc_record_parse(buf, len, &rec, NULL);
	for (size_t i = 0; i + n < sc_record_count(rec); i++) {
		size_t l;
		const char *v = sc_record_value(rec, i, &l);

		sc_record_add(cut, sc_record_label(rec, i), v, l);
	}
	sc_record_serialize(cut, &out, out_len);
	sc_record_free(rec);
	sc_record_free(cut);
	return out;
}

int main(void)
{
	char tmpl[] = "/tmp/sc-entry.XXXXXX", *kp, *kp2, *buf = NULL, *other = NULL, *cut;
	char pub[96], pub2[96], trusted[256];
	struct sc_builder_key *k = NULL, *k2 = NULL;
	struct sc_error err = {{0}};
	size_t len = 0, olen = 0, clen = 0;
	unsigned refused = 0, served = 0;

	if (!mkdtemp(tmpl))
		return 1;
	kp = sc_strdupf("%s/builder.key", tmpl);
	kp2 = sc_strdupf("%s/other.key", tmpl);
	tap_ok(sc_builder_key_generate(kp, &err) == 0, "a builder key is generated");
	tap_ok(access(kp, F_OK) == 0 && sc_builder_key_generate(kp, &err) < 0,
	       "an existing key is never overwritten");
	{
		struct stat st;

		tap_ok(stat(kp, &st) == 0 && (st.st_mode & 0777) == 0600,
		       "the key file is 0600");
	}
	tap_ok(sc_builder_key_load(kp, &k, &err) == 0, "it loads");
	sc_builder_key_generate(kp2, &err);
	sc_builder_key_load(kp2, &k2, &err);
	sc_builder_key_public(k, pub, sizeof(pub));
	sc_builder_key_public(k2, pub2, sizeof(pub2));
	tap_ok(!strncmp(pub, "ed25519:", 8) && strlen(pub) == 8 + 64,
	       "its public key is ed25519:HEX");
	snprintf(trusted, sizeof(trusted), "ed25519:%s\n%s alice's laptop\n",
		 "00000000000000000000000000000000000000000000000000000000000000ff", pub);

	make_parts(NULL);
	tap_ok(sc_entry_build(key, "stap_test", inputs, inputs_len, meta, meta_len,
			      module, sizeof(module) - 1, k, &buf, &len, &err) == 0,
	       "an entry is built and signed");
	tap_is_int(check(buf, len, trusted), SC_ENTRY_OK,
		   "a signed entry from a trusted builder verifies");
	tap_is_int(check(buf, len, NULL), SC_ENTRY_UNTRUSTED,
		   "no trusted builders: refused");
	tap_is_int(check(buf, len, pub2), SC_ENTRY_UNTRUSTED,
		   "another builder's key: refused");
	{
		struct sc_entry e;

		tap_is_int(sc_entry_verify(buf, len, key, "stap_other", trusted, &e,
					   &err),
			   SC_ENTRY_OTHER_KEY, "asked for another module name: refused");
		char wrong[SC_SHA256_HEXLEN + 1];

		memcpy(wrong, key, sizeof(wrong));
		wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
		tap_is_int(sc_entry_verify(buf, len, wrong, "stap_test", trusted, &e,
					   &err),
			   SC_ENTRY_OTHER_KEY,
			   "an entry copied under another key: refused");
	}
	cut = drop_fields(buf, len, 2, &clen);
	tap_is_int(check(cut, clen, trusted), SC_ENTRY_UNSIGNED,
		   "an unsigned entry: refused");
	free(cut);
	cut = drop_fields(buf, len, 1, &clen);
	tap_is_int(check(cut, clen, trusted), SC_ENTRY_UNSIGNED,
		   "a signer without signature: refused");
	free(cut);
	cut = drop_fields(buf, len, 7, &clen);
	tap_is_int(check(cut, clen, trusted), SC_ENTRY_MALFORMED,
		   "a truncated record: refused");
	free(cut);

	/* Signed by an untrusted key over the same content. */
	tap_ok(sc_entry_build(key, "stap_test", inputs, inputs_len, meta, meta_len,
			      module, sizeof(module) - 1, k2, &other, &olen, &err) == 0 &&
		       check(other, olen, trusted) == SC_ENTRY_UNTRUSTED,
	       "signed by an untrusted builder: refused");
	free(other);
	/* A meta that names another key, signed by a trusted builder. */
	{
		char fake[SC_SHA256_HEXLEN + 1];

		memset(fake, 'c', SC_SHA256_HEXLEN);
		fake[SC_SHA256_HEXLEN] = '\0';
		make_parts(fake);
		sc_entry_build(key, "stap_test", inputs, inputs_len, meta, meta_len,
			       module, sizeof(module) - 1, k, &other, &olen, &err);
		tap_is_int(check(other, olen, trusted), SC_ENTRY_OTHER_KEY,
			   "a meta naming another key: refused");
		free(other);
		make_parts(NULL);
	}

	/* Every single flipped byte, and every truncation. */
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		if (check(buf, len, trusted) == SC_ENTRY_OK)
			served++;
		else
			refused++;
		buf[i] ^= 0x01;
	}
	tap_ok(served == 0, "each of %zu one-bit flips is refused (%u served)", len,
	       served);
	served = 0;
	for (size_t n = 0; n < len; n++)
		if (check(buf, n, trusted) == SC_ENTRY_OK)
			served++;
	tap_ok(served == 0, "every truncation is refused (%u served)", served);
	srand(10);
	served = 0;
	for (int t = 0; t < 2000; t++) {
		char *copy = malloc(len);

		memcpy(copy, buf, len);
		for (int j = 0; j < 1 + rand() % 8; j++)
			copy[rand() % len] = (char)rand();
		if (memcmp(copy, buf, len) && check(copy, len, trusted) == SC_ENTRY_OK) {
			served++;
			for (size_t q = 0; q < len; q++)
				if (copy[q] != buf[q])
					fprintf(stderr,
						"# served: byte %zu 0x%02x -> 0x%02x near [%.40s]\n",
						q, (unsigned char)buf[q],
						(unsigned char)copy[q],
						buf + (q > 20 ? q - 20 : 0));
		}
		free(copy);
	}
	tap_ok(served == 0, "2000 random corruptions are refused (%u served)", served);
	tap_is_int(check(buf, len, trusted), SC_ENTRY_OK, "the original still verifies");

	sc_builder_key_free(k);
	sc_builder_key_free(k2);
	free(buf);
	free(inputs);
	free(meta);
	free(kp);
	free(kp2);
	(void)sc_rm_rf(tmpl);
	(void)refused;
	return tap_done();
}
