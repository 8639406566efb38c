/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_JOB_H
#define SC_JOB_H

#include <stdbool.h>
#include <stdio.h>

#include "cache/cache.h"
#include "core/context.h"
#include "common/error.h"
#include "core/build-tree.h"
#include "core/cache-key.h"
#include "core/options.h"

/*
 * One request, from its argv to its key: the steps main.c's compile and
 * `stapcache verify` share (options -> environment -> context -> cache ->
 * kernel -> key). Zero it before use; sc_job_clear() frees what was set.
 */
struct sc_job {
	struct sc_request req;
	struct sc_env env;
	struct sc_ctx ctx;
	struct sc_kernel kernel;
	struct sc_key key;
	struct sc_cache *cache;
};

/*
 * Parse argv into j->req (as the stap drop-in when as_stap) and read the
 * environment. Returns 0, 1 when --help or --version was answered (exit 0),
 * or -1 after printing the error (exit 2): "stapcache: ERROR", or for the
 * subcommand WHO "stapcache WHO: ERROR" and the hint, as core/cmdopt.h does.
 */
int sc_job_parse(struct sc_job *j, int argc, char **argv, bool as_stap, const char *who);

/* config.yaml (j->ctx) and the cache. 0, or -1 with err set. */
int sc_job_open(struct sc_job *j, struct sc_error *err);

/* The target kernel and the key, once the cache is open. 0, or -1 with err set. */
int sc_job_key(struct sc_job *j, struct sc_error *err);

void sc_job_clear(struct sc_job *j);

/*
 * --explain, in two halves so that another module can add lines between
 * them (sign/ names the signer there): the "# key:", "# module:" and "#
 * cached:" (the entry's path, or no) lines; then key's record, which
 * returns 0, -ENOMEM or -EIO.
 */
void sc_key_explain_head(const struct sc_key *key, struct sc_cache *c, FILE *out);
int sc_key_explain_record(const struct sc_key *key, FILE *out);

#endif
