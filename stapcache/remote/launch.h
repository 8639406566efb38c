/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_LAUNCH_H
#define SC_REMOTE_LAUNCH_H

#include <stddef.h>

/*
 * The frontend's way into the stapcache-remote helper, the only program that
 * links libssh (so that a cache hit never loads it): exec it with a verb and
 * its arguments. The helper is found next to stapcache (the build tree), else
 * in $(pkglibexecdir).
 */

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
 * and its line, and (shex not NULL) its signed variant's digest and line,
 * which targets that load only signed modules get instead. Returns only on
 * failure: 1.
 */
int sc_remote_exec_bless(const char *const *targets, size_t ntargets, const char *admin,
			 const char *policy, const char *hex, const char *line,
			 const char *shex, const char *sline);

#endif
