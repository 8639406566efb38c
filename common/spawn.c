/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/spawn.h"

static int grow(struct sc_argv *a)
{
	size_t cap = a->cap ? a->cap * 2 : 32;
	const char **nv;

	if (a->n + 2 <= a->cap)
		return 0;
	nv = realloc(a->v, cap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	a->v = nv;
	a->cap = cap;
	return 0;
}

int sc_argv_push(struct sc_argv *a, const char *s)
{
	if (grow(a) < 0)
		return -ENOMEM;
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
	return 0;
}

int sc_argv_pushf(struct sc_argv *a, const char *fmt, ...)
{
	char **no, *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	no = realloc(a->owned, (a->n_owned + 1) * sizeof(*no));
	if (!no || sc_argv_push(a, s) < 0) {
		if (no)
			a->owned = no;
		free(s);
		return -ENOMEM;
	}
	a->owned = no;
	a->owned[a->n_owned++] = s;
	return 0;
}

void sc_argv_free(struct sc_argv *a)
{
	for (size_t i = 0; i < a->n_owned; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* In the child: only async-signal-safe calls until exec. */
static void child(const char *const *argv, const struct sc_spawn_opts *o, pid_t parent)
{
	if (o->die_with_parent) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
	}
	if (o->new_group)
		setpgid(0, 0);
	if (o->default_signals) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
	}
	if (o->dir && chdir(o->dir) < 0)
		_exit(127);
	if (o->tmpdir && setenv("TMPDIR", o->tmpdir, 1) < 0)
		_exit(127);
	if (o->stdout_fd >= 0 && dup2(o->stdout_fd, 1) < 0)
		_exit(127);
	if (o->stderr_fd >= 0 && dup2(o->stderr_fd, 2) < 0)
		_exit(127);
	if (o->setup && o->setup(o->setup_arg) < 0)
		_exit(SC_SPAWN_SETUP_FAILED);
	if (o->search_path)
		execvp(argv[0], (char *const *)argv);
	else
		execv(argv[0], (char *const *)argv);
	if (o->exec_hint)
		dprintf(2, "%s: cannot run %s: %s%s\n", program_invocation_short_name,
			argv[0], strerror(errno), o->exec_hint);
	_exit(127);
}

int sc_spawn(const char *const *argv, const struct sc_spawn_opts *opts, pid_t *pid)
{
	static const struct sc_spawn_opts defaults = SC_SPAWN_OPTS_INIT;
	const struct sc_spawn_opts *o = opts ? opts : &defaults;
	pid_t parent = getpid(), p;

	fflush(NULL);
	p = fork();
	if (p < 0)
		return -errno;
	if (p == 0)
		child(argv, o, parent);
	/* Also from here, so that killing the group cannot race the child's setpgid. */
	if (o->new_group)
		(void)setpgid(p, p);
	*pid = p;
	return 0;
}

static volatile sig_atomic_t fwd_pid, fwd_sig, fwd_flags, fwd_sent;
static const int fwd_signals[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction fwd_old[3];

static void pass_on(int sig)
{
	if (fwd_pid > 0 && !(fwd_flags & SC_FORWARD_NONE))
		kill(fwd_flags & SC_FORWARD_GROUP ? -fwd_pid : fwd_pid, sig);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fwd_sig = sig;
	/* sent to us alone (kill, timeout(1)), not by the terminal to the group */
	fwd_sent = si->si_code == SI_USER || si->si_code == SI_QUEUE;
	if (sig != SIGINT || !(fwd_flags & SC_FORWARD_USER_INT) || fwd_sent)
		pass_on(sig);
}

void sc_forward_begin(unsigned flags)
{
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};

	fwd_pid = 0;
	fwd_sig = 0;
	fwd_sent = 0;
	fwd_flags = (sig_atomic_t)flags;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 3; i++)
		sigaction(fwd_signals[i], &sa, &fwd_old[i]);
}

void sc_forward_child(pid_t pid)
{
	fwd_pid = pid;
	/* A signal between the fork and now found nobody to pass it to. */
	if (pid > 0 && fwd_sig)
		pass_on(fwd_sig);
}

int sc_forward_caught(void)
{
	return fwd_sig;
}

bool sc_forward_from_terminal(void)
{
	return fwd_sig == SIGINT && !fwd_sent;
}

void sc_forward_end(void)
{
	fwd_pid = 0;
	for (size_t i = 0; i < 3; i++)
		sigaction(fwd_signals[i], &fwd_old[i], NULL);
}

int sc_exit_status(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int sc_wait(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int sc_wait_timeout(pid_t pid, long timeout_ms, int *status)
{
	struct timespec t0;
	/* A pidfd becomes readable when the process ends: no polling interval. */
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), r = -ETIMEDOUT;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((left = timeout_ms - ms_since(&t0)) > 0) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR)) {
			r = w == pid ? 0 : -errno;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = {.fd = pfd, .events = POLLIN};

			(void)poll(&p, 1, (int)(left < 60000 ? left : 60000));
		} else {
			struct timespec nap = {0, 20 * 1000000}; /* kernels before 5.3 */

			(void)nanosleep(&nap, NULL);
		}
	}
	if (r == -ETIMEDOUT && waitpid(pid, status, WNOHANG) == pid)
		r = 0;
	if (pfd >= 0)
		close(pfd);
	return r;
}

int sc_run_capture_opts(const char *const *argv, const struct sc_spawn_opts *opts,
			size_t max, char **out)
{
	struct sc_spawn_opts o = opts ? *opts : (struct sc_spawn_opts)SC_SPAWN_OPTS_INIT;
	size_t n = 0;
	char *buf = malloc(max + 1), drop[512];
	int pfd[2], status = 0, r;
	pid_t pid;

	*out = NULL;
	if (!buf)
		return -ENOMEM;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		free(buf);
		return r;
	}
	o.stdout_fd = o.stderr_fd = pfd[1];
	r = sc_spawn(argv, &o, &pid);
	close(pfd[1]);
	if (r < 0) {
		close(pfd[0]);
		free(buf);
		return r;
	}
	for (;;) {
		char *dst = n < max ? buf + n : drop;
		size_t room = n < max ? max - n : sizeof(drop);
		ssize_t got = read(pfd[0], dst, room);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (n < max)
			n += (size_t)got;
	}
	close(pfd[0]);
	buf[n] = '\0';
	*out = buf;
	/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): -errno < 0: pid is set */
	r = sc_wait(pid, &status);
	if (r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == SC_SPAWN_SETUP_FAILED &&
	    o.setup)
		r = -EPERM;
	else if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		r = -ENOEXEC;
	return r;
}

int sc_run_capture(const char *const *argv, size_t max, char **out)
{
	int r = sc_run_capture_opts(argv, NULL, max, out);

	if (r < 0) {
		free(*out);
		*out = NULL;
	}
	return r;
}
