/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "commands.h"
#include "context.h"
#include "digest.h"
#include "fsutil.h"
#include "modinfo.h"
#include "remote/frontend.h"
#include "store/client.h"

#define MODULE_MAX (64u << 20)

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "stapcache: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static void fmt_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (t <= 0 || !localtime_r(&t, &tm) ||
	    !strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, n, "-");
}

static int cache_stats(struct sc_cache *c, const struct sc_ctx *ctx)
{
	struct sc_entry_info *e;
	uint64_t v[SC_STAT_N], bytes = 0;
	char hs[32], hl[32];
	size_t n;

	if (sc_cache_stats(c, v) < 0 || sc_cache_entries(c, &e, &n) < 0)
		return fail("cannot read the cache in %s", ctx->cache_dir);
	for (size_t i = 0; i < n; i++)
		bytes += e[i].size;
	sc_cache_entries_free(e, n);
	sc_human_size(bytes, hs, sizeof(hs));
	if (ctx->max_size)
		sc_human_size(ctx->max_size, hl, sizeof(hl));
	else
		snprintf(hl, sizeof(hl), "none");
	printf("cache directory      %s\n", ctx->cache_dir);
	printf("entries              %zu\n", n);
	printf("size                 %s (%" PRIu64 " bytes)\n", hs, bytes);
	printf("size limit           %s\n", hl);
	printf("hits                 %" PRIu64 "\n", v[SC_STAT_HITS]);
	printf("misses               %" PRIu64 "\n", v[SC_STAT_MISSES]);
	printf("builds               %" PRIu64 "\n", v[SC_STAT_BUILDS]);
	printf("failed builds        %" PRIu64 "\n", v[SC_STAT_BUILD_FAILURES]);
	printf("evictions            %" PRIu64 "\n", v[SC_STAT_EVICTIONS]);
	printf("damaged entries      %" PRIu64 "\n", v[SC_STAT_DAMAGED]);
	if (ctx->shared_cache || v[SC_STAT_SHARED_HITS] + v[SC_STAT_SHARED_MISSES] +
					 v[SC_STAT_SHARED_UPLOADS] +
					 v[SC_STAT_SHARED_REJECTS] +
					 v[SC_STAT_SHARED_ERRORS]) {
		printf("shared hits          %" PRIu64 "\n", v[SC_STAT_SHARED_HITS]);
		printf("shared misses        %" PRIu64 "\n", v[SC_STAT_SHARED_MISSES]);
		printf("shared uploads       %" PRIu64 "\n", v[SC_STAT_SHARED_UPLOADS]);
		printf("shared rejects       %" PRIu64 "\n", v[SC_STAT_SHARED_REJECTS]);
		printf("shared errors        %" PRIu64 "\n", v[SC_STAT_SHARED_ERRORS]);
	}
	sc_human_size(sc_cache_memo_size(c), hs, sizeof(hs));
	printf("memo size            %s (%s/memo)\n", hs, ctx->cache_dir);
	if (v[SC_STAT_HITS] + v[SC_STAT_MISSES])
		printf("hit rate             %.1f %%\n",
		       100.0 * (double)v[SC_STAT_HITS] /
			       (double)(v[SC_STAT_HITS] + v[SC_STAT_MISSES]));
	return 0;
}

