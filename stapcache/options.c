/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modinfo.h"
#include "options.h"

/*
 * When unsure whether an option changes the module, it is a key input: a hit
 * must never hand back a module that the same stap command line would not
 * have built. An option stap sees that is not a key input says why.
 */
const struct sc_opt sc_opts[] = {
	{'p', NULL, "NUM", SC_ROLE_OWN, .example = "4",
	 .help = "-p4: compile only and print the module's absolute path on stdout;\n"
		 "-p1..-p3 are passed to stap; 5 (the default) runs the module"},
	{'r', NULL, "RELEASE|DIR", SC_ROLE_KEY, SC_KEY_DERIVED, "kernel", .example = "@TREE@",
	 .help = "kernel release or build tree (default: the running kernel)"},
	{'a', NULL, "ARCH", SC_ROLE_KEY, SC_KEY_DERIVED, "kernel.arch", .example = "arm64",
	 .help = "target architecture (default: this machine's)"},
	{'R', NULL, "DIR", SC_ROLE_KEY, SC_KEY_DERIVED, "runtime", .example = "@DIR@",
	 .help = "systemtap runtime directory (default: config.yaml, then stap's)"},
	{'m', NULL, "NAME", SC_ROLE_KEY, SC_KEY_DERIVED, "module", .example = "mymod",
	 .help = "module name (default: stap_ and 32 hex digits of the key)"},
	{'e', NULL, "SCRIPT", SC_ROLE_KEY, SC_KEY_DERIVED, "script",
	 .example = "probe begin { exit() }", .help = "the script text (instead of a FILE)"},
	{'D', NULL, "NAME[=VALUE]", SC_ROLE_KEY, SC_KEY_VALUE, "define", "-D",
	 .example = "MAXACTION=10000", .help = "preprocessor definition for the module"},
	{'I', NULL, "DIR", SC_ROLE_KEY, SC_KEY_TREE, "include", "-I", .example = "@DIR@",
	 .help = "extra tapset directory (its files are key inputs)"},
	{'B', NULL, "NAME=VALUE", SC_ROLE_KEY, SC_KEY_VALUE, "kbuild", "-B", .example = "V=1",
	 .help = "kbuild make option"},
	{'g', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "guru", "-g", .help = "guru mode"},
	{'b', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "bulk", "-b", .help = "bulk (per-cpu file) mode"},
	{'t', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "timing", "-t",
	 .help = "collect probe timing information"},
	{'u', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "unoptimized", "-u",
	 .help = "unoptimized translation"},
	{SC_OPT_PRIVILEGE, "privilege", "LEVEL", SC_ROLE_KEY, SC_KEY_VALUE, "privilege",
	 "--privilege=", .example = "stapusr", .help = "privilege level, as stap"},
	{SC_OPT_UNPRIVILEGED, "unprivileged", NULL, SC_ROLE_KEY, SC_KEY_VALUE, "privilege",
	 "--privilege=", .help = "--privilege=stapusr"},
	{SC_OPT_COMPATIBLE, "compatible", "VERSION", SC_ROLE_KEY, SC_KEY_VALUE, "compatible",
	 "--compatible=", .example = "4.0", .help = "compatibility with an older stap"},
	{SC_OPT_SUPPRESS_HANDLER_ERRORS, "suppress-handler-errors", NULL, SC_ROLE_KEY,
	 SC_KEY_FLAG, "suppress-handler-errors", "--suppress-handler-errors",
	 .help = "as stap"},
	{SC_OPT_SUPPRESS_TIME_LIMITS, "suppress-time-limits", NULL, SC_ROLE_KEY, SC_KEY_FLAG,
	 "suppress-time-limits", "--suppress-time-limits", .help = "as stap"},
	{SC_OPT_SKIP_BADVARS, "skip-badvars", NULL, SC_ROLE_KEY, SC_KEY_FLAG, "skip-badvars",
	 "--skip-badvars", .help = "as stap"},
	{SC_OPT_SALT, "salt", "S", SC_ROLE_KEY, SC_KEY_VALUE, "salt", .example = "2",
	 .help = "a deliberate extra key input: a distinct module for the same\n"
		 "script (e.g. to run it twice at once)"},
	{'G', NULL, "NAME=VALUE", SC_ROLE_RUN, .runner = "", .example = "greeting=hi",
	 .help = "run-time global (a module parameter; not a key input)"},
	{'c', NULL, "CMD", SC_ROLE_RUN, .runner = "-c", .example = "true",
	 .help = "run CMD while the probes are active (runner)"},
	{'x', NULL, "PID", SC_ROLE_RUN, .runner = "-x", .example = "1",
	 .help = "target() is PID (runner)"},
	{'o', NULL, "FILE", SC_ROLE_RUN, .runner = "-o", .example = "/dev/null",
	 .help = "send the script's output to FILE (runner)"},
	{'s', NULL, "MB", SC_ROLE_RUN, .runner = "-b", .example = "4",
	 .help = "buffer size in megabytes (runner)"},
	{'v', NULL, NULL, SC_ROLE_PASS, .stap = "-v", .runner = "-v",
	 .why = "verbosity changes what stap and the runner print, not the module",
	 .help = "more progress on stderr (repeatable)"},
	/*
	 * Remote runs: which targets and how to reach them. A target's
	 * known_hosts entry gives the kernel, arch and runtime the key sees (as
	 * -r/-a/-R would); the name itself is no key input, and neither stap nor
	 * the local runner sees these. stapcache-remote gets them from
	 * stapcache/remote/frontend.c.
	 */
	{'T', NULL, "TARGET|@GROUP", SC_ROLE_OWN, .example = "web1",
	 .help = "build for a stapcache-known_hosts(5) target and run there over\n"
		 "SSH (repeatable; with -p4 only build and print the paths)"},
	{SC_OPT_CONNECT_TIMEOUT, "connect-timeout", "SECONDS", SC_ROLE_OWN, .example = "5",
	 .help = "for -T: SSH connect timeout (default 10)"},
	{SC_OPT_JOBS, "jobs", "N", SC_ROLE_OWN, .example = "4",
	 .help = "for -T: targets run at once (default 64)"},
	{SC_OPT_EXPLAIN, "explain", NULL, SC_ROLE_OWN,
	 .help = "print the key record for this request; build nothing"},
	{'h', "help", NULL, SC_ROLE_OWN, .help = "this text"},
	{'V', "version", NULL, SC_ROLE_OWN, .help = "version"},
};
const size_t sc_opts_n = sizeof(sc_opts) / sizeof(sc_opts[0]);

