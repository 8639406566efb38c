/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend.h"
#include "fsutil.h"
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

static void push(char ***v, size_t *n, const char *s)
{
	*v = realloc(*v, (*n + 2) * sizeof(**v));
	if (!*v)
		abort();
	(*v)[(*n)++] = (char *)s;
	(*v)[*n] = NULL;
}

static int exec_run(const struct sc_request *req, const struct sc_targets *all,
		    const size_t *idx, size_t n, struct build *builds, size_t nb,
		    struct build **of)
{
	char **v = NULL;
	size_t nv = 0;
	int r;

	push(&v, &nv, "stapcache-remote");
	push(&v, &nv, "run");
	for (int i = 0; i < req->verbose && i < 4; i++)
		push(&v, &nv, "-v");
	if (req->connect_timeout) {
		push(&v, &nv, "--connect-timeout");
		push(&v, &nv, req->connect_timeout);
	}
	if (req->jobs) {
		push(&v, &nv, "--jobs");
		push(&v, &nv, req->jobs);
	}
	const char *flags[] = {"-c", "-x", "-o", "-s"};
	const char *vals[] = {req->cmd, req->pid, req->output, req->bufsize};
	for (size_t i = 0; i < 4; i++)
		if (vals[i]) {
			push(&v, &nv, flags[i]);
			push(&v, &nv, vals[i]);
		}
	for (size_t i = 0; i < n; i++) {
		push(&v, &nv, "-T");
		push(&v, &nv, sc_strdupf("%s=%s", all->v[idx[i]].name, of[i]->path));
	}
	push(&v, &nv, "--");
	for (size_t i = 0; i < req->globals.n; i++)
		push(&v, &nv, req->globals.v[i]);
	(void)builds;
	(void)nb;
	r = exec_helper(v);
	free(v);
	return r;
}

int sc_remote_targets(const struct sc_request *req, sc_get_module_fn get, void *ud)
{
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	struct build *builds = NULL, **of = NULL;
	size_t *idx = NULL, n = 0, nb = 0;
	char *path = sc_targets_default_path();
	int status = 1;

	if (req->kernel || req->arch) {
		fprintf(stderr, "stapcache: -r/-a and -T do not go together: a target's "
				"known_hosts entry says its kernel and arch\n");
		status = 2;
		goto out;
	}
	if (sc_targets_load(path, &all, &err) < 0 ||
	    sc_targets_select(&all, req->targets.v, req->targets.n, &idx, &n, &err) < 0) {
		fprintf(stderr, "stapcache: %s%s\n", err.msg,
			all.n == 0 && access(path, F_OK) != 0 ? " (no known_hosts file yet)" : "");
		goto out;
	}
	builds = calloc(n, sizeof(*builds));
	of = calloc(n, sizeof(*of));
	if (!builds || !of)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct sc_target *t = &all.v[idx[i]];
		const char *spec = t->build_tree ? t->build_tree : t->kernel;
		const char *rt = req->runtime ? req->runtime : t->runtime;
		struct build *b = find_build(builds, nb, spec, t->arch, rt);

		if (t->sysroot)
			fprintf(stderr, "stapcache: warning: %s: sysroot is not used yet\n",
				t->name);
		if (!b) {
			b = &builds[nb++];
			*b = (struct build){.first = t, .spec = spec, .arch = t->arch, .runtime = rt};
			if (get(ud, spec, t->arch, rt, &b->path, &err) < 0) {
				fprintf(stderr, "stapcache: %s (for target %s): %s\n", spec, t->name,
					err.msg);
				goto out;
			}
		}
		of[i] = b;
	}
	if (req->last_pass == 4) {
		for (size_t i = 0; i < nb; i++)
			printf("%s\n", builds[i].path);
		status = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	status = exec_run(req, &all, idx, n, builds, nb, of);
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
