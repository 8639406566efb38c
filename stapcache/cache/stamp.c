/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/digest.h"
#include "cache/stamp.h"
#include "common/fsutil.h"
#include "common/record.h"
#include "common/modinfo.h"

/* Larger than any module a build or a shared store may publish. */
#define META_MAX 65536

int sc_entry_stamp(const struct stat *st, char **buf, size_t *len)
{
	struct sc_record *rec = sc_record_new();
	int r = rec ? 0 : -ENOMEM;

	r = r ?: sc_record_addf(rec, "size", "%lld", (long long)st->st_size);
	r = r ?: sc_record_addf(rec, "ino", "%llu", (unsigned long long)st->st_ino);
	r = r
		    ?: sc_record_addf(rec, "ctime", "%lld.%09ld",
				      (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
	r = r ?: sc_record_serialize(rec, buf, len);
	sc_record_free(rec);
	return r;
}

bool sc_entry_stamp_matches(const char *buf, size_t len, const struct stat *st)
{
	char *want = NULL;
	size_t wlen = 0;
	bool same;

	if (sc_entry_stamp(st, &want, &wlen) < 0 || !want)
		return false;
	same = wlen == len && memcmp(want, buf, len) == 0;
	free(want);
	return same;
}

/* meta's sha256 and size fields. */
static int recorded(const char *dir, char hex[SC_SHA256_HEXLEN + 1], long long *size,
		    struct sc_error *err)
{
	char *path = sc_strdupf("%s/meta", dir), *buf = NULL;
	struct sc_record *meta = NULL;
	const char *h, *s;
	size_t len = 0;
	int r = sc_read_regular(AT_FDCWD, path, META_MAX, &buf, &len, NULL, NULL);

	r = r ?: sc_record_parse(buf, len, &meta, NULL);
	if (r == 0) {
		h = sc_record_get(meta, "sha256");
		s = sc_record_get(meta, "size");
		if (!h || strlen(h) != SC_SHA256_HEXLEN || !s)
			r = -EBADMSG;
		else {
			memcpy(hex, h, SC_SHA256_HEXLEN + 1);
			*size = strtoll(s, NULL, 10);
		}
	}
	if (r < 0)
		sc_error_set(err, "its record %s is unreadable: %s", path,
			     r == -EINVAL      ? "not a record"
			     : r == SC_ENOTREG ? "not a regular file"
					       : strerror(-r));
	sc_record_free(meta);
	free(buf);
	free(path);
	/* A record that is missing, is not one or not a file: the entry is damaged. */
	return r == -EINVAL || r == -ENOENT || r == SC_ENOTREG || r == -EFBIG ? -EBADMSG
									      : r;
}

int sc_entry_verify(const char *dir, const char *module, struct stat *st_out,
		    struct sc_error *err)
{
	char want[SC_SHA256_HEXLEN + 1], got[SC_SHA256_HEXLEN + 1];
	char *path = sc_strdupf("%s/%s.ko", dir, module), *buf = NULL;
	uint8_t md[SC_SHA256_LEN];
	long long want_size = -1;
	struct stat st;
	size_t len = 0;
	int fd = -1, r = recorded(dir, want, &want_size, err);

	if (r < 0)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = errno == ENOENT || errno == ELOOP ? -EBADMSG : -errno;
		sc_error_set(err, "%s cannot be opened: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EBADMSG;
		sc_error_set(err, "%s is not a regular file", path);
		goto out;
	}
	if ((long long)st.st_size != want_size) {
		r = -EBADMSG;
		sc_error_set(err, "%s is %lld bytes, %lld when it was built (truncated?)",
			     path, (long long)st.st_size, want_size);
		goto out;
	}
	r = sc_read_fd_sha256(fd, SC_MODULE_MAX, &buf, &len, md);
	if (r < 0) {
		sc_error_set(err, "cannot read %s: %s", path, strerror(-r));
		goto out;
	}
	sc_hex(got, md, sizeof(md));
	if (len != (size_t)want_size || strcmp(got, want) != 0) {
		r = -EBADMSG;
		sc_error_set(err,
			     "%s has SHA-256 %.16s…, not the %.16s… recorded when it "
			     "was built (corrupted)",
			     path, got, want);
		goto out;
	}
	if (st_out)
		*st_out = st;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return r;
}
