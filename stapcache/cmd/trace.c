/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache trace`: split the command line into the one-liners, trace's own
 * filters and the request's options (the option table says which of those
 * takes an argument), generate the script (trace.c) and hand back the
 * ordinary request that runs it.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../options.h"
#include "../trace.h"
#include "trace.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: stapcache trace [--pid PID] [--comm NAME] [--uid UID] "
		"[--print-script]\n"
		"                       [OPTIONS] SPEC...\n"
		"  SPEC  PROBE [(FILTER)] [\"FORMAT\" [, ARG]...], PROBE one of\n"
		"        syscall.NAME  r:syscall.NAME  FUNCTION  r:FUNCTION\n"
		"        t:SUBSYSTEM:EVENT  u:/PATH:MARK\n"
		"  e.g.  stapcache trace 'syscall.openat (pid == 1234) \"open %%s\", "
		"filename'\n"
		"        stapcache trace -T web1 --output json 'r:syscall.read (retval > "
		"4096)'\n"
		"OPTIONS are stapcache's (-T, -r, -v, -c, -x, --output, -o, ...: "
		"stapcache --help);\n"
		"the grammar and the event fields: stapcache(1), ONE-LINERS.\n");
}

static const struct sc_opt *row_long(const char *name, size_t len)
{
	for (size_t i = 0; i < sc_opts_n; i++)
		if (sc_opts[i].long_name && strlen(sc_opts[i].long_name) == len &&
		    !strncmp(sc_opts[i].long_name, name, len))
			return &sc_opts[i];
	return NULL;
}

static const struct sc_opt *row_short(int c)
{
	for (size_t i = 0; i < sc_opts_n; i++)
		if (sc_opts[i].id == c)
			return &sc_opts[i];
	return NULL;
}

static int number(const char *opt, const char *v, long long *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v ? v : "", &end, 10);
	if (!v || !*v || *end || errno || n < 0) {
		fprintf(stderr, "stapcache: trace: %s '%s': expected a number >= 0\n",
			opt, v ? v : "");
		return -EINVAL;
	}
	*out = n;
	return 0;
}

struct words {
	const char **specs;
	size_t nspecs;
	struct sc_trace_filters f;
	bool print;
};

/* trace's own option at argv[*i]: 1 when it was one, 0 when not, -1 bad. */
static int own(int argc, char **argv, int *i, struct words *w)
{
	static const char *const names[] = {"--pid", "--uid", "--comm"};
	const char *a = argv[*i];

	if (!strcmp(a, "--print-script")) {
		w->print = true;
		return 1;
	}
	for (size_t k = 0; k < 3; k++) {
		size_t l = strlen(names[k]);
		const char *v;

		if (strncmp(a, names[k], l) || (a[l] != '\0' && a[l] != '='))
			continue;
		v = a[l] == '=' ? a + l + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
		if (k == 2) {
			if (!v) {
				fprintf(stderr,
					"stapcache: trace: --comm needs a NAME\n");
				return -1;
			}
			w->f.comm = v;
			return 1;
		}
		if (number(names[k], v, k == 0 ? &w->f.pid : &w->f.uid) < 0)
			return -1;
		if (k == 0)
			w->f.has_pid = true;
		else
			w->f.has_uid = true;
		return 1;
	}
	return 0;
}

/* A request option at argv[*i] (and its argument): to run. */
static int request_option(int argc, char **argv, int *i, struct sc_argv *run)
{
	const char *a = argv[*i];
	const struct sc_opt *o = NULL;
	bool takes_next = false;

	if (a[1] == '-') {
		const char *eq = strchr(a, '=');

		o = row_long(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		takes_next = o && sc_opt_has_arg(o) && !o->optional && !eq;
	} else {
		for (const char *c = a + 1; *c; c++) {
			o = row_short((unsigned char)*c);
			if (o && sc_opt_has_arg(o)) {
				takes_next = c[1] == '\0';
				break;
			}
		}
	}
	if (o && (o->id == 'e' || o->id == 'E')) {
		fprintf(stderr,
			"stapcache: trace: %s: the one-liners are the script; "
			"for a script of your own, run stapcache -e SCRIPT\n",
			a);
		return -1;
	}
	if (sc_argv_push(run, a) < 0)
		return -ENOMEM;
	if (takes_next && *i + 1 < argc)
		return sc_argv_push(run, argv[++*i]);
	return 0;
}

static int split(int argc, char **argv, struct words *w, struct sc_argv *run)
{
	bool dashdash = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r;

		if (!dashdash && !strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			w->specs[w->nspecs++] = a;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		r = own(argc, argv, &i, w);
		if (r == 0)
			r = request_option(argc, argv, &i, run);
		if (r < 0)
			return r == -ENOMEM
				       ? (fprintf(stderr, "stapcache: out of memory\n"),
					  1)
				       : 2;
	}
	return -1;
}

static int explain_error(const struct words *w, const struct sc_trace_error *e)
{
	char *text =
		sc_trace_error_text(e->spec < w->nspecs ? w->specs[e->spec] : NULL, e);

	fprintf(stderr, "stapcache: trace: %s\n", text ? text : e->msg);
	if (e->spec < w->nspecs)
		fprintf(stderr, "(the grammar: stapcache trace --help, stapcache(1) "
				"ONE-LINERS)\n");
	free(text);
	return 2;
}

int sc_cmd_trace(int argc, char **argv, struct sc_argv *run)
{
	struct words w = {.specs = calloc((size_t)argc + 1, sizeof(char *))};
	struct sc_trace_error e = {0};
	char *script = NULL;
	int r;

	if (!w.specs || sc_argv_push(run, "stapcache") < 0) {
		free(w.specs);
		fprintf(stderr, "stapcache: out of memory\n");
		return 1;
	}
	r = split(argc, argv, &w, run);
	if (r >= 0)
		goto out;
	if (w.nspecs == 0) {
		fprintf(stderr, "stapcache: trace: no one-liner given\n");
		usage(stderr);
		r = 2;
		goto out;
	}
	r = sc_trace_script(w.specs, w.nspecs, &w.f, &script, &e);
	if (r == -ENOMEM) {
		fprintf(stderr, "stapcache: out of memory\n");
		r = 1;
		goto out;
	}
	if (r < 0) {
		r = explain_error(&w, &e);
		goto out;
	}
	if (w.print) {
		fputs(script, stdout);
		r = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	/* The script text is owned by the argv from here. */
	if (sc_argv_push(run, "-e") < 0 || sc_argv_pushf(run, "%s", script) < 0) {
		fprintf(stderr, "stapcache: out of memory\n");
		r = 1;
		goto out;
	}
	r = -1;
out:
	if (r >= 0)
		sc_argv_free(run);
	free(script);
	free(w.specs);
	return r;
}
