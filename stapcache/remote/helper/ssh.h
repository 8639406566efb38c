/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_SSH_H
#define SC_SSH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "remote/targets.h"

/*
 * One authenticated libssh connection to a target. Only stapcache-remote links
 * this (libssh costs every process that links it ~4 ms at start-up).
 *
 * Host keys are checked against ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts
 * always: ~/.ssh/config is parsed here (for aliases, User, Port, IdentityFile,
 * ProxyCommand), and strict checking and those two files are set again after
 * it, so "StrictHostKeyChecking no" or "UserKnownHostsFile /dev/null" there
 * cannot weaken the check. An unknown key is refused with its SHA-256
 * fingerprint and the command that accepts it; a changed key is refused loudly.
 */
struct sc_ssh;

struct sc_ssh_opts {
	const char *name;    /* the target's name, for messages */
	const char *ssh_dir; /* ~/.ssh (from $HOME, read at the edge) */
	int connect_timeout; /* seconds */
	/*
	 * Seconds a connected target may leave us without an answer: after a
	 * third of it without any data, a request that needs a reply is sent,
	 * and no reply within io_timeout gives up on the connection. 0: the
	 * default (SC_SSH_DEFAULT_IO_TIMEOUT).
	 */
	int io_timeout;
	bool may_prompt;       /* a terminal may be asked for a password */
	const char *accept_fp; /* "SHA256:..." to add to known_hosts if it matches */
	/* the command that accepts an unknown key, before its fingerprint (a
	   space between them unless it ends in '='; NULL: "stapcache host
	   accept NAME") */
	const char *accept_how;
	int verbose;
};

#define SC_SSH_DEFAULT_IO_TIMEOUT 30

/* Failure kinds (negative errno), so callers can tell them apart. */
#define SC_SSH_ECONNECT (-EHOSTUNREACH) /* no TCP/SSH connection (incl. timeout) */
#define SC_SSH_EHOSTKEY (-EPERM)        /* host key unknown, changed or unverifiable */
#define SC_SSH_EAUTH (-EACCES)          /* every authentication method failed */
#define SC_SSH_EHUNG (-ETIMEDOUT)       /* connected, then no answer for io_timeout */

/*
 * Connect, verify the host key, authenticate. Returns 0 and *out (free with
 * sc_ssh_free), or one of the codes above / -ENOMEM with err set (a server
 * that stops answering during the login: SC_SSH_EHUNG, "timed out").
 */
int sc_ssh_connect(const struct sc_execute *ex, const struct sc_ssh_opts *o,
		   struct sc_ssh **out, struct sc_error *err);

/* Disconnect and free; NULL is a no-op. */
void sc_ssh_free(struct sc_ssh *s);

/*
 * Run cmd (by the login shell, as ssh does), write in[0..inlen) to its stdin
 * then EOF, and collect at most 64 KiB of stdout into *out (NUL-terminated,
 * caller frees; may be NULL). stderr goes into err when the command fails.
 * Returns 0 and *status (the remote exit status), or -EIO / SC_SSH_EHUNG
 * (as for sc_ssh_stream) with err set.
 */
int sc_ssh_exec(struct sc_ssh *s, const char *cmd, const void *in, size_t inlen,
		char **out, int *status, struct sc_error *err);

/*
 * A request to stop the streams of several threads (a fan-out's Ctrl-C):
 * level 0 runs, 1 stops (each remote side is told and gets grace seconds),
 * 2 abandons. A stream waits for its target's data or for this, never on a
 * clock tick: sc_ssh_stop_raise wakes every stream waiting on it at once.
 */
struct sc_ssh_stop {
	volatile sig_atomic_t level;
	int fd[2]; /* a pipe: readable once the level has risen */
};

/* Level 0 and the pipe. Returns 0 or -errno. */
int sc_ssh_stop_init(struct sc_ssh_stop *stop);

/* The next level (at most 2), and wake the waiting streams. Async-signal-safe. */
void sc_ssh_stop_raise(struct sc_ssh_stop *stop);

/* Close the pipe. */
void sc_ssh_stop_clear(struct sc_ssh_stop *stop);

/* A complete line of remote output (without its '\n'). */
typedef void (*sc_ssh_line_fn)(void *ud, int is_stderr, const char *line, size_t len);

/*
 * Run cmd and hand every stdout/stderr line to fn as it arrives (fn is called
 * from libssh's packet handling: it must not use the session). When stop (may
 * be NULL) rises to 1 the remote side is told to stop (a TERM signal request
 * and EOF on its stdin) and its output is still read until it exits, for at
 * most grace seconds; level 2 gives up at once. Returns 0 and *status, or -EIO
 * (connection lost) / -EINTR (gave up) / SC_SSH_EHUNG (the target answered
 * nothing for io_timeout seconds, see sc_ssh_opts) with err set.
 */
int sc_ssh_stream(struct sc_ssh *s, const char *cmd, sc_ssh_line_fn fn, void *ud,
		  struct sc_ssh_stop *stop, int grace, int *status, struct sc_error *err);

/*
 * sc_ssh_stream, with in[0..inlen) written to cmd's stdin first and no EOF
 * after it: the stdin stays open, so that its EOF can still tell cmd to stop
 * (the module and the run over one channel). *cancel (may be NULL) becomes
 * true (set by fn) to stop the run as stop does, for this command alone.
 */
int sc_ssh_stream_in(struct sc_ssh *s, const char *cmd, const void *in, size_t inlen,
		     const bool *cancel, sc_ssh_line_fn fn, void *ud,
		     struct sc_ssh_stop *stop, int grace, int *status,
		     struct sc_error *err);

/*
 * A prompt to answer on a PTY: sudo's password prompt. The remote command
 * gets a terminal (stdout and stderr merge into one stream, handed to fn as
 * stdout); when the output so far ends with marker, the first time answer()
 * is asked for the reply (written with a newline, then wiped); any later time
 * (the reply was wrong), or when answer() has none, the channel is closed
 * instead (a hangup there: the program ends) and *status is 255.
 * The marker is taken out of the output, and so is the empty line the
 * program prints after reading the reply.
 */
struct sc_ssh_prompt {
	const char *marker;
	/* Put the reply in buf[0..n) and return its length, or -1: none. */
	int (*answer)(void *ud, char *buf, size_t n);
	void *ud;
	int seen;     /* out: how often marker arrived */
	bool refused; /* out: answer() had none */
};

/* sc_ssh_stream on a PTY, answering pr's prompt. */
int sc_ssh_stream_pty(struct sc_ssh *s, const char *cmd, struct sc_ssh_prompt *pr,
		      sc_ssh_line_fn fn, void *ud, struct sc_ssh_stop *stop, int grace,
		      int *status, struct sc_error *err);

/*
 * Ask prompt on /dev/tty with echo off, one prompt at a time across threads.
 * buf gets the answer without its newline. Returns its length, or -errno.
 */
int sc_ssh_ask_tty(const char *prompt, char *buf, size_t n);

/* The server key's "SHA256:..." fingerprint (valid until sc_ssh_free), or "". */
const char *sc_ssh_fingerprint(const struct sc_ssh *s);

/* s in single quotes for a POSIX shell ("'" becomes '\''). Caller frees. */
char *sc_shell_quote(const char *s);

#endif
