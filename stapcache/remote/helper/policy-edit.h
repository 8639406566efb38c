/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_BLESS_H
#define SC_REMOTE_BLESS_H

/*
 * stapcache-remote bless [--admin USER] [--policy PATH] -T NAME ... -- HEX LINE:
 * append LINE to each target's authorized_probes unless HEX is there already.
 * Returns the exit status (non-zero if any target failed).
 */
int sc_cmd_bless_remote(int argc, char **argv);

#endif
