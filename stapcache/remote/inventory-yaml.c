/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The JSON and YAML forms of an Ansible inventory (inventory.h), through
 * libyaml's document loader: the JSON that ansible-inventory --list prints
 * is YAML flow syntax, and the loader gives every node its line. Aliases
 * are followed, so every visit counts (VISITS_MAX) and nesting is bounded.
 */
#include "build-config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <yaml.h>

#include "common/fsutil.h"
#include "remote/inventory-model.h"

/* More node visits than this (aliases reused over and over) are refused. */
#define VISITS_MAX (1u << 20)

static bool is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
		!strcmp(s, "NULL"));
}

static size_t line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

/* Each visit of a node counts: aliases cannot make the walk endless. */
static int visit(struct model *m, const yaml_node_t *n, int depth)
{
	if (++m->visits > VISITS_MAX)
		return sc_inv_fail(m, line_of(n),
				   "the inventory's aliases expand too far");
	if (depth > SC_INV_DEPTH_MAX)
		return sc_inv_fail(m, line_of(n), "groups nested more than %d deep",
				   SC_INV_DEPTH_MAX);
	return 0;
}

/* A vars mapping (NULL node or null: none) into vars. */
static int yaml_vars(struct model *m, yaml_document_t *doc, yaml_node_t *n,
		     struct var *vars, const char *what)
{
	if (!n || is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return sc_inv_fail(m, line_of(n), "%s must be a mapping of variables",
				   what);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *key;
		int r;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return sc_inv_fail(m, line_of(n),
					   "%s: a variable's name is a word", what);
		key = (const char *)k->data.scalar.value;
		if (is_null(v))
			continue;
		r = sc_inv_set_var(m, vars, key,
				   v->type == YAML_SCALAR_NODE
					   ? (const char *)v->data.scalar.value
					   : NULL,
				   line_of(k));
		if (r < 0)
			return r;
	}
	return 0;
}

/* A list of words (JSON hosts or children), each passed to add. */
static int yaml_names(struct model *m, yaml_document_t *doc, yaml_node_t *n,
		      const char *what, int group, bool hosts)
{
	if (is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return sc_inv_fail(m, line_of(n), "'%s' must be a list of names", what);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(doc, *it);
		size_t *idx, count;
		int r;

		if (!v || v->type != YAML_SCALAR_NODE)
			return sc_inv_fail(m, line_of(n), "'%s' must be a list of names",
					   what);
		if (hosts) {
			r = sc_inv_add_hosts(m, (const char *)v->data.scalar.value,
					     line_of(v), false, group, &idx, &count);
			free(idx);
		} else {
			r = sc_inv_group_get(m, (const char *)v->data.scalar.value,
					     line_of(v));
			if (r >= 0)
				sc_inv_add_index(&m->g[group].children,
						 &m->g[group].nchildren, (size_t)r);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* One group of ansible-inventory --list: a list of hosts, or hosts/children/vars. */
static int json_group(struct model *m, yaml_document_t *doc, yaml_node_t *k,
		      yaml_node_t *v)
{
	int g = sc_inv_group_get(m, (const char *)k->data.scalar.value, line_of(k)),
	    r = 0;

	if (g < 0)
		return g;
	if (v->type == YAML_SEQUENCE_NODE || is_null(v))
		return yaml_names(m, doc, v, "hosts", g, true);
	if (v->type != YAML_MAPPING_NODE)
		return sc_inv_fail(m, line_of(v),
				   "group '%s' must be a list of hosts or an object with hosts, "
				   "children and vars",
				   m->g[g].name);
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
	     r == 0 && p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *pk = yaml_document_get_node(doc, p->key);
		yaml_node_t *pv = yaml_document_get_node(doc, p->value);
		const char *key = pk && pk->type == YAML_SCALAR_NODE
					  ? (const char *)pk->data.scalar.value
					  : "";

		if (!pv)
			return -EINVAL;
		if (!strcmp(key, "hosts") || !strcmp(key, "children"))
			r = yaml_names(m, doc, pv, key, g, key[0] == 'h');
		else if (!strcmp(key, "vars"))
			r = yaml_vars(m, doc, pv, m->g[g].vars, "vars");
		else
			r = sc_inv_fail(m, pk ? line_of(pk) : line_of(v),
					"group '%s': unknown key '%s' (hosts, children, vars)",
					m->g[g].name, key);
	}
	return r;
}

/* _meta: {hostvars: {HOST: {VARS}}}. */
static int json_meta(struct model *m, yaml_document_t *doc, yaml_node_t *v)
{
	yaml_node_t *hv = NULL;

	if (v->type != YAML_MAPPING_NODE)
		return sc_inv_fail(m, line_of(v),
				   "_meta must be an object holding hostvars");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
	     p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, "hostvars"))
			hv = yaml_document_get_node(doc, p->value);
	}
	if (!hv || is_null(hv))
		return 0;
	if (hv->type != YAML_MAPPING_NODE)
		return sc_inv_fail(m, line_of(hv),
				   "_meta.hostvars must be an object of hosts");
	for (yaml_node_pair_t *p = hv->data.mapping.pairs.start;
	     p < hv->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *vars = yaml_document_get_node(doc, p->value);
		size_t *idx, count;
		int r;

		if (!k || !vars || k->type != YAML_SCALAR_NODE)
			return sc_inv_fail(m, line_of(hv),
					   "_meta.hostvars: a host's name is a word");
		r = sc_inv_add_hosts(m, (const char *)k->data.scalar.value, line_of(k),
				     false, -1, &idx, &count);
		for (size_t h = 0; r == 0 && h < count; h++)
			r = yaml_vars(m, doc, vars, m->h[idx[h]].vars,
				      "a host's variables");
		free(idx);
		if (r < 0)
			return r;
	}
	return 0;
}

