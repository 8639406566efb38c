/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/context.h"
#include "common/fsutil.h"

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

void sc_env_read(struct sc_env *env)
{
	env->home = env_get("HOME");
	env->path = env_get("PATH");
	env->xdg_config_home = env_get("XDG_CONFIG_HOME");
	env->xdg_cache_home = env_get("XDG_CACHE_HOME");
	env->systemtap_dir = env_get("SYSTEMTAP_DIR");
	env->systemtap_tapset = env_get("SYSTEMTAP_TAPSET");
	env->config = env_get("STAPCACHE_CONFIG");
	env->cache_dir = env_get("STAPCACHE_DIR");
	env->sysconfdir = env_get("STAPCACHE_SYSCONFDIR");
	env->term = env_get("TERM");
	env->uid = getuid();
}

/* $XDG_..._HOME/leaf when it is absolute (as the spec says), else ~/fallback/leaf. */
static char *xdg_path(const char *base, const char *home, const char *fallback,
		      const char *leaf)
{
	if (base && base[0] == '/')
		return sc_strdupf("%s/%s", base, leaf);
	return sc_strdupf("%s/%s/%s", home ? home : "/", fallback, leaf);
}

/* The runtime directory's parent holds the tapsets (PREFIX/share/systemtap). */
static char *tapset_next_to(const char *runtime)
{
	const char *slash = strrchr(runtime, '/');

	return sc_strdupf("%.*s/tapset", slash ? (int)(slash - runtime) : 0, runtime);
}

/*
 * stap's tapsets live in PREFIX/share/systemtap/tapset for stap in PREFIX/bin;
 * a stap elsewhere (a wrapper script, say) uses the installed systemtap's.
 * The stap found at build time needs no look: its tapsets were found then.
 */
static char *tapset_for(const char *stap)
{
	char real[PATH_MAX], *slash, *cand;

	if (strcmp(stap, SC_STAP_DEFAULT) != 0 && realpath(stap, real)) {
		for (int i = 0; i < 2; i++) {
			slash = strrchr(real, '/');
			if (slash)
				*slash = '\0';
		}
		cand = sc_strdupf("%s/share/systemtap/tapset", real);
		if (access(cand, F_OK) == 0)
			return cand;
		free(cand);
	}
	return tapset_next_to(SC_STAP_RUNTIME_DEFAULT);
}

static int load_configs(struct sc_ctx *ctx, const struct sc_env *env,
			struct sc_error *err)
{
	struct sc_config *user = NULL;
	int r;

	ctx->sys_config_path = sc_strdupf("%s/stapcache/config.yaml",
					  env->sysconfdir ? env->sysconfdir : SYSCONFDIR);
	ctx->config_path = env->config ? sc_strdupf("%s", env->config)
				       : xdg_path(env->xdg_config_home, env->home,
						  ".config", "stapcache/config.yaml");
	r = sc_config_load(ctx->sys_config_path, env->home, &ctx->cfg, err);
	if (r == 0)
		r = sc_config_load(ctx->config_path, env->home, &user, err);
	if (r == 0)
		r = sc_config_merge(ctx->cfg, user);
	sc_config_free(user);
	if (r == -ENOMEM)
		sc_error_set(err, "out of memory");
	return r;
}

