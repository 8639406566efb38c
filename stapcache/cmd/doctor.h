/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CMD_DOCTOR_H
#define SC_CMD_DOCTOR_H

/*
 * stapcache doctor [-T TARGET|@GROUP]... [--json]: the build side's checks
 * (stap, cache, build trees, runtime), then exec stapcache-remote doctor,
 * which adds the run side and prints the report. Returns only on failure.
 */
int sc_cmd_doctor(int argc, char **argv);

#endif
