/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The words the bash completion (etc/bash-completion/stapcache) offers come
 * from here, so that a new option row, subcommand or target completes
 * without anyone editing the script.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/context.h"
#include "core/options.h"
#include "remote/targets.h"

static void print_targets(void)
{
	struct sc_targets all = {0};
	struct sc_env env;
	char *path;

	sc_env_read(&env);
	path = sc_targets_default_path(env.xdg_config_home, env.home);
	if (sc_targets_load(path, &all, NULL) == 0) {
		for (size_t i = 0; i < all.n; i++)
			printf("%s\n", all.v[i].name);
		for (size_t i = 0; i < all.n; i++)
			for (size_t g = 0; g < all.v[i].ngroups; g++) {
				bool seen =
					false; /* a group once, where it first appears */

				for (size_t j = 0; j < i && !seen; j++)
					for (size_t h = 0; h < all.v[j].ngroups; h++)
						seen = seen ||
						       !strcmp(all.v[j].groups[h],
							       all.v[i].groups[g]);
				for (size_t h = 0; h < g && !seen; h++)
					seen = !strcmp(all.v[i].groups[h],
						       all.v[i].groups[g]);
				if (!seen)
					printf("@%s\n", all.v[i].groups[g]);
			}
	}
	sc_targets_clear(&all);
	free(path);
}

static void print_options(void)
{
	for (size_t i = 0; i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];
		const char *arg = o->metavar ? o->metavar : "-";

		if (o->id >= 256 && !o->long_name) /* -T TIME: -T's row spells it */
			continue;
		if (o->id < 256)
			printf("-%c\t%s\n", o->id, arg);
		if (o->long_name)
			printf("--%s\t%s\n", o->long_name, arg);
	}
}

int sc_cmd_complete(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (!strcmp(what, "commands")) {
		for (size_t i = 0; i < sc_commands_n; i++)
			if (sc_commands[i].summary) /* not __complete itself */
				printf("%s\n", sc_commands[i].name);
	} else if (!strcmp(what, "targets"))
		print_targets();
	else if (!strcmp(what, "options"))
		print_options();
	else {
		fprintf(stderr, "stapcache: __complete commands|targets|options (for the "
				"bash completion)\n");
		return 2;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
