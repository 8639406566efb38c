/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/modinfo.h"
#include "common/parse.h"
#include "run/runner.h"
#include "run/supervise.h"

const char *sc_run_runner(void)
{
	const char *auth = BINDIR "/staprun-auth";
	struct stat st;

	if (stat(auth, &st) == 0 && (st.st_mode & S_ISUID) && st.st_uid == 0)
		return auth;
	return "staprun";
}

/* The runner's options (params false: before the module) or its parameters (-G: spelled ""). */
static int push_runner(const struct sc_request *req, bool params, struct sc_argv *a)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < req->n_opts; i++) {
		const struct sc_opt *o = req->opts[i].opt;

		if (!o->runner || (*o->runner == '\0') != params)
			continue;
		/* stapcache writes -o FILE itself when it reads the output. */
		if (o->id == 'o' && req->output_here)
			continue;
		/* stap's -F: staprun -L (in memory), or with -o -D (files, in the background) */
		if (o->id == 'F' && sc_request_has(req, 'o', NULL) && !req->output_here)
			r = sc_argv_push(a, "-D");
		else
			r = sc_opt_push(a, o->runner, &req->opts[i]);
	}
	return r;
}

int sc_run_opts(const struct sc_request *req, struct sc_argv *opts,
		struct sc_argv *params)
{
	return push_runner(req, false, opts) ?: push_runner(req, true, params);
}

int sc_run_argv(const struct sc_request *req, const char *runner, const char *module_path,
		struct sc_argv *a)
{
	return sc_argv_push(a, runner) ?: push_runner(req, false, a) ?:
	       sc_argv_push(a, module_path) ?: push_runner(req, true, a);
}

int sc_run_refused(const struct sc_request *req, const char *runner, struct sc_error *err)
{
	const char *base = strrchr(runner, '/');

	if (strcmp(base ? base + 1 : runner, "staprun-auth") != 0)
		return 0;
	for (size_t i = 0; i < req->n_opts; i++) {
		const struct sc_opt *o = req->opts[i].opt;
		char name[64];

		if (!o->no_auth)
			continue;
		sc_opt_name(o, name, sizeof(name));
		sc_error_set(err,
			     "%s cannot be run by %s: %s; use -p4 and run the module "
			     "with systemtap's staprun as root, or leave %s out",
			     name, runner, o->no_auth, name);
		return -EPERM;
	}
	return 0;
}

/* Whether the parameter p (n bytes) was declared before, by an earlier entry. */
static bool declared_before(const struct sc_modinfo *mi, const char *p, size_t n)
{
	size_t o = 0, m;
	const char *q;

	while ((q = sc_modinfo_next_param(mi, &o, &m)) != p)
		if (m == n && !memcmp(p, q, n))
			return true;
	return false;
}

/*
 * The -G names the module at module_path declares no parameter for (a
 * global of the script is one): refused here, before anything connects or
 * loads, rather than by the runner after the upload. Returns 0, -ENOENT with
 * err naming the global and the module's own, or another -errno.
 */
static int params_declared(const struct sc_argv *params, const char *module_path,
			   struct sc_error *err)
{
	struct sc_modinfo *mi = NULL;
	char *buf = NULL, have[512];
	size_t len, off = 0, n, used = 0;
	const char *p;
	int r = sc_read_file(module_path, SC_MODULE_MAX, &buf, &len);

	if (r < 0) {
		sc_error_set(err, "cannot read %s: %s", module_path, strerror(-r));
		return r;
	}
	r = sc_modinfo_parse(buf, len, &mi, err);
	free(buf);
	if (r < 0)
		return r;
	/* The script's globals, for the message: the runtime's own are _stp_. */
	have[0] = '\0';
	while ((p = sc_modinfo_next_param(mi, &off, &n)))
		if (strncmp(p, "_stp_", 5) != 0 && used < sizeof(have) &&
		    !declared_before(mi, p, n)) /* by parm= and by parmtype= */
			used += (size_t)snprintf(have + used, sizeof(have) - used,
						 "%s%.*s", used ? ", " : "", (int)n, p);
	for (size_t i = 0; r == 0 && i < params->n; i++) {
		size_t k = strcspn(params->v[i], "=");
		char *name = strndup(params->v[i], k);

		if (!name)
			r = -ENOMEM;
		else if (!sc_modinfo_has_param(mi, name)) {
			char near[sizeof(have)];

			if (sc_nearest_word(name, have, near, sizeof(near)) == 0)
				sc_error_set(
					err,
					"-G %s: the script has no global %s; did you "
					"mean -G %s=...? (%s declares %s); nothing was run",
					name, name, near, sc_modinfo_name(mi), have);
			else
				sc_error_set(err,
					     "-G %s: the script has no global %s (%s declares "
					     "%s%s); -G sets a global of the script: check the "
					     "name; nothing was run",
					     name, name, sc_modinfo_name(mi),
					     have[0] ? "" : "none", have);
			r = -ENOENT;
		}
		free(name);
	}
	sc_modinfo_free(mi);
	return r;
}

int sc_run_params_check(const struct sc_request *req, const char *module_path,
			struct sc_error *err)
{
	struct sc_argv opts = {0}, params = {0};
	int r = sc_run_opts(req, &opts, &params);

	if (r < 0)
		sc_error_set(err, "out of memory");
	for (size_t i = 0; r == 0 && i < params.n; i++) {
		const char *eq = strchr(params.v[i], '=');
		const char *why = eq ? sc_param_value_problem(eq + 1) : "not NAME=VALUE";

		if (why) {
			sc_error_set(err,
				     "-G '%.80s': %s, which no runner can pass to the kernel "
				     "(module parameters are not quoted); nothing was run",
				     params.v[i], why);
			r = -EINVAL;
		}
	}
	if (r == 0 && params.n && module_path)
		r = params_declared(&params, module_path, err);
	sc_argv_free(&opts);
	sc_argv_free(&params);
	return r;
}

unsigned sc_run_duration(const struct sc_request *req, unsigned max_duration)
{
	unsigned d = req->duration > 0 ? (unsigned)req->duration : 0;

	if (max_duration && (!d || max_duration < d))
		d = max_duration;
	return d;
}

int sc_run_module(const struct sc_request *req, const char *module_path,
		  unsigned duration)
{
	const char *runner = sc_run_runner();
	struct sc_argv a = {0};
	struct sc_error err = {{0}};

	if (sc_run_refused(req, runner, &err) < 0 ||
	    sc_run_params_check(req, module_path, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}

	if (sc_run_argv(req, runner, module_path, &a) < 0) {
		fprintf(stderr, "stapcache: out of memory\n");
		return 1;
	}
	if (req->verbose) {
		fprintf(stderr, "stapcache: running");
		for (size_t i = 0; i < a.n; i++)
			fprintf(stderr, " %s", a.v[i]);
		fputc('\n', stderr);
	}
	if (duration) {
		int st = sc_supervise(a.v, duration, req->verbose);

		sc_argv_free(&a);
		return st;
	}
	fflush(NULL);
	execvp(runner, (char *const *)a.v);
	fprintf(stderr,
		"stapcache: cannot run %s: %s; install staprun-auth (make install) "
		"or systemtap-runtime, or use -p4 and run the module yourself\n",
		runner, strerror(errno));
	sc_argv_free(&a);
	return 1;
}
