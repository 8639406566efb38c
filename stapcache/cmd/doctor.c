/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache doctor [-T TARGET|@GROUP]... [--json]`, the build side: what
 * only this process knows (the stap config.yaml names, the runtime in use,
 * the cache and its limit, the build tree for each target's kernel). Each
 * check becomes one --check line for the stapcache-remote helper, which adds
 * what a host can run (asked over SSH, or here for this host), prints the
 * report and decides the exit status (remote/doctor.c). The helper renders
 * it, so json-c and libssh stay out of stapcache.
 */
#include "build-config.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../cache.h"
#include "../context.h"
#include "../kernel.h"
#include "../remote/frontend.h"
#include "../remote/targets.h"
#include "../util.h"
#include "doctor.h"
#include "fsutil.h"
#include "spawn.h"

/* SECTION \t NAME \t 1|0 \t DETAIL \t FIX: tabs and newlines in the texts become spaces. */
static int add(struct sc_argv *a, const char *section, const char *name, int ok,
	       const char *detail, const char *fix)
{
	char *line = sc_strdupf("%s\t%s\t%d\t%s\t%s", section, name, ok, detail,
				fix ? fix : "");
	int tabs = 0, r;

	for (char *p = line; *p; p++) {
		if (*p == '\t' && tabs < 4)
			tabs++;
		else if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
	}
	r = sc_argv_push(a, "--check") ?: sc_argv_pushf(a, "%s", line);
	free(line);
	return r;
}

static void check_stap(struct sc_argv *a, const struct sc_ctx *ctx)
{
	const char *argv[] = {ctx->stap, "-V", NULL};
	char *out = NULL, *ver, *end;

	if (access(ctx->stap, X_OK) < 0) {
		char *d = sc_strdupf("no stap at %s", ctx->stap);

		add(a, "", "stap", 0, d,
		    "apt-get install systemtap (or set stap: in config.yaml)");
		free(d);
		return;
	}
	(void)sc_run_capture(argv, 1u << 16, &out); /* stap -V exits 0, on stderr */
	ver = out ? strstr(out, "version ") : NULL;
	end = ver ? strpbrk(ver + 8, ",)\n") : NULL;
	if (ver && end) {
		char *d = sc_strdupf("%s, version %.*s", ctx->stap, (int)(end - ver - 8),
				     ver + 8);

		add(a, "", "stap", 1, d, NULL);
		free(d);
	} else {
		char *d = sc_strdupf("%s -V gave no version", ctx->stap);

		add(a, "", "stap", 0, d,
		    "reinstall systemtap (apt-get install --reinstall systemtap)");
		free(d);
	}
	free(out);
}

static void check_cache(struct sc_argv *a, const struct sc_ctx *ctx)
{
	struct sc_error err = {{0}};
	struct sc_cache *c = NULL;
	struct sc_entry_info *e = NULL;
	char hs[32], hl[32], *probe = sc_strdupf("%s/.doctor-XXXXXX", ctx->cache_dir), *d;
	uint64_t bytes = 0;
	size_t n = 0;
	int fd = -1;

	if (sc_cache_open(ctx->cache_dir, ctx->max_size, &c, &err) == 0)
		fd = mkstemp(probe);
	if (fd < 0) {
		d = sc_strdupf("%s is not writable: %s", ctx->cache_dir,
			       err.msg[0] ? err.msg : strerror(errno));
		add(a, "", "cache", 0, d,
		    "fix its owner and mode, or set cache-dir: in config.yaml "
		    "(or STAPCACHE_DIR) to a directory of yours");
		goto out;
	}
	close(fd);
	unlink(probe);
	if (sc_cache_entries(c, &e, &n) == 0)
		for (size_t i = 0; i < n; i++)
			bytes += e[i].size;
	sc_cache_entries_free(e, n);
	sc_human_size(bytes, hs, sizeof(hs));
	sc_human_size(ctx->max_size, hl, sizeof(hl));
	d = sc_strdupf("%s writable, %zu entries, %s of %s%s", ctx->cache_dir, n, hs,
		       ctx->max_size ? hl : "no limit",
		       ctx->max_size && bytes > ctx->max_size
			       ? " (over: the next build prunes it)"
			       : "");
	add(a, "", "cache", 1, d, NULL);
out:
	free(d);
	free(probe);
	sc_cache_free(c);
}

/* A prepared copy of the runtime (stapcache-fix-runtime's stamp file), or NULL. */
static char *prepared_runtime(void)
{
	glob_t g;
	char *r = NULL;

	if (glob("/var/lib/stapcache/runtime/*-fixed/STAPCACHE-FIXES", 0, NULL, &g) ==
		    0 &&
	    g.gl_pathc > 0) {
		r = sc_strdupf("%s", g.gl_pathv[g.gl_pathc - 1]);
		*strrchr(r, '/') = '\0';
	}
	globfree(&g);
	return r;
}

/* The build tree for spec and, for it, the runtime: two checks in section. */
static void check_kernel(struct sc_argv *a, const char *section, const char *spec,
			 const char *arch, const char *runtime)
{
	struct sc_error err = {{0}};
	struct sc_kernel k = {0};
	char *d, *fix, *ready;

	if (sc_kernel_resolve(spec, arch, &k, &err) < 0) {
		struct utsname u;
		const char *rel = spec && !strchr(spec, '/') ? spec
				  : !spec && uname(&u) == 0  ? u.release
							     : "RELEASE";

		fix = sc_strdupf("apt-get install linux-headers-%s%s", rel,
				 *section ? " (or set build-tree: in known_hosts)" : "");
		add(a, section, "build tree", 0, err.msg, fix);
		free(fix);
		return;
	}
	d = sc_strdupf("%s for %s (%s)", k.build_tree, k.release, k.arch);
	add(a, section, "build tree", 1, d, NULL);
	free(d);
	if (!sc_kernel_needs_runtime_fix(&k, runtime)) {
		d = sc_strdupf("%s compiles for %s (no systemtap 4.8 fix needed, "
			       "or it is in)",
			       runtime, k.release);
		add(a, section, "runtime", 1, d, NULL);
	} else {
		ready = prepared_runtime();
		d = sc_strdupf("%s needs the systemtap 4.8 runtime fix (task_work_cancel_func), "
			       "and %s is the unfixed runtime; a fixed copy is %s",
			       k.release, runtime, ready ? ready : "not prepared");
		fix = ready ? sc_strdupf("set 'runtime: %s' in config.yaml%s", ready,
					 *section ? " (or runtime: in known_hosts)" : "")
			    : sc_strdupf("stapcache-fix-runtime -r %s, then set runtime: "
					 "in config.yaml to the directory it prints",
					 k.release);
		add(a, section, "runtime", 0, d, fix);
		free(fix);
		free(ready);
	}
	free(d);
	sc_kernel_clear(&k);
}

static int usage(void)
{
	fprintf(stderr, "Usage: stapcache doctor [-T TARGET|@GROUP]... [--json]\n");
	return 2;
}

int sc_cmd_doctor(int argc, char **argv)
{
	struct sc_argv a = {0}, specs = {0};
	struct sc_error err = {{0}};
	struct sc_targets all = {0};
	struct sc_env env;
	struct sc_ctx ctx = {0};
	size_t *idx = NULL, n = 0;
	char *path = NULL;
	bool json = false;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "-T") && i + 1 < argc)
			sc_argv_push(&specs, argv[++i]);
		else
			return usage();
	}
	sc_env_read(&env);
	sc_argv_push(&a, "stapcache-remote");
	sc_argv_push(&a, "doctor");
	if (json)
		sc_argv_push(&a, "--json");
	if (sc_ctx_init(&ctx, &env, &err) < 0) {
		add(&a, "", "config", 0, err.msg, "fix the file and line it names");
	} else {
		check_stap(&a, &ctx);
		check_cache(&a, &ctx);
	}
	if (specs.n == 0) {
		sc_argv_push(&a, "--local");
		if (ctx.runtime)
			check_kernel(&a, "", NULL, NULL, ctx.runtime);
	} else {
		path = sc_targets_default_path(env.xdg_config_home, env.home);
		if (sc_targets_load(path, &all, &err) < 0 ||
		    sc_targets_select(&all, (const char *const *)specs.v, specs.n, &idx,
				      &n, &err) < 0) {
			fprintf(stderr, "stapcache: doctor: %s\n", err.msg);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			const struct sc_target *t = &all.v[idx[i]];

			sc_argv_push(&a, "-T");
			sc_argv_push(&a, t->name);
			if (ctx.runtime)
				check_kernel(&a, t->name,
					     t->build_tree ? t->build_tree : t->kernel,
					     t->arch,
					     t->runtime ? t->runtime : ctx.runtime);
		}
	}
	status = sc_remote_exec_argv((char **)a.v);
out:
	sc_targets_clear(&all);
	sc_ctx_clear(&ctx);
	sc_argv_free(&a);
	sc_argv_free(&specs);
	free(idx);
	free(path);
	return status;
}
