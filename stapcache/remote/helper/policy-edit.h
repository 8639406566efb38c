/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_BLESS_H
#define SC_REMOTE_BLESS_H

#include "remote/helper/helper.h"

/*
 * stapcache-remote bless [--admin USER] [--policy PATH] -T NAME ... -- HEX LINE:
 * append LINE to each target's authorized_probes unless HEX is there already.
 * Returns the exit status (1 if any target failed, 2 a usage error).
 */
int sc_helper_bless(int argc, char **argv, const struct sc_helper_env *env);

#endif
