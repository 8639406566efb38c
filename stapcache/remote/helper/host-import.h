/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_HOST_IMPORT_H
#define SC_HOST_IMPORT_H

#include "remote/helper/helper.h"

/*
 * `stapcache host import FILE|- [--dry-run] [--update] [--group G]...
 * [--runner R] [--build-root DIR] [--accept [NAME=]SHA256:FP]...`: an Ansible
 * inventory's hosts into known_hosts (host-import.c). argv[0] is "import".
 * Returns the exit status: 0, 1 (a host not added, or nothing saved), 2 (a
 * usage error).
 */
int sc_host_import(int argc, char **argv, const struct sc_helper_env *env);

#endif
