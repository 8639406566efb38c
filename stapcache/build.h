/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_BUILD_H
#define SC_BUILD_H

#include "error.h"
#include "key.h"
#include "options.h"

/*
 * Run `stap -p4 -m MODULE ...` for req in the staging directory tmpdir,
 * compiling exactly the script bytes that were hashed. stap's stderr is
 * passed through; its work files stay inside tmpdir. On success tmpdir holds
 * MODULE.ko and nothing else, and *seconds is the build's wall time.
 * stap runs in a process group of its own, which is killed when it ends.
 * SIGINT/SIGTERM/SIGHUP during the build are passed to stap; the build then
 * fails with -EINTR. Returns 0 or -errno with err set.
 */
int sc_build_run(const struct sc_request *req, const struct sc_kernel *kernel,
		 const struct sc_key_env *env, const struct sc_key *key, const char *tmpdir,
		 double *seconds, struct sc_error *err);

/* The signal that interrupted the last build, or 0. */
int sc_build_interrupted(void);

#endif
