/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_FSUTIL_H
#define SC_FSUTIL_H

#include <errno.h>
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

/*
 * What a file is, for messages: "regular file", "directory", "symlink",
 * "FIFO", "character device", "block device", "socket". One table: the
 * policy's trust checks (policy.c) and the shell they send (policy-sh.c)
 * word types from it too.
 */
#define SC_FILE_TYPES(X)                                                                 \
	X(S_IFREG, "regular file")                                                       \
	X(S_IFDIR, "directory")                                                          \
	X(S_IFLNK, "symlink")                                                            \
	X(S_IFIFO, "FIFO")                                                               \
	X(S_IFCHR, "character device")                                                   \
	X(S_IFBLK, "block device")                                                       \
	X(S_IFSOCK, "socket")

static inline const char *sc_file_type(mode_t mode)
{
#define SC_FILE_TYPE_CASE(bits, name)                                                    \
	if ((mode & S_IFMT) == (bits))                                                   \
		return name;
	SC_FILE_TYPES(SC_FILE_TYPE_CASE)
#undef SC_FILE_TYPE_CASE
	return "file of an unknown type";
}

/* Returned by sc_open_regular() for anything but a regular file (a symlink too). */
#define SC_ENOTREG (-EMEDIUMTYPE)

/*
 * Open dirfd/name (dirfd may be AT_FDCWD) as a regular file and as nothing
 * else, never blocking and never following a symlink in name's last
 * component: what fstatat(AT_SYMLINK_NOFOLLOW) finds there must be a regular
 * file (a FIFO, device, socket or directory is refused before any open), the
 * open adds O_NOFOLLOW, O_NONBLOCK and O_NOCTTY (a swap in between can make
 * it neither follow nor block), fstat of what was opened must say a regular
 * file, and only then is O_NONBLOCK cleared. flags: O_RDONLY, O_WRONLY or
 * O_RDWR, with O_CREAT (mode then applies) or O_APPEND; no O_TRUNC (it would
 * act before the checks: ftruncate the descriptor instead). A hardlink is a
 * regular file: what writes in place into a directory others can write to
 * must not use this (sc_write_file_atomic_at writes a new file and renames).
 *
 * Returns the descriptor (O_CLOEXEC), or -errno: -ENOENT when there is
 * nothing (without O_CREAT), SC_ENOTREG when it is not a regular file
 * (err, when not NULL, says "SHOWN is a FIFO, not a regular file" and the
 * like; shown names the file in it, NULL: name).
 */
int sc_open_regular(int dirfd, const char *name, int flags, mode_t mode,
		    const char *shown, struct sc_error *err);

/*
 * sc_read_file through sc_open_regular(dirfd, name, O_RDONLY): a FIFO, a
 * device, a socket, a directory or a symlink is SC_ENOTREG (err says which),
 * never a read that blocks or never ends. -EFBIG beyond max.
 */
int sc_read_regular(int dirfd, const char *name, size_t max, char **out, size_t *len,
		    const char *shown, struct sc_error *err);

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

/*
 * The same in the directory dirfd (its name in it: name, without '/'): the
 * temporary file is created there with O_CREAT|O_EXCL|O_NOFOLLOW (a fresh
 * inode: never a link, FIFO or device someone left under that name) and
 * renamed over name with renameat(2), which replaces whatever name is (a
 * symlink, a hardlink, a FIFO) without writing through it; a directory there
 * fails with -EISDIR. Returns as sc_write_file_atomic.
 */
int sc_write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len,
			    mode_t mode, bool *replaced);

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
