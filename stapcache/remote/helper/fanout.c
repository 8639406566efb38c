/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fan-out: every target connects, ships and runs concurrently.
 *
 * A thread per target (at most `jobs` at once), each with its own libssh
 * session, rather than one non-blocking poll loop: libssh's blocking API is
 * the well-trodden one, ssh_connect resolves names with a blocking
 * getaddrinfo() anyway, a dead or slow target then holds only its own thread,
 * and for the fleets this is for (N up to a few hundred) threads cost little.
 * libssh allows one session per thread; nothing else is shared but the output
 * lock and the stop request. Nothing polls on a clock: a worker sleeps until
 * its target sends something or the stop request wakes it (ssh.c), and the
 * main thread until a signal comes or the last worker is done (SIG_DONE);
 * only the status line on a terminal is redrawn every 100 ms.
 */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/policy.h"
#include "remote/helper/fanout.h"
#include "output/progress.h"

/* The last worker's word to the main thread: blocked, and taken by sigwaitinfo. */
#define SIG_DONE SIGUSR2

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A target's state on the status line. */
enum state { ST_WAITING, ST_CONNECTING, ST_SHIPPING, ST_RUNNING, ST_DONE, ST_FAILED };
static const char *const state_names[] = {"waiting", "connecting", "shipping",
					  "running", "done",       "failed"};

/* A module file, read once for all the targets it goes to. */
struct module {
	const char *path;
	struct sc_run_module m;
	int r; /* < 0: it could not be read or is no module (msg says why) */
	char msg[1024];
};

struct fanout {
	const struct sc_fanout_item *items;
	size_t n;
	struct module *mods;
	size_t *mod_of; /* item -> its module in mods */
	const struct sc_run_req *rq;
	struct sc_run_result *res;
	atomic_size_t next, done;
	struct sc_ssh_stop stop;
	pthread_t main; /* told SIG_DONE by the last worker ... */
	bool tell_main; /* ... when workers run in threads */
	pthread_mutex_t out_lock;
	bool prefix;
	struct sc_output *out; /* writes the lines: text or JSON (output.c) */
	bool json;
	/* The status line (NULL: off), under out_lock; paused while sudo asks. */
	struct sc_progress *progress;
	bool paused;
	atomic_int *state; /* enum state, per item */
	double t0;
};

struct line_ctx {
	struct fanout *f;
	size_t lines;
	size_t i;       /* the item: its index in the output sink too */
	bool unblessed; /* its staprun-auth refused an unblessed module */
	bool in_use;    /* or a module that a run holds */
};

static void emit(void *ud, int is_stderr, const char *line, size_t len)
{
	struct line_ctx *c = ud;

	pthread_mutex_lock(&c->f->out_lock);
	sc_progress_hide(c->f->progress); /* drawn again at the next tick */
	sc_output_line(c->f->out, c->i, is_stderr, line, len);
	if (is_stderr &&
	    memmem(line, len, SC_POLICY_UNBLESSED, strlen(SC_POLICY_UNBLESSED)))
		c->unblessed = true;
	if (is_stderr && memmem(line, len, SC_POLICY_IN_USE, strlen(SC_POLICY_IN_USE)))
		c->in_use = true;
	/* Nobody reads the output any more (| head): stop the runs, as Ctrl-C. */
	if (!c->f->stop.level && sc_output_failed(c->f->out))
		sc_ssh_stop_raise(&c->f->stop);
	pthread_mutex_unlock(&c->f->out_lock);
	c->lines++;
}

static void report(struct fanout *f, const struct sc_target *t, const char *msg)
{
	pthread_mutex_lock(&f->out_lock);
	sc_progress_hide(f->progress);
	fprintf(stderr, "stapcache: %s\n", msg);
	fflush(stderr);
	pthread_mutex_unlock(&f->out_lock);
	(void)t;
}

/* sc_run_req's phase callback: where a target is, for the status line. */
static void on_phase(void *ud, int phase)
{
	struct line_ctx *c = ud;
	enum state st = phase == SC_PHASE_CONNECT ? ST_CONNECTING
			: phase == SC_PHASE_RUN   ? ST_RUNNING
						  : ST_SHIPPING;

	atomic_store(&c->f->state[c->i], st);
}

