/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A local run whose output stapcache must read (--output json, a one-liner,
 * -o with either): instead of exec'ing the runner, stapcache forks it with
 * its stdout and stderr on pipes, stays as its parent, turns each line into
 * text or JSON (output.c) and ends with the summary and the runner's exit
 * status. The runner keeps the terminal's process group, so Ctrl-C reaches
 * it as before and it unloads the module itself; this parent only waits,
 * and passes on a TERM, a HUP, or an INT sent to it alone (kill -INT). When
 * the output cannot be written any more (a closed pipe), it TERMs the runner.
 *
 * With --duration (or max-duration:) the same loop is the supervisor too:
 * it polls with a timeout, counts from when stapio runs and then stops the
 * run as supervise.c does, with runproc.c's helpers (SIGINT to stapio, and
 * SIGKILL when it has not ended after the grace period).
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/spawn.h"
#include "run/runner.h"
#include "run/runproc.h"
#include "run/capture.h"

#define LINE_MAX_BYTES 65536

struct stream {
	int fd;
	bool is_stderr;
	char buf[LINE_MAX_BYTES];
	size_t n;
};

static void drain(struct stream *s, struct sc_output *out, bool eof)
{
	size_t start = 0;

	for (size_t k = 0; k < s->n; k++)
		if (s->buf[k] == '\n') {
			sc_output_line(out, 0, s->is_stderr, s->buf + start, k - start);
			start = k + 1;
		}
	/* A line longer than the buffer, or the last one without a newline. */
	if (start == 0 && (s->n == sizeof(s->buf) || (eof && s->n))) {
		sc_output_line(out, 0, s->is_stderr, s->buf, s->n);
		start = s->n;
	}
	memmove(s->buf, s->buf + start, s->n - start);
	s->n -= start;
}

/* --duration for a captured run: where the stop stands. */
enum stop_phase { NO_LIMIT, LOADING, RUNNING, STOPPING, KILLED };

struct stop_timer {
	enum stop_phase phase;
	unsigned seconds;
	double at; /* LOADING: give up waiting; RUNNING: stop; STOPPING: kill */
	int took;  /* processes that took the SIGINT */
	int verbose;
};

static void timer_start(struct stop_timer *t, unsigned seconds, int verbose)
{
	*t = (struct stop_timer){.phase = seconds ? LOADING : NO_LIMIT,
				 .seconds = seconds,
				 .at = sc_mono_now() + SC_START_WAIT_S,
				 .verbose = verbose};
}

/* Move the stop on for child; returns poll's timeout in ms (-1: none). */
static int timer_tick(struct stop_timer *t, pid_t child)
{
	double left, t_now = sc_mono_now();

	if (t->phase == LOADING && (sc_stapio_started(child) || t_now >= t->at)) {
		t->phase = RUNNING;
		t->at = t_now + t->seconds;
	}
	if (t->phase == RUNNING && t_now >= t->at) {
		if (t->verbose)
			fprintf(stderr, "stapcache: --duration reached; stopping "
					"the run (INT to stapio)\n");
		t->phase = STOPPING;
		t->at = t_now + SC_STOP_GRACE_S;
	}
	/* Before stapio runs there may be nobody to take it: keep trying. */
	if (t->phase == STOPPING && !t->took)
		t->took = sc_signal_run(child, SIGINT);
	if (t->phase == STOPPING && t_now >= t->at) {
		fprintf(stderr,
			"stapcache: the run did not end %d s after the stop; killing "
			"stapio (the runner unloads the module)\n",
			SC_STOP_GRACE_S);
		sc_signal_run(child, SIGKILL);
		t->phase = KILLED;
	}
	if (t->phase == NO_LIMIT || t->phase == KILLED)
		return -1;
	if (t->phase == LOADING || (t->phase == STOPPING && !t->took))
		return 100;
	left = t->at - t_now;
	return left < 0 ? 0 : (int)(left * 1000) + 1;
}

static void pump(struct stream *s, struct sc_output *out, pid_t child,
		 struct stop_timer *t)
{
	struct pollfd p[2];
	bool stopped = false;
	int open = 2;