static int json_root(struct model *m, yaml_document_t *doc, yaml_node_t *root)
{
	int r = 0;

	if (root->type != YAML_MAPPING_NODE)
		return sc_inv_fail(m, line_of(root),
				   "expected an object of groups and _meta");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     r == 0 && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return sc_inv_fail(m, line_of(root), "a group's name is a word");
		if (!strcmp((const char *)k->data.scalar.value, "_meta"))
			r = json_meta(m, doc, v);
		else
			r = json_group(m, doc, k, v);
	}
	return r;
}

static int yaml_group(struct model *m, yaml_document_t *doc, yaml_node_t *k,
		      yaml_node_t *v, int depth);

/* hosts: {PATTERN: VARS or null} of group g. */
static int yaml_hosts(struct model *m, yaml_document_t *doc, yaml_node_t *n, int g)
{
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return sc_inv_fail(m, line_of(n),
				   "group '%s': hosts must be a mapping (HOST: its variables, or "
				   "nothing)",
				   m->g[g].name);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		size_t *idx, count;
		int r;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return sc_inv_fail(m, line_of(n), "group '%s': a host is a word",
					   m->g[g].name);
		r = sc_inv_add_hosts(m, (const char *)k->data.scalar.value, line_of(k),
				     true, g, &idx, &count);
		for (size_t i = 0; r == 0 && i < count; i++)
			r = yaml_vars(m, doc, v, m->h[idx[i]].vars, "a host's variables");
		free(idx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* children: {GROUP: its definition or null} of group g. */
static int yaml_children(struct model *m, yaml_document_t *doc, yaml_node_t *n, int g,
			 int depth)
{
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return sc_inv_fail(m, line_of(n),
				   "group '%s': children must be a mapping of groups",
				   m->g[g].name);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		int r, c;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return sc_inv_fail(m, line_of(n),
					   "group '%s': a child group is a word",
					   m->g[g].name);
		c = sc_inv_group_get(m, (const char *)k->data.scalar.value, line_of(k));
		if (c < 0)
			return c;
		sc_inv_add_index(&m->g[g].children, &m->g[g].nchildren, (size_t)c);
		r = yaml_group(m, doc, k, v, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A group of the YAML form: null, or a mapping of hosts, children and vars. */
static int yaml_group(struct model *m, yaml_document_t *doc, yaml_node_t *k,
		      yaml_node_t *v, int depth)
{
	int g = sc_inv_group_get(m, (const char *)k->data.scalar.value, line_of(k)), r;

	if (g < 0)
		return g;
	r = visit(m, v, depth);
	if (r < 0 || is_null(v))
		return r;
	if (v->type != YAML_MAPPING_NODE)
		return sc_inv_fail(
			m, line_of(v),
			"group '%s' must be a mapping of hosts:, children: and vars:",
			m->g[g].name);
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
	     r == 0 && p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *pk = yaml_document_get_node(doc, p->key);
		yaml_node_t *pv = yaml_document_get_node(doc, p->value);
		const char *key = pk && pk->type == YAML_SCALAR_NODE
					  ? (const char *)pk->data.scalar.value
					  : "";

		if (!pv)
			return -EINVAL;
		if (!strcmp(key, "hosts"))
			r = yaml_hosts(m, doc, pv, g);
		else if (!strcmp(key, "children"))
			r = yaml_children(m, doc, pv, g, depth);
		else if (!strcmp(key, "vars"))
			r = yaml_vars(m, doc, pv, m->g[g].vars, "vars");
		else
			r = sc_inv_fail(m, pk ? line_of(pk) : line_of(v),
					"group '%s': unknown key '%s': a group holds hosts:, "
					"children: and vars: (Ansible skips it with a warning; "
					"move it under vars: or remove it)",
					m->g[g].name, key);
	}
	return r;
}

static int yaml_root(struct model *m, yaml_document_t *doc, yaml_node_t *root)
{
	int r = 0;

	if (is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return sc_inv_fail(m, line_of(root),
				   "expected a mapping of groups (all: ...)");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     r == 0 && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return sc_inv_fail(m, line_of(root), "a group's name is a word");
		r = yaml_group(m, doc, k, v, 0);
	}
	return r;
}

/* JSON or YAML: one document, loaded by libyaml, walked by its form's walker. */
int sc_inv_parse_doc(struct model *m, const char *buf, size_t len, bool json)
{
	yaml_parser_t parser;
	yaml_document_t doc, next;
	yaml_node_t *root;
	int r;

	if (!yaml_parser_initialize(&parser))
		sc_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = sc_inv_fail(m, parser.problem_mark.line + 1, "not valid %s: %s",
				json ? "JSON" : "YAML",
				parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		return r;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root)
		r = 0;
	else
		r = json ? json_root(m, &doc, root) : yaml_root(m, &doc, root);
	if (r == 0 && root) {
		if (!yaml_parser_load(&parser, &next)) {
			r = sc_inv_fail(m, parser.problem_mark.line + 1,
					"not valid %s: %s", json ? "JSON" : "YAML",
					parser.problem ? parser.problem : "?");
		} else {
			if (yaml_document_get_root_node(&next))
				r = sc_inv_fail(m, next.start_mark.line + 1,
						"a second document: an inventory is one");
			yaml_document_delete(&next);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}