int sc_ctx_init(struct sc_ctx *ctx, const struct sc_env *env, struct sc_error *err)
{
	const struct sc_config *cfg;
	int r;

	memset(ctx, 0, sizeof(*ctx));
	r = load_configs(ctx, env, err);
	if (r < 0)
		return r;
	cfg = ctx->cfg;
	if (env->cache_dir)
		ctx->cache_dir = sc_strdupf("%s", env->cache_dir);
	else if (cfg->cache_dir)
		ctx->cache_dir = sc_strdupf("%s", cfg->cache_dir);
	else
		ctx->cache_dir =
			xdg_path(env->xdg_cache_home, env->home, ".cache", "stapcache");
	ctx->stap = sc_strdupf("%s", cfg->stap ? cfg->stap : SC_STAP_DEFAULT);
	ctx->runtime =
		sc_strdupf("%s", cfg->runtime ? cfg->runtime : SC_STAP_RUNTIME_DEFAULT);
	ctx->tapset = env->systemtap_tapset ? sc_strdupf("%s", env->systemtap_tapset)
					    : tapset_for(ctx->stap);
	if (env->systemtap_dir) {
		ctx->stap_rc = sc_strdupf("%s/rc", env->systemtap_dir);
		ctx->stap_dir = sc_strdupf("%s", env->systemtap_dir);
		ctx->buildroot_homes =
			sc_strdupf("%s/stapcache-buildroots", env->systemtap_dir);
	} else {
		ctx->stap_rc = sc_strdupf("%s/.systemtap/rc", env->home ? env->home : "");
		ctx->stap_dir = sc_strdupf("%s/.systemtap", env->home ? env->home : "");
		ctx->buildroot_homes = sc_strdupf("%s/.systemtap/stapcache-buildroots",
						  env->home ? env->home : "");
	}
	ctx->path = sc_strdupf("%s", env->path ? env->path : "/usr/bin:/bin");
	ctx->uid = cfg->has_key_uid ? cfg->key_uid : env->uid;
	ctx->max_size = cfg->has_max_size ? cfg->max_size : SC_DEFAULT_MAX_SIZE;
	ctx->max_duration = cfg->max_duration;
	ctx->shared_cache = cfg->shared_cache && *cfg->shared_cache ? cfg->shared_cache
								    : NULL;
	ctx->trusted_builders = cfg->trusted_builders;
	ctx->builder_key = cfg->builder_key
				   ? sc_strdupf("%s", cfg->builder_key)
				   : xdg_path(env->xdg_config_home, env->home, ".config",
					      "stapcache/builder.key");
	ctx->shared_auth_file = cfg->shared_auth_file;
	ctx->shared_ca_file = cfg->shared_ca_file;
	ctx->shared_connect_ms = cfg->shared_connect_timeout ? cfg->shared_connect_timeout
							     : 300;
	ctx->shared_timeout_ms = cfg->shared_timeout ? cfg->shared_timeout : 3000;
	ctx->shared_wait_s = cfg->shared_wait ? cfg->shared_wait : 120;
	ctx->build_timeout_s = cfg->has_build_timeout ? cfg->build_timeout : 0;
	ctx->signing_key_default = xdg_path(env->xdg_config_home, env->home, ".config",
					    "stapcache/module-signing");
	if (cfg->signing_key)
		ctx->signing_key = sc_strdupf("%s", cfg->signing_key);
	else if (access(ctx->signing_key_default, F_OK) == 0)
		ctx->signing_key = sc_strdupf("%s", ctx->signing_key_default);
	ctx->signing_cert = cfg->signing_cert;
	return 0;
}

void sc_ctx_clear(struct sc_ctx *ctx)
{
	sc_config_free(ctx->cfg);
	free(ctx->sys_config_path);
	free(ctx->config_path);
	free(ctx->cache_dir);
	free(ctx->stap);
	free(ctx->runtime);
	free(ctx->tapset);
	free(ctx->stap_rc);
	free(ctx->buildroot_homes);
	free(ctx->stap_dir);
	free(ctx->path);
	free(ctx->builder_key);
	free(ctx->signing_key);
	free(ctx->signing_key_default);
	memset(ctx, 0, sizeof(*ctx));
}

/* Is path stapcache: this very program (however linked), or a program of its name? */
static bool is_stapcache(const char *path, const struct stat *st, const struct stat *self)
{
	char real[PATH_MAX];
	const char *base;

	if (self && st->st_dev == self->st_dev && st->st_ino == self->st_ino)
		return true;
	if (!realpath(path, real))
		return true; /* vanished: not a stap to run */
	base = strrchr(real, '/');
	return !strcmp(base ? base + 1 : real, "stapcache");
}

int sc_find_real_stap(const struct sc_env *env, char **out, struct sc_error *err)
{
	const char *path = env->path ? env->path : "/usr/bin:/bin";
	struct stat self, st;
	bool have_self = stat("/proc/self/exe", &self) == 0;
	char *copy = sc_strdupf("%s", path), *p = copy, *dir;

	/* strsep, not strtok: an empty entry is the current directory. */
	while ((dir = strsep(&p, ":"))) {
		char *cand = sc_strdupf("%s/stap", *dir ? dir : ".");

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(cand, X_OK) == 0 &&
		    !is_stapcache(cand, &st, have_self ? &self : NULL)) {
			free(copy);
			*out = cand;
			return 0;
		}
		free(cand);
	}
	free(copy);
	sc_error_set(err,
		     "invoked as stap, but no other stap is on PATH (%s): install "
		     "systemtap, or put stapcache's stap link before it, not instead",
		     path);
	return -ENOENT;
}

int sc_ctx_set_stap(struct sc_ctx *ctx, const struct sc_env *env, const char *stap)
{
	char *s = sc_strdupf("%s", stap);

	free(ctx->stap);
	ctx->stap = s;
	if (!env->systemtap_tapset) {
		free(ctx->tapset);
		ctx->tapset = tapset_for(stap);
	}
	return 0;
}
