/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SSH session: connect, verify the host key, authenticate, run commands.
 *
 * Invariants:
 * - The host key is verified against known_hosts before anything is sent:
 *   strict checking and the known_hosts files are set after ~/.ssh/config is
 *   parsed, and libssh is told not to parse it again in ssh_connect.
 * - A password is asked only on /dev/tty, with echo off, one prompt at a time
 *   (targets run in threads), and is never kept after the attempt.
 * - A stream sleeps until its target sends something, the stop request rises
 *   (its pipe wakes every stream at once) or a probe is due: no clock tick, so
 *   a run that prints nothing costs this process nothing while it waits. Only
 *   while a stopped run's grace period runs does it look every 100 ms.
 * - Nothing waits for the target without a bound once connected: libssh's
 *   blocking calls (channel open, exec, a full window, the exit status) wait
 *   at most io_timeout; a channel that has been quiet for a third of it is
 *   probed with a request the server must answer (an "env" request: every
 *   server replies, refusing it, and nothing changes there), and no reply
 *   within io_timeout means the target or the network hangs: SC_SSH_EHUNG.
 *   A live target answers the probe, so a run that prints nothing for hours
 *   is never ended by it; a run that keeps printing is never probed at all.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define SC_LIBSSH_LEAKS_BEGIN() __lsan_disable()
#define SC_LIBSSH_LEAKS_END() __lsan_enable()
#endif
#endif
#ifndef SC_LIBSSH_LEAKS_BEGIN
#define SC_LIBSSH_LEAKS_BEGIN() ((void)0)
#define SC_LIBSSH_LEAKS_END() ((void)0)
#endif

#include "common/fsutil.h"
#include "remote/helper/ssh.h"

#define LINE_MAX_LEN (64u << 10)
#define CAPTURE_MAX (64u << 10)

struct sc_ssh {
	ssh_session ss;
	char fp[128];
	char where[300]; /* "HOST:PORT" after ~/.ssh/config */
	int io_timeout;  /* seconds, > 0 */
};

static pthread_mutex_t prompt_lock = PTHREAD_MUTEX_INITIALIZER;

char *sc_shell_quote(const char *s)
{
	size_t n = 2;
	char *out, *p;

	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	out = malloc(n + 1);
	if (!out)
		abort();
	p = out;
	*p++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *c;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return out;
}

const char *sc_ssh_fingerprint(const struct sc_ssh *s)
{
	return s->fp;
}

void sc_ssh_free(struct sc_ssh *s)
{
	if (!s)
		return;
	if (s->ss) {
		ssh_disconnect(s->ss);
		ssh_free(s->ss);
	}
	free(s);
}

static int set_options(struct sc_ssh *s, const struct sc_execute *ex,
		       const struct sc_ssh_opts *o, struct sc_error *err)
{
	int no = 0, yes = 1;
	long timeout = o->connect_timeout > 0 ? o->connect_timeout : 10;
	char *known = sc_strdupf("%s/known_hosts", o->ssh_dir);
	int r = -EINVAL;

	if (ssh_options_set(s->ss, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_options_set(s->ss, SSH_OPTIONS_SSH_DIR, o->ssh_dir) < 0 ||
	    ssh_options_set(s->ss, SSH_OPTIONS_HOST, ex->host) < 0)
		goto fail;
	/* Aliases, User, Port, IdentityFile, ProxyCommand: as the user set them up. */
	if (ssh_options_parse_config(s->ss, NULL) < 0) {
		sc_error_set(err, "%s: cannot use %s/config or /etc/ssh/ssh_config: %s",
			     o->name, o->ssh_dir, ssh_get_error(s->ss));
		goto out;
	}
	/* What the target's entry says wins over the config, as ssh -l/-p do. */
	if ((ex->user && ssh_options_set(s->ss, SSH_OPTIONS_USER, ex->user) < 0) ||
	    (ex->port && ssh_options_set(s->ss, SSH_OPTIONS_PORT, &ex->port) < 0))
		goto fail;
	/* And nothing in any config weakens the host key check. */
	if (ssh_options_set(s->ss, SSH_OPTIONS_STRICTHOSTKEYCHECK, &yes) < 0 ||
	    ssh_options_set(s->ss, SSH_OPTIONS_KNOWNHOSTS, known) < 0 ||
	    ssh_options_set(s->ss, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
			    "/etc/ssh/ssh_known_hosts") < 0 ||
	    ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &timeout) < 0)
		goto fail;
	/*
	 * libssh's own log only with -vvv: a LogLevel in ~/.ssh/config (the QEMU
	 * guest's says ERROR, which libssh reads as "warnings") must not spray
	 * libssh's chatter over the run's output; failures are reported by us,
	 * with ssh_get_error's text.
	 */
	{
		int v = o->verbose >= 3 ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;

		(void)ssh_options_set(s->ss, SSH_OPTIONS_LOG_VERBOSITY, &v);
	}
	r = 0;
	goto out;
fail:
	sc_error_set(err, "%s: cannot set SSH options: %s", o->name,
		     ssh_get_error(s->ss));
out:
	free(known);
	return r;
}

