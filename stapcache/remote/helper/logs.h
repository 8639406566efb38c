/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_LOGS_H
#define SC_REMOTE_LOGS_H

#include "remote/helper/helper.h"

/*
 * stapcache logs -T TARGET|@GROUP... [--follow] [--since K:OFF] RUN: print
 * what the detached run RUN wrote on each target since the last call (its
 * cursor under env->cache_dir), and its end once it has ended. Returns the
 * exit status: 0, 1 when a target could not be asked or has no such run of
 * the login's, 2 a usage error, 130 after a Ctrl-C of --follow.
 */
int sc_helper_logs(int argc, char **argv, const struct sc_helper_env *env);

#endif
