/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_PS_H
#define SC_REMOTE_PS_H

#include "remote/helper/helper.h"

/*
 * stapcache ps [-T TARGET|@GROUP]...: what staprun-auth runs here (no -T)
 * or on each target, one line a run. Returns the exit status (1 when a
 * target could not be asked, 2 a usage error).
 */
int sc_helper_ps(int argc, char **argv, const struct sc_helper_env *env);

/*
 * stapcache kill [-T TARGET] MODULE: stop the caller's run of MODULE (its
 * stapio TERMed; an orphan unloaded with staprun-auth -d) and wait until
 * the module is unloaded. Another user's run is refused (status 4); 2 is a
 * usage error.
 */
int sc_helper_kill(int argc, char **argv, const struct sc_helper_env *env);

#endif