static void describe_peer(struct sc_ssh *s)
{
	char *host = NULL;
	unsigned int port = 22;

	if (ssh_options_get(s->ss, SSH_OPTIONS_HOST, &host) < 0)
		host = NULL;
	(void)ssh_options_get_port(s->ss, &port);
	snprintf(s->where, sizeof(s->where), "%s:%u", host ? host : "?", port);
	ssh_string_free_char(host);
}

static int fingerprint(struct sc_ssh *s, char *type, size_t tn, struct sc_error *err,
		       const char *name)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_server_publickey(s->ss, &key) < 0 ||
	    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0) {
		ssh_key_free(key);
		sc_error_set(err, "%s: cannot read the host key of %s: %s", name,
			     s->where, ssh_get_error(s->ss));
		return SC_SSH_EHOSTKEY;
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	snprintf(s->fp, sizeof(s->fp), "%s", fp ? fp : "");
	snprintf(type, tn, "%s", ssh_key_type_to_char(ssh_key_type(key)));
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return 0;
}

static int verify_host(struct sc_ssh *s, const struct sc_ssh_opts *o,
		       struct sc_error *err)
{
	char type[64], *host = NULL;
	unsigned int port = 22;
	enum ssh_known_hosts_e state;
	int r = fingerprint(s, type, sizeof(type), err, o->name);

	if (r < 0)
		return r;
	state = ssh_session_is_known_server(s->ss);
	if (state == SSH_KNOWN_HOSTS_OK)
		return 0;
	if ((state == SSH_KNOWN_HOSTS_UNKNOWN || state == SSH_KNOWN_HOSTS_NOT_FOUND) &&
	    o->accept_fp && !strcmp(o->accept_fp, s->fp)) {
		if (ssh_session_update_known_hosts(s->ss) < 0) {
			sc_error_set(err, "%s: cannot add %s to %s/known_hosts: %s",
				     o->name, s->where, o->ssh_dir, ssh_get_error(s->ss));
			return SC_SSH_EHOSTKEY;
		}
		return 0;
	}
	(void)ssh_options_get(s->ss, SSH_OPTIONS_HOST, &host);
	(void)ssh_options_get_port(s->ss, &port);
	switch (state) {
	case SSH_KNOWN_HOSTS_CHANGED:
		sc_error_set(
			err,
			"%s: REFUSED: THE HOST KEY OF %s HAS CHANGED (it now offers %s "
			"%s). Someone may be intercepting the connection; or the host was "
			"reinstalled. Nothing was sent. If you know the new key is right, "
			"remove the old one (ssh-keygen -R '[%s]:%u') and accept the new one.",
			o->name, s->where, type, s->fp, host ? host : "HOST", port);
		break;
	case SSH_KNOWN_HOSTS_OTHER:
		sc_error_set(
			err,
			"%s: REFUSED: %s offers a %s key (%s) but known_hosts holds a "
			"key of another type for it; this can be an attack. Nothing was sent.",
			o->name, s->where, type, s->fp);
		break;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND: {
		char *how = o->accept_how
				    ? sc_strdupf("%s", o->accept_how)
				    : sc_strdupf("stapcache host accept %s", o->name);

		sc_error_set(err,
			     "%s: refused: %s is not in %s/known_hosts; its %s key has the "
			     "fingerprint %s. Check it out of band, then accept it with: "
			     "%s%s%s   (or: mkdir -p -m 700 %s && ssh-keyscan -p %u %s >> "
			     "%s/known_hosts)",
			     o->name, s->where, o->ssh_dir, type, s->fp, how,
			     how[0] && how[strlen(how) - 1] == '=' ? "" : " ", s->fp,
			     o->ssh_dir, port, host ? host : "HOST", o->ssh_dir);
		free(how);
		break;
	}
	default:
		sc_error_set(err, "%s: cannot check the host key of %s: %s", o->name,
			     s->where, ssh_get_error(s->ss));
		break;
	}
	ssh_string_free_char(host);
	return SC_SSH_EHOSTKEY;
}