/* The sudo prompt's turn on the terminal: no status line meanwhile. */
static void on_pause(void *ud, bool on)
{
	struct fanout *f = ud;

	pthread_mutex_lock(&f->out_lock);
	f->paused = on;
	sc_progress_hide(f->progress);
	pthread_mutex_unlock(&f->out_lock);
}

/*
 * "stapcache: 3.2 s  running 2, done 1 | web1 running, web2 running, web3
 * done": the counts, then every target's state as far as the line has room
 * (the progress line cuts it to the terminal's width).
 */
static void draw(struct fanout *f)
{
	size_t count[ST_FAILED + 1] = {0}, len;
	char line[1024];

	for (size_t i = 0; i < f->n; i++)
		count[atomic_load(&f->state[i])]++;
	len = (size_t)snprintf(line, sizeof(line), "stapcache: %.1f s ", now() - f->t0);
	for (int s = 0; s <= ST_FAILED && len < sizeof(line); s++)
		if (count[s])
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s %zu",
						state_names[s], count[s]);
	for (size_t i = 0; i < f->n && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s %s",
					i ? ", " : " | ", f->items[i].target->name,
					state_names[atomic_load(&f->state[i])]);
	pthread_mutex_lock(&f->out_lock);
	if (!f->paused)
		sc_progress_show(f->progress, line);
	pthread_mutex_unlock(&f->out_lock);
}

static void *worker(void *arg)
{
	struct fanout *f = arg;
	size_t i;

	while ((i = atomic_fetch_add(&f->next, 1)) < f->n) {
		const struct sc_fanout_item *it = &f->items[i];
		const struct module *m = &f->mods[f->mod_of[i]];
		struct line_ctx c = {.f = f, .i = i};
		struct sc_run_result *res = &f->res[i];

		if (f->stop.level) {
			res->status = 255;
			res->phase = SC_PHASE_READ;
			snprintf(res->msg, sizeof(res->msg),
				 "%s: not started (interrupted)", it->target->name);
		} else if (m->r < 0 || sc_run_target(it->target, &m->m, f->rq, emit, &c,
						     &f->stop, res) < 0) {
			char msg[1200];

			if (m->r < 0) {
				res->status = 255;
				res->phase = SC_PHASE_READ;
				snprintf(res->msg, sizeof(res->msg), "%s", m->msg);
			}
			/* Connection errors already name the target. */
			if (!strncmp(res->msg, it->target->name,
				     strlen(it->target->name)))
				snprintf(msg, sizeof(msg), "%s", res->msg);
			else
				snprintf(msg, sizeof(msg), "%s: %s", it->target->name,
					 res->msg);
			report(f, it->target, msg);
		}
		if (c.unblessed && res->status != 0) {
			char *q = sc_shell_quote(it->module_path),
			     *hint = sc_strdupf("%s: an admin there can bless it with: "
						"stapcache bless -T %s --admin root %s",
						it->target->name, it->target->name, q);

			report(f, it->target, hint);
			free(hint);
			free(q);
		}
		if (c.in_use && res->status != 0) {
			char *hint = sc_strdupf(
				"%s: that module runs there already: stop that run first "
				"(stapcache ps -T %s lists it, stapcache kill -T %s stops it) or "
				"wait for its end; any change to the script makes another module",
				it->target->name, it->target->name, it->target->name);

			report(f, it->target, hint);
			free(hint);
		}
		res->lines = c.lines;
		atomic_store(&f->state[i], res->phase == SC_PHASE_DONE && res->status == 0
						   ? ST_DONE
						   : ST_FAILED);
		if (atomic_fetch_add(&f->done, 1) + 1 == f->n && f->tell_main)
			pthread_kill(f->main, SIG_DONE);
	}
	return NULL;
}

static const char *phase_name(enum sc_run_phase p)
{
	static const char *const names[] = {"module", "connect", "prepare", "kernel",
					    "upload", "run",     "done"};
	return names[p];
}

