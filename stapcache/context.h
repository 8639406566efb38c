/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CONTEXT_H
#define SC_CONTEXT_H

#include <stdint.h>

#include "config.h"
#include "error.h"

#define SC_DEFAULT_MAX_SIZE (1ULL << 30)

/* Where things are, after config.yaml and the environment have had their say. */
struct sc_ctx {
	char *config_path; /* $STAPCACHE_CONFIG, else $XDG_CONFIG_HOME/stapcache/config.yaml */
	struct sc_config *cfg;
	char *cache_dir;   /* $STAPCACHE_DIR, else cache-dir:, else $XDG_CACHE_HOME/stapcache */
	char *stap;        /* stap: from config, else the one found at build time */
	char *runtime;     /* runtime: from config, else stap's own runtime */
	char *tapset;      /* stap's tapset directory, next to its runtime */
	uint64_t max_size; /* 0: no limit */
};

/* Returns 0 or -errno with err set (a bad config.yaml names file and line). */
int sc_ctx_init(struct sc_ctx *ctx, struct sc_error *err);
void sc_ctx_clear(struct sc_ctx *ctx);

#endif