/* Read a line from the terminal without echo. Returns 0 or -errno. */
static int ask_tty(const char *prompt, char *buf, size_t n)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	ssize_t got;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return -ENOTTY;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	/* Echo off (and typed-ahead input dropped) before the prompt shows. */
	(void)tcsetattr(fd, TCSAFLUSH, &quiet);
	(void)sc_write_all(fd, prompt, strlen(prompt));
	got = read(fd, buf, n - 1);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)sc_write_all(fd, "\n", 1);
	if (got <= 0)
		r = -EIO;
	else {
		buf[got] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
	}
	close(fd);
	return r;
}

int sc_ssh_ask_tty(const char *prompt, char *buf, size_t n)
{
	int r;

	pthread_mutex_lock(&prompt_lock);
	r = ask_tty(prompt, buf, n);
	pthread_mutex_unlock(&prompt_lock);
	return r < 0 ? r : (int)strlen(buf);
}

static int auth_interactive(struct sc_ssh *s, const struct sc_ssh_opts *o)
{
	char answer[512], prompt[700];
	int rc;

	pthread_mutex_lock(&prompt_lock);
	rc = ssh_userauth_kbdint(s->ss, NULL, NULL);
	for (int round = 0; rc == SSH_AUTH_INFO && round < 8; round++) {
		int np = ssh_userauth_kbdint_getnprompts(s->ss);

		for (int i = 0; i < np; i++) {
			char echo;
			const char *p =
				ssh_userauth_kbdint_getprompt(s->ss, (unsigned)i, &echo);

			snprintf(prompt, sizeof(prompt), "%s (%s) %s", o->name, s->where,
				 p ? p : "Password: ");
			if (ask_tty(prompt, answer, sizeof(answer)) < 0) {
				rc = SSH_AUTH_DENIED;
				goto out;
			}
			rc = ssh_userauth_kbdint_setanswer(s->ss, (unsigned)i, answer);
			explicit_bzero(answer, sizeof(answer));
			if (rc < 0)
				goto out;
		}
		rc = ssh_userauth_kbdint(s->ss, NULL, NULL);
	}
	if (rc != SSH_AUTH_SUCCESS &&
	    (ssh_userauth_list(s->ss, NULL) & SSH_AUTH_METHOD_PASSWORD)) {
		snprintf(prompt, sizeof(prompt), "%s (%s) password: ", o->name, s->where);
		if (ask_tty(prompt, answer, sizeof(answer)) == 0)
			rc = ssh_userauth_password(s->ss, NULL, answer);
		explicit_bzero(answer, sizeof(answer));
	}
out:
	pthread_mutex_unlock(&prompt_lock);
	return rc;
}

static int authenticate(struct sc_ssh *s, const struct sc_ssh_opts *o,
			struct sc_error *err)
{
	int rc = ssh_userauth_none(s->ss, NULL), methods;

	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR || rc == SSH_AUTH_AGAIN)
		goto fail;
	methods = ssh_userauth_list(s->ss, NULL);
	/* The agent first, then the identity files (~/.ssh/config's IdentityFile too). */
	if (methods & SSH_AUTH_METHOD_PUBLICKEY) {
		/*
		 * libssh 0.10.6 (auth.c) keeps the key it is trying in its
		 * auto state when the server stops answering (SSH_AUTH_AGAIN),
		 * and ssh_free frees that state but not the key: 112 bytes, once,
		 * in a process about to report the timeout and exit. The state
		 * is opaque, so the sanitized build is told about it here
		 * (tests/remote/faults-ssh.sh's stallauth) rather than hiding
		 * every leak inside libssh.
		 */
		SC_LIBSSH_LEAKS_BEGIN();
		rc = ssh_userauth_publickey_auto(s->ss, NULL, NULL);
		SC_LIBSSH_LEAKS_END();
		if (rc == SSH_AUTH_SUCCESS)
			return 0;
		if (rc == SSH_AUTH_ERROR || rc == SSH_AUTH_AGAIN)
			goto fail;
	}
	if (o->may_prompt &&
	    (methods & (SSH_AUTH_METHOD_INTERACTIVE | SSH_AUTH_METHOD_PASSWORD))) {
		rc = auth_interactive(s, o);
		if (rc == SSH_AUTH_SUCCESS)
			return 0;
	}
