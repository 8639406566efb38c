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

#include "cache.h"
#include "digest.h"
#include "stamp.h"
#include "store/client.h"
#include "fsutil.h"
#include "util.h"

struct sc_cache {
	char *dir;
	char *memo;
	uint64_t max_size;
	unsigned lock_wait_s;     /* 0: wait for a concurrent build as long as it takes */
	struct sc_shared *shared; /* NULL: no second level */
};

static const char *stat_names[SC_STAT_N] = {
	"hits",           "misses",        "builds",        "build-failures",
	"evictions",      "shared-hits",   "shared-misses", "shared-uploads",
	"shared-rejects", "shared-errors", "damaged",
};
/* The byte stats.log holds for each event. */
static const char stat_codes[SC_STAT_N] = {'h', 'm', 'b', 'f', 'e', 'H',
					   'M', 'U', 'R', 'E', 'd'};

/* Fold stats.log into stats once it is this large (and on `cache stats`). */
#define STATS_LOG_FOLD (64u << 10)

const char *sc_stat_name(enum sc_stat which)
{
	return stat_names[which];
}

static const char cachedir_tag[] =
	"Signature: 8a477f597d28d172789f06886806bc55\n"
	"# This file marks a cache directory created by stapcache.\n"
	"# See https://bford.info/cachedir/ and stapcache(1).\n";

static int create_layout(const char *dir)
{
	char *tag = xstrdupf("%s/CACHEDIR.TAG", dir);
	int r = sc_mkdir_p(dir, 0755);

	if (r == 0 && access(tag, F_OK) < 0)
		(void)sc_write_file_atomic(tag, cachedir_tag, sizeof(cachedir_tag) - 1,
					   0644, NULL);
	free(tag);
	return r;
}

int sc_cache_open(const char *dir, uint64_t max_size, struct sc_cache **out,
		  struct sc_error *err)
{
	struct sc_cache *c;
	struct stat st;
	int r = 0;

	/* One stat on the hit path; the rest only when the cache is new. */
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		r = create_layout(dir);
	if (r < 0) {
		sc_error_set(err,
			     "cannot create the cache directory %s: %s; set 'cache-dir:' in "
			     "config.yaml or XDG_CACHE_HOME to a writable place",
			     dir, strerror(-r));
		return r;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->dir = xstrdupf("%s", dir);
	c->memo = xstrdupf("%s/memo", dir);
	c->max_size = max_size;
	*out = c;
	return 0;
}

void sc_cache_free(struct sc_cache *c)
{
	if (!c)
		return;
	sc_shared_free(c->shared);
	free(c->dir);
	free(c->memo);
	free(c);
}

void sc_cache_set_lock_wait(struct sc_cache *c, unsigned seconds)
{
	c->lock_wait_s = seconds;
}

void sc_cache_set_shared(struct sc_cache *c, struct sc_shared *shared)
{
	sc_shared_free(c->shared);
	c->shared = shared;
}

const char *sc_cache_dir(const struct sc_cache *c)
{
	return c->dir;
}

const char *sc_cache_memo_dir(const struct sc_cache *c)
{
	return c->memo;
}

uint64_t sc_cache_memo_size(struct sc_cache *c)
{
	return sc_du(c->memo);
}

static char *entry_dir(const struct sc_cache *c, const char *hex)
{
	return xstrdupf("%s/%.2s/%s", c->dir, hex, hex);
}

static char *module_path_of(const struct sc_cache *c, const struct sc_key *key)
{
	return xstrdupf("%s/%.2s/%s/%s.ko", c->dir, key->hex, key->hex, key->module);
}

int sc_cache_peek(struct sc_cache *c, const struct sc_key *key, char **module_path)
{
	char *path = module_path_of(c, key);
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		free(path);
		return -ENOENT;
	}
	*module_path = path;
	return 0;
}

/*
 * A hit: the entry is there and its module is the file that was published
 * (the stamp in `used` matches one stat of it); mark it used now
 * (least-recently-used eviction; a prune spares what was used within
 * SC_CACHE_GRACE seconds). The shared lock on `used` keeps a prune from
 * removing the entry between the check and the mark. Returns 0, -ENOENT (no
 * entry, or one being evicted: the miss path waits for the key's lock), or
 * -ESTALE (the stamp differs, or the module or used is not a regular file:
 * the full check decides, under the key's lock).
 */
