/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_SIGNED_H
#define SC_SIGNED_H

#include <stdbool.h>
#include <stdio.h>

#include "cache/cache.h"
#include "common/error.h"
#include "core/cache-key.h"
#include "core/context.h"
#include "sign/signer.h"

/*
 * A signed variant of a cached module (issue 20): the unsigned build signed
 * by one module-signing key, kept in the cache as an entry of its own whose
 * key is derived from the unsigned entry's key and the signer:
 *
 *   inputs = record { signed-variant: SC_SIGNED_FORMAT, module-key: KEY,
 *                     module: NAME, signer: sha256:FP,
 *                     signature: "pkcs7 sha256, sign-file's format" }
 *   key    = SHA-256 of that record
 *
 * So the signed variant is computable from a request alone (no unsigned
 * module needs to be there), a hit for it is an ordinary cache hit (no stap,
 * no signer, no libcrypto EVP), it is evicted, checked and listed like any
 * entry, and the shared store carries it like any entry (the builder's
 * signature covers it). Its meta adds the signer, the unsigned module's
 * SHA-256 and the kernel and arch of the unsigned build.
 *
 * Signing itself runs in the stapcache-sign helper (sign/helper/), the only
 * program that reads a private module-signing key: it links libcrypto's
 * X.509, CMS and EVP code and nothing that talks to a network.
 */

/* The signed-variant record's format (its first field); bump on any change. */
#define SC_SIGNED_FORMAT 1

/*
 * The key of plain's signed variant by the signer whose fingerprint is fp
 * ("sha256:HEX"): record, hex and module set (free with sc_key_clear).
 * Returns 0 or -ENOMEM.
 */
int sc_signed_key(const struct sc_key *plain, const char *fp, struct sc_key *out);

/*
 * Get the signed variant of the cached module plain_path (the entry of
 * plain) by signer, signing it when it is not cached (sign: the helper
 * signs it under the variant's lock, the result is checked and published;
 * !sign: only the cache and the shared store are asked). Returns 0,
 * *path (caller frees) and *how; -ENOENT when !sign and there is none; or
 * -errno with err set.
 */
int sc_signed_get(struct sc_cache *c, const struct sc_key *plain, const char *plain_path,
		  const struct sc_signer *signer, bool sign, char **path,
		  enum sc_cache_how *how, struct sc_error *err);

/*
 * Look the signed variant of plain by the signer fp up, without signing: in
 * the cache, and unless local_only in the shared store too (a caller with
 * several signers to try asks the cache for each before it runs the store's
 * helper for any). Returns 0 and *path (caller frees), or -ENOENT, or
 * -errno with err set.
 */
int sc_signed_find(struct sc_cache *c, const struct sc_key *plain, const char *fp,
		   bool local_only, char **path, struct sc_error *err);

/*
 * Does this host's kernel load only signed modules: a lockdown (integrity or
 * confidentiality in /sys/kernel/security/lockdown) or module.sig_enforce?
 * Reads those two small files; false when neither says so (or is there).
 */
bool sc_signed_required_here(void);

/*
 * --explain for key on out: sc_key_explain_head's lines, then, when a signer
 * is configured (signing-key:), its name and the signed variant's key and
 * whether it is cached, then the record. Returns 0, -ENOMEM or -EIO.
 */
int sc_signed_explain(const struct sc_key *key, const struct sc_ctx *ctx,
		      struct sc_cache *c, FILE *out);

#endif
