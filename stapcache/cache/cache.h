/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CACHE_H
#define SC_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"
#include "core/cache-key.h"
#include "common/record.h"

/*
 * The on-disk cache, and the only code that knows its layout:
 *
 *   DIR/CACHEDIR.TAG
 *   DIR/stats                 counter totals (a record), replaced atomically when
 *                             stats.log is folded into it
 *   DIR/stats.log             one byte an event (sc_stats_info[]'s codes), appended
 *                             with O_APPEND under a shared flock; folded under an
 *                             exclusive one
 *   DIR/locks/KEY             per-key flock: one build per key at a time
 *   DIR/tmp/KEY.XXXXXX/       private staging for a build; renamed into place
 *   DIR/memo/trees/HASH       tree fingerprints memoized by tree.c (see tree.h)
 *   DIR/memo/files/HASH       file content digests by file identity (tree.h)
 *   DIR/memo/hot              copies of the memos a hit needs, in one file (tree.h)
 *   DIR/memo/stap-version/HASH  `stap -V` per stap binary (path, content; key.c)
 *   DIR/KE/KEY/               one entry: MODULE.ko, inputs (the key record),
 *                             meta (a record: what, when, digest), used (mtime =
 *                             last use; content: the module's stamp, stamp.h)
 *
 * An entry appears by rename(2) of a complete staging directory, so readers
 * see a whole entry or none; flock(2) locks die with their process. The memo
 * directories only save time: removing them is always safe.
 *
 * The miss path is a sequence of steps inside sc_cache_get (lock, look again,
 * stage, build, publish, count, prune). A second-level store (issue 10)
 * becomes one more step between "look again" and "build", and an upload
 * after "publish"; a local hit never reaches either.
 */
struct sc_cache;

enum sc_stat {
	SC_STAT_HITS,
	SC_STAT_MISSES,
	SC_STAT_BUILDS,
	SC_STAT_BUILD_FAILURES,
	SC_STAT_EVICTIONS,
	SC_STAT_SHARED_HITS,
	SC_STAT_SHARED_MISSES,
	SC_STAT_SHARED_UPLOADS,
	SC_STAT_SHARED_REJECTS,
	SC_STAT_SHARED_ERRORS,
	SC_STAT_DAMAGED, /* an entry whose module failed the full check, removed */
	SC_STAT_N
};

/*
 * With seconds > 0, a miss waits at most that long for a concurrent build of
 * the same key (its lock), then fails with -ETIMEDOUT: the build timeout
 * bounds the wait behind someone else's hung stap too. 0: no limit.
 */
void sc_cache_set_lock_wait(struct sc_cache *c, unsigned seconds);

/*
 * Recache (stap --poison-cache, ccache's CCACHE_RECACHE): sc_cache_get builds
 * every key asked for again, under its lock, and the new entry replaces the
 * old one; it neither answers from the entry nor from the shared store.
 */
void sc_cache_set_recache(struct sc_cache *c, bool recache);

struct sc_shared;
/*
 * Put a shared store (store/client.h) behind the cache; the cache owns it
 * from now on. It is consulted only on a miss, after "look again" and
 * before "build"; a built entry is uploaded after "publish".
 */
void sc_cache_set_shared(struct sc_cache *c, struct sc_shared *shared);

/*
 * Open the cache at dir, creating it when missing. max_size (bytes, 0: no
 * limit) is enforced after each build. Returns 0 and *out (free with
 * sc_cache_free), or -errno with err set.
 */
int sc_cache_open(const char *dir, uint64_t max_size, struct sc_cache **out,
		  struct sc_error *err);
/*
 * The same without creating anything, for looking at a cache (cache stats,
 * list, check): a cache that does not exist yet is an empty one. Returns 0
 * and *out, or -ENOMEM.
 */
int sc_cache_open_existing(const char *dir, uint64_t max_size, struct sc_cache **out);
void sc_cache_free(struct sc_cache *c);
const char *sc_cache_dir(const struct sc_cache *c);
/* Where key.c and tree.c keep their memos (DIR/memo). */
const char *sc_cache_memo_dir(const struct sc_cache *c);

/*
 * A build: fill stage_dir (private, empty) with MODULE.ko for the key, and
 * add to meta what the entry should record about it (kernel, arch, ...).
 * Returns 0 or -errno with err set (-EINTR when interrupted).
 */
typedef int sc_cache_build_fn(void *arg, const char *stage_dir, struct sc_record *meta,
			      struct sc_error *err);

enum sc_cache_how {
	SC_CACHE_HIT,        /* the entry was there */
	SC_CACHE_HIT_WAITED, /* a concurrent request built it while this one waited */
	SC_CACHE_BUILT,      /* built now */
	SC_CACHE_SHARED,     /* fetched from the shared store, verified, now local */
};

