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

/* ------------------------------------------------------------ entries */

bool cache_is_key(const char *s)
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
	char *dir = sc_strdupf("%s/%s/%s", c->dir, shard, hex);
	char *mp = sc_strdupf("%s/meta", dir), *up = sc_strdupf("%s/used", dir);
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
	e->path = sc_strdupf("%s/%s.ko", dir, e->module);
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

	if (!top && errno == ENOENT) { /* no cache yet: no entries */
		*out = NULL;
		*n_out = 0;
		return 0;
	}
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
			if (!cache_is_key(ke->d_name))
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

int sc_cache_usage(struct sc_cache *c, size_t *entries, uint64_t *bytes)
{
	struct sc_entry_info *e = NULL;
	size_t n = 0;
	int r = sc_cache_entries(c, &e, &n);

	if (r < 0)
		return r;
	*bytes = 0;
	for (size_t i = 0; i < n; i++)
		*bytes += e[i].size;
	*entries = n;
	sc_cache_entries_free(e, n);
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
int cache_claim_unused(const char *dir, bool grace)
{
	char *used = sc_strdupf("%s/used", dir);
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
int cache_remove_entry(struct sc_cache *c, const char *hex)
{
	char *dir = cache_entry_dir(c, hex), *tmp = sc_strdupf("%s/tmp", c->dir);
	char *grave = sc_strdupf("%s/%s.evict.XXXXXX", tmp, hex);
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

	if (cache_key_busy(c, hex, &lockfd))
		return -EBUSY;
	dir = cache_entry_dir(c, hex);
	usedfd = cache_claim_unused(dir, grace);
	free(dir);
	r = usedfd == -EBUSY ? -EBUSY : cache_remove_entry(c, hex);
	if (usedfd >= 0)
		close(usedfd);
	cache_unlock_key(lockfd);
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
		cache_count(c, SC_STAT_EVICTIONS, *evicted);
	cache_sweep_tmp(c, NULL); /* what killed builds and verifies left */
	return 0;
}

/*
 * The full check of one entry, under its key's lock (held by the caller):
 * a complete entry gets its stamp back (a copied or restored cache, an
 * entry from before stamps), a damaged one is removed. Returns 0, -EBADMSG
 * (damaged, removed; err says why) or another -errno (err set).
 */
int cache_recheck_locked(struct sc_cache *c, const char *hex, const char *module,
			 struct sc_error *err)
{
	char *dir = cache_entry_dir(c, hex), *used = sc_strdupf("%s/used", dir);
	char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r = sc_entry_verify(dir, module, &st, err);

	/* Best effort: in a read-only cache the next request checks again. */
	if (r == 0 && sc_entry_stamp(&st, &buf, &len) == 0)
		(void)sc_write_file_atomic(used, buf, len, 0644, NULL);
	if (r == -EBADMSG) {
		int ur = cache_claim_unused(dir, false);

		/* Left in place only when it cannot go (read-only): never served anyway. */
		(void)cache_remove_entry(c, hex);
		if (ur >= 0)
			close(ur);
		cache_count(c, SC_STAT_DAMAGED, 1);
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

		if (cache_key_busy(c, e[i].key, &lockfd))
			continue; /* being built or evicted right now */
		r = cache_recheck_locked(c, e[i].key, e[i].module, &err);
		cache_unlock_key(lockfd);
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
	struct sc_entry_info *e = NULL;
	size_t n = 0, i;
	int r = sc_cache_entries(c, &e, &n);

	*removed = 0;
	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		if (evict(c, e[i].key, false) == 0)
			(*removed)++;
	sc_cache_entries_free(e, n);
	cache_sweep_tmp(c, NULL);
	return sc_rm_rf(c->memo);
}

/* The meta's key and sha256 fields, checked to be hex. 0, or -EBADMSG. */
static int meta_digest(const char *dir, const char *hex,
		       char sha256[SC_SHA256_HEXLEN + 1])
{
	char *mp = sc_strdupf("%s/meta", dir), *buf = NULL;
	struct sc_record *meta = NULL;
	const char *k, *d;
	size_t len = 0;
	int r = sc_read_file(mp, 65536, &buf, &len);

	r = r ?: sc_record_parse(buf, len, &meta, NULL);
	k = r == 0 ? sc_record_get(meta, "key") : NULL;
	d = r == 0 ? sc_record_get(meta, "sha256") : NULL;
	if (!k || !d || strcmp(k, hex) != 0 || !cache_is_key(d))
		r = -EBADMSG;
	else
		memcpy(sha256, d, SC_SHA256_HEXLEN + 1);
	sc_record_free(meta);
	free(buf);
	free(mp);
	return r;
}

int sc_cache_entry_of(struct sc_cache *c, const char *path, struct sc_entry_info *e,
		      char sha256[SC_SHA256_HEXLEN + 1], struct sc_error *err)
{
	char real[PATH_MAX], top[PATH_MAX], shard[3], hex[SC_SHA256_HEXLEN + 1];
	const char *rest, *name;
	char *dir = NULL;
	size_t tl;
	int r = -ENOENT;

	memset(e, 0, sizeof(*e));
	if (sc_realpath(path, real) < 0 || sc_realpath(c->dir, top) < 0)
		goto out;
	/* real is TOP/KE/KEY/NAME.ko */
	tl = strlen(top);
	if (strncmp(real, top, tl) != 0 || real[tl] != '/')
		goto out;
	rest = real + tl + 1;
	if (strlen(rest) < 3 + SC_SHA256_HEXLEN + 1 + 4 || rest[2] != '/' ||
	    rest[3 + SC_SHA256_HEXLEN] != '/')
		goto out;
	memcpy(shard, rest, 2);
	shard[2] = '\0';
	memcpy(hex, rest + 3, SC_SHA256_HEXLEN);
	hex[SC_SHA256_HEXLEN] = '\0';
	name = rest + 3 + SC_SHA256_HEXLEN + 1;
	if (!cache_is_key(hex) || strncmp(shard, hex, 2) != 0 || strchr(name, '/') ||
	    load_entry(c, shard, hex, e) < 0)
		goto out;
	if (strlen(name) != strlen(e->module) + 3 ||
	    strncmp(name, e->module, strlen(e->module)) != 0) {
		free(e->path);
		memset(e, 0, sizeof(*e));
		goto out;
	}
	dir = cache_entry_dir(c, hex);
	r = meta_digest(dir, hex, sha256);
	if (r < 0)
		sc_error_set(err, "the cache entry %s has no usable meta record", dir);
	else
		r = sc_entry_verify(dir, e->module, NULL, err);
	if (r < 0) {
		free(e->path);
		memset(e, 0, sizeof(*e));
	}
	free(dir);
	return r;
out:
	sc_error_set(err, "%s is not a module in the cache %s", path, c->dir);
	return r;
}
