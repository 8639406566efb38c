/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File helpers: sizes, atomic replacement, mkdir -p, rm -rf, regular files only. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/parse.h"
#include "tests/lib/tap.h"

static uint64_t size_of(const char *s, int *rc)
{
	uint64_t v = 0;

	*rc = sc_parse_size(s, &v, NULL);
	return v;
}

/*
 * Every kind of file where a regular one is expected: sc_read_regular and
 * sc_open_regular (with O_CREAT and O_APPEND too) refuse it without blocking
 * and say what it is; sc_write_file_atomic_at replaces it (a directory
 * aside) without writing through it. A hardlink is a regular file: read
 * like one, and replaced by a new inode (the other name keeps its bytes).
 */
static void test_types(const char *dir)
{
	static const struct {
		const char *name, *what;
	} kinds[] = {
		{"symlink", "is a symlink, not a regular file"},
		{"dangling", "is a symlink, not a regular file"},
		{"fifo", "is a FIFO, not a regular file"},
		{"chardev", "is a character device, not a regular file"},
		{"socket", "is a socket, not a regular file"},
		{"dir", "is a directory, not a regular file"},
	};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), sock, fd;
	struct sc_error err;
	char *buf = NULL, *p;
	size_t len = 0;
	struct stat a, b;

	(void)!symlinkat("target", dfd, "symlink");
	(void)!symlinkat("nowhere", dfd, "dangling");
	(void)!mkfifoat(dfd, "fifo", 0600);
	(void)!mknodat(dfd, "chardev", S_IFCHR | 0600,
		       makedev(1, 5)); /* like /dev/zero */
	(void)!mkdirat(dfd, "dir", 0755);
	p = sc_strdupf("%s/socket", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	free(p);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	(void)!bind(sock, (struct sockaddr *)&sa, sizeof(sa));
	(void)!sc_write_file_atomic_at(dfd, "target", "bytes", 5, 0644, NULL);
	(void)!linkat(dfd, "target", dfd, "hardlink", 0);

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *n = kinds[i].name;

		err.msg[0] = '\0';
		tap_is_int(sc_read_regular(dfd, n, 100, &buf, &len, n, &err), SC_ENOTREG,
			   n);
		tap_ok(strstr(err.msg, kinds[i].what) != NULL, "  '%s'", err.msg);
		fd = sc_open_regular(dfd, n, O_WRONLY | O_APPEND | O_CREAT, 0644, n,
				     NULL);
		tap_is_int(fd, SC_ENOTREG, "  nor opened to append (O_CREAT)");
		if (strcmp(n, "dir") != 0) {
			tap_is_int(sc_write_file_atomic_at(dfd, n, "new", 3, 0644, NULL),
				   0, "  replaced by an atomic write");
			tap_ok(fstatat(dfd, n, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
				       S_ISREG(a.st_mode) && a.st_size == 3,
			       "  by a regular file of its own");
		} else {
			tap_is_int(sc_write_file_atomic_at(dfd, n, "new", 3, 0644, NULL),
				   -EISDIR, "  an atomic write fails (-EISDIR)");
		}
	}
	tap_ok(fstatat(dfd, "target", &a, 0) == 0 && a.st_size == 5,
	       "nothing was written through the symlinks");
	tap_is_int(sc_read_regular(dfd, "hardlink", 100, &buf, &len, NULL, NULL), 0,
		   "a hardlink reads as the regular file it is");
	tap_is_str(buf, "bytes", "  its bytes");
	free(buf);
	tap_is_int(sc_write_file_atomic_at(dfd, "hardlink", "other", 5, 0600, NULL), 0,
		   "  an atomic write replaces it");
	tap_ok(fstatat(dfd, "target", &a, 0) == 0 &&
		       fstatat(dfd, "hardlink", &b, 0) == 0 && a.st_ino != b.st_ino &&
		       a.st_nlink == 1,
	       "  with a new inode: the other name is not written through");
	tap_is_int(sc_read_regular(dfd, "missing", 100, &buf, &len, NULL, NULL), -ENOENT,
		   "a missing file is -ENOENT");
	fd = sc_open_regular(dfd, "new", O_WRONLY | O_APPEND | O_CREAT, 0600, NULL, NULL);
	tap_ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0,
	       "O_CREAT makes a missing file, O_NONBLOCK cleared");
	if (fd >= 0)
		close(fd);
	close(sock);
	close(dfd);
}

