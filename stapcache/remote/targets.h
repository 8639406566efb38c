/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_TARGETS_H
#define SC_TARGETS_H

#include <stddef.h>

#include "common/error.h"

/*
 * Named targets: $XDG_CONFIG_HOME/stapcache/known_hosts (stapcache-known_hosts(5)).
 *
 * YAML: a top-level sequence of mappings, so that files from many hosts
 * concatenate into one fleet file (several "---" documents are read too):
 *
 *     - name: web1
 *       execute: ssh:ops@web1.example.com:2222:auth
 *       kernel: 6.1.0-57-amd64
 *       arch: x86_64
 *       cpu: Intel(R) Xeon(R) ...
 *       build-tree: /srv/trees/6.1.0-57-amd64   # optional
 *       runtime: /var/lib/stapcache/runtime/x   # optional
 *       sysroot: /srv/sysroots/web              # optional
 *       build-root: /var/lib/stapcache/buildroot/trixie   # optional
 *       groups: [web, prod]                     # optional
 *
 * The proposal's one-line form is read as well (a file is one form or the other):
 *
 *     web1 execute=ssh:ops@web1:auth kernel=6.1.0-57-amd64 arch=x86_64 cpu=x groups=web,prod
 *
 * Nothing is guessed: an unknown key, a missing field, a bad execute string or
 * a duplicate name is an error naming the file and line.
 */

enum sc_runner { SC_RUNNER_AUTH, SC_RUNNER_SUDO, SC_RUNNER_DIRECT };

/* "ssh:[USER@]HOST[:PORT]:RUNNER"; HOST may be "[v6-address]". */
struct sc_execute {
	char *user; /* NULL: ~/.ssh/config's User, else the local user */
	char *host; /* a name, an address, or a ~/.ssh/config alias */
	int port;   /* 0: ~/.ssh/config's Port, else 22 */
	enum sc_runner runner;
};

struct sc_target {
	char *name;
	char *execute; /* as written */
	struct sc_execute ex;
	char *kernel, *arch, *cpu;
	char *build_tree, *runtime, *sysroot; /* NULL when not set */
	char *build_root; /* another release's stap and headers (core/buildroot.h), or NULL */
	char **groups;
	size_t ngroups;
	char *origin; /* "FILE:LINE" of the entry, for messages */
};

struct sc_targets {
	struct sc_target *v;
	size_t n;
};

/*
 * Parse one known_hosts text (name is used in messages) and append its
 * entries to t. Returns 0, or -EINVAL with err saying "name:line: what" (t
 * keeps the entries of earlier calls only), or -ENOMEM.
 */
int sc_targets_parse(const char *name, const char *buf, size_t len, struct sc_targets *t,
		     struct sc_error *err);

/* sc_targets_parse on a file; a missing file adds nothing and returns 0. */
int sc_targets_load(const char *path, struct sc_targets *t, struct sc_error *err);

/* Free every entry (t itself is the caller's). */
void sc_targets_clear(struct sc_targets *t);

/*
 * The default file for these values of XDG_CONFIG_HOME and HOME (either may
 * be NULL): $XDG_CONFIG_HOME/stapcache/known_hosts when that is absolute,
 * else ~/.config/stapcache/known_hosts. Reads no environment. Caller frees.
 */
char *sc_targets_default_path(const char *xdg_config_home, const char *home);

/*
 * Resolve -T specs (NAME or @GROUP, in order, duplicates dropped) into indexes
 * of t. Returns 0 and *idx (caller frees; *n entries), or -ENOENT with err
 * naming the unknown target or empty group.
 */
int sc_targets_select(const struct sc_targets *t, const char *const *specs, size_t nspecs,
		      size_t **idx, size_t *n, struct sc_error *err);

/* Find a target by name, or NULL. */
const struct sc_target *sc_targets_find(const struct sc_targets *t, const char *name);

/* Parse an execute string. Returns 0 (free with sc_execute_clear) or -EINVAL with err. */
int sc_execute_parse(const char *s, struct sc_execute *out, struct sc_error *err);
void sc_execute_clear(struct sc_execute *ex);

/* "auth", "sudo", "direct". */
const char *sc_runner_name(enum sc_runner r);

/* A target name: 1-64 of [A-Za-z0-9_.-], starting with a letter, digit or '_'. */
int sc_target_name_ok(const char *s);

/*
 * The YAML entry for t ("- name: ...\n  execute: ...\n"), values quoted where
 * YAML needs it; parses back to the same entry. Caller frees.
 */
char *sc_target_format(const struct sc_target *t);

#endif
