/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ansible inventories, all three forms (the parser picks the form from the
 * text): a refusal is -EINVAL with a message that names the input and a
 * line and hands out nothing; an acceptance hands out at least one host,
 * each with a target name, an execute string sc_execute_parse accepts,
 * sorted groups that are group names (never Ansible's "all" or
 * "ungrouped"), an absolute build root, an origin in the input; and the
 * known_hosts entry `host import` makes of each host it would add formats
 * and parses back to the same name, execute, groups and build root.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "remote/inventory.h"

static void check_host(const struct sc_inventory_host *h, bool round_trip)
{
	struct sc_target t = {0};
	struct sc_targets back = {0};
	struct sc_error err = {{0}};
	struct sc_execute ex = {0};
	char *e;

	if (!sc_target_name_ok(h->name) || strncmp(h->origin, "fuzz:", 5) != 0)
		abort();
	for (size_t g = 0; g < h->ngroups; g++)
		if (!sc_target_name_ok(h->groups[g]) || !strcmp(h->groups[g], "all") ||
		    !strcmp(h->groups[g], "ungrouped") ||
		    (g && strcmp(h->groups[g - 1], h->groups[g]) >= 0))
			abort();
	if (h->skip)
		return;
	if (!h->execute || sc_execute_parse(h->execute, &ex, &err) != 0)
		abort();
	sc_execute_clear(&ex);
	if (h->build_root && h->build_root[0] != '/')
		abort();
	if (!round_trip)
		return;
	/* What host import saves for it, once host add's questions are answered. */
	t.name = h->name;
	t.execute = h->execute;
	t.kernel = "6.1.0-1-amd64";
	t.arch = "x86_64";
	t.build_root = h->build_root;
	t.groups = h->groups;
	t.ngroups = h->ngroups;
	e = sc_target_format(&t);
	if (sc_targets_parse("entry", e, strlen(e), &back, &err) != 0 || back.n != 1 ||
	    strcmp(back.v[0].name, h->name) || strcmp(back.v[0].execute, h->execute) ||
	    back.v[0].ngroups != h->ngroups || !back.v[0].build_root != !h->build_root ||
	    (h->build_root && strcmp(back.v[0].build_root, h->build_root)))
		abort();
	for (size_t g = 0; g < h->ngroups; g++)
		if (strcmp(back.v[0].groups[g], h->groups[g]))
			abort();
	sc_targets_clear(&back);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_inventory *inv = NULL;
	struct sc_error err = {{0}};
	int r = sc_inventory_parse("fuzz", (const char *)data, size, SC_RUNNER_AUTH, &inv,
				   &err);

	if (r != 0) {
		if (r != -EINVAL || inv || strncmp(err.msg, "fuzz:", 5) != 0)
			abort();
		return 0;
	}
	if (!inv || inv->n == 0)
		abort();
	/* Every host's fields; the (slower) entry round trip for the first 64. */
	for (size_t i = 0; i < inv->n; i++)
		check_host(&inv->v[i], i < 64);
	sc_inventory_free(inv);
	return 0;
}