/* --json: json-c writes it; one object, or an array of entries. */
static int put_json(json_object *o)
{
	int r = puts(
		json_object_to_json_string_ext(o,
					       JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return r < 0 || fflush(stdout) != 0 ? 1 : 0;
}

static int cache_stats_json(struct sc_cache *c, const struct sc_ctx *ctx)
{
	static const char *const names[SC_STAT_N] = {
		[SC_STAT_HITS] = "hits",
		[SC_STAT_MISSES] = "misses",
		[SC_STAT_BUILDS] = "builds",
		[SC_STAT_BUILD_FAILURES] = "failed_builds",
		[SC_STAT_EVICTIONS] = "evictions",
		[SC_STAT_SHARED_HITS] = "shared_hits",
		[SC_STAT_SHARED_MISSES] = "shared_misses",
		[SC_STAT_SHARED_UPLOADS] = "shared_uploads",
		[SC_STAT_SHARED_REJECTS] = "shared_rejects",
		[SC_STAT_SHARED_ERRORS] = "shared_errors",
		[SC_STAT_DAMAGED] = "damaged",
	};
	struct sc_entry_info *e;
	uint64_t v[SC_STAT_N], bytes = 0;
	json_object *o;
	size_t n;

	if (sc_cache_stats(c, v) < 0 || sc_cache_entries(c, &e, &n) < 0)
		return fail("cannot read the cache in %s", ctx->cache_dir);
	for (size_t i = 0; i < n; i++)
		bytes += e[i].size;
	sc_cache_entries_free(e, n);
	o = json_object_new_object();
	json_object_object_add(o, "cache_dir", json_object_new_string(ctx->cache_dir));
	json_object_object_add(o, "entries", json_object_new_uint64(n));
	json_object_object_add(o, "bytes", json_object_new_uint64(bytes));
	json_object_object_add(o, "max_bytes",
			       ctx->max_size ? json_object_new_uint64(ctx->max_size)
					     : NULL);
	for (size_t i = 0; i < SC_STAT_N; i++)
		if (names[i]) /* a counter added without a name here stays out, not a crash */
			json_object_object_add(o, names[i], json_object_new_uint64(v[i]));
	json_object_object_add(o, "memo_bytes",
			       json_object_new_uint64(sc_cache_memo_size(c)));
	return put_json(o);
}

static int cache_list_json(struct sc_cache *c, const struct sc_ctx *ctx)
{
	struct sc_entry_info *e;
	json_object *a;
	size_t n;

	if (sc_cache_entries(c, &e, &n) < 0)
		return fail("cannot read the cache in %s", ctx->cache_dir);
	a = json_object_new_array();
	for (size_t i = n; i-- > 0;) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "key", json_object_new_string(e[i].key));
		json_object_object_add(o, "module", json_object_new_string(e[i].module));
		json_object_object_add(o, "kernel",
				       e[i].kernel[0]
					       ? json_object_new_string(e[i].kernel)
					       : NULL);
		json_object_object_add(o, "arch",
				       e[i].arch[0] ? json_object_new_string(e[i].arch)
						    : NULL);
		json_object_object_add(o, "path",
				       e[i].path ? json_object_new_string(e[i].path)
						 : NULL);
		json_object_object_add(o, "size", json_object_new_uint64(e[i].size));
		json_object_object_add(o, "last_use",
				       json_object_new_int64(e[i].last_use));
		json_object_object_add(o, "built", json_object_new_int64(e[i].built));
		json_object_array_add(a, o);
	}
	sc_cache_entries_free(e, n);
	return put_json(a);
}

static int cache_list(struct sc_cache *c, const struct sc_ctx *ctx)
{
	struct sc_entry_info *e;
	size_t n;

	if (sc_cache_entries(c, &e, &n) < 0)
		return fail("cannot read the cache in %s", ctx->cache_dir);
	printf("%-16s  %-37s  %-20s  %9s  %s\n", "KEY", "MODULE", "KERNEL", "SIZE",
	       "LAST USE");
	/* Most recently used first, as people read lists. */
	for (size_t i = n; i-- > 0;) {
		char when[32], sz[32];

		fmt_time(e[i].last_use, when, sizeof(when));
		sc_human_size(e[i].size, sz, sizeof(sz));
		printf("%.16s  %-37s  %-20s  %9s  %s\n", e[i].key, e[i].module,
		       e[i].kernel[0] ? e[i].kernel : "-", sz, when);
	}
	sc_cache_entries_free(e, n);
	return 0;
}

static int cache_prune(struct sc_cache *c, const struct sc_ctx *ctx, int argc,
		       char **argv)
{
	struct sc_error err = {{0}};
	uint64_t max = ctx->max_size, freed;
	size_t evicted;
	char hs[32];

	for (int i = 0; i < argc; i++) {
		const char *v = NULL;

		if (!strcmp(argv[i], "--max-size") && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "--max-size=", 11))
			v = argv[i] + 11;
		else
			return fail("cache prune: unknown argument '%s' (usage: stapcache cache "
				    "prune [--max-size SIZE])",
				    argv[i]);
		if (sc_parse_size(v, &max, &err) < 0)
			return fail("cache prune: %s", err.msg);
	}
	if (max == 0) {
		printf("no size limit set (max-size in %s); nothing to prune\n",
		       ctx->config_path);
		return 0;
	}
	if (sc_cache_prune(c, max, NULL, &evicted, &freed) < 0)
		return fail("cannot prune the cache in %s", ctx->cache_dir);
	sc_human_size(freed, hs, sizeof(hs));
	printf("evicted %zu entries, freed %s\n", evicted, hs);
	return 0;
}

