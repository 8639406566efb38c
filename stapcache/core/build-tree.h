/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_KERNEL_H
#define SC_KERNEL_H

#include <stdbool.h>

#include "common/error.h"

/* The kernel a request compiles for. */
struct sc_kernel {
	char *spec;       /* what to pass to stap -r (release or build tree) */
	char *release;    /* e.g. 6.1.0-56-amd64 */
	char *build_tree; /* resolved absolute path */
	char *arch;       /* e.g. x86_64 */
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
 * Does compiling for k with the runtime directory runtime fail for a known
 * reason that a prepared runtime fixes? True when k's headers declare
 * task_work_cancel_func() (Linux 6.11, Debian 6.1.103 and later) and the
 * runtime is systemtap 4.8's unfixed one (stapcache-fix-runtime prepares the
 * fixed copy).
 */
bool sc_kernel_needs_runtime_fix(const struct sc_kernel *k, const char *runtime);

#endif
