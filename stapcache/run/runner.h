/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_RUN_H
#define SC_RUN_H

#include "common/error.h"
#include "core/options.h"
#include "common/spawn.h"

/*
 * The runner for a module: BINDIR/staprun-auth when it is installed setuid
 * root, else systemtap's staprun (found on PATH).
 */
const char *sc_run_runner(void);

/*
 * What the table gives the runner for req, without the runner and the
 * module: its options (before the module) to opts and the -G NAME=VALUE
 * module parameters (after it) to params, in command-line order. Both are
 * appended to. Returns 0 or -ENOMEM (free both with sc_argv_free).
 */
int sc_run_opts(const struct sc_request *req, struct sc_argv *opts,
		struct sc_argv *params);

/*
 * The runner's argv: runner, every run-time option the table gives the
 * runner, the module, then the -G NAME=VALUE module parameters. Returns 0 or
 * -ENOMEM (free with sc_argv_free).
 */
int sc_run_argv(const struct sc_request *req, const char *runner, const char *module_path,
		struct sc_argv *argv);

/*
 * Can runner do what req asks at run time? staprun-auth cannot do what a
 * row's no_auth says (-F, -S, --target-namespace). Returns 0, or -EPERM
 * with err naming the option, the reason and what to do instead.
 */
int sc_run_refused(const struct sc_request *req, const char *runner,
		   struct sc_error *err);

/*
 * Can req's -G NAME=VALUE values be passed to init_module at all
 * (sc_param_value_problem: no whitespace, quote, control character...)?
 * With module_path (NULL: the values only), does that module declare each
 * NAME (a global of the script)? Checked before anything connects, uploads
 * or loads, so that the runner (or the target's admin) is never blamed for
 * a typo. Returns 0, or -errno with err saying which and why.
 */
int sc_run_params_check(const struct sc_request *req, const char *module_path,
			struct sc_error *err);

/*
 * How long a run may last, in seconds (0: no limit): --duration, capped by
 * config.yaml's max-duration (the smaller wins).
 */
unsigned sc_run_duration(const struct sc_request *req, unsigned max_duration);

/*
 * Hand module_path to the runner, as stap's pass 5 would: exec it, or with
 * a duration run it under sc_supervise (supervise.h) and return its status.
 * Without one it returns only on failure: 1.
 */
int sc_run_module(const struct sc_request *req, const char *module_path,
		  unsigned duration);

#endif
