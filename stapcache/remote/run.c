/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ship a module to one target and run it there. The target needs a POSIX
 * shell, mktemp, sha256sum and the runner: no stapcache, no compiler.
 *
 * Cleanup, however the run ends:
 * - normal end, or the runner failing: the wrapper removes its dir;
 * - Ctrl-C here: the channel gets a TERM signal request and EOF on stdin;
 *   the wrapper TERMs the runner (which unloads the module), waits, cleans up;
 * - this process SIGKILLed, or the network gone: sshd closes the channel, the
 *   wrapper's stdin reaches EOF, and it does the same;
 * - the target rebooted or the wrapper itself killed: the next connection to
 *   that host removes dirs of ours whose runner is no longer alive;
 * - the connection lost before the run (mid-upload): the dir's pid file names
 *   the sshd process of that connection (the prepare command's parent) until
 *   the wrapper puts the runner's there, so the next connection removes it too.
 *   A truncated upload is never renamed to the module's name.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "digest.h"
#include "fsutil.h"
#include "modinfo.h"
#include "run.h"

#define MODULE_MAX (64u << 20)

/*
 * Remove dirs of earlier runs whose runner (or, before the run, connection)
 * is gone, then make a fresh one, owned by this connection until the run.
 */
static const char prepare_cmd[] =
	"uname -r; umask 077; "
	"for x in \"${TMPDIR:-/tmp}\"/stapcache.*; do "
	"[ -d \"$x\" ] && [ -O \"$x\" ] && [ -f \"$x/pid\" ] && "
	"! kill -0 \"$(cat \"$x/pid\")\" 2>/dev/null && rm -rf \"$x\"; "
	"done 2>/dev/null; "
	"d=$(mktemp -d \"${TMPDIR:-/tmp}/stapcache.XXXXXXXX\") && chmod 700 \"$d\" && "
	"echo \"$PPID\" > \"$d/pid\" && printf '%s\\n' \"$d\"";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *append(char *s, const char *word)
{
	char *q = sc_shell_quote(word), *n = sc_strdupf("%s %s", s, q);

	free(q);
	free(s);
	return n;
}

int sc_run_secret_init(struct sc_run_secret *s, bool may_ask)
{
	unsigned char rnd[8];
	char hex[17];

	memset(s, 0, sizeof(*s));
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -errno;
	sc_hex(hex, rnd, sizeof(rnd));
	/* No '%': sudo expands %u, %h, %p in its prompt. */
	snprintf(s->marker, sizeof(s->marker), "[stapcache sudo %s] ", hex);
	s->may_ask = may_ask;
	return pthread_mutex_init(&s->lock, NULL) == 0 ? 0 : -ENOMEM;
}

void sc_run_secret_clear(struct sc_run_secret *s)
{
	explicit_bzero(s->pw, sizeof(s->pw));
	s->len = 0;
	s->state = 0;
	pthread_mutex_destroy(&s->lock);
}

/* sc_ssh_prompt's answer: the password, asked on the terminal the first time. */
static int sudo_answer(void *ud, char *buf, size_t n)
{
	struct sc_run_secret *s = ud;
	int r = -1;

	pthread_mutex_lock(&s->lock);
	if (s->state == 0) {
		int got =
			s->may_ask
				? sc_ssh_ask_tty("stapcache: sudo password on the targets: ",
						 s->pw, sizeof(s->pw))
				: -ENOTTY;

		s->state = got < 0 ? -1 : 1;
		s->len = got < 0 ? 0 : (size_t)got;
		if (got < 0)
			explicit_bzero(s->pw, sizeof(s->pw));
	}
	if (s->state == 1 && s->len <= n) {
		memcpy(buf, s->pw, s->len);
		r = (int)s->len;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

char *sc_run_wrapper(enum sc_runner runner, const char *dir, const char *module_name,
		     const struct sc_run_req *rq)
{
	static const char *const runners[] = {"staprun-auth", "sudo", "staprun"};
	char *qd = sc_shell_quote(dir), *mod = sc_strdupf("%s/%s.ko", dir, module_name);
	char *cmd = sc_strdupf("%s", runners[runner]), *out;

	if (runner == SC_RUNNER_SUDO) {
		cmd = append(cmd, "-p");
		cmd = append(cmd, rq->sudo ? rq->sudo->marker : "[sudo] password: ");
		cmd = append(cmd, "staprun");
	}

	for (size_t i = 0; i < rq->nrunner_opts; i++)
		cmd = append(cmd, rq->runner_opts[i]);
	cmd = append(cmd, mod);
	for (size_t i = 0; i < rq->nparams; i++)
		cmd = append(cmd, rq->params[i]);
	/*
	 * The runner gets /dev/null as stdin; the channel's stdin (fd 3) is
	 * watched by a subshell that stops the runner at EOF. SIGPIPE is ignored
	 * so that a lost connection makes writes fail instead of killing the
	 * runner before it has unloaded the module.
	 */
	out = sc_strdupf("d=%s; cd \"$d\" || exit 125; trap '' PIPE; exec 3<&0; "
			 "%s </dev/null 3<&- & p=$!; echo \"$p\" > \"$d/pid\"; "
			 "( while read -r _ <&3; do :; done; kill -TERM \"$p\" ) "
			 ">/dev/null 2>&1 & w=$!; "
			 "trap 'kill -TERM \"$p\" 2>/dev/null' TERM INT HUP; "
			 "while :; do wait \"$p\"; s=$?; kill -0 \"$p\" 2>/dev/null || break; "
			 "done; kill \"$w\" 2>/dev/null; cd / && rm -rf \"$d\"; exit \"$s\"",
			 qd, cmd);
	if (runner == SC_RUNNER_SUDO) {
		/*
		 * On the PTY: no echo (nothing typed comes back, whenever it is
		 * sent), no "\r\n"; nothing reads the terminal but sudo, which
		 * opens /dev/tty for the password; the hangup when the
		 * connection goes (HUP) stops the runner.
		 */
		free(out);
		out = sc_strdupf(
			"stty -echo -onlcr 2>/dev/null; d=%s; cd \"$d\" || exit 125; "
			"trap '' PIPE; %s </dev/null & p=$!; echo \"$p\" > \"$d/pid\"; "
			"trap 'kill -TERM \"$p\" 2>/dev/null' TERM INT HUP; "
			"while :; do wait \"$p\"; s=$?; kill -0 \"$p\" 2>/dev/null || "
			"break; done; cd / && rm -rf \"$d\"; exit \"$s\"",
			qd, cmd);
	}
	free(qd);
	free(mod);
	free(cmd);
	return out;
}

static int fail(struct sc_run_result *res, enum sc_run_phase phase, int r,
		const struct sc_error *err)
{
	res->phase = phase;
	res->status = 255;
	snprintf(res->msg, sizeof(res->msg), "%s", err->msg);
	return r;
}

static void remove_dir(struct sc_ssh *s, const char *dir)
{
	char *q = sc_shell_quote(dir), *cmd = sc_strdupf("rm -rf %s", q);
	int st;

	(void)sc_ssh_exec(s, cmd, NULL, 0, NULL, &st, NULL);
	free(q);
	free(cmd);
}

/* The module's bytes, digest and internal name (= its file name there). */
static int read_module(const char *path, char **buf, size_t *len, char hex[65],
		       char name[64], struct sc_error *err)
{
	uint8_t md[SC_SHA256_LEN];
	struct sc_modinfo *mi = NULL;
	int r = sc_read_file(path, MODULE_MAX, buf, len);

	if (r < 0) {
		sc_error_set(err, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	r = sc_modinfo_parse(*buf, *len, &mi, err);
	if (r < 0) {
		sc_error_prefix(err, "%s is not a kernel module", path);
		free(*buf);
		return r;
	}
	snprintf(name, 64, "%s", sc_modinfo_name(mi));
	sc_modinfo_free(mi);
	sc_sha256(*buf, *len, md);
	sc_hex(hex, md, sizeof(md));
	return 0;
}

static int prepare(struct sc_ssh *s, const struct sc_target *t, char **dir,
		   struct sc_run_result *res, struct sc_error *err)
{
	char *out = NULL, *nl;
	int st, r;

	r = sc_ssh_exec(s, prepare_cmd, NULL, 0, &out, &st, err);
	if (r == 0 && st != 0) {
		sc_error_prefix(err, "cannot make a private temp dir (mktemp -d) there");
		r = -EIO;
	}
	if (r < 0)
		return fail(res, SC_PHASE_PREPARE, r, err);
	nl = strchr(out, '\n');
	if (!nl || nl[1] != '/' || !strchr(nl + 1, '\n')) {
		sc_error_set(err, "unexpected answer to uname -r; mktemp -d: '%.100s'",
			     out);
		free(out);
		return fail(res, SC_PHASE_PREPARE, -EIO, err);
	}
	*nl = '\0';
	*strchr(nl + 1, '\n') = '\0';
	*dir = sc_strdupf("%s", nl + 1);
	if (strcmp(out, t->kernel) != 0) {
		sc_error_set(err,
			     "refused: it runs kernel %s now, but known_hosts (%s) says "
			     "%s; a module built for %s would not load. Update the entry: "
			     "stapcache host refresh %s",
			     out, t->origin, t->kernel, t->kernel, t->name);
		remove_dir(s, *dir);
		free(out);
		return fail(res, SC_PHASE_KERNEL, -ESTALE, err);
	}
	free(out);
	return 0;
}

static int upload(struct sc_ssh *s, const char *dir, const char *name, const char *buf,
		  size_t len, const char *hex, struct sc_run_result *res,
		  struct sc_error *err)
{
	char *qd = sc_shell_quote(dir), *out = NULL, *cmd;
	int st, r;

	/* All of it or nothing under the module's name: a cut connection is an EOF here. */
	cmd = sc_strdupf("cd %s && cat > .%s.ko.part && n=$(wc -c < .%s.ko.part) && "
			 "[ $n -eq %zu ] && mv -f .%s.ko.part %s.ko && sha256sum %s.ko",
			 qd, name, name, len, name, name, name);
	r = sc_ssh_exec(s, cmd, buf, len, &out, &st, err);
	free(cmd);
	free(qd);
	if (r == 0 && st != 0) {
		sc_error_prefix(err, "upload failed (status %d)", st);
		r = -EIO;
	}
	if (r == 0 && (strlen(out) < 64 || strncmp(out, hex, 64) != 0)) {
		sc_error_set(err,
			     "the uploaded copy's sha256 is %.64s, not %s: not running it",
			     out, hex);
		r = -EBADMSG;
	}
	free(out);
	return r < 0 ? fail(res, SC_PHASE_UPLOAD, r, err) : 0;
}

/*
 * The sudo runner, on a PTY, its password prompt answered from rq->sudo. A
 * prompt that cannot be answered, or a second one (the answer was wrong),
 * fails this target with what to do about it.
 */
static int run_sudo(struct sc_ssh *s, const struct sc_target *t, const char *cmd,
		    const struct sc_run_req *rq, sc_ssh_line_fn fn, void *ud,
		    volatile sig_atomic_t *stop, struct sc_run_result *res,
		    struct sc_error *err)
{
	struct sc_ssh_prompt pr = {.marker = rq->sudo ? rq->sudo->marker
						      : "[sudo] password: ",
				   .answer = sudo_answer,
				   .ud = rq->sudo};
	int r;

	if (!rq->sudo)
		pr.answer = NULL;
	r = sc_ssh_stream_pty(s, cmd, &pr, fn, ud, stop, rq->grace, &res->status, err);
	if (r < 0)
		return r;
	if (pr.refused) {
		sc_error_set(err,
			     "sudo there needs a password, and there is no terminal here "
			     "to ask it on (stdin and stderr must be one). Either let %s run "
			     "staprun without one (sudoers: %s ALL=(root) NOPASSWD: "
			     "/usr/bin/staprun) or use the auth runner (execute: ...:auth, with "
			     "staprun-auth on the target)",
			     t->ex.user ? t->ex.user : "the login",
			     t->ex.user ? t->ex.user : "USER");
		return -EACCES;
	}
	if (pr.seen > 1) {
		sc_error_set(err,
			     "sudo there did not accept the password; nothing was run");
		return -EACCES;
	}
	return 0;
}

int sc_run_target(const struct sc_target *t, const char *module_path,
		  const struct sc_run_req *rq, sc_ssh_line_fn fn, void *ud,
		  volatile sig_atomic_t *stop, struct sc_run_result *res)
{
	struct sc_ssh_opts o = rq->ssh;
	struct sc_error err = {{0}};
	struct sc_ssh *s = NULL;
	char hex[65], name[64], *buf = NULL, *dir = NULL, *cmd = NULL;
	double t0 = now();
	size_t len = 0;
	int r;

	memset(res, 0, sizeof(*res));
	res->status = 255;
	r = read_module(module_path, &buf, &len, hex, name, &err);
	if (r < 0)
		return fail(res, SC_PHASE_READ, r, &err);
	o.name = t->name;
	r = sc_ssh_connect(&t->ex, &o, &s, &err);
	if (r < 0) {
		fail(res, SC_PHASE_CONNECT, r, &err);
		goto out;
	}
	r = prepare(s, t, &dir, res, &err);
	if (r == 0)
		r = upload(s, dir, name, buf, len, hex, res, &err);
	if (r < 0) {
		if (dir && res->phase != SC_PHASE_KERNEL)
			remove_dir(s, dir);
		goto out;
	}
	if (stop && *stop) {
		remove_dir(s, dir);
		sc_error_set(&err, "interrupted before the run");
		r = fail(res, SC_PHASE_UPLOAD, -EINTR, &err);
		goto out;
	}
	cmd = sc_run_wrapper(t->ex.runner, dir, name, rq);
	res->phase = SC_PHASE_RUN;
	if (t->ex.runner == SC_RUNNER_SUDO)
		r = run_sudo(s, t, cmd, rq, fn, ud, stop, res, &err);
	else
		r = sc_ssh_stream(s, cmd, fn, ud, stop, rq->grace, &res->status, &err);
	if (r < 0)
		fail(res, SC_PHASE_RUN, r, &err);
	else
		res->phase = SC_PHASE_DONE;
out:
	res->seconds = now() - t0;
	sc_ssh_free(s);
	free(cmd);
	free(dir);
	free(buf);
	return r;
}
