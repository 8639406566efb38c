/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_STAMP_H
#define SC_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "common/error.h"

/*
 * One cache entry's integrity (cache.c owns the layout; this file knows
 * only an entry directory holding MODULE.ko and its meta record).
 *
 * A hit cannot afford a SHA-256 of the module (≈ 0.34 ms to read and hash
 * 130 KB here, a quarter of a hit), so publish records the module's
 * identity in the entry's `used` file: a record of its size, inode and
 * ctime (st_ctim, which no user can set: any write, truncate, chmod, link or
 * replacement of the file changes it or the inode). A hit compares that
 * stamp with one stat(2) of the module; when anything differs, the full
 * check (sc_entry_verify) decides, under the key's lock.
 *
 * Not detected by the stamp alone: bytes that change without the kernel
 * updating ctime (bit rot on the medium, a raw write to the block device, a
 * filesystem that keeps no ctime, a write within the same coarse timestamp
 * tick as the publish that keeps the size). `stapcache cache check` runs
 * the full check on every entry.
 */

/*
 * The stamp of a module with stat st, as the bytes `used` holds (a record).
 * Returns 0 and *buf (caller frees) and *len, or -ENOMEM.
 */
int sc_entry_stamp(const struct stat *st, char **buf, size_t *len);

/* Does the stamp in buf (len bytes, as read from `used`) describe st? */
bool sc_entry_stamp_matches(const char *buf, size_t len, const struct stat *st);

/*
 * The full check of the entry in dir: its MODULE.ko (module: the name, no
 * ".ko") is a regular file whose size and SHA-256 are the ones its meta
 * records. Returns 0 and the module's stat in *st (may be NULL), -EBADMSG
 * with err saying what differs, or another -errno (err set) when the entry
 * cannot be read.
 */
int sc_entry_verify(const char *dir, const char *module, struct stat *st,
		    struct sc_error *err);

#endif
