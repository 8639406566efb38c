/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_FANOUT_H
#define SC_FANOUT_H

#include "output/output.h"
#include "remote/helper/stage.h"
#include "remote/targets.h"

/* One target of a fan-out and the module built for it. */
struct sc_fanout_item {
	const struct sc_target *target;
	const char *module_path;
};

/*
 * Run every item concurrently, at most jobs at once (a thread each: see
 * fanout.c). Output lines go to stdout/stderr as they arrive, prefixed with
 * "NAME: " when there is more than one item. SIGINT/SIGTERM/SIGHUP stop every
 * remote run (a second one abandons them). With more than one item a summary
 * goes to stderr (text output). With progress, a status line on stderr (a
 * terminal) shows each target's state (waiting, connecting, shipping,
 * running, done, failed), erased before every output line. oo says how the
 * lines are written (output.c: text, JSON lines with a summary object per
 * target, -o files; its prefix is set here). Returns the exit status: one
 * item, its runner's status (255 when it never ran); several, 0 when all
 * returned 0, else 1.
 */
int sc_fanout_run(const struct sc_fanout_item *items, size_t n,
		  const struct sc_run_req *rq, int jobs, bool progress,
		  const struct sc_output_opts *oo);

#endif