fail:
	if (rc == SSH_AUTH_AGAIN) {
		/* libssh's timeout (the connect timeout until we are in) ran out. */
		sc_error_set(err,
			     "%s: cannot log in to %s: timed out: the server stopped "
			     "answering during the key exchange or the login (no answer "
			     "for %d s); check the host and the network, or wait longer "
			     "with --connect-timeout SECONDS",
			     o->name, s->where,
			     o->connect_timeout > 0 ? o->connect_timeout : 10);
		return SC_SSH_EHUNG;
	}
	sc_error_set(err, "%s: cannot log in to %s: %s%s", o->name, s->where,
		     rc == SSH_AUTH_ERROR ? ssh_get_error(s->ss)
					  : "no key or password was accepted",
		     o->may_prompt ? ""
				   : " (no terminal to ask for a password; use a key or "
				     "ssh-agent)");
	return SC_SSH_EAUTH;
}

int sc_ssh_connect(const struct sc_execute *ex, const struct sc_ssh_opts *o,
		   struct sc_ssh **out, struct sc_error *err)
{
	struct sc_ssh *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->ss = ssh_new();
	if (!s->ss) {
		free(s);
		return -ENOMEM;
	}
	s->io_timeout = o->io_timeout > 0 ? o->io_timeout : SC_SSH_DEFAULT_IO_TIMEOUT;
	r = set_options(s, ex, o, err);
	if (r < 0)
		goto fail;
	describe_peer(s);
	if (ssh_connect(s->ss) != SSH_OK) {
		const char *e = ssh_get_error(s->ss);

		sc_error_set(err, "%s: cannot connect to %s: %s%s", o->name, s->where,
			     *e ? e : "the SSH handshake failed",
			     strstr(e, "Timeout")
				     ? " (no SSH server answered in time: check the host, "
				       "its port and the network; --connect-timeout "
				       "SECONDS waits longer)"
			     : *e ? ""
				  : " (what answered there is not an SSH server, or "
				    "the data was corrupted on the way)");
		r = SC_SSH_ECONNECT;
		goto fail;
	}
	r = verify_host(s, o, err);
	if (r == 0)
		r = authenticate(s, o, err);
	if (r < 0)
		goto fail;
	/* From now on every blocking libssh call waits at most io_timeout. */
	{
		long io = s->io_timeout;

		if (ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &io) < 0) {
			sc_error_set(err, "%s: cannot set SSH options: %s", o->name,
				     ssh_get_error(s->ss));
			r = -EINVAL;
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	sc_ssh_free(s);
	return r;
}

/* ------------------------------------------------------------ channels */

struct linebuf {
	char *b;
	size_t n;
};

static void feed(struct linebuf *lb, const char *p, size_t n, int is_err,
		 sc_ssh_line_fn fn, void *ud)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		char *nb = realloc(lb->b, lb->n + take + 1);

