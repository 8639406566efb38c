/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The compile command, stapcache's default: a stap command line (options.c)
 * to a key (core/job.c), the module from the cache or a build (cache/), then
 * -p4's path, --explain's record, or a run (run/, or remote/ for -T).
 * Invoked as stap (a symlink named stap before the real one on PATH), it is
 * a drop-in: what can be cached is, and the real stap, found further down
 * PATH, runs everything else with the original argv.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cache/build.h"
#include "cache/cache.h"
#include "cmd/cmd.h"
#include "common/fsutil.h"
#include "common/modinfo.h"
#include "common/parse.h"
#include "core/cache-key.h"
#include "core/context.h"
#include "cache/job.h"
#include "core/build-tree.h"
#include "core/options.h"
#include "output/progress.h"
#include "remote/fleet.h"
#include "remote/targets.h"
#include "run/capture.h"
#include "run/runner.h"
#include "sign/signed.h"
#include "sign/signer.h"
#include "store/client.h"

/*
 * Nothing to cache (-p1..-p3, -l, -L, --disable-cache, ...): stap runs the
 * command line itself, with config.yaml's runtime when the request names
 * none (so that what passes through builds where a cached build does).
 * ctx may be NULL (a config.yaml that does not parse stands in nobody's way).
 */
static int pass_through(const char *stap, int argc, char **argv,
			const struct sc_request *req, const struct sc_ctx *ctx,
			bool as_stap)
{
	const char **v = calloc((size_t)argc + 3, sizeof(*v));
	int n = 0;

	if (!v) {
		fprintf(stderr, "stapcache: out of memory\n");
		return 1;
	}
	if (req->verbose)
		fprintf(stderr, "stapcache: running %s: %s\n", stap,
			req->exec_why ? req->exec_why : "nothing to cache");
	/* As stap, argv[0] stays what the caller typed: stap's messages name it. */
	v[n++] = as_stap ? argv[0] : stap;
	if (ctx && ctx->runtime && strcmp(ctx->runtime, SC_STAP_RUNTIME_DEFAULT) &&
	    !sc_request_has(req, 'R', NULL)) {
		v[n++] = "-R";
		v[n++] = ctx->runtime;
	}
	for (int i = 1; i < argc; i++)
		v[n++] = argv[i];
	fflush(NULL);
	execv(stap, (char *const *)v);
	fprintf(stderr, "stapcache: cannot run %s: %s; install systemtap\n", stap,
		strerror(errno));
	free(v);
	return 1;
}

/*
 * -T NUMBER: a known_hosts target of that name, else stap's -T TIME. Said
 * once on stderr, whichever it is.
 */
static int resolve_timeout(struct sc_request *req, const struct sc_env *env, bool quiet)
{
	struct sc_targets all = {0};
	char *path = sc_targets_default_path(env->xdg_config_home, env->home);
	bool target = false;
	int r = 0;

	if (sc_targets_load(path, &all, NULL) == 0)
		for (size_t i = 0; i < all.n && !target; i++)
			target = !strcmp(all.v[i].name, req->timeout);
	if (target) {
		fprintf(stderr,
			"stapcache: -T %s: the known_hosts target '%s' (not stap's "
			"-T TIME)\n",
			req->timeout, req->timeout);
		r = sc_request_timeout_is_target(req);
	} else if (!quiet) {
		fprintf(stderr,
			"stapcache: -T %s: stap's meaning, end the script after %s "
			"seconds (no known_hosts target is named '%s')\n",
			req->timeout, req->timeout, req->timeout);
	}
	sc_targets_clear(&all);
	free(path);
	return r;
}

/* stap -p4 -m NAME leaves NAME.ko in the current directory and prints its name. */
static int copy_here(const char *path, const char *module)
{
	char *buf = NULL, *dest = sc_strdupf("%s.ko", module);
	size_t len = 0;
	int r = sc_read_file(path, SC_MODULE_MAX, &buf, &len);

	r = r ?: sc_write_file_atomic(dest, buf, len, 0644, NULL);
	if (r < 0)
		fprintf(stderr, "stapcache: cannot write %s: %s\n", dest, strerror(-r));
	else
		printf("%s\n", dest);
	free(buf);
	free(dest);
	return r < 0 ? 1 : 0;
}

/*
 * Without -p4: exec the runner (or supervise it for a duration: run.c), or
 * stay its parent when stapcache reads the output (capture.c, which then
 * applies the duration itself).
 */
