/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Handing a command to the stapcache-remote helper (launch.h). */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/spawn.h"
#include "core/libexec.h"
#include "remote/launch.h"

static char *helper_path(void)
{
	return sc_helper_path("stapcache-remote");
}

int sc_remote_exec_argv(char **argv)
{
	char *path = helper_path();

	argv[0] = path;
	fflush(NULL);
	execv(path, argv);
	fprintf(stderr, "stapcache: cannot run %s: %s (make install puts it there)\n",
		path, strerror(errno));
	free(path);
	return 1;
}

int sc_remote_exec_verb(const char *verb, int argc, char **argv)
{
	char **v = calloc((size_t)argc + 2, sizeof(*v));
	int status;

	if (!v)
		return 1;
	v[1] = (char *)verb;
	for (int i = 1; i < argc; i++)
		v[i + 1] = argv[i];
	status = sc_remote_exec_argv(v);
	free(v);
	return status;
}

int sc_remote_exec_bless(const char *const *targets, size_t ntargets, const char *admin,
			 const char *policy, const char *hex, const char *line,
			 const char *shex, const char *sline)
{
	struct sc_argv a = {0};
	int status = 1;
	int r = sc_argv_push(&a, "stapcache-remote") ?: sc_argv_push(&a, "bless");

	for (size_t i = 0; r == 0 && i < ntargets; i++)
		r = sc_argv_push(&a, "-T") ?: sc_argv_push(&a, targets[i]);
	if (r == 0 && admin)
		r = sc_argv_push(&a, "--admin") ?: sc_argv_push(&a, admin);
	if (r == 0 && policy)
		r = sc_argv_push(&a, "--policy") ?: sc_argv_push(&a, policy);
	r = r ?: sc_argv_push(&a, "--") ?: sc_argv_push(&a, hex) ?: sc_argv_push(&a, line);
	if (r == 0 && shex)
		r = sc_argv_push(&a, shex) ?: sc_argv_push(&a, sline);
	if (r == 0)
		status = sc_remote_exec_argv((char **)a.v);
	else
		fprintf(stderr, "stapcache: out of memory\n");
	sc_argv_free(&a);
	return status;
}
