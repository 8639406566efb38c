/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * known_hosts, both forms (the parser picks the form from the text): the
 * entries it accepts, formatted (sc_target_format) and joined into one file
 * the way `stapcache host add/remove` rewrites known_hosts (host.c save()),
 * parse back to the same entries in the same order; and @GROUP / NAME
 * selection works on the result. One parse of the whole rewritten file, not
 * one per entry: the round trip checked the way the file is really written
 * (entries next to each other, after the header comment).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote/targets.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void same_target(const struct sc_target *b, const struct sc_target *t)
{
	if (!same(b->name, t->name) || !same(b->execute, t->execute) ||
	    !same(b->kernel, t->kernel) || !same(b->arch, t->arch) ||
	    !same(b->cpu, t->cpu) || !same(b->build_tree, t->build_tree) ||
	    !same(b->runtime, t->runtime) || !same(b->sysroot, t->sysroot) ||
	    b->ngroups != t->ngroups || !same(b->lockdown, t->lockdown) ||
	    !same(b->sig_enforce, t->sig_enforce) ||
	    !same(b->secure_boot, t->secure_boot) || !b->signers != !t->signers ||
	    b->nsigners != t->nsigners)
		abort();
	for (size_t i = 0; i < t->ngroups; i++)
		if (!same(b->groups[i], t->groups[i]))
			abort();
	for (size_t i = 0; i < t->nsigners; i++)
		if (!same(b->signers[i], t->signers[i]))
			abort();
}

/* What host.c's save() writes for all entries of t, parsed back. */
static void round_trip(const struct sc_targets *t)
{
	static const char header[] =
		"# stapcache known_hosts (stapcache-known_hosts(5))\n";
	struct sc_targets back = {0};
	struct sc_error err = {{0}};
	char **e = calloc(t->n, sizeof(*e)), *text, *p;
	size_t i, len = sizeof(header) - 1;

	if (!e)
		abort();
	for (i = 0; i < t->n; i++) {
		e[i] = sc_target_format(&t->v[i]);
		if (!e[i])
			abort();
		len += strlen(e[i]);
	}
	text = malloc(len + 1);
	if (!text)
		abort();
	p = stpcpy(text, header);
	for (i = 0; i < t->n; i++) {
		p = stpcpy(p, e[i]);
		free(e[i]);
	}
	free(e);
	if (sc_targets_parse("format", text, len, &back, &err) != 0 || back.n != t->n)
		abort();
	for (i = 0; i < t->n; i++)
		same_target(&back.v[i], &t->v[i]);
	sc_targets_clear(&back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_targets t = {0};
	struct sc_error err = {{0}};
	size_t *idx = NULL, n = 0;

	if (sc_targets_parse("fuzz", (const char *)data, size, &t, &err) != 0) {
		sc_targets_clear(&t);
		return 0;
	}
	if (t.n > 0) {
		round_trip(&t);
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
