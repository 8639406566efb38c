/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "common/record.h"
#include "core/tree.h"

#define MAX_DEPTH 16

/* The memo's layout version: memos of another version are recomputed. */
#define TREE_MEMO_FORMAT "2"

struct walk {
	struct sc_sha256 *sha;
	const char *root;       /* the tree's real path, for file memos */
	const char *files_memo; /* MEMO/files, or NULL */
	unsigned long files;
	struct sc_record
		*dirs; /* memo: a "dir" field "ino mtime ctime relpath" a directory */
	bool memo_ok;  /* false when the memo would not be exact */
};

/* ------------------------------------------------------------ the hot memo */

/*
 * MEMO/hot: copies of the file and tree memos that the last requests used,
 * in one record ("memo" PATH, "bytes" THAT MEMO'S BYTES, ...), so that a hit
 * reads one file instead of a dozen. A copy says what its memo says ("the
 * file of identity ID has digest D") and is checked the same way, so it is
 * as exact as the memo: a stale copy is looked up in the memo itself and
 * replaced. Written (whole, by rename) only when something was missing or
 * stale, with the memos this request used first and at most HOT_MAX of
 * them: a repeated request rewrites nothing. One process, one memo dir at a
 * time, single-threaded (the frontend).
 */
#define HOT_MAX 128
#define HOT_MAX_BYTES (1u << 20)

struct hot_memo {
	char *path; /* the memo's path under the memo dir */
	char *buf;
	size_t len;
	bool used;
};

static struct {
	char *memo_dir;
	struct hot_memo *v;
	size_t n;
	bool dirty;
} hot;

static struct hot_memo *hot_find(const char *path)
{
	for (size_t i = 0; i < hot.n; i++)
		if (!strcmp(hot.v[i].path, path))
			return &hot.v[i];
	return NULL;
}

/* Remember buf as memo path's bytes (the memo was read or written). */
static struct hot_memo *hot_put(const char *path, const char *buf, size_t len)
{
	struct hot_memo *m = hot_find(path), *nv;

	if (!hot.memo_dir)
		return NULL;
	if (!m) {
		nv = realloc(hot.v, (hot.n + 1) * sizeof(*nv));
		if (!nv)
			return NULL; /* only a speed-up */
		hot.v = nv;
		m = &hot.v[hot.n++];
		m->path = sc_strdupf("%s", path);
		m->buf = NULL;
	}
	free(m->buf);
	m->buf = malloc(len + 1);
	m->len = m->buf ? len : 0;
	if (m->buf)
		memcpy(m->buf, buf, len);
	m->used = true;
	hot.dirty = true;
	return m;
}

static void hot_reset(void)
{
	for (size_t i = 0; i < hot.n; i++) {
		free(hot.v[i].path);
		free(hot.v[i].buf);
	}
	free(hot.v);
	free(hot.memo_dir);
	memset(&hot, 0, sizeof(hot));
}

void sc_tree_memo_flush(void)
{
	struct sc_record *rec = hot.dirty ? sc_record_new() : NULL;
	char *path = NULL, *buf = NULL;
	size_t kept = 0, bytes = 0, len;
	int r = rec ? 0 : -ENOMEM;

	for (int used = 1; r == 0 && used >= 0; used--)
		for (size_t i = 0; r == 0 && i < hot.n; i++) {
			const struct hot_memo *m = &hot.v[i];

			if (m->used != used || !m->buf || kept == HOT_MAX ||
			    bytes + m->len > HOT_MAX_BYTES)
				continue;
			r = sc_record_add_str(rec, "memo", m->path);
			r = r ?: sc_record_add(rec, "bytes", m->buf, m->len);
			kept++;
			bytes += m->len;
		}
	if (r == 0 && sc_record_serialize(rec, &buf, &len) == 0) {
		path = sc_strdupf("%s/hot", hot.memo_dir);
		if (sc_mkdir_p(hot.memo_dir, 0755) == 0)
			(void)sc_write_file_atomic(path, buf, len, 0644, NULL);
	}
	sc_record_free(rec);
	free(path);
	free(buf);
	hot_reset();
}

