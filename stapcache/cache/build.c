/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/build.h"
#include "cache/stapq.h"
#include "common/fsutil.h"
#include "output/progress.h"

unsigned sc_build_timeout(const struct sc_request *req, const struct sc_ctx *ctx)
{
	return req->build_timeout >= 0 ? (unsigned)req->build_timeout
				       : ctx->build_timeout_s;
}

int sc_build_interrupted(void)
{
	return sc_forward_caught();
}

int sc_build_argv(const struct sc_build *b, const char *script_path, struct sc_argv *a)
{
	const struct sc_request *req = b->req;
	int r;

	r = sc_argv_push(a, b->kernel->root ? SC_BUILDROOT_STAP : b->ctx->stap);
	r = r ?: sc_argv_push(a, "-p4");
	if (b->ctx->progress && !req->verbose) /* pass markers for the status line */
		r = r ?: sc_argv_push(a, "-v");
	if (b->ctx->progress) /* its stderr is a pipe, but what it colours is seen */
		r = r ?: sc_argv_push(a, "--color=always");
	r = r ?: sc_argv_push(a, "-m");
	r = r ?: sc_argv_push(a, b->key->module);
	r = r ?: sc_argv_push(a, "-r");
	r = r ?: sc_argv_push(a, b->kernel->spec);
	if (req->arch)
		r = r ?: sc_argv_push(a, "-a") ?: sc_argv_push(a, req->arch);
	r = r ?: sc_argv_push(a, "-R");
	r = r ?: sc_argv_push(a, b->key->runtime);
	if (b->key->kbuild_auto)
		r = r ?: sc_argv_push(a, "-B") ?: sc_argv_push(a, b->key->kbuild_auto);
	for (size_t i = 0; r == 0 && i < req->n_opts; i++) {
		const struct sc_opt *o = req->opts[i].opt;

		if (o->stap && o->key == SC_KEY_FILE) { /* stap runs in the staging dir */
			char *path = sc_key_object_path(req->opts[i].value);

			r = sc_argv_push(a, o->stap) ?: sc_argv_pushf(a, "%s", path);
			free(path);
		} else if (o->stap && o->role != SC_ROLE_RUN && o->role != SC_ROLE_OWN) {
			r = sc_opt_push(a, o->stap, &req->opts[i]);
		}
	}
	if (script_path)
		r = r ?: sc_argv_push(a, script_path);
	else
		r = r ?: sc_argv_push(a, "-e") ?: sc_argv_push(a, b->key->script);
	for (size_t i = 0; r == 0 && i < req->args.n; i++)
		r = sc_argv_push(a, req->args.v[i]);
	return r;
}

/*
 * The script's copy in work, and the path stap is given: the same, or in a
 * build root the copy's path inside it (work is bound at SC_BUILDROOT_WORK).
 */
