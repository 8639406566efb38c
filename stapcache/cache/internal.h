/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CACHE_INTERNAL_H
#define SC_CACHE_INTERNAL_H

/*
 * What the cache's files share, and nothing outside cache/ includes: the
 * handle, and the steps the miss path (publish.c), the entry walks
 * (entries.c) and the counters (stats.c) take on the layout (layout.c).
 * cache.h documents the layout itself.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "core/cache-key.h"

struct sc_cache {
	char *dir;
	char *memo;
	uint64_t max_size;
	unsigned lock_wait_s;     /* 0: wait for a concurrent build as long as it takes */
	struct sc_shared *shared; /* NULL: no second level */
	bool recache;             /* rebuild and replace what a request asks for */
};

/* layout.c: paths (the caller frees them) */
char *cache_entry_dir(const struct sc_cache *c, const char *hex);
char *cache_module_path(const struct sc_cache *c, const struct sc_key *key);

/* layout.c: a hit's check. 0 and *module_path, -ENOENT, or -ESTALE (the stamp differs). */
int cache_lookup(struct sc_cache *c, const struct sc_key *key, char **module_path);

/*
 * layout.c: one of the cache's own files (a lock, stats.log) opened to
 * write, as a regular file and nothing else: a symlink, FIFO, device, socket
 * or directory at its name, or a file with another name elsewhere (a
 * hardlink), is damage (only the cache's owner could put it there) and is
 * never followed, blocked on or written into, but removed (sc_rm_rf does not
 * follow links; the other name keeps its bytes) and the file made anew.
 * Returns the descriptor or -errno (err, which may be NULL, says why).
 */
int cache_open_own(const char *path, int flags, struct sc_error *err);

/*
 * layout.c: the key's build lock (cache_open_own). Returns the descriptor to
 * hand to cache_unlock_key (*waited: someone else held it first), or -errno
 * (-ETIMEDOUT after the lock wait; err says why otherwise).
 */
int cache_lock_key(struct sc_cache *c, const char *hex, bool *waited,
		   struct sc_error *err);
void cache_unlock_key(int lockfd);

/* layout.c: is a build holding key hex? When not, *fd_out holds its lock (or -1). */
bool cache_key_busy(struct sc_cache *c, const char *hex, int *fd_out);

/*
 * layout.c: remove staging dirs, for one key (prefix "KEY.") or, with prefix
 * NULL, all unlocked ones and the scratch dirs of processes that are gone.
 */
void cache_sweep_tmp(struct sc_cache *c, const char *prefix);

/* layout.c: a private, empty staging dir for key hex. 0 and *tmpdir, or -errno with err. */
int cache_stage(struct sc_cache *c, const char *hex, char **tmpdir, struct sc_error *err);

/* entries.c: is s a key's hex? */
bool cache_is_key(const char *s);

/*
 * entries.c: under the key's lock, may the entry in dir go (no hit checking
 * it; with grace, not used within SC_CACHE_GRACE s)? The descriptor to hold
 * until it is gone (-1: none), or -EBUSY.
 */
int cache_claim_unused(const char *dir, bool grace);

/* entries.c: rename the entry away, then delete it. 0 or -errno. */
int cache_remove_entry(struct sc_cache *c, const char *hex);

/*
 * entries.c: the full check of one entry under its key's lock: 0 (its stamp
 * is back), -EBADMSG (damaged and removed; err says why) or -errno.
 */
int cache_recheck_locked(struct sc_cache *c, const char *hex, const char *module,
			 struct sc_error *err);

/* stats.c: n events of one kind, appended to stats.log. Never fails a request. */
void cache_count(struct sc_cache *c, enum sc_stat which, size_t n);

/* stats.c: fold stats.log into the totals once it has grown large. */
void cache_fold_if_large(struct sc_cache *c);

#endif
