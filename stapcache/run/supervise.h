/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_SUPERVISE_H
#define SC_SUPERVISE_H

/*
 * Run argv (the runner's: found on PATH when argv[0] has no slash) as a
 * child and stop it as a Ctrl-C would (SIGINT to stapio) after seconds, or
 * at once when this process gets SIGINT, SIGTERM or SIGHUP; then wait for it
 * to end (it unloads the module), killing stapio after a grace period.
 * Returns the exit status to end with: the runner's, or 128 + its signal.
 */
int sc_supervise(const char *const *argv, unsigned seconds, int verbose);

#endif
