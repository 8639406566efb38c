/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stapcache: compile a SystemTap script once, answer the same request from a
 * cache afterwards without running stap, and run the module.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "cache.h"
#include "commands.h"
#include "context.h"
#include "fsutil.h"
#include "key.h"
#include "options.h"
#include "remote/frontend.h"

static int verbose;

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "stapcache: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int die(const struct sc_error *err)
{
	fprintf(stderr, "stapcache: %s\n", err->msg);
	return 1;
}

/* Passes 1-3 produce no module: nothing to cache, so stap does them itself. */
static int pass_through(const char *stap, char **argv)
{
	argv[0] = (char *)stap;
	execv(stap, argv);
	fprintf(stderr, "stapcache: cannot run %s: %s; install systemtap\n", stap,
		strerror(errno));
	return 1;
}

static int print_explain(const struct sc_key *key, struct sc_cache *c)
{
	char *rec, *path = NULL;
	size_t len;

	if (sc_record_serialize(key->record, &rec, &len) < 0)
		return 1;
	printf("# key: %s\n# module: %s.ko\n", key->hex, key->module);
	if (c && sc_cache_lookup(c, key, &path) == 0)
		printf("# cached: %s\n", path);
	else
		printf("# cached: no\n");
	fwrite(rec, 1, len, stdout);
	free(rec);
	free(path);
	return 0;
}

static void meta_for(const struct sc_kernel *k, const struct sc_key *key, double secs,
		     char *buf, size_t n)
{
	snprintf(buf, n, "kernel: %s\narch: %s\nstap-version: %s\nbuild-seconds: %.2f\n",
		 k->release, k->arch, sc_record_get(key->record, "stap.version"), secs);
}

/*
 * The miss path: one build per key at a time. Whoever waited for the lock
 * finds the entry published and answers as a hit.
 */
static int build_entry(struct sc_cache *c, const struct sc_ctx *ctx,
		       const struct sc_request *req, const struct sc_kernel *k,
		       const struct sc_key_env *env, const struct sc_key *key, char **path,
		       struct sc_error *err)
{
	char *tmpdir = NULL, meta[1024];
	double secs = 0;
	bool waited;
	int lockfd, r;

	lockfd = sc_cache_lock(c, key->hex, &waited);
	if (lockfd < 0) {
		sc_error_set(err, "cannot lock %s/locks/%s: %s", ctx->cache_dir, key->hex,
			     strerror(-lockfd));
		return lockfd;
	}
	if (waited && sc_cache_lookup(c, key, path) == 0) {
		note("%s was built by a concurrent request", key->module);
		sc_cache_count(c, SC_STAT_HITS, 1);
		sc_cache_unlock(lockfd);
		return 0;
	}
	sc_cache_count(c, SC_STAT_MISSES, 1);
	r = sc_cache_stage(c, key->hex, &tmpdir, err);
	if (r == 0) {
		fprintf(stderr, "stapcache: compiling %s for %s (cache miss)\n", key->module,
			k->release);
		r = sc_build_run(req, k, env, key, tmpdir, &secs, err);
		if (r < 0) {
			(void)sc_rm_rf(tmpdir);
			sc_cache_count(c, SC_STAT_BUILD_FAILURES, 1);
		}
	}
	if (r == 0) {
		meta_for(k, key, secs, meta, sizeof(meta));
		r = sc_cache_publish(c, key, tmpdir, meta, path, err);
	}
	if (r == 0)
		sc_cache_count(c, SC_STAT_BUILDS, 1);
	sc_cache_unlock(lockfd);
	free(tmpdir);
	if (r == 0 && ctx->max_size) {
		size_t evicted;
		uint64_t freed;

		(void)sc_cache_prune(c, ctx->max_size, key->hex, &evicted, &freed);
	}
	return r;
}

