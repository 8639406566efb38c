/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "fsutil.h"
#include "config.h"

#define CONFIG_MAX (1u << 20)

void sc_config_free(struct sc_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->cache_dir);
	free(cfg->stap);
	free(cfg->runtime);
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

static int apply(struct sc_config *cfg, const char *key, const char *value, const char *home,
		 const char *name, size_t line, struct sc_error *err)
{
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
	sc_error_set(err,
		     "%s:%zu: unknown key '%s' (known keys: cache-dir, max-size, stap, runtime)",
		     name, line, key);
	return -EINVAL;
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
		sc_error_set(err, "%s:%zu: expected a mapping of settings (key: value)", name,
			     root->start_mark.line + 1);
		goto done;
	}
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top;
	     pair++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pair->value);
		const char *key, *value;
		size_t line;

		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			sc_error_set(err, "%s: keys must be plain words", name);
			goto done;
		}
		key = (const char *)k->data.scalar.value;
		line = k->start_mark.line + 1;
		if (v->type != YAML_SCALAR_NODE) {
			sc_error_set(err, "%s:%zu: '%s' must be a single value", name, line, key);
			goto done;
		}
		value = (const char *)v->data.scalar.value;
		for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < pair; q++) {
			yaml_node_t *qk = yaml_document_get_node(&doc, q->key);

			if (qk && qk->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)qk->data.scalar.value, key)) {
				sc_error_set(err, "%s:%zu: '%s' is set twice", name, line, key);
				goto done;
			}
		}
		r = apply(cfg, key, value, home, name, line, err);
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
	char *cache_dir = NULL, *stap = NULL, *runtime = NULL;

	/* All copies first, so that a failure leaves base as it was. */
	if (copy_set(over->cache_dir, &cache_dir) < 0 || copy_set(over->stap, &stap) < 0 ||
	    copy_set(over->runtime, &runtime) < 0) {
		free(cache_dir);
		free(stap);
		return -ENOMEM;
	}
	if (cache_dir) {
		free(base->cache_dir);
		base->cache_dir = cache_dir;
	}
	if (stap) {
		free(base->stap);
		base->stap = stap;
	}
	if (runtime) {
		free(base->runtime);
		base->runtime = runtime;
	}
	if (over->has_max_size) {
		base->max_size = over->max_size;
		base->has_max_size = 1;
	}
	return 0;
}
