/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_KERNEL_H
#define SC_KERNEL_H

#include <stdbool.h>

#include "common/error.h"
#include "core/build-root.h"

/* The kernel a request compiles for. */
struct sc_kernel {
	char *spec;       /* what to pass to stap -r (release or build tree) */
	char *release;    /* e.g. 6.1.0-56-amd64 */
	char *build_tree; /* resolved absolute path */
	char *arch;       /* e.g. x86_64 */
	/* In a build root (NULL: this host's kernel headers): */
	struct sc_buildroot *root; /* owned */
	char *tree_inside;         /* build_tree as stap sees it there */
};

/*
 * Resolve -r/-a (spec may be NULL: the running kernel). A release maps to
 * /lib/modules/RELEASE/build; a path (anything with a '/') is a build tree
 * whose release is read from include/generated/utsrelease.h. Returns 0, or
 * -ENOENT with a message that says what to install or pass instead.
 */
int sc_kernel_resolve(const char *spec, const char *arch, struct sc_kernel *out,
		      struct sc_error *err);
void sc_kernel_clear(struct sc_kernel *k);

/*
 * The same inside the build root root_dir (core/build-root.h; homes: its
 * sc_buildroot_open argument): spec NULL is the root's own kernel, a
 * release maps to the root's /lib/modules/RELEASE/build, a path is one
 * inside the root. out->build_tree is where that tree is on this host,
 * out->tree_inside where stap sees it. Returns 0, or -errno with a message
 * naming the root and the kernels it has.
 */
int sc_kernel_resolve_root(const char *root_dir, const char *homes, const char *spec,
			   const char *arch, struct sc_kernel *out, struct sc_error *err);

/*
 * The host path of the kernel header rel ("include/linux/uprobes.h") for
 * k: in its tree, its source/ link, or the common tree a Debian -ARCH tree's
 * Makefile includes (inside k's build root when it has one). NULL when
 * none has it; the caller frees.
 */
char *sc_kernel_header(const struct sc_kernel *k, const char *rel);

/*
 * Does the runtime directory runtime (a path on this host) need one of
 * stapcache-fix-runtime's fixes for k? Returns what k changed, for a
 * message ("task_work_cancel() is now task_work_cancel_func()": systemtap
 * 4.8 does not compile for Linux >= 6.11 and Debian >= 6.1.103; "6.12
 * changed the uprobes API": systemtap 5.1's modules fail at start), or NULL
 * when it needs none.
 */
const char *sc_kernel_runtime_fix(const struct sc_kernel *k, const char *runtime);

#endif
