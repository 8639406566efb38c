/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_HOST_H
#define SC_HOST_H

#include "remote/helper/helper.h"

/*
 * `stapcache host self | list [--json] | add NAME EXECUTE [--group G]... |
 *  remove NAME | refresh NAME|@GROUP|--all | accept NAME SHA256:...`, and
 * `host probe NAME EXECUTE` (an ad-hoc target's entry, for --remote).
 * Returns the exit status (2: a usage error).
 */
int sc_helper_host(int argc, char **argv, const struct sc_helper_env *env);

#endif
