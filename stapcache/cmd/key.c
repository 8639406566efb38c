/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache key generate|show`: this machine's builder key for the shared
 * cache (the Ed25519 key that signs the entries it uploads), created 0600 in
 * the config directory. The stapcache-store helper does the cryptography, so
 * that stapcache itself never loads OpenSSL's EVP machinery.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/cmdopt.h"
#include "core/context.h"
#include "store/client.h"

int sc_cmd_key(int argc, char **argv)
{
	const struct sc_cmdopt_spec spec = {
		.name = "key",
		.synopsis = "generate|show",
		.about =
			"generate: create this machine's builder key for the shared cache\n"
			"(builder-key: in config.yaml), unless there is one; show: print its\n"
			"public half, the line other machines put under trusted-builders:.",
		.min_args = 1,
		.max_args = 1,
	};
	struct sc_error err = {{0}};
	struct sc_env env;
	struct sc_ctx ctx = {0};
	const char *verb;
	char *helper;
	int r = sc_cmdopt_parse(&spec, argc, argv);

	if (r < 0)
		return sc_cmdopt_exit(r);
	verb = argv[r];
	if (strcmp(verb, "generate") && strcmp(verb, "show"))
		return sc_cmdopt_usage_error(&spec,
					     "unknown verb '%s' (generate or show)",
					     verb);
	sc_env_read(&env);
	if (sc_ctx_init(&ctx, &env, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	helper = sc_shared_helper_path();
	const char *v[] = {helper, !strcmp(verb, "generate") ? "keygen" : "pubkey",
			   ctx.builder_key, NULL};

	fflush(NULL);
	execv(helper, (char *const *)v);
	fprintf(stderr, "stapcache: cannot run %s: %s\n", helper, strerror(errno));
	free(helper);
	sc_ctx_clear(&ctx);
	return 1;
}
