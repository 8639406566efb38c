/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ansible inventories (inventory.h): the form told from the text, one of
 * the readers (inventory-yaml.c, inventory-ini.c) filling the model
 * (inventory-model.h), then the resolver: groups flattened (a cycle
 * refused), each host's variables applied in Ansible's order, and what
 * results checked, each error naming the line the value came from.
 */
#include "build-config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/parse.h"
#include "remote/inventory-model.h"
#include "remote/inventory.h"
#include "remote/targets.h"

/* The connections that are SSH (ansible_connection's values). */
static const char *const ssh_connections[] = {"ssh",
					      "smart",
					      "paramiko",
					      "paramiko_ssh",
					      "ansible.builtin.ssh",
					      "ansible.builtin.paramiko_ssh",
					      NULL};

/* Depth-first over children: a cycle or a too deep nesting is refused; order gets the postorder. */
static int walk_children(struct model *m, size_t g, int depth, size_t *order,
			 size_t *norder)
{
	struct group *gr = &m->g[g];

	if (gr->state == 2)
		return 0;
	if (gr->state == 1)
		return sc_inv_fail(m, gr->line,
				   "group '%s' is among its own children: remove one of the "
				   "children: entries that lead back to it",
				   gr->name);
	if (depth > SC_INV_DEPTH_MAX)
		return sc_inv_fail(m, gr->line, "groups nested more than %d deep",
				   SC_INV_DEPTH_MAX);
	gr->state = 1;
	for (size_t i = 0; i < gr->nchildren; i++) {
		int r = walk_children(m, gr->children[i], depth + 1, order, norder);

		if (r < 0)
			return r;
	}
	gr->state = 2;
	order[(*norder)++] = g;
	return 0;
}

/*
 * Each group's depth as Ansible counts it ("all" 0, any other group at
 * least 1, a child one more than its deepest parent) and its
 * ansible_group_priority.
 */
static int group_depths(struct model *m)
{
	size_t *order = sc_inv_xrealloc(NULL, m->ng + 1, sizeof(*order)), norder = 0;
	int r = 0;

	for (size_t g = 0; r == 0 && g < m->ng; g++) {
		m->g[g].depth = strcmp(m->g[g].name, "all") ? 1 : 0;
		r = walk_children(m, g, 0, order, &norder);
	}
	for (size_t i = norder; r == 0 && i-- > 0;) {
		struct group *gr = &m->g[order[i]];

		for (size_t c = 0; c < gr->nchildren; c++)
			if (m->g[gr->children[c]].depth < gr->depth + 1)
				m->g[gr->children[c]].depth = gr->depth + 1;
	}
	for (size_t g = 0; r == 0 && g < m->ng; g++) {
		struct var *p = &m->g[g].vars[V_PRIORITY];
		struct sc_error e1 = {{0}};

		if (p->value && sc_parse_int("ansible_group_priority", p->value, 0,
					     1000000, &m->g[g].priority, &e1) < 0)
			r = sc_inv_fail(m, p->line, "%s", e1.msg);
	}
	free(order);
	return r;
}

static const struct model *sort_model;

