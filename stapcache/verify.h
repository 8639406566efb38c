/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_VERIFY_H
#define SC_VERIFY_H

/*
 * `stapcache verify REQUEST...` (argv[0] is "verify", the rest a build
 * request as for -p4): rebuild the module in a private directory and compare
 * its SHA-256 with the cached entry and the shared one. Returns the exit
 * status: 0 every entry found matches the rebuild; 1 a mismatch, a rejected
 * shared entry, or an error; 2 a usage error; 3 nothing to compare with.
 */
int sc_cmd_verify(int argc, char **argv);

#endif
