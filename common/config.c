/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/fsutil.h"
#include "common/parse.h"
#include "common/policy.h"
#include "common/config.h"

#define CONFIG_MAX (1u << 20)

void sc_config_free(struct sc_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->cache_dir);
	free(cfg->stap);
	free(cfg->runtime);
	free(cfg->shared_cache);
	free(cfg->trusted_builders);
	free(cfg->builder_key);
	free(cfg->signing_key);
	free(cfg->signing_cert);
	free(cfg->shared_auth_file);
	free(cfg->shared_ca_file);
	free(cfg);
}

char *sc_expand_home(const char *path, const char *home)
{
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home && *home)
		return sc_strdupf("%s%s", home, path + 1);
	return sc_strdupf("%s", path);
}

static int set_path(char **slot, const char *value, const char *home, const char *name,
		    const char *key, size_t line, struct sc_error *err)
{
	if (*value == '\0') {
		sc_error_set(err, "%s:%zu: '%s' must not be empty", name, line, key);
		return -EINVAL;
	}
	*slot = sc_expand_home(value, home);
	return *slot ? 0 : -ENOMEM;
}

static int set_number(unsigned *slot, const char *value, unsigned max, const char *name,
		      const char *key, size_t line, struct sc_error *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (!*value || *end || errno || v == 0 || v > max || value[0] == '-') {
		sc_error_set(err, "%s:%zu: '%s' must be a whole number from 1 to %u",
			     name, line, key, max);
		return -EINVAL;
	}
	*slot = (unsigned)v;
	return 0;
}

static const char known_keys[] =
	"cache-dir, max-size, stap, runtime, shared-cache, trusted-builders, builder-key, "
	"signing-key, signing-cert, shared-auth-file, shared-ca-file, shared-connect-timeout, shared-timeout, shared-wait, "
	"max-duration, build-timeout, key-uid";

static int apply(struct sc_config *cfg, const char *key, const char *value,
		 const char *home, const char *name, size_t line, struct sc_error *err)
{
	char near[32];

	if (!strcmp(key, "builder-key"))
		return set_path(&cfg->builder_key, value, home, name, key, line, err);
	if (!strcmp(key, "signing-key"))
		return set_path(&cfg->signing_key, value, home, name, key, line, err);
	if (!strcmp(key, "signing-cert"))
		return set_path(&cfg->signing_cert, value, home, name, key, line, err);
	if (!strcmp(key, "shared-auth-file"))
		return set_path(&cfg->shared_auth_file, value, home, name, key, line,
				err);
	if (!strcmp(key, "shared-ca-file"))
		return set_path(&cfg->shared_ca_file, value, home, name, key, line, err);
	if (!strcmp(key, "shared-connect-timeout"))
		return set_number(&cfg->shared_connect_timeout, value, 600000, name, key,
				  line, err);
	if (!strcmp(key, "shared-timeout"))
		return set_number(&cfg->shared_timeout, value, 3600000, name, key, line,
				  err);
	if (!strcmp(key, "shared-wait"))
		return set_number(&cfg->shared_wait, value, 86400, name, key, line, err);
	if (!strcmp(key, "build-timeout")) {
		/* 0 is a value here (no limit), so that a user can lift a system-wide one. */
		cfg->has_build_timeout = 1;
		cfg->build_timeout = 0;
		if (!strcmp(value, "0"))
			return 0;
		if (set_number(&cfg->build_timeout, value, 604800, name, key, line,
			       err) == 0)
			return 0;
		sc_error_set(err,
			     "%s:%zu: 'build-timeout' must be a whole number of seconds from "
			     "0 (no limit) to 604800",
			     name, line);
		return -EINVAL;
	}
	if (!strcmp(key, "key-uid")) {
		/* 0 is a uid (root): the number check below allows it. */
		unsigned uid = 0;

		if (strcmp(value, "0") &&
		    set_number(&uid, value, 4294967294U, name, key, line, err) < 0) {
			sc_error_set(err,
				     "%s:%zu: 'key-uid' must be a whole number (a uid) from 0 "
				     "to 4294967294",
				     name, line);
			return -EINVAL;
		}
		cfg->key_uid = (uid_t)uid;
		cfg->has_key_uid = 1;
		return 0;
	}
	if (!strcmp(key, "max-duration"))
		return set_number(&cfg->max_duration, value, SC_MAX_DURATION, name, key,
				  line, err);
	if (!strcmp(key, "cache-dir"))
		return set_path(&cfg->cache_dir, value, home, name, key, line, err);
	if (!strcmp(key, "stap"))
		return set_path(&cfg->stap, value, home, name, key, line, err);
	if (!strcmp(key, "runtime"))
		return set_path(&cfg->runtime, value, home, name, key, line, err);
	if (!strcmp(key, "max-size")) {
		if (sc_parse_size(value, &cfg->max_size, err) < 0) {
			sc_error_prefix(err, "%s:%zu: max-size", name, line);
			return -EINVAL;
		}
		cfg->has_max_size = 1;
		return 0;
	}
	if (sc_nearest_word(key, known_keys, near, sizeof(near)) == 0)
		sc_error_set(err, "%s:%zu: unknown key '%s'; did you mean '%s'?", name,
			     line, key, near);
	else
		sc_error_set(err, "%s:%zu: unknown key '%s' (known keys: %s)", name, line,
			     key, known_keys);
	return -EINVAL;
}