		if (!nb)
			abort();
		lb->b = nb;
		memcpy(lb->b + lb->n, p, take);
		lb->n += take;
		if (nl || lb->n >= LINE_MAX_LEN) {
			lb->b[lb->n] = '\0';
			fn(ud, is_err, lb->b, lb->n);
			lb->n = 0;
		}
		if (nl)
			take++;
		p += take;
		n -= take;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sc_ssh_stop_init(struct sc_ssh_stop *stop)
{
	stop->level = 0;
	if (pipe2(stop->fd, O_CLOEXEC | O_NONBLOCK) < 0) {
		stop->fd[0] = stop->fd[1] = -1;
		return -errno;
	}
	return 0;
}

void sc_ssh_stop_raise(struct sc_ssh_stop *stop)
{
	int e = errno;

	stop->level = stop->level < 2 ? stop->level + 1 : 2;
	/* Never read: once written, it stays readable for every waiter (full: so it is). */
	if (stop->fd[1] >= 0) {
		ssize_t w = write(stop->fd[1], "", 1);

		(void)w;
	}
	errno = e;
}

void sc_ssh_stop_clear(struct sc_ssh_stop *stop)
{
	for (int i = 0; i < 2; i++)
		if (stop->fd[i] >= 0)
			close(stop->fd[i]);
	stop->fd[0] = stop->fd[1] = -1;
}

static bool stop_seen(const struct sc_ssh_stop *stop)
{
	return stop && stop->level;
}

/* The connection broke (reset, corrupted, closed): libssh says how. */
static void lost(struct sc_ssh *s, struct sc_error *err)
{
	const char *e = ssh_get_error(s->ss);

	sc_error_set(err,
		     "connection lost: %s (the target stops what was started there "
		     "when it notices; check the network and run again)",
		     *e ? e : "closed");
}

/*
 * Is the target still there? A channel request it must answer: "env", which
 * OpenSSH and dropbear refuse after exec (and would only add a variable to
 * a command already running). Any answer, yes or no, proves it alive; no
 * answer within io_timeout (libssh's timeout, set after connecting) is
 * SC_SSH_EHUNG.
 */
static int probe(struct sc_ssh *s, ssh_channel ch, struct sc_error *err)
{
	int rc = ssh_channel_request_env(ch, "STAPCACHE_KEEPALIVE", "1");

	if (rc == SSH_OK ||
	    (rc == SSH_ERROR && ssh_get_error_code(s->ss) == SSH_REQUEST_DENIED &&
	     ssh_is_connected(s->ss)))
		return 0;
	if (rc == SSH_AGAIN) {
		sc_error_set(err,
			     "%s answered nothing for %d s: the target or the network "
			     "hangs; gave up on it (--io-timeout SECONDS waits longer)",
			     s->where, s->io_timeout);
		return SC_SSH_EHUNG;
	}
	lost(s, err);
	return -EIO;
}

/* A PTY's lines: without the terminal's '\r', and the prompt's blank line dropped. */
struct pty_lines {
	sc_ssh_line_fn fn;
	void *ud;
	bool swallow_blank;
};

static void pty_line(void *ud, int is_stderr, const char *line, size_t len)
{
	struct pty_lines *pl = ud;

	while (len > 0 && line[len - 1] == '\r')
		len--;
	if (pl->swallow_blank && len == 0) {
		pl->swallow_blank = false;
		return;
	}
	pl->swallow_blank = false;
	pl->fn(pl->ud, is_stderr, line, len);
}

/*
 * The partial line ends with pr's marker: take it out and answer it, once.
 * The reply lives on this stack only until it is written, then is wiped.
 */
static int answer_prompt(struct sc_ssh *s, ssh_channel ch, struct linebuf *lb,
			 struct sc_ssh_prompt *pr, struct pty_lines *pl,
			 struct sc_error *err)
{
	size_t ml = strlen(pr->marker);
	char reply[1024];
	int n = -1, w;

	if (lb->n < ml || memcmp(lb->b + lb->n - ml, pr->marker, ml) != 0)
		return 0;
	lb->n -= ml;
	if (++pr->seen == 1 && pr->answer)
		n = pr->answer(pr->ud, reply, sizeof(reply) - 1);
	if (n < 0) {
		/*
		 * Not Ctrl-C: sudo, started in the background by a shell,
		 * inherits SIGINT ignored and would prompt again. Closing the
		 * channel hangs up the terminal, which ends sudo and makes the
		 * wrapper clean up.
		 */
		pr->refused = pr->seen == 1;
		return -ECANCELED;
	}
	reply[n++] = '\n';
	w = ssh_channel_write(ch, reply, (uint32_t)n);
	pl->swallow_blank = true;
	explicit_bzero(reply, sizeof(reply));
	if (w < 0) {
		lost(s, err);
		return -EIO;
	}
	return 0;
}

/* Where a channel's output goes: libssh hands it to on_data as it arrives. */
struct sink {
	struct ssh_channel_callbacks_struct cb;
	struct linebuf lb[2];
	struct pty_lines pl;
	sc_ssh_line_fn fn;
	void *ud;
	bool got; /* data since the last look */
};

static int on_data(ssh_session ss, ssh_channel ch, void *data, uint32_t len,
		   int is_stderr, void *ud)
{
	struct sink *k = ud;
	int e = is_stderr ? 1 : 0;

	(void)ss;
	(void)ch;
	feed(&k->lb[e], data, len, e, k->fn, k->ud);
	k->got = true;
	return (int)len; /* all of it: nothing stays in libssh's buffers */
}

/* What libssh buffered before on_data was set (a reply during the upload). */
static int take_buffered(struct sc_ssh *s, ssh_channel ch, struct sink *k,
			 struct sc_error *err)
{
	char buf[16384];

