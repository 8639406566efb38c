/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ansible inventories (inventory.h): three readers (JSON and YAML through
 * libyaml's document loader, INI line by line) fill one model, groups with
 * their hosts, children and variables, and hosts with theirs; one resolver
 * then flattens the groups, applies the variables in Ansible's order and
 * checks what results. Every value keeps the line it was read from, so each
 * error names FILE:LINE.
 *
 * Allocation failures end the process (sc_strdupf, xrealloc: sc_oom), as
 * every stapcache string does.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/fsutil.h"
#include "common/parse.h"
#include "remote/inventory.h"

/* Nested groups deeper than this, or more visits than this, are refused. */
#define DEPTH_MAX 64
#define VISITS_MAX (1u << 20)

/* The variables read, each under its Ansible spellings. */
enum var_id { V_HOST, V_PORT, V_USER, V_CONN, V_RUNNER, V_ROOT, V_PRIORITY, V_N };

static const struct {
	const char *name;
	enum var_id id;
} var_names[] = {
	{"ansible_host", V_HOST},         {"ansible_ssh_host", V_HOST},
	{"ansible_port", V_PORT},         {"ansible_ssh_port", V_PORT},
	{"ansible_user", V_USER},         {"ansible_ssh_user", V_USER},
	{"ansible_connection", V_CONN},   {"stapcache_runner", V_RUNNER},
	{"stapcache_build_root", V_ROOT}, {"ansible_group_priority", V_PRIORITY},
};

/* The connections that are SSH (ansible_connection's values). */
static const char *const ssh_connections[] = {"ssh",
					      "smart",
					      "paramiko",
					      "paramiko_ssh",
					      "ansible.builtin.ssh",
					      "ansible.builtin.paramiko_ssh",
					      NULL};

struct var {
	char *value; /* NULL: not set here */
	size_t line;
	const char *spelled; /* the name it was set under, for messages */
};

/* Names to indexes (hosts, groups): open addressing, a slot's name borrowed. */
struct name_index {
	struct {
		const char *name;
		size_t i;
	} * v;
	size_t cap, n;
};

struct group {
	char *name;
	size_t line;
	size_t *children, nchildren;
	struct var vars[V_N];
	long priority;
	int depth;
	int state; /* cycle check: 0 new, 1 on the path, 2 done */
};

struct host {
	char *name;
	size_t line;
	size_t *groups, ngroups; /* the groups that list it */
	struct var vars[V_N];    /* "HOST:PORT" sets V_PORT as a host variable */
};

struct model {
	const char *file;
	struct group *g;
	size_t ng;
	struct host *h;
	size_t nh;
	struct name_index gx, hx;
	size_t visits;
	struct sc_error *err;
};

static void *xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		sc_oom();
	p = realloc(p, n && size ? n * size : 1);
	if (!p)
		sc_oom();
	return p;
}

static void vars_clear(struct var *v)
{
	for (int i = 0; i < V_N; i++)
		free(v[i].value);
}

static void model_clear(struct model *m)
{
	for (size_t i = 0; i < m->ng; i++) {
		free(m->g[i].name);
		free(m->g[i].children);
		vars_clear(m->g[i].vars);
	}
	for (size_t i = 0; i < m->nh; i++) {
		free(m->h[i].name);
		free(m->h[i].groups);
		vars_clear(m->h[i].vars);
	}
	free(m->g);
	free(m->h);
	free(m->gx.v);
	free(m->hx.v);
}

/* An error at line (1-based) of the file: always -EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(struct model *m, size_t line,
						      const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = sc_vstrdupf(fmt, ap);
	va_end(ap);
	sc_error_set(m->err, "%s:%zu: %s", m->file, line, msg);
	free(msg);
	return -EINVAL;
}

/* s for a message: at most 80 bytes, anything not printable ASCII as '?'. */
static const char *shown(const char *s, char buf[84])
{
	size_t i;

	for (i = 0; i < 80 && s[i]; i++)
		buf[i] = s[i] < 0x20 || s[i] > 0x7e ? '?' : s[i];
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

/* Only printable ASCII: what known_hosts holds (targets.c set_field). */
static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* FNV-1a. */
static size_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (size_t)h;
}

