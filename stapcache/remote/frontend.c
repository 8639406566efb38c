/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../build.h"
#include "../kernel.h"
#include "../key.h"
#include "../run.h"
#include "frontend.h"
#include "fsutil.h"
#include "spawn.h"
#include "targets.h"

/* One distinct build and the module it gave. */
struct build {
	const struct sc_target *first; /* the target it was made for first */
	const char *spec, *arch, *runtime;
	char *path;
};

/*
 * stapcache-remote next to this program (the build tree), else where
 * make install puts it.
 */
static char *helper_path(void)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			p = sc_strdupf("%s/stapcache-remote", self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return sc_strdupf("%s", PKGLIBEXECDIR "/stapcache-remote");
}

static int exec_helper(char **argv)
{
	char *path = helper_path();

	argv[0] = path;
	fflush(NULL);
	execv(path, argv);
	fprintf(stderr, "stapcache: cannot run %s: %s (make install puts it there)\n", path,
		strerror(errno));
	free(path);
	return 1;
}

int sc_remote_exec_host(int argc, char **argv)
{
	char **v = calloc((size_t)argc + 2, sizeof(*v));

	if (!v)
		return 1;
	v[1] = "host";
	for (int i = 1; i < argc; i++)
		v[i + 1] = argv[i];
	return exec_helper(v);
}

