/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_HELPER_H
#define SC_REMOTE_HELPER_H

#include <stdbool.h>

#include "remote/helper/ssh.h"

/*
 * What every verb of stapcache-remote gets: the environment, read once by
 * main() at the edge (stapcache-remote.c) and then only passed down. Each
 * verb is int VERB(int argc, char **argv, const struct sc_helper_env *env),
 * argv[0] its own name, parsed with core/cmdopt.h, returning the exit status;
 * it lives in the module of its job (host-admin.c, runs.c, policy-edit.c,
 * doctor-report.c), which includes this header, never main's file.
 */

/* Defaults for every remote command (stapcache --connect-timeout, --jobs). */
#define SC_REMOTE_DEFAULT_CONNECT_TIMEOUT 10
#define SC_REMOTE_DEFAULT_JOBS 64

struct sc_helper_env {
	const char *ssh_dir;     /* $HOME/.ssh (no HOME: the passwd entry's home) */
	const char *known_hosts; /* stapcache-known_hosts(5): from XDG_CONFIG_HOME, HOME */
	const char *user;        /* USER (NULL: unset), host self's login */
	const char *term;        /* TERM (NULL: unset): "dumb" gets no progress line */
	const char *
		cache_dir; /* $XDG_CACHE_HOME/stapcache (~/.cache/stapcache): logs' cursors */
	bool may_prompt; /* stdin is a terminal and /dev/tty opens: a person to ask */
};

/*
 * Under cache_dir: where --detach notes the targets of each run id (one file
 * a run id, one target name a line), read by logs and kill without -T.
 */
#define SC_DETACHED_DIR "detached"

/* The SSH options for target name from env, with the default connect timeout. */
static inline struct sc_ssh_opts sc_helper_ssh_opts(const struct sc_helper_env *env,
						    const char *name)
{
	return (struct sc_ssh_opts){.name = name,
				    .ssh_dir = env->ssh_dir,
				    .may_prompt = env->may_prompt,
				    .connect_timeout = SC_REMOTE_DEFAULT_CONNECT_TIMEOUT};
}

#endif