/* The index of name in x, or -1. */
static long ix_find(const struct name_index *x, const char *name)
{
	for (size_t h = x->cap ? name_hash(name) & (x->cap - 1) : 0; x->cap;
	     h = (h + 1) & (x->cap - 1)) {
		if (!x->v[h].name)
			return -1;
		if (!strcmp(x->v[h].name, name))
			return (long)x->v[h].i;
	}
	return -1;
}

static void ix_put(struct name_index *x, const char *name, size_t i)
{
	size_t h;

	if ((x->n + 1) * 2 > x->cap) { /* at most half full: lookups stay short */
		struct name_index big = {.cap = x->cap ? x->cap * 2 : 64};

		big.v = xrealloc(NULL, big.cap, sizeof(*big.v));
		memset(big.v, 0, big.cap * sizeof(*big.v));
		for (size_t j = 0; j < x->cap; j++)
			if (x->v[j].name)
				ix_put(&big, x->v[j].name, x->v[j].i);
		free(x->v);
		*x = big;
	}
	for (h = name_hash(name) & (x->cap - 1); x->v[h].name; h = (h + 1) & (x->cap - 1))
		;
	x->v[h].name = name;
	x->v[h].i = i;
	x->n++;
}

static int find_group(const struct model *m, const char *name)
{
	return (int)ix_find(&m->gx, name);
}

/* The group called name, made when new. Returns its index or -EINVAL. */
static int group_get(struct model *m, const char *name, size_t line)
{
	char v[84];
	int i = find_group(m, name);

	if (i >= 0 && (size_t)i < m->ng) /* found (the bound for the analyzers) */
		return i;
	if (!sc_target_name_ok(name))
		return fail(m, line,
			    "group '%s' cannot be a stapcache group (1-64 letters, "
			    "digits, '_', '.', '-', first a letter, digit or '_'): rename "
			    "it in the inventory",
			    shown(name, v));
	if (m->ng >= (size_t)1 << 20)
		return fail(m, line, "too many groups");
	m->g = xrealloc(m->g, m->ng + 1, sizeof(*m->g));
	memset(&m->g[m->ng], 0, sizeof(*m->g));
	m->g[m->ng].name = sc_strdupf("%s", name);
	m->g[m->ng].line = line;
	m->g[m->ng].priority = 1;
	ix_put(&m->gx, m->g[m->ng].name, m->ng);
	return (int)m->ng++;
}

/* The host called name, made when new. Returns its index or -EINVAL. */
static long host_get(struct model *m, const char *name, size_t line)
{
	char v[84];
	long i = ix_find(&m->hx, name);

	if (i >= 0 && (size_t)i < m->nh) /* found (the bound for the analyzers) */
		return i;
	if (!sc_target_name_ok(name))
		return fail(m, line,
			    "host '%s' cannot be a stapcache target name (1-64 letters, "
			    "digits, '_', '.', '-', first a letter, digit or '_'): give "
			    "it such a name in the inventory and its address as "
			    "ansible_host",
			    shown(name, v));
	if (m->nh >= SC_INVENTORY_HOSTS_MAX)
		return fail(m, line, "more than %d hosts", SC_INVENTORY_HOSTS_MAX);
	m->h = xrealloc(m->h, m->nh + 1, sizeof(*m->h));
	memset(&m->h[m->nh], 0, sizeof(*m->h));
	m->h[m->nh].name = sc_strdupf("%s", name);
	m->h[m->nh].line = line;
	ix_put(&m->hx, m->h[m->nh].name, m->nh);
	return (long)m->nh++;
}

