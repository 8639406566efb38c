/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_BUILDROOT_H
#define SC_BUILDROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/*
 * A build root: a directory holding another Debian release's stap, tapsets,
 * runtime, compiler and kernel headers (stapcache-buildroot creates one from
 * the Debian archive; stapcache-known_hosts(5) "build-root:"). stap runs
 * inside it, never on this host's libraries: in a private mount namespace
 * that binds the build's work directory, a home for stap's own caches and,
 * optionally, a runtime copy at fixed paths, then chroots. An ordinary user
 * gets a user namespace too (identity-mapped: stap runs as the caller, files
 * it writes are the caller's); root needs none.
 *
 * Layout a root has (stapcache-buildroot makes it):
 *
 *   ROOT/STAPCACHE-BUILDROOT      a record (common/record.h): buildroot.format,
 *                                 release, arch, kernel-release, systemtap, id
 *   ROOT/stapcache/work           mount point: the build's staging directory
 *   ROOT/stapcache/home           mount point: $HOME inside (stap's ~/.systemtap)
 *   ROOT/stapcache/runtime        mount point: a target's runtime: directory
 *   ROOT/stapcache/runtime-fixed  the root's own runtime, fixed for its kernel
 *                                 (stapcache-fix-runtime), when it needed a fix
 *
 * The paths inside never change, because stap writes the script's and the
 * runtime's paths into the module: two machines with the same root build
 * the same bytes wherever they keep it.
 */

#define SC_BUILDROOT_STAMP "STAPCACHE-BUILDROOT"
#define SC_BUILDROOT_FORMAT "1"
#define SC_BUILDROOT_WORK "/stapcache/work"
#define SC_BUILDROOT_HOME "/stapcache/home"
#define SC_BUILDROOT_RUNTIME "/stapcache/runtime"
#define SC_BUILDROOT_FIXED_RUNTIME "/stapcache/runtime-fixed"
#define SC_BUILDROOT_STOCK_RUNTIME "/usr/share/systemtap/runtime"
#define SC_BUILDROOT_TAPSET "/usr/share/systemtap/tapset"
#define SC_BUILDROOT_STAP "/usr/bin/stap"
#define SC_BUILDROOT_DPKG_STATUS "/var/lib/dpkg/status"
#define SC_BUILDROOT_PATH "/usr/local/bin:/usr/bin:/bin"

struct sc_buildroot {
	char *dir;       /* the root on this host, a real path */
	char *id;        /* the stamp's id: SHA-256 of what the root holds */
	char *release;   /* the Debian release, e.g. trixie */
	char *arch;      /* its Debian architecture, e.g. amd64 */
	char *kernel;    /* the kernel release its headers are for */
	char *systemtap; /* its systemtap package version, e.g. 5.1-5 */
	char *home;      /* bound at SC_BUILDROOT_HOME: per caller and root id */
};

/*
 * Open the build root dir: its stamp read and checked. homes is where the
 * caller's per-root homes live (sc_ctx's buildroot_homes); br->home is
 * homes/ID (16 hex digits; not created here). Returns 0 and *out (free with
 * sc_buildroot_free), or -errno with err saying what is wrong and how to
 * make a root (stapcache buildroot create).
 */
int sc_buildroot_open(const char *dir, const char *homes, struct sc_buildroot **out,
		      struct sc_error *err);
void sc_buildroot_free(struct sc_buildroot *br);

/*
 * The file an absolute in-root path names, every symbolic link followed
 * inside the root (an absolute link target is the root's, not this
 * host's). Returns 0 with *host (ROOT/...) and, when inside_real is not
 * NULL, *inside_real (the resolved in-root path); the caller frees both.
 * -ENOENT when it does not exist, -ELOOP, -ENAMETOOLONG, -ENOMEM.
 */
int sc_buildroot_resolve(const struct sc_buildroot *br, const char *inside, char **host,
			 char **inside_real);

/* The in-root path of a host path under br->dir ("/" for the root itself), or NULL. */
const char *sc_buildroot_inside(const struct sc_buildroot *br, const char *host);

/* The runtime stap uses in the root: SC_BUILDROOT_FIXED_RUNTIME when prepared, else stock. */
const char *sc_buildroot_runtime(const struct sc_buildroot *br);

/*
 * How a child enters the root (common/spawn.h's setup hook): every path and
 * string it needs is made here, so that the child makes only system calls.
 * work (may be NULL) is bound at SC_BUILDROOT_WORK and is the working
 * directory; runtime (may be NULL) at SC_BUILDROOT_RUNTIME. Creates
 * br->home when missing. Returns 0 and *out (free with sc_jail_free), or
 * -errno with err set.
 */
struct sc_jail;
int sc_jail_new(const struct sc_buildroot *br, const char *work, const char *runtime,
		struct sc_jail **out, struct sc_error *err);
void sc_jail_free(struct sc_jail *j);

/*
 * The setup hook (arg: a struct sc_jail): a private mount namespace (and a
 * user namespace unless root), /dev and /proc bound, a private /tmp, the
 * binds, chroot, the working directory, and a fixed environment (PATH,
 * HOME, TMPDIR, LC_ALL=C). 0, or -errno after a message on fd 2 that names
 * the step and, for a refused user namespace, the sysctl to change.
 */
int sc_jail_enter(const void *arg);

/*
 * Run argv (argv[0] an in-root path) inside br with stdout and stderr into
 * a buffer of at most max bytes. Returns 0 and *out when it exited 0;
 * otherwise -errno with err holding the first line it wrote (a refused user
 * namespace says so).
 */
int sc_buildroot_capture(const struct sc_buildroot *br, const char *const *argv,
			 size_t max, char **out, struct sc_error *err);

#endif