static void summary(const struct fanout *f)
{
	if (f->json) {
		for (size_t i = 0; i < f->n; i++) {
			const struct sc_run_result *r = &f->res[i];

			sc_output_summary(f->out, i, r->status, r->seconds,
					  r->phase == SC_PHASE_DONE
						  ? (r->status ? "runner failed" : "ok")
						  : phase_name(r->phase));
		}
		return;
	}
	fprintf(stderr, "%-20s %-24s %7s %9s %7s  %s\n", "TARGET", "KERNEL", "STATUS",
		"SECONDS", "LINES", "");
	for (size_t i = 0; i < f->n; i++) {
		const struct sc_run_result *r = &f->res[i];
		const struct sc_target *t = f->items[i].target;

		fprintf(stderr, "%-20s %-24s %7d %9.2f %7zu  %s\n", t->name, t->kernel,
			r->status, r->seconds, r->lines,
			r->phase == SC_PHASE_DONE ? (r->status ? "runner failed" : "ok")
						  : phase_name(r->phase));
	}
}

/*
 * --detach: one line a started run on stdout, its last word the run id
 * (stapcache logs, kill and ps take it); a target that failed said why.
 */
static void say_detached(const struct fanout *f)
{
	char *names = sc_strdupf("%s", "");

	for (size_t i = 0; i < f->n; i++) {
		char *more;

		if (f->res[i].status != 0 || !f->res[i].run_id[0])
			continue;
		printf("%s: detached %s\n", f->items[i].target->name, f->res[i].run_id);
		more = sc_strdupf("%s%s\n", names, f->items[i].target->name);
		free(names);
		names = more;
	}
	fflush(stdout);
	/* Where each id runs, so that logs and kill need no -T for it. */
	for (size_t i = 0; f->rq->detach_record && i < f->n; i++) {
		char *path;

		if (f->res[i].status != 0 || !f->res[i].run_id[0])
			continue;
		path = sc_strdupf("%s/%s", f->rq->detach_record, f->res[i].run_id);
		if (sc_mkdir_p(f->rq->detach_record, 0700) < 0 ||
		    sc_write_file_atomic(path, names, strlen(names), 0600, NULL) < 0)
			fprintf(stderr,
				"stapcache: cannot note where %s runs in %s (logs and "
				"kill will need -T)\n",
				f->res[i].run_id, f->rq->detach_record);
		free(path);
	}
	free(names);
}

/*
 * Wait for the workers; a signal asks them to stop (a second: give up). With
 * a status line, it is redrawn every tick; without one this thread sleeps
 * until a signal or SIG_DONE.
 */
static void wait_signals(struct fanout *f, const sigset_t *set)
{
	struct timespec tick = {0, 100 * 1000 * 1000};

	while (atomic_load(&f->done) < f->n) {
		int sig = f->progress ? sigtimedwait(set, NULL, &tick)
				      : sigwaitinfo(set, NULL);

		if (f->progress)
			draw(f);
		if (sig <= 0 || sig == SIG_DONE)
			continue;
		sc_ssh_stop_raise(&f->stop);
		pthread_mutex_lock(&f->out_lock);
		sc_progress_hide(f->progress);
		fprintf(stderr, f->stop.level == 1
					? "stapcache: stopping the remote runs (again to "
					  "abandon them)\n"
					: "stapcache: abandoning the remote runs\n");
		pthread_mutex_unlock(&f->out_lock);
	}
}

/*
 * Read every module file once (targets of one kernel share one), before any
 * thread starts: f->mods and f->mod_of. A file that cannot be read fails its
 * targets only. Returns 0 or -ENOMEM.
 */
static int load_modules(struct fanout *f)
{
	size_t nmods = 0;

	f->mods = calloc(f->n ? f->n : 1, sizeof(*f->mods));
	f->mod_of = calloc(f->n ? f->n : 1, sizeof(*f->mod_of));
	if (!f->mods || !f->mod_of)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		const char *path = f->items[i].module_path;
		size_t k = 0;

		while (k < nmods && strcmp(f->mods[k].path, path) != 0)
			k++;
		if (k == nmods) {
			struct sc_error err = {{0}};
			struct module *m = &f->mods[nmods++];

			m->path = path;
			m->r = sc_run_module_load(path, &m->m, &err);
			snprintf(m->msg, sizeof(m->msg), "%s", err.msg);
		}
		f->mod_of[i] = k;
	}
	return 0;
}

