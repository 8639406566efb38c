/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "fsutil.h"

static char *xdg_path(const char *var, const char *fallback, const char *leaf)
{
	const char *base = getenv(var);
	const char *home = getenv("HOME");

	if (base && base[0] == '/')
		return sc_strdupf("%s/%s", base, leaf);
	return sc_strdupf("%s/%s/%s", home && *home ? home : "/", fallback, leaf);
}

/*
 * stap's tapsets live in PREFIX/share/systemtap/tapset for stap in PREFIX/bin;
 * a stap elsewhere (a wrapper script, say) uses the installed systemtap's.
 */
static char *tapset_for(const char *stap)
{
	char real[PATH_MAX], *slash, *cand;

	if (realpath(stap, real)) {
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
	cand = sc_strdupf("%s", SC_STAP_RUNTIME_DEFAULT);
	slash = strrchr(cand, '/');
	if (slash)
		*slash = '\0';
	slash = sc_strdupf("%s/tapset", cand);
	free(cand);
	return slash;
}

int sc_ctx_init(struct sc_ctx *ctx, struct sc_error *err)
{
	const char *env_cfg = getenv("STAPCACHE_CONFIG");
	const char *env_dir = getenv("STAPCACHE_DIR");
	int r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->config_path = env_cfg && *env_cfg
				   ? sc_strdupf("%s", env_cfg)
				   : xdg_path("XDG_CONFIG_HOME", ".config", "stapcache/config.yaml");
	r = sc_config_load(ctx->config_path, &ctx->cfg, err);
	if (r < 0)
		return r;
	if (env_dir && *env_dir)
		ctx->cache_dir = sc_strdupf("%s", env_dir);
	else if (ctx->cfg->cache_dir)
		ctx->cache_dir = sc_strdupf("%s", ctx->cfg->cache_dir);
	else
		ctx->cache_dir = xdg_path("XDG_CACHE_HOME", ".cache", "stapcache");
	ctx->stap = sc_strdupf("%s", ctx->cfg->stap ? ctx->cfg->stap : SC_STAP_DEFAULT);
	ctx->runtime = sc_strdupf("%s", ctx->cfg->runtime ? ctx->cfg->runtime
							   : SC_STAP_RUNTIME_DEFAULT);
	ctx->tapset = tapset_for(ctx->stap);
	ctx->max_size = ctx->cfg->has_max_size ? ctx->cfg->max_size : SC_DEFAULT_MAX_SIZE;
	return 0;
}

void sc_ctx_clear(struct sc_ctx *ctx)
{
	sc_config_free(ctx->cfg);
	free(ctx->config_path);
	free(ctx->cache_dir);
	free(ctx->stap);
	free(ctx->runtime);
	free(ctx->tapset);
	memset(ctx, 0, sizeof(*ctx));
}
