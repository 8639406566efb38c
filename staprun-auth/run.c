/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The load command: check, claim a registry record, init_module, start the
 * module, then fork. The child drops privileges for good and becomes
 * systemtap's stapio, exactly as staprun 4.8 would run it; the root parent
 * stays behind as a small watchdog that ignores the terminal's signals,
 * waits for the child and unloads the module if it is still loaded, however
 * the child ended (Ctrl-C, SIGTERM, SIGHUP, even SIGKILL).
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth.h"

#define STAPIO_FD 3 /* where the relay directory reaches stapio (-F3) */

static const int term_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void set_term_signals(void (*handler)(int))
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = handler;
	for (i = 0; i < sizeof(term_signals) / sizeof(term_signals[0]); i++)
		sigaction(term_signals[i], &sa, NULL);
}

int sa_cmd_verify(const struct sa_opts *o, const struct sa_ids *ids)
{
	struct sa_event ev = {.action = "verify", .module = o->module};
	struct sc_error err = {.msg = ""};
	struct sa_module m;
	int rc = SA_EXIT_REFUSED;

	memset(&m, 0, sizeof(m));
	if (sa_module_prepare(o, ids, &m, &err) < 0) {
		ev.digest = m.hex[0] ? m.hex : NULL;
		ev.params = m.params;
		sa_audit_refuse(&ev, m.hint, "%s", err.msg);
		goto out;
	}
	ev.digest = m.hex;
	ev.params = m.params;
	sa_audit_allow(&ev, "would load (entry %s)", m.hintbuf);
	printf("allowed: %s (sha256:%s, entry %s, parameters '%s')\n", m.path, m.hex,
	       m.hintbuf, m.params);
	rc = SA_EXIT_OK;
out:
	sa_module_release(&m);
	return rc;
}

