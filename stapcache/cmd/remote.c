/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache host ...`, `stapcache ps ...`, `stapcache kill ...`: they speak
 * SSH, so the stapcache-remote helper implements them (remote/helper/:
 * host-admin.c, runs.c), with the same option parser and --help as every
 * command. Here they are only handed over, so that stapcache itself never
 * loads libssh.
 */
#include "build-config.h"

#include "cmd/cmd.h"
#include "remote/launch.h"

int sc_cmd_remote(int argc, char **argv)
{
	return sc_remote_exec_verb(argv[0], argc, argv);
}
