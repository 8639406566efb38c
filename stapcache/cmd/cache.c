/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache cache stats|list|check|prune|clear`: the cache as people look
 * at it (ccache -s, -c, -C). The counters and their names come from
 * cache/stats.c's table; everything else is one call into cache/.
 */
#include "build-config.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "cmd/cmd.h"
#include "core/cmdopt.h"
#include "core/context.h"
#include "common/fsutil.h"
#include "common/parse.h"

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
	uint64_t v[SC_STAT_N], bytes;
	char hs[32], hl[32];
	bool shown_shared = ctx->shared_cache != NULL;
	size_t n;

	if (sc_cache_stats(c, v) < 0 || sc_cache_usage(c, &n, &bytes) < 0)
		return fail("cannot read the cache in %s", ctx->cache_dir);
	for (size_t i = 0; i < SC_STAT_N; i++)
		shown_shared = shown_shared || (sc_stats_info[i].shared && v[i]);
	sc_human_size(bytes, hs, sizeof(hs));
	if (ctx->max_size)
		sc_human_size(ctx->max_size, hl, sizeof(hl));
	else
		snprintf(hl, sizeof(hl), "none");
	printf("cache directory      %s\n", ctx->cache_dir);
	printf("entries              %zu\n", n);
	printf("size                 %s (%" PRIu64 " bytes)\n", hs, bytes);
	printf("size limit           %s\n", hl);
	for (size_t i = 0; i < SC_STAT_N; i++)
		if (!sc_stats_info[i].shared || shown_shared)
			printf("%-20s %" PRIu64 "\n", sc_stats_info[i].label, v[i]);
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
	uint64_t v[SC_STAT_N], bytes;
	json_object *o;
	size_t n;

	if (sc_cache_stats(c, v) < 0 || sc_cache_usage(c, &n, &bytes) < 0)
		return fail("cannot read the cache in %s", ctx->cache_dir);
	o = json_object_new_object();
	json_object_object_add(o, "cache_dir", json_object_new_string(ctx->cache_dir));
	json_object_object_add(o, "entries", json_object_new_uint64(n));
	json_object_object_add(o, "bytes", json_object_new_uint64(bytes));
	json_object_object_add(o, "max_bytes",
			       ctx->max_size ? json_object_new_uint64(ctx->max_size)
					     : NULL);
	for (size_t i = 0; i < SC_STAT_N; i++)
		json_object_object_add(o, sc_stats_info[i].json,
				       json_object_new_uint64(v[i]));
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

struct cache_args {
	bool json;
	uint64_t max_size;
	bool max_size_given;
};

static int cache_prune(struct sc_cache *c, const struct sc_ctx *ctx,
		       const struct cache_args *a)
{
	uint64_t max = a->max_size_given ? a->max_size : ctx->max_size, freed;
	size_t evicted;
	char hs[32];

	if (max == 0) {
		if (a->max_size_given)
			printf("--max-size 0 means no limit; nothing to prune\n");
		else
			printf("no size limit set (max-size: in config.yaml, or --max-size); "
			       "nothing to prune\n");
		return 0;
	}
	if (sc_cache_prune(c, max, NULL, &evicted, &freed) < 0)
		return fail("cannot prune the cache in %s", ctx->cache_dir);
	sc_human_size(freed, hs, sizeof(hs));
	printf("evicted %zu entries, freed %s\n", evicted, hs);
	if (sc_cache_usage(c, &evicted, &freed) == 0 && freed > max)
		printf("the cache is still above the limit: entries used within the last "
		       "%d s are kept (a path just handed out stays valid)\n",
		       SC_CACHE_GRACE);
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

static int cache_clear(struct sc_cache *c, const struct sc_ctx *ctx)
{
	size_t removed;

	if (sc_cache_clear(c, &removed) < 0)
		return fail("cannot clear the cache in %s", ctx->cache_dir);
	printf("removed %zu entries and the memos\n", removed);
	return 0;
}

/* One verb, now that its options are parsed. */
static int run_verb(const char *verb, const struct cache_args *a)
{
	struct sc_error err = {{0}};
	struct sc_cache *c = NULL;
	struct sc_env env;
	struct sc_ctx ctx;
	int status = 1, r;

	sc_env_read(&env);
	if (sc_ctx_init(&ctx, &env, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	/* Looking creates nothing: a cache not made yet is an empty one. */
	if (!strcmp(verb, "stats") || !strcmp(verb, "list") || !strcmp(verb, "check"))
		r = sc_cache_open_existing(ctx.cache_dir, ctx.max_size, &c);
	else
		r = sc_cache_open(ctx.cache_dir, ctx.max_size, &c, &err);
	if (r < 0)
		fprintf(stderr, "stapcache: %s\n", err.msg[0] ? err.msg : strerror(-r));
	else if (!strcmp(verb, "stats"))
		status = a->json ? cache_stats_json(c, &ctx) : cache_stats(c, &ctx);
	else if (!strcmp(verb, "list"))
		status = a->json ? cache_list_json(c, &ctx) : cache_list(c, &ctx);
	else if (!strcmp(verb, "check"))
		status = cache_check(c, &ctx);
	else if (!strcmp(verb, "prune"))
		status = cache_prune(c, &ctx, a);
	else if (!strcmp(verb, "zero"))
		status = sc_cache_zero_stats(c) < 0
				 ? fail("cannot reset the counters in %s", ctx.cache_dir)
				 : 0;
	else
		status = cache_clear(c, &ctx);
	sc_cache_free(c);
	sc_ctx_clear(&ctx);
	return status;
}

int sc_cmd_cache(int argc, char **argv)
{
	struct cache_args a = {.max_size = UINT64_MAX}; /* UINT64_MAX: not given */
	const struct sc_cmdopt json[] = {
		SC_CMDOPT_FLAG(0, "json", &a.json, "one JSON document"),
	};
	const struct sc_cmdopt prune[] = {
		SC_CMDOPT_SIZE(
			0, "max-size", "SIZE", &a.max_size,
			"evict down to SIZE (500M, 2G) instead of max-size: in config.yaml"),
	};
	const struct sc_cmdopt_spec verbs[] = {
		{.name = "cache stats",
		 .synopsis = "[--json]",
		 .about =
			 "The counters (hits, misses, builds, ...), the size and its limit.",
		 SC_CMDOPT_ROWS(json)},
		{.name = "cache list",
		 .synopsis = "[--json]",
		 .about = "Every entry, most recently used first.",
		 SC_CMDOPT_ROWS(json)},
		{.name = "cache check",
		 .about =
			 "Check every entry's module in full; a damaged one is removed (the\n"
			 "next request builds it again). Exit 1 when one was."},
		{.name = "cache prune",
		 .synopsis = "[--max-size SIZE]",
		 .about =
			 "Evict least-recently-used entries down to the limit. Entries used\n"
			 "within the last minute are kept: a path just handed out stays valid.",
		 SC_CMDOPT_ROWS(prune)},
		{.name = "cache clear", .about = "Remove every entry and the memos."},
		{.name = "cache zero",
		 .about = "Set every counter of cache stats back to 0 (ccache -z); the\n"
			  "entries stay."},
	};
	const struct sc_cmdopt_spec top = {
		.name = "cache",
		.synopsis = "stats|list|check|prune|clear|zero [OPTIONS]",
		.about = "The local cache (stapcache cache VERB --help for each verb).",
		.min_args = 1,
		.max_args = -1,
		.stop_at_operand = true,
	};
	const struct sc_cmdopt_spec *verb;
	int r = sc_cmdopt_verb(&top, verbs, sizeof(verbs) / sizeof(verbs[0]), &argc,
			       &argv, &verb);

	if (r < 0)
		return sc_cmdopt_exit(r);
	a.max_size_given = a.max_size != UINT64_MAX;
	return run_verb(strrchr(verb->name, ' ') + 1, &a);
}
