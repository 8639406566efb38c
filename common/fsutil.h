/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_FSUTIL_H
#define SC_FSUTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/error.h"

/*
 * Read a whole file (at most max bytes) into a new NUL-terminated buffer.
 * Returns 0 and sets *out (caller frees) and *len, -EFBIG when the file is
 * larger than max, or another -errno.
 */
int sc_read_file(const char *path, size_t max, char **out, size_t *len);

/* Same, from an open descriptor (read from its current offset to EOF). */
int sc_read_fd(int fd, size_t max, char **out, size_t *len);

/* write(2) all of buf, retrying on EINTR and short writes. Returns 0 or -errno. */
int sc_write_all(int fd, const void *buf, size_t len);

/*
 * Replace path atomically with buf, mode mode (the umask does not apply):
 * write a temporary file PATH.tmp.XXXXXX in the same directory, fsync it,
 * rename it over path, fsync the directory.
 *
 * Returns 0 when path holds buf durably. Returns -errno otherwise; then
 * *replaced tells whether path already holds buf (the rename happened but the
 * directory could not be synced, so the change may not survive a crash) or
 * is untouched. replaced may be NULL. No temporary file is ever left behind.
 */
int sc_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
			 bool *replaced);

/* mkdir -p. Returns 0 or -errno (-ENOTDIR when a component is not a directory). */
int sc_mkdir_p(const char *path, mode_t mode);

/* rm -rf without following symlinks. A missing path is success. Returns 0 or -errno. */
int sc_rm_rf(const char *path);

/* fsync a directory by path. Returns 0 or -errno. */
int sc_fsync_dir(const char *path);

/*
 * Describe a file's identity without reading it: size, ns mtime, inode,
 * device and ns ctime. Any rewrite of the file changes ctime.
 * Writes into buf (n bytes) and returns 0, or -ENOSPC when buf is too small.
 */
int sc_stat_fingerprint(const struct stat *st, char *buf, size_t n);

/*
 * realpath(3) of what fd refers to (PATH_MAX bytes in out), from
 * /proc/self/fd: one readlink instead of one a path component. Falls back to
 * realpath(path) where /proc is not mounted. Returns 0 or -errno.
 */
int sc_fd_realpath(int fd, const char *path, char *out);

/* realpath(3) with sc_fd_realpath's cost: open(O_PATH), readlink, close. */
int sc_realpath(const char *path, char *out);

/* Total bytes of regular files under path (not following symlinks); 0 when missing. */
uint64_t sc_du(const char *path);

/*
 * The one formatted allocation: asprintf into a new string (the caller frees
 * it). Never NULL: the out-of-memory rule of every stapcache program is that
 * a failed allocation of a string ends the process at once (sc_oom), as
 * OpenSSH's xmalloc does, rather than threading -ENOMEM through every
 * string a path or a message is made of. (staprun-auth never calls it: it
 * allocates only before it loads anything, and checks each allocation.)
 */
char *sc_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sc_vstrdupf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* "PROGRAM: out of memory" on stderr and _exit(1): the only output of common/. */
__attribute__((noreturn)) void sc_oom(void);

#endif
