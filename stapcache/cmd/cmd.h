/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CMD_H
#define SC_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * stapcache's commands, one file each. Every one takes argv with argv[0] its
 * own name, parses it with core/cmdopt.h (-h/--help: usage on stdout, exit
 * 0; a usage error: one line and a hint on stderr, exit 2) and returns the
 * exit status.
 */
struct sc_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary; /* its line in stapcache --help; NULL: not listed */
};

/* main.c's table: every subcommand. */
extern const struct sc_command sc_commands[];
extern const size_t sc_commands_n;

/*
 * The compile command (compile.c), stapcache's default: a stap command line
 * to a module from the cache (-p4 prints its path), or a run of it here or
 * on -T targets. as_stap: invoked as stap, the drop-in. trace: the script is
 * a one-liner's (its output is events).
 */
int sc_cmd_compile(int argc, char **argv, bool as_stap, bool trace);

/* The commands and what they do, for stapcache --help (compile.c). */
void sc_cmd_list(FILE *out);

/* `stapcache cache stats|list|check|prune|clear` (cache.c). */
int sc_cmd_cache(int argc, char **argv);

/* `stapcache bless [-T TARGET|@GROUP]... MODULE` (bless.c). */
int sc_cmd_bless(int argc, char **argv);

/*
 * `stapcache key generate|show` (key.c): this machine's builder key for the
 * shared cache (created 0600 in the config dir; the store helper does the
 * cryptography).
 */
int sc_cmd_key(int argc, char **argv);

/*
 * `stapcache signing-key generate|show` (signing-key.c): the module-signing
 * key for Secure Boot hosts (the stapcache-sign helper does the
 * cryptography).
 */
int sc_cmd_signing_key(int argc, char **argv);

/*
 * `stapcache host|ps|kill ...` (remote.c): commands that need libssh, which
 * the stapcache-remote helper implements (remote/helper/); exec it.
 */
int sc_cmd_remote(int argc, char **argv);

/*
 * `stapcache doctor [-T TARGET|@GROUP]... [--json]` (doctor.c): the build
 * side's checks, then stapcache-remote doctor adds the run side and prints
 * the report.
 */
int sc_cmd_doctor(int argc, char **argv);

/*
 * `stapcache buildroot create|show` (buildroot.c): make a build root for
 * another Debian release (the stapcache-buildroot helper), or show what a
 * build in one uses.
 */
int sc_cmd_buildroot(int argc, char **argv);

/*
 * `stapcache verify REQUEST...` (verify.c): rebuild the module in a private
 * directory and compare its SHA-256 with the cached entry and the shared
 * one. 0 every entry found matches; 1 a mismatch, a rejected shared entry or
 * an error; 2 a usage error; 3 nothing to compare with.
 */
int sc_cmd_verify(int argc, char **argv);

/*
 * `stapcache trace [OPTIONS] SPEC...` (trace.c): the one-liners' script,
 * run as `stapcache OPTIONS -e SCRIPT` would be.
 */
int sc_cmd_trace(int argc, char **argv);

/*
 * `stapcache __complete commands|targets|options` (complete.c, hidden): the
 * words of the bash completion, one a line, from the tables themselves.
 */
int sc_cmd_complete(int argc, char **argv);

#endif
