/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_STAPQ_H
#define SC_STAPQ_H

#include <time.h>

#include "cache/build.h"

/*
 * stap's own per-kernel caches, shared through the team store (issue 21,
 * item 5): the tracequery objects (one a kernel tracepoint header: what
 * makes a new kernel's first tracepoint or syscall script take minutes)
 * and typequery modules (@cast(..., "kernel<HEADER>")) that stap keeps in
 * STAP_DIR/cache/XX/ (not its stapconf header: with -m, which stapcache
 * always passes, stap makes that anew every build)
 * (STAP_DIR: $SYSTEMTAP_DIR, else ~/.systemtap; in a build root, the root's
 * home, core/build-root.h).
 *
 * The store holds them as ordinary signed entries (store/helper/entry.h)
 * under the module name SC_STAPQ_MODULE, one set a kind (tracequery,
 * typequery: a build that made only typequeries must not stand in for the
 * tracequery set a later build makes), in parts of at most SC_STAPQ_PART_MAX bytes:
 * part I's key is the SHA-256 of its inputs record, "stapq.format",
 * "stapq.kind", then every field of the module's key record that shapes
 * these files (the stap binary and its version, the runtime tree, the
 * compiler, the build root and its packages, the kernel release, arch,
 * build tree and its files, every -B), then "stapq.part I". The first
 * complete upload of a set stays (an upload never replaces a valid entry):
 * typequeries made later for other headers are not shared. A part's
 * "module" is a record: "stapq.parts N", then a "file" (XX/NAME, as stap
 * named it) and its "data" for each file.
 *
 * stap names each file by an MD4 of what shapes it: its version string,
 * the kernel release and arch, and path, size and mtime of the build tree,
 * its .config, the runtime directory and three of its subdirectories, the
 * compiler and the stap binary (and, for a tracequery, the header; for all,
 * every -B and guru mode). The files are installed under those names, so
 * stap itself decides whether one applies: where this builder's stap
 * computes another name (another runtime path, a build tree unpacked at
 * another time) it builds its own, as without the store. Build roots give
 * every builder the same in-root paths and mtimes (stapcache-buildroot sets
 * directory mtimes to 0), so their names agree across a fleet.
 */
#define SC_STAPQ_MODULE "stapcache_stapq"
#define SC_STAPQ_FORMAT 1
/* A part's file data; below SC_RECORD_MAX_VALUE, an entry field's limit. */
#define SC_STAPQ_PART_MAX (12u << 20)
/* At most this many parts (SC_STAPQ_PART_MAX each) for one kernel. */
#define SC_STAPQ_PARTS_MAX 32

/*
 * Before stap runs for b: when this builder's stap cache lacks the files
 * the store has for b's kernel, fetch each part (verified by the store
 * helper: signature by a trusted builder, digest, key), check every name,
 * and install each missing file atomically. scratch is an empty private
 * directory. Never fails the build: problems are one warning line.
 */
void sc_stapq_fetch(const struct sc_build *b, const char *scratch);

/*
 * After stap succeeded for b (started after t0: CLOCK_REALTIME_COARSE, the
 * clock file times come from, read after sc_stapq_fetch): when it created
 * any of these files for b's kernel, upload every one it created or used
 * (each has a NAME_hash.log stap rewrote since t0) in signed parts. scratch
 * as above. Never fails the build.
 */
void sc_stapq_publish(const struct sc_build *b, const struct timespec *t0,
		      const char *scratch);

#endif