static void spelling(const struct sc_opt *o, char *buf, size_t n)
{
	const char *arg = o->metavar ? o->metavar : "";

	if (o->id < 256 && o->long_name)
		snprintf(buf, n, "-%c, --%s%s%s", o->id, o->long_name, *arg ? "=" : "", arg);
	else if (o->id < 256)
		snprintf(buf, n, "-%c%s%s", o->id, *arg ? " " : "", arg);
	else
		snprintf(buf, n, "--%s%s%s", o->long_name, *arg ? "=" : "", arg);
}

void sc_usage(FILE *out)
{
	fputs("Usage: stapcache [OPTIONS] (-e SCRIPT | FILE) [ARGS...]\n"
	      "       stapcache cache (stats|list|prune [--max-size SIZE]|clear)\n"
	      "       stapcache bless MODULE.ko\n"
	      "       stapcache -T TARGET|@GROUP ... [OPTIONS] (-e SCRIPT | FILE) [ARGS...]\n"
	      "       stapcache host (self|list|add|remove|refresh|accept) ...\n"
	      "\n"
	      "Compile a SystemTap script once and answer the same request from a cache.\n"
	      "Options that shape the module are key inputs; ARGS (@1, @2, ...) are too.\n"
	      "\n",
	      out);
	for (size_t i = 0; i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];
		const char *h = o->help;
		char sp[64];

		spelling(o, sp, sizeof(sp));
		fprintf(out, "  %-20s", sp);
		if (strlen(sp) >= 20) /* no room for the space before the help text */
			fprintf(out, "\n  %-20s", "");
		/* Continuation lines of a help text line up under its first. */
		for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
			fprintf(out, "%.*s\n  %-20s", (int)(nl - h), h, "");
		fprintf(out, "%s%s\n", h, o->role == SC_ROLE_KEY ? " (key input)" : "");
	}
	fputs("\n"
	      "Files: $(sysconfdir)/stapcache/config.yaml, then\n"
	      "       $XDG_CONFIG_HOME/stapcache/config.yaml (settings; the user's wins),\n"
	      "       $XDG_CACHE_HOME/stapcache (the cache). See stapcache(1).\n",
	      out);
}

