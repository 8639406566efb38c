/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A private world for the key and option tests, without stap: a fake stap
 * (answers -V), a fake gcc on PATH, two fake kernel build trees, a runtime,
 * tapsets, an -I directory, and a context built from a hand-made
 * environment (nothing is read from the real one).
 */
#ifndef SC_TEST_FIXTURE_H
#define SC_TEST_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/context.h"
#include "common/fsutil.h"
#include "core/build-tree.h"
#include "core/cache-key.h"
#include "core/options.h"

struct fixture {
	char root[PATH_MAX]; /* realpath of the scratch dir */
	char memo[PATH_MAX + 16];
	struct sc_env env;
	struct sc_ctx ctx;
	char *paths[512]; /* strings handed out by fx_path */
	size_t n_paths;
};

static char *fx_path(struct fixture *f, const char *rel)
{
	char *p = sc_strdupf("%s/%s", f->root, rel);

	if (!p || f->n_paths == sizeof(f->paths) / sizeof(f->paths[0]))
		abort();
	f->paths[f->n_paths++] = p;
	return p;
}

static void fx_write(struct fixture *f, const char *rel, const char *text, mode_t mode)
{
	char *p = sc_strdupf("%s/%s", f->root, rel), *slash;

	if (!p)
		abort();
	slash = strrchr(p, '/');
	*slash = '\0';
	if (sc_mkdir_p(p, 0755) < 0)
		abort();
	*slash = '/';
	if (sc_write_file_atomic(p, text, strlen(text), mode, NULL) < 0)
		abort();
	free(p);
}

static void fx_tree(struct fixture *f, const char *rel, const char *release)
{
	char *p = sc_strdupf("%s/include/generated/utsrelease.h", rel);
	char *text = sc_strdupf("#define UTS_RELEASE \"%s\"\n", release);
	char *cfg = sc_strdupf("%s/.config", rel);

	fx_write(f, p, text, 0644);
	fx_write(f, cfg, "CONFIG_MODULES=y\n", 0644);
	free(p);
	free(text);
	free(cfg);
}

/* Build the world and the context. Returns 0, or -1 (the test bails out). */
static int fx_init(struct fixture *f)
{
	char tmpl[] = "/tmp/sc-fixture.XXXXXX";
	struct sc_error err = {{0}};

	memset(f, 0, sizeof(*f));
	if (!mkdtemp(tmpl) || !realpath(tmpl, f->root))
		return -1;
	snprintf(f->memo, sizeof(f->memo), "%s/memo", f->root);
	fx_write(f, "stap",
		 "#!/bin/sh\necho 'Systemtap translator/driver (version 9.9/test)'\n",
		 0755);
	fx_write(f, "bin/gcc", "#!/bin/sh\nexit 0\n", 0755);
	fx_write(f, "rt/runtime.h", "/* runtime */\n", 0644);
	fx_write(f, "ts/a.stp", "probe a = begin {}\n", 0644);
	fx_write(f, "inc/f.stp", "function f() { return 1 }\n", 0644);
	fx_write(f, "dir2/g.stp", "function g() { return 2 }\n", 0644);
	fx_write(f, "s.stp", "probe begin { exit() }\n", 0644);
	fx_write(f, "systemtap/rc", "# stap rc\n", 0644);
	fx_tree(f, "tree", "1.2.3-test");
	fx_tree(f, "tree2", "1.2.4-test");
	fx_write(f, "etc/stapcache/config.yaml", "max-size: 0\n", 0644);
	{
		char *cfg =
			sc_strdupf("stap: %s/stap\nruntime: %s/rt\n", f->root, f->root);

		fx_write(f, "config.yaml", cfg, 0644);
		free(cfg);
	}
	f->env = (struct sc_env){
		.home = fx_path(f, "home"),
		.path = fx_path(f, "bin"),
		.systemtap_dir = fx_path(f, "systemtap"),
		.systemtap_tapset = fx_path(f, "ts"),
		.config = fx_path(f, "config.yaml"),
		.cache_dir = fx_path(f, "cache"),
		.sysconfdir = fx_path(f, "etc"),
		.uid = 1234,
	};
	if (sc_ctx_init(&f->ctx, &f->env, &err) < 0) {
		printf("# context: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static void fx_free(struct fixture *f)
{
	sc_ctx_clear(&f->ctx);
	(void)sc_rm_rf(f->root);
	for (size_t i = 0; i < f->n_paths; i++)
		free(f->paths[i]);
}

/*
 * The key for a command line (NULL-terminated, without argv[0]). Returns 0
 * and fills hex (65 bytes), or -1 with a diagnostic. rec_out, if not NULL,
 * receives the serialized record (caller frees).
 */
static int fx_key(struct fixture *f, const char *const *args, char *hex, char **rec_out)
{
	char *argv[64];
	struct sc_error err = {{0}};
	struct sc_request req;
	struct sc_kernel k;
	struct sc_key key;
	int argc = 0, r = -1;
	size_t len;

	argv[argc++] = (char *)"stapcache";
	while (*args && argc < 63)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	if (sc_options_parse(argc, argv, &req, &err) != 0) {
		printf("# parse: %s\n", err.msg);
		sc_options_free(&req);
		return -1;
	}
	if (sc_kernel_resolve(req.kernel, req.arch, &k, &err) < 0) {
		printf("# kernel: %s\n", err.msg);
		sc_options_free(&req);
		return -1;
	}
	if (sc_key_compute(&req, &f->ctx, &k, f->memo, &key, &err) < 0) {
		printf("# key: %s\n", err.msg);
	} else {
		memcpy(hex, key.hex, sizeof(key.hex));
		r = 0;
		if (rec_out && sc_record_serialize(key.record, rec_out, &len) < 0)
			r = -1;
		sc_key_clear(&key);
	}
	sc_kernel_clear(&k);
	sc_options_free(&req);
	return r;
}

#endif
