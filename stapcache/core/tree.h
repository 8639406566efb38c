/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_TREE_H
#define SC_TREE_H

#include "common/digest.h"
#include "common/error.h"

/*
 * Content fingerprints, portable between machines: what enters the key is a
 * digest of bytes (and relative names, link targets and permission bits),
 * never an inode, device or time. Those only decide, locally, when a memoized
 * digest must be recomputed.
 *
 * memo_dir is the cache's memo directory (see cache.h) or NULL (no memo):
 *   MEMO/files/HASH(path)  a record: "id" (the stat identity the digest was
 *                          taken at: size, ns mtime, ns ctime, inode, device,
 *                          mode) and "sha256"
 *   MEMO/trees/HASH(path)  a tree's digest and the identity of its directories
 *   MEMO/hot               copies of the memos above that the last requests
 *                          used (not those of a tree's own files), in one
 *                          record: a hit reads this one file, checks each copy
 *                          as it would the memo, and falls back to the memo
 */

/*
 * Write MEMO/hot if this process found a memo missing or stale there, and
 * forget it. The key calls this when it is done; until then, the hot memo
 * is read once a process (for the first memo dir it is given).
 */
void sc_tree_memo_flush(void);

/*
 * The SHA-256 of path's content, from the memo while the file's stat
 * identity is unchanged. Returns 0 and hex, or -errno (stat or read failed).
 */
int sc_file_content_digest(const char *path, const char *memo_dir,
			   char hex[SC_SHA256_HEXLEN + 1]);

/*
 * Identify a directory tree (stap's runtime, tapsets, -I dirs): SHA-256 over
 * the relative path, kind, permission bits and content digest of every entry,
 * in name order.
 *
 * Walking a tree of ~900 files costs over a millisecond here, most of a
 * cache hit's budget. Trees under /usr are package-managed (replaced file by
 * file through rename, which changes their directory) and runtime copies
 * made by stapcache-fix-runtime are swapped in whole, so for these the
 * digest is memoized together with the identity of every directory in the
 * tree, and reused while none of those directories changed. Every other tree
 * (a runtime or tapset of your own, -I dirs) is walked file by file on every
 * request (file digests come from the file memo), so an edit in place is
 * always seen.
 *
 * Returns 0 and writes "REALPATH sha256:HEX files=N" into out (n bytes), or
 * -errno with err set.
 */
int sc_tree_fingerprint(const char *path, const char *memo_dir, char *out, size_t n,
			struct sc_error *err);

/*
 * The same for a tree in a build root (core/build-root.h): out names it by
 * shown, its path inside the root (so that the field is the same wherever
 * the root is kept), and shown decides whether it is package-managed.
 */
int sc_tree_fingerprint_as(const char *path, const char *shown, const char *memo_dir,
			   char *out, size_t n, struct sc_error *err);

#endif