int main(void)
{
	char tmpl[] = "/tmp/sc-fsutil.XXXXXX";
	char *dir = mkdtemp(tmpl), *p, *buf = NULL;
	size_t len = 0;
	bool replaced;
	struct stat st;
	int rc;

	tap_is_int(size_of("4096", &rc), 4096, "plain bytes");
	tap_is_int(size_of("100k", &rc), 100 << 10, "k is KiB");
	tap_is_int(size_of("1.5M", &rc), 3 << 19, "fractions");
	tap_is_int(size_of("2GiB", &rc), 2ULL << 30, "GiB suffix");
	size_of("", &rc);
	tap_ok(rc == -EINVAL, "empty size rejected");
	size_of("12Q", &rc);
	tap_ok(rc == -EINVAL, "unknown unit rejected");
	size_of("-1", &rc);
	tap_ok(rc == -EINVAL, "negative rejected");

	p = sc_strdupf("%s/a/b/c", dir);
	tap_is_int(sc_mkdir_p(p, 0755), 0, "mkdir -p creates parents");
	tap_is_int(sc_mkdir_p(p, 0755), 0, "mkdir -p of an existing dir is fine");
	free(p);

	p = sc_strdupf("%s/file", dir);
	tap_is_int(sc_write_file_atomic(p, "one", 3, 0640, NULL), 0, "atomic write");
	replaced = false;
	tap_is_int(sc_write_file_atomic(p, "second", 6, 0644, &replaced), 0,
		   "atomic replace");
	tap_ok(replaced, "and says the file was replaced");
	tap_is_int(sc_read_file(p, 100, &buf, &len), 0, "read back");
	tap_is_str(buf, "second", "content replaced whole");
	free(buf);
	tap_is_int(sc_read_file(p, 3, &buf, &len), -EFBIG, "read cap enforced");
	stat(p, &st);
	tap_is_int(st.st_mode & 0777, 0644, "mode applied");
	free(p);

	p = sc_strdupf("%s/nodir/file", dir);
	replaced = true;
	tap_ok(sc_write_file_atomic(p, "x", 1, 0644, &replaced) == -ENOENT,
	       "atomic write reports errors");
	tap_ok(!replaced, "and says the file was not replaced");
	free(p);

	/* A link out of the tree, to a directory of the test's own. */
	p = sc_strdupf("%s/outside", dir);
	tap_is_int(sc_mkdir_p(p, 0755), 0, "a directory outside the tree");
	free(p);
	p = sc_strdupf("%s/outside/keep", dir);
	tap_is_int(sc_write_file_atomic(p, "k", 1, 0644, NULL), 0, "with a file in it");
	free(p);
	p = sc_strdupf("%s/a", dir);
	{
		char *link = sc_strdupf("%s/a/b/link", dir),
		     *target = sc_strdupf("%s/outside", dir);

		tap_is_int(symlink(target, link), 0, "symlink made");
		free(link);
		free(target);
	}
	tap_is_int(sc_rm_rf(p), 0, "rm -rf a tree with a symlink in it");
	{
		char *keep = sc_strdupf("%s/outside/keep", dir);

		tap_ok(access(p, F_OK) < 0 && access(keep, F_OK) == 0,
		       "tree gone, symlink target untouched");
		free(keep);
	}
	tap_is_int(sc_rm_rf(p), 0, "rm -rf of a missing path is fine");
	free(p);

	p = sc_strdupf("%s/types", dir);
	if (geteuid() != 0)
		tap_skip("a device node needs root (mknod)");
	else if (sc_mkdir_p(p, 0755) == 0)
		test_types(p);
	free(p);
	tap_is_int(sc_rm_rf(dir), 0, "cleanup");
	/* Typos: the nearest word of a ", " list, within SC_TYPO_DISTANCE_MAX. */
	{
		char near[16];

		tap_is_int(sc_word_distance("cahce", 5, "cache", 5), 2,
			   "a swap is 2 edits");
		tap_is_int(sc_nearest_word("max_size", "cache-dir, max-size, stap", near,
					   sizeof(near)),
			   0, "max_size: a near word");
		tap_is_str(near, "max-size", "  max-size");
		tap_is_int(sc_nearest_word("gretting", "fake_sleep, greeting", near,
					   sizeof(near)),
			   0, "gretting: a near word");
		tap_is_str(near, "greeting", "  greeting, the last of the list");
		tap_is_int(sc_nearest_word("colour", "cache-dir, max-size", near,
					   sizeof(near)),
			   -ENOENT, "nothing near colour");
		tap_is_int(sc_nearest_word("stap", "stap, runtime", near, sizeof(near)),
			   -ENOENT, "the word itself is no suggestion");
		tap_is_int(sc_nearest_word("x", "", near, sizeof(near)), -ENOENT,
			   "an empty list");
		tap_is_int(sc_nearest_word("shared-cach", "shared-cache", near, 4),
			   -ENOENT, "a word that does not fit out is not given");
	}
	return tap_done();
}
