/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_DOCTOR_H
#define SC_REMOTE_DOCTOR_H

#include "remote/helper/helper.h"

/*
 * stapcache-remote doctor [--json] [--local] [--check LINE]... [-T NAME]...:
 * the --check lines the frontend made (SECTION\tNAME\t1|0\tDETAIL\tFIX), plus
 * the run side of this host (--local) and of each target, printed as one
 * report (text with a fix under every failed check, or one JSON document).
 * Returns 1 when any check failed, 2 a usage error, else 0.
 */
int sc_helper_doctor(int argc, char **argv, const struct sc_helper_env *env);

#endif