static void check_report(void *arg, const struct sc_entry_info *e, int err,
			 const char *why)
{
	(void)arg;
	if (err == -EBADMSG)
		printf("damaged  %.16s  %s: %s; removed (the next request builds it "
		       "again)\n",
		       e->key, e->module, why);
	else
		printf("error    %.16s  %s: %s\n", e->key, e->module, why);
}

/* Exit 0: all complete; 1: damaged entries were found (and removed) or one was unreadable. */
static int cache_check(struct sc_cache *c, const struct sc_ctx *ctx)
{
	size_t checked, damaged;

	if (sc_cache_check(c, check_report, NULL, &checked, &damaged) < 0)
		return fail("cannot read the cache in %s", ctx->cache_dir);
	printf("checked %zu entries: %zu damaged\n", checked, damaged);
	return damaged ? 1 : 0;
}

int sc_cmd_cache(int argc, char **argv)
{
	struct sc_error err = {{0}};
	struct sc_cache *c = NULL;
	struct sc_env env;
	struct sc_ctx ctx;
	const char *sub = argc > 1 ? argv[1] : NULL;
	int status;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		printf("Usage: stapcache cache stats [--json] | list [--json] | check | prune "
		       "[--max-size SIZE] | clear\n");
		return sub ? 0 : 2;
	}
	sc_env_read(&env);
	if (sc_ctx_init(&ctx, &env, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	if (sc_cache_open(ctx.cache_dir, ctx.max_size, &c, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		sc_ctx_clear(&ctx);
		return 1;
	}
	bool json = argc == 3 && !strcmp(argv[2], "--json");

	if (!strcmp(sub, "stats") && (argc == 2 || json)) {
		status = json ? cache_stats_json(c, &ctx) : cache_stats(c, &ctx);
	} else if (!strcmp(sub, "list") && (argc == 2 || json)) {
		status = json ? cache_list_json(c, &ctx) : cache_list(c, &ctx);
	} else if (!strcmp(sub, "check") && argc == 2) {
		status = cache_check(c, &ctx);
	} else if (!strcmp(sub, "prune")) {
		status = cache_prune(c, &ctx, argc - 2, argv + 2);
	} else if (!strcmp(sub, "clear") && argc == 2) {
		size_t removed;

		status = sc_cache_clear(c, &removed) < 0;
		if (status)
			fail("cannot clear the cache in %s", ctx.cache_dir);
		else
			printf("removed %zu entries and the memos\n", removed);
	} else {
		fail("cache: unknown subcommand or extra arguments '%s' (stats [--json], "
		     "list [--json], check, prune [--max-size SIZE], clear)",
		     sub);
		status = 2; /* a usage error (stapcache(1), EXIT STATUS) */
	}
	sc_cache_free(c);
	sc_ctx_clear(&ctx);
	return status;
}

/* ---- bless: the module's authorized_probes line, printed or appended on targets ---- */

struct bless_args {
	const char *path, *users, *params, *admin, *policy;
	const char **targets;
	size_t ntargets;
};

static int bless_usage(void)
{
	fprintf(stderr,
		"Usage: stapcache bless [--users U,...] [--params P,...] MODULE.ko\n"
		"       stapcache bless -T TARGET|@GROUP ... [--admin USER] [--policy PATH]\n"
		"                       [--users U,...] [--params P,...] MODULE.ko\n"
		"Prints the line that blesses MODULE.ko in authorized_probes(5); with -T,\n"
		"appends it on each target as USER (default: the target's login; root, or\n"
		"a user that may run sudo without a password).\n");
	return 2;
}

/* A users=/params= list: names and commas only, so it cannot end the entry. */
static bool bless_list_ok(const char *v)
{
	if (!*v || *v == ',')
		return false;
	for (const char *p = v; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("_.,-", *p)))
			return false;
	return true;
}

static int bless_parse(int argc, char **argv, struct bless_args *a)
{
	a->targets = calloc((size_t)argc, sizeof(*a->targets));
	if (!a->targets)
		return -ENOMEM;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], **slot = NULL;

		if (!strcmp(o, "-T"))
			slot = &a->targets[a->ntargets++];
		else if (!strcmp(o, "--users"))
			slot = &a->users;
		else if (!strcmp(o, "--params"))
			slot = &a->params;
		else if (!strcmp(o, "--admin"))
			slot = &a->admin;
		else if (!strcmp(o, "--policy"))
			slot = &a->policy;
		else if (o[0] == '-' || a->path)
			return -EINVAL;
		else
			a->path = o;
		if (slot) {
			if (i + 1 >= argc)
				return -EINVAL;
			*slot = argv[++i];
		}
	}
	if (!a->path || (!a->ntargets && (a->admin || a->policy)))
		return -EINVAL;
	if ((a->users && !bless_list_ok(a->users)) ||
	    (a->params && !bless_list_ok(a->params))) {
		fprintf(stderr,
			"stapcache: bless: --users and --params take NAME[,NAME...]\n");
		return -EINVAL;
	}
	return 0;
}

