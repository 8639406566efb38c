/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inventory model (inventory-model.h): groups and hosts found by name
 * through a hash index, the variables read, and host patterns: ranges
 * ("web[01:03]", "[a:c]", "[1:9:2]") expanded as Ansible expands them and
 * "HOST:PORT".
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/parse.h"
#include "remote/inventory-model.h"
#include "remote/inventory.h"
#include "remote/targets.h"

/* The variables read, each under its Ansible spellings. */
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

void *sc_inv_room(void *p, size_t n, size_t size)
{
	/* The capacity is implied by n: 4, then each power of two doubled. */
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0))
		return sc_inv_xrealloc(p, n ? 2 * n : 4, size);
	return p;
}

void *sc_inv_xrealloc(void *p, size_t n, size_t size)
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

void sc_inv_model_clear(struct model *m)
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
int sc_inv_fail(struct model *m, size_t line, const char *fmt, ...)
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
const char *sc_inv_shown(const char *s, char buf[84])
{
	size_t i;

	for (i = 0; i < 80 && s[i]; i++)
		buf[i] = s[i] < 0x20 || s[i] > 0x7e ? '?' : s[i];
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

/* Only printable ASCII: what known_hosts holds (targets.c set_field). */
bool sc_inv_printable(const char *s)
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

		big.v = calloc(big.cap, sizeof(*big.v));
		if (!big.v)
			sc_oom();
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

int sc_inv_find_group(const struct model *m, const char *name)
{
	return (int)ix_find(&m->gx, name);
}

/* The group called name, made when new. Returns its index or -EINVAL. */
int sc_inv_group_get(struct model *m, const char *name, size_t line)
{
	char v[84];
	int i = sc_inv_find_group(m, name);

	if (i >= 0 && (size_t)i < m->ng) /* found (the bound for the analyzers) */
		return i;
	if (!sc_target_name_ok(name))
		return sc_inv_fail(m, line,
				   "group '%s' cannot be a stapcache group (1-64 letters, "
				   "digits, '_', '.', '-', first a letter, digit or '_'): rename "
				   "it in the inventory",
				   sc_inv_shown(name, v));
	if (m->ng >= (size_t)1 << 20)
		return sc_inv_fail(m, line, "too many groups");
	m->g = sc_inv_room(m->g, m->ng, sizeof(*m->g));
	memset(&m->g[m->ng], 0, sizeof(*m->g));
	m->g[m->ng].name = sc_strdupf("%s", name);
	m->g[m->ng].line = line;
	m->g[m->ng].priority = 1;
	ix_put(&m->gx, m->g[m->ng].name, m->ng);
	return (int)m->ng++;
}

/* The host called name, made when new. Returns its index or -EINVAL. */
long sc_inv_host_get(struct model *m, const char *name, size_t line)
{
	char v[84];
	long i = ix_find(&m->hx, name);

	if (i >= 0 && (size_t)i < m->nh) /* found (the bound for the analyzers) */
		return i;
	if (!sc_target_name_ok(name))
		return sc_inv_fail(
			m, line,
			"host '%s' cannot be a stapcache target name (1-64 letters, "
			"digits, '_', '.', '-', first a letter, digit or '_'): give "
			"it such a name in the inventory and its address as "
			"ansible_host",
			sc_inv_shown(name, v));
	if (m->nh >= SC_INVENTORY_HOSTS_MAX)
		return sc_inv_fail(m, line, "more than %d hosts", SC_INVENTORY_HOSTS_MAX);
	m->h = sc_inv_room(m->h, m->nh, sizeof(*m->h));
	memset(&m->h[m->nh], 0, sizeof(*m->h));
	m->h[m->nh].name = sc_strdupf("%s", name);
	m->h[m->nh].line = line;
	ix_put(&m->hx, m->h[m->nh].name, m->nh);
	return (long)m->nh++;
}

void sc_inv_add_index(size_t **v, size_t *n, size_t i)
{
	for (size_t j = 0; j < *n; j++)
		if ((*v)[j] == i)
			return;
	*v = sc_inv_room(*v, *n, sizeof(**v));
	(*v)[(*n)++] = i;
}

/* key = value at line into vars, when key is one of the variables read. */
int sc_inv_set_var(struct model *m, struct var *vars, const char *key, const char *value,
		   size_t line)
{
	char v[84];

	for (size_t i = 0; i < sizeof(var_names) / sizeof(var_names[0]); i++) {
		struct var *slot = &vars[var_names[i].id];

		if (strcmp(key, var_names[i].name) != 0)
			continue;
		if (!value)
			return sc_inv_fail(m, line, "%s must be a single value", key);
		if (strstr(value, "{{") || strstr(value, "{%"))
			return sc_inv_fail(m, line,
					   "%s '%s' is a Jinja template; stapcache does not "
					   "evaluate templates: give the value itself",
					   key, sc_inv_shown(value, v));
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
	char *spec = sc_strdupf("%.*s", (int)n, p), *f[3] = {spec, NULL, NULL}, *beg,
	     *end, *step;
	long b, e, s = 1;
	int r = -EINVAL, width = 0, nf = 1;
	bool alpha;

	for (char *c = spec; *c && nf <= 3; c++)
		if (*c == ':') {
			*c = '\0';
			if (nf < 3)
				f[nf] = c + 1;
			nf++;
		}
	beg = f[0];
	end = f[1];
	step = f[2];
	if (nf > 3 || !end || !*end || (step && !*step)) {
		r = sc_inv_fail(m, line,
				"host range '[%.*s]': expected [BEGIN:END] or "
				"[BEGIN:END:STEP]",
				(int)n, p);
		goto out;
	}
	if (!*beg)
		beg = "0";
	alpha = isalpha((unsigned char)beg[0]);
	if (alpha) {
		const char *pb = strchr(letters, beg[0]), *pe = strchr(letters, end[0]);

		if (beg[1] || end[1] || !pe || !isalpha((unsigned char)end[0])) {
			r = sc_inv_fail(m, line,
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
			r = sc_inv_fail(m, line, "host range '[%.*s]': %s", (int)n, p,
					e1.msg);
			goto out;
		}
		if (beg[0] == '0' && beg[1]) {
			if (strlen(beg) != strlen(end)) {
				r = sc_inv_fail(m, line,
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
			r = sc_inv_fail(m, line, "host range '[%.*s]': %s", (int)n, p,
					e1.msg);
			goto out;
		}
	}
	if (b > e) {
		r = sc_inv_fail(m, line,
				"host range '[%.*s]': its begin is after its end", (int)n,
				p);
		goto out;
	}
	if ((e - b) / s + 1 > SC_INVENTORY_RANGE_MAX) {
		r = sc_inv_fail(m, line, "host range '[%.*s]': more than %d hosts",
				(int)n, p, SC_INVENTORY_RANGE_MAX);
		goto out;
	}
	for (long i = b; i <= e; i += s) {
		*items = sc_inv_room(*items, *nitems, sizeof(**items));
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
			return sc_inv_fail(m, line,
					   "host pattern '%s': more than %d hosts", pat,
					   SC_INVENTORY_RANGE_MAX);
		*names = sc_inv_room(*names, *n, sizeof(**names));
		(*names)[(*n)++] = sc_strdupf("%s", pat);
		return 0;
	}
	close = strchr(open, ']');
	if (!close)
		return sc_inv_fail(m, line, "host pattern '%s': a '[' without its ']'",
				   pat);
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
int sc_inv_add_hosts(struct model *m, const char *pattern, size_t line, bool ranges,
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
			r = sc_inv_fail(m, line, "host '%s': %s", pattern, e1.msg);
		*colon = '\0';
	}
	if (r == 0 && ranges)
		r = expand(m, pat, line, &names, &n);
	else if (r == 0) {
		names = sc_inv_room(NULL, 0, sizeof(*names));
		names[n++] = sc_strdupf("%s", pat);
	}
	*idx = NULL;
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		long h = r == 0 ? sc_inv_host_get(m, names[i], line) : -1;

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
			sc_inv_add_index(&m->h[h].groups, &m->h[h].ngroups,
					 (size_t)group);
		*idx = sc_inv_room(*idx, *count, sizeof(**idx));
		(*idx)[(*count)++] = (size_t)h;
	}
	free(names);
	free(pat);
	return r;
}