/* One list item: a non-empty scalar without a newline. */
static int list_item(const yaml_node_t *n, const char *name, const char *key, size_t line,
		     struct sc_error *err)
{
	const char *s;

	if (!n || n->type != YAML_SCALAR_NODE) {
		sc_error_set(err, "%s:%zu: '%s' must be a value or a list of values",
			     name, line, key);
		return -EINVAL;
	}
	s = (const char *)n->data.scalar.value;
	if (!*s || strchr(s, '\n')) {
		sc_error_set(err, "%s:%zu: '%s' has an empty or multi-line item", name,
			     line, key);
		return -EINVAL;
	}
	return 0;
}

/* shared-cache and trusted-builders: a scalar or a sequence, joined by newlines. */
static int apply_list(struct sc_config *cfg, yaml_document_t *doc, const char *key,
		      yaml_node_t *v, const char *name, size_t line, struct sc_error *err)
{
	char **slot = !strcmp(key, "shared-cache") ? &cfg->shared_cache
						   : &cfg->trusted_builders;
	char *joined = NULL;
	size_t len = 0;

	if (v->type == YAML_SCALAR_NODE) {
		if (list_item(v, name, key, line, err) < 0)
			return -EINVAL;
		*slot = sc_strdupf("%s", (const char *)v->data.scalar.value);
		return *slot ? 0 : -ENOMEM;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		sc_error_set(err, "%s:%zu: '%s' must be a value or a list of values",
			     name, line, key);
		return -EINVAL;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(doc, *it);
		const char *s;
		char *nj;
		size_t sl;

		if (list_item(n, name, key, line, err) < 0) {
			free(joined);
			return -EINVAL;
		}
		s = (const char *)n->data.scalar.value;
		sl = strlen(s);
		nj = realloc(joined, len + sl + 2);
		if (!nj) {
			free(joined);
			return -ENOMEM;
		}
		joined = nj;
		if (len)
			joined[len++] = '\n';
		memcpy(joined + len, s, sl + 1);
		len += sl;
	}
	*slot = joined ? joined : sc_strdupf("%s", "");
	return *slot ? 0 : -ENOMEM;
}

