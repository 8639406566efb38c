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
#include "common/modinfo.h"

#include "cache/internal.h"

static int write_in(const char *dir, const char *name, const void *buf, size_t len)
{
	char *p = sc_strdupf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r;

	free(p);
	if (fd < 0)
		return -errno;
	r = sc_write_all(fd, buf, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/*
 * SHA-256 and size of the built module, fsyncing it on the way, and its
 * stat for the stamp (nothing changes the file after this). -EFBIG when it
 * is larger than SC_MODULE_MAX, which nothing downstream would read.
 */
static int digest_module(const char *path, char hex[SC_SHA256_HEXLEN + 1], uint64_t *size,
			 struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		r = -errno;
	else if (!S_ISREG(st->st_mode))
		r = -EINVAL;
	else if (st->st_size == 0)
		r = -ENODATA;
	else if ((uint64_t)st->st_size > SC_MODULE_MAX)
		r = -EFBIG;
	r = r ?: sc_sha256_fd(fd, hex);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	/* Its stat after the fsync: what the stamp compares. */
	if (r == 0 && fstat(fd, st) < 0)
		r = -errno;
	close(fd);
	if (r == 0)
		*size = (uint64_t)st->st_size;
	return r;
}

/* `used`: the module's stamp (stamp.h); its mtime is the entry's last use. */
static int write_stamp(const char *dir, const struct stat *st)
{
	char *buf = NULL;
	size_t len = 0;
	int r = sc_entry_stamp(st, &buf, &len);

	r = r ?: write_in(dir, "used", buf, len);
	free(buf);
	return r;
}

static int serialize_into(const char *dir, const char *name, const struct sc_record *rec)
{
	char *buf = NULL;
	size_t len;
	int r = sc_record_serialize(rec, &buf, &len);

	if (r == 0)
		r = write_in(dir, name, buf, len);
	free(buf);
	return r;
}

/* The entry's metadata: what the cache knows, then what the build added. */
static int meta_record(const struct sc_key *key, const char *hex, uint64_t size,
		       const struct sc_record *extra, struct sc_record **out)
{
	struct sc_record *m = sc_record_new();
	int r = m ? 0 : -ENOMEM;

	r = r ?: sc_record_add_str(m, "key", key->hex);
	r = r ?: sc_record_add_str(m, "module", key->module);
	r = r ?: sc_record_add_str(m, "sha256", hex);
	r = r ?: sc_record_addf(m, "size", "%" PRIu64, size);
	r = r ?: sc_record_addf(m, "built", "%lld", (long long)time(NULL));
	for (size_t i = 0; r == 0 && i < sc_record_count(extra); i++) {
		size_t len;
		const char *v = sc_record_value(extra, i, &len);

		r = sc_record_add(m, sc_record_label(extra, i), v, len);
	}
	if (r < 0) {
		sc_record_free(m);
		return r;
	}
	*out = m;
	return 0;
}

static int install(struct sc_cache *c, const struct sc_key *key, const char *tmpdir,
		   char **module_path, struct sc_error *err);

/*
 * Complete the staged build in tmpdir (which holds MODULE.ko): write the
 * input record and metadata, fsync, and rename it into place. On failure the
 * staging dir is removed and nothing is published. The caller holds the lock.
 */
static int publish(struct sc_cache *c, const struct sc_key *key, const char *tmpdir,
		   const struct sc_record *extra, char **module_path,
		   struct sc_error *err)
{
	char hex[SC_SHA256_HEXLEN + 1], *ko;
	struct sc_record *meta = NULL;
	uint64_t size = 0;
	struct stat st;
	int r;

	ko = sc_strdupf("%s/%s.ko", tmpdir, key->module);
	r = digest_module(ko, hex, &size, &st);
	if (r == -EFBIG) {
		sc_error_set(err,
			     "stap built %s.ko larger than %u MiB, the largest module "
			     "stapcache, bless, -T and staprun-auth accept; not cached",
			     key->module, SC_MODULE_MAX >> 20);
		goto fail;
	}
	if (r < 0) {
		sc_error_set(err, "stap produced no usable module %s.ko: %s", key->module,
			     strerror(-r));
		goto fail;
	}
	r = serialize_into(tmpdir, "inputs", key->record);
	r = r ?: meta_record(key, hex, size, extra, &meta);
	r = r ?: serialize_into(tmpdir, "meta", meta);
	r = r ?: write_stamp(tmpdir, &st);
	r = r ?: sc_fsync_dir(tmpdir);
	if (r < 0) {
		sc_error_set(err, "cannot write the cache entry in %s: %s%s", tmpdir,
			     strerror(-r),
			     r == -ENOSPC || r == -EDQUOT
				     ? " (free some space or run 'stapcache cache prune')"
				     : "");
		goto fail;
	}
	r = install(c, key, tmpdir, module_path, err);
	goto out_noremove;
fail:
	(void)sc_rm_rf(tmpdir);
out_noremove:
	sc_record_free(meta);
	free(ko);
	return r;
}

/* Rename a complete staging dir into place (the caller holds the lock). */
static int install(struct sc_cache *c, const struct sc_key *key, const char *tmpdir,
		   char **module_path, struct sc_error *err)
{
	char *shard = sc_strdupf("%s/%.2s", c->dir, key->hex), *dest;
	int r;

	r = sc_mkdir_p(shard, 0755);
	dest = cache_entry_dir(c, key->hex);
	if (r == 0 && rename(tmpdir, dest) < 0)
		r = -errno;
	if (r == -ENOTEMPTY || r == -EEXIST) {
		/* Someone published the same key meanwhile: theirs is as good as ours. */
		(void)sc_rm_rf(tmpdir);
		r = 0;
	} else if (r < 0) {
		sc_error_set(err, "cannot publish the cache entry %s: %s", dest,
			     strerror(-r));
		goto fail;
	}
	(void)sc_fsync_dir(shard);
	*module_path = cache_module_path(c, key);
	goto out;
fail:
	(void)sc_rm_rf(tmpdir);
out:
	free(dest);
	free(shard);
	return r;
}

/*
 * A fetched entry in tmpdir (the helper verified its signature): check
 * again, with the plain digests, that its inputs are this key's and its
 * module is the one its meta names, then publish it as it came.
 */
static int publish_fetched(struct sc_cache *c, const struct sc_key *key,
			   const char *tmpdir, char **module_path, struct sc_error *err)
{
	char hex[SC_SHA256_HEXLEN + 1], *ko = sc_strdupf("%s/%s.ko", tmpdir, key->module);
	char *mp = sc_strdupf("%s/meta", tmpdir), *ip = sc_strdupf("%s/inputs", tmpdir);
	char *buf = NULL, *ibuf = NULL;
	struct sc_record *meta = NULL;
	uint8_t md[SC_SHA256_LEN];
	size_t len = 0, il = 0;
	uint64_t size = 0;
	struct stat st;
	const char *v;
	int r = digest_module(ko, hex, &size, &st);

	r = r ?: sc_read_regular(AT_FDCWD, mp, 65536, &buf, &len, NULL, NULL);
	r = r ?: sc_record_parse(buf, len, &meta, NULL);
	r = r ?: sc_read_regular(AT_FDCWD, ip, 16u << 20, &ibuf, &il, NULL, NULL);
	if (r == 0) {
		sc_sha256(ibuf, il, md);
		v = sc_record_get(meta, "sha256");
		char ih[SC_SHA256_HEXLEN + 1];

		sc_hex(ih, md, sizeof(md));
		if (!v || strcmp(v, hex) || strcmp(ih, key->hex))
			r = -EBADMSG;
	}
	if (r == 0) {
		char *up = sc_strdupf("%s/used", tmpdir);

		(void)unlink(up); /* whatever the store sent: the stamp is local */
		free(up);
	}
	r = r ?: write_stamp(tmpdir, &st);
	r = r ?: sc_fsync_dir(tmpdir);
	if (r < 0) {
		sc_error_set(err, "the fetched entry does not match: %s", strerror(-r));
		(void)sc_rm_rf(tmpdir);
	} else {
		r = install(c, key, tmpdir, module_path, err);
	}
	sc_record_free(meta);
	free(buf);
	free(ibuf);
	free(ko);
	free(mp);
	free(ip);
	return r;
}

/* ------------------------------------------------------------ get or build */

/*
 * The second level, between "look again" and "build": a verified entry is
 * published as it came. Returns 0 on a shared hit; otherwise tmpdir is
 * empty again for the build.
 */
static int fetch_shared(struct sc_cache *c, const struct sc_key *key, const char *tmpdir,
			bool lease, char **module_path, enum sc_shared_result *result)
{
	static const enum sc_stat stat_of[] = {[SC_SHARED_HIT] = SC_STAT_SHARED_HITS,
					       [SC_SHARED_MISS] = SC_STAT_SHARED_MISSES,
					       [SC_SHARED_REJECT] =
						       SC_STAT_SHARED_REJECTS,
					       [SC_SHARED_ERROR] = SC_STAT_SHARED_ERRORS};
	struct sc_error err = {{0}};
	enum sc_shared_result res =
		lease ? sc_shared_fetch(c->shared, key->hex, key->module, tmpdir)
		      : sc_shared_peek(c->shared, key->hex, key->module, tmpdir);

	if (res == SC_SHARED_HIT &&
	    publish_fetched(c, key, tmpdir, module_path, &err) < 0) {
		fprintf(stderr, "stapcache: shared cache: %s; not served\n", err.msg);
		res = SC_SHARED_REJECT;
	}
	cache_count(c, stat_of[res], 1);
	*result = res;
	if (res == SC_SHARED_HIT)
		return 0;
	/* Whatever the helper left, the build starts from an empty staging dir. */
	if (tmpdir) {
		(void)sc_rm_rf(tmpdir);
		(void)mkdir(tmpdir, 0700);
	}
	return -ENOENT;
}

static void upload_shared(struct sc_cache *c, const struct sc_key *key)
{
	char *dir;

	if (!c->shared)
		return;
	dir = cache_entry_dir(c, key->hex);
	if (sc_shared_upload(c->shared, key->hex, key->module, dir) == 0)
		cache_count(c, SC_STAT_SHARED_UPLOADS, 1);
	else
		cache_count(c, SC_STAT_SHARED_ERRORS, 1);
	free(dir);
}

/*
 * Under the key's lock, the stamp differed: the full check decides. Returns
 * 0 and *module_path (verified just now: served even when the stamp cannot
 * be written, as in a read-only cache), -ENOENT (it was damaged and is
 * gone: build it), or another -errno with err set (it could not be checked,
 * so it is not served).
 */
static int look_closer(struct sc_cache *c, const struct sc_key *key, char **module_path,
		       struct sc_error *err)
{
	struct sc_error derr = {{0}};
	int r = cache_recheck_locked(c, key->hex, key->module, &derr);

	if (r == 0) {
		*module_path = cache_module_path(c, key);
		return 0;
	}
	if (r == -EBADMSG) {
		fprintf(stderr,
			"stapcache: warning: the cached entry is damaged: %s; removed it, "
			"building it again\n",
			derr.msg);
		return -ENOENT;
	}
	sc_error_set(err, "cannot check the cached entry for %s: %s", key->module,
		     derr.msg);
	return r;
}

/*
 * Under the key's lock (taken here: *lockfd), look again: a concurrent build
 * published it, or the stamp differed. Returns 0 (a hit: *how, the lock
 * released), -ENOENT (build it: the lock is held), or -errno with err set
 * (the lock released). With recache, whatever is there is removed instead:
 * the request rebuilds and replaces it.
 */
static int lock_and_look(struct sc_cache *c, const struct sc_key *key, bool recache,
			 char **module_path, enum sc_cache_how *how, int *lockfd,
			 struct sc_error *err)
{
	bool waited;
	int r;

	*lockfd = cache_lock_key(c, key->hex, &waited, err);
	if (*lockfd == -ETIMEDOUT) {
		sc_error_set(
			err,
			"another stapcache has been building %s for over %u s (the build "
			"timeout, --build-timeout or 'build-timeout:'), so this request "
			"stopped waiting; that build may be hung: 'fuser %s/locks/%s' "
			"names it",
			key->module, c->lock_wait_s, c->dir, key->hex);
		return -ETIMEDOUT;
	}
	if (*lockfd < 0) {
		sc_error_set(err, "cannot lock %s/locks/%s: %s", c->dir, key->hex,
			     strerror(-*lockfd));
		return *lockfd;
	}
	if (recache) {
		(void)cache_remove_entry(c, key->hex); /* none there: nothing to remove */
		return -ENOENT;
	}
	r = cache_lookup(c, key, module_path);
	if (r == -ESTALE)
		r = look_closer(c, key, module_path, err);
	if (r == 0) {
		*how = waited ? SC_CACHE_HIT_WAITED : SC_CACHE_HIT;
		cache_count(c, SC_STAT_HITS, 1);
	}
	if (r != -ENOENT)
		cache_unlock_key(*lockfd);
	return r;
}

/*
 * The miss path: one build per key at a time. Whoever waited for the lock
 * finds the entry published and answers as a hit.
 */
static int build_entry(struct sc_cache *c, const struct sc_key *key,
		       sc_cache_build_fn *build, void *arg, char **module_path,
		       enum sc_cache_how *how, struct sc_error *err)
{
	enum sc_shared_result shared = SC_SHARED_MISS;
	struct sc_record *extra = NULL;
	char *tmpdir = NULL;
	int lockfd, r = lock_and_look(c, key, c->recache, module_path, how, &lockfd, err);

	if (r != -ENOENT)
		return r;
	cache_count(c, SC_STAT_MISSES, 1);
	extra = sc_record_new();
	r = extra ? cache_stage(c, key->hex, &tmpdir, err) : -ENOMEM;
	/* Recaching is for what was built here: a store's copy is not a rebuild. */
	if (r == 0 && c->shared && !c->recache &&
	    fetch_shared(c, key, tmpdir, true, module_path, &shared) == 0) {
		*how = SC_CACHE_SHARED;
		goto done;
	}
	if (r == 0) {
		r = build(arg, tmpdir, extra, err);
		if (r < 0) {
			(void)sc_rm_rf(tmpdir);
			cache_count(c, SC_STAT_BUILD_FAILURES, 1);
		}
	}
	r = r ?: publish(c, key, tmpdir, extra, module_path, err);
	if (r == 0) {
		*how = SC_CACHE_BUILT;
		cache_count(c, SC_STAT_BUILDS, 1);
		/* A store that just failed (down, hanging, garbage) is not made
		 * to fail again, and wait another timeout, in the same request. */
		if (shared != SC_SHARED_ERROR)
			upload_shared(c, key);
	}
done:
	sc_shared_done(c->shared); /* a build lease ends after the upload (or failure) */
	cache_unlock_key(lockfd);
	sc_record_free(extra);
	free(tmpdir);
	return r;
}

/*
 * No build (sc_cache_get's build NULL): under the key's lock, look again,
 * then ask the shared store without a lease (nothing is going to be built
 * here for others to wait for). Returns 0 (*how), -ENOENT, or -errno.
 */
static int find_entry(struct sc_cache *c, const struct sc_key *key, char **module_path,
		      enum sc_cache_how *how, struct sc_error *err)
{
	enum sc_shared_result shared = SC_SHARED_MISS;
	char *tmpdir = NULL;
	int lockfd, r = lock_and_look(c, key, false, module_path, how, &lockfd, err);

	if (r != -ENOENT)
		return r;
	cache_count(c, SC_STAT_MISSES, 1);
	r = -ENOENT;
	if (c->shared && cache_stage(c, key->hex, &tmpdir, err) == 0) {
		if (fetch_shared(c, key, tmpdir, false, module_path, &shared) == 0) {
			*how = SC_CACHE_SHARED;
			r = 0;
		} else {
			(void)sc_rm_rf(tmpdir);
		}
	}
	if (r == -ENOENT)
		sc_error_set(err, "%s is not cached", key->module);
	cache_unlock_key(lockfd);
	free(tmpdir);
	return r;
}

int sc_cache_get(struct sc_cache *c, const struct sc_key *key, sc_cache_build_fn *build,
		 void *arg, char **module_path, enum sc_cache_how *how,
		 struct sc_error *err)
{
	enum sc_cache_how h = SC_CACHE_HIT;
	size_t evicted;
	uint64_t freed;
	int r;

	if ((!c->recache || !build) && cache_lookup(c, key, module_path) == 0) {
		cache_count(c, SC_STAT_HITS, 1);
	} else if (!build) {
		r = find_entry(c, key, module_path, &h, err);
		if (r < 0)
			return r;
		if (h == SC_CACHE_SHARED && c->max_size)
			(void)sc_cache_prune(c, c->max_size, key->hex, &evicted, &freed);
	} else {
		r = build_entry(c, key, build, arg, module_path, &h, err);
		if (r < 0)
			return r;
		if ((h == SC_CACHE_BUILT || h == SC_CACHE_SHARED) && c->max_size)
			(void)sc_cache_prune(c, c->max_size, key->hex, &evicted, &freed);
		if (h == SC_CACHE_BUILT)
			cache_fold_if_large(c);
	}
	if (how)
		*how = h;
	return 0;
}
