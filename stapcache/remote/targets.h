/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_TARGETS_H
#define SC_TARGETS_H

#include <stdbool.h>
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
 *       cpu: Intel(R) Xeon(R) ...               # optional, informational
 *       build-tree: /srv/trees/6.1.0-57-amd64   # optional
 *       runtime: /var/lib/stapcache/runtime/x   # optional
 *       sysroot: /srv/sysroots/web              # optional: its lib/modules/KERNEL/build
 *       build-root: /var/lib/stapcache/buildroot/trixie   # optional
 *       groups: [web, prod]                     # optional
 *       lockdown: integrity                     # optional, host add records
 *       sig-enforce: yes                        #   these (issue 20): what the
 *       secure-boot: on                         #   kernel demands of a module's
 *       module-signers:                         #   signature, and the
 *         - sha256:0538f409...                  #   certificates it trusts
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
	char *build_root; /* another release's stap and headers (core/build-root.h), or NULL */
	char **groups;
	size_t ngroups;
	char *origin; /* "FILE:LINE" of the entry, for messages */
	/*
	 * Module signatures (issue 20), as host add/refresh read them there;
	 * NULL when not known (an older entry, or not readable there):
	 * lockdown "none", "integrity" or "confidentiality"
	 * (/sys/kernel/security/lockdown); sig_enforce "yes" or "no"
	 * (module.sig_enforce); secure_boot "on" or "off" (the SecureBoot
	 * UEFI variable; "off" on a host without UEFI). signers: the
	 * certificates in its UEFI db and MOK list (sign/signer.h's
	 * "sha256:HEX"), NULL when they could not be read.
	 */
	char *lockdown, *sig_enforce, *secure_boot;
	char **signers;
	size_t nsigners;
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
/* Free what one target holds (a parsed entry or one built for host add), and zero it. */
void sc_target_clear(struct sc_target *t);

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

/*
 * The kernel build tree under t's sysroot: SYSROOT/lib/modules/KERNEL/build
 * (what the target is built against when it has a sysroot and no
 * build-tree). Never NULL (sc_strdupf); caller frees.
 */
char *sc_target_sysroot_tree(const struct sc_target *t);

/*
 * Does the target's kernel load only signed modules: sig-enforce yes, or a
 * lockdown (integrity or confidentiality), or, with lockdown not known,
 * Secure Boot on (Debian's, Ubuntu's and RHEL's kernels lock themselves
 * down then)? An entry that says nothing needs none.
 */
bool sc_target_needs_signature(const struct sc_target *t);

/*
 * Why, in a few words ("lockdown integrity, sig_enforce, Secure Boot on"),
 * or "" when it does not. Caller frees.
 */
char *sc_target_enforcement(const struct sc_target *t);

/* Does it trust signer fp: 1 yes, 0 no, -1 not known (no module-signers:). */
int sc_target_trusts(const struct sc_target *t, const char *fp);

/* Find a target by name, or NULL. */
const struct sc_target *sc_targets_find(const struct sc_targets *t, const char *name);

/* Parse an execute string. Returns 0 (free with sc_execute_clear) or -EINVAL with err. */
int sc_execute_parse(const char *s, struct sc_execute *out, struct sc_error *err);
void sc_execute_clear(struct sc_execute *ex);

/* "auth", "sudo", "direct". */
const char *sc_runner_name(enum sc_runner r);

/* The runner called s: 0 and *out, or -EINVAL when s is none of them. */
int sc_runner_parse(const char *s, enum sc_runner *out);

/* A target name: 1-64 of [A-Za-z0-9_.-], starting with a letter, digit or '_'. */
int sc_target_name_ok(const char *s);

/*
 * What a target reports about itself (`host add`, `host refresh`) and a
 * known_hosts entry holds, checked before it is saved or used: the kernel
 * release by sc_release_ok (modinfo.h: it becomes stap's -r and a path);
 * the architecture, uname -m, 1-32 of [A-Za-z0-9_] (it becomes stap's -a);
 * the cpu, a model name shown to people, 1-128 bytes of printable ASCII with
 * no leading or trailing space. Each returns 1 when s is valid, else 0.
 */
int sc_target_arch_ok(const char *s);
int sc_target_cpu_ok(const char *s);

/*
 * The YAML entry for t ("- name: ...\n  execute: ...\n"), values quoted where
 * YAML needs it; parses back to the same entry. Caller frees.
 */
char *sc_target_format(const struct sc_target *t);

#endif