	for (int e = 0; e < 2; e++) {
		int n;

		while ((n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), e)) > 0) {
			feed(&k->lb[e], buf, (size_t)n, e, k->fn, k->ud);
			k->got = true;
		}
		if (n == SSH_ERROR) {
			lost(s, err);
			return -EIO;
		}
	}
	return 0;
}

/*
 * Sleep until the connection has something (or can take what libssh still
 * has to send), stop rises (unless it has: then the caller watches a
 * deadline), or ms pass.
 */
static void wait_io(struct sc_ssh *s, const struct sc_ssh_stop *stop, int ms)
{
	struct pollfd p[2] = {{.fd = ssh_get_fd(s->ss), .events = POLLIN}};
	nfds_t n = 1;

	if (ssh_get_poll_flags(s->ss) & SSH_WRITE_PENDING)
		p[0].events |= POLLOUT;
	if (stop && !stop->level && stop->fd[0] >= 0) {
		p[1].fd = stop->fd[0];
		p[1].events = POLLIN;
		n = 2;
	}
	(void)poll(p, n, ms < 0 ? 0 : ms);
}

/*
 * Move output to fn until the remote end closes its side. With pr (a PTY),
 * only the one merged stream exists and pr's prompt is answered.
 */
static int pump(struct sc_ssh *s, ssh_channel ch, struct sc_ssh_prompt *pr,
		const bool *cancel, sc_ssh_line_fn fn, void *ud, struct sc_ssh_stop *stop,
		int grace, struct sc_error *err)
{
	struct sink k = {.fn = fn, .ud = ud, .pl = {.fn = fn, .ud = ud}};
	double deadline = 0, heard = now(), quiet = s->io_timeout / 3.0;
	int r = 0;

	if (pr) {
		k.fn = pty_line;
		k.ud = &k.pl;
	}
	ssh_callbacks_init(&k.cb);
	k.cb.userdata = &k;
	k.cb.channel_data_function = on_data;
	if (ssh_set_channel_callbacks(ch, &k.cb) != SSH_OK) {
		sc_error_set(err, "cannot read from %s: %s", s->where,
			     ssh_get_error(s->ss));
		return -ENOMEM;
	}
	r = take_buffered(s, ch, &k, err);
	while (r == 0) {
		int wait_ms, n;

		if ((stop_seen(stop) || (cancel && *cancel)) && deadline == 0) {
			/*
			 * The wrapper stops the runner on TERM and on EOF of its
			 * stdin; on a PTY, EOF means nothing, Ctrl-C does.
			 */
			(void)ssh_channel_request_send_signal(ch, "TERM");
			if (pr)
				(void)ssh_channel_write(ch, "\003", 1);
			else
				(void)ssh_channel_send_eof(ch);
			deadline = now() + grace;
		}
		if ((stop && stop->level >= 2) || (deadline > 0 && now() > deadline)) {
			sc_error_set(err, "gave up waiting for the remote run to stop");
			r = -EINTR;
			break;
		}
		/* What has arrived goes to on_data; this does not wait. */
		k.got = false;
		n = ssh_channel_poll(ch, 0);
		if (n == SSH_ERROR) {
			lost(s, err);
			r = -EIO;
			break;
		}
		if (n > 0 && (r = take_buffered(s, ch, &k, err)) < 0)
			break;
		if (k.got)
			heard = now();
		if (pr && !stop_seen(stop) &&
		    (r = answer_prompt(s, ch, &k.lb[0], pr, &k.pl, err)) < 0)
			break;
		if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch))
			break;
		if (now() - heard >= quiet) {
			r = probe(s, ch, err);
			if (r < 0)
				break;
			heard = now();
		}
		wait_ms = (int)((heard + quiet - now()) * 1000) + 1;
		if (deadline > 0 && wait_ms > 100)
			wait_ms = 100;
		if (!k.got)
			wait_io(s, stop, wait_ms);
	}
	ssh_remove_channel_callbacks(ch, &k.cb);
	for (int e = 0; e < 2; e++) {
		if (k.lb[e].n) {
			k.lb[e].b[k.lb[e].n] = '\0';
			k.fn(k.ud, e, k.lb[e].b, k.lb[e].n);
		}
		free(k.lb[e].b);
	}
	return r;
}