/* Read MEMO/hot once, for the first memo this process looks up there. */
static void hot_load(const char *memo_dir)
{
	struct sc_record *rec = NULL;
	char *path, *buf = NULL;
	size_t len = 0;

	if (hot.memo_dir && !strcmp(hot.memo_dir, memo_dir))
		return;
	sc_tree_memo_flush();
	hot.memo_dir = sc_strdupf("%s", memo_dir);
	path = sc_strdupf("%s/hot", memo_dir);
	/* Room for the labels and paths around HOT_MAX_BYTES of memos. */
	if (sc_read_regular(AT_FDCWD, path, HOT_MAX_BYTES + HOT_MAX * 4096, &buf, &len,
			    NULL, NULL) == 0 &&
	    sc_record_parse(buf, len, &rec, NULL) == 0) {
		for (size_t i = 0; i + 1 < sc_record_count(rec); i += 2) {
			const char *v = sc_record_value(rec, i + 1, &len);

			if (strcmp(sc_record_label(rec, i), "memo") != 0 ||
			    strcmp(sc_record_label(rec, i + 1), "bytes") != 0)
				break;
			struct hot_memo *m =
				hot_put(sc_record_value(rec, i, NULL), v, len);

			if (m)
				m->used = false;
		}
		hot.dirty = false;
	}
	sc_record_free(rec);
	free(buf);
	free(path);
}

/*
 * A memo's bytes, for check() to accept (0) or not: the hot copy first, then
 * the memo file, whose accepted bytes replace the copy. With !use_hot, only
 * the file (a tree's own files: too many to keep hot).
 */
static int memo_read(const char *path, bool use_hot, size_t max,
		     int (*check)(const char *buf, size_t len, void *ud), void *ud)
{
	struct hot_memo *m = use_hot ? hot_find(path) : NULL;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (m && m->buf && check(m->buf, m->len, ud) == 0) {
		m->used = true;
		return 0;
	}
	r = sc_read_regular(AT_FDCWD, path, max, &buf, &len, NULL, NULL);
	if (r == 0)
		r = check(buf, len, ud);
	if (r == 0 && use_hot)
		hot_put(path, buf, len);
	free(buf);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------ file digests */

static char *memo_path(const char *memo_dir, const char *real)
{
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1];

	sc_sha256(real, strlen(real), md);
	sc_hex(hex, md, sizeof(md));
	return sc_strdupf("%s/%s", memo_dir, hex);
}

struct file_check {
	const char *id;
	char *hex;
};

/* A file memo that holds the digest of the file of identity fc->id. */
static int file_memo_check(const char *buf, size_t len, void *ud)
{
	struct file_check *fc = ud;
	struct sc_record *memo = NULL;
	const char *mid, *d;
	int r = -ESTALE;

	if (sc_record_parse(buf, len, &memo, NULL) == 0 &&
	    (mid = sc_record_get(memo, "id")) && !strcmp(mid, fc->id) &&
	    (d = sc_record_get(memo, "sha256")) && strlen(d) == SC_SHA256_HEXLEN) {
		memcpy(fc->hex, d, SC_SHA256_HEXLEN + 1);
		r = 0;
	}
	sc_record_free(memo);
	return r;
}

static void file_memo_store(const char *memo_dir, const char *path, const char *id,
			    const char *hex, bool use_hot)
{
	struct sc_record *memo = sc_record_new();
	char *buf = NULL;
	size_t len;

	/* Only a speed-up: failing to store it is harmless. */
	if (memo && sc_record_add_str(memo, "id", id) == 0 &&
	    sc_record_add_str(memo, "sha256", hex) == 0 &&
	    sc_record_serialize(memo, &buf, &len) == 0 &&
	    sc_mkdir_p(memo_dir, 0755) == 0 &&
	    sc_write_file_atomic(path, buf, len, 0644, NULL) == 0 && use_hot)
		hot_put(path, buf, len);
	sc_record_free(memo);
	free(buf);
}

/*
 * The digest of dfd/name (full path name_path, st its identity), from the memo
 * in files_memo (may be NULL), through the hot memo if use_hot. A file that
 * changes while it is read is not memoized: the next request reads it again.
 */
