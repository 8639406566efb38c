/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CAPTURE_H
#define SC_CAPTURE_H

#include "core/options.h"
#include "output/output.h"

/*
 * Run module_path with the local runner as stapcache's child (capture.c)
 * and write its output as oo says, target "local", then the summary.
 * req->output_here must be set (the runner then never sees -o). With
 * duration (seconds, 0: none) the run is stopped as sc_supervise does
 * (supervise.h), counted from when stapio runs. Returns the
 * exit status: the runner's, 128 + a signal that ended it, 1 when it could
 * not be started or the output not written.
 */
int sc_run_captured(const struct sc_request *req, const char *module_path,
		    const struct sc_output_opts *oo, unsigned duration);

#endif
