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
	const char *dir;      /* chdir here first (NULL: stay) */
	const char *tmpdir;   /* set TMPDIR (NULL: leave) */
	int stdout_fd;        /* dup2 onto 1 (-1: inherit) */
	int stderr_fd;        /* dup2 onto 2 (-1: inherit) */
	bool new_group;       /* its own process group (setpgid(0, 0)) */
	bool die_with_parent; /* SIGKILL when the parent dies */
	bool default_signals; /* SIGINT, SIGTERM, SIGHUP back to SIG_DFL */
};

/* What sc_spawn_opts starts from: inherit everything. */
#define SC_SPAWN_OPTS_INIT                                                               \
	{                                                                                \
		.stdout_fd = -1, .stderr_fd = -1                                         \
	}

/*
 * Start argv[0] (an absolute path; no PATH search) with opts (NULL: the
 * defaults). Returns 0 and sets *pid, or -errno when fork fails. A child that
 * cannot exec exits 127.
 */
int sc_spawn(const char *const *argv, const struct sc_spawn_opts *opts, pid_t *pid);

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

#endif