static int run_module(struct sc_request *req, const char *path, unsigned duration)
{
	struct sc_output_opts oo = {.json = req->output_json,
				    .trace = req->trace,
				    .file = req->output_file};

	if (!req->output_json && !req->trace)
		return sc_run_module(req, path, duration);
	req->output_here = true;
	return sc_run_captured(req, path, &oo, duration);
}

/*
 * The script file does not exist: a word that is no file is more likely a
 * mistyped command than a script ("stapcache cahce stats", "stapcache
 * help"). Says which, before anything looks at kernels. Returns the exit
 * status: 1 for a missing file, 2 (a usage error) for an unknown command.
 */
static int no_script(const char *file)
{
	const char *best = NULL;
	size_t bd = SC_TYPO_DISTANCE_MAX + 1;

	if (strchr(file, '/') || strchr(file, '.')) {
		fprintf(stderr, "stapcache: cannot read script %s: %s%s\n", file,
			strerror(errno),
			errno == ENOENT ? " (check the path, or use -e SCRIPT)" : "");
		return 1;
	}
	for (size_t i = 0; i < sc_commands_n; i++) {
		size_t d = sc_word_distance(file, strlen(file), sc_commands[i].name,
					    strlen(sc_commands[i].name));

		if (sc_commands[i].summary && d < bd) {
			bd = d;
			best = sc_commands[i].name;
		}
	}
	if (!strcmp(file, "help"))
		fprintf(stderr, "stapcache: 'help' is not a command; did you mean "
				"'stapcache --help'?\n");
	else if (best)
		fprintf(stderr,
			"stapcache: '%s' is not a command, nor a script file here; did you "
			"mean '%s'? (stapcache --help lists the commands)\n",
			file, best);
	else
		fprintf(stderr,
			"stapcache: '%s' is not a command, nor a script file here "
			"(stapcache --help lists the commands)\n",
			file);
	return 2;
}

/*
 * Invoked as stap, a request without -p4 for a release or an architecture
 * that is not this host's stops after pass 4 and says so, as stap does (the
 * path is printed, status 0): scripts that cross-compile with stap -r keep
 * working. stapcache itself hands the module to the runner, which says what
 * the kernel thinks of it (and a test's stand-in runner can run it).
 */
static void forced_pass4(struct sc_request *req, const struct sc_kernel *k)
{
	struct utsname u;

	if (req->last_pass != 5 || uname(&u) < 0)
		return;
	if (!strcmp(k->release, u.release) && !strcmp(k->arch, u.machine))
		return;
	req->last_pass = 4;
	fprintf(stderr,
		"Kernel release/architecture mismatch with host forces last-pass 4.\n");
}

/*
 * A run here, on a kernel that loads only signed modules (issue 20): the
 * signed variant by the configured signer instead, when one is cached (or
 * in the shared store). Otherwise the unsigned module runs, and the runner
 * says what the kernel thinks of it.
 */
static void local_signed(struct sc_job *j, char **path)
{
	struct sc_error err = {{0}};
	struct sc_signer s;
	char *signed_path = NULL;

	if (!j->ctx.signing_key || !sc_signed_required_here() ||
	    sc_signer_open(j->ctx.signing_key, j->ctx.signing_cert, &s, &err) < 0)
		return;
	if (sc_signed_find(j->cache, &j->key, s.fp, false, &signed_path, &err) == 0) {
		if (j->req.verbose)
			fprintf(stderr,
				"stapcache: this kernel loads only signed modules: "
				"the signed variant %s\n",
				signed_path);
		free(*path);
		*path = signed_path;
	}
	sc_signer_clear(&s);
}

/*
 * The request, once it is one to cache: its key, then the module from the
 * cache or a build, then what was asked of it. Returns the exit status.
 */
static int cached(struct sc_job *j, bool as_stap)
{
	struct sc_request *req = &j->req;
	struct sc_build b = {.req = req,
			     .ctx = &j->ctx,
			     .kernel = &j->kernel,
			     .key = &j->key,
			     .quiet = as_stap && !req->verbose};
	struct sc_error err = {{0}};
	enum sc_cache_how how;
	char *path = NULL;
	int status = 1;

	if (sc_job_key(j, &err) < 0)
		goto fail;
	if (as_stap)
		forced_pass4(req, &j->kernel);
	if (req->explain)
		return sc_signed_explain(&j->key, &j->ctx, j->cache, stdout) == 0 ? 0 : 1;
	if (sc_cache_get(j->cache, &j->key, sc_build_run, &b, &path, &how, &err) < 0) {
		if (sc_build_interrupted())
			status = 128 + sc_build_interrupted();
		goto fail;
	}
	if (req->verbose)
		fprintf(stderr, "stapcache: %s: %s\n",
			how == SC_CACHE_BUILT        ? "built"
			: how == SC_CACHE_HIT_WAITED ? "built by a concurrent request"
			: how == SC_CACHE_SHARED     ? "shared cache hit"
						     : "cache hit",
			path);
	if (req->last_pass == 4 && as_stap && req->module) {
		status = copy_here(path, req->module);
	} else if (req->last_pass == 4) {
		printf("%s\n", path);
		status = fflush(stdout) == 0 ? 0 : 1;
	} else {
		local_signed(j, &path);
		status = run_module(req, path, sc_run_duration(req, j->ctx.max_duration));
	}
	free(path);
	return status;
fail:
	fprintf(stderr, "stapcache: %s\n", err.msg);
	return status;
}

