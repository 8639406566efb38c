/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/digest.h"
#include "cache/stamp.h"
#include "store/client.h"
#include "common/fsutil.h"

#include "cache/internal.h"

/*
 * Every counter, once: its byte in stats.log, its label in the totals
 * record, its name in `cache stats --json` and its line in `cache stats`.
 * (The record and JSON names predate this table; they stay as files and
 * scripts already have them.)
 */
const struct sc_stat_info sc_stats_info[SC_STAT_N] = {
	[SC_STAT_HITS] = {'h', "hits", "hits", "hits", false},
	[SC_STAT_MISSES] = {'m', "misses", "misses", "misses", false},
	[SC_STAT_BUILDS] = {'b', "builds", "builds", "builds", false},
	[SC_STAT_BUILD_FAILURES] = {'f', "build-failures", "failed_builds",
				    "failed builds", false},
	[SC_STAT_EVICTIONS] = {'e', "evictions", "evictions", "evictions", false},
	[SC_STAT_DAMAGED] = {'d', "damaged", "damaged", "damaged entries", false},
	[SC_STAT_SHARED_HITS] = {'H', "shared-hits", "shared_hits", "shared hits", true},
	[SC_STAT_SHARED_MISSES] = {'M', "shared-misses", "shared_misses", "shared misses",
				   true},
	[SC_STAT_SHARED_UPLOADS] = {'U', "shared-uploads", "shared_uploads",
				    "shared uploads", true},
	[SC_STAT_SHARED_REJECTS] = {'R', "shared-rejects", "shared_rejects",
				    "shared rejects", true},
	[SC_STAT_SHARED_ERRORS] = {'E', "shared-errors", "shared_errors", "shared errors",
				   true},
};

/* Fold stats.log into stats once it is this large (and on `cache stats`). */
#define STATS_LOG_FOLD (64u << 10)

/* ------------------------------------------------------------ statistics */

/*
 * A hit appends one byte: no read, no rename, no lock but a shared one that
 * only a fold waits for. Best effort: statistics never fail a request.
 */
void cache_count(struct sc_cache *c, enum sc_stat which, size_t n)
{
	char *path = sc_strdupf("%s/stats.log", c->dir), buf[64];
	int fd = cache_open_own(path, O_WRONLY | O_APPEND, NULL);

	free(path);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_SH) == 0) {
		while (n > 0) {
			size_t k = n < sizeof(buf) ? n : sizeof(buf);

			memset(buf, sc_stats_info[which].code, k);
			if (sc_write_all(fd, buf, k) < 0)
				break;
			n -= k;
		}
	}
	close(fd);
}

static void totals_from_record(const struct sc_record *rec, uint64_t out[SC_STAT_N])
{
	for (int i = 0; i < SC_STAT_N; i++) {
		const char *v = sc_record_get(rec, sc_stats_info[i].record);

		out[i] = v ? strtoull(v, NULL, 10) : 0;
	}
}

static int read_totals(const char *path, uint64_t out[SC_STAT_N])
{
	struct sc_record *rec = NULL;
	char *buf = NULL;
	size_t len = 0;
	int r = sc_read_regular(AT_FDCWD, path, 65536, &buf, &len, NULL, NULL);

	memset(out, 0, SC_STAT_N * sizeof(out[0]));
	/* Not a file (damage): start again from 0, as with a damaged record. */
	if (r == -ENOENT || r == SC_ENOTREG || r == -EFBIG)
		return 0;
	/* Totals in the format before records (or damaged ones) start again from 0. */
	if (r == 0 && sc_record_parse(buf, len, &rec, NULL) == 0)
		totals_from_record(rec, out);
	sc_record_free(rec);
	free(buf);
	return r;
}

static int write_totals(const char *path, const uint64_t v[SC_STAT_N])
{
	struct sc_record *rec = sc_record_new();
	char *buf = NULL;
	size_t len;
	int r = rec ? 0 : -ENOMEM;

	for (int i = 0; r == 0 && i < SC_STAT_N; i++)
		r = sc_record_addf(rec, sc_stats_info[i].record, "%" PRIu64, v[i]);
	r = r ?: sc_record_serialize(rec, &buf, &len);
	r = r ?: sc_write_file_atomic(path, buf, len, 0644, NULL);
	sc_record_free(rec);
	free(buf);
	return r;
}

static void add_events(const char *buf, size_t len, uint64_t v[SC_STAT_N])
{
	for (size_t i = 0; i < len; i++)
		for (int j = 0; j < SC_STAT_N; j++)
			if (buf[i] == sc_stats_info[j].code)
				v[j]++;
}

/*
 * Totals plus the events logged since the last fold. With fold, and when
 * the cache is writable, the events move into the totals: under the log's
 * exclusive lock (no append is half-done), the totals are replaced, then the
 * log is emptied. (A crash between those two steps counts that batch twice;
 * no concurrency can lose or double an event.)
 */
static int read_stats(struct sc_cache *c, bool fold, uint64_t out[SC_STAT_N])
{
	char *log = sc_strdupf("%s/stats.log", c->dir),
	     *tot = sc_strdupf("%s/stats", c->dir);
	char *buf = NULL;
	size_t len = 0;
	int fd = sc_open_regular(AT_FDCWD, log, fold ? O_RDWR : O_RDONLY, 0, NULL, NULL),
	    r;
	struct stat st;

	if (fd == -EACCES && fold)
		fd = sc_open_regular(AT_FDCWD, log, O_RDONLY, 0, NULL, NULL);
	/* Emptied in place after a fold: not when it has a second name elsewhere. */
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_nlink != 1))
		fold = false;
	if (fd >= 0 && flock(fd, fold ? LOCK_EX : LOCK_SH) < 0) {
		close(fd);
		fd = -1;
	}
	r = read_totals(tot, out);
	if (r == 0 && fd >= 0)
		r = sc_read_fd(fd, SIZE_MAX / 2, &buf, &len);
	if (r == 0 && len > 0) {
		add_events(buf, len, out);
		if (fold && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR &&
		    write_totals(tot, out) == 0)
			(void)!ftruncate(fd, 0); /* at worst, counted again */
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	free(log);
	free(tot);
	return r;
}

int sc_cache_zero_stats(struct sc_cache *c)
{
	static const uint64_t zero[SC_STAT_N];
	char *log = sc_strdupf("%s/stats.log", c->dir),
	     *tot = sc_strdupf("%s/stats", c->dir);
	int fd = cache_open_own(log, O_RDWR, NULL), r = fd < 0 ? fd : 0;

	/* Under the log's exclusive lock: no append is half-done, none is lost after. */
	if (r == 0 && flock(fd, LOCK_EX) < 0)
		r = -errno;
	r = r ?: write_totals(tot, zero);
	if (r == 0 && ftruncate(fd, 0) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(log);
	free(tot);
	return r;
}

int sc_cache_stats(struct sc_cache *c, uint64_t out[SC_STAT_N])
{
	return read_stats(c, true, out);
}

/* Keep the log small: fold it when a build has already paid for a slow path. */
void cache_fold_if_large(struct sc_cache *c)
{
	char *log = sc_strdupf("%s/stats.log", c->dir);
	uint64_t v[SC_STAT_N];
	struct stat st;

	if (stat(log, &st) == 0 && (uint64_t)st.st_size >= STATS_LOG_FOLD)
		(void)read_stats(c, true, v);
	free(log);
}