/* Ansible's order of group variables: by depth, priority, then name. */
static int group_order(const void *a, const void *b)
{
	const struct group *x = &sort_model->g[*(const size_t *)a];
	const struct group *y = &sort_model->g[*(const size_t *)b];

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int name_order(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Host h's groups into out: those listing it and every group above them,
 * "all" too. mark[g] == h + 1: g is in already (no clearing per host).
 */
static size_t host_groups(const struct model *m, size_t h, size_t **parents,
			  const size_t *nparents, size_t *mark, size_t *out)
{
	const struct host *ho = &m->h[h];
	size_t n = 0, done = 0;
	int all = sc_inv_find_group(m, "all");

	for (size_t i = 0; i < ho->ngroups; i++)
		if (mark[ho->groups[i]] != h + 1) {
			mark[ho->groups[i]] = h + 1;
			out[n++] = ho->groups[i];
		}
	if (all >= 0 && mark[all] != h + 1) {
		mark[all] = h + 1;
		out[n++] = (size_t)all;
	}
	for (; done < n; done++)
		for (size_t i = 0; i < nparents[out[done]]; i++) {
			size_t p = parents[out[done]][i];

			if (mark[p] != h + 1) {
				mark[p] = h + 1;
				out[n++] = p;
			}
		}
	return n;
}

/* v over the variables in *into that it sets. */
static void apply_vars(struct var *into, const struct var *v)
{
	for (int i = 0; i < V_N; i++)
		if (v[i].value)
			into[i] = v[i];
}

/* The execute string for a host with these variables, each value checked. */
static int host_execute(struct model *m, const struct host *h, const struct var *v,
			enum sc_runner runner, char **out)
{
	struct sc_execute ex = {0};
	struct sc_error e1 = {{0}};
	const char *addr = v[V_HOST].value ? v[V_HOST].value : h->name;
	size_t aline = v[V_HOST].value ? v[V_HOST].line : h->line;
	char *probe, *port = NULL, vb[84];
	long n;
	int r;

	if (v[V_RUNNER].value && sc_runner_parse(v[V_RUNNER].value, &runner) < 0)
		return sc_inv_fail(m, v[V_RUNNER].line,
				   "stapcache_runner '%s': auth, sudo or direct",
				   sc_inv_shown(v[V_RUNNER].value, vb));
	if (v[V_PORT].value) {
		if (sc_parse_int(v[V_PORT].spelled, v[V_PORT].value, 1, 65535, &n, &e1) <
		    0)
			return sc_inv_fail(m, v[V_PORT].line, "host %s: %s", h->name,
					   e1.msg);
		port = sc_strdupf(":%ld", n);
	}
	if (v[V_USER].value) {
		probe = sc_strdupf("ssh:%s@h:auth", v[V_USER].value);
		r = sc_execute_parse(probe, &ex, &e1);
		free(probe);
		sc_execute_clear(&ex);
		if (r < 0) {
			free(port);
			return sc_inv_fail(m, v[V_USER].line,
					   "host %s: %s '%s' cannot be an SSH user here (letters, "
					   "digits, '.', '_', '-')",
					   h->name, v[V_USER].spelled,
					   sc_inv_shown(v[V_USER].value, vb));
		}
	}
	*out = sc_strdupf("ssh:%s%s%s%s%s%s:%s", v[V_USER].value ? v[V_USER].value : "",
			  v[V_USER].value ? "@" : "", strchr(addr, ':') ? "[" : "", addr,
			  strchr(addr, ':') ? "]" : "", port ? port : "",
			  sc_runner_name(runner));
	free(port);
	r = sc_execute_parse(*out, &ex, &e1);
	sc_execute_clear(&ex);
	if (r < 0) {
		free(*out);
		*out = NULL;
		return sc_inv_fail(m, aline,
				   "host %s: address '%s' is not a host name or an IP address "
				   "(from %s)",
				   h->name, sc_inv_shown(addr, vb),
				   v[V_HOST].value ? v[V_HOST].spelled
						   : "its inventory name");
	}
	return 0;
}

/* Host h resolved into out: its variables applied in Ansible's order, checked. */
static int resolve_host(struct model *m, size_t h, size_t *gs, size_t ngs,
			enum sc_runner runner, struct sc_inventory_host *out)
{
	const struct host *ho = &m->h[h];
	struct var v[V_N] = {{0}};
	char vb[84];
	int r;

	sort_model = m;
	qsort(gs, ngs, sizeof(*gs), group_order);
	for (size_t i = 0; i < ngs; i++)
		apply_vars(v, m->g[gs[i]].vars);
	apply_vars(v, ho->vars);
	out->name = sc_strdupf("%s", ho->name);
	out->origin = sc_strdupf("%s:%zu", m->file, ho->line);
	out->groups = sc_inv_xrealloc(NULL, ngs + 1, sizeof(*out->groups));
	for (size_t i = 0; i < ngs; i++)
		if (strcmp(m->g[gs[i]].name, "all") &&
		    strcmp(m->g[gs[i]].name, "ungrouped"))
			out->groups[out->ngroups++] = sc_strdupf("%s", m->g[gs[i]].name);
	qsort(out->groups, out->ngroups, sizeof(*out->groups), name_order);
	if (v[V_CONN].value) {
		const char *const *c = ssh_connections;

		while (*c && strcmp(*c, v[V_CONN].value))
			c++;
		if (!*c) {
			out->skip =
				sc_strdupf("ansible_connection=%s (%s:%zu) is not SSH",
					   sc_inv_shown(v[V_CONN].value, vb), m->file,
					   v[V_CONN].line);
			return 0;
		}
	}
	if (v[V_ROOT].value &&
	    (v[V_ROOT].value[0] != '/' || !sc_inv_printable(v[V_ROOT].value)))
		return sc_inv_fail(
			m, v[V_ROOT].line,
			"host %s: stapcache_build_root '%s' must be an absolute directory "
			"(printable ASCII)",
			ho->name, sc_inv_shown(v[V_ROOT].value, vb));
	if (v[V_ROOT].value)
		out->build_root = sc_strdupf("%s", v[V_ROOT].value);
	r = host_execute(m, ho, v, runner, &out->execute);
	return r;
}

static int resolve(struct model *m, enum sc_runner runner, struct sc_inventory *inv)
{
	size_t **parents = sc_inv_xrealloc(NULL, m->ng + 1, sizeof(*parents));
	size_t *nparents = sc_inv_xrealloc(NULL, m->ng + 1, sizeof(*nparents));
	size_t *gs = sc_inv_xrealloc(NULL, m->ng + 1, sizeof(*gs));
	size_t *mark = sc_inv_xrealloc(NULL, m->ng + 1, sizeof(*mark));
	int r = group_depths(m);

	memset(mark, 0, (m->ng + 1) * sizeof(*mark));
	memset(parents, 0, (m->ng + 1) * sizeof(*parents));
	memset(nparents, 0, (m->ng + 1) * sizeof(*nparents));
	for (size_t g = 0; g < m->ng; g++)
		for (size_t i = 0; i < m->g[g].nchildren; i++)
			sc_inv_add_index(&parents[m->g[g].children[i]],
					 &nparents[m->g[g].children[i]], g);
	inv->v = sc_inv_xrealloc(NULL, m->nh + 1, sizeof(*inv->v));
	for (size_t h = 0; r == 0 && h < m->nh; h++) {
		size_t ngs = host_groups(m, h, parents, nparents, mark, gs);

		memset(&inv->v[inv->n], 0, sizeof(*inv->v));
		r = resolve_host(m, h, gs, ngs, runner, &inv->v[inv->n++]);
	}
	for (size_t g = 0; g < m->ng; g++)
		free(parents[g]);
	free(parents);
	free(nparents);
	free(gs);
	free(mark);
	return r;
}

/* --------------------------------------------------------------- the API */

/* The form of the text, from its first line that is not blank or a comment. */
static enum sc_inventory_format detect(const char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len, c;

		while (i < end && strchr(" \t\r", buf[i]))
			i++;
		if (i == end || buf[i] == '#' || buf[i] == ';') {
			i = end + 1;
			continue;
		}
		if (buf[i] == '{')
			return SC_INVENTORY_JSON;
		if (buf[i] == '[')
			return SC_INVENTORY_INI;
		if ((end - i >= 3 && !memcmp(buf + i, "---", 3)) || buf[i] == '%')
			return SC_INVENTORY_YAML;
		/* "KEY:" then a blank, a comment or the end: a YAML mapping. */
		for (c = i; c < end && !strchr(" \t=:", buf[c]); c++)
			;
		if (c > i && c < end && buf[c] == ':' &&
		    (c + 1 == end || strchr(" \t\r#", buf[c + 1])))
			return SC_INVENTORY_YAML;
		return SC_INVENTORY_INI;
	}
	return SC_INVENTORY_INI;
}

const char *sc_inventory_format_name(enum sc_inventory_format f)
{
	static const char *const names[] = {"JSON (ansible-inventory --list)", "YAML",
					    "INI"};

	return names[f];
}

void sc_inventory_free(struct sc_inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->n; i++) {
		struct sc_inventory_host *h = &inv->v[i];

		free(h->name);
		free(h->execute);
		free(h->build_root);
		for (size_t g = 0; g < h->ngroups; g++)
			free(h->groups[g]);
		free(h->groups);
		free(h->origin);
		free(h->skip);
	}
	free(inv->v);
	free(inv);
}