/* The cache behind the request: open, with the request's cache options applied. */
static int open_cache(struct sc_job *j, struct sc_error *err)
{
	struct sc_request *req = &j->req;
	struct sc_ctx *ctx = &j->ctx;
	size_t evicted;
	uint64_t freed;

	if (sc_cache_open(ctx->cache_dir, ctx->max_size, &j->cache, err) < 0)
		return -1;
	sc_cache_set_lock_wait(j->cache, sc_build_timeout(req, ctx));
	sc_cache_set_shared(j->cache, sc_shared_new(ctx)); /* NULL: no shared-cache: */
	sc_cache_set_recache(j->cache, req->recache);
	if (req->clean_cache && ctx->max_size)
		(void)sc_cache_prune(j->cache, ctx->max_size, NULL, &evicted, &freed);
	return 0;
}

int sc_cmd_compile(int argc, char **argv, bool as_stap, bool trace)
{
	struct sc_error err = {{0}};
	struct sc_job j = {0};
	struct sc_request *req = &j.req;
	struct sc_ctx *ctx = &j.ctx;
	char *real_stap = NULL;
	bool have_ctx, quiet;
	int r, status = 1;

	r = sc_job_parse(&j, argc, argv, as_stap, NULL);
	if (r > 0 && req->help) {
		sc_usage(stdout);
		sc_cmd_list(stdout);
	}
	if (r != 0) {
		sc_job_clear(&j);
		return r < 0 ? 2 : 0;
	}
	req->trace = trace;
	/* Invoked as stap, stapcache says nothing of its own unless asked (-v). */
	quiet = as_stap && !req->verbose;
	if (!as_stap && !req->exec_stap && req->script_file &&
	    strcmp(req->script_file, "-") && access(req->script_file, R_OK) < 0) {
		status = no_script(req->script_file);
		goto out;
	}
	if (as_stap && sc_find_real_stap(&j.env, &real_stap, &err) < 0)
		goto fail;
	have_ctx = sc_ctx_init(ctx, &j.env, &err) == 0;
	/* Invoked as stap, not even a bad config.yaml stands between stap and its work. */
	if (as_stap && req->exec_stap) {
		status = pass_through(real_stap, argc, argv, req, have_ctx ? ctx : NULL,
				      true);
		goto out;
	}
	if (!have_ctx)
		goto fail;
	if (real_stap)
		sc_ctx_set_stap(ctx, &j.env, real_stap);
	ctx->progress = !req->no_progress && !quiet &&
			sc_progress_wanted(STDERR_FILENO, j.env.term);
	if (req->exec_stap) {
		status = pass_through(ctx->stap, argc, argv, req, ctx, as_stap);
		goto out;
	}
	if (req->timeout && resolve_timeout(req, &j.env, quiet) < 0) {
		sc_error_set(&err, "out of memory");
		goto fail;
	}
	if (req->detach && !req->targets.n && !req->remotes.n && req->last_pass != 4) {
		fprintf(stderr, "stapcache: --detach needs -T TARGET: a detached run "
				"keeps its output on the target\n");
		status = 2;
		goto out;
	}
	if (open_cache(&j, &err) < 0)
		goto fail;
	if (req->targets.n || req->remotes.n) {
		req->output_here = true; /* stapcache-remote writes -o FILE here */
		status = sc_remote_targets(req, &j.env, ctx, j.cache);
		goto out;
	}
	status = cached(&j, as_stap);
	goto out;
fail:
	fprintf(stderr, "stapcache: %s\n", err.msg);
out:
	free(real_stap);
	sc_job_clear(&j);
	return status;
}

void sc_cmd_list(FILE *out)
{
	fputs("\nCommands:\n", out);
	for (size_t i = 0; i < sc_commands_n; i++)
		if (sc_commands[i].summary)
			fprintf(out, "  %-20s%s\n", sc_commands[i].name,
				sc_commands[i].summary);
}
