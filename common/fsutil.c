/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/fsutil.h"

int sc_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = sc_read_fd(fd, max, out, len);
	close(fd);
	return r;
}

int sc_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int sc_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	close(fd);
	return r;
}

int sc_write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len,
			    mode_t mode, bool *replaced)
{
	static const char az[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char tmp[NAME_MAX + 1];
	unsigned char rnd[6];
	int fd = -1, r, tries;

	if (replaced)
		*replaced = false;
	if (strchr(name, '/') || strlen(name) + sizeof(".tmp.XXXXXX") > sizeof(tmp))
		return -EINVAL;
	for (tries = 0; fd < 0 && tries < 100; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		snprintf(tmp, sizeof(tmp), "%s.tmp.%c%c%c%c%c%c", name, az[rnd[0] % 62],
			 az[rnd[1] % 62], az[rnd[2] % 62], az[rnd[3] % 62],
			 az[rnd[4] % 62], az[rnd[5] % 62]);
		fd = openat(dirfd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	r = sc_write_all(fd, buf, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	if (replaced)
		*replaced = true;
	return fsync(dirfd) < 0 && errno != EINVAL ? -errno : 0;
}

int sc_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
			 bool *replaced)
{
	const char *slash = strrchr(path, '/');
	char *dir = dir_of(path);
	int dfd, r;

	if (replaced)
		*replaced = false;
	if (!dir)
		return -ENOMEM;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (dfd < 0)
		return -errno;
	r = sc_write_file_atomic_at(dfd, slash ? slash + 1 : path, buf, len, mode,
				    replaced);
	close(dfd);
	return r;
}

int sc_open_regular(int dirfd, const char *name, int flags, mode_t mode,
		    const char *shown, struct sc_error *err)
{
	struct stat st;
	int fd, fl, r;

	if (!shown)
		shown = name;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode))
			goto notreg;
	} else if (errno != ENOENT || !(flags & O_CREAT)) {
		r = -errno;
		sc_error_set(err, "cannot open %s: %s", shown, strerror(-r));
		return r;
	}
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
		    mode);
	if (fd < 0) {
		r = -errno;
		/* Swapped since the fstatat: say what is there now. */
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISREG(st.st_mode))
			goto notreg;
		sc_error_set(err, "cannot open %s: %s", shown, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		sc_error_set(err, "cannot stat %s: %s", shown, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		goto notreg;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		r = -errno;
		close(fd);
		sc_error_set(err, "cannot open %s: %s", shown, strerror(-r));
		return r;
	}
	return fd;
notreg:
	sc_error_set(err, "%s is a %s, not a regular file", shown,
		     sc_file_type(st.st_mode));
	return SC_ENOTREG;
}

int sc_read_regular(int dirfd, const char *name, size_t max, char **out, size_t *len,
		    const char *shown, struct sc_error *err)
{
	int fd = sc_open_regular(dirfd, name, O_RDONLY, 0, shown, err), r;

	if (fd < 0)
		return fd;
	r = sc_read_fd(fd, max, out, len);
	if (r < 0)
		sc_error_set(err, "cannot read %s: %s", shown ? shown : name,
			     r == -EFBIG ? "too large" : strerror(-r));
	close(fd);
	return r;
}

int sc_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;
	char *p;

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		if (stat(buf, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		*p = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

static int rm_rf_at(int at, const char *name)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd, r = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		int rr;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rr = rm_rf_at(dirfd(d), de->d_name);
		if (rr < 0 && r == 0)
			r = rr;
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

int sc_rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
}

int sc_stat_fingerprint(const struct stat *st, char *buf, size_t n)
{
	int w = snprintf(buf, n,
			 "size=%jd mtime=%jd.%09ld ctime=%jd.%09ld ino=%ju dev=%ju mode=%o",
			 (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec,
			 st->st_mtim.tv_nsec, (intmax_t)st->st_ctim.tv_sec,
			 st->st_ctim.tv_nsec, (uintmax_t)st->st_ino,
			 (uintmax_t)st->st_dev, (unsigned)st->st_mode);

	return w < 0 || (size_t)w >= n ? -ENOSPC : 0;
}

static uint64_t du_at(int at, const char *name)
{
	struct stat st;
	struct dirent *de;
	uint64_t total = 0;
	DIR *d;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISREG(st.st_mode))
		return (uint64_t)st.st_size;
	if (!S_ISDIR(st.st_mode))
		return 0;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			total += du_at(dirfd(d), de->d_name);
	}
	closedir(d);
	return total;
}

uint64_t sc_du(const char *path)
{
	return du_at(AT_FDCWD, path);
}

void sc_oom(void)
{
	static const char tail[] = ": out of memory\n";
	const char *prog = program_invocation_short_name;

	(void)!write(STDERR_FILENO, prog, strlen(prog));
	(void)!write(STDERR_FILENO, tail, sizeof(tail) - 1);
	_exit(1);
}

char *sc_vstrdupf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		sc_oom();
	return s;
}

char *sc_strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = sc_vstrdupf(fmt, ap);
	va_end(ap);
	return s;
}

int sc_fd_realpath(int fd, const char *path, char *out)
{
	static const char deleted[] = " (deleted)";
	char proc[40];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, out, PATH_MAX - 1);
	if (n > 0 && out[0] == '/' && n < PATH_MAX - 1) {
		out[n] = '\0';
		if ((size_t)n < sizeof(deleted) ||
		    strcmp(out + n - (sizeof(deleted) - 1), deleted) != 0)
			return 0;
	}
	return realpath(path, out) ? 0 : -errno;
}

int sc_realpath(const char *path, char *out)
{
	int fd = open(path, O_PATH | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = sc_fd_realpath(fd, path, out);
	close(fd);
	return r;
}
