/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_STORE_ENTRY_H
#define SC_STORE_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "common/digest.h"
#include "common/error.h"
#include "common/modinfo.h"
#include "common/record.h"

/*
 * A shared-cache entry: one record (common/record.h), fields in this order,
 * each exactly once:
 *
 *   entry.format  1
 *   key           the key (64 hex digits) = SHA-256 of "inputs"
 *   module.name   the module's name (file name without .ko)
 *   inputs        the serialized key record
 *   meta          the serialized metadata record: key, module, sha256 (of the
 *                 module), size, built, builder, reproduce, ...
 *   module        the module's bytes
 *   signer        ed25519:HEX, the builder's public key (32 bytes)
 *   signature     HEX, Ed25519 over sc_entry_signed_message()
 *
 * The signed message is itself a record: "signed" = "stapcache-entry 1",
 * "key", "module.sha256", "inputs.sha256", "meta.sha256". Every check is
 * made on the bytes as received; nothing is served unless all pass.
 *
 * Only the stapcache-store helper links this (EVP, Ed25519): a local hit
 * never loads OpenSSL's providers.
 */
#define SC_ENTRY_FORMAT 1
/* An entry: the module, its inputs and meta records, the signature. */
#define SC_ENTRY_MAX (SC_MODULE_MAX + 2 * SC_RECORD_MAX_VALUE)
#define SC_ED25519_PUBLEN 32
#define SC_ED25519_SIGLEN 64

enum sc_entry_verdict {
	SC_ENTRY_OK,
	SC_ENTRY_MALFORMED, /* not an entry record, a field missing, repeated or bad */
	SC_ENTRY_OTHER_KEY, /* its key, inputs or meta belong to another key or module */
	SC_ENTRY_DIGEST,    /* the module does not match the digest in its meta */
	SC_ENTRY_UNSIGNED,  /* no signer or signature */
	SC_ENTRY_UNTRUSTED, /* signed by a key not in trusted-builders */
	SC_ENTRY_BAD_SIGNATURE,
};
const char *sc_entry_verdict_str(enum sc_entry_verdict v);

/* A parsed, verified entry: borrowed views into rec. */
struct sc_entry {
	struct sc_record *rec;
	const char *key, *module_name, *signer;
	const char *inputs, *meta, *module;
	size_t inputs_len, meta_len, module_len;
};
void sc_entry_clear(struct sc_entry *e);

/* A builder's signing key (Ed25519). */
struct sc_builder_key;
/* Read a PEM private key file. Returns 0 and *out, or -errno with err set. */
int sc_builder_key_load(const char *path, struct sc_builder_key **out,
			struct sc_error *err);
/* Create a new key at path (0600, refusing to overwrite). Returns 0 or -errno. */
int sc_builder_key_generate(const char *path, struct sc_error *err);
void sc_builder_key_free(struct sc_builder_key *k);
/* "ed25519:HEX" of the public half (out holds at least 8 + 64 + 1 bytes). */
void sc_builder_key_public(const struct sc_builder_key *k, char *out, size_t n);

/*
 * Build the signed entry for key_hex from its parts (meta must already name
 * the builder). Returns 0 and *out (caller frees), or -errno with err set.
 */
int sc_entry_build(const char *key_hex, const char *module_name, const char *inputs,
		   size_t inputs_len, const char *meta, size_t meta_len,
		   const char *module, size_t module_len, const struct sc_builder_key *k,
		   char **out, size_t *out_len, struct sc_error *err);

/*
 * Parse and check buf as the entry for (key_hex, module_name), signed by one
 * of trusted (public keys "ed25519:HEX", one a line; NULL: none). Returns the
 * verdict; on SC_ENTRY_OK fills e (free with sc_entry_clear), else err says
 * why in one line.
 */
enum sc_entry_verdict sc_entry_verify(const char *buf, size_t len, const char *key_hex,
				      const char *module_name, const char *trusted,
				      struct sc_entry *e, struct sc_error *err);

#endif
