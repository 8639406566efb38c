/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_COMPLETE_H
#define SC_COMPLETE_H

#include <stddef.h>

/* A subcommand: main.c's table, which also answers `__complete commands`. */
struct sc_command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
};

/*
 * `stapcache __complete WHAT` (hidden; for the bash completion, which must
 * never get out of step with the program): one word a line on stdout.
 *   commands   the subcommands (cmds)
 *   targets    the known_hosts targets' names, then @GROUP for each group
 *   options    every option's spelling and its argument ("-" for none),
 *              tab-separated, from the option table
 * A known_hosts that does not parse completes nothing (and says nothing:
 * a completion must not write on the terminal). Returns the exit status.
 */
int sc_cmd_complete(int argc, char **argv, const struct sc_command *cmds, size_t n);

#endif
