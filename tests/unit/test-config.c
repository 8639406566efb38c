/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.yaml: valid settings, and clear errors for each malformed form. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "tests/lib/tap.h"

static struct sc_config *parse(const char *text, int *rc, struct sc_error *err)
{
	struct sc_config *cfg = NULL;

	memset(err, 0, sizeof(*err));
	*rc = sc_config_parse("config.yaml", "/home/u", text, strlen(text), &cfg, err);
	return cfg;
}

static void bad(const char *text, const char *want, const char *name)
{
	struct sc_error err;
	int rc;
	struct sc_config *cfg = parse(text, &rc, &err);

	tap_ok(rc < 0 && !cfg && strstr(err.msg, want), "%s: %s", name, err.msg);
	sc_config_free(cfg);
}

int main(void)
{
	struct sc_error err;
	struct sc_config *cfg;
	int rc;

	cfg = parse("cache-dir: ~/c\nmax-size: 2G\nstap: /opt/stap\nruntime: /rt\n", &rc,
		    &err);
	tap_is_int(rc, 0, "a full config parses");
	tap_is_str(cfg->cache_dir, "/home/u/c", "~/ expands to $HOME");
	tap_is_int(cfg->max_size, 2ULL << 30, "max-size 2G");
	tap_is_int(cfg->has_max_size, 1, "max-size marked as set");
	tap_is_str(cfg->stap, "/opt/stap", "stap path");
	tap_is_str(cfg->runtime, "/rt", "runtime path");
	sc_config_free(cfg);

	cfg = parse("# only a comment\n", &rc, &err);
	tap_ok(rc == 0 && cfg && !cfg->cache_dir && !cfg->has_max_size,
	       "an empty config is valid");
	sc_config_free(cfg);
	cfg = parse("max-size: 0\n", &rc, &err);
	tap_ok(rc == 0 && cfg->has_max_size && cfg->max_size == 0,
	       "max-size 0 means no limit");
	sc_config_free(cfg);

	bad("cache_dir: /x\n", "unknown key 'cache_dir'", "a misspelt key is an error");
	bad("max_size: 1G\n", "unknown key 'max_size'; did you mean 'max-size'?",
	    "a misspelt key: the nearest key suggested");
	bad("colour: red\n", "unknown key 'colour' (known keys: cache-dir, ",
	    "a key near none: the known keys listed");
	bad("max-size: lots\n", "config.yaml:1: max-size",
	    "a bad size names file and line");
	bad("max-size: -5G\n", "invalid size", "a negative size");
	bad("stap: /a\nstap: /b\n", "config.yaml:2: 'stap' is set twice",
	    "a duplicate key");
	bad("runtime: [a, b]\n", "must be a single value", "a list value");
	bad("- a\n- b\n", "expected a mapping", "a list at the top");
	bad("stap: \"unterminated\n", "config.yaml:", "YAML syntax error");
	bad("cache-dir: ''\n", "must not be empty", "an empty path");
	bad("build-timeout: -1\n",
	    "config.yaml:1: 'build-timeout' must be a whole number",
	    "a negative build-timeout");
	bad("build-timeout: 1m\n", "'build-timeout' must be a whole number",
	    "a build-timeout with a unit");

	{
		struct sc_config *c2 = NULL;

		rc = sc_config_load("/nonexistent/stapcache/config.yaml", "/home/u", &c2,
				    &err);
		tap_ok(rc == 0 && c2 && !c2->stap,
		       "a missing config file means defaults");
		sc_config_free(c2);
	}

	/* The system-wide file first, the user's over it, field by field. */
	{
		struct sc_config *sys, *user;
		char *e;

		sys = parse("runtime: /var/lib/rt\nmax-size: 2G\nstap: /usr/bin/stap\n",
			    &rc, &err);
		user = parse("stap: ~/bin/stap\n", &rc, &err);
		tap_is_int(sc_config_merge(sys, user), 0, "merge");
		tap_is_str(sys->stap, "/home/u/bin/stap", "the user's field wins");
		tap_is_str(sys->runtime, "/var/lib/rt",
			   "a field the user did not set is kept");
		tap_ok(sys->has_max_size && sys->max_size == 2ULL << 30,
		       "a size the user did not set is kept");
		tap_ok(!sys->cache_dir, "a field nobody set stays unset");
		sc_config_free(user);
		user = parse("max-size: 0\n", &rc, &err);
		sc_config_merge(sys, user);
		tap_ok(sys->has_max_size && sys->max_size == 0,
		       "the user can set max-size back to 0 (no limit)");
		sc_config_free(user);
		sc_config_free(sys);

		/* build-timeout: 0 is a value (no limit) that lifts a system-wide one. */
		sys = parse("build-timeout: 600\n", &rc, &err);
		tap_ok(rc == 0 && sys->has_build_timeout && sys->build_timeout == 600,
		       "build-timeout: 600");
		user = parse("build-timeout: 0\n", &rc, &err);
		tap_ok(rc == 0 && user->has_build_timeout && user->build_timeout == 0,
		       "build-timeout: 0 is set, to no limit");
		sc_config_merge(sys, user);
		tap_ok(sys->has_build_timeout && sys->build_timeout == 0,
		       "the user's build-timeout: 0 lifts the system-wide limit");
		sc_config_free(user);
		user = parse("stap: /s\n", &rc, &err);
		sc_config_merge(sys, user);
		tap_ok(sys->has_build_timeout && sys->build_timeout == 0,
		       "a user file without build-timeout keeps it");
		sc_config_free(user);
		sc_config_free(sys);

		e = sc_expand_home("~/x", NULL);
		tap_is_str(e, "~/x", "without a home, ~ stays as it is");
		free(e);
		e = sc_expand_home("~", "/h");
		tap_is_str(e, "/h", "~ alone is home");
		free(e);
	}
	sc_config_free(NULL);
	return tap_done();
}
