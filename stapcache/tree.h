/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_TREE_H
#define SC_TREE_H

#include "error.h"

/*
 * Identify a directory tree (stap's runtime, tapsets, -I dirs) without
 * reading its files: SHA-256 over the relative path and stat identity (size,
 * ns mtime, ns ctime, inode) of every entry, in name order.
 *
 * Walking a tree of ~900 files costs over a millisecond here, most of a
 * cache hit's budget. Trees under /usr are package-managed (replaced file by
 * file through rename, which changes their directory) and runtime copies
 * made by stapcache-fix-runtime are swapped in whole, so for these the
 * digest is memoized in memo_dir together with the identity of every
 * directory in the tree, and reused while none of those directories changed.
 * Every other tree (a runtime or tapset of your own, -I dirs) is walked file
 * by file on every request, so an edit in place is always seen.
 *
 * Returns 0 and writes "REALPATH sha256:HEX files=N" into out (n bytes), or
 * -errno with err set. memo_dir may be NULL (no memo).
 */
int sc_tree_fingerprint(const char *path, const char *memo_dir, char *out, size_t n,
			struct sc_error *err);

#endif
