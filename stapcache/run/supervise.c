/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --duration for a local run: the runner is a child, not exec'd, and this
 * process stays behind to stop it when the time is up, the way a Ctrl-C
 * stops it: SIGINT to stapio, which ends the script (its end probes run)
 * and then has the runner unload the module.
 *
 * stapio is not always the child. systemtap's staprun execs it (same pid);
 * staprun-auth forks it under a root watchdog that this process, like the
 * caller it is, can no longer signal (staprun-auth(8)). So the stop goes to
 * the child and to its children that run as us, found in /proc: the kernel
 * lets this process signal only its own user's processes anyway.
 *
 * Neither runner has a time limit of its own that fits (staprun's and
 * stapio's -T is a poll timeout, stap's -T TIME is compiled in and so would
 * change the key), hence this small supervisor.
 */
#include "build-config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/spawn.h"
#include "run/runproc.h"
#include "run/supervise.h"

/*
 * Wait for the child for at most seconds (may be fractional), or, with asked
 * non-NULL, until this process is asked to stop (the forwarder caught a
 * signal: *asked). Returns 1 when the child ended (*status), else 0.
 */
static int wait_for(pid_t pid, double seconds, int *status, int *asked)
{
	double end = sc_mono_now() + seconds;

	for (;;) {
		double left = end - sc_mono_now();
		long ms = left <= 0 ? 0 : left < 0.05 ? (long)(left * 1000) + 1 : 50;

		if (sc_wait_timeout(pid, ms, status) == 0)
			return 1;
		/* Someone asked this process to stop: the run stops now. */
		if ((asked && (*asked = sc_forward_caught()) != 0) || left <= 0)
			return 0;
	}
}

/* The hint when the runner cannot be run at all. */
#define NO_RUNNER_HINT                                                                    \
	"; install staprun-auth (make install) or systemtap-runtime, or use -p4 and run " \
	"the module yourself"

int sc_supervise(const char *const *argv, unsigned seconds, int verbose)
{
	struct sc_spawn_opts o = SC_SPAWN_OPTS_INIT;
	double t0 = sc_mono_now();
	int status = 0, forwarded = 0, took = 0, ended = 0;
	pid_t pid;

	/* Signals are the supervisor's to act on: it stops the run itself. */
	sc_forward_begin(SC_FORWARD_NONE);
	o.search_path = true;
	o.exec_hint = NO_RUNNER_HINT;
	if (sc_spawn(argv, &o, &pid) < 0) {
		fprintf(stderr, "stapcache: cannot start %s: %s\n", argv[0],
			strerror(errno));
		sc_forward_end();
		return 1;
	}
	/* The time counts from when the module runs: loading it may take a while. */
	for (int i = 0;
	     i < SC_START_WAIT_S * 10 && !ended && !forwarded && !sc_stapio_started(pid);
	     i++)
		ended = wait_for(pid, 0.1, &status, &forwarded);
	if (!ended && !forwarded)
		ended = wait_for(pid, seconds, &status, &forwarded);
	if (!ended) {
		int sig = forwarded ? forwarded : SIGINT;

		/*
		 * A Ctrl-C reached stapio itself: it is ending the script (the end
		 * probes run and print). A second SIGINT would cut that short.
		 */
		if (sc_forward_from_terminal())
			took = 1;
		if (verbose)
			fprintf(stderr,
				"stapcache: %s; stopping the run (%s to stapio)\n",
				forwarded ? strsignal(forwarded) : "--duration reached",
				sigabbrev_np(sig));
		/* Before stapio runs there may be nobody to take it: keep trying. */
		for (int i = 0; i < SC_STOP_GRACE_S * 4; i++) {
			if (!took)
				took = sc_signal_run(pid, sig);
			ended = wait_for(pid, 0.25, &status, NULL);
			if (ended)
				break;
		}
		if (!ended) {
			fprintf(stderr,
				"stapcache: the run did not end %d s after the stop; "
				"killing stapio (the runner unloads the module)\n",
				SC_STOP_GRACE_S);
			sc_signal_run(pid, SIGKILL);
			(void)sc_wait(pid, &status);
		}
	}
	sc_forward_end();
	if (verbose)
		fprintf(stderr, "stapcache: the run took %.2f s\n", sc_mono_now() - t0);
	return sc_exit_status(status);
}
