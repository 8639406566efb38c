/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "digest.h"
#include "fsutil.h"

struct sc_cache {
	char *dir;
};

static const char *stat_names[SC_STAT_N] = {
	"hits", "misses", "builds", "build-failures", "evictions",
};

const char *sc_stat_name(enum sc_stat which)
{
	return stat_names[which];
}

static const char cachedir_tag[] =
	"Signature: 8a477f597d28d172789f06886806bc55\n"
	"# This file marks a cache directory created by stapcache.\n"
	"# See https://bford.info/cachedir/ and stapcache(1).\n";

int sc_cache_open(const char *dir, struct sc_cache **out, struct sc_error *err)
{
	struct sc_cache *c;
	char *p;
	int r;

	r = sc_mkdir_p(dir, 0755);
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
	c->dir = sc_strdupf("%s", dir);
	p = sc_strdupf("%s/CACHEDIR.TAG", dir);
	if (access(p, F_OK) < 0)
		(void)sc_write_file_atomic(p, cachedir_tag, sizeof(cachedir_tag) - 1, 0644);
	free(p);
	*out = c;
	return 0;
}

void sc_cache_free(struct sc_cache *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c);
}

const char *sc_cache_dir(const struct sc_cache *c)
{
	return c->dir;
}

static char *entry_dir(const struct sc_cache *c, const char *hex)
{
	return sc_strdupf("%s/%.2s/%s", c->dir, hex, hex);
}

int sc_cache_lookup(struct sc_cache *c, const struct sc_key *key, char **module_path)
{
	char *path = sc_strdupf("%s/%.2s/%s/%s.ko", c->dir, key->hex, key->hex, key->module);
	char *used;
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		free(path);
		return -ENOENT;
	}
	used = sc_strdupf("%s/%.2s/%s/used", c->dir, key->hex, key->hex);
	(void)utimensat(AT_FDCWD, used, NULL, 0);
	free(used);
	*module_path = path;
	return 0;
}

int sc_cache_lock(struct sc_cache *c, const char *hex, bool *waited)
{
	char *dir = sc_strdupf("%s/locks", c->dir);
	char *path = sc_strdupf("%s/%s", dir, hex);
	int fd, r;

	*waited = false;
	r = sc_mkdir_p(dir, 0755);
	free(dir);
	if (r < 0) {
		free(path);
		return r;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(path);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	*waited = true;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
	}
	return fd;
}

void sc_cache_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);
}

/* Is some process building (holding the lock of) this key right now? */
static bool key_busy(struct sc_cache *c, const char *hex, int *fd_out)
{
	char *path = sc_strdupf("%s/locks/%s", c->dir, hex);
	int fd = open(path, O_RDWR | O_CLOEXEC);

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

/* Remove staging dirs: for one key (prefix "KEY.") or, with prefix NULL, all unlocked ones. */
static void sweep_tmp(struct sc_cache *c, const char *prefix)
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
		} else {
			size_t hl = strcspn(de->d_name, ".");

			if (hl != SC_SHA256_HEXLEN)
				continue;
			memcpy(hex, de->d_name, hl);
			hex[hl] = '\0';
			if (key_busy(c, hex, &lockfd))
				continue;
		}
		char *p = sc_strdupf("%s/%s", tmp, de->d_name);

		(void)sc_rm_rf(p);
		free(p);
		sc_cache_unlock(lockfd);
	}
	closedir(d);
	free(tmp);
}

int sc_cache_stage(struct sc_cache *c, const char *hex, char **tmpdir, struct sc_error *err)
{
	char *tmp = sc_strdupf("%s/tmp", c->dir);
	char *prefix = sc_strdupf("%s.", hex);
	char *path;
	int r;

	sweep_tmp(c, prefix);
	free(prefix);
	r = sc_mkdir_p(tmp, 0755);
	path = sc_strdupf("%s/%s.XXXXXX", tmp, hex);
	free(tmp);
	if (r < 0 || !mkdtemp(path)) {
		r = r < 0 ? r : -errno;
		sc_error_set(err, "cannot create a staging directory in %s/tmp: %s", c->dir,
			     strerror(-r));
		free(path);
		return r;
	}
	*tmpdir = path;
	return 0;
}

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