static int write_script_copy(const char *work, const struct sc_key *key, bool in_root,
			     char **out)
{
	char *path = sc_strdupf("%s/%s", work, key->script_name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r;

	if (fd < 0) {
		r = -errno;
		free(path);
		return r;
	}
	r = sc_write_all(fd, key->script, key->script_len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		free(path);
		return r;
	}
	if (in_root) {
		free(path);
		path = sc_strdupf("%s/%s", SC_BUILDROOT_WORK, key->script_name);
	}
	*out = path;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Progress on a terminal: stap -v reports the end of each pass ("Pass 2:
 * analyzed script ..."), which is the only outside view of where it is. -v
 * changes what stap prints, never the module (its row says so; the key does
 * not see it). Its stderr then comes through a pipe: pass lines become the
 * status line (and are kept when the user asked for -v), every other line is
 * passed on as it is, coloured as stap colours a terminal (--color=always:
 * progress is only on when stderr is a terminal whose TERM is not dumb, which
 * is when stap's own "auto" colours).
 */
struct follow {
	struct sc_progress *p;
	const char *module;
	bool keep_passes; /* the user's own -v: the pass lines are theirs */
	int pass;         /* the pass stap is in, 1-4 */
	double t0;
	double deadline; /* the build timeout's end (now() clock); 0: none */
	char buf[8192];
	size_t len;
};

static void follow_show(struct follow *f)
{
	static const char *const what[] = {"parsing", "elaborating", "translating to C",
					   "compiling the module"};
	char text[256];

	snprintf(text, sizeof(text), "stapcache: %s: pass %d/4, %s, %.1f s", f->module,
		 f->pass, what[f->pass - 1], now() - f->t0);
	sc_progress_show(f->p, text);
}

static void follow_line(struct follow *f, const char *line, size_t n)
{
	bool pass = n > 8 && !strncmp(line, "Pass ", 5) && line[5] >= '1' &&
		    line[5] <= '4' && line[6] == ':';

	if (pass && line[5] - '0' >= f->pass) {
		f->pass = line[5] - '0' < 4 ? line[5] - '0' + 1 : 4;
		follow_show(f); /* every pass is shown, however short */
	}
	if (pass && !f->keep_passes)
		return;
	sc_progress_hide(f->p);
	(void)sc_write_all(2, line, n);
}

/* Read what stap wrote; pass on whole lines (a line longer than buf in pieces). */
static int follow_read(struct follow *f, int fd)
{
	ssize_t got = read(fd, f->buf + f->len, sizeof(f->buf) - f->len);
	char *nl;

	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (got == 0 && f->len) /* the end: an unfinished last line */
		follow_line(f, f->buf, f->len);
	if (got == 0)
		return 1;
	f->len += (size_t)got;
	while ((nl = memchr(f->buf, '\n', f->len))) {
		size_t n = (size_t)(nl - f->buf) + 1;

		follow_line(f, f->buf, n);
		memmove(f->buf, nl + 1, f->len - n);
		f->len -= n;
	}
	if (f->len == sizeof(f->buf)) {
		follow_line(f, f->buf, f->len);
		f->len = 0;
	}
	return 0;
}

/*
 * Follow stap's stderr until it is closed or stap has exited (whatever it
 * left running is killed by the caller), redrawing the status line.
 */
static void follow_stap(struct follow *f, int fd, pid_t pid, int *status, bool *reaped)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, 200);

		if (n > 0 && follow_read(f, fd) != 0)
			break;
		if (!*reaped && waitpid(pid, status, WNOHANG) == pid)
			*reaped = true;
		if (*reaped &&
		    poll(&pfd, 1, 0) <= 0) /* exited, and nothing more to read */
			break;
		if (!*reaped && f->deadline > 0 && now() >= f->deadline)
			break; /* the build timeout: the caller stops it */
		follow_show(f);
	}
	sc_progress_hide(f->p);
}

/* How long a stap that asks no more to end (SIGTERM) gets before SIGKILL. */
#define TERM_GRACE_MS 2000

/*
 * Wait for stap for at most left_ms milliseconds (< 0: no limit). When it
 * is over, its process group gets SIGTERM, then SIGKILL. Returns 0 and its
 * status, -ETIMEDOUT (reaped), or -errno.
 */
static int wait_stap(pid_t pid, long left_ms, int *status)
{
	int r;

	if (left_ms < 0)
		return sc_wait(pid, status);
	r = sc_wait_timeout(pid, left_ms, status);
	if (r != -ETIMEDOUT)
		return r;
	kill(-pid, SIGTERM);
	if (sc_wait_timeout(pid, TERM_GRACE_MS, status) == -ETIMEDOUT) {
		kill(-pid, SIGKILL);
		(void)sc_wait(pid, status);
	}
	return -ETIMEDOUT;
}

/* What is left of the build timeout in ms (at least 1), or -1: no limit. */
static long time_left_ms(const struct follow *f)
{
	double left = f->deadline - now();

	if (f->deadline <= 0)
		return -1;
	return left > 0.001 ? (long)(left * 1000) : 1;
}

/* Run stap, passing on the signals that would stop us. Returns 0 and its status. */
static int run_stap(const struct sc_argv *a, const char *work, const struct sc_build *b,
		    const struct sc_jail *jail, int *status)
{
	struct sc_spawn_opts o = SC_SPAWN_OPTS_INIT;
	unsigned timeout_s = sc_build_timeout(b->req, b->ctx);
	struct follow f = {.module = b->key->module,
			   .keep_passes = b->req->verbose > 0,
			   .pass = 1,
			   .t0 = now()};
	int null = -1, pfd[2] = {-1, -1}, r;
	bool reaped = false;
	pid_t pid;

	if (b->ctx->progress && pipe2(pfd, O_CLOEXEC) == 0)
		f.p = sc_progress_new(2);
	/* stdout is reserved for the module path: stap's goes to stderr or nowhere. */
	if (!b->req->verbose)
		null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	o.stdout_fd = b->req->verbose ? (f.p ? pfd[1] : 2) : null;
	o.stderr_fd = f.p ? pfd[1] : -1;
	if (jail) { /* it chdirs to work inside; TMPDIR is the root's private /tmp */
		o.setup = sc_jail_enter;
		o.setup_arg = jail;
	} else {
		o.dir = work;
		o.tmpdir = work;
	}
	o.new_group = true;       /* so that every compiler it starts can be stopped */
	o.die_with_parent = true; /* a build outlives nothing */
	o.default_signals = true;
	sc_forward_begin(SC_FORWARD_GROUP);
	f.deadline = timeout_s ? now() + timeout_s : 0;
	r = sc_spawn(a->v, &o, &pid);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (r == 0) {
		sc_forward_child(pid);
		if (f.p)
			follow_stap(&f, pfd[0], pid, status, &reaped);
		r = reaped ? 0 : wait_stap(pid, time_left_ms(&f), status);
		sc_forward_child(0);
		kill(-pid, SIGKILL); /* stragglers of an interrupted or failed kbuild */
	}
	/*
	 * Interrupted, the request is ending: the handlers stay, so that a
	 * second signal (timeout(1) signals its group as well, a second Ctrl-C)
	 * cannot kill us before the cache has removed the staging directory.
	 */
	if (!sc_forward_caught())
		sc_forward_end();
	if (null >= 0)
		close(null);
	if (pfd[0] >= 0)
		close(pfd[0]);
	sc_progress_free(f.p);
	return r;
}

static int stap_failed(const struct sc_build *b, int status, struct sc_error *err)
{
	const char *why;

	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		sc_error_set(err,
			     "could not run %s; install systemtap or set 'stap:' in "
			     "config.yaml",
			     b->ctx->stap);
		return -ENOEXEC;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == SC_SPAWN_SETUP_FAILED &&
	    b->kernel->root) {
		sc_error_set(err,
			     "stap could not start in the build root %s (the reason is "
			     "above); nothing was cached",
			     b->kernel->root->dir);
		return -EPERM;
	}
	if (WIFSIGNALED(status)) {
		sc_error_set(err, "stap was killed by signal %d; nothing was cached",
			     WTERMSIG(status));
		return -EIO;
	}
	why = sc_kernel_runtime_fix(b->kernel, b->key->runtime_host ? b->key->runtime_host
								    : b->key->runtime);
	if (why && b->kernel->root) {
		sc_error_set(err,
			     "stap failed (exit status %d): the runtime %s in the build "
			     "root %s needs a fix for %s, whose %s; prepare it with "
			     "'stapcache buildroot create --release %s --dir %s' (as "
			     "root); nothing was cached",
			     WEXITSTATUS(status), b->key->runtime, b->kernel->root->dir,
			     b->kernel->release, why, b->kernel->root->release,
			     b->kernel->root->dir);
		return -EIO;
	}
	if (why) {
		sc_error_set(
			err,
			"stap failed (exit status %d): the systemtap runtime %s does not "
			"compile for %s, whose %s; prepare a fixed runtime with "
			"'stapcache-fix-runtime -r %s' and set the directory it prints as "
			"'runtime:' in config.yaml (or pass -R DIR); nothing was cached",
			WEXITSTATUS(status), b->key->runtime, b->kernel->release, why,
			b->kernel->release);
		return -EIO;
	}
	sc_error_set(err,
		     "stap failed (exit status %d; its messages are above); "
		     "nothing was cached",
		     WEXITSTATUS(status));
	return -EIO;
}