	while (open > 0) {
		int timeout = timer_tick(t, child);
		int got;

		/* Nobody reads the output any more (| head): end the run, cleanly. */
		if (!stopped && sc_output_failed(out)) {
			kill(child, SIGTERM);
			stopped = true;
		}
		/* poll skips a closed stream's -1; only a ready one is read. */
		for (int k = 0; k < 2; k++)
			p[k] = (struct pollfd){.fd = s[k].fd, .events = POLLIN};
		got = poll(p, 2, timeout);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		if (got == 0)
			continue;
		for (int k = 0; k < 2; k++) {
			ssize_t n;

			if (s[k].fd < 0 || !p[k].revents)
				continue;
			n = read(s[k].fd, s[k].buf + s[k].n, sizeof(s[k].buf) - s[k].n);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				drain(&s[k], out, true);
				close(s[k].fd);
				s[k].fd = -1;
				open--;
				continue;
			}
			s[k].n += (size_t)n;
			drain(&s[k], out, false);
		}
	}
}

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The hint when the runner cannot be run at all. */
#define NO_RUNNER_HINT                                                                    \
	"; install staprun-auth (make install) or systemtap-runtime, or use -p4 and run " \
	"the module yourself"

static int run(const struct sc_argv *a, struct sc_output *out, struct timespec *t0,
	       struct stop_timer *t)
{
	struct sc_spawn_opts o = SC_SPAWN_OPTS_INIT;
	struct stream *s = calloc(2, sizeof(*s));
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, ws, r;
	pid_t pid;

	if (!s || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		fprintf(stderr, "stapcache: cannot start the runner: %s\n",
			strerror(errno));
		free(s);
		return -1;
	}
	/* A terminal's Ctrl-C already reached the runner: pass on only what came to us. */
	sc_forward_begin(SC_FORWARD_USER_INT);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, t0);
	o.stdout_fd = po[1];
	o.stderr_fd = pe[1];
	o.search_path = true;
	o.exec_hint = NO_RUNNER_HINT;
	r = sc_spawn(a->v, &o, &pid);
	close(po[1]);
	close(pe[1]);
	if (r < 0) {
		fprintf(stderr, "stapcache: cannot start the runner: %s\n", strerror(-r));
		close(po[0]);
		close(pe[0]);
		free(s);
		return -1;
	}
	sc_forward_child(pid);
	timer_start(t, t->seconds, t->verbose);
	s[0].fd = po[0];
	s[1].fd = pe[0];
	s[1].is_stderr = true;
	pump(s, out, pid, t);
	r = sc_wait(pid, &ws) == 0 ? sc_exit_status(ws) : 255;
	sc_forward_child(0);
	free(s);
	return r;
}

int sc_run_captured(const struct sc_request *req, const char *module_path,
		    const struct sc_output_opts *oo, unsigned duration)
{
	struct stop_timer t = {.seconds = duration, .verbose = req->verbose};
	const char *runner = sc_run_runner(), *name = "local";
	struct sc_output *out = NULL;
	struct sc_error err = {{0}};
	struct sc_argv a = {0};
	struct timespec t0;
	int status = 1;

	if (sc_run_refused(req, runner, &err) < 0 ||
	    sc_run_params_check(req, module_path, &err) < 0 ||
	    sc_output_new(oo, &name, 1, &out, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	if (sc_run_argv(req, runner, module_path, &a) < 0) {
		fprintf(stderr, "stapcache: out of memory\n");
		goto out;
	}
	if (req->verbose) {
		fprintf(stderr, "stapcache: running (output read by stapcache)");
		for (size_t i = 0; i < a.n; i++)
			fprintf(stderr, " %s", a.v[i]);
		fputc('\n', stderr);
	}
	status = run(&a, out, &t0, &t);
	if (status < 0) {
		status = 1;
		goto out;
	}
	sc_output_summary(out, 0, status, since(&t0),
			  status == 0                                  ? "ok"
			  : sc_forward_caught() || t.phase >= STOPPING ? "stopped"
								       : "runner failed");
	if (sc_output_finish(out, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		status = status ? status : 1;
	}
out:
	sc_output_free(out);
	sc_argv_free(&a);
	return status;
}
