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

static const char cachedir_tag[] =
	"Signature: 8a477f597d28d172789f06886806bc55\n"
	"# This file marks a cache directory created by stapcache.\n"
	"# See https://bford.info/cachedir/ and stapcache(1).\n";

static int create_layout(const char *dir)
{
	char *tag = sc_strdupf("%s/CACHEDIR.TAG", dir);
	int r = sc_mkdir_p(dir, 0755);

	if (r == 0 && access(tag, F_OK) < 0)
		(void)sc_write_file_atomic(tag, cachedir_tag, sizeof(cachedir_tag) - 1,
					   0644, NULL);
	free(tag);
	return r;
}

static int new_handle(const char *dir, uint64_t max_size, struct sc_cache **out)
{
	struct sc_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->dir = sc_strdupf("%s", dir);
	c->memo = sc_strdupf("%s/memo", dir);
	c->max_size = max_size;
	*out = c;
	return 0;
}

int sc_cache_open(const char *dir, uint64_t max_size, struct sc_cache **out,
		  struct sc_error *err)
{
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
	return new_handle(dir, max_size, out);
}

int sc_cache_open_existing(const char *dir, uint64_t max_size, struct sc_cache **out)
{
	return new_handle(dir, max_size, out);
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

void sc_cache_set_recache(struct sc_cache *c, bool recache)
{
	c->recache = recache;
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

char *cache_entry_dir(const struct sc_cache *c, const char *hex)
{
	return sc_strdupf("%s/%.2s/%s", c->dir, hex, hex);
}

char *cache_module_path(const struct sc_cache *c, const struct sc_key *key)
{
	return sc_strdupf("%s/%.2s/%s/%s.ko", c->dir, key->hex, key->hex, key->module);
}

int sc_cache_peek(struct sc_cache *c, const struct sc_key *key, char **module_path)
{
	char *path = cache_module_path(c, key);
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
int cache_lookup(struct sc_cache *c, const struct sc_key *key, char **module_path)
{
	char *used = sc_strdupf("%s/%.2s/%s/used", c->dir, key->hex, key->hex);
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
	path = cache_module_path(c, key);
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

int cache_open_own(const char *path, int flags, struct sc_error *err)
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

int cache_lock_key(struct sc_cache *c, const char *hex, bool *waited,
		   struct sc_error *err)
{
	char *dir = sc_strdupf("%s/locks", c->dir);
	char *path = sc_strdupf("%s/%s", dir, hex);
	int fd, r;

	*waited = false;
	r = sc_mkdir_p(dir, 0755);
	free(dir);
	if (r < 0) {
		sc_error_set(err, "cannot create %s/locks: %s", c->dir, strerror(-r));
		free(path);
		return r;
	}
	fd = cache_open_own(path, O_RDWR, err);
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

void cache_unlock_key(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);
}

/* Is some process building (holding the lock of) this key right now? */
bool cache_key_busy(struct sc_cache *c, const char *hex, int *fd_out)
{
	char *dir = sc_strdupf("%s/locks", c->dir);
	char *path = sc_strdupf("%s/%s", dir, hex);
	int fd;

	/* Created when missing, so that an eviction always holds a real lock. */
	(void)sc_mkdir_p(dir, 0755);
	fd = cache_open_own(path, O_RDWR, NULL);
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
void cache_sweep_tmp(struct sc_cache *c, const char *prefix)
{
	char *tmp = sc_strdupf("%s/tmp", c->dir);
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
			if (cache_key_busy(c, hex, &lockfd))
				continue;
		}
		char *p = sc_strdupf("%s/%s", tmp, de->d_name);

		(void)sc_rm_rf(p);
		free(p);
		cache_unlock_key(lockfd);
	}
	closedir(d);
	free(tmp);
}

int cache_stage(struct sc_cache *c, const char *hex, char **tmpdir, struct sc_error *err)
{
	char *tmp = sc_strdupf("%s/tmp", c->dir);
	char *prefix = sc_strdupf("%s.", hex);
	char *path;
	int r;

	cache_sweep_tmp(c, prefix);
	free(prefix);
	r = sc_mkdir_p(tmp, 0755);
	path = sc_strdupf("%s/%s.XXXXXX", tmp, hex);
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
	char *tmp = sc_strdupf("%s/tmp", c->dir);
	char *path = sc_strdupf("%s/scratch.%ld.%s.XXXXXX", tmp, (long)getpid(), what);
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