int sc_build_run(void *arg, const char *tmpdir, struct sc_record *meta,
		 struct sc_error *err)
{
	const struct sc_build *b = arg;
	const struct sc_key *key = b->key;
	struct sc_jail *jail = NULL;
	struct sc_argv a = {0};
	char *work = sc_strdupf("%s/work", tmpdir), *script_copy = NULL;
	char *built = NULL, *dest = NULL, *stapq = NULL;
	double t0 = now();
	struct timespec stap_started;
	unsigned timeout = sc_build_timeout(b->req, b->ctx);
	int status = 0, r;

	if (mkdir(work, 0700) < 0) {
		r = -errno;
		sc_error_set(err, "cannot create %s: %s", work, strerror(-r));
		goto out;
	}
	if (!b->req->script_text) {
		r = write_script_copy(work, key, b->kernel->root != NULL, &script_copy);
		if (r < 0) {
			sc_error_set(err, "cannot stage the script: %s", strerror(-r));
			goto out;
		}
	}
	if (b->kernel->root) {
		r = sc_jail_new(b->kernel->root, work, key->runtime_bind, &jail, err);
		if (r < 0)
			goto out;
	}
	r = sc_build_argv(b, script_copy, &a);
	if (r < 0) {
		sc_error_set(err, "out of memory");
		goto out;
	}
	if (!b->quiet)
		fprintf(stderr, "stapcache: compiling %s for %s%s%s (%s)\n", key->module,
			b->kernel->release, b->kernel->root ? " in the build root " : "",
			b->kernel->root ? b->kernel->root->dir : "",
			b->why ? b->why : "cache miss");
	if (b->req->verbose) {
		fprintf(stderr, "stapcache: running");
		for (size_t i = 0; i < a.n; i++)
			fprintf(stderr, " %s", a.v[i]);
		fputc('\n', stderr);
	}
	/* stap's per-kernel caches from the shared store, before it looks (stapq.h) */
	stapq = sc_strdupf("%s/stapq", tmpdir);
	if (stapq && mkdir(stapq, 0700) == 0)
		sc_stapq_fetch(b, stapq);
	/* The clock file times come from: what the fetch installed is not later. */
	clock_gettime(CLOCK_REALTIME_COARSE, &stap_started);
	r = run_stap(&a, work, b, jail, &status);
	if (r == -ETIMEDOUT) {
		sc_error_set(err,
			     "stap did not finish within %u s, so its process group was "
			     "killed and nothing was cached; raise the limit with "
			     "--build-timeout SECONDS or 'build-timeout:' in config.yaml "
			     "(0: no limit)",
			     timeout);
		goto out;
	}
	if (r < 0) {
		sc_error_set(err, "cannot start stap: %s", strerror(-r));
		goto out;
	}
	if (sc_forward_caught()) {
		r = -EINTR;
		sc_error_set(err, "build interrupted by signal %d; nothing was cached",
			     sc_forward_caught());
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		r = stap_failed(b, status, err);
		goto out;
	}
	built = sc_strdupf("%s/%s.ko", work, key->module);
	dest = sc_strdupf("%s/%s.ko", tmpdir, key->module);
	r = rename(built, dest) < 0 ? -errno : 0;
	if (r < 0) {
		sc_error_set(err, "stap succeeded but produced no %s.ko: %s", key->module,
			     strerror(-r));
		goto out;
	}
	if (stapq)
		sc_stapq_publish(b, &stap_started, stapq);
	r = sc_record_add_str(meta, "kernel", b->kernel->release);
	r = r ?: sc_record_add_str(meta, "arch", b->kernel->arch);
	r = r
		    ?: sc_record_add_str(meta, "stap-version",
					 sc_record_get(key->record, "stap.version"));
	r = r ?: sc_record_addf(meta, "build-seconds", "%.2f", now() - t0);
out:
	(void)sc_rm_rf(work);
	if (stapq)
		(void)sc_rm_rf(stapq);
	free(stapq);
	sc_jail_free(jail);
	sc_argv_free(&a);
	free(work);
	free(script_copy);
	free(built);
	free(dest);
	return r;
}
