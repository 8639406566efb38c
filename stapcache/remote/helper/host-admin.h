/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_HOST_H
#define SC_HOST_H

#include <stdbool.h>

#include "remote/helper/helper.h"
#include "remote/targets.h"

/*
 * `stapcache host self | list [--json] | add NAME EXECUTE [--group G]... |
 *  import FILE|- ... (host-import.h) |
 *  remove NAME | refresh NAME|@GROUP|--all | accept NAME SHA256:...`, and
 * `host probe NAME EXECUTE` (an ad-hoc target's entry, for --remote).
 * Returns the exit status (2: a usage error).
 */
int sc_helper_host(int argc, char **argv, const struct sc_helper_env *env);

/*
 * What host add does for a new target, for every verb that adds one (add,
 * probe, import): ask t (its name, execute parsed into t->ex, groups and
 * build_root set) over SSH for its release, arch, cpu and module-signature
 * facts (into t), accepting an unknown host key only if it is accept_fp
 * (NULL: none; accept_how: the command a refusal names, before the
 * fingerprint; NULL: host accept), then format its entry and parse it back.
 * quiet: no warning about a missing runner. Returns 0, with the entry
 * appended to out and its YAML in *entry (caller frees), or -errno after
 * saying why on stderr.
 */
int sc_host_ask(const struct sc_helper_env *env, struct sc_target *t,
		const char *accept_fp, const char *accept_how, bool quiet,
		struct sc_targets *out, char **entry);

/*
 * Rewrite known_hosts (path) from all, but skip (NULL: none), atomically
 * (common/fsutil.h's one atomic write). Returns 0, or -errno after saying
 * why on stderr.
 */
int sc_host_save(const char *path, const struct sc_targets *all,
		 const struct sc_target *skip);

#endif
