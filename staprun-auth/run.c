/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The load command: check, claim the module's record (locked for the whole
 * run), init_module in a watched child whose real ids are the caller's, note
 * the instance, start the module, then fork. The child goes back into the
 * caller's cgroup, drops privileges for good and becomes systemtap's stapio,
 * as staprun 4.8 would run it; the parent, which the caller can neither
 * signal, stop nor freeze, stays behind as a small watchdog that ignores the
 * terminal's signals, waits for the child and unloads the module however
 * the child ended (Ctrl-C, SIGTERM, SIGHUP, SIGKILL), for as long as that
 * takes. With --duration, the watchdog also ends the run on its own clock.
 *
 * Until stapio runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT are blocked and
 * looked at between steps: a run interrupted while loading ends with the
 * module unloaded and its record gone.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"

#define STAPIO_FD 3 /* where the relay directory reaches stapio (-F3) */

int sa_cmd_verify(const struct sa_opts *o, const struct sa_ids *ids)
{
	struct sa_event ev = {.action = "verify", .module = o->module};
	struct sc_error err = {.msg = ""};
	struct sa_module m;
	int rc = SA_EXIT_REFUSED, r;

	memset(&m, 0, sizeof(m));
	r = sa_module_prepare(o, ids, &m, &err);
	sa_module_drop_buffer(&m);
	ev.digest = m.hex[0] ? m.hex : NULL;
	ev.params = m.params;
	if (r < 0) {
		sa_audit_refuse(&ev, m.hint, "%s", err.msg);
	} else {
		sa_audit_allow(&ev, "would load (entry %s, systemtap %s)", m.hintbuf,
			       m.stap_version);
		sa_say(1,
		       "allowed: %s (sha256:%s, entry %s, parameters '%s'); built by "
		       "systemtap %s: %s's control protocol\n",
		       m.path, m.hex, m.hintbuf, m.params, m.stap_version, m.proto->name);
		rc = SA_EXIT_OK;
	}
	sa_module_free(&m);
	return rc;
}

/* stapio's argv, as staprun 4.8 builds it from its own: options, module, params, -F. */
static void build_argv(const struct sa_opts *o, char **argv, char *bopt, size_t blen,
		       char *sopt, size_t slen, char *modpath, size_t mlen)
{
	static char vflag[] = "-v", Cflag[] = "-C", cflag[] = "-c", xflag[] = "-x",
		    oflag[] = "-o", bflag[] = "-b", Sflag[] = "-S", Fopt[] = "-F3";
	int i, n = 0;

	argv[n++] = (char *)SC_STAPIO;
	for (i = 0; i < o->verbose && i < 8; i++)
		argv[n++] = vflag;
	if (o->color) {
		argv[n++] = Cflag;
		argv[n++] = (char *)o->color;
	}
	if (o->cmd) {
		argv[n++] = cflag;
		argv[n++] = (char *)o->cmd;
	}
	if (o->pid) {
		argv[n++] = xflag;
		argv[n++] = (char *)o->pid;
	}
	if (o->outfile) {
		argv[n++] = oflag;
		argv[n++] = (char *)o->outfile;
	}
	if (o->rot_mb) {
		if (o->rot_files)
			snprintf(sopt, slen, "%u,%u", o->rot_mb, o->rot_files);
		else
			snprintf(sopt, slen, "%u", o->rot_mb);
		argv[n++] = Sflag;
		argv[n++] = sopt;
	}
	if (o->bufsize) {
		snprintf(bopt, blen, "%u", o->bufsize);
		argv[n++] = bflag;
		argv[n++] = bopt;
	}
	/* A path starting with '-' must not read as an option to stapio. */
	snprintf(modpath, mlen, "%s%s", o->module[0] == '-' ? "./" : "", o->module);
	argv[n++] = modpath;
	for (i = 0; i < o->nparams; i++)
		argv[n++] = o->params[i];
	argv[n++] = Fopt;
	argv[n] = NULL;
}

/*
 * stapio's descriptors: 0-2, the relay directory as 3, and the close-on-exec
 * end of the pipe whose end-of-file tells the watchdog that the exec
 * happened, as 4. Nothing else.
 */
static int set_fds(int relay_fd, int exec_fd)
{
	int fd = fcntl(exec_fd, F_DUPFD_CLOEXEC, STAPIO_FD + 1);

	if (fd < 0)
		return -errno;
	if (relay_fd != STAPIO_FD && dup2(relay_fd, STAPIO_FD) < 0)
		return -errno;
	if (fcntl(STAPIO_FD, F_SETFD, 0) < 0)
		return -errno;
	if (fd != STAPIO_FD + 1 && dup3(fd, STAPIO_FD + 1, O_CLOEXEC) < 0)
		return -errno;
	closefrom(STAPIO_FD + 2);
	return 0;
}

