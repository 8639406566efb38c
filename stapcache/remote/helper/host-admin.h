/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_HOST_H
#define SC_HOST_H

/*
 * `stapcache host self | list [--json] | add NAME ssh:... | remove NAME |
 *  refresh NAME|@GROUP|--all | accept NAME SHA256:...`. Returns the exit status.
 */
int sc_cmd_host(int argc, char **argv);

#endif