/* SHA-256 and size of the built module, fsyncing it on the way. */
static int digest_module(const char *path, char hex[SC_SHA256_HEXLEN + 1], uint64_t *size)
{
	uint8_t md[SC_SHA256_LEN];
	char *buf = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int r;

	if (fd < 0)
		return -errno;
	r = sc_read_fd(fd, 1u << 30, &buf, &len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	if (len == 0) {
		free(buf);
		return -ENODATA;
	}
	sc_sha256(buf, len, md);
	sc_hex(hex, md, sizeof(md));
	*size = len;
	free(buf);
	return 0;
}

int sc_cache_publish(struct sc_cache *c, const struct sc_key *key, const char *tmpdir,
		     const char *extra_meta, char **module_path, struct sc_error *err)
{
	char hex[SC_SHA256_HEXLEN + 1], *ko, *rec = NULL, *meta = NULL, *dest = NULL;
	char *shard = sc_strdupf("%s/%.2s", c->dir, key->hex);
	uint64_t size = 0;
	size_t rlen;
	int r;

	ko = sc_strdupf("%s/%s.ko", tmpdir, key->module);
	r = digest_module(ko, hex, &size);
	if (r < 0) {
		sc_error_set(err, "stap produced no usable module %s.ko: %s", key->module,
			     strerror(-r));
		goto fail;
	}
	r = sc_record_serialize(key->record, &rec, &rlen);
	if (r == 0)
		r = write_in(tmpdir, "inputs", rec, rlen);
	if (r == 0) {
		meta = sc_strdupf("key: %s\nmodule: %s\nsha256: %s\nsize: %" PRIu64
				  "\nbuilt: %lld\n%s",
				  key->hex, key->module, hex, size, (long long)time(NULL),
				  extra_meta ? extra_meta : "");
		r = write_in(tmpdir, "meta", meta, strlen(meta));
	}
	if (r == 0)
		r = write_in(tmpdir, "used", "", 0);
	if (r == 0)
		r = sc_fsync_dir(tmpdir);
	if (r < 0) {
		sc_error_set(err, "cannot write the cache entry in %s: %s%s", tmpdir,
			     strerror(-r),
			     r == -ENOSPC || r == -EDQUOT
				     ? " (free some space or run 'stapcache cache prune')"
				     : "");
		goto fail;
	}
	r = sc_mkdir_p(shard, 0755);
	dest = entry_dir(c, key->hex);
	if (r == 0 && rename(tmpdir, dest) < 0)
		r = -errno;
	if (r == -ENOTEMPTY || r == -EEXIST) {
		/* Someone published the same key meanwhile: theirs is as good as ours. */
		(void)sc_rm_rf(tmpdir);
		r = 0;
	} else if (r < 0) {
		sc_error_set(err, "cannot publish the cache entry %s: %s", dest, strerror(-r));
		goto fail;
	}
	(void)sc_fsync_dir(shard);
	*module_path = sc_strdupf("%s/%s.ko", dest, key->module);
	goto out;
fail:
	(void)sc_rm_rf(tmpdir);
out:
	free(ko);
	free(rec);
	free(meta);
	free(dest);
	free(shard);
	return r;
}

/* ------------------------------------------------------------ statistics */

static void parse_stats(const char *buf, uint64_t out[SC_STAT_N])
{
	const char *line = buf;

	memset(out, 0, SC_STAT_N * sizeof(out[0]));
	while (line && *line) {
		for (int i = 0; i < SC_STAT_N; i++) {
			size_t n = strlen(stat_names[i]);

			if (!strncmp(line, stat_names[i], n) && line[n] == ':')
				out[i] = strtoull(line + n + 1, NULL, 10);
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

int sc_cache_stats(struct sc_cache *c, uint64_t out[SC_STAT_N])
{
	char *path = sc_strdupf("%s/stats", c->dir), *buf = NULL;
	int r = sc_read_file(path, 65536, &buf, NULL);

	free(path);
	memset(out, 0, SC_STAT_N * sizeof(out[0]));
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	parse_stats(buf, out);
	free(buf);
	return 0;
}

void sc_cache_count(struct sc_cache *c, enum sc_stat which, int64_t delta)
{
	char *lock = sc_strdupf("%s/stats.lock", c->dir);
	char *path = sc_strdupf("%s/stats", c->dir), *tmp = NULL;
	uint64_t v[SC_STAT_N];
	char text[512];
	size_t len = 0;
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644), tfd;

	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		goto out;
	if (sc_cache_stats(c, v) < 0)
		goto out;
	v[which] += (uint64_t)delta;
	for (int i = 0; i < SC_STAT_N; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s: %" PRIu64 "\n",
					stat_names[i], v[i]);
	/* Counters are not worth an fsync on every hit; a rename keeps them whole. */
	tmp = sc_strdupf("%s.%d", path, (int)getpid());
	tfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (tfd < 0)
		goto out;
	if (sc_write_all(tfd, text, len) < 0 || close(tfd) < 0 || rename(tmp, path) < 0)
		unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(lock);
	free(path);
}

/* ------------------------------------------------------------ entries */

static bool is_key(const char *s)
{
	uint8_t md[SC_SHA256_LEN];

	return sc_unhex_sha256(s, strlen(s), md) == 0;
}

static void meta_field(const char *meta, const char *name, char *out, size_t n)
{
	size_t len = strlen(name);
	const char *p = meta;

	out[0] = '\0';
	while (p && *p) {
		if (!strncmp(p, name, len) && p[len] == ':') {
			p += len + 1;
			while (*p == ' ')
				p++;
			snprintf(out, n, "%.*s", (int)strcspn(p, "\n"), p);
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

static int load_entry(struct sc_cache *c, const char *shard, const char *hex,
		      struct sc_entry_info *e)
{
	char *dir = sc_strdupf("%s/%s/%s", c->dir, shard, hex);
	char *mp = sc_strdupf("%s/meta", dir), *up = sc_strdupf("%s/used", dir);
	char *meta = NULL, built[32];
	struct stat st;
	int r = sc_read_file(mp, 65536, &meta, NULL);

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
	e->path = sc_strdupf("%s/%s.ko", dir, e->module);
out:
	free(meta);
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
		sp = sc_strdupf("%s/%s", c->dir, de->d_name);
		sd = opendir(sp);
		free(sp);
		if (!sd)
			continue;
		while ((ke = readdir(sd)) != NULL) {
			if (!is_key(ke->d_name))
				continue;
			if (n == cap) {
				struct sc_entry_info *nv =
					realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*nv));

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

/* Remove one entry unless a build holds its key: rename it away, then delete. */
static int evict(struct sc_cache *c, const char *hex)
{
	char *dir = entry_dir(c, hex), *tmp = NULL, *grave = NULL;
	int lockfd, r = 0;

	if (key_busy(c, hex, &lockfd)) {
		free(dir);
		return -EBUSY;
	}
	tmp = sc_strdupf("%s/tmp", c->dir);
	grave = sc_strdupf("%s/%s.evict.XXXXXX", tmp, hex);
	/* A fresh name, so a leftover from an eviction that died cannot block this one. */
	if (sc_mkdir_p(tmp, 0755) < 0 || !mkdtemp(grave) || rename(dir, grave) < 0)
		r = -errno;
	else
		r = sc_rm_rf(grave);
	sc_cache_unlock(lockfd);
	free(dir);
	free(tmp);
	free(grave);
	return r;
}

int sc_cache_prune(struct sc_cache *c, uint64_t max, const char *keep, size_t *evicted,
		   uint64_t *freed)
{
	struct sc_entry_info *e;
	uint64_t total = 0;
	size_t n, i;
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
		if (evict(c, e[i].key) == 0) {
			total -= e[i].size;
			*freed += e[i].size;
			(*evicted)++;
		}
	}
	sc_cache_entries_free(e, n);
	if (*evicted)
		sc_cache_count(c, SC_STAT_EVICTIONS, (int64_t)*evicted);
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
		if (evict(c, e[i].key) == 0)
			(*removed)++;
	sc_cache_entries_free(e, n);
	sweep_tmp(c, NULL);
	return 0;
}
