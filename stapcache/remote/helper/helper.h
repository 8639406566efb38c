/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_H
#define SC_REMOTE_H

#include "remote/helper/ssh.h"

/* Defaults for every remote command (stapcache --connect-timeout, --jobs). */
#define SC_REMOTE_DEFAULT_CONNECT_TIMEOUT 10
#define SC_REMOTE_DEFAULT_JOBS 64

/* Fill o->ssh_dir ($HOME/.ssh) and o->may_prompt (a terminal is there). */
void sc_remote_env(struct sc_ssh_opts *o);

/* The known_hosts file, from this process's environment (caller frees). */
char *sc_remote_known_hosts(void);

/* Parse a number in [min, max] for option opt; prints and returns -EINVAL if bad. */
int sc_remote_int_arg(const char *opt, const char *v, int min, int max, int *out);

#endif
