/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache doctor [-T TARGET|@GROUP]... [--json]`, the build side: what
 * only this process knows (the stap config.yaml names, the runtime in use,
 * the cache and its limit, the module-signing key, the build tree for each
 * target's kernel). Each
 * check becomes one --check line for the stapcache-remote helper, which adds
 * what a host can run (asked over SSH, or here for this host), prints the
 * report and decides the exit status (remote/helper/doctor-report.c). The helper renders
 * it, so json-c and libssh stay out of stapcache.
 */
#include "build-config.h"

#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cache/cache.h"
#include "core/cmdopt.h"
#include "core/context.h"
#include "core/build-tree.h"
#include "core/build-root.h"
#include "remote/launch.h"
#include "remote/targets.h"
#include "sign/signer.h"
#include "cmd/cmd.h"
#include "common/fsutil.h"
#include "common/parse.h"
#include "common/spawn.h"

/*
 * The --check lines for the helper. The first failure (out of memory) sticks
 * in r, and the command then ends with it instead of a partial report.
 */
struct checks {
	struct sc_argv a;
	int r;
};

static void push(struct checks *c, const char *word)
{
	c->r = c->r ?: sc_argv_push(&c->a, word);
}

/*
 * One check: SECTION \t NAME \t 1|0 \t DETAIL \t FIX, DETAIL formatted;
 * tabs and newlines in the texts become spaces.
 */
__attribute__((format(printf, 6, 7))) static void
add(struct checks *c, const char *section, const char *name, int ok, const char *fix,
    const char *fmt, ...)
{
	char *detail, *line;
	va_list ap;
	int tabs = 0;

	va_start(ap, fmt);
	detail = sc_vstrdupf(fmt, ap);
	va_end(ap);
	line = sc_strdupf("%s\t%s\t%d\t%s\t%s", section, name, ok, detail,
			  fix ? fix : "");
	free(detail);
	for (char *p = line; *p; p++) {
		if (*p == '\t' && tabs < 4)
			tabs++;
		else if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
	}
	push(c, "--check");
	c->r = c->r ?: sc_argv_pushf(&c->a, "%s", line);
	free(line);
}

static void check_stap(struct checks *a, const struct sc_ctx *ctx)
{
	const char *argv[] = {ctx->stap, "-V", NULL};
	char *out = NULL, *ver, *end;

	if (access(ctx->stap, X_OK) < 0) {
		add(a, "", "stap", 0,
		    "apt-get install systemtap (or set stap: in config.yaml)",
		    "no stap at %s", ctx->stap);
		return;
	}
	(void)sc_run_capture(argv, 1u << 16, &out); /* stap -V exits 0, on stderr */
	ver = out ? strstr(out, "version ") : NULL;
	end = ver ? strpbrk(ver + 8, ",)\n") : NULL;
	if (ver && end)
		add(a, "", "stap", 1, NULL, "%s, version %.*s", ctx->stap,
		    (int)(end - ver - 8), ver + 8);
	else
		add(a, "", "stap", 0,
		    "reinstall systemtap (apt-get install --reinstall systemtap)",
		    "%s -V gave no version", ctx->stap);
	free(out);
}

static void check_cache(struct checks *a, const struct sc_ctx *ctx)
{
	struct sc_error err = {{0}};
	struct sc_cache *c = NULL;
	char hs[32], hl[32], *probe = sc_strdupf("%s/.doctor-XXXXXX", ctx->cache_dir);
	uint64_t bytes = 0;
	size_t n = 0;
	int fd = -1;

	if (!probe) {
		a->r = a->r ?: -ENOMEM;
		return;
	}
	if (sc_cache_open(ctx->cache_dir, ctx->max_size, &c, &err) == 0)
		fd = mkstemp(probe);
	if (fd < 0) {
		add(a, "", "cache", 0,
		    "fix its owner and mode, or set cache-dir: in config.yaml "
		    "(or STAPCACHE_DIR) to a directory of yours",
		    "%s is not writable: %s", ctx->cache_dir,
		    err.msg[0] ? err.msg : strerror(errno));
		goto out;
	}
	close(fd);
	unlink(probe);
	(void)sc_cache_usage(c, &n, &bytes);
	sc_human_size(bytes, hs, sizeof(hs));
	sc_human_size(ctx->max_size, hl, sizeof(hl));
	add(a, "", "cache", 1, NULL, "%s writable, %zu entries, %s of %s%s",
	    ctx->cache_dir, n, hs, ctx->max_size ? hl : "no limit",
	    ctx->max_size && bytes > ctx->max_size ? " (over: the next build prunes it)"
						   : "");
out:
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
		if (r)
			*strrchr(r, '/') = '\0';
	}
	globfree(&g);
	return r;
}

/* The build tree for spec and, for it, the runtime: two checks in section. */
static void check_kernel(struct checks *a, const char *section, const char *spec,
			 const char *arch, const char *runtime)
{
	const char *known = *section ? " (or runtime: in known_hosts)" : "";
	struct sc_error err = {{0}};
	struct sc_kernel k = {0};
	char *ready, *fix;
	const char *why;

	if (sc_kernel_resolve(spec, arch, &k, &err) < 0) {
		struct utsname u;
		const char *rel = spec && !strchr(spec, '/') ? spec
				  : !spec && uname(&u) == 0  ? u.release
							     : "RELEASE";

		fix = sc_strdupf("apt-get install linux-headers-%s%s", rel,
				 *section ? " (or set build-tree: in known_hosts)" : "");
		if (!fix)
			a->r = a->r ?: -ENOMEM;
		add(a, section, "build tree", 0, fix, "%s", err.msg);
		free(fix);
		return;
	}
	add(a, section, "build tree", 1, NULL, "%s for %s (%s)", k.build_tree, k.release,
	    k.arch);
	why = sc_kernel_runtime_fix(&k, runtime);
	if (!why) {
		add(a, section, "runtime", 1, NULL,
		    "%s compiles and runs for %s (no fix needed, or it is in)", runtime,
		    k.release);
	} else {
		ready = prepared_runtime();
		fix = ready ? sc_strdupf("set 'runtime: %s' in config.yaml%s", ready,
					 known)
			    : sc_strdupf("stapcache-fix-runtime -r %s, then set runtime: in "
					 "config.yaml to the directory it prints",
					 k.release);
		if (!fix)
			a->r = a->r ?: -ENOMEM;
		add(a, section, "runtime", 0, fix,
		    "%s needs a runtime fix (its %s), and %s is the unfixed runtime; a "
		    "fixed copy is %s",
		    k.release, why, runtime, ready ? ready : "not prepared");
		free(fix);
		free(ready);
	}
	sc_kernel_clear(&k);
}

/*
 * A target's build root: the root itself and the headers for its kernel, the
 * runtime a build there uses, and stap run inside it as this user (which a
 * refused user namespace stops).
 */
static void check_buildroot(struct checks *a, const struct sc_target *t,
			    const struct sc_ctx *ctx)
{
	const char *argv[] = {SC_BUILDROOT_STAP, "-V", NULL};
	struct sc_error err = {{0}};
	struct sc_kernel k = {0};
	char *out = NULL, *rt = NULL, *fix;
	const char *why;

	if (sc_kernel_resolve_root(t->build_root, ctx->buildroot_homes, t->kernel,
				   t->arch, &k, &err) < 0) {
		add(a, t->name, "build root", 0,
		    "as root: stapcache buildroot create --release RELEASE --dir DIR "
		    "(RELEASE: what the target runs, e.g. trixie), or correct build-root: "
		    "in known_hosts",
		    "%s", err.msg);
		return;
	}
	add(a, t->name, "build root", 1, NULL, "%s: %s, systemtap %s, headers for %s",
	    k.root->dir, k.root->release, k.root->systemtap, k.release);
	rt = t->runtime ? sc_strdupf("%s", t->runtime)
			: sc_strdupf("%s%s", k.root->dir, sc_buildroot_runtime(k.root));
	why = sc_kernel_runtime_fix(&k, rt);
	fix = sc_strdupf("as root: stapcache buildroot create --release %s --dir %s "
			 "(it prepares the fixed runtime)",
			 k.root->release, k.root->dir);
	if (why)
		add(a, t->name, "runtime", 0, fix,
		    "%s needs a runtime fix (its %s), and %s is the unfixed runtime",
		    k.release, why, rt);
	else
		add(a, t->name, "runtime", 1, NULL, "%s compiles and runs for %s", rt,
		    k.release);
	if (sc_buildroot_capture(k.root, argv, 4096, &out, &err) < 0)
		add(a, t->name, "stap in the build root", 0,
		    geteuid() == 0 ? "see the message; recreate the root if it is damaged"
				   : "allow unprivileged user namespaces (the message "
				     "says how), or build as root",
		    "%s", err.msg);
	else
		add(a, t->name, "stap in the build root", 1, NULL, "%.*s (as %s)",
		    (int)strcspn(out, "\n"), out,
		    geteuid() == 0 ? "root" : "you, in a user namespace");
	free(out);
	free(rt);
	free(fix);
	sc_kernel_clear(&k);
}

/*
 * The module-signing key (issue 20): when one is configured, a build-side
 * check, and its name for the helper, which says on each host whether that
 * host trusts it.
 */
static void check_signer(struct checks *a, const struct sc_ctx *ctx)
{
	struct sc_error err = {{0}};
	struct sc_signer s;

	if (!ctx->signing_key)
		return;
	if (sc_signer_open(ctx->signing_key, ctx->signing_cert, &s, &err) < 0) {
		add(a, "", "signing key", 0,
		    "fix signing-key: (and signing-cert:) in config.yaml, or stapcache "
		    "signing-key generate",
		    "%s", err.msg);
		return;
	}
	add(a, "", "signing key", 1, NULL, "%s, certificate %s (%s)", s.key, s.fp,
	    s.cert);
	push(a, "--signer");
	a->r = a->r ?: sc_argv_pushf(&a->a, "%s", s.fp); /* s is freed below */
	push(a, "--signer-key");
	a->r = a->r ?: sc_argv_pushf(&a->a, "%s", s.key);
	push(a, "--signer-cert");
	a->r = a->r ?: sc_argv_pushf(&a->a, "%s", s.cert);
	sc_signer_clear(&s);
}

int sc_cmd_doctor(int argc, char **argv)
{
	struct sc_strv specs = {0};
	bool json = false;
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_LIST('T', NULL, "TARGET", &specs,
			       "check TARGET (a known_hosts target or @GROUP) instead of this\n"
			       "host; repeat for more"),
		SC_CMDOPT_FLAG(0, "json", &json, "one JSON document"),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "doctor",
		.synopsis = "[-T TARGET|@GROUP]... [--json]",
		.about =
			"Check what building and running probes needs, here (the build\n"
			"side: stap, the cache, kernel build trees, the runtime) and on this\n"
			"host or each target (the run side): one line a check, a fix under\n"
			"each failure. Exit 1 when a check failed.",
		SC_CMDOPT_ROWS(opts),
	};
	struct checks a = {.r = 0};
	struct sc_error err = {{0}};
	struct sc_targets all = {0};
	struct sc_env env;
	struct sc_ctx ctx = {0};
	size_t *idx = NULL, n = 0;
	char *path = NULL;
	int status = 1, r = sc_cmdopt_parse(&spec, argc, argv);

	if (r < 0)
		return sc_cmdopt_exit(r);
	sc_env_read(&env);
	push(&a, "stapcache-remote");
	push(&a, "doctor");
	if (json)
		push(&a, "--json");
	if (sc_ctx_init(&ctx, &env, &err) < 0) {
		add(&a, "", "config", 0, "fix the file and line it names", "%s", err.msg);
	} else {
		check_stap(&a, &ctx);
		check_cache(&a, &ctx);
		check_signer(&a, &ctx);
	}
	if (specs.n == 0) {
		push(&a, "--local");
		if (ctx.runtime)
			check_kernel(&a, "", NULL, NULL, ctx.runtime);
	} else {
		path = sc_targets_default_path(env.xdg_config_home, env.home);
		if (sc_targets_load(path, &all, &err) < 0 ||
		    sc_targets_select(&all, specs.v, specs.n, &idx, &n, &err) < 0) {
			fprintf(stderr, "stapcache: doctor: %s\n", err.msg);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			const struct sc_target *t = &all.v[idx[i]];

			push(&a, "-T");
			push(&a, t->name);
			if (t->build_root)
				check_buildroot(&a, t, &ctx);
			else if (ctx.runtime)
				check_kernel(&a, t->name,
					     t->build_tree ? t->build_tree : t->kernel,
					     t->arch,
					     t->runtime ? t->runtime : ctx.runtime);
		}
	}
	if (a.r < 0)
		fprintf(stderr, "stapcache: doctor: out of memory\n");
	else
		status = sc_remote_exec_argv((char **)a.a.v);
out:
	sc_targets_clear(&all);
	sc_ctx_clear(&ctx);
	sc_argv_free(&a.a);
	free(specs.v);
	free(idx);
	free(path);
	return status;
}