/*
 * The module's digest (of exactly the bytes checked as a module) and its
 * authorized_probes line with a's options. Returns 0, or 1 after saying why.
 */
static int bless_line(const struct bless_args *a, char hex[SC_SHA256_HEXLEN + 1],
		      char **line)
{
	uint8_t md[SC_SHA256_LEN];
	struct sc_error err = {{0}};
	struct sc_modinfo *mi = NULL;
	const char *path = a->path, *base, *name;
	struct stat st;
	char *buf = NULL;
	size_t len = 0, blen;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("bless: cannot open %s: %s (check the path)", path,
			    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail("bless: %s is not a regular file", path);
	}
	r = sc_read_fd_sha256(fd, MODULE_MAX, &buf, &len, md);
	close(fd);
	if (r < 0)
		return fail("bless: cannot read %s: %s", path,
			    r == -EFBIG ? "larger than 64 MiB" : strerror(-r));
	r = sc_modinfo_parse(buf, len, &mi, &err);
	free(buf);
	if (r < 0)
		return fail("bless: %s is not a kernel module: %s", path, err.msg);
	sc_hex(hex, md, SC_SHA256_LEN);
	name = sc_modinfo_name(mi);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	blen = strlen(base);
	if (blen < 3 || strcmp(base + blen - 3, ".ko") != 0 || blen - 3 != strlen(name) ||
	    strncmp(base, name, blen - 3) != 0)
		fprintf(stderr,
			"stapcache: warning: %s is module %s; it can be loaded only "
			"as a file named %s.ko\n",
			path, name, name);
	*line = sc_strdupf("sha256:%s%s%s%s%s  # %s", hex, a->users ? " users=" : "",
			   a->users ? a->users : "", a->params ? " params=" : "",
			   a->params ? a->params : "", name);
	sc_modinfo_free(mi);
	return 0;
}

int sc_cmd_bless(int argc, char **argv)
{
	struct bless_args a = {0};
	char hex[SC_SHA256_HEXLEN + 1], *line = NULL;
	int status;

	if (bless_parse(argc, argv, &a) < 0)
		status = bless_usage();
	else if ((status = bless_line(&a, hex, &line)) != 0)
		;
	else if (a.ntargets)
		status = sc_remote_exec_bless(a.targets, a.ntargets, a.admin, a.policy,
					      hex, line);
	else
		status = printf("%s\n", line) < 0;
	free(line);
	free(a.targets);
	return status;
}

int sc_cmd_key(int argc, char **argv)
{
	struct sc_error err = {{0}};
	struct sc_env env;
	struct sc_ctx ctx = {0};
	char *helper;
	int generate = argc == 2 && !strcmp(argv[1], "generate");

	if (!generate && !(argc == 2 && !strcmp(argv[1], "show"))) {
		fprintf(stderr, "usage: stapcache key generate|show\n");
		return 2;
	}
	sc_env_read(&env);
	if (sc_ctx_init(&ctx, &env, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	helper = sc_shared_helper_path();
	const char *v[] = {helper, generate ? "keygen" : "pubkey", ctx.builder_key, NULL};

	fflush(NULL);
	execv(helper, (char *const *)v);
	fprintf(stderr, "stapcache: cannot run %s: %s\n", helper, strerror(errno));
	free(helper);
	sc_ctx_clear(&ctx);
	return 1;
}
