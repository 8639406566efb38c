/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_SPAWN_H
#define SC_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The one way this project starts a program and waits for it: an argv
 * grown with sc_argv_push (NULL-terminated at all times), started with
 * sc_spawn, reaped with sc_wait.
 */
struct sc_argv {
	const char **v; /* v[n] == NULL */
	size_t n, cap;
	char **owned; /* strings sc_argv_pushf made */
	size_t n_owned;
};

/* Append s (borrowed: it must outlive the argv). Returns 0 or -ENOMEM. */
int sc_argv_push(struct sc_argv *a, const char *s);
/* Append a formatted string the argv owns. Returns 0 or -ENOMEM. */
int sc_argv_pushf(struct sc_argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Free the vector and the strings it owns; the struct is reset. */
void sc_argv_free(struct sc_argv *a);

struct sc_spawn_opts {
	const char *dir;       /* chdir here first (NULL: stay) */
	const char *tmpdir;    /* set TMPDIR (NULL: leave) */
	int stdout_fd;         /* dup2 onto 1 (-1: inherit) */
	int stderr_fd;         /* dup2 onto 2 (-1: inherit) */
	bool new_group;        /* its own process group (setpgid(0, 0)) */
	bool die_with_parent;  /* SIGKILL when the parent dies */
	bool default_signals;  /* SIGINT, SIGTERM, SIGHUP back to SIG_DFL */
	bool search_path;      /* argv[0] without a slash is looked up on PATH */
	const char *exec_hint; /* when the exec fails the child says "PROG: cannot
				  run ARGV0: ERROR" and this (NULL: it says nothing) */
	/*
	 * In the child, after everything above and before the exec (NULL:
	 * nothing): 0, or -errno after saying why on fd 2; the child then
	 * exits SC_SPAWN_SETUP_FAILED. A build root enters its namespaces
	 * and chroot here (core/build-root.h). Only system calls: no malloc.
	 */
	int (*setup)(const void *arg);
	const void *setup_arg;
};

/* The exit status of a child whose setup hook failed (it said why). */
#define SC_SPAWN_SETUP_FAILED 125

/* What sc_spawn_opts starts from: inherit everything. */
#define SC_SPAWN_OPTS_INIT                                                               \
	{                                                                                \
		.stdout_fd = -1, .stderr_fd = -1                                         \
	}

/*
 * Start argv[0] (an absolute path unless opts->search_path) with opts (NULL:
 * the defaults). Returns 0 and sets *pid, or -errno when fork fails. A child
 * that cannot exec exits 127.
 */
int sc_spawn(const char *const *argv, const struct sc_spawn_opts *opts, pid_t *pid);

/*
 * The one signal forwarder. Between sc_forward_begin and sc_forward_end, a
 * SIGINT, SIGTERM or SIGHUP that reaches this process is recorded
 * (sc_forward_caught) and, once sc_forward_child named the child, passed on
 * to it as flags say; one that came before the child was named is passed on
 * when it is. One forwarder per process at a time (the handlers are).
 */
enum sc_forward_flags {
	SC_FORWARD_GROUP = 1,    /* to the child's process group (a build and the
				    compilers it starts) */
	SC_FORWARD_USER_INT = 2, /* a SIGINT only when it was sent to this process:
				    the terminal's Ctrl-C reached the child itself */
	SC_FORWARD_NONE = 4,     /* record only: the caller stops the child its way */
};
void sc_forward_begin(unsigned flags);
/* Pass signals on to pid from now on (0: to nobody). */
void sc_forward_child(pid_t pid);
/* The last signal that came since sc_forward_begin, or 0. */
int sc_forward_caught(void);
/*
 * Was it a SIGINT the terminal sent (Ctrl-C), which the whole foreground
 * process group got, the child included? (Not one sent to this process.)
 */
bool sc_forward_from_terminal(void);
/*
 * The handlers as they were before sc_forward_begin. A caller that is
 * ending because of a signal may keep them instead, so that a second one
 * cannot kill it before it has cleaned up.
 */
void sc_forward_end(void);

/* Exit status of a wait status: the code, or 128 + the signal. */
int sc_exit_status(int status);

/* waitpid retrying on EINTR. Returns 0 and *status, or -errno. */
int sc_wait(pid_t pid, int *status);

/*
 * sc_wait for at most timeout_ms milliseconds (signals do not shorten it).
 * Returns 0 and *status, -ETIMEDOUT when pid is still running (not reaped),
 * or another -errno.
 */
int sc_wait_timeout(pid_t pid, long timeout_ms, int *status);

/*
 * Run argv with stdout and stderr into a buffer of at most max bytes (the
 * rest is read and dropped). Returns 0 when the program exited 0, with *out
 * NUL-terminated (caller frees); -ENOEXEC when it failed or exited non-zero;
 * another -errno.
 */
int sc_run_capture(const char *const *argv, size_t max, char **out);

/*
 * The same with opts (NULL: the defaults; its stdout_fd and stderr_fd are
 * replaced), and *out set (caller frees) whatever the outcome, so that a
 * failure's messages can be shown. -EPERM: opts' setup hook failed.
 */
int sc_run_capture_opts(const char *const *argv, const struct sc_spawn_opts *opts,
			size_t max, char **out);

#endif
