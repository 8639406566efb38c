/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/*
 * stapcache's config.yaml: a flat mapping.
 *
 *     cache-dir: ~/.cache/stapcache     # where entries live
 *     max-size: 2G                      # LRU eviction above this (0: no limit)
 *     stap: /usr/bin/stap               # the translator to run on a miss
 *     runtime: /var/lib/stapcache/...   # default -R runtime directory
 *     shared-cache: redis://host:6379   # second-level store(s): a URL or a list
 *     trusted-builders: [ed25519:HEX …] # public keys whose entries are served
 *     builder-key: ~/.config/...key     # this machine's signing key
 *     signing-key: ~/.config/.../module-signing  # the module-signing key (a
 *                                       # key directory, or a PEM key file)
 *     signing-cert: /etc/.../mok.der    # its certificate, when not in signing-key
 *     shared-auth-file: /etc/...token   # "bearer TOKEN" or "basic USER:PASS"
 *     shared-ca-file: /etc/...ca.pem    # rediss://: CA certificates besides the system's
 *     shared-connect-timeout: 300       # milliseconds
 *     shared-timeout: 3000              # milliseconds, one whole transfer
 *     shared-wait: 120                  # seconds to wait for another's build
 *     build-timeout: 600                # seconds before a hung stap is killed (0: none)
 *     max-duration: 3600                # seconds: caps every run's --duration
 *
 * A list is a YAML sequence of scalars, or one scalar; it is kept as its
 * items joined by newlines (no item may hold one).
 * Strings are NULL when not set. "~/" at the start of a path is expanded
 * with home (the caller reads $HOME; common/ never reads the environment).
 * A system-wide file and the user's are read in that order and merged field
 * by field (sc_config_merge), as ccache reads /etc/ccache.conf first.
 */
struct sc_config {
	char *cache_dir;
	char *stap;
	char *runtime;
	char *shared_cache;     /* URLs, one a line */
	char *trusted_builders; /* public keys, one a line */
	char *builder_key;
	char *signing_key;  /* module signing (issue 20): a key directory or PEM key */
	char *signing_cert; /* its certificate when it is not with the key */
	char *shared_auth_file;
	char *shared_ca_file;
	uint64_t max_size;
	int has_max_size;
	/* Numbers: 0 when not set. */
	unsigned shared_connect_timeout; /* ms */
	unsigned shared_timeout;         /* ms */
	unsigned shared_wait;            /* s */
	unsigned build_timeout;          /* s, 0: none; valid when has_build_timeout */
	int has_build_timeout;
	unsigned max_duration; /* s: the longest run */
	uid_t key_uid;         /* key-uid: the uid in every key; valid when has_key_uid */
	int has_key_uid;
};

/*
 * Load path. A missing file yields an empty config (return 0). Unknown keys,
 * non-scalar values, duplicate keys and YAML syntax errors fail with -EINVAL
 * and a message naming the file and line. Returns 0 and sets *out (free with
 * sc_config_free), or -errno.
 */
int sc_config_load(const char *path, const char *home, struct sc_config **out,
		   struct sc_error *err);

/* Parse a config from memory; name is used in messages. Same contract as above. */
int sc_config_parse(const char *name, const char *home, const char *buf, size_t len,
		    struct sc_config **out, struct sc_error *err);

/*
 * Every field set in over replaces base's (over wins, field by field).
 * Returns 0 or -ENOMEM (base is then unchanged).
 */
int sc_config_merge(struct sc_config *base, const struct sc_config *over);

/* Frees cfg and its strings; NULL is a no-op. */
void sc_config_free(struct sc_config *cfg);

/*
 * Expand a leading "~/" with home (NULL or empty: no expansion) into a new
 * string (caller frees). Returns NULL when out of memory.
 */
char *sc_expand_home(const char *path, const char *home);

#endif
