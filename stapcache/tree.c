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
#include <unistd.h>

#include "digest.h"
#include "fsutil.h"
#include "tree.h"

#define MAX_DEPTH 16
#define MEMO_HEADER "stapcache-tree 1\n"

struct walk {
	struct sc_sha256 *sha;
	unsigned long files;
	char *dirs;      /* memo lines: "ino mtime ctime relpath\n" per directory */
	size_t dirs_len;
	bool memo_ok;    /* false when a name cannot be written into the memo */
};

static void note_dir(struct walk *w, const struct stat *st, const char *rel)
{
	char line[PATH_MAX + 96];
	int len;
	char *nd;

	if (strchr(rel, '\n')) {
		w->memo_ok = false;
		return;
	}
	len = snprintf(line, sizeof(line), "%ju %jd.%09ld %jd.%09ld %s\n", (uintmax_t)st->st_ino,
		       (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		       (intmax_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec, *rel ? rel : ".");
	if (len < 0 || (size_t)len >= sizeof(line)) {
		w->memo_ok = false;
		return;
	}
	nd = realloc(w->dirs, w->dirs_len + (size_t)len + 1);
	if (!nd) {
		w->memo_ok = false;
		return;
	}
	memcpy(nd + w->dirs_len, line, (size_t)len + 1);
	w->dirs = nd;
	w->dirs_len += (size_t)len;
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
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*nn));

			if (!nn)
				goto oom;
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto oom;
		n++;
	}
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

static int walk_entry(struct walk *w, int dfd, const char *rel, const char *name, int depth)
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
	sc_stat_fingerprint(&st, fp, sizeof(fp));
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

/* Does every directory recorded in the memo still have the same identity? */
static bool memo_valid(int rootfd, const char *lines)
{
	const char *p = lines;

	while (*p) {
		const char *nl = strchr(p, '\n');
		char rel[PATH_MAX], now[128], then[128], mt[64], ct[64];
		unsigned long long ino;
		struct stat st;
		int off = 0;

		if (!nl)
			return false;
		if (sscanf(p, "%llu %63s %63s %n", &ino, mt, ct, &off) != 3 || !off ||
		    p + off > nl)
			return false;
		snprintf(rel, sizeof(rel), "%.*s", (int)(nl - p - off), p + off);
		if (fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino != ino)
			return false;
		snprintf(now, sizeof(now), "%jd.%09ld %jd.%09ld", (intmax_t)st.st_mtim.tv_sec,
			 st.st_mtim.tv_nsec, (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
		snprintf(then, sizeof(then), "%s %s", mt, ct);
		if (strcmp(now, then) != 0)
			return false;
		p = nl + 1;
	}
	return true;
}

static char *memo_path(const char *memo_dir, const char *real)
{
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1];

	sc_sha256(real, strlen(real), md);
	sc_hex(hex, md, sizeof(md));
	return sc_strdupf("%s/%s", memo_dir, hex);
}

/* Read "digest HEX files N\n" + directory lines; returns 0 when still valid. */
static int memo_load(const char *path, int rootfd, char *digest, unsigned long *files)
{
	char *buf = NULL, *dirs;
	int r = sc_read_file(path, 4u << 20, &buf, NULL);

	if (r < 0)
		return r;
	r = -ESTALE;
	if (strncmp(buf, MEMO_HEADER, strlen(MEMO_HEADER)) != 0)
		goto out;
	if (sscanf(buf + strlen(MEMO_HEADER), "digest %64s files %lu", digest, files) != 2)
		goto out;
	dirs = strchr(buf + strlen(MEMO_HEADER), '\n');
	if (dirs && memo_valid(rootfd, dirs + 1))
		r = 0;
out:
	free(buf);
	return r;
}

static void memo_store(const char *memo_dir, const char *path, const char *digest,
		       const struct walk *w)
{
	char *text;

	if (!w->memo_ok || sc_mkdir_p(memo_dir, 0755) < 0)
		return;
	text = sc_strdupf(MEMO_HEADER "digest %s files %lu\n%s", digest, w->files,
			  w->dirs ? w->dirs : "");
	(void)sc_write_file_atomic(path, text, strlen(text), 0644); /* only a speed-up */
	free(text);
}

/*
 * Trees that are replaced whole rather than edited in place: package-managed
 * ones under /usr, and runtime copies made by stapcache-fix-runtime (which
 * swaps in a finished copy by rename and marks it with STAPCACHE-FIXES).
 */
static bool memoizable(const char *real, int fd)
{
	return !strncmp(real, "/usr/", 5) || faccessat(fd, "STAPCACHE-FIXES", F_OK, 0) == 0;
}

int sc_tree_fingerprint(const char *path, const char *memo_dir, char *out, size_t n,
			struct sc_error *err)
{
	char real[PATH_MAX], digest[SC_SHA256_HEXLEN + 1], *memo = NULL;
	struct walk w = {.memo_ok = true};
	uint8_t md[SC_SHA256_LEN];
	struct stat st;
	int fd, r;

	if (!realpath(path, real) || (fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		sc_error_set(err, "cannot read directory %s: %s", path, strerror(-r));
		return r;
	}
	if (memo_dir && memoizable(real, fd)) {
		memo = memo_path(memo_dir, real);
		if (memo_load(memo, fd, digest, &w.files) == 0) {
			close(fd);
			free(memo);
			snprintf(out, n, "%s sha256:%s files=%lu", real, digest, w.files);
			return 0;
		}
	}
	w.sha = sc_sha256_new();
	if (!w.sha || fstat(fd, &st) < 0) {
		close(fd);
		sc_sha256_free(w.sha);
		free(memo);
		return -ENOMEM;
	}
	note_dir(&w, &st, "");
	r = walk_dir(&w, fd, "", 0);
	sc_sha256_final(w.sha, md);
	sc_sha256_free(w.sha);
	if (r < 0) {
		sc_error_set(err, "cannot read directory %s: %s", path, strerror(-r));
	} else {
		sc_hex(digest, md, sizeof(md));
		if (memo)
			memo_store(memo_dir, memo, digest, &w);
		snprintf(out, n, "%s sha256:%s files=%lu", real, digest, w.files);
	}
	free(w.dirs);
	free(memo);
	return r;
}
