/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_INVENTORY_MODEL_H
#define SC_INVENTORY_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/*
 * Inside the inventory reader (inventory.h), shared by its files and by
 * nothing else: the model the readers fill (inventory-yaml.c for JSON and
 * YAML, inventory-ini.c for INI; inventory-model.c keeps it) and the
 * resolver reads (inventory.c). Every value keeps the line it was read
 * from; every error is sc_inv_fail's "FILE:LINE: what". Allocation failures
 * end the process (sc_oom).
 */

/* Groups nested deeper than this are refused. */
#define SC_INV_DEPTH_MAX 64

/* The variables read (inventory-model.c lists their Ansible spellings). */
enum var_id { V_HOST, V_PORT, V_USER, V_CONN, V_RUNNER, V_ROOT, V_PRIORITY, V_N };

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

/* realloc of n items of size, or the process ends (sc_oom). */
void *sc_inv_xrealloc(void *p, size_t n, size_t size);

/*
 * Room for item n (0-based) of a list p that only ever grows through this,
 * one item at a time: reallocated (doubled) only when n is 0, or 4 or more
 * and a power of two, so that a long list costs linear time.
 */
void *sc_inv_room(void *p, size_t n, size_t size);

/* Free everything m holds (not m). */
void sc_inv_model_clear(struct model *m);

/* m->err gets "FILE:LINE: " and the message. Returns -EINVAL. */
int sc_inv_fail(struct model *m, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* s for a message in buf: at most 80 bytes, anything not printable ASCII as '?'. */
const char *sc_inv_shown(const char *s, char buf[84]);

/* Only printable ASCII: what known_hosts holds (targets.c set_field). */
bool sc_inv_printable(const char *s);

/* The group called name: its index, or -1. */
int sc_inv_find_group(const struct model *m, const char *name);

/* The group (host) called name, made when new: its index, or -EINVAL when
 * known_hosts cannot hold the name (or there are too many). */
int sc_inv_group_get(struct model *m, const char *name, size_t line);
long sc_inv_host_get(struct model *m, const char *name, size_t line);

/* i into the list v of *n indexes, unless it is there. */
void sc_inv_add_index(size_t **v, size_t *n, size_t i);

/*
 * key = value at line into vars when key is one of the variables read
 * (others are not looked at); value NULL: a list or a mapping, refused for
 * a variable read. Returns 0 or -EINVAL (a template, not a single value).
 */
int sc_inv_set_var(struct model *m, struct var *vars, const char *key, const char *value,
		   size_t line);

/*
 * A host pattern: its names (ranges expanded when ranges is set) and a
 * ":PORT" after it; each host made and, when group >= 0, put in it. Their
 * indexes go to *idx (caller frees, also on failure), *count of them.
 */
int sc_inv_add_hosts(struct model *m, const char *pattern, size_t line, bool ranges,
		     int group, size_t **idx, size_t *count);

/* The readers: the JSON (json) or YAML form, and the INI form, into m. 0 or -EINVAL. */
int sc_inv_parse_doc(struct model *m, const char *buf, size_t len, bool json);
int sc_inv_parse_ini(struct model *m, const char *buf, size_t len);

#endif