/*
 * A channel running cmd. Returns 0 and *out, -EIO, or SC_SSH_EHUNG when the
 * target stopped answering while it was set up (libssh's timeout: the
 * io_timeout), with err set.
 */
static int open_exec(struct sc_ssh *s, const char *cmd, bool pty, ssh_channel *out,
		     struct sc_error *err)
{
	ssh_channel ch = ssh_channel_new(s->ss);
	int rc = ch ? ssh_channel_open_session(ch) : SSH_ERROR;
	bool hung;

	if (rc == SSH_OK && pty)
		rc = ssh_channel_request_pty_size(ch, "dumb", 200, 50);
	if (rc == SSH_OK)
		rc = ssh_channel_request_exec(ch, cmd);
	if (rc == SSH_OK) {
		*out = ch;
		return 0;
	}
	hung = ch && (rc == SSH_AGAIN || !*ssh_get_error(s->ss));
	if (hung)
		sc_error_set(err,
			     "%s answered nothing for %d s while a command was started "
			     "there: the target or the network hangs; gave up on it "
			     "(--io-timeout SECONDS waits longer)",
			     s->where, s->io_timeout);
	else
		sc_error_set(err, "cannot run a command on %s: %s", s->where,
			     ssh_get_error(s->ss));
	if (ch)
		ssh_channel_free(ch);
	return hung ? SC_SSH_EHUNG : -EIO;
}

static int finish(struct sc_ssh *s, ssh_channel ch, int r, int *status,
		  struct sc_error *err)
{
	int st = -1;
	bool hung = false;

	if (r == 0) {
		(void)ssh_channel_send_eof(ch);
		st = ssh_channel_get_exit_status(ch);
		/* Waited io_timeout for a status that never came, nor the close. */
		hung = st < 0 && !ssh_channel_is_closed(ch) && ssh_is_connected(s->ss);
	}
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	/* No exit-status (killed by a signal, or the channel vanished): like ssh, 255. */
	if (r == 0)
		*status = st < 0 ? 255 : st;
	/* ...unless the connection went or hangs: then that is the news, not a status. */
	if (r == 0 && st < 0 && !ssh_is_connected(s->ss)) {
		lost(s, err);
		r = -EIO;
	} else if (hung) {
		sc_error_set(err,
			     "%s answered nothing for %d s at the end of the command (no exit "
			     "status): the target or the network hangs; gave up on it "
			     "(--io-timeout SECONDS waits longer)",
			     s->where, s->io_timeout);
		r = SC_SSH_EHUNG;
	}
	return r;
}

/* Write in[0..inlen) to the command's stdin (blocking, as the window allows). */
static int write_in(struct sc_ssh *s, ssh_channel ch, const void *in, size_t inlen,
		    struct sc_error *err)
{
	const char *p = in;

	while (inlen > 0) {
		uint32_t chunk = inlen > 32768 ? 32768 : (uint32_t)inlen;
		int n = ssh_channel_write(ch, p, chunk);

		if (n == 0) {
			/* libssh waited io_timeout for the window to open. */
			sc_error_set(err,
				     "upload to %s stalled: it took nothing for %d s; gave "
				     "up on it (--io-timeout SECONDS waits longer)",
				     s->where, s->io_timeout);
			return SC_SSH_EHUNG;
		}
		if (n < 0) {
			sc_error_set(err, "upload to %s failed: %s", s->where,
				     ssh_get_error(s->ss));
			return -EIO;
		}
		p += n;
		inlen -= (size_t)n;
	}
	return 0;
}

int sc_ssh_stream(struct sc_ssh *s, const char *cmd, sc_ssh_line_fn fn, void *ud,
		  struct sc_ssh_stop *stop, int grace, int *status, struct sc_error *err)
{
	ssh_channel ch = NULL;
	int r = open_exec(s, cmd, false, &ch, err);

