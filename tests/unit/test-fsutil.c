/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File helpers: sizes, atomic replacement, mkdir -p, rm -rf. */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "tap.h"

static uint64_t size_of(const char *s, int *rc)
{
	uint64_t v = 0;

	*rc = sc_parse_size(s, &v, NULL);
	return v;
}

int main(void)
{
	char tmpl[] = "/tmp/sc-fsutil.XXXXXX";
	char *dir = mkdtemp(tmpl), *p, *buf = NULL;
	size_t len = 0;
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
	tap_is_int(sc_write_file_atomic(p, "one", 3, 0640), 0, "atomic write");
	tap_is_int(sc_write_file_atomic(p, "second", 6, 0644), 0, "atomic replace");
	tap_is_int(sc_read_file(p, 100, &buf, &len), 0, "read back");
	tap_is_str(buf, "second", "content replaced whole");
	free(buf);
	tap_is_int(sc_read_file(p, 3, &buf, &len), -EFBIG, "read cap enforced");
	stat(p, &st);
	tap_is_int(st.st_mode & 0777, 0644, "mode applied");
	free(p);

	p = sc_strdupf("%s/nodir/file", dir);
	tap_ok(sc_write_file_atomic(p, "x", 1, 0644) == -ENOENT, "atomic write reports errors");
	free(p);

	/* The symlink points at a directory of this test's own, outside the tree. */
	p = sc_strdupf("%s/a", dir);
	{
		char *outside = sc_strdupf("%s/outside", dir);
		char *keep = sc_strdupf("%s/outside/keep", dir);
		char *link = sc_strdupf("%s/a/b/link", dir);

		tap_is_int(sc_mkdir_p(outside, 0755), 0, "a directory outside the tree");
		tap_is_int(sc_write_file_atomic(keep, "k", 1, 0644), 0, "  with a file in it");
		tap_is_int(symlink(outside, link), 0, "symlink to it made in the tree");
		tap_is_int(sc_rm_rf(p), 0, "rm -rf a tree with a symlink in it");
		tap_ok(access(p, F_OK) < 0 && access(keep, F_OK) == 0,
		       "tree gone, symlink target untouched");
		free(outside);
		free(keep);
		free(link);
	}
	tap_is_int(sc_rm_rf(p), 0, "rm -rf of a missing path is fine");
	free(p);
	tap_is_int(sc_rm_rf(dir), 0, "cleanup");
	return tap_done();
}
