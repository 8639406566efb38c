/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CACHE_H
#define SC_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "key.h"

/*
 * The on-disk cache:
 *
 *   DIR/CACHEDIR.TAG
 *   DIR/stats             counters (hits, misses, ...), rewritten under stats.lock
 *   DIR/locks/KEY         per-key flock: one build per key at a time
 *   DIR/tmp/KEY.XXXXXX/   private staging for a build; renamed into place
 *   DIR/KE/KEY/           one entry: MODULE.ko, inputs (the key record),
 *                         meta (what, when, digest), used (mtime = last use)
 *
 * An entry appears by rename(2) of a complete staging directory, so readers
 * see a whole entry or none; flock(2) locks die with their process.
 */
struct sc_cache;

enum sc_stat { SC_STAT_HITS, SC_STAT_MISSES, SC_STAT_BUILDS, SC_STAT_BUILD_FAILURES,
	       SC_STAT_EVICTIONS, SC_STAT_N };

/* Open (creating if needed) the cache at dir. Returns 0 or -errno with err set. */
int sc_cache_open(const char *dir, struct sc_cache **out, struct sc_error *err);
void sc_cache_free(struct sc_cache *c);
const char *sc_cache_dir(const struct sc_cache *c);

/*
 * Look up key. On a hit returns 0, sets *module_path (caller frees) and marks
 * the entry used now. Returns -ENOENT on a miss.
 */
int sc_cache_lookup(struct sc_cache *c, const struct sc_key *key, char **module_path);

/* Take the key's lock, waiting if another process holds it. Returns an fd (>= 0) or -errno. */
int sc_cache_lock(struct sc_cache *c, const char *hex, bool *waited);
void sc_cache_unlock(int lockfd);

/*
 * Make a fresh private staging directory for key (removing stale ones left by
 * killed builds; the caller holds the key's lock). Returns 0 and *tmpdir
 * (caller frees), or -errno with err set.
 */
int sc_cache_stage(struct sc_cache *c, const char *hex, char **tmpdir, struct sc_error *err);

/*
 * Complete the staged build in tmpdir (which must hold MODULE.ko): write the
 * input record and metadata, fsync, and rename it into place. On success
 * returns 0 and *module_path; on failure the staging dir is removed and
 * nothing is published. The caller holds the key's lock.
 */
int sc_cache_publish(struct sc_cache *c, const struct sc_key *key, const char *tmpdir,
		     const char *extra_meta, char **module_path, struct sc_error *err);

/* Add deltas to the counters (best effort). */
void sc_cache_count(struct sc_cache *c, enum sc_stat which, int64_t delta);
/* Read the counters. Returns 0 (missing file: all zero) or -errno. */
int sc_cache_stats(struct sc_cache *c, uint64_t out[SC_STAT_N]);
const char *sc_stat_name(enum sc_stat which);

struct sc_entry_info {
	char key[SC_SHA256_HEXLEN + 1];
	char module[64];
	char kernel[128];
	char arch[32];
	char *path; /* the module file */
	uint64_t size;
	time_t last_use;
	time_t built;
};

/* All complete entries, oldest use first. Free with sc_cache_entries_free. */
int sc_cache_entries(struct sc_cache *c, struct sc_entry_info **out, size_t *n);
void sc_cache_entries_free(struct sc_entry_info *e, size_t n);

/*
 * Evict least-recently-used entries until the total size is at most max
 * bytes, never touching an entry that is being built or keep (may be NULL).
 * Sets *evicted and *freed. Returns 0 or -errno.
 */
int sc_cache_prune(struct sc_cache *c, uint64_t max, const char *keep, size_t *evicted,
		   uint64_t *freed);

/* Remove every entry not locked by a build, and stale staging dirs. */
int sc_cache_clear(struct sc_cache *c, size_t *removed);

#endif
