/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache trace`: the command line holds the one-liners, trace's own
 * filters and the compile command's options (the parser collects those as
 * given); the one-liners become a script (trace/oneliner.c), which then runs
 * as `stapcache OPTIONS -e SCRIPT` would, with its output read as events.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/cmdopt.h"
#include "trace/oneliner.h"
#include "cmd/cmd.h"

static int explain_error(const char *const *specs, size_t n,
			 const struct sc_trace_error *e)
{
	char *text = sc_trace_error_text(e->spec < n ? specs[e->spec] : NULL, e);

	fprintf(stderr, "stapcache trace: %s\n", text ? text : e->msg);
	if (e->spec < n)
		fprintf(stderr, "(the grammar: stapcache trace --help, stapcache(1) "
				"ONE-LINERS)\n");
	free(text);
	return 2;
}

int sc_cmd_trace(int argc, char **argv)
{
	struct sc_trace_filters f = {0};
	struct sc_trace_error e = {0};
	struct sc_argv run = {0};
	const char *script_e = NULL, *script_E = NULL;
	long pid = -1, uid = -1;
	bool print = false;
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_LONG(0, "pid", "PID", &pid, 0, INT_MAX,
			       "only events of process PID"),
		SC_CMDOPT_STRING(0, "comm", "NAME", &f.comm,
				 "only events of processes named NAME"),
		SC_CMDOPT_LONG(0, "uid", "UID", &uid, 0, UINT32_MAX - 1,
			       "only events of processes of user UID"),
		SC_CMDOPT_FLAG(0, "print-script", &print,
			       "print the generated script, run nothing"),
		SC_CMDOPT_STRING('e', NULL, "SCRIPT", &script_e,
				 "refused: the one-liners are the script"),
		SC_CMDOPT_STRING('E', NULL, "PROBE", &script_E,
				 "refused: the one-liners are the script"),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "trace",
		.synopsis =
			"[--pid PID] [--comm NAME] [--uid UID] [--print-script] [OPTIONS] "
			"SPEC...",
		.about =
			"  SPEC  PROBE [(FILTER)] [\"FORMAT\" [, ARG]...], PROBE one of\n"
			"        syscall.NAME  r:syscall.NAME  FUNCTION  r:FUNCTION\n"
			"        t:SUBSYSTEM:EVENT  u:/PATH:MARK\n"
			"  e.g.  stapcache trace 'syscall.openat (pid == 1234) \"open %s\", "
			"filename'\n"
			"        stapcache trace -T web1 --output json 'r:syscall.read (retval "
			"> 4096)'\n"
			"OPTIONS are stapcache's (-T, -r, -v, -c, -x, --output, -o, ...:\n"
			"stapcache --help); the grammar and the event fields: stapcache(1),\n"
			"ONE-LINERS.",
		SC_CMDOPT_ROWS(opts),
		.min_args = 1,
		.max_args = -1,
		.compile = &run,
	};
	const char *const *specs;
	char *script = NULL;
	size_t nspecs;
	int r, status;

	r = sc_argv_push(&run, "stapcache") < 0 ? SC_CMDOPT_USAGE
						: sc_cmdopt_parse(&spec, argc, argv);
	if (r < 0) {
		status = sc_cmdopt_exit(r);
		goto out;
	}
	if (script_e || script_E) {
		status =
			sc_cmdopt_usage_error(&spec,
					      "-%c: the one-liners are the script; for a script "
					      "of your own, run stapcache -e SCRIPT",
					      script_e ? 'e' : 'E');
		goto out;
	}
	f.has_pid = pid >= 0;
	f.pid = pid;
	f.has_uid = uid >= 0;
	f.uid = uid;
	specs = (const char *const *)argv + r;
	nspecs = (size_t)(argc - r);
	r = sc_trace_script(specs, nspecs, &f, &script, &e);
	if (r >= 0 && !print &&
	    (sc_argv_push(&run, "-e") < 0 || sc_argv_push(&run, script) < 0))
		r = -ENOMEM;
	if (r == -ENOMEM) {
		fprintf(stderr, "stapcache: out of memory\n");
		status = 1;
	} else if (r < 0) {
		status = explain_error(specs, nspecs, &e);
	} else if (print) {
		fputs(script, stdout);
		status = fflush(stdout) == 0 ? 0 : 1;
	} else {
		status = sc_cmd_compile((int)run.n, (char **)run.v, false, true);
	}
out:
	sc_argv_free(&run);
	free(script);
	return status;
}