static void add_index(size_t **v, size_t *n, size_t i)
{
	for (size_t j = 0; j < *n; j++)
		if ((*v)[j] == i)
			return;
	*v = xrealloc(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = i;
}

/* key = value at line into vars, when key is one of the variables read. */
static int set_var(struct model *m, struct var *vars, const char *key, const char *value,
		   size_t line)
{
	char v[84];

	for (size_t i = 0; i < sizeof(var_names) / sizeof(var_names[0]); i++) {
		struct var *slot = &vars[var_names[i].id];

		if (strcmp(key, var_names[i].name) != 0)
			continue;
		if (strstr(value, "{{") || strstr(value, "{%"))
			return fail(m, line,
				    "%s '%s' is a Jinja template; stapcache does not "
				    "evaluate templates: give the value itself",
				    key, shown(value, v));
		free(slot->value);
		slot->value = sc_strdupf("%s", value);
		slot->line = line;
		slot->spelled = var_names[i].name;
		return 0;
	}
	return 0;
}

/* ---------------------------------------------------------- host patterns */

/* One "[BEG:END[:STEP]]" range at p (after '['), into its items. */
static int range_items(struct model *m, const char *p, size_t n, size_t line,
		       char ***items, size_t *nitems)
{
	static const char letters[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char *spec = sc_strdupf("%.*s", (int)n, p), *beg, *end, *step, *save = NULL;
	long b, e, s = 1;
	int r = -EINVAL, width = 0;
	bool alpha;

	beg = spec[0] == ':' ? "" : strtok_r(spec, ":", &save);
	end = strtok_r(beg[0] ? NULL : spec, ":", &save);
	step = end ? strtok_r(NULL, ":", &save) : NULL;
	if (!end || (step && strtok_r(NULL, ":", &save))) {
		r = fail(m, line,
			 "host range '[%s]': expected [BEGIN:END] or [BEGIN:END:STEP]",
			 spec);
		goto out;
	}
	if (!*beg)
		beg = "0";
	alpha = isalpha((unsigned char)beg[0]);
	if (alpha) {
		const char *pb = strchr(letters, beg[0]), *pe = strchr(letters, end[0]);

		if (beg[1] || end[1] || !pe || !isalpha((unsigned char)end[0])) {
			r = fail(m, line,
				 "host range '[%.*s]': letters are one letter each",
				 (int)n, p);
			goto out;
		}
		b = pb - letters;
		e = pe - letters;
	} else {
		struct sc_error e1 = {{0}};

		if (sc_parse_int("begin", beg, 0, 999999999, &b, &e1) < 0 ||
		    sc_parse_int("end", end, 0, 999999999, &e, &e1) < 0) {
			r = fail(m, line, "host range '[%.*s]': %s", (int)n, p, e1.msg);
			goto out;
		}
		if (beg[0] == '0' && beg[1]) {
			if (strlen(beg) != strlen(end)) {
				r = fail(m, line,
					 "host range '[%.*s]': a zero-padded begin and its "
					 "end must have the same length",
					 (int)n, p);
				goto out;
			}
			width = (int)strlen(beg);
		}
	}
	if (step) {
		struct sc_error e1 = {{0}};

		if (sc_parse_int("step", step, 1, 999999999, &s, &e1) < 0) {
			r = fail(m, line, "host range '[%.*s]': %s", (int)n, p, e1.msg);
			goto out;
		}
	}
	if (b > e) {
		r = fail(m, line, "host range '[%.*s]': its begin is after its end",
			 (int)n, p);
		goto out;
	}
	if ((e - b) / s + 1 > SC_INVENTORY_RANGE_MAX) {
		r = fail(m, line, "host range '[%.*s]': more than %d hosts", (int)n, p,
			 SC_INVENTORY_RANGE_MAX);
		goto out;
	}
	for (long i = b; i <= e; i += s) {
		*items = xrealloc(*items, *nitems + 1, sizeof(**items));
		(*items)[(*nitems)++] = alpha ? sc_strdupf("%c", letters[i])
					      : sc_strdupf("%0*ld", width, i);
	}
	r = 0;
out:
	free(spec);
	return r;
}

/*
 * A host pattern's names ("web[01:03].example.com" has three), appended to
 * *names. Returns 0, or -EINVAL when it is malformed or expands to more
 * than SC_INVENTORY_RANGE_MAX hosts.
 */
static int expand(struct model *m, const char *pat, size_t line, char ***names, size_t *n)
{
	const char *open = strchr(pat, '['), *close;
	char **items = NULL;
	size_t nitems = 0;
	int r;

	if (!open) {
		if (*n >= SC_INVENTORY_RANGE_MAX)
			return fail(m, line, "host pattern '%s': more than %d hosts", pat,
				    SC_INVENTORY_RANGE_MAX);
		*names = xrealloc(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = sc_strdupf("%s", pat);
		return 0;
	}
	close = strchr(open, ']');
	if (!close)
		return fail(m, line, "host pattern '%s': a '[' without its ']'", pat);
	r = range_items(m, open + 1, (size_t)(close - open - 1), line, &items, &nitems);
	for (size_t i = 0; i < nitems; i++) {
		char *one = sc_strdupf("%.*s%s%s", (int)(open - pat), pat, items[i],
				       close + 1);

		if (r == 0)
			r = expand(m, one, line, names, n);
		free(one);
		free(items[i]);
	}
	free(items);
	return r;
}

/*
 * A host pattern: its names (expanded when ranges allows) and ":PORT" after
 * it, each host made and, when group >= 0, put in that group. Their
 * indexes (for their variables) go to *idx (caller frees), *count of them.
 */
static int add_hosts(struct model *m, const char *pattern, size_t line, bool ranges,
		     int group, size_t **idx, size_t *count)
{
	char *pat = sc_strdupf("%s", pattern), *colon = strrchr(pat, ':'), **names = NULL;
	size_t n = 0;
	long port = 0;
	int r = 0;

	if (colon && !strchr(colon, ']') && colon[1] &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    !memchr(pat, ':', colon - pat)) {
		struct sc_error e1 = {{0}};

		if (sc_parse_int("port", colon + 1, 1, 65535, &port, &e1) < 0)
			r = fail(m, line, "host '%s': %s", pattern, e1.msg);
		*colon = '\0';
	}
	if (r == 0 && ranges)
		r = expand(m, pat, line, &names, &n);
	else if (r == 0) {
		names = xrealloc(NULL, 1, sizeof(*names));
		names[n++] = sc_strdupf("%s", pat);
	}
	*idx = NULL;
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		long h = r == 0 ? host_get(m, names[i], line) : -1;

		free(names[i]);
		if (h < 0) {
			r = r ? r : (int)h;
			continue;
		}
		if (port) {
			struct var *v = &m->h[h].vars[V_PORT];

			free(v->value);
			v->value = sc_strdupf("%ld", port);
			v->line = line;
			v->spelled = "HOST:PORT";
		}
		if (group >= 0)
			add_index(&m->h[h].groups, &m->h[h].ngroups, (size_t)group);
		*idx = xrealloc(*idx, *count + 1, sizeof(**idx));
		(*idx)[(*count)++] = (size_t)h;
	}
	free(names);
	free(pat);
	return r;
}

/* ------------------------------------------------------- JSON and YAML */

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
		return fail(m, line_of(n), "the inventory's aliases expand too far");
	if (depth > DEPTH_MAX)
		return fail(m, line_of(n), "groups nested more than %d deep", DEPTH_MAX);
	return 0;
}

/* A vars mapping (NULL node or null: none) into vars. */
static int yaml_vars(struct model *m, yaml_document_t *doc, yaml_node_t *n,
		     struct var *vars, const char *what)
{
	if (!n || is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail(m, line_of(n), "%s must be a mapping of variables", what);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *key;
		int r;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return fail(m, n ? line_of(n) : 0,
				    "%s: a variable's name is a word", what);
		key = (const char *)k->data.scalar.value;
		if (is_null(v))
			continue;
		if (v->type != YAML_SCALAR_NODE) { /* a list or a mapping: not one read */
			for (size_t i = 0; i < sizeof(var_names) / sizeof(var_names[0]);
			     i++)
				if (!strcmp(key, var_names[i].name))
					return fail(m, line_of(k),
						    "%s must be a single value", key);
			continue;
		}
		r = set_var(m, vars, key, (const char *)v->data.scalar.value, line_of(k));
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
		return fail(m, line_of(n), "'%s' must be a list of names", what);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(doc, *it);
		size_t *idx, count;
		int r;

		if (!v || v->type != YAML_SCALAR_NODE)
			return fail(m, line_of(n), "'%s' must be a list of names", what);
		if (hosts) {
			r = add_hosts(m, (const char *)v->data.scalar.value, line_of(v),
				      false, group, &idx, &count);
			free(idx);
		} else {
			r = group_get(m, (const char *)v->data.scalar.value, line_of(v));
			if (r >= 0)
				add_index(&m->g[group].children, &m->g[group].nchildren,
					  (size_t)r);
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
	int g = group_get(m, (const char *)k->data.scalar.value, line_of(k)), r = 0;

	if (g < 0)
		return g;
	if (v->type == YAML_SEQUENCE_NODE || is_null(v))
		return yaml_names(m, doc, v, "hosts", g, true);
	if (v->type != YAML_MAPPING_NODE)
		return fail(m, line_of(v),
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
			r = fail(m, pk ? line_of(pk) : line_of(v),
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
		return fail(m, line_of(v), "_meta must be an object holding hostvars");
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
		return fail(m, line_of(hv), "_meta.hostvars must be an object of hosts");
	for (yaml_node_pair_t *p = hv->data.mapping.pairs.start;
	     p < hv->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *vars = yaml_document_get_node(doc, p->value);
		size_t *idx, count;
		int r;

		if (!k || !vars || k->type != YAML_SCALAR_NODE)
			return fail(m, line_of(hv),
				    "_meta.hostvars: a host's name is a word");
		r = add_hosts(m, (const char *)k->data.scalar.value, line_of(k), false,
			      -1, &idx, &count);
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
		return fail(m, line_of(root), "expected an object of groups and _meta");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     r == 0 && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return fail(m, line_of(root), "a group's name is a word");
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
		return fail(m, line_of(n),
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
			return fail(m, line_of(n), "group '%s': a host is a word",
				    m->g[g].name);
		r = add_hosts(m, (const char *)k->data.scalar.value, line_of(k), true, g,
			      &idx, &count);
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
		return fail(m, line_of(n),
			    "group '%s': children must be a mapping of groups",
			    m->g[g].name);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		int r, c;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return fail(m, line_of(n), "group '%s': a child group is a word",
				    m->g[g].name);
		c = group_get(m, (const char *)k->data.scalar.value, line_of(k));
		if (c < 0)
			return c;
		add_index(&m->g[g].children, &m->g[g].nchildren, (size_t)c);
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
	int g = group_get(m, (const char *)k->data.scalar.value, line_of(k)), r;

	if (g < 0)
		return g;
	r = visit(m, v, depth);
	if (r < 0 || is_null(v))
		return r;
	if (v->type != YAML_MAPPING_NODE)
		return fail(m, line_of(v),
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
			r = fail(m, pk ? line_of(pk) : line_of(v),
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
		return fail(m, line_of(root), "expected a mapping of groups (all: ...)");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     r == 0 && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return fail(m, line_of(root), "a group's name is a word");
		r = yaml_group(m, doc, k, v, 0);
	}
	return r;
}

/* JSON or YAML: one document, loaded by libyaml, walked by its form's walker. */
static int parse_doc(struct model *m, const char *buf, size_t len, bool json)
{
	yaml_parser_t parser;
	yaml_document_t doc, next;
	yaml_node_t *root;
	int r;

	if (!yaml_parser_initialize(&parser))
		sc_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = fail(m, parser.problem_mark.line + 1, "not valid %s: %s",
			 json ? "JSON" : "YAML", parser.problem ? parser.problem : "?");
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
			r = fail(m, parser.problem_mark.line + 1, "not valid %s: %s",
				 json ? "JSON" : "YAML",
				 parser.problem ? parser.problem : "?");
		} else {
			if (yaml_document_get_root_node(&next))
				r = fail(m, next.start_mark.line + 1,
					 "a second document: an inventory is one");
			yaml_document_delete(&next);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}

/* ------------------------------------------------------------------ INI */

enum ini_section { INI_HOSTS, INI_CHILDREN, INI_VARS };

/*
 * A host line's words, split as Ansible's shlex does: blanks between words,
 * '...' and "..." quote (a backslash escapes " and \ inside "..."), a
 * backslash escapes the next character, '#' at a word's start ends the line.
 * The words are in one buffer, *buf (caller frees both).
 */
static int ini_words(struct model *m, const char *s, size_t line, char **buf,
		     char ***words, size_t *n)
{
	char *out = xrealloc(NULL, strlen(s) + 1, 1), *w = NULL;
	size_t o = 0;

	*n = 0;
	*words = NULL;
	*buf = out;
	for (;;) {
		char c = *s;

		if (!w && (c == ' ' || c == '\t')) {
			s++;
			continue;
		}
		if (!w && (c == '\0' || c == '#'))
			return 0;
		if (!w) {
			w = out + o;
			*words = xrealloc(*words, *n + 1, sizeof(**words));
			(*words)[(*n)++] = w;
		}
		if (c == '\0' || c == ' ' || c == '\t') {
			out[o++] = '\0';
			w = NULL;
			continue;
		}
		s++;
		if (c == '\\' && *s) {
			out[o++] = *s++;
		} else if (c == '\'' || c == '"') {
			while (*s && *s != c) {
				if (c == '"' && *s == '\\' &&
				    (s[1] == '"' || s[1] == '\\'))
					s++;
				out[o++] = *s++;
			}
			if (!*s)
				return fail(m, line, "a %c quote without its end", c);
			s++;
		} else {
			out[o++] = c;
		}
	}
}

/* "[name]", "[name:vars]", "[name:children]" (a comment may follow). */
static int ini_header(struct model *m, char *s, size_t line, enum ini_section *kind,
		      int *g)
{
	char *end = strchr(s, ']'), *colon, *rest;

	if (!end)
		return fail(m, line, "a section header '[' without its ']'");
	rest = end + 1 + strspn(end + 1, " \t");
	if (*rest && *rest != '#' && *rest != ';')
		return fail(m, line, "text after a section header's ']'");
	*end = '\0';
	colon = strchr(s + 1, ':');
	*kind = INI_HOSTS;
	if (colon) {
		*colon = '\0';
		if (!strcmp(colon + 1, "vars"))
			*kind = INI_VARS;
		else if (!strcmp(colon + 1, "children"))
			*kind = INI_CHILDREN;
		else
			return fail(m, line,
				    "section [%s:%s]: expected [GROUP], [GROUP:vars] or "
				    "[GROUP:children]",
				    s + 1, colon + 1);
	}
	*g = group_get(m, s + 1, line);
	return *g < 0 ? *g : 0;
}

/* "key=value" of a [group:vars] section (blanks around '=', quotes around the value). */
static int ini_var(struct model *m, char *s, size_t line, int g)
{
	char *eq = strchr(s, '='), *k = s, *v, *e;
	size_t n;

	if (!eq)
		return fail(m, line, "expected key=value in [%s:vars]", m->g[g].name);
	*eq = '\0';
	for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = '\0';
	v = eq + 1 + strspn(eq + 1, " \t");
	n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		v++;
	}
	return set_var(m, m->g[g].vars, k, v, line);
}

/* "PATTERN [key=value]..." of a [group] section (g < 0: ungrouped). */
static int ini_host(struct model *m, const char *s, size_t line, int g)
{
	char *buf, **w;
	size_t n, *idx = NULL, count = 0;
	int r = ini_words(m, s, line, &buf, &w, &n);

	if (r == 0 && n > 0)
		r = add_hosts(m, w[0], line, true, g, &idx, &count);
	for (size_t i = 1; r == 0 && i < n; i++) {
		char *eq = strchr(w[i], '=');

		if (!eq || eq == w[i]) {
			r = fail(m, line,
				 "'%s': expected key=value after the host (quote a value "
				 "holding blanks)",
				 w[i]);
			break;
		}
		*eq = '\0';
		for (size_t h = 0; r == 0 && h < count; h++)
			r = set_var(m, m->h[idx[h]].vars, w[i], eq + 1, line);
	}
	free(idx);
	free(w);
	free(buf);
	return r;
}

static int parse_ini(struct model *m, const char *buf, size_t len)
{
	enum ini_section kind = INI_HOSTS;
	size_t line = 0, i = 0;
	int g = group_get(m, "ungrouped", 1), r = 0;

	while (r == 0 && i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
		char *s = sc_strdupf("%.*s", (int)n, buf + i), *p = s, *e;

		line++;
		i += n + 1;
		p += strspn(p, " \t");
		e = p + strlen(p);
		while (e > p && strchr(" \t\r", e[-1]))
			*--e = '\0';
		if (!*p || *p == '#' || *p == ';')
			;
		else if (*p == '[')
			r = ini_header(m, p, line, &kind, &g);
		else if (kind == INI_VARS)
			r = ini_var(m, p, line, g);
		else if (kind == INI_HOSTS)
			r = ini_host(m, p, line, g);
		else {
			int c;

			e = strchr(p, '#');
			if (e)
				*e = '\0';
			p[strcspn(p, " \t")] = '\0';
			c = group_get(m, p, line);
			if (c >= 0)
				add_index(&m->g[g].children, &m->g[g].nchildren,
					  (size_t)c);
			r = c < 0 ? c : 0;
		}
		free(s);
	}
	return r;
}

/* ------------------------------------------------------------- resolving */

/* Depth-first over children: a cycle or a too deep nesting is refused; order gets the postorder. */
static int walk_children(struct model *m, size_t g, int depth, size_t *order,
			 size_t *norder)
{
	struct group *gr = &m->g[g];

	if (gr->state == 2)
		return 0;
	if (gr->state == 1)
		return fail(m, gr->line,
			    "group '%s' is among its own children: remove one of the "
			    "children: entries that lead back to it",
			    gr->name);
	if (depth > DEPTH_MAX)
		return fail(m, gr->line, "groups nested more than %d deep", DEPTH_MAX);
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
	size_t *order = xrealloc(NULL, m->ng + 1, sizeof(*order)), norder = 0;
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
			r = fail(m, p->line, "%s", e1.msg);
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
	int all = find_group(m, "all");

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

	if (v[V_RUNNER].value) {
		for (n = 0; n < 3 &&
			    strcmp(v[V_RUNNER].value, sc_runner_name((enum sc_runner)n));
		     n++)
			;
		if (n == 3)
			return fail(m, v[V_RUNNER].line,
				    "stapcache_runner '%s': auth, sudo or direct",
				    shown(v[V_RUNNER].value, vb));
		runner = (enum sc_runner)n;
	}
	if (v[V_PORT].value) {
		if (sc_parse_int(v[V_PORT].spelled, v[V_PORT].value, 1, 65535, &n, &e1) <
		    0)
			return fail(m, v[V_PORT].line, "host %s: %s", h->name, e1.msg);
		port = sc_strdupf(":%ld", n);
	}
	if (v[V_USER].value) {
		probe = sc_strdupf("ssh:%s@h:auth", v[V_USER].value);
		r = sc_execute_parse(probe, &ex, &e1);
		free(probe);
		sc_execute_clear(&ex);
		if (r < 0) {
			free(port);
			return fail(m, v[V_USER].line,
				    "host %s: %s '%s' cannot be an SSH user here (letters, "
				    "digits, '.', '_', '-')",
				    h->name, v[V_USER].spelled,
				    shown(v[V_USER].value, vb));
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
		return fail(m, aline,
			    "host %s: address '%s' is not a host name or an IP address "
			    "(from %s)",
			    h->name, shown(addr, vb),
			    v[V_HOST].value ? v[V_HOST].spelled : "its inventory name");
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
	out->groups = xrealloc(NULL, ngs + 1, sizeof(*out->groups));
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
					   shown(v[V_CONN].value, vb), m->file,
					   v[V_CONN].line);
			return 0;
		}
	}
	if (v[V_ROOT].value && (v[V_ROOT].value[0] != '/' || !printable(v[V_ROOT].value)))
		return fail(m, v[V_ROOT].line,
			    "host %s: stapcache_build_root '%s' must be an absolute directory "
			    "(printable ASCII)",
			    ho->name, shown(v[V_ROOT].value, vb));
	if (v[V_ROOT].value)
		out->build_root = sc_strdupf("%s", v[V_ROOT].value);
	r = host_execute(m, ho, v, runner, &out->execute);
	return r;
}

static int resolve(struct model *m, enum sc_runner runner, struct sc_inventory *inv)
{
	size_t **parents = xrealloc(NULL, m->ng + 1, sizeof(*parents));
	size_t *nparents = xrealloc(NULL, m->ng + 1, sizeof(*nparents));
	size_t *gs = xrealloc(NULL, m->ng + 1, sizeof(*gs));
	size_t *mark = xrealloc(NULL, m->ng + 1, sizeof(*mark));
	int r = group_depths(m);

	memset(mark, 0, (m->ng + 1) * sizeof(*mark));
	memset(parents, 0, (m->ng + 1) * sizeof(*parents));
	memset(nparents, 0, (m->ng + 1) * sizeof(*nparents));
	for (size_t g = 0; g < m->ng; g++)
		for (size_t i = 0; i < m->g[g].nchildren; i++)
			add_index(&parents[m->g[g].children[i]],
				  &nparents[m->g[g].children[i]], g);
	inv->v = xrealloc(NULL, m->nh + 1, sizeof(*inv->v));
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
	struct sc_inventory *inv = xrealloc(NULL, 1, sizeof(*inv));
	int r;

	memset(inv, 0, sizeof(*inv));
	inv->format = detect(buf, len);
	if (memchr(buf, '\0', len)) {
		sc_error_set(err, "%s: holds a NUL byte: not an inventory", name);
		r = -EINVAL;
	} else if (inv->format == SC_INVENTORY_INI) {
		r = parse_ini(&m, buf, len);
	} else {
		r = parse_doc(&m, buf, len, inv->format == SC_INVENTORY_JSON);
	}
	if (r == 0)
		r = resolve(&m, runner, inv);
	if (r == 0 && inv->n == 0) {
		sc_error_set(err,
			     "%s: no hosts in it (read as %s): is it an Ansible inventory?",
			     name, sc_inventory_format_name(inv->format));
		r = -EINVAL;
	}
	model_clear(&m);
	if (r < 0) {
		sc_inventory_free(inv);
		return r;
	}
	*out = inv;
	return 0;
}
