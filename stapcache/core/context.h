/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CONTEXT_H
#define SC_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/error.h"

#define SC_DEFAULT_MAX_SIZE (1ULL << 30)

/*
 * The environment, read once (sc_env_read is the only place stapcache calls
 * getenv). Unset variables are NULL. Tests fill one by hand.
 */
struct sc_env {
	const char *home;             /* HOME */
	const char *path;             /* PATH: where kbuild finds gcc */
	const char *xdg_config_home;  /* XDG_CONFIG_HOME */
	const char *xdg_cache_home;   /* XDG_CACHE_HOME */
	const char *systemtap_dir;    /* SYSTEMTAP_DIR: stap's rc file lives there */
	const char *systemtap_tapset; /* SYSTEMTAP_TAPSET: replaces stap's tapsets */
	const char *config;           /* STAPCACHE_CONFIG: the user's config.yaml */
	const char *cache_dir;        /* STAPCACHE_DIR */
	const char *sysconfdir; /* STAPCACHE_SYSCONFDIR: for tests, instead of SYSCONFDIR */
	const char *term;       /* TERM: "dumb" gets no progress line */
	uid_t uid;              /* the invoking (real) uid */
};

void sc_env_read(struct sc_env *env);

/* Where things are, after config.yaml and the environment have had their say. */
struct sc_ctx {
	char *sys_config_path; /* SYSCONFDIR/stapcache/config.yaml, read first */
	char *config_path; /* $STAPCACHE_CONFIG, else $XDG_CONFIG_HOME/stapcache/config.yaml */
	struct sc_config *cfg; /* the two merged: the user's wins, field by field */
	char *cache_dir; /* $STAPCACHE_DIR, else cache-dir:, else $XDG_CACHE_HOME/stapcache */
	char *stap;      /* stap: from config, else the one found at build time */
	char *runtime;  /* runtime: from config, else stap's own runtime */
	char *tapset;   /* $SYSTEMTAP_TAPSET, else stap's tapset directory */
	char *stap_rc;  /* $SYSTEMTAP_DIR/rc, else ~/.systemtap/rc */
	char *stap_dir; /* $SYSTEMTAP_DIR, else ~/.systemtap: stap's cache/ is there */
	/* Where stap's home in each build root is (core/build-root.h):
	 * $SYSTEMTAP_DIR/stapcache-buildroots, else ~/.systemtap/..., next to
	 * this host's stap's own state, shared as that is. */
	char *buildroot_homes;
	char *path; /* PATH, else /usr/bin:/bin */
	uid_t uid;  /* the uid in the key: key-uid: if set, else the invoking uid */
	uint64_t max_size;     /* 0: no limit */
	unsigned max_duration; /* max-duration: seconds, 0: no cap */
	/* The shared cache (issue 10); the strings stay in cfg. */
	const char *shared_cache;     /* shared-cache: URLs, one a line, or NULL */
	const char *trusted_builders; /* trusted-builders: keys, one a line, or NULL */
	char *builder_key;            /* builder-key:, else CONFIG_DIR/builder.key */
	const char *shared_auth_file; /* shared-auth-file: or NULL */
	const char *shared_ca_file;   /* shared-ca-file: or NULL (rediss://) */
	unsigned shared_connect_ms;   /* shared-connect-timeout:, else 300 */
	unsigned shared_timeout_ms;   /* shared-timeout:, else 3000 */
	unsigned shared_wait_s;       /* shared-wait:, else 120 */
	unsigned build_timeout_s;     /* build-timeout:, else 0 (none) */
	/*
	 * The module-signing key (issue 20, sign/signer.h): signing-key:, else
	 * CONFIG_DIR/module-signing when that exists (NULL: none); its
	 * certificate when it is not with the key (signing-cert:, or NULL);
	 * and where `stapcache signing-key generate` puts a new one.
	 */
	char *signing_key;
	const char *signing_cert;
	char *signing_key_default;
	bool progress; /* a build's status line on stderr (main.c: a terminal, no --no-progress) */
};

/*
 * Build the context from env and the config files. Returns 0 or -errno with
 * err set (a bad config.yaml names file and line). Free with sc_ctx_clear.
 */
int sc_ctx_init(struct sc_ctx *ctx, const struct sc_env *env, struct sc_error *err);
void sc_ctx_clear(struct sc_ctx *ctx);

/*
 * Invoked as stap (a stap symlink to stapcache early on PATH): the real stap
 * is the first stap on env's PATH that is not stapcache. Every entry is
 * compared by file identity (st_dev, st_ino) against /proc/self/exe, so no
 * arrangement of symlinks or hard links leads back here; a file that
 * resolves to a program named stapcache is skipped too. Returns 0 and *out
 * (caller frees), or -ENOENT with err set.
 */
int sc_find_real_stap(const struct sc_env *env, char **out, struct sc_error *err);

/* Use stap (and its tapsets, unless $SYSTEMTAP_TAPSET says otherwise). Returns 0. */
int sc_ctx_set_stap(struct sc_ctx *ctx, const struct sc_env *env, const char *stap);

#endif