/*
 * Get or build the entry for key. A hit marks the entry used and counts it.
 * On a miss: take the key's lock (waiting for a concurrent build of the same
 * key, whose entry is then the answer), build in a private staging
 * directory, publish it, count, and evict least-recently-used entries above
 * the size limit. A failed or interrupted build leaves nothing behind and
 * no lock held. Returns 0, *module_path (caller frees) and *how (may be
 * NULL), or -errno with err set.
 *
 * build NULL: look only, in the cache and then the shared store (without a
 * build lease), and never build: -ENOENT (err says it is not cached) when
 * neither has it. A signed variant (sign/signed.h) is looked for this way
 * by whoever cannot sign it.
 */
int sc_cache_get(struct sc_cache *c, const struct sc_key *key, sc_cache_build_fn *build,
		 void *arg, char **module_path, enum sc_cache_how *how,
		 struct sc_error *err);

/*
 * A private directory for work beside the cache (stapcache verify's rebuild):
 * DIR/tmp/scratch.PID.WHAT.XXXXXX, never swept by a build (it is not named
 * for a key); a prune or `cache clear` removes it once process PID is gone.
 * Returns 0 and *dir (the caller removes it and frees the string), or -errno
 * with err set.
 */
int sc_cache_scratch(struct sc_cache *c, const char *what, char **dir,
		     struct sc_error *err);

/* Is key cached? Returns 0 and *module_path (caller frees), or -ENOENT. No side effects. */
int sc_cache_peek(struct sc_cache *c, const struct sc_key *key, char **module_path);

/*
 * The counters, exact however many processes counted at once. Folds the
 * event log into the totals when it can write the cache. Returns 0 or -errno.
 */
int sc_cache_stats(struct sc_cache *c, uint64_t out[SC_STAT_N]);

/* Every counter back to 0 (ccache -z). Returns 0 or -errno. */
int sc_cache_zero_stats(struct sc_cache *c);

/* One row a counter (stats.c), the only place each is named. */
struct sc_stat_info {
	char code;          /* its byte in stats.log */
	const char *record; /* its label in DIR/stats */
	const char *json;   /* its name in `cache stats --json` */
	const char *label;  /* its line in `cache stats` */
	bool shared;        /* the shared store's: shown when one is set or was used */
};
extern const struct sc_stat_info sc_stats_info[SC_STAT_N];

/* Bytes under DIR/memo (memos of fingerprints; safe to remove). */
uint64_t sc_cache_memo_size(struct sc_cache *c);

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

/* How many complete entries there are and their bytes. Returns 0 or -errno. */
int sc_cache_usage(struct sc_cache *c, size_t *entries, uint64_t *bytes);

/* All complete entries, oldest use first. Free with sc_cache_entries_free. */
int sc_cache_entries(struct sc_cache *c, struct sc_entry_info **out, size_t *n);
void sc_cache_entries_free(struct sc_entry_info *e, size_t n);

/*
 * A path handed out stays valid for at least this long: a prune never evicts
 * an entry used (hit, built or fetched) within the last SC_CACHE_GRACE
 * seconds, so the caller can open it. The size limit may be exceeded by
 * what was used in that time.
 */
#define SC_CACHE_GRACE 60

/*
 * Evict least-recently-used entries until the total size is at most max
 * bytes, never touching an entry that is being built, being checked by a
 * hit, used within SC_CACHE_GRACE seconds, or keep (may be NULL).
 * Sets *evicted and *freed. Returns 0 or -errno.
 */
int sc_cache_prune(struct sc_cache *c, uint64_t max, const char *keep, size_t *evicted,
		   uint64_t *freed);

/*
 * `cache check`: the full check (stamp.h) of every entry not locked by a
 * build. A complete entry gets its stamp back; a damaged one is removed (the
 * next request builds it again) and reported: report(arg, entry, -errno,
 * why) is called for every entry that failed (may be NULL). Sets *checked and
 * *damaged. Returns 0 or -errno.
 */
typedef void sc_cache_check_fn(void *arg, const struct sc_entry_info *e, int err,
			       const char *why);
int sc_cache_check(struct sc_cache *c, sc_cache_check_fn *report, void *arg,
		   size_t *checked, size_t *damaged);

/*
 * The entry whose module is path, when path is this cache's DIR/KE/KEY/NAME.ko
 * (after symlinks are resolved), its meta names KEY and NAME, and the module
 * passes the full check (stamp.h). Returns 0, *e (the caller frees e->path)
 * and sha256 (the module's digest, hex), -ENOENT when path is not a module of this cache, or -EBADMSG
 * (a damaged entry) or another -errno, with err set.
 */
int sc_cache_entry_of(struct sc_cache *c, const char *path, struct sc_entry_info *e,
		      char sha256[SC_SHA256_HEXLEN + 1], struct sc_error *err);

/* Remove every entry not locked by a build, stale staging dirs and the memos. */
int sc_cache_clear(struct sc_cache *c, size_t *removed);

#endif