int sc_config_parse(const char *name, const char *home, const char *buf, size_t len,
		    struct sc_config **out, struct sc_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *pair;
	struct sc_config *cfg;
	int r = -EINVAL;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	if (!yaml_parser_initialize(&parser)) {
		free(cfg);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		sc_error_set(err, "%s:%zu: %s", name, parser.problem_mark.line + 1,
			     parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		free(cfg);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		r = 0; /* empty file */
		goto done;
	}
	if (root->type != YAML_MAPPING_NODE) {
		sc_error_set(err, "%s:%zu: expected a mapping of settings (key: value)",
			     name, root->start_mark.line + 1);
		goto done;
	}
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top;
	     pair++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pair->value);
		const char *key, *value;
		size_t line;
		bool is_list;

		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			sc_error_set(err, "%s: keys must be plain words", name);
			goto done;
		}
		key = (const char *)k->data.scalar.value;
		line = k->start_mark.line + 1;
		is_list = !strcmp(key, "shared-cache") ||
			  !strcmp(key, "trusted-builders");
		if (v->type != YAML_SCALAR_NODE && !is_list) {
			sc_error_set(err, "%s:%zu: '%s' must be a single value", name,
				     line, key);
			goto done;
		}
		value = v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value
						    : "";
		for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < pair;
		     q++) {
			yaml_node_t *qk = yaml_document_get_node(&doc, q->key);

			if (qk && qk->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)qk->data.scalar.value, key)) {
				sc_error_set(err, "%s:%zu: '%s' is set twice", name, line,
					     key);
				goto done;
			}
		}
		r = is_list ? apply_list(cfg, &doc, key, v, name, line, err)
			    : apply(cfg, key, value, home, name, line, err);
		if (r < 0)
			goto done;
		r = -EINVAL;
	}
	r = 0;
done:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (r < 0) {
		sc_config_free(cfg);
		return r;
	}
	*out = cfg;
	return 0;
}

int sc_config_load(const char *path, const char *home, struct sc_config **out,
		   struct sc_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r = sc_read_file(path, CONFIG_MAX, &buf, &len);

	if (r == -ENOENT) {
		*out = calloc(1, sizeof(**out));
		return *out ? 0 : -ENOMEM;
	}
	if (r < 0) {
		sc_error_set(err, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	r = sc_config_parse(path, home, buf, len, out, err);
	free(buf);
	return r;
}

static int copy_set(const char *over, char **fresh)
{
	if (!over)
		return 0;
	*fresh = strdup(over);
	return *fresh ? 0 : -ENOMEM;
}

int sc_config_merge(struct sc_config *base, const struct sc_config *over)
{
	char *const *from[] = {&over->cache_dir,        &over->stap,
			       &over->runtime,          &over->shared_cache,
			       &over->trusted_builders, &over->builder_key,
			       &over->shared_auth_file, &over->shared_ca_file,
			       &over->signing_key,      &over->signing_cert};
	char **to[] = {&base->cache_dir,        &base->stap,
		       &base->runtime,          &base->shared_cache,
		       &base->trusted_builders, &base->builder_key,
		       &base->shared_auth_file, &base->shared_ca_file,
		       &base->signing_key,      &base->signing_cert};
	char *fresh[sizeof(to) / sizeof(to[0])] = {NULL};
	size_t i, n = sizeof(to) / sizeof(to[0]);

	/* All copies first, so that a failure leaves base as it was. */
	for (i = 0; i < n; i++) {
		if (copy_set(*from[i], &fresh[i]) < 0) {
			while (i-- > 0)
				free(fresh[i]);
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++) {
		if (fresh[i]) {
			free(*to[i]);
			*to[i] = fresh[i];
		}
	}
	if (over->shared_connect_timeout)
		base->shared_connect_timeout = over->shared_connect_timeout;
	if (over->shared_timeout)
		base->shared_timeout = over->shared_timeout;
	if (over->shared_wait)
		base->shared_wait = over->shared_wait;
	if (over->has_build_timeout) {
		base->build_timeout = over->build_timeout;
		base->has_build_timeout = 1;
	}
	if (over->max_duration)
		base->max_duration = over->max_duration;
	if (over->has_key_uid) {
		base->key_uid = over->key_uid;
		base->has_key_uid = 1;
	}
	if (over->has_max_size) {
		base->max_size = over->max_size;
		base->has_max_size = 1;
	}
	return 0;
}