int sc_remote_exec_bless(const char *const *targets, size_t ntargets, const char *admin,
			 const char *policy, const char *hex, const char *line)
{
	struct sc_argv a = {0};
	int r = sc_argv_push(&a, "stapcache-remote") ?: sc_argv_push(&a, "bless");

	for (size_t i = 0; r == 0 && i < ntargets; i++)
		r = sc_argv_push(&a, "-T") ?: sc_argv_push(&a, targets[i]);
	if (r == 0 && admin)
		r = sc_argv_push(&a, "--admin") ?: sc_argv_push(&a, admin);
	if (r == 0 && policy)
		r = sc_argv_push(&a, "--policy") ?: sc_argv_push(&a, policy);
	r = r ?: sc_argv_push(&a, "--") ?: sc_argv_push(&a, hex) ?: sc_argv_push(&a, line);
	if (r == 0)
		r = exec_helper((char **)a.v);
	else
		fprintf(stderr, "stapcache: out of memory\n");
	sc_argv_free(&a);
	return 1;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static struct build *find_build(struct build *b, size_t n, const char *spec, const char *arch,
				const char *runtime)
{
	for (size_t i = 0; i < n; i++)
		if (same(b[i].spec, spec) && same(b[i].arch, arch) && same(b[i].runtime, runtime))
			return &b[i];
	return NULL;
}

/*
 * Get or build req's module for one target's kernel as `-r spec -a arch
 * [-R runtime] -p4` would: the same key, the same cache entry, the same
 * build. Returns 0 and *path (caller frees), or -errno with err set.
 */
static int get_module(const struct sc_request *req, const struct sc_ctx *ctx,
		      struct sc_cache *c, const struct build *want, char **path,
		      struct sc_error *err)
{
	struct sc_request treq = *req;
	struct sc_kernel k = {0};
	struct sc_key key = {0};
	enum sc_cache_how how;
	int r;

	treq.kernel = want->spec;
	treq.arch = want->arch;
	treq.runtime = want->runtime; /* NULL: the context's */
	r = sc_kernel_resolve(treq.kernel, treq.arch, &k, err);
	if (r == 0)
		r = sc_key_compute(&treq, ctx, &k, sc_cache_memo_dir(c), &key, err);
	if (r == 0) {
		struct sc_build b = {.req = &treq, .ctx = ctx, .kernel = &k, .key = &key};

		r = sc_cache_get(c, &key, sc_build_run, &b, path, &how, err);
	}
	if (r == 0 && req->verbose)
		fprintf(stderr, "stapcache: %s for %s: %s\n",
			how == SC_CACHE_BUILT	      ? "built"
			: how == SC_CACHE_HIT_WAITED ? "built by a concurrent request"
						      : "cache hit",
			k.release, *path);
	sc_key_clear(&key);
	sc_kernel_clear(&k);
	return r;
}

/*
 * stapcache-remote run's argv: its own options, one -T NAME=MODULE.ko per
 * target, then what the table gives the runner (sc_run_opts, as run.c gives
 * it locally) verbatim: each option word as --runner-arg WORD, the module
 * parameters after "--".
 */
static int helper_argv(const struct sc_request *req, const struct sc_targets *all,
		       const size_t *idx, size_t n, struct build *const *of,
		       struct sc_argv *a, struct sc_argv *opts, struct sc_argv *params)
{
	int r = sc_argv_push(a, "stapcache-remote") ?: sc_argv_push(a, "run");

	for (int i = 0; r == 0 && i < req->verbose && i < 4; i++)
		r = sc_argv_push(a, "-v");
	if (r == 0 && req->connect_timeout)
		r = sc_argv_pushf(a, "--connect-timeout=%d", req->connect_timeout);
	if (r == 0 && req->jobs)
		r = sc_argv_pushf(a, "--jobs=%d", req->jobs);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = sc_argv_push(a, "-T") ?:
		    sc_argv_pushf(a, "%s=%s", all->v[idx[i]].name, of[i]->path);
	r = r ?: sc_run_opts(req, opts, params);
	for (size_t i = 0; r == 0 && i < opts->n; i++)
		r = sc_argv_push(a, "--runner-arg") ?: sc_argv_push(a, opts->v[i]);
	r = r ?: sc_argv_push(a, "--");
	for (size_t i = 0; r == 0 && i < params->n; i++)
		r = sc_argv_push(a, params->v[i]);
	return r;
}

static int exec_run(const struct sc_request *req, const struct sc_targets *all,
		    const size_t *idx, size_t n, struct build *const *of)
{
	struct sc_argv a = {0}, opts = {0}, params = {0};
	int status = 1;

	if (helper_argv(req, all, idx, n, of, &a, &opts, &params) < 0)
		fprintf(stderr, "stapcache: out of memory\n");
	else
		status = exec_helper((char **)a.v);
	sc_argv_free(&a);
	sc_argv_free(&opts);
	sc_argv_free(&params);
	return status;
}

/*
 * One build per distinct (tree or release, arch, runtime) among the selected
 * targets: builds[] gets them (*nb of them), of[i] the one for target idx[i].
 * The runtime is -R, else the target's runtime:, else the context's.
 * Returns 0, or the exit status after saying what failed.
 */
static int get_builds(const struct sc_request *req, const struct sc_ctx *ctx,
		      struct sc_cache *c, const struct sc_targets *all, const size_t *idx,
		      size_t n, struct build *builds, size_t *nb, struct build **of)
{
	struct sc_error err = {{0}};

	for (size_t i = 0; i < n; i++) {
		const struct sc_target *t = &all->v[idx[i]];
		const char *spec = t->build_tree ? t->build_tree : t->kernel;
		const char *rt = req->runtime ? req->runtime : t->runtime;
		struct build *b = find_build(builds, *nb, spec, t->arch, rt);

		if (t->sysroot)
			fprintf(stderr, "stapcache: warning: %s: sysroot is not used yet\n",
				t->name);
		if (!b) {
			b = &builds[(*nb)++];
			*b = (struct build){.first = t, .spec = spec, .arch = t->arch, .runtime = rt};
			if (get_module(req, ctx, c, b, &b->path, &err) < 0) {
				fprintf(stderr, "stapcache: %s (for target %s): %s\n", spec, t->name,
					err.msg);
				return sc_build_interrupted() ? 128 + sc_build_interrupted() : 1;
			}
		}
		of[i] = b;
	}
	return 0;
}

int sc_remote_targets(const struct sc_request *req, const struct sc_env *env,
		      const struct sc_ctx *ctx, struct sc_cache *c)
{
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	struct build *builds = NULL, **of = NULL;
	size_t *idx = NULL, n = 0, nb = 0;
	char *path = sc_targets_default_path(env->xdg_config_home, env->home);
	int status = 2;

	if (req->kernel || req->arch) {
		fprintf(stderr, "stapcache: -r/-a and -T do not go together: a target's "
				"known_hosts entry says its kernel and arch\n");
		goto out;
	}
	if (req->explain) {
		fprintf(stderr, "stapcache: --explain and -T do not go together: explain "
				"with -r and -a of one target\n");
		goto out;
	}
	status = 1;
	if (sc_targets_load(path, &all, &err) < 0 ||
	    sc_targets_select(&all, req->targets.v, req->targets.n, &idx, &n, &err) < 0) {
		fprintf(stderr, "stapcache: %s%s\n", err.msg,
			all.n == 0 && access(path, F_OK) != 0 ? " (no known_hosts file yet)" : "");
		goto out;
	}
	builds = calloc(n, sizeof(*builds));
	of = calloc(n, sizeof(*of));
	if (!builds || !of) {
		fprintf(stderr, "stapcache: out of memory\n");
		goto out;
	}
	status = get_builds(req, ctx, c, &all, idx, n, builds, &nb, of);
	if (status != 0)
		goto out;
	if (req->last_pass == 4) {
		for (size_t i = 0; i < nb; i++)
			printf("%s\n", builds[i].path);
		status = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	status = exec_run(req, &all, idx, n, of);
out:
	for (size_t i = 0; i < nb; i++)
		free(builds[i].path);
	free(builds);
	free(of);
	free(idx);
	free(path);
	sc_targets_clear(&all);
	return status;
}