/* stapio's argv, as staprun 4.8 builds it from its own: options, module, params, -F. */
static void build_argv(const struct sa_opts *o, char **argv, char *bopt, size_t blen,
		       char *modpath, size_t mlen)
{
	static char vflag[] = "-v", Cflag[] = "-C", cflag[] = "-c", xflag[] = "-x",
		    oflag[] = "-o", bflag[] = "-b", Fopt[] = "-F3";
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

/* The child: become the caller for good, then stapio. Never returns. */
static void exec_stapio(const struct sa_opts *o, const struct sa_ids *ids,
			const struct sa_module *m, int relay_fd)
{
	char *argv[SA_MAX_PARAMS + 32], bopt[16], modpath[4096 + 8], verbose[16];
	struct sc_error err = {.msg = ""};
	sigset_t none;

	set_term_signals(SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (relay_fd != STAPIO_FD && dup2(relay_fd, STAPIO_FD) < 0)
		goto fail;
	if (fcntl(STAPIO_FD, F_SETFD, 0) < 0)
		goto fail;
	closefrom(STAPIO_FD + 1);
	snprintf(verbose, sizeof(verbose), "%d", o->verbose);
	if (setenv("SYSTEMTAP_STAPRUN", SA_SELF, 1) < 0 ||
	    setenv("SYSTEMTAP_VERBOSE", verbose, 1) < 0 ||
	    setenv("SYSTEMTAP_MODULE", m->name, 1) < 0)
		goto fail;
	umask(ids->umask);
	if (sa_drop_privileges(ids, &err) < 0)
		goto fail;
	build_argv(o, argv, bopt, sizeof(bopt), modpath, sizeof(modpath));
	execv(SC_STAPIO, argv);
	sc_error_set(&err, "cannot run %s: %s", SC_STAPIO, strerror(errno));
fail:
	fprintf(stderr, "%s: %s\n", SA_PROG, err.msg[0] ? err.msg : strerror(errno));
	_exit(127);
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

/* Fork stapio, watch it, clean up after it. Returns the exit status. */
static int run_stapio(const struct sa_opts *o, const struct sa_ids *ids,
		      const struct sa_module *m, struct sa_control *ctl,
		      struct sa_record *rec, const struct sa_event *ev)
{
	struct sc_error err = {.msg = ""};
	pid_t pid;
	int rc;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		sa_audit_refuse(ev, NULL, "fork: %s", strerror(errno));
		sa_registry_release(rec, SA_UNLOAD_NOW, &err);
		return SA_EXIT_REFUSED;
	}
	if (pid == 0)
		exec_stapio(o, ids, m, ctl->relay_fd);
	sa_control_release(ctl);
	rc = wait_child(pid);
	if (sa_registry_release(rec, SA_UNLOAD_IF_OURS, &err) < 0) {
		sa_audit_refuse(ev, "run staprun-auth -d MODULE to try again", "%s",
				err.msg);
		return rc ? rc : SA_EXIT_REFUSED;
	}
	sa_audit_allow(ev, "run ended (status %d), module unloaded", rc);
	return rc;
}

/*
 * After a successful init_module the module's ids are fixed (the runtime took
 * the caller's uid for its files), so the parent becomes root through and
 * through: the caller can no longer kill the watchdog that unloads it.
 */
static int loaded(const struct sa_opts *o, const struct sa_ids *ids, struct sa_module *m,
		  struct sa_record *rec, const struct sa_event *ev)
{
	struct sa_control ctl = {.relay_fd = -1};
	struct sc_error err = {.msg = ""}, err2;
	int r;

	sa_audit_allow(ev, "loaded");
	r = setresuid(0, 0, 0) < 0 ? -errno : 0;
	if (r < 0)
		sc_error_set(&err, "setresuid: %s", strerror(-r));
	if (r == 0)
		r = sa_registry_commit(rec, &err);
	if (r == 0)
		r = sa_control_start(m->name, ids->uid, o->verbose, &ctl, &err);
	if (r == 0)
		return run_stapio(o, ids, m, &ctl, rec, ev);
	sa_control_release(&ctl);
	sa_audit_refuse(ev, NULL, "%s (unloading it)", err.msg);
	if (sa_registry_release(rec, SA_UNLOAD_NOW, &err2) < 0)
		fprintf(stderr, "%s: %s\n", SA_PROG, err2.msg);
	return SA_EXIT_REFUSED;
}

int sa_cmd_run(const struct sa_opts *o, const struct sa_ids *ids)
{
	struct sa_event ev = {.action = "load", .module = o->module};
	struct sc_error err = {.msg = ""};
	struct sa_record *rec = NULL;
	struct sa_module m;
	int rc = SA_EXIT_REFUSED;

	memset(&m, 0, sizeof(m));
	/* From here on a signal must not leave a module loaded behind us. */
	set_term_signals(SIG_IGN);
	/* A caller's RLIMIT_FSIZE must make a write fail, not kill us mid-load. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	if (sa_module_prepare(o, ids, &m, &err) < 0)
		goto refused;
	ev.digest = m.hex;
	ev.params = m.params;
	if (sa_registry_claim(&m, ids, &rec, &err) < 0)
		goto refused;
	sa_audit_allow(&ev, "entry %s", m.hintbuf);
	sa_info(o->verbose, "init_module(%s, %zu bytes, \"%s\")", m.name, m.len,
		m.params);
	if (sa_module_insert(&m, &err) < 0) {
		m.hint = NULL;
		sa_registry_release(rec, SA_KEEP, NULL);
		goto refused;
	}
	free(m.buf);
	m.buf = NULL;
	rc = loaded(o, ids, &m, rec, &ev);
	goto out;
refused:
	ev.digest = m.hex[0] ? m.hex : NULL;
	ev.params = m.params;
	sa_audit_refuse(&ev, m.hint, "%s", err.msg);
out:
	sa_record_free(rec);
	sa_module_release(&m);
	return rc;
}