static int content_digest_at(int dfd, const char *name, const char *full,
			     const struct stat *st, const char *files_memo, bool use_hot,
			     char hex[SC_SHA256_HEXLEN + 1])
{
	char id[256], now[256], *memo = NULL;
	struct file_check fc = {.id = id, .hex = hex};
	struct stat after;
	int fd, r;

	sc_stat_fingerprint(st, id, sizeof(id));
	if (files_memo) {
		memo = memo_path(files_memo, full);
		if (memo_read(memo, use_hot, 4096, file_memo_check, &fc) == 0) {
			free(memo);
			return 0;
		}
	}
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	r = fd < 0 ? -errno : sc_sha256_fd(fd, hex);
	if (r == 0 && memo && fstat(fd, &after) == 0) {
		sc_stat_fingerprint(&after, now, sizeof(now));
		if (!strcmp(now, id))
			file_memo_store(files_memo, memo, id, hex, use_hot);
	}
	if (fd >= 0)
		close(fd);
	free(memo);
	return r;
}

int sc_file_content_digest(const char *path, const char *memo_dir,
			   char hex[SC_SHA256_HEXLEN + 1])
{
	char *files = memo_dir ? sc_strdupf("%s/files", memo_dir) : NULL;
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EISDIR;
	else {
		if (memo_dir)
			hot_load(memo_dir);
		r = content_digest_at(AT_FDCWD, path, path, &st, files, true, hex);
	}
	free(files);
	return r;
}

/* ------------------------------------------------------------ walking */

static void note_dir(struct walk *w, const struct stat *st, const char *rel)
{
	if (!w->dirs ||
	    sc_record_addf(w->dirs, "dir", "%ju %jd.%09ld %jd.%09ld %s",
			   (uintmax_t)st->st_ino, (intmax_t)st->st_mtim.tv_sec,
			   st->st_mtim.tv_nsec, (intmax_t)st->st_ctim.tv_sec,
			   st->st_ctim.tv_nsec, *rel ? rel : ".") < 0)
		w->memo_ok = false;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_names(DIR *d, char ***out, size_t *n_out)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nn =
				realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*nn));

			if (!nn)
				goto oom;
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto oom;
		n++;
	}
	if (n > 1) /* an empty directory leaves names NULL: qsort(NULL, 0) is undefined */
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*n_out = n;
	return 0;
oom:
	while (n > 0)
		free(names[--n]);
	free(names);
	return -ENOMEM;
}

/* Feed one entry's relative path and identity; recurse into directories. */
static int walk_dir(struct walk *w, int fd, const char *rel, int depth);

static int walk_entry(struct walk *w, int dfd, const char *rel, const char *name,
		      int depth)
{
	char fp[256], line[PATH_MAX + 320], target[PATH_MAX];
	struct stat st;
	int len, r = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* vanished while we looked */
	if (S_ISLNK(st.st_mode)) {
		ssize_t tl = readlinkat(dfd, name, target, sizeof(target) - 1);

		target[tl > 0 ? tl : 0] = '\0';
		sc_sha256_update(w->sha, "L", 1);
		sc_sha256_update(w->sha, target, strlen(target) + 1);
		if (fstatat(dfd, name, &st, 0) < 0)
			return 0;
		w->memo_ok = false; /* a link's target can change without its directory */
	}
	/* What the key sees: kind, permission bits and content, never identity. */
	if (S_ISREG(st.st_mode)) {
		char hex[SC_SHA256_HEXLEN + 1], *full;

		full = sc_strdupf("%s/%s%s%s", w->root, rel, *rel ? "/" : "", name);
		r = content_digest_at(dfd, name, full, &st, w->files_memo, false, hex);
		free(full);
		if (r == -ENOMEM)
			return r;
		snprintf(fp, sizeof(fp), "file %04o %s%s", (unsigned)(st.st_mode & 07777),
			 r == 0 ? "sha256:" : "unreadable", r == 0 ? hex : "");
	} else {
		snprintf(fp, sizeof(fp), "%s %04o", S_ISDIR(st.st_mode) ? "dir" : "other",
			 (unsigned)(st.st_mode & 07777));
	}
	len = snprintf(line, sizeof(line), "%s/%s%c%s\n", rel, name, 0, fp);
	sc_sha256_update(w->sha, line, (size_t)len);
	if (!S_ISDIR(st.st_mode)) {
		w->files++;
		return 0;
	}
	int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *subrel;

	if (sub < 0)
		return 0;
	subrel = sc_strdupf("%s%s%s", rel, *rel ? "/" : "", name);
	note_dir(w, &st, subrel);
	r = walk_dir(w, sub, subrel, depth + 1);
	free(subrel);
	return r;
}

