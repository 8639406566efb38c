/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signals of the privileged process: every disposition and the mask reset
 * (what the caller ignored or blocked is not inherited), job-control stops
 * ignored, the termination signals blocked and looked at between steps, and
 * SIGALRM caught without SA_RESTART so that our own timer can cut short a
 * write to a pipe the caller does not read.
 */
#include "build-config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "auth.h"

/* The terminal's and a system shutdown's: blocked, and acted on at safe points. */
static const int term_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void on_alarm(int sig)
{
	(void)sig;
}

static int set_handler(const int *sigs, size_t n, void (*handler)(int))
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = handler;
	for (i = 0; i < n; i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

static int term_mask(int how)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < NELEM(term_signals); i++)
		sigaddset(&set, term_signals[i]);
	return sigprocmask(how, &set, NULL) < 0 ? -errno : 0;
}

/*
 * Every disposition SIG_DFL and nothing blocked: what a caller ignored or
 * blocked (SIGCHLD would break waitpid, SIGUSR1 stapio's start) is not
 * inherited. 0 or -errno.
 */
int sa_signals_default(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++) {
		/* SIGKILL, SIGSTOP and glibc's internal ones say EINVAL. */
		if (sigaction(sig, &sa, NULL) < 0 && errno != EINVAL)
			return -errno;
	}
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL) < 0 ? -errno : 0;
}

/*
 * For the privileged process: defaults, then job-control stops ignored, a
 * closed pipe or RLIMIT_FSIZE an error rather than death, and the
 * termination signals blocked until sa_signals_pending() looks at them or
 * sa_signals_unblock() lets them in. 0 or -errno.
 */
int sa_signals_startup(void)
{
	/* Job control: root work must never be stopped from a terminal. */
	static const int ignored[] = {SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE, SIGXFSZ};
	static const int alarms[] = {SIGALRM};
	int r = sa_signals_default();

	if (r == 0)
		r = set_handler(ignored, NELEM(ignored), SIG_IGN);
	/* Our own timer (audit.c) interrupts a write the caller does not read. */
	if (r == 0)
		r = set_handler(alarms, 1, on_alarm);
	if (r == 0)
		r = term_mask(SIG_BLOCK);
	return r;
}

/* The first termination signal that arrived meanwhile, or 0. */
int sa_signals_pending(void)
{
	sigset_t set;
	size_t i;

	if (sigpending(&set) < 0)
		return 0;
	for (i = 0; i < NELEM(term_signals); i++)
		if (sigismember(&set, term_signals[i]) == 1)
			return term_signals[i];
	return 0;
}

/* The watchdog outlives whatever ends stapio: termination signals ignored. */
int sa_signals_watchdog(void)
{
	int r = set_handler(term_signals, NELEM(term_signals), SIG_IGN);

	return r ? r : term_mask(SIG_UNBLOCK);
}

/* Let the termination signals in; one that arrived meanwhile ends us now. */
int sa_signals_unblock(void)
{
	return term_mask(SIG_UNBLOCK);
}
