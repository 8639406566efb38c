/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_BUILD_H
#define SC_BUILD_H

#include "cache/cache.h"
#include "core/context.h"
#include "common/error.h"
#include "core/build-tree.h"
#include "core/cache-key.h"
#include "core/options.h"
#include "common/spawn.h"

/* One build: what sc_build_run needs, given to the cache as its build callback's arg. */
struct sc_build {
	const struct sc_request *req;
	const struct sc_ctx *ctx;
	const struct sc_kernel *kernel;
	const struct sc_key *key;
	const char *why; /* the build's reason in its announcement (NULL: a cache miss) */
	bool quiet;      /* no announcement (invoked as stap, without -v) */
};

/*
 * stap's argv for b, compiling script_path (NULL: the -e text): -p4 -m
 * MODULE -r -R, then every option the table gives stap, then the script
 * and its arguments. Returns 0 or -ENOMEM (free argv with sc_argv_free).
 */
int sc_build_argv(const struct sc_build *b, const char *script_path,
		  struct sc_argv *argv);

/*
 * The cache's build callback (arg: struct sc_build). Run `stap -p4 -m
 * MODULE ...` in stage_dir, compiling exactly the script bytes that were
 * hashed, under the name the key records. stap's stderr is passed through;
 * its work files stay inside stage_dir. On success stage_dir holds MODULE.ko
 * and nothing else, and meta says kernel, arch, stap version and build time.
 * stap runs in a process group of its own, which is killed when it ends.
 * SIGINT/SIGTERM/SIGHUP during the build are passed to stap; the build then
 * fails with -EINTR. A stap still running after --build-timeout (else
 * build-timeout: in config.yaml; 0: no limit) gets SIGTERM, 2 s later
 * SIGKILL, in its whole process group; the build fails with -ETIMEDOUT.
 * (main.c gives the cache the same limit for waiting on another's build.) When stap fails because the runtime needs the fix for
 * this kernel, the message says so and names the command that prepares it.
 * Returns 0 or -errno with err set.
 */
sc_cache_build_fn sc_build_run;

/* The build timeout in seconds: --build-timeout, else build-timeout:; 0: none. */
unsigned sc_build_timeout(const struct sc_request *req, const struct sc_ctx *ctx);

/* The signal that interrupted the last build, or 0. */
int sc_build_interrupted(void);

#endif