static int walk_dir(struct walk *w, int fd, const char *rel, int depth)
{
	char **names = NULL;
	size_t n = 0, i;
	DIR *d;
	int r;

	if (depth > MAX_DEPTH) {
		close(fd);
		return -ELOOP;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	r = read_names(d, &names, &n);
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = walk_entry(w, dirfd(d), rel, names[i], depth);
		free(names[i]);
	}
	free(names);
	closedir(d);
	return r;
}

/* ------------------------------------------------------------ memo */

/* "NUMBER " at *p: the number, and *p moved past the space. */
static bool take_u(const char **p, unsigned long long *out)
{
	char *end;

	*out = strtoull(*p, &end, 10);
	if (end == *p || *end != ' ')
		return false;
	*p = end + 1;
	return true;
}

/* "SEC.NSEC " at *p (note_dir's "%jd.%09ld "): the time, and *p moved past it. */
static bool take_time(const char **p, struct timespec *ts)
{
	char *end;

	ts->tv_sec = (time_t)strtoll(*p, &end, 10);
	if (end == *p || *end != '.')
		return false;
	*p = end + 1;
	ts->tv_nsec = strtol(*p, &end, 10);
	if (end - *p != 9 || *end != ' ')
		return false;
	*p = end + 1;
	return true;
}

/*
 * Does every directory recorded in the memo still have the same identity?
 * Parsed by hand rather than with sscanf and snprintf: a hit checks every
 * directory of two trees, and formatting was most of its own work.
 */