static const struct sc_opt *find_opt(int id)
{
	for (size_t i = 0; i < sc_opts_n; i++)
		if (sc_opts[i].id == id)
			return &sc_opts[i];
	return NULL;
}

bool sc_request_has(const struct sc_request *req, int id, const char **value)
{
	bool found = false;

	for (size_t i = 0; i < req->n_opts; i++) {
		if (req->opts[i].opt->id != id)
			continue;
		found = true;
		if (value)
			*value = req->opts[i].value;
	}
	return found;
}

int sc_opt_push(struct sc_argv *a, const char *spelling, const struct sc_optarg *oa)
{
	size_t n = strlen(spelling);

	if (!oa->value)
		return n ? sc_argv_push(a, spelling) : 0;
	if (n == 0)
		return sc_argv_push(a, oa->value);
	if (spelling[n - 1] == '=')
		return sc_argv_pushf(a, "%s%s", spelling, oa->value);
	return sc_argv_push(a, spelling) ?: sc_argv_push(a, oa->value);
}

static int strv_push(struct sc_strv *sv, const char *s)
{
	const char **nv = realloc(sv->v, (sv->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	nv[sv->n++] = s;
	sv->v = nv;
	return 0;
}

static int push_opt(struct sc_request *req, const struct sc_opt *o, const char *value)
{
	struct sc_optarg *n = realloc(req->opts, (req->n_opts + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[req->n_opts].opt = o;
	n[req->n_opts].value = value;
	req->opts = n;
	req->n_opts++;
	return 0;
}

void sc_options_free(struct sc_request *req)
{
	free(req->opts);
	free(req->args.v);
	free(req->targets.v);
	req->opts = NULL;
	req->args.v = NULL;
	req->targets.v = NULL;
}

/* getopt's short and long option lists, from the table. */
static void getopt_spec(char *shorts, size_t n, struct option *longs)
{
	size_t s = 0, l = 0;

	shorts[s++] = '+'; /* stop at the script: what follows are its arguments */
	shorts[s++] = ':';
	for (size_t i = 0; i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];

		if (o->id < 256 && s + 3 < n) {
			shorts[s++] = (char)o->id;
			if (sc_opt_has_arg(o))
				shorts[s++] = ':';
		}
		if (o->long_name)
			longs[l++] = (struct option){o->long_name,
						     sc_opt_has_arg(o) ? required_argument
								       : no_argument,
						     NULL, o->id};
	}
	shorts[s] = '\0';
	longs[l] = (struct option){NULL, 0, NULL, 0};
}

static int check_global(const char *arg, struct sc_error *err)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		sc_error_set(err, "-G '%s': expected NAME=VALUE", arg);
		return -EINVAL;
	}
	if (!sc_identifier_ok(arg, (size_t)(eq - arg))) {
		sc_error_set(err, "-G '%s': '%.*s' is not a global variable name", arg,
			     (int)(eq - arg), arg);
		return -EINVAL;
	}
	return 0;
}

/* A whole number in [min, max] for option name. */
static int int_arg(const char *name, const char *arg, int min, int max, int *out,
		   struct sc_error *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (*arg == '\0' || *end || errno || n < min || n > max) {
		sc_error_set(err, "%s '%s': expected a number %d-%d", name, arg, min, max);
		return -EINVAL;
	}
	*out = (int)n;
	return 0;
}

static int unsupported(int c, const char *arg, struct sc_error *err)
{
	if (c == '?' && arg)
		sc_error_set(err,
			     "unknown or unsupported option '%s' (stapcache caches -p4 builds; "
			     "run stap directly for other modes; see stapcache --help)",
			     arg);
	else if (c == ':' && arg)
		sc_error_set(err, "option '%s' needs a value (see stapcache --help)", arg);
	else
		sc_error_set(err, "unsupported option '-%c' (stapcache caches -p4 builds; "
				  "run stap directly for other modes)", c);
	return -EINVAL;
}

/* The options with a meaning of their own beyond their row. Returns 1 to exit 0. */
static int apply(struct sc_request *req, const struct sc_opt *o, const char *arg,
		 struct sc_error *err)
{
	switch (o->id) {
	case 'p':
		if (strlen(arg) != 1 || arg[0] < '1' || arg[0] > '5') {
			sc_error_set(err, "-p '%s': expected a pass number 1-5", arg);
			return -EINVAL;
		}
		req->last_pass = arg[0] - '0';
		return 0;
	case 'v': req->verbose++; return 0;
	case 'r': req->kernel = arg; return 0;
	case 'a': req->arch = arg; return 0;
	case 'R': req->runtime = arg; return 0;
	case 'm': req->module = arg; return 0;
	case 'e':
		if (req->script_text) {
			sc_error_set(err, "only one -e SCRIPT may be given");
			return -EINVAL;
		}
		req->script_text = arg;
		return 0;
	case 'G': return check_global(arg, err);
	case 'T':
		if (strv_push(&req->targets, arg) < 0) {
			sc_error_set(err, "out of memory");
			return -ENOMEM;
		}
		return 0;
	case SC_OPT_CONNECT_TIMEOUT:
		return int_arg("--connect-timeout", arg, 1, SC_REMOTE_CONNECT_TIMEOUT_MAX,
			       &req->connect_timeout, err);
	case SC_OPT_JOBS:
		return int_arg("--jobs", arg, 1, SC_REMOTE_JOBS_MAX, &req->jobs, err);
	case SC_OPT_EXPLAIN: req->explain = true; return 0;
	case 'h':
		sc_usage(stdout);
		return 1;
	case 'V':
		printf("stapcache %s\n", PACKAGE_VERSION);
		return 1;
	default: return 0;
	}
}

int sc_options_parse(int argc, char **argv, struct sc_request *req, struct sc_error *err)
{
	struct option longs[sizeof(sc_opts) / sizeof(sc_opts[0]) + 1];
	char shorts[3 * sizeof(sc_opts) / sizeof(sc_opts[0]) + 3];
	int c, r;

	memset(req, 0, sizeof(*req));
	req->last_pass = 5;
	getopt_spec(shorts, sizeof(shorts), longs);
	opterr = 0;
	optind = 0; /* 0, not 1: glibc then forgets the state of an earlier parse */
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct sc_opt *o = find_opt(c);
		const char *value = optarg;

		if (!o)
			return unsupported(c, argv[optind - 1], err);
		if (o->id == SC_OPT_UNPRIVILEGED)
			value = "stapusr";
		r = apply(req, o, value, err);
		if (r != 0)
			return r;
		if (push_opt(req, o, value) < 0) {
			sc_error_set(err, "out of memory");
			return -ENOMEM;
		}
	}
	if (!req->script_text) {
		if (optind >= argc) {
			sc_error_set(err, "no script: give -e SCRIPT or a script FILE "
					  "(see stapcache --help)");
			return -EINVAL;
		}
		req->script_file = argv[optind++];
	}
	for (; optind < argc; optind++)
		if (strv_push(&req->args, argv[optind]) < 0)
			return -ENOMEM;
	/* stap wants a C identifier; the kernel, at most SC_MODULE_NAME_MAX characters. */
	if (req->module && (strlen(req->module) > SC_MODULE_NAME_MAX ||
			    !sc_identifier_ok(req->module, strlen(req->module)))) {
		sc_error_set(err, "-m '%s': a module name is 1-55 letters, digits or '_', "
				  "not starting with a digit", req->module);
		return -EINVAL;
	}
	return 0;
}
