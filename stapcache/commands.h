/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_COMMANDS_H
#define SC_COMMANDS_H

/* `stapcache cache ...`: stats, list, prune, clear. Returns the exit status. */
int sc_cmd_cache(int argc, char **argv);

/* `stapcache bless MODULE.ko`: print the authorized_probes line. Returns the exit status. */
int sc_cmd_bless(int argc, char **argv);

/*
 * `stapcache key generate|show`: this machine's builder key for the shared
 * cache (created 0600 in the config dir; the helper does the cryptography).
 * Returns the exit status.
 */
int sc_cmd_key(int argc, char **argv);

#endif
