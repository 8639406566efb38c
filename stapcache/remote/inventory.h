/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_INVENTORY_H
#define SC_INVENTORY_H

#include <stddef.h>

#include "common/error.h"
#include "remote/targets.h"

/*
 * An Ansible inventory, read for `stapcache host import`: which hosts there
 * are, how to reach them over SSH, and the groups each is in. Three forms,
 * told apart by the text itself (the first line that is not blank or a
 * comment):
 *
 *   JSON  starts with '{': what `ansible-inventory --list` prints, a mapping
 *         of groups ({"hosts": [...], "children": [...], "vars": {...}}, or a
 *         plain list of hosts) and "_meta": {"hostvars": {HOST: {VARS}}}.
 *         Read with libyaml, as YAML flow syntax (every JSON document
 *         ansible-inventory writes is one): that gives every value its
 *         line, so every error names FILE:LINE (json-c keeps no positions).
 *         The price: a string holding a raw DEL or C1 control character,
 *         valid JSON but not YAML, is refused; a trailing comma is let by.
 *   YAML  starts with "---", "%YAML" or "KEY:" ("all:"): top-level groups,
 *         each a mapping of hosts: {HOST: VARS}, children: {GROUP: ...} and
 *         vars: {...}, nested to any depth.
 *   INI   anything else: "[group]" sections of "HOST key=value ..." lines,
 *         "[group:children]" and "[group:vars]", hosts before the first
 *         section ungrouped.
 *
 * What is read: ansible_host (or ansible_ssh_host), ansible_port
 * (ansible_ssh_port), ansible_user (ansible_ssh_user), ansible_connection
 * (a host whose connection is not ssh is not imported, and said why), and
 * stapcache's own stapcache_runner (auth, sudo or direct) and
 * stapcache_build_root (an absolute directory, known_hosts' build-root:).
 * Variables apply as Ansible applies them: a host's own over its groups',
 * a child group's over its parent's (then ansible_group_priority, then
 * the name), "all" first. Other variables are not looked at.
 *
 * Groups become known_hosts groups (-T @GROUP): each host is in every group
 * it is listed in and every group above those (children flattened), except
 * Ansible's implicit "all" and "ungrouped". Host patterns with ranges
 * ("web[01:03]", "db-[a:c]", "[1:9:2]") are expanded in YAML and INI, as
 * Ansible expands them (at most SC_INVENTORY_RANGE_MAX hosts a pattern,
 * SC_INVENTORY_HOSTS_MAX in all); "HOST:PORT" sets the port. A value holding "{{" or "{%" (a Jinja
 * template) is refused: stapcache does not evaluate templates.
 *
 * Nothing is guessed: a host or group name known_hosts cannot hold, a bad
 * port, user or address, a group that contains itself, an unknown key in a
 * YAML group are each one error naming FILE:LINE and what to do.
 */

/* The largest inventory read (bytes), the most hosts one pattern expands to, the most hosts. */
#define SC_INVENTORY_MAX (16u << 20)
#define SC_INVENTORY_RANGE_MAX 4096
#define SC_INVENTORY_HOSTS_MAX 65536

enum sc_inventory_format { SC_INVENTORY_JSON, SC_INVENTORY_YAML, SC_INVENTORY_INI };

struct sc_inventory_host {
	char *name;    /* the inventory's host name: the target's name */
	char *execute; /* ssh:[USER@]ADDRESS[:PORT]:RUNNER, checked by sc_execute_parse */
	char *build_root; /* stapcache_build_root, or NULL */
	char **groups;    /* sorted, no duplicates */
	size_t ngroups;
	char *origin; /* "FILE:LINE" where the host first appears */
	char *skip;   /* non-NULL: why it is not to be imported (not SSH) */
};

struct sc_inventory {
	enum sc_inventory_format format;
	struct sc_inventory_host *v; /* in the order they first appear */
	size_t n;
};

/*
 * Parse an inventory text (name is used in messages: "FILE:LINE: ...").
 * runner is the runner of a host that sets no stapcache_runner. Returns 0
 * and *out (free with sc_inventory_free), or -EINVAL with err saying
 * "name:line: what, and what to do". Allocation failures end the process
 * (sc_oom).
 */
int sc_inventory_parse(const char *name, const char *buf, size_t len,
		       enum sc_runner runner, struct sc_inventory **out,
		       struct sc_error *err);

/* Free inv and everything in it; NULL is a no-op. */
void sc_inventory_free(struct sc_inventory *inv);

/* "JSON (ansible-inventory --list)", "YAML", "INI". */
const char *sc_inventory_format_name(enum sc_inventory_format f);

#endif