int sc_inventory_parse(const char *name, const char *buf, size_t len,
		       enum sc_runner runner, struct sc_inventory **out,
		       struct sc_error *err)
{
	struct model m = {.file = name, .err = err};
	struct sc_inventory *inv = sc_inv_xrealloc(NULL, 1, sizeof(*inv));
	int r;

	memset(inv, 0, sizeof(*inv));
	inv->format = detect(buf, len);
	if (memchr(buf, '\0', len)) {
		sc_error_set(err, "%s: holds a NUL byte: not an inventory", name);
		r = -EINVAL;
	} else if (inv->format == SC_INVENTORY_INI) {
		r = sc_inv_parse_ini(&m, buf, len);
	} else {
		r = sc_inv_parse_doc(&m, buf, len, inv->format == SC_INVENTORY_JSON);
	}
	if (r == 0)
		r = resolve(&m, runner, inv);
	if (r == 0 && inv->n == 0) {
		sc_error_set(err,
			     "%s: no hosts in it (read as %s): is it an Ansible inventory?",
			     name, sc_inventory_format_name(inv->format));
		r = -EINVAL;
	}
	sc_inv_model_clear(&m);
	if (r < 0) {
		sc_inventory_free(inv);
		return r;
	}
	*out = inv;
	return 0;
}