	if (r < 0)
		return r;
	return finish(s, ch, pump(s, ch, NULL, NULL, fn, ud, stop, grace, err), status,
		      err);
}

int sc_ssh_stream_in(struct sc_ssh *s, const char *cmd, const void *in, size_t inlen,
		     const bool *cancel, sc_ssh_line_fn fn, void *ud,
		     struct sc_ssh_stop *stop, int grace, int *status,
		     struct sc_error *err)
{
	ssh_channel ch = NULL;
	int r = open_exec(s, cmd, false, &ch, err);

	if (r < 0)
		return r;
	/*
	 * A command that exits before reading it all (a refusal: another kernel
	 * there) closes the channel, and the write fails ("Remote channel is
	 * closed") while what it said may still be unread: that and its status
	 * are read below, and decide. Only a stall, or a connection that is
	 * gone, is the news.
	 */
	int w = write_in(s, ch, in, inlen, err);

	if (w < 0) {
		if (w == SC_SSH_EHUNG || !ssh_is_connected(s->ss))
			return finish(s, ch, w, status, err);
		if (err)
			err->msg[0] = '\0';
	}
	return finish(s, ch, pump(s, ch, NULL, cancel, fn, ud, stop, grace, err), status,
		      err);
}

int sc_ssh_stream_pty(struct sc_ssh *s, const char *cmd, struct sc_ssh_prompt *pr,
		      sc_ssh_line_fn fn, void *ud, struct sc_ssh_stop *stop, int grace,
		      int *status, struct sc_error *err)
{
	ssh_channel ch = NULL;
	int r = open_exec(s, cmd, true, &ch, err);

	if (r < 0)
		return r;
	r = finish(s, ch, pump(s, ch, pr, NULL, fn, ud, stop, grace, err), status, err);
	if (r == -ECANCELED) {
		*status = 255;
		r = 0;
	}
	return r;
}

struct capture {
	char *out, *errs;
	size_t nout, nerr;
};

static void capture_line(void *ud, int is_stderr, const char *line, size_t len)
{
	struct capture *c = ud;
	char **b = is_stderr ? &c->errs : &c->out;
	size_t *n = is_stderr ? &c->nerr : &c->nout;
	char *nb;

	if (*n + len + 1 > CAPTURE_MAX)
		return;
	nb = realloc(*b, *n + len + 2);
	if (!nb)
		abort();
	memcpy(nb + *n, line, len);
	nb[*n + len] = '\n';
	*n += len + 1;
	nb[*n] = '\0';
	*b = nb;
}

int sc_ssh_exec(struct sc_ssh *s, const char *cmd, const void *in, size_t inlen,
		char **out, int *status, struct sc_error *err)
{
	struct capture c = {0};
	ssh_channel ch = NULL;
	int r = open_exec(s, cmd, false, &ch, err);

	if (r < 0)
		return r;
	bool unread = false;

	r = write_in(s, ch, in, inlen, err);
	/*
	 * The command ended before it read all of its input (sudo -n refusing,
	 * a script that stops early): what it said and its status are the news,
	 * as with ssh, not the write that found its channel closing. (A write
	 * that fails while the session stays connected failed on the channel
	 * alone: the other side closed it.)
	 */
	if (r == -EIO && ssh_is_connected(s->ss)) {
		unread = true;
		r = 0;
	} else if (r == 0 && ssh_channel_send_eof(ch) != SSH_OK) {
		sc_error_set(err, "upload to %s failed: %s", s->where,
			     ssh_get_error(s->ss));
		r = -EIO;
	}
	if (r == 0)
		r = pump(s, ch, NULL, NULL, capture_line, &c, NULL, 0, err);
	r = finish(s, ch, r, status, err);
	if (r == 0 && unread && *status == 0)
		*status = 255; /* it ended well, yet without reading what it was sent */
	if (r == 0 && *status != 0)
		sc_error_set(err, "%s",
			     c.errs   ? c.errs
			     : unread ? "it ended before reading all of its input"
				      : "(no message)");
	if (r == 0 && out) {
		*out = c.out ? c.out : sc_strdupf("%s", "");
		c.out = NULL;
	}
	free(c.out);
	free(c.errs);
	return r;
}