static bool memo_valid(int rootfd, const struct sc_record *memo)
{
	for (size_t i = 0; i < sc_record_count(memo); i++) {
		const char *p = sc_record_value(memo, i, NULL);
		struct timespec mt, ct;
		unsigned long long ino;
		struct stat st;

		if (strcmp(sc_record_label(memo, i), "dir") != 0)
			continue;
		if (!take_u(&p, &ino) || !take_time(&p, &mt) || !take_time(&p, &ct) ||
		    fstatat(rootfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_ino != ino || st.st_mtim.tv_sec != mt.tv_sec ||
		    st.st_mtim.tv_nsec != mt.tv_nsec || st.st_ctim.tv_sec != ct.tv_sec ||
		    st.st_ctim.tv_nsec != ct.tv_nsec)
			return false;
	}
	return true;
}

/*
 * The memo is a record: "tree.digest", "tree.files", then one "dir" field a
 * directory. Returns 0 when it is still valid.
 */
struct tree_check {
	int rootfd;
	char *digest;
	unsigned long *files;
};

static int tree_memo_check(const char *buf, size_t len, void *ud)
{
	struct tree_check *tc = ud;
	struct sc_record *memo = NULL;
	const char *d, *f;
	int r = -ESTALE;

	if (sc_record_parse(buf, len, &memo, NULL) < 0)
		goto out;
	f = sc_record_get(memo, "tree.format");
	if (!f || strcmp(f, TREE_MEMO_FORMAT) != 0)
		goto out;
	d = sc_record_get(memo, "tree.digest");
	f = sc_record_get(memo, "tree.files");
	if (!d || strlen(d) != SC_SHA256_HEXLEN || !f || !memo_valid(tc->rootfd, memo))
		goto out;
	memcpy(tc->digest, d, SC_SHA256_HEXLEN + 1);
	*tc->files = strtoul(f, NULL, 10);
	r = 0;
out:
	sc_record_free(memo);
	return r;
}

static int memo_load(const char *path, int rootfd, char *digest, unsigned long *files)
{
	struct tree_check tc = {.rootfd = rootfd, .digest = digest, .files = files};

	return memo_read(path, true, 4u << 20, tree_memo_check, &tc);
}

static void memo_store(const char *memo_dir, const char *path, const char *digest,
		       const struct walk *w)
{
	struct sc_record *memo = sc_record_new();
	char *buf = NULL;
	size_t len, i;
	int r;

	if (!memo || !w->memo_ok || sc_mkdir_p(memo_dir, 0755) < 0)
		goto out;
	r = sc_record_add_str(memo, "tree.format", TREE_MEMO_FORMAT);
	r = r ?: sc_record_add_str(memo, "tree.digest", digest);
	r = r ?: sc_record_addf(memo, "tree.files", "%lu", w->files);
	for (i = 0; r == 0 && i < sc_record_count(w->dirs); i++)
		r = sc_record_add_str(memo, "dir", sc_record_value(w->dirs, i, NULL));
	/* Only a speed-up: failing to store it is harmless. */
	if (r == 0 && sc_record_serialize(memo, &buf, &len) == 0 &&
	    sc_write_file_atomic(path, buf, len, 0644, NULL) == 0)
		hot_put(path, buf, len);
out:
	sc_record_free(memo);
	free(buf);
}

/*
 * Trees that are replaced whole rather than edited in place: package-managed
 * ones under /usr, and runtime copies made by stapcache-fix-runtime (which
 * swaps in a finished copy by rename and marks it with STAPCACHE-FIXES).
 */
static bool memoizable(const char *real, int fd)
{
	return !strncmp(real, "/usr/", 5) ||
	       faccessat(fd, "STAPCACHE-FIXES", F_OK, 0) == 0;
}

int sc_tree_fingerprint(const char *path, const char *memo_dir, char *out, size_t n,
			struct sc_error *err)
{
	return sc_tree_fingerprint_as(path, NULL, memo_dir, out, n, err);
}

int sc_tree_fingerprint_as(const char *path, const char *shown, const char *memo_dir,
			   char *out, size_t n, struct sc_error *err)
{
	char real[PATH_MAX], digest[SC_SHA256_HEXLEN + 1], *memo = NULL, *trees = NULL;
	char *files = memo_dir ? sc_strdupf("%s/files", memo_dir) : NULL;
	struct walk w = {.memo_ok = true,
			 .dirs = sc_record_new(),
			 .root = real,
			 .files_memo = files};
	uint8_t md[SC_SHA256_LEN];
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fd < 0 ? -errno : sc_fd_realpath(fd, path, real);
	if (r < 0) {
		sc_error_set(err, "cannot read directory %s: %s", path, strerror(-r));
		goto out;
	}
	if (memo_dir && memoizable(shown ? shown : real, fd)) {
		hot_load(memo_dir);
		trees = sc_strdupf("%s/trees", memo_dir);
		memo = memo_path(trees, real);
		if (memo_load(memo, fd, digest, &w.files) == 0) {
			snprintf(out, n, "%s sha256:%s files=%lu", shown ? shown : real,
				 digest, w.files);
			goto out;
		}
	}
	w.sha = sc_sha256_new();
	r = !w.dirs || !w.sha ? -ENOMEM : fstat(fd, &st) < 0 ? -errno : 0;
	if (r < 0) {
		sc_error_set(err, "cannot read directory %s: %s", path, strerror(-r));
		goto out;
	}
	note_dir(&w, &st, "");
	r = walk_dir(&w, fd, "", 0);
	fd = -1; /* walk_dir closed it */
	sc_sha256_final(w.sha, md);
	if (r < 0) {
		sc_error_set(err, "cannot read directory %s: %s", path, strerror(-r));
	} else {
		sc_hex(digest, md, sizeof(md));
		if (memo)
			memo_store(trees, memo, digest, &w);
		snprintf(out, n, "%s sha256:%s files=%lu", shown ? shown : real, digest,
			 w.files);
	}
out:
	if (fd >= 0)
		close(fd);
	sc_sha256_free(w.sha);
	sc_record_free(w.dirs);
	free(memo);
	free(trees);
	free(files);
	return r;
}