static int lookup(struct sc_cache *c, const struct sc_key *key, char **module_path)
{
	char *used = xstrdupf("%s/%.2s/%s/used", c->dir, key->hex, key->hex);
	char *path = NULL, stamp[256];
	struct stat st;
	ssize_t n = -1;
	/* O_NONBLOCK, O_NOCTTY: a FIFO or a device there neither blocks nor
	 * matches a stamp (the full check then replaces it). */
	int fd = open(used, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY),
	    r = -ENOENT;

	free(used);
	if (fd < 0 && errno == ELOOP)
		r = -ESTALE;
	if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) < 0)
		goto out;
	path = module_path_of(c, key);
	/* An entry (used is there) whose module is gone or is not a regular
	 * file is damaged: the full check removes it. */
	r = -ESTALE;
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	n = read(fd, stamp, sizeof(stamp));
	if (n < 0 || !sc_entry_stamp_matches(stamp, (size_t)n, &st))
		goto out;
	(void)futimens(fd, NULL);
	*module_path = path;
	path = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* Try the lock every 50 ms for at most seconds. Returns 0 (taken) or -ETIMEDOUT. */
static int wait_lock(int fd, unsigned seconds)
{
	struct timespec nap = {0, 50 * 1000 * 1000};

	for (unsigned long i = 0; i < seconds * 20ul; i++) {
		(void)nanosleep(&nap, NULL);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
	}
	return -ETIMEDOUT;
}

/*
 * One of the cache's own files (a lock, stats.log) opened to write, as a
 * regular file and nothing else: a symlink, FIFO, device, socket or
 * directory at its name, or a file with another name elsewhere (a hardlink),
 * is damage (only the cache's owner could put it there) and is never
 * followed, blocked on or written into, but removed (sc_rm_rf does not
 * follow links; the other name keeps its bytes) and the file made anew. Returns the descriptor or -errno
 * (err, which may be NULL, says why).
 */
static int open_own(const char *path, int flags, struct sc_error *err)
{
	int fd = sc_open_regular(AT_FDCWD, path, flags | O_CREAT, 0644, NULL, err);
	struct stat st;

	/* A second name elsewhere: writing in place would write there too. */
	if (fd >= 0 && (flags & O_ACCMODE) != O_RDONLY &&
	    (fstat(fd, &st) < 0 || st.st_nlink != 1)) {
		close(fd);
		fd = SC_ENOTREG;
	}
	if (fd == SC_ENOTREG && sc_rm_rf(path) == 0)
		fd = sc_open_regular(AT_FDCWD, path, flags | O_CREAT, 0644, NULL, err);
	return fd;
}

/* The key's lock file (open_own). Returns the descriptor or -errno (err). */
static int lock_key(struct sc_cache *c, const char *hex, bool *waited,
		    struct sc_error *err)
{
	char *dir = xstrdupf("%s/locks", c->dir);
	char *path = xstrdupf("%s/%s", dir, hex);
	int fd, r;

	*waited = false;
	r = sc_mkdir_p(dir, 0755);
	free(dir);
	if (r < 0) {
		sc_error_set(err, "cannot create %s/locks: %s", c->dir, strerror(-r));
		free(path);
		return r;
	}
	fd = open_own(path, O_RDWR, err);
	/* A read-only cache: the lock still orders checks (flock needs no write). */
	if (fd == -EROFS || fd == -EACCES) {
		r = fd;
		fd = sc_open_regular(AT_FDCWD, path, O_RDONLY, 0, NULL, NULL);
		if (fd < 0) /* a lock file that cannot be made: say why it cannot */
			fd = r;
	}
	free(path);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	*waited = true;
	r = c->lock_wait_s ? wait_lock(fd, c->lock_wait_s) : 0;
	while (r == 0 && flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			r = -errno;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static void unlock_key(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);
}

/* Is some process building (holding the lock of) this key right now? */
static bool key_busy(struct sc_cache *c, const char *hex, int *fd_out)
{
	char *dir = xstrdupf("%s/locks", c->dir);
	char *path = xstrdupf("%s/%s", dir, hex);
	int fd;

	/* Created when missing, so that an eviction always holds a real lock. */
	(void)sc_mkdir_p(dir, 0755);
	fd = open_own(path, O_RDWR, NULL);
	free(dir);
	free(path);
	*fd_out = -1;
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return true;
	}
	*fd_out = fd;
	return false;
}

