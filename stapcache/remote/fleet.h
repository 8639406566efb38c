/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_FRONTEND_H
#define SC_REMOTE_FRONTEND_H

#include "cache/cache.h"
#include "core/context.h"
#include "core/options.h"

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

#endif
