/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File helpers: sizes, atomic replacement, mkdir -p, rm -rf. */
#include "build-config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	tap_is_int(sc_rm_rf(dir), 0, "cleanup");
	return tap_done();
}
