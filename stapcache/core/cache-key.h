/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_KEY_H
#define SC_KEY_H

#include "core/context.h"
#include "common/digest.h"
#include "common/error.h"
#include "core/build-tree.h"
#include "core/options.h"
#include "common/record.h"

/*
 * The version of the key record's contents (which fields, in which order,
 * how each is fingerprinted): its first field. Bump it whenever the record
 * changes, so that no old entry is ever read as a new one. The golden
 * record in tests/unit/test-key.c pins it.
 */
#define SC_KEY_FORMAT 3

/* The outcome of hashing a request. */
struct sc_key {
	struct sc_record *record;
	char hex[SC_SHA256_HEXLEN + 1];
	char module[64]; /* module name = file name without .ko */
	char *script;    /* the exact script bytes hashed (compile these) */
	size_t script_len;
	const char *script_name; /* the name stap sees: "-e", or the copy's basename */
	const char *runtime; /* the runtime directory the key covers (give it to stap) */
	/* With a build root (kernel->root): where that runtime is on this host,
	 * and the host directory bound at SC_BUILDROOT_RUNTIME (NULL: none). */
	char *runtime_host;
	const char *runtime_bind;
	/*
	 * A kbuild option stapcache adds (stap -B), a key input of its own
	 * ("kbuild.auto"), or NULL: SC_KEY_TRACEQUERY_B when stap predates the
	 * _LINUX_ARGS_H guard of its tracequery source (systemtap < 5.2) and
	 * the kernel has include/linux/args.h (Linux >= 6.7): every tracequery
	 * would otherwise fail on "__COUNT_ARGS redefined" under stap's own
	 * -Werror, and tracepoint and syscall probes find nothing.
	 */
	const char *kbuild_auto;
};

/* CFLAGS_MODULE comes after the -Werror of stap's tracequery Makefile. */
#define SC_KEY_TRACEQUERY_B "CFLAGS_MODULE=-Wno-error"

/*
 * Build the canonical key record for req and its digest: a function of the
 * request, the context and the kernel (and the files they name) alone; the
 * environment was read into ctx before. Reads the script once (the bytes
 * hashed are the bytes compiled), fingerprints the stap binary, runtime,
 * tapsets, -I trees and the kernel build tree without running stap (except
 * once per stap binary, to memoize its version). In a build root
 * (kernel->root) every one of these is the root's, named by its path
 * inside the root, and the root's package database is a field of its own.
 * memo_dir (may be NULL) is
 * where memos that only save time are kept (see cache.h).
 * Returns 0 and fills key (free with sc_key_clear), or -errno with err set.
 */
int sc_key_compute(const struct sc_request *req, const struct sc_ctx *ctx,
		   const struct sc_kernel *kernel, const char *memo_dir,
		   struct sc_key *key, struct sc_error *err);
void sc_key_clear(struct sc_key *key);

/*
 * The path of a -d OBJECT as stap is given it and the key records it: value,
 * made absolute against the current directory (stap builds elsewhere).
 * Caller frees.
 */
char *sc_key_object_path(const char *value);

#endif
