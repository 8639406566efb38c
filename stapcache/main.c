/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stapcache: compile a SystemTap script once, answer the same request from a
 * cache afterwards without running stap, and run the module.
 *
 *   options.c  the option table: parsing, --help        -> struct sc_request
 *   context.c  the environment and config.yaml, once    -> struct sc_ctx
 *   kernel.c   -r/-a: the target kernel                 -> struct sc_kernel
 *   key.c      (request, context, kernel) -> the key    -> struct sc_key
 *   cache.c    get or build, behind one call
 *   build.c    the build: stap -p4 in a staging directory
 *   run.c      the runner's argv; exec it
 *   remote/    -T: a module per target kernel, then exec stapcache-remote
 *   commands.c `stapcache cache ...`, `stapcache bless`
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "cache.h"
#include "commands.h"
#include "context.h"
#include "kernel.h"
#include "key.h"
#include "options.h"
#include "remote/frontend.h"
#include "run.h"

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
	if (sc_cache_peek(c, key, &path) == 0)
		printf("# cached: %s\n", path);
	else
		printf("# cached: no\n");
	fwrite(rec, 1, len, stdout);
	free(rec);
	free(path);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int compile(int argc, char **argv)
{
	struct sc_error err = {{0}};
	struct sc_request req;
	struct sc_env env;
	struct sc_ctx ctx = {0};
	struct sc_kernel k = {0};
	struct sc_key key = {0};
	struct sc_cache *c = NULL;
	enum sc_cache_how how;
	char *path = NULL;
	int r, status = 1;

	r = sc_options_parse(argc, argv, &req, &err);
	if (r != 0) {
		sc_options_free(&req);
		if (r < 0)
			fprintf(stderr, "stapcache: %s\n", err.msg);
		return r < 0 ? 2 : 0;
	}
	sc_env_read(&env);
	if (sc_ctx_init(&ctx, &env, &err) < 0)
		goto fail;
	if (req.last_pass < 4) {
		sc_options_free(&req);
		return pass_through(ctx.stap, argv);
	}
	if (sc_cache_open(ctx.cache_dir, ctx.max_size, &c, &err) < 0)
		goto fail;
	if (req.targets.n) {
		status = sc_remote_targets(&req, &env, &ctx, c);
		goto out;
	}
	if (sc_kernel_resolve(req.kernel, req.arch, &k, &err) < 0 ||
	    sc_key_compute(&req, &ctx, &k, sc_cache_memo_dir(c), &key, &err) < 0)
		goto fail;
	if (req.explain) {
		status = print_explain(&key, c);
		goto out;
	}
	struct sc_build b = {.req = &req, .ctx = &ctx, .kernel = &k, .key = &key};

	if (sc_cache_get(c, &key, sc_build_run, &b, &path, &how, &err) < 0) {
		if (sc_build_interrupted())
			status = 128 + sc_build_interrupted();
		goto fail;
	}
	if (req.verbose)
		fprintf(stderr, "stapcache: %s: %s\n",
			how == SC_CACHE_BUILT	      ? "built"
			: how == SC_CACHE_HIT_WAITED ? "built by a concurrent request"
						      : "cache hit",
			path);
	if (req.last_pass == 4) {
		printf("%s\n", path);
		status = fflush(stdout) == 0 ? 0 : 1;
	} else {
		status = sc_run_module(&req, path);
	}
	goto out;
fail:
	fprintf(stderr, "stapcache: %s\n", err.msg);
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
	if (argc > 1 && !strcmp(argv[1], "host"))
		return sc_remote_exec_host(argc - 1, argv + 1);
	return compile(argc, argv);
}
