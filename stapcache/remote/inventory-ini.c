/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The INI form of an Ansible inventory (inventory.h), line by line:
 * "[group]", "[group:children]", "[group:vars]" sections, host lines split
 * into words as Ansible's shlex splits them, hosts before the first
 * section ungrouped.
 */
#include "build-config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "remote/inventory-model.h"

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
	char *out = sc_inv_xrealloc(NULL, strlen(s) + 1, 1);
	size_t o = 0;
	bool in_word = false;

	*n = 0;
	*words = NULL;
	*buf = out;
	for (;;) {
		char c = *s;

		if (!in_word && (c == ' ' || c == '\t')) {
			s++;
			continue;
		}
		if (!in_word && (c == '\0' || c == '#'))
			return 0;
		if (!in_word) {
			in_word = true;
			*words = sc_inv_room(*words, *n, sizeof(**words));
			(*words)[(*n)++] = out + o;
		}
		if (c == '\0' || c == ' ' || c == '\t') {
			out[o++] = '\0';
			in_word = false;
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
				return sc_inv_fail(m, line, "a %c quote without its end",
						   c);
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
		return sc_inv_fail(m, line, "a section header '[' without its ']'");
	rest = end + 1 + strspn(end + 1, " \t");
	if (*rest && *rest != '#' && *rest != ';')
		return sc_inv_fail(m, line, "text after a section header's ']'");
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
			return sc_inv_fail(m, line,
					   "section [%s:%s]: expected [GROUP], [GROUP:vars] or "
					   "[GROUP:children]",
					   s + 1, colon + 1);
	}
	*g = sc_inv_group_get(m, s + 1, line);
	return *g < 0 ? *g : 0;
}

/* "key=value" of a [group:vars] section (blanks around '=', quotes around the value). */
static int ini_var(struct model *m, char *s, size_t line, int g)
{
	char *eq = strchr(s, '='), *k = s, *v, *e;
	size_t n;

	if (!eq)
		return sc_inv_fail(m, line, "expected key=value in [%s:vars]",
				   m->g[g].name);
	*eq = '\0';
	for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = '\0';
	v = eq + 1 + strspn(eq + 1, " \t");
	n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		v++;
	}
	return sc_inv_set_var(m, m->g[g].vars, k, v, line);
}

/* "PATTERN [key=value]..." of a [group] section (g < 0: ungrouped). */
static int ini_host(struct model *m, const char *s, size_t line, int g)
{
	char *buf, **w;
	size_t n, *idx = NULL, count = 0;
	int r = ini_words(m, s, line, &buf, &w, &n);

	if (r == 0 && n > 0)
		r = sc_inv_add_hosts(m, w[0], line, true, g, &idx, &count);
	for (size_t i = 1; r == 0 && i < n; i++) {
		char *eq = strchr(w[i], '=');

		if (!eq || eq == w[i]) {
			r = sc_inv_fail(m, line,
					"'%s': expected key=value after the host (quote a value "
					"holding blanks)",
					w[i]);
			break;
		}
		*eq = '\0';
		for (size_t h = 0; r == 0 && h < count; h++)
			r = sc_inv_set_var(m, m->h[idx[h]].vars, w[i], eq + 1, line);
	}
	free(idx);
	free(w);
	free(buf);
	return r;
}

int sc_inv_parse_ini(struct model *m, const char *buf, size_t len)
{
	enum ini_section kind = INI_HOSTS;
	size_t line = 0, i = 0;
	int g = sc_inv_group_get(m, "ungrouped", 1), r = 0;

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
			c = sc_inv_group_get(m, p, line);
			if (c >= 0)
				sc_inv_add_index(&m->g[g].children, &m->g[g].nchildren,
						 (size_t)c);
			r = c < 0 ? c : 0;
		}
		free(s);
	}
	return r;
}
