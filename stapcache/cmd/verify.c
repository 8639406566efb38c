/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache verify REQUEST...`: stap builds are byte-reproducible, so any
 * entry can be checked by building it again. The rebuild happens in a private
 * directory beside the cache (never published); the cached entry and the
 * shared one are read, never changed; the result is their digests side by
 * side and a verdict.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache/build.h"
#include "cache/cache.h"
#include "core/cmdopt.h"
#include "core/context.h"
#include "common/digest.h"
#include "common/fsutil.h"
#include "cache/job.h"
#include "common/record.h"
#include "common/modinfo.h"
#include "store/client.h"
#include "cmd/cmd.h"

/* What one side of the comparison found. */
struct side {
	bool have, rejected;
	char hex[SC_SHA256_HEXLEN + 1];
	const char *why; /* when !have: "not cached", "miss", ... */
};

static void print_side(const char *label, const struct side *s, const struct side *ref)
{
	if (s->have)
		printf("%-9s sha256:%s  %s\n", label, s->hex,
		       strcmp(s->hex, ref->hex) ? "MISMATCH" : "same");
	else
		printf("%-9s -  %s\n", label, s->why);
}

/* A meta value as shown: "built" (seconds since the epoch) as a UTC date. */
static void print_meta(const char *label, const char *v)
{
	char *end, date[32];
	long long t = strtoll(v, &end, 10);
	time_t tt = (time_t)t;
	struct tm tm;

	if (!strcmp(label, "built") && *v && !*end && gmtime_r(&tt, &tm) &&
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm))
		v = date;
	printf("%-9s %s\n", label, v);
}

/* The shared entry's meta fields worth showing: who built it, when, what must match. */
static void print_shared_meta(const char *dir)
{
	static const char *const shown[] = {"builder", "built", "reproduce"};
	char *p = sc_strdupf("%s/meta", dir), *buf = NULL;
	struct sc_record *rec = NULL;
	size_t len = 0;

	if (p && sc_read_file(p, 1u << 20, &buf, &len) == 0 &&
	    sc_record_parse(buf, len, &rec, NULL) == 0)
		for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
			if (sc_record_get(rec, shown[i]))
				print_meta(shown[i], sc_record_get(rec, shown[i]));
	sc_record_free(rec);
	free(buf);
	free(p);
}

static void cached_side(struct sc_cache *c, const struct sc_key *key, struct side *s)
{
	char *path = NULL;

	s->why = "not cached";
	if (sc_cache_peek(c, key, &path) == 0 && sc_sha256_file(path, s->hex) == 0)
		s->have = true;
	free(path);
}

/* The shared entry, fetched and checked by the helper into dir (no lease). */
static void shared_side(const struct sc_ctx *ctx, const struct sc_key *key,
			const char *dir, struct side *s)
{
	struct sc_shared *sh = sc_shared_new(ctx);
	char *ko;

	if (!sh) {
		s->why = "no shared-cache: configured";
		return;
	}
	switch (sc_shared_peek(sh, key->hex, key->module, dir)) {
	case SC_SHARED_HIT:
		ko = sc_strdupf("%s/%s.ko", dir, key->module);
		s->have = ko && sc_sha256_file(ko, s->hex) == 0;
		s->why = "unreadable";
		free(ko);
		break;
	case SC_SHARED_MISS:
		s->why = "not in the shared cache";
		break;
	case SC_SHARED_REJECT:
		s->why = "REJECTED (see the warning above)";
		s->rejected = true;
		break;
	case SC_SHARED_ERROR:
		s->why = "store error (see the warning above)";
		break;
	}
	sc_shared_free(sh);
}

/* The verdict, on stderr; returns the exit status (verify.h). */
static int verdict(const struct side *rebuilt, const struct side *cached,
		   const struct side *shared)
{
	bool c_bad = cached->have && strcmp(cached->hex, rebuilt->hex);
	bool s_bad = shared->have && strcmp(shared->hex, rebuilt->hex);

	if (c_bad)
		fprintf(stderr,
			"stapcache: verify: the cached module does not match a rebuild from "
			"the same inputs: it was changed after it was built (do not bless or "
			"run it; 'stapcache cache clear' removes it)\n");
	if (s_bad)
		fprintf(stderr,
			"stapcache: verify: the shared module does not match a rebuild from "
			"the same inputs, although a trusted builder signed it: do not bless "
			"or run it, and remove that builder from trusted-builders: until "
			"its builds are explained\n");
	if (c_bad || s_bad || shared->rejected)
		return 1;
	if (!cached->have && !shared->have) {
		fprintf(stderr,
			"stapcache: verify: nothing to compare the rebuild with: "
			"the module is neither cached here nor in a shared cache\n");
		return 3;
	}
	fprintf(stderr, "stapcache: verify: the rebuild reproduces the %s module\n",
		cached->have && shared->have ? "cached and the shared"
		: cached->have               ? "cached"
					     : "shared");
	return 0;
}

/* Rebuild, compare, say. Returns the exit status. */
static int verify_key(const struct sc_request *req, const struct sc_ctx *ctx,
		      const struct sc_kernel *k, const struct sc_key *key,
		      struct sc_cache *c, struct sc_error *err)
{
	struct sc_build b = {.req = req,
			     .ctx = ctx,
			     .kernel = k,
			     .key = key,
			     .why = "verify: a private rebuild, not cached"};
	struct side rebuilt = {0}, cached = {0}, shared = {0};
	struct sc_record *extra = sc_record_new();
	char *bdir = NULL, *sdir = NULL, *ko = NULL;
	int status = 1;

	if (!extra || sc_cache_scratch(c, "verify", &bdir, err) < 0 ||
	    sc_cache_scratch(c, "verify-shared", &sdir, err) < 0)
		goto out;
	/* What there is to compare with, first: a rebuild takes seconds to minutes. */
	cached_side(c, key, &cached);
	shared_side(ctx, key, sdir, &shared);
	if (!cached.have && !shared.have && !shared.rejected) {
		fprintf(stderr,
			"stapcache: verify: nothing to compare a rebuild with: the module is "
			"neither cached here (%s) nor in a shared cache (%s); build it first "
			"(stapcache -p4 ...), then verify\n",
			cached.why, shared.why);
		status = 3;
		goto out;
	}
	if (sc_build_run(&b, bdir, extra, err) < 0)
		goto out;
	ko = sc_strdupf("%s/%s.ko", bdir, key->module);
	if (!ko || sc_sha256_file(ko, rebuilt.hex) < 0) {
		sc_error_set(err, "the rebuild left no %s.ko", key->module);
		goto out;
	}
	rebuilt.have = true;
	printf("key       %s\nmodule    %s.ko\n", key->hex, key->module);
	printf("rebuilt   sha256:%s  (here, now)\n", rebuilt.hex);
	print_side("cached", &cached, &rebuilt);
	print_side("shared", &shared, &rebuilt);
	if (shared.have)
		print_shared_meta(sdir);
	fflush(stdout);
	status = verdict(&rebuilt, &cached, &shared);
	err->msg[0] = '\0';
out:
	if (bdir)
		(void)sc_rm_rf(bdir);
	if (sdir)
		(void)sc_rm_rf(sdir);
	free(bdir);
	free(sdir);
	free(ko);
	sc_record_free(extra);
	return status;
}

int sc_cmd_verify(int argc, char **argv)
{
	const struct sc_cmdopt_spec spec =
		{.name = "verify",
		 .synopsis = "[OPTIONS] (-e SCRIPT | FILE) [ARGS...]",
		 .about =
			 "Build the request again in a private directory and compare the module's\n"
			 "SHA-256 with the cached entry and the shared one (stap builds are\n"
			 "byte-reproducible). Exit 0: every entry found matches; 1: a mismatch, a\n"
			 "rejected shared entry or an error; 3: nothing to compare with.",
		 .compile_options = true};
	struct sc_error err = {{0}};
	struct sc_job j = {0};
	int r = sc_job_parse(&j, argc, argv, false, "verify"), status = 1;

	if (r > 0 && j.req.help)
		sc_cmdopt_usage(&spec, stdout);
	if (r != 0) {
		sc_job_clear(&j);
		return r < 0 ? 2 : 0;
	}
	if (j.req.exec_stap || j.req.targets.n || j.req.remotes.n) {
		sc_cmdopt_usage_error(
			&spec, "%s",
			j.req.exec_stap
				? "this request builds no module (nothing to verify)"
				: "-T and --remote are not verified; give the target's "
				  "kernel with -r RELEASE -a ARCH instead");
		sc_job_clear(&j);
		return 2;
	}
	if (sc_job_open(&j, &err) == 0 && sc_job_key(&j, &err) == 0)
		status = verify_key(&j.req, &j.ctx, &j.kernel, &j.key, j.cache, &err);
	if (err.msg[0])
		fprintf(stderr, "stapcache: verify: %s\n", err.msg);
	sc_job_clear(&j);
	return status;
}
