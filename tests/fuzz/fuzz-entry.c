/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shared-cache entry reader (stapcache/store/entry.c): sc_entry_verify
 * on arbitrary bytes, which is what a store can send. Checked twice: for a
 * fixed key, module and trusted key (what a request asks), and for the key,
 * module and signer the bytes themselves claim (so that the fuzzer reaches
 * the metadata and signature checks). Whatever the verdict, nothing leaks;
 * a refusal leaves the entry empty; an acceptance hands out views that lie
 * inside the parsed record and whose digests hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/helper/entry.h"

static const char fixed_key[] =
	"5f3c1e0c4a4f8a0d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192";
static const char fixed_trusted[] =
	"ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n";

static void check(const char *buf, size_t len, const char *key, const char *module,
		  const char *trusted)
{
	struct sc_error err = {{0}};
	struct sc_entry e;
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1];
	enum sc_entry_verdict v =
		sc_entry_verify(buf, len, key, module, trusted, &e, &err);

	if (v != SC_ENTRY_OK) {
		if (e.rec || e.module || e.inputs || !err.msg[0])
			abort();
		return;
	}
	if (!e.module || !e.inputs || !e.meta || strcmp(e.key, key) ||
	    strcmp(e.module_name, module))
		abort();
	sc_sha256(e.inputs, e.inputs_len, md);
	sc_hex(hex, md, sizeof(md));
	if (strcmp(hex, key))
		abort();
	sc_entry_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_record *rec = NULL;
	const char *buf = (const char *)data;

	check(buf, size, fixed_key, "stap_fixed", fixed_trusted);
	/* The entry's own claims: its key, its module name, its signer trusted. */
	if (sc_record_parse(buf, size, &rec, NULL) == 0) {
		const char *key = sc_record_get(rec, "key");
		const char *module = sc_record_get(rec, "module.name");
		const char *signer = sc_record_get(rec, "signer");

		if (key && module)
			check(buf, size, key, module, signer);
		sc_record_free(rec);
	}
	return 0;
}
