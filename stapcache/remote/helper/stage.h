/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_REMOTE_RUN_H
#define SC_REMOTE_RUN_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "remote/helper/ssh.h"
#include "remote/targets.h"

/*
 * The sudo password of a run: asked at most once, on the terminal, by the
 * first target whose sudo prompts for it, and handed to every target's prompt
 * after that. It lives only in this struct, which is wiped after the run: never
 * in argv, the environment, a file or a log.
 */
struct sc_run_secret {
	pthread_mutex_t lock;
	bool may_ask;    /* stdin and stderr are a terminal */
	int state;       /* 0: not asked yet, 1: pw holds it, -1: there is none */
	char marker[48]; /* the prompt given to sudo -p: random, per run */
	char pw[512];
	size_t len;
	/* Called with true before the prompt and false after it (NULL: none). */
	void (*pause)(void *ud, bool on);
	void *pause_ud;
};

/* Set up s: a fresh random marker; may_ask as given. Returns 0 or -errno. */
int sc_run_secret_init(struct sc_run_secret *s, bool may_ask);

/* Wipe the password and free the lock. */
void sc_run_secret_clear(struct sc_run_secret *s);

/* What to run: the same on every target. */
struct sc_run_req {
	const char *const *runner_opts; /* e.g. "-c", "CMD": before the module */
	size_t nrunner_opts;
	const char *const *params; /* NAME=VALUE module parameters: after it */
	size_t nparams;
	struct sc_ssh_opts ssh;     /* name is set per target */
	int grace;                  /* seconds to wait for a stopped run to end */
	struct sc_run_secret *sudo; /* for targets with the sudo runner */
	/*
	 * Told each phase as a target enters it (CONNECT; UPLOAD: the stage script
	 * checks the kernel, makes the dir, takes and checks the module; RUN),
	 * with the ud given for the output lines; NULL: nobody is told.
	 */
	void (*phase)(void *ud, int phase);
	unsigned duration; /* --duration: stop the run there then; 0: never */
	/*
	 * --detach: the run outlives the connection (it needs duration): the
	 * target starts it in a session of its own, its output into the
	 * login's run dir (SC_RUNS_DIR_SH), and the channel ends once stapio
	 * runs, with the run id (sc_run_result.run_id).
	 */
	bool detach;
	/*
	 * --detach: the id's second half, the client's clock when the command
	 * started: one id for every target of one command (those of one kernel
	 * run one module), so one `stapcache logs` covers the fleet.
	 */
	long long run_epoch;
	unsigned rotate_mb, rotate_files; /* --detach: staprun-auth -S MB,N */
	/* --detach: the dir where a file named by each run id lists its targets */
	const char *detach_record;
};

/*
 * Where a detached run keeps its output on the target, for the login's shell:
 * one directory a run, named by its id (MODULE@EPOCH), in a directory only
 * the login (and root) can enter (0700). stage.c makes it, runs.c and logs.c
 * read it.
 */
#define SC_RUNS_DIR_SH "\"$HOME\"/.cache/stapcache/runs"

/*
 * A detached run's messages (staprun-auth's and stapio's stderr, in
 * ID/stderr, with a probe's warn()s): its wrapper stops the run
 * (how=stderr-full) once they reach this size (looked at every 2 s, as the
 * disk), and stapcache logs prints at most this much of them.
 */
#define SC_DETACH_STDERR_MAX (256u << 10)

/*
 * Is id a run id (MODULE@EPOCH: a module name, '@', digits)? Module name
 * into module[0..n) when it is.
 */
bool sc_run_id_ok(const char *id, char *module, size_t n);

enum sc_run_phase {
	SC_PHASE_READ,
	SC_PHASE_CONNECT,
	SC_PHASE_PREPARE,
	SC_PHASE_KERNEL,
	SC_PHASE_UPLOAD,
	SC_PHASE_RUN,
	SC_PHASE_DONE
};

struct sc_run_result {
	int status;              /* the runner's exit status; 255 when it never ran */
	enum sc_run_phase phase; /* how far it got (SC_PHASE_DONE: the runner ran) */
	char msg[1024];          /* why it failed, when it did before the run */
	size_t lines;            /* output lines received */
	char run_id[96];         /* --detach: the run's id there (MODULE@EPOCH) */
	double seconds;          /* connect to end */
};

/*
 * The shell command that runs the module on the target: it starts RUNNER in
 * the background with the channel's output to itself alone; TERM/INT/HUP
 * stop it (the sudo runner runs on a PTY, where the hangup when the
 * connection goes is the signal, and sudo -p takes rq->sudo's marker as its
 * prompt). For the other runners, which run in the stage script's shell, the
 * upload's watchdog reads the channel's stdin to EOF (the client closes it
 * when that output has ended, or to stop the run; or it was killed, or the
 * connection died) and then stops the runner (TERM) if it still runs: this
 * standalone command is for SC_RUNNER_SUDO, on its own channel. It waits
 * for the runner (so that it unloads the module), removes DIR and exits with
 * the runner's status (125 if DIR is gone). With rq->duration it stops the
 * runner the same way after that many seconds. Caller frees.
 */
char *sc_run_wrapper(enum sc_runner runner, const char *dir, const char *module_name,
		     const struct sc_run_req *rq);

/* A module to ship: read and checked once, for every target it goes to. */
struct sc_run_module {
	char *buf;
	size_t len;
	char name[64]; /* its internal name: its file name there */
};

/*
 * Read path (at most 64 MiB), check it is a kernel module.
 * Returns 0 (free with sc_run_module_clear), or -errno with err set.
 */
int sc_run_module_load(const char *path, struct sc_run_module *m, struct sc_error *err);

/* Free m's bytes; a cleared or zeroed m is a no-op. */
void sc_run_module_clear(struct sc_run_module *m);

/*
 * Ship module m to target t and run it there over one connection and one
 * channel (two for the sudo runner): refuse a target whose live kernel is not
 * t's recorded one, private temp dir (mktemp -d: 0700), upload under a
 * temporary name, rename it once all of it arrived (dd's count), run the
 * wrapper, stream each output line to fn. stop as for
 * sc_ssh_stream. Returns 0 when the runner ran (its status in res->status),
 * or -errno with res->msg saying what failed and res->phase where.
 */
int sc_run_target(const struct sc_target *t, const struct sc_run_module *m,
		  const struct sc_run_req *rq, sc_ssh_line_fn fn, void *ud,
		  struct sc_ssh_stop *stop, struct sc_run_result *res);

#endif