/* Without -p4: hand the module to the runner, as stap's pass 5 would. */
static int run_module(const struct sc_request *req, const char *module_path)
{
	const char *runner = BINDIR "/staprun-auth";
	const char *argv[64 + 256];
	size_t n = 0;
	struct stat st;

	if (stat(runner, &st) < 0 || !(st.st_mode & S_ISUID) || st.st_uid != 0)
		runner = "staprun";
	argv[n++] = runner;
	for (int i = 0; i < req->verbose && i < 4; i++)
		argv[n++] = "-v";
	if (req->cmd) {
		argv[n++] = "-c";
		argv[n++] = req->cmd;
	}
	if (req->pid) {
		argv[n++] = "-x";
		argv[n++] = req->pid;
	}
	if (req->output) {
		argv[n++] = "-o";
		argv[n++] = req->output;
	}
	if (req->bufsize) {
		argv[n++] = "-b";
		argv[n++] = req->bufsize;
	}
	argv[n++] = module_path;
	if (req->globals.n > 256) {
		fprintf(stderr, "stapcache: too many -G options (at most 256)\n");
		return 1;
	}
	for (size_t i = 0; i < req->globals.n; i++)
		argv[n++] = req->globals.v[i];
	argv[n] = NULL;
	if (verbose) {
		fprintf(stderr, "stapcache: running");
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	fflush(NULL);
	execvp(runner, (char *const *)argv);
	fprintf(stderr, "stapcache: cannot run %s: %s; install staprun-auth (make install) "
			"or systemtap-runtime, or use -p4 and run the module yourself\n",
		runner, strerror(errno));
	return 1;
}

/* ---- remote (-T): stapcache/remote/ ---------------------------------------- */

struct remote_ud {
	const struct sc_request *req;
	const struct sc_ctx *ctx;
};

/*
 * The one place the -T path enters the cache: get or build req's module for
 * a target's kernel, as `-r SPEC -a ARCH [-R RUNTIME] -p4` would. After the
 * cache's get-or-build interface lands, this becomes that one call.
 */
static int remote_get_module(void *ud, const char *spec, const char *arch,
			     const char *runtime, char **path, struct sc_error *err)
{
	const struct remote_ud *u = ud;
	struct sc_kernel k = {0};
	struct sc_key key = {0};
	struct sc_cache *c = NULL;
	struct sc_key_env env = {
		.stap = u->ctx->stap,
		.runtime = runtime ? runtime : u->ctx->runtime,
		.tapset = u->ctx->tapset,
		.cache_dir = u->ctx->cache_dir,
	};
	int r;

	r = sc_kernel_resolve(spec, arch, &k, err);
	if (r == 0)
		r = sc_cache_open(u->ctx->cache_dir, &c, err);
	if (r == 0)
		r = sc_key_compute(u->req, &k, &env, &key, err);
	if (r == 0 && sc_cache_lookup(c, &key, path) == 0) {
		note("cache hit for %s: %s", k.release, *path);
		sc_cache_count(c, SC_STAT_HITS, 1);
	} else if (r == 0) {
		struct sc_request req = *u->req;

		req.kernel = spec;
		req.arch = arch;
		req.runtime = env.runtime;
		r = build_entry(c, u->ctx, &req, &k, &env, &key, path, err);
	}
	sc_key_clear(&key);
	sc_cache_free(c);
	sc_kernel_clear(&k);
	return r;
}

/* ---- end remote ------------------------------------------------------------ */

static int compile(int argc, char **argv)
{
	struct sc_error err = {{0}};
	struct sc_request req;
	struct sc_ctx ctx = {0};
	struct sc_kernel k = {0};
	struct sc_key key = {0};
	struct sc_cache *c = NULL;
	char *path = NULL;
	int r, status = 1;

	r = sc_options_parse(argc, argv, &req, &err);
	if (r == 1)
		return 0;
	if (r < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 2;
	}
	verbose = req.verbose;
	if (sc_ctx_init(&ctx, &err) < 0)
		goto fail;
	if (req.last_pass < 4) {
		sc_options_free(&req);
		return pass_through(ctx.stap, argv);
	}
	if (req.targets.n) { /* remote (-T): stapcache/remote/frontend.c */
		struct remote_ud u = {.req = &req, .ctx = &ctx};

		status = sc_remote_targets(&req, remote_get_module, &u);
		goto out;
	}
	if (sc_kernel_resolve(req.kernel, req.arch, &k, &err) < 0)
		goto fail;
	struct sc_key_env env = {
		.stap = ctx.stap,
		.runtime = req.runtime ? req.runtime : ctx.runtime,
		.tapset = ctx.tapset,
		.cache_dir = ctx.cache_dir,
	};
	if (sc_cache_open(ctx.cache_dir, &c, &err) < 0)
		goto fail;
	if (sc_key_compute(&req, &k, &env, &key, &err) < 0)
		goto fail;
	if (req.explain) {
		status = print_explain(&key, c);
		goto out;
	}
	if (sc_cache_lookup(c, &key, &path) == 0) {
		note("cache hit: %s", path);
		sc_cache_count(c, SC_STAT_HITS, 1);
	} else if (build_entry(c, &ctx, &req, &k, &env, &key, &path, &err) < 0) {
		if (sc_build_interrupted())
			status = 128 + sc_build_interrupted();
		goto fail;
	}
	if (req.last_pass == 4) {
		printf("%s\n", path);
		status = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	status = run_module(&req, path);
	goto out;
fail:
	die(&err);
out:
	free(path);
	sc_key_clear(&key);
	sc_cache_free(c);
	sc_kernel_clear(&k);
	sc_ctx_clear(&ctx);
	sc_options_free(&req);
	return status;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "cache"))
		return sc_cmd_cache(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "bless"))
		return sc_cmd_bless(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "host")) /* remote: stapcache/remote/host.c */
		return sc_remote_exec_host(argc - 1, argv + 1);
	return compile(argc, argv);
}
