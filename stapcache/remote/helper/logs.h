/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_LOGS_H
#define SC_REMOTE_LOGS_H

#include "core/options.h"
#include "remote/helper/helper.h"

/*
 * stapcache logs -T TARGET|@GROUP... [--follow] [--since K:OFF] RUN: print
 * what the detached run RUN wrote on each target since the last call (its
 * cursor under env->cache_dir), and its end once it has ended. Returns the
 * exit status: 0, 1 when a target could not be asked or has no such run of
 * the login's, 2 a usage error, 130 after a Ctrl-C of --follow.
 */
int sc_helper_logs(int argc, char **argv, const struct sc_helper_env *env);

/*
 * The targets --detach noted for run id (env->cache_dir/SC_DETACHED_DIR/ID):
 * names->v points into *text (the caller frees both). Returns 0, -ENOENT
 * when nothing was noted, or -errno.
 */
int sc_detached_targets(const struct sc_helper_env *env, const char *id, char **text,
			struct sc_strv *names);

#endif