/* 1 when a scratch dir's creator ("scratch.PID.WHAT.XXXXXX") is gone. */
static bool scratch_orphan(const char *name)
{
	long pid = strtol(name + 8, NULL, 10);

	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/*
 * Remove staging dirs: for one key (prefix "KEY.") or, with prefix NULL, all
 * unlocked ones and the scratch dirs of processes that are gone.
 */
static void sweep_tmp(struct sc_cache *c, const char *prefix)
{
	char *tmp = xstrdupf("%s/tmp", c->dir);
	struct dirent *de;
	DIR *d = opendir(tmp);

	if (!d) {
		free(tmp);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char hex[SC_SHA256_HEXLEN + 1];
		int lockfd = -1;

		if (de->d_name[0] == '.')
			continue;
		if (prefix) {
			if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
				continue;
		} else if (!strncmp(de->d_name, "scratch.", 8)) {
			if (!scratch_orphan(de->d_name))
				continue;
		} else {
			size_t hl = strcspn(de->d_name, ".");

			if (hl != SC_SHA256_HEXLEN)
				continue;
			memcpy(hex, de->d_name, hl);
			hex[hl] = '\0';
			if (key_busy(c, hex, &lockfd))
				continue;
		}
		char *p = xstrdupf("%s/%s", tmp, de->d_name);

		(void)sc_rm_rf(p);
		free(p);
		unlock_key(lockfd);
	}
	closedir(d);
	free(tmp);
}

static int stage(struct sc_cache *c, const char *hex, char **tmpdir, struct sc_error *err)
{
	char *tmp = xstrdupf("%s/tmp", c->dir);
	char *prefix = xstrdupf("%s.", hex);
	char *path;
	int r;

	sweep_tmp(c, prefix);
	free(prefix);
	r = sc_mkdir_p(tmp, 0755);
	path = xstrdupf("%s/%s.XXXXXX", tmp, hex);
	free(tmp);
	if (r < 0 || !mkdtemp(path)) {
		r = r < 0 ? r : -errno;
		sc_error_set(err, "cannot create a staging directory in %s/tmp: %s",
			     c->dir, strerror(-r));
		free(path);
		return r;
	}
	*tmpdir = path;
	return 0;
}

int sc_cache_scratch(struct sc_cache *c, const char *what, char **dir,
		     struct sc_error *err)
{
	char *tmp = xstrdupf("%s/tmp", c->dir);
	char *path = xstrdupf("%s/scratch.%ld.%s.XXXXXX", tmp, (long)getpid(), what);
	int r = sc_mkdir_p(tmp, 0755);

	free(tmp);
	if (r < 0 || !mkdtemp(path)) {
		r = r < 0 ? r : -errno;
		sc_error_set(err, "cannot create a private directory in %s/tmp: %s",
			     c->dir, strerror(-r));
		free(path);
		return r;
	}
	*dir = path;
	return 0;
}

static int write_in(const char *dir, const char *name, const void *buf, size_t len)
{
	char *p = xstrdupf("%s/%s", dir, name);
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
 * stat for the stamp (taken last: nothing changes the file after this).
 */
static int digest_module(const char *path, char hex[SC_SHA256_HEXLEN + 1], uint64_t *size,
			 struct stat *st)
{
	uint8_t md[SC_SHA256_LEN];
	char *buf = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int r;

	if (fd < 0)
		return -errno;
	r = sc_read_fd_sha256(fd, 1u << 30, &buf, &len, md);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && fstat(fd, st) < 0)
		r = -errno;
	close(fd);
	free(buf);
	if (r < 0)
		return r;
	if (len == 0)
		return -ENODATA;
	sc_hex(hex, md, sizeof(md));
	*size = len;
	return 0;
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
	char hex[SC_SHA256_HEXLEN + 1], *ko, *dest = NULL;
	char *shard = xstrdupf("%s/%.2s", c->dir, key->hex);
	struct sc_record *meta = NULL;
	uint64_t size = 0;
	struct stat st;
	int r;

	ko = xstrdupf("%s/%s.ko", tmpdir, key->module);
	r = digest_module(ko, hex, &size, &st);
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
	free(shard);
	free(dest);
	return r;
}

/* Rename a complete staging dir into place (the caller holds the lock). */
static int install(struct sc_cache *c, const struct sc_key *key, const char *tmpdir,
		   char **module_path, struct sc_error *err)
{
	char *shard = xstrdupf("%s/%.2s", c->dir, key->hex), *dest;
	int r;

	r = sc_mkdir_p(shard, 0755);
	dest = entry_dir(c, key->hex);
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
	*module_path = module_path_of(c, key);
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
	char hex[SC_SHA256_HEXLEN + 1], *ko = xstrdupf("%s/%s.ko", tmpdir, key->module);
	char *mp = xstrdupf("%s/meta", tmpdir), *ip = xstrdupf("%s/inputs", tmpdir);
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
		char *up = xstrdupf("%s/used", tmpdir);

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

/* ------------------------------------------------------------ statistics */

/*
 * A hit appends one byte: no read, no rename, no lock but a shared one that
 * only a fold waits for. Best effort: statistics never fail a request.
 */
static void count(struct sc_cache *c, enum sc_stat which, size_t n)
{
	char *path = xstrdupf("%s/stats.log", c->dir), buf[64];
	int fd = open_own(path, O_WRONLY | O_APPEND, NULL);

	free(path);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_SH) == 0) {
		while (n > 0) {
			size_t k = n < sizeof(buf) ? n : sizeof(buf);

			memset(buf, stat_codes[which], k);
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
		const char *v = sc_record_get(rec, stat_names[i]);

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
		r = sc_record_addf(rec, stat_names[i], "%" PRIu64, v[i]);
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
			if (buf[i] == stat_codes[j])
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
	char *log = xstrdupf("%s/stats.log", c->dir), *tot = xstrdupf("%s/stats", c->dir);
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

int sc_cache_stats(struct sc_cache *c, uint64_t out[SC_STAT_N])
{
	return read_stats(c, true, out);
}

/* Keep the log small: fold it when a build has already paid for a slow path. */
static void fold_if_large(struct sc_cache *c)
{
	char *log = xstrdupf("%s/stats.log", c->dir);
	uint64_t v[SC_STAT_N];
	struct stat st;

	if (stat(log, &st) == 0 && (uint64_t)st.st_size >= STATS_LOG_FOLD)
		(void)read_stats(c, true, v);
	free(log);
}

/* ------------------------------------------------------------ entries */

static bool is_key(const char *s)
{
	uint8_t md[SC_SHA256_LEN];

	return sc_unhex_sha256(s, strlen(s), md) == 0;
}

static void meta_field(const struct sc_record *meta, const char *name, char *out,
		       size_t n)
{
	const char *v = sc_record_get(meta, name);

	snprintf(out, n, "%s", v ? v : "");
}

static int load_entry(struct sc_cache *c, const char *shard, const char *hex,
		      struct sc_entry_info *e)
{
	char *dir = xstrdupf("%s/%s/%s", c->dir, shard, hex);
	char *mp = xstrdupf("%s/meta", dir), *up = xstrdupf("%s/used", dir);
	struct sc_record *meta = NULL;
	char *buf = NULL, built[32];
	size_t len = 0;
	struct stat st;
	int r = sc_read_regular(AT_FDCWD, mp, 65536, &buf, &len, NULL, NULL);

	r = r ?: sc_record_parse(buf, len, &meta, NULL);
	if (r < 0)
		goto out;
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", hex);
	meta_field(meta, "module", e->module, sizeof(e->module));
	meta_field(meta, "kernel", e->kernel, sizeof(e->kernel));
	meta_field(meta, "arch", e->arch, sizeof(e->arch));
	meta_field(meta, "built", built, sizeof(built));
	e->built = (time_t)strtoll(built, NULL, 10);
	e->size = sc_du(dir);
	e->last_use = stat(up, &st) == 0 ? st.st_mtime : e->built;
	e->path = xstrdupf("%s/%s.ko", dir, e->module);
out:
	sc_record_free(meta);
	free(buf);
	free(mp);
	free(up);
	free(dir);
	return r;
}

static int cmp_use(const void *a, const void *b)
{
	const struct sc_entry_info *x = a, *y = b;

	if (x->last_use != y->last_use)
		return x->last_use < y->last_use ? -1 : 1;
	return strcmp(x->key, y->key);
}

int sc_cache_entries(struct sc_cache *c, struct sc_entry_info **out, size_t *n_out)
{
	struct sc_entry_info *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *top = opendir(c->dir);

	if (!top)
		return -errno;
	while ((de = readdir(top)) != NULL) {
		char *sp;
		DIR *sd;
		struct dirent *ke;

		if (strlen(de->d_name) != 2 || !isxdigit((unsigned char)de->d_name[0]) ||
		    !isxdigit((unsigned char)de->d_name[1]))
			continue;
		sp = xstrdupf("%s/%s", c->dir, de->d_name);
		sd = opendir(sp);
		free(sp);
		if (!sd)
			continue;
		while ((ke = readdir(sd)) != NULL) {
			if (!is_key(ke->d_name))
				continue;
			if (n == cap) {
				struct sc_entry_info *nv =
					realloc(v,
						(cap = cap ? cap * 2 : 16) * sizeof(*nv));

				if (!nv) {
					closedir(sd);
					closedir(top);
					sc_cache_entries_free(v, n);
					return -ENOMEM;
				}
				v = nv;
			}
			if (load_entry(c, de->d_name, ke->d_name, &v[n]) == 0)
				n++;
		}
		closedir(sd);
	}
	closedir(top);
	if (n)
		qsort(v, n, sizeof(*v), cmp_use);
	*out = v;
	*n_out = n;
	return 0;
}

void sc_cache_entries_free(struct sc_entry_info *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

/*
 * Under the key's lock: may the entry in dir go? Not while a hit holds
 * `used` (it is checking the module it is about to hand out), nor, with
 * grace, when it was used (handed out) less than SC_CACHE_GRACE seconds ago.
 * Returns the descriptor to hold until the entry is gone (-1: none), or
 * -EBUSY.
 */
static int claim_unused(const char *dir, bool grace)
{
	char *used = xstrdupf("%s/used", dir);
	int fd = open(used, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	free(used);
	if (fd < 0)
		return -1; /* an entry without `used` was never handed out */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 ||
	    (grace && fstat(fd, &st) == 0 && st.st_mtime + SC_CACHE_GRACE > time(NULL))) {
		close(fd);
		return -EBUSY;
	}
	return fd;
}

/* Rename the entry away (readers see it whole or not at all), then delete it. */
static int remove_entry(struct sc_cache *c, const char *hex)
{
	char *dir = entry_dir(c, hex), *tmp = xstrdupf("%s/tmp", c->dir);
	char *grave = xstrdupf("%s/%s.evict.XXXXXX", tmp, hex);
	int r = 0;

	/* A fresh name, so a leftover from an eviction that died cannot block this one. */
	if (sc_mkdir_p(tmp, 0755) < 0 || !mkdtemp(grave) || rename(dir, grave) < 0)
		r = -errno;
	else
		r = sc_rm_rf(grave);
	free(dir);
	free(tmp);
	free(grave);
	return r;
}

/*
 * Remove one entry unless a build holds its key, a hit is checking it, or
 * (with grace) it was used within SC_CACHE_GRACE seconds.
 */
static int evict(struct sc_cache *c, const char *hex, bool grace)
{
	char *dir;
	int lockfd, usedfd, r;

	if (key_busy(c, hex, &lockfd))
		return -EBUSY;
	dir = entry_dir(c, hex);
	usedfd = claim_unused(dir, grace);
	free(dir);
	r = usedfd == -EBUSY ? -EBUSY : remove_entry(c, hex);
	if (usedfd >= 0)
		close(usedfd);
	unlock_key(lockfd);
	return r;
}

int sc_cache_prune(struct sc_cache *c, uint64_t max, const char *keep, size_t *evicted,
		   uint64_t *freed)
{
	/* Initialised: clang-tidy takes sc_cache_entries' -errno for a possible 0. */
	struct sc_entry_info *e = NULL;
	uint64_t total = 0;
	size_t n = 0, i;
	int r = sc_cache_entries(c, &e, &n);

	*evicted = 0;
	*freed = 0;
	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		total += e[i].size;
	for (i = 0; i < n && total > max; i++) {
		if (keep && !strcmp(e[i].key, keep))
			continue;
		if (evict(c, e[i].key, true) == 0) {
			total -= e[i].size;
			*freed += e[i].size;
			(*evicted)++;
		}
	}
	sc_cache_entries_free(e, n);
	if (*evicted)
		count(c, SC_STAT_EVICTIONS, *evicted);
	sweep_tmp(c, NULL); /* what killed builds and verifies left */
	return 0;
}

/*
 * The full check of one entry, under its key's lock (held by the caller):
 * a complete entry gets its stamp back (a copied or restored cache, an
 * entry from before stamps), a damaged one is removed. Returns 0, -EBADMSG
 * (damaged, removed; err says why) or another -errno (err set).
 */
static int recheck_locked(struct sc_cache *c, const char *hex, const char *module,
			  struct sc_error *err)
{
	char *dir = entry_dir(c, hex), *used = xstrdupf("%s/used", dir);
	char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r = sc_entry_verify(dir, module, &st, err);

	/* Best effort: in a read-only cache the next request checks again. */
	if (r == 0 && sc_entry_stamp(&st, &buf, &len) == 0)
		(void)sc_write_file_atomic(used, buf, len, 0644, NULL);
	if (r == -EBADMSG) {
		int ur = claim_unused(dir, false);

		/* Left in place only when it cannot go (read-only): never served anyway. */
		(void)remove_entry(c, hex);
		if (ur >= 0)
			close(ur);
		count(c, SC_STAT_DAMAGED, 1);
	}
	free(buf);
	free(used);
	free(dir);
	return r;
}

int sc_cache_check(struct sc_cache *c, sc_cache_check_fn *report, void *arg,
		   size_t *checked, size_t *damaged)
{
	struct sc_entry_info *e;
	size_t n;
	int r = sc_cache_entries(c, &e, &n);

	*checked = *damaged = 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct sc_error err = {{0}};
		int lockfd;

		if (key_busy(c, e[i].key, &lockfd))
			continue; /* being built or evicted right now */
		r = recheck_locked(c, e[i].key, e[i].module, &err);
		unlock_key(lockfd);
		(*checked)++;
		if (r == -EBADMSG)
			(*damaged)++;
		if (r < 0 && report)
			report(arg, &e[i], r, err.msg);
	}
	sc_cache_entries_free(e, n);
	return 0;
}

int sc_cache_clear(struct sc_cache *c, size_t *removed)
{
	struct sc_entry_info *e;
	size_t n, i;
	int r = sc_cache_entries(c, &e, &n);

	*removed = 0;
	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		if (evict(c, e[i].key, false) == 0)
			(*removed)++;
	sc_cache_entries_free(e, n);
	sweep_tmp(c, NULL);
	return sc_rm_rf(c->memo);
}

/* ------------------------------------------------------------ get or build */

/*
 * The second level, between "look again" and "build": a verified entry is
 * published as it came. Returns 0 on a shared hit; otherwise tmpdir is
 * empty again for the build.
 */
static int fetch_shared(struct sc_cache *c, const struct sc_key *key, const char *tmpdir,
			char **module_path, enum sc_shared_result *result)
{
	static const enum sc_stat stat_of[] = {[SC_SHARED_HIT] = SC_STAT_SHARED_HITS,
					       [SC_SHARED_MISS] = SC_STAT_SHARED_MISSES,
					       [SC_SHARED_REJECT] =
						       SC_STAT_SHARED_REJECTS,
					       [SC_SHARED_ERROR] = SC_STAT_SHARED_ERRORS};
	struct sc_error err = {{0}};
	enum sc_shared_result res =
		sc_shared_fetch(c->shared, key->hex, key->module, tmpdir);

	if (res == SC_SHARED_HIT &&
	    publish_fetched(c, key, tmpdir, module_path, &err) < 0) {
		fprintf(stderr, "stapcache: shared cache: %s; not served\n", err.msg);
		res = SC_SHARED_REJECT;
	}
	count(c, stat_of[res], 1);
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
	dir = entry_dir(c, key->hex);
	if (sc_shared_upload(c->shared, key->hex, key->module, dir) == 0)
		count(c, SC_STAT_SHARED_UPLOADS, 1);
	else
		count(c, SC_STAT_SHARED_ERRORS, 1);
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
	int r = recheck_locked(c, key->hex, key->module, &derr);

	if (r == 0) {
		*module_path = module_path_of(c, key);
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
	bool waited;
	int lockfd, r;

	lockfd = lock_key(c, key->hex, &waited, err);
	if (lockfd == -ETIMEDOUT) {
		sc_error_set(
			err,
			"another stapcache has been building %s for over %u s (the build "
			"timeout, --build-timeout or 'build-timeout:'), so this request "
			"stopped waiting; that build may be hung: 'fuser %s/locks/%s' "
			"names it",
			key->module, c->lock_wait_s, c->dir, key->hex);
		return lockfd;
	}
	if (lockfd < 0) {
		sc_error_set(err, "cannot lock %s/locks/%s: %s", c->dir, key->hex,
			     strerror(-lockfd));
		return lockfd;
	}
	/* Look again: a concurrent build published it, or the stamp differed. */
	r = lookup(c, key, module_path);
	if (r == -ESTALE)
		r = look_closer(c, key, module_path, err);
	if (r < 0 && r != -ENOENT) {
		unlock_key(lockfd);
		return r;
	}
	if (r == 0) {
		*how = waited ? SC_CACHE_HIT_WAITED : SC_CACHE_HIT;
		count(c, SC_STAT_HITS, 1);
		unlock_key(lockfd);
		return 0;
	}
	count(c, SC_STAT_MISSES, 1);
	extra = sc_record_new();
	r = extra ? stage(c, key->hex, &tmpdir, err) : -ENOMEM;
	if (r == 0 && c->shared &&
	    fetch_shared(c, key, tmpdir, module_path, &shared) == 0) {
		*how = SC_CACHE_SHARED;
		goto done;
	}
	if (r == 0) {
		r = build(arg, tmpdir, extra, err);
		if (r < 0) {
			(void)sc_rm_rf(tmpdir);
			count(c, SC_STAT_BUILD_FAILURES, 1);
		}
	}
	r = r ?: publish(c, key, tmpdir, extra, module_path, err);
	if (r == 0) {
		*how = SC_CACHE_BUILT;
		count(c, SC_STAT_BUILDS, 1);
		/* A store that just failed (down, hanging, garbage) is not made
		 * to fail again, and wait another timeout, in the same request. */
		if (shared != SC_SHARED_ERROR)
			upload_shared(c, key);
	}
done:
	sc_shared_done(c->shared); /* a build lease ends after the upload (or failure) */
	unlock_key(lockfd);
	sc_record_free(extra);
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

	if (lookup(c, key, module_path) == 0) {
		count(c, SC_STAT_HITS, 1);
	} else {
		r = build_entry(c, key, build, arg, module_path, &h, err);
		if (r < 0)
			return r;
		if ((h == SC_CACHE_BUILT || h == SC_CACHE_SHARED) && c->max_size)
			(void)sc_cache_prune(c, c->max_size, key->hex, &evicted, &freed);
		if (h == SC_CACHE_BUILT)
			fold_if_large(c);
	}
	if (how)
		*how = h;
	return 0;
}
