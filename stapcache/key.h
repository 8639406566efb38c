/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_KEY_H
#define SC_KEY_H

#include <stdbool.h>

#include "digest.h"
#include "error.h"
#include "options.h"
#include "record.h"

/* The kernel a request compiles for. */
struct sc_kernel {
	char *spec;       /* what to pass to stap -r (release or build tree) */
	char *release;    /* e.g. 6.1.0-56-amd64 */
	char *build_tree; /* resolved absolute path */
	char *arch;       /* e.g. x86_64 */
};

/*
 * Resolve -r/-a (spec may be NULL: the running kernel). A release maps to
 * /lib/modules/RELEASE/build; a path (anything with a '/') is a build tree
 * whose release is read from include/config/kernel.release. Returns 0, or
 * -ENOENT with a message that says what to install or pass instead.
 */
int sc_kernel_resolve(const char *spec, const char *arch, struct sc_kernel *out,
		      struct sc_error *err);
void sc_kernel_clear(struct sc_kernel *k);

/* Everything besides the request that shapes the module. */
struct sc_key_env {
	const char *stap;      /* absolute path of the stap binary */
	const char *runtime;   /* runtime directory passed to stap -R */
	const char *tapset;    /* stap's tapset directory */
	const char *cache_dir; /* for the memo of `stap -V` per stap binary */
};

/* The outcome of hashing a request. */
struct sc_key {
	struct sc_record *record;
	char hex[SC_SHA256_HEXLEN + 1];
	char module[64];     /* module name = file name without .ko */
	char *script;        /* the exact script bytes hashed (compile these) */
	size_t script_len;
	const char *script_name; /* basename for the copy given to stap */
};

/*
 * Build the canonical key record for req and its digest. Reads the script
 * once (the bytes hashed are the bytes compiled), fingerprints the stap
 * binary, runtime, tapsets, -I trees and the kernel build tree without
 * running stap (except once per stap binary, to memoize its version).
 * Returns 0 and fills key (release with sc_key_clear), or -errno with err set.
 */
int sc_key_compute(const struct sc_request *req, const struct sc_kernel *kernel,
		   const struct sc_key_env *env, struct sc_key *key, struct sc_error *err);
void sc_key_clear(struct sc_key *key);

#endif
