/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stapcache: compile a SystemTap script once, answer the same request from a
 * cache afterwards without running stap, and run the module, here or on
 * targets. This file is the table of contents; each command is a file in
 * cmd/, and the folders beside it are the library they call:
 *
 *   core/    options, environment and config, kernel, key, the subcommands' parser
 *   cache/   the on-disk cache behind one call; the build (stap -p4)
 *   run/     the local runner: exec, supervise, capture
 *   trace/   the one-liner language
 *   output/  text and JSON lines, events, the status line
 *   remote/  known_hosts and -T (remote/helper/: stapcache-remote, libssh)
 *   store/   the shared cache's client (store/helper/: stapcache-store)
 */
#include "build-config.h"

#include <string.h>

#include "cmd/cmd.h"

/* Every subcommand; `stapcache --help` and the completion list them from here. */
const struct sc_command sc_commands[] = {
	{"cache", sc_cmd_cache, "the cache: stats, list, check, prune, clear, zero"},
	{"bless", sc_cmd_bless, "a module's authorized_probes line, here or on targets"},
	{"key", sc_cmd_key, "this machine's builder key for the shared cache"},
	{"signing-key", sc_cmd_signing_key,
	 "the module-signing key for Secure Boot hosts: generate, show"},
	{"host", sc_cmd_remote,
	 "known_hosts targets: self, list, add, import, remove, refresh, accept"},
	{"doctor", sc_cmd_doctor,
	 "check this host and targets, with a fix for each problem"},
	{"ps", sc_cmd_remote, "what staprun-auth runs, here or on targets"},
	{"kill", sc_cmd_remote, "stop your run of a module, here or on a target"},
	{"logs", sc_cmd_remote, "what a detached run (--detach) wrote, on its targets"},
	{"verify", sc_cmd_verify, "rebuild a cached module and compare the bytes"},
	{"buildroot", sc_cmd_buildroot,
	 "build roots: another Debian release's stap, for its targets"},
	{"trace", sc_cmd_trace, "one-liners: probe, filter, print"},
	{"__complete", sc_cmd_complete, NULL}, /* for the bash completion */
};
const size_t sc_commands_n = sizeof(sc_commands) / sizeof(sc_commands[0]);

/* Invoked as stap (a symlink named stap before the real one on PATH). */
static bool invoked_as_stap(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

	return argv0 && !strcmp(slash ? slash + 1 : argv0, "stap");
}

int main(int argc, char **argv)
{
	/* As stap, "cache" or "bless" is a script file's name, not a subcommand. */
	if (argc > 0 && invoked_as_stap(argv[0]))
		return sc_cmd_compile(argc, argv, true, false);
	for (size_t i = 0; argc > 1 && i < sc_commands_n; i++)
		if (!strcmp(argv[1], sc_commands[i].name))
			return sc_commands[i].run(argc - 1, argv + 1);
	return sc_cmd_compile(argc, argv, false, false);
}