/* The child: the caller's signals and limits, become the caller for good, then stapio. */
static void __attribute__((noreturn))
exec_stapio(const struct sa_opts *o, const struct sa_ids *ids, const struct sa_module *m,
	    int relay_fd, int exec_fd)
{
	char *argv[SA_MAX_PARAMS + 32], bopt[16], sopt[32], modpath[4096 + 8],
		verbose[16];
	struct sc_error err = {.msg = ""};
	int r;

	r = sa_signals_default();
	if (r == 0)
		r = set_fds(relay_fd, exec_fd);
	snprintf(verbose, sizeof(verbose), "%d", o->verbose);
	if (r == 0 && (setenv("SYSTEMTAP_STAPRUN", SA_SELF, 1) < 0 ||
		       setenv("SYSTEMTAP_VERBOSE", verbose, 1) < 0 ||
		       setenv("SYSTEMTAP_MODULE", m->name, 1) < 0))
		r = -errno;
	/* As root: the caller's hard limits may be above ours. */
	if (r == 0)
		r = sa_limits_restore(ids);
	sa_cgroup_return(ids);
	if (r < 0)
		sc_error_set(&err, "cannot set up stapio: %s", strerror(-r));
	umask(ids->umask);
	if (r == 0 && sa_drop_privileges(ids, &err) == 0) {
		build_argv(o, argv, bopt, sizeof(bopt), sopt, sizeof(sopt), modpath,
			   sizeof(modpath));
		execv(SC_STAPIO, argv);
		sc_error_set(&err, "cannot run %s: %s", SC_STAPIO, strerror(errno));
	}
	sa_say(2, "%s: %s\n", SA_PROG, err.msg);
	_exit(127);
}

static long long boot_ms(void)
{
	struct timespec t;

	/* CLOCK_BOOTTIME: no one but root sets it, and it counts a suspend. */
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Until end-of-file: stapio has started (or its child died trying); with a
 * deadline (--duration), no later than that: a child held before its exec
 * (its cgroup frozen by the caller) must not hold the clock.
 */
static void wait_exec(int fd, long long at)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	long long left;
	char c;

	for (;;) {
		left = at ? at - boot_ms() : -1;
		if (at && left <= 0)
			return;
		if (at && poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) <= 0)
			continue; /* time (looked at again), EINTR, or an error */
		if (read(fd, &c, 1) >= 0 || errno != EINTR)
			return;
	}
}

static int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return SA_EXIT_REFUSED;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/*
 * --duration: SECONDS after stapio's fork (at), the watchdog asks it to stop
 * (SIGTERM, as a Ctrl-C: the end probes run and the output is flushed), and
 * SA_STOP_GRACE_MS later kills it; the unload follows as for any end. The
 * watchdog's clock is its own: the caller can neither signal, stop nor
 * freeze it (harden()), nor stretch it (the timer slack, attrs.c). What the
 * caller does to stapio, its own, ends the run sooner, with one exception
 * that staprun-auth(8) states: a stapio its owner holds in a ptrace
 * exit-stop keeps the module until the tracer lets go (as a run without
 * --duration would). pidfd is stapio's, an unreaped child, so
 * no signal can reach a reused pid. Returns the exit status as timeout(1)
 * would: SA_EXIT_DURATION when the duration was over and stapio stopped
 * when asked, 128 + SIGKILL when it had to be killed.
 */
static int wait_child_until(pid_t pid, int pidfd, long long at, unsigned duration,
			    const struct sa_event *ev)
{
	static const struct timespec pause = {.tv_nsec = 100 * 1000000};
	long long left;
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	int sig = 0, n, rc;

	for (;;) {
		left = at - boot_ms();
		if (left > 0) {
			n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
			if (n > 0)
				break; /* stapio ended */
			if (n < 0 && errno != EINTR)
				nanosleep(&pause, NULL); /* never give up the clock */
			continue;
		}
		if (sig == SIGKILL)
			break; /* it dies: waitpid below */
		sig = sig ? SIGKILL : SIGTERM;
		if (sig == SIGTERM)
			sa_say(2, "%s: the run's duration of %u s is over: stopping it\n",
			       SA_PROG, duration);
		sa_audit_allow(ev, "duration of %u s over: %s to stapio", duration,
			       sig == SIGTERM ? "SIGTERM" : "SIGKILL");
		if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
			kill(pid, sig); /* still our unreaped child: never a reused pid */
		at = boot_ms() + SA_STOP_GRACE_MS;
	}
	rc = wait_child(pid);
	return sig == SIGTERM ? SA_EXIT_DURATION : sig == SIGKILL ? 128 + SIGKILL : rc;
}

/* Fork stapio, watch it, unload after it. Returns the exit status. */
static int run_stapio(const struct sa_opts *o, const struct sa_ids *ids,
		      const struct sa_module *m, struct sa_control *ctl,
		      struct sa_record *rec, const struct sa_event *ev)
{
	struct sc_error err = {.msg = ""};
	int p[2], r, rc, pidfd = -1;
	long long at = 0;
	pid_t pid = -1;

