/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_FRONTEND_H
#define SC_REMOTE_FRONTEND_H

#include "error.h"
#include "../options.h"

/*
 * The frontend's side of remote runs. It links no libssh: it reads
 * known_hosts, gets one module per distinct (release, arch, build tree,
 * runtime) through get, and execs stapcache-remote to ship and run them.
 */

/*
 * Get or build req's module for a kernel (-r semantics: kernel_spec is a
 * release or a build tree), arch and runtime (NULL: the configured one).
 * Returns 0 and *path (caller frees), or -errno with err set.
 */
typedef int (*sc_get_module_fn)(void *ud, const char *kernel_spec, const char *arch,
				const char *runtime, char **path, struct sc_error *err);

/*
 * `stapcache -T ...`: with -p4 prints one module path per distinct build;
 * otherwise execs stapcache-remote run (does not return on success).
 * Returns the exit status.
 */
int sc_remote_targets(const struct sc_request *req, sc_get_module_fn get, void *ud);

/* `stapcache host ...`: execs stapcache-remote host ... Returns only on failure. */
int sc_remote_exec_host(int argc, char **argv);

#endif
