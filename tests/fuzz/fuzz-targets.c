/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * known_hosts, both forms (the parser picks the form from the text): every
 * entry it accepts formats (sc_target_format) to YAML that parses back to
 * the same entry, and @GROUP / NAME selection works on the result.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void round_trip(const struct sc_target *t)
{
	struct sc_targets back = {0};
	struct sc_error err = {{0}};
	char *y = sc_target_format(t);
	const struct sc_target *b;
	size_t i;

	if (!y)
		abort();
	if (sc_targets_parse("format", y, strlen(y), &back, &err) != 0 || back.n != 1)
		abort();
	b = &back.v[0];
	if (!same(b->name, t->name) || !same(b->execute, t->execute) ||
	    !same(b->kernel, t->kernel) || !same(b->arch, t->arch) ||
	    !same(b->cpu, t->cpu) || !same(b->build_tree, t->build_tree) ||
	    !same(b->runtime, t->runtime) || !same(b->sysroot, t->sysroot) ||
	    b->ngroups != t->ngroups)
		abort();
	for (i = 0; i < t->ngroups; i++)
		if (!same(b->groups[i], t->groups[i]))
			abort();
	sc_targets_clear(&back);
	free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_targets t = {0};
	struct sc_error err = {{0}};
	size_t i, *idx = NULL, n = 0;

	if (sc_targets_parse("fuzz", (const char *)data, size, &t, &err) != 0) {
		sc_targets_clear(&t);
		return 0;
	}
	for (i = 0; i < t.n; i++)
		round_trip(&t.v[i]);
	if (t.n > 0) {
		const char *specs[2] = {t.v[0].name, "@web"};

		if (!sc_targets_find(&t, t.v[0].name))
			abort();
		if (sc_targets_select(&t, specs, 1, &idx, &n, &err) != 0 || n != 1 ||
		    idx[0] != 0)
			abort();
		free(idx);
		idx = NULL;
		if (sc_targets_select(&t, specs, 2, &idx, &n, &err) == 0)
			free(idx);
	}
	sc_targets_clear(&t);
	return 0;
}