static void free_modules(struct fanout *f)
{
	for (size_t i = 0; f->mods && i < f->n; i++)
		sc_run_module_clear(&f->mods[i].m);
	free(f->mods);
	free(f->mod_of);
}

/* The sink for the lines: text prefixed with several targets, or JSON. */
static int open_output(struct fanout *f, const struct sc_output_opts *oo)
{
	struct sc_output_opts o = *oo;
	struct sc_error err = {{0}};
	const char **names = calloc(f->n ? f->n : 1, sizeof(*names));
	int r;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++)
		names[i] = f->items[i].target->name;
	o.prefix = f->n > 1;
	f->json = o.json;
	r = sc_output_new(&o, names, f->n, &f->out, &err);
	free(names); /* the names themselves are the targets' */
	if (r < 0)
		fprintf(stderr, "stapcache: %s\n", err.msg);
	return r;
}

int sc_fanout_run(const struct sc_fanout_item *items, size_t n,
		  const struct sc_run_req *rq, int jobs, bool progress,
		  const struct sc_output_opts *oo)
{
	struct fanout f = {.items = items, .n = n, .prefix = n > 1, .t0 = now()};
	struct sc_run_req req = *rq;
	pthread_t *th;
	struct sc_error err = {{0}};
	struct timespec zero = {0, 0};
	sigset_t set, old, done;
	size_t nth = jobs > 0 && (size_t)jobs < n ? (size_t)jobs : n, started = 0;
	int status = 0, r;

	if ((r = sc_ssh_stop_init(&f.stop)) < 0) {
		fprintf(stderr, "stapcache: cannot make a pipe: %s\n", strerror(-r));
		return 1;
	}
	f.res = calloc(n, sizeof(*f.res));
	f.state = calloc(n, sizeof(*f.state));
	th = calloc(nth ? nth : 1, sizeof(*th));
	if (!f.res || !th || !f.state || load_modules(&f) < 0 ||
	    open_output(&f, oo) < 0) {
		if (!f.res || !th || !f.state || !f.mods || !f.mod_of)
			fprintf(stderr, "stapcache: out of memory\n");
		free_modules(&f);
		free(f.res);
		free(f.state);
		free(th);
		sc_ssh_stop_clear(&f.stop);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		atomic_init(&f.state[i], ST_WAITING);
	f.progress = progress ? sc_progress_new(STDERR_FILENO) : NULL;
	if (f.progress) {
		req.phase = on_phase;
		if (req.sudo) {
			req.sudo->pause = on_pause;
			req.sudo->pause_ud = &f;
		}
	}
	f.rq = &req;
	pthread_mutex_init(&f.out_lock, NULL);
	atomic_init(&f.next, 0);
	atomic_init(&f.done, 0);
	/* Workers inherit the mask: only this thread takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIG_DONE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	f.main = pthread_self();
	f.tell_main = nth > 0;
	for (size_t i = 0; i < nth; i++) {
		if (pthread_create(&th[i], NULL, worker, &f) != 0) {
			fprintf(stderr, "stapcache: cannot start a thread: %s\n",
				strerror(errno));
			break;
		}
		started++;
	}
	if (started == 0)
		worker(&f); /* run them one after another rather than not at all */
	else
		wait_signals(&f, &set);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	/* A SIG_DONE this loop did not wait for must not reach the old mask. */
	sigemptyset(&done);
	sigaddset(&done, SIG_DONE);
	while (sigtimedwait(&done, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sc_progress_free(f.progress);
	if (req.sudo)
		req.sudo->pause = NULL;
	if (req.detach)
		say_detached(&f);
	else if (n > 1 || f.json)
		summary(&f);
	for (size_t i = 0; i < n; i++)
		if (f.res[i].status != 0)
			status = n > 1 ? 1 : f.res[i].status;
	/* Interrupted: the runners' own statuses (TERMed: 143) are our doing. */
	if (f.stop.level)
		status = 130;
	if (sc_output_finish(f.out, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		status = status ? status : 1;
	}
	pthread_mutex_destroy(&f.out_lock);
	sc_output_free(f.out);
	sc_ssh_stop_clear(&f.stop);
	free_modules(&f);
	free(f.state);
	free(f.res);
	free(th);
	return status;
}
