/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_HOST_IMPORT_H
#define SC_HOST_IMPORT_H

#include <stdbool.h>

#include "core/cmdopt.h"
#include "remote/helper/helper.h"

/*
 * `stapcache host import FILE|- [--dry-run] [--update] [--group G]...
 * [--runner R] [--build-root DIR] [--accept [NAME=]SHA256:FP]...`: an Ansible
 * inventory's hosts into known_hosts (host-import.c), one of the host verbs
 * (host-admin.c parses them all with sc_cmdopt_verb).
 */

/* What host import was given: its options point into it. */
struct sc_host_import_args {
	bool dry_run, update;
	struct sc_strv groups, accepts;
	const char *runner, *build_root;
	const struct sc_cmdopt_spec *spec; /* for usage errors */
	char *again; /* the command again, for a refusal's hint (shell-quoted) */
	struct sc_cmdopt opts[6];
};

/* Set *a to its defaults and return host import's spec, its options bound to *a. */
struct sc_cmdopt_spec sc_host_import_spec(struct sc_host_import_args *a);

/*
 * Import, once argv (argv[0] "import") was parsed by spec: argv[first] is
 * FILE or "-". Returns the exit status: 0, 1 (a host not added, or nothing
 * saved), 2 (a usage error). Free a with sc_host_import_clear after.
 */
int sc_host_import(struct sc_host_import_args *a, const struct sc_cmdopt_spec *spec,
		   int argc, char **argv, int first, const struct sc_helper_env *env);
void sc_host_import_clear(struct sc_host_import_args *a);

#endif
