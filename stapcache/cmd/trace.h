/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CMD_TRACE_H
#define SC_CMD_TRACE_H

#include "spawn.h"

/*
 * `stapcache trace [OPTIONS] SPEC...`: the one-liners' script, and the
 * command line of an ordinary request that runs it (`stapcache OPTIONS -e
 * SCRIPT`), so that the key, the cache, -T and the runner see a script like
 * any other. Returns -1 with *run filled (run it: compile() with trace set;
 * free with sc_argv_free), or an exit status: the help, --print-script, or
 * an error said on stderr.
 */
int sc_cmd_trace(int argc, char **argv, struct sc_argv *run);

#endif
