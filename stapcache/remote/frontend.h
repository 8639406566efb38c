/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_FRONTEND_H
#define SC_REMOTE_FRONTEND_H

#include "../cache.h"
#include "../context.h"
#include "../options.h"

/*
 * The frontend's side of remote runs, in the stapcache binary. It links no
 * libssh: it reads known_hosts, gets one module per distinct (kernel or
 * build tree, arch, runtime) from the cache c, and execs stapcache-remote to
 * ship and run them.
 */

/*
 * `stapcache -T ...`: reads known_hosts (where env says), gets each
 * distinct build from c, then with -p4 prints one module path per build;
 * otherwise execs stapcache-remote run (does not return on success).
 * Messages go to stderr. Returns the exit status.
 */
int sc_remote_targets(const struct sc_request *req, const struct sc_env *env,
		      const struct sc_ctx *ctx, struct sc_cache *c);

/* `stapcache host ...`: execs stapcache-remote host ... Returns only on failure: 1. */
int sc_remote_exec_host(int argc, char **argv);

/*
 * `stapcache VERB ...` (ps, kill): execs stapcache-remote VERB ... with the
 * same arguments. Returns only on failure: 1.
 */
int sc_remote_exec_verb(const char *verb, int argc, char **argv);

/* Exec stapcache-remote with argv (argv[0] is replaced). Returns only on failure: 1. */
int sc_remote_exec_argv(char **argv);

/*
 * `stapcache bless -T NAME ... FILE.ko`: execs stapcache-remote bless with
 * the targets, the optional admin login and policy path, the module's digest
 * and its line. Returns only on failure: 1.
 */
int sc_remote_exec_bless(const char *const *targets, size_t ntargets, const char *admin,
			 const char *policy, const char *hex, const char *line);

#endif