	r = pipe2(p, O_CLOEXEC) < 0 ? -errno : sa_signals_watchdog();
	if (r == 0) {
		pid = fork();
		r = pid < 0 ? -errno : 0;
	}
	if (pid == 0) {
		close(p[0]);
		exec_stapio(o, ids, m, ctl->relay_fd, p[1]);
	}
	/* No run whose duration we could not enforce: the child is killed. */
	if (r == 0 && o->duration && (pidfd = pidfd_open(pid, 0)) < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		wait_child(pid);
	}
	if (r < 0) {
		sa_control_close(ctl);
		sa_audit_refuse(ev, NULL, "cannot start stapio: %s (unloading %s)",
				strerror(-r), m->name);
		sa_registry_end(rec, 1, ev);
		return SA_EXIT_REFUSED;
	}
	close(p[1]);
	if (sa_registry_commit(rec, pid, &err) < 0)
		sa_audit_fail(ev, "%s", err.msg); /* --list shows no stapio pid */
	if (o->duration)
		at = boot_ms() + (long long)o->duration * 1000;
	/* As staprun: the .gnu.linkonce.this_module files stay open until stapio runs. */
	wait_exec(p[0], at);
	close(p[0]);
	sa_control_close(ctl);
	if (pidfd >= 0) {
		rc = wait_child_until(pid, pidfd, at, o->duration, ev);
		close(pidfd);
	} else {
		rc = wait_child(pid);
	}
	/* Its pid is free now: --list must not name it while the unload goes
	 * on (a held .cmd makes that last), or a kill would hit its reuser. */
	if (sa_registry_commit(rec, 0, &err) < 0)
		sa_audit_fail(ev, "%s", err.msg);
	if (sa_registry_end(rec, 1, ev) < 0)
		return rc ? rc : SA_EXIT_REFUSED;
	sa_audit_allow(ev, "run ended (status %d), module unloaded", rc);
	return rc;
}

/*
 * After a successful init_module: note the instance, start the module and
 * run stapio. Any failure before stapio runs unloads the module again.
 */
static int loaded(const struct sa_opts *o, const struct sa_ids *ids, struct sa_module *m,
		  struct sa_record *rec, const struct sa_event *ev)
{
	struct sa_control ctl = {.relay_fd = -1};
	struct sc_error err = {.msg = ""};
	int r, sig;

	sa_audit_allow(ev, "loaded");
	r = sa_registry_commit(rec, 0, &err);
	if (r == 0)
		r = sa_control_start(m, ids->uid, o->verbose, &ctl, &err);
	if (r == 0 && (sig = sa_signals_pending()) != 0) {
		sc_error_set(&err, "interrupted by %s", strsignal(sig));
		r = -EINTR;
	}
	if (r == 0)
		return run_stapio(o, ids, m, &ctl, rec, ev);
	sa_control_close(&ctl);
	sa_audit_refuse(ev, NULL, "%s (unloading it)", err.msg);
	sa_registry_end(rec, 1, ev);
	return SA_EXIT_REFUSED;
}

int sa_cmd_run(const struct sa_opts *o, const struct sa_ids *ids)
{
	struct sa_event ev = {.action = "load", .module = o->module};
	struct sc_error err = {.msg = ""};
	struct sa_record *rec = NULL;
	struct sa_module m;
	int rc = SA_EXIT_REFUSED, sig, r;

	memset(&m, 0, sizeof(m));
	if (sa_module_prepare(o, ids, &m, &err) < 0)
		goto refused;
	ev.digest = m.hex;
	ev.params = m.params;
	if ((sig = sa_signals_pending()) != 0) {
		sc_error_set(&err, "interrupted by %s; nothing was loaded",
			     strsignal(sig));
		goto refused;
	}
	if (sa_registry_claim(&m, ids, o, &rec, &err) < 0)
		goto refused;
	sa_audit_allow(&ev, "entry %s", m.hintbuf);
	sa_info(o->verbose, "init_module(%s, %zu bytes, \"%s\")", m.name, m.len,
		m.params);
	r = sa_kernel_insert(&m, ids, &err);
	sa_module_drop_buffer(&m);
	if (r < 0) {
		m.hint = NULL;
		/* A loader that died may have loaded it: that is unloaded too. */
		sa_registry_end(rec, r == -ECHILD, &ev);
		goto refused;
	}
	rc = loaded(o, ids, &m, rec, &ev);
	goto out;
refused:
	sa_module_drop_buffer(&m);
	ev.digest = m.hex[0] ? m.hex : NULL;
	ev.params = m.params;
	sa_audit_refuse(&ev, m.hint, "%s", err.msg);
out:
	sa_record_free(rec);
	sa_module_free(&m);
	return rc;
}
