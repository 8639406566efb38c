/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_RUNPROC_H
#define SC_RUNPROC_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * The local runner as a child of stapcache (runproc.c): shared by the
 * --duration supervisor (supervise.c) and the output reader (capture.c).
 */

/* After the stop, how long the runner gets to end before stapio is killed. */
#define SC_STOP_GRACE_S 30
/* How long a run may take to load before --duration counts anyway. */
#define SC_START_WAIT_S 120

/* Is pid, or a child of pid, stapio yet (the module is loaded and running)? */
bool sc_stapio_started(pid_t pid);

/*
 * Send sig to pid and to its children that run as this user (stapio under
 * staprun-auth's watchdog). Returns how many processes took it.
 */
int sc_signal_run(pid_t pid, int sig);

/* CLOCK_MONOTONIC in seconds. */
double sc_mono_now(void);

#endif
