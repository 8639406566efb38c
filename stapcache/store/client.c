/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/client.h"
#include "common/spawn.h"
#include "core/libexec.h"

struct sc_shared {
	char *helper;
	struct sc_argv opts; /* --trust, timeouts, builder key */
	char *stores;        /* the URLs, one a line: STAPCACHE_STORES, never argv */
	pid_t lease_pid;     /* the helper holding a build lease, or 0 */
	int lease_fd;        /* its stdin: closing it releases the lease */
};

/*
 * A store that failed once (down, hanging, garbage: the helper said so, with
 * its one warning) is not asked again by this process: the module's lookup
 * and stap's per-kernel files (stapq.c) for the same build must not each
 * wait another timeout and print another warning. The upload after a build
 * is skipped for the same reason (publish.c).
 */
static bool store_failed;

char *sc_shared_helper_path(void)
{
	return sc_helper_path("stapcache-store");
}

/* Each line of list as OPT LINE. */
static int push_lines(struct sc_argv *a, const char *opt, const char *list)
{
	int r = 0;

	for (const char *p = list; r == 0 && p && *p;) {
		size_t l = strcspn(p, "\n");

		if (l)
			r = sc_argv_push(a, opt) ?: sc_argv_pushf(a, "%.*s", (int)l, p);
		p += l;
		if (*p)
			p++;
	}
	return r;
}

struct sc_shared *sc_shared_new(const struct sc_ctx *ctx)
{
	struct sc_shared *s;
	int r;

	if (!ctx->shared_cache)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->helper = sc_shared_helper_path();
	s->lease_fd = -1;
	/* A URL may hold a password (redis://:PW@host): argv is public (ps), the
	 * environment only the user's and root's (/proc/PID/environ is 0400). */
	s->stores = strdup(ctx->shared_cache);
	r = s->stores ? 0 : -ENOMEM;
	r = r ?: push_lines(&s->opts, "--trust", ctx->trusted_builders);
	r = r ?: sc_argv_push(&s->opts, "--builder-key") ?: sc_argv_push(&s->opts, ctx->builder_key);
	r = r ?: sc_argv_push(&s->opts, "--connect-timeout") ?:
		 sc_argv_pushf(&s->opts, "%u", ctx->shared_connect_ms);
	r = r ?: sc_argv_push(&s->opts, "--timeout") ?:
		 sc_argv_pushf(&s->opts, "%u", ctx->shared_timeout_ms);
	r = r ?: sc_argv_push(&s->opts, "--wait") ?: sc_argv_pushf(&s->opts, "%u", ctx->shared_wait_s);
	if (r == 0 && ctx->shared_auth_file)
		r = sc_argv_push(&s->opts, "--auth-file")
			    ?: sc_argv_push(&s->opts, ctx->shared_auth_file);
	if (r == 0 && ctx->shared_ca_file)
		r = sc_argv_push(&s->opts, "--ca-file")
			    ?: sc_argv_push(&s->opts, ctx->shared_ca_file);
	if (r < 0) {
		sc_shared_free(s);
		return NULL;
	}
	return s;
}

void sc_shared_free(struct sc_shared *s)
{
	if (!s)
		return;
	sc_shared_done(s);
	sc_argv_free(&s->opts);
	free(s->stores);
	free(s->helper);
	free(s);
}

/*
 * Start the helper with argv, stdin and stdout on pipes; it dies with us
 * (so a lease it holds expires when we die). Returns its pid or -errno.
 */
static pid_t start(struct sc_shared *s, const char *const *argv, int *in_fd, int *out_fd)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (setenv("STAPCACHE_STORES", s->stores, 1) < 0)
			_exit(127);
		execv(s->helper, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return -errno;
	}
	*in_fd = in[1];
	*out_fd = out[0];
	return pid;
}

static int base_argv(struct sc_shared *s, struct sc_argv *a, const char *cmd,
		     const char *key, const char *module)
{
	int r = sc_argv_push(a, "stapcache-store") ?: sc_argv_push(a, cmd);

	r = r ?: sc_argv_push(a, "--key") ?: sc_argv_push(a, key);
	r = r ?: sc_argv_push(a, "--module") ?: sc_argv_push(a, module);
	for (size_t i = 0; r == 0 && i < s->opts.n; i++)
		r = sc_argv_push(a, s->opts.v[i]);
	return r;
}

static enum sc_shared_result fetch(struct sc_shared *s, const char *key,
				   const char *module, const char *dir, bool lease)
{
	struct sc_argv a = {0};
	enum sc_shared_result res = SC_SHARED_ERROR;
	char word[16] = "";
	int in = -1, out = -1, status = 0;
	ssize_t n;
	pid_t pid;

	if (store_failed)
		return SC_SHARED_ERROR;
	if (base_argv(s, &a, "get", key, module) < 0 || sc_argv_push(&a, "--out") < 0 ||
	    sc_argv_push(&a, dir) < 0 || (lease && sc_argv_push(&a, "--lease") < 0)) {
		sc_argv_free(&a);
		return SC_SHARED_ERROR;
	}
	pid = start(s, a.v, &in, &out);
	sc_argv_free(&a);
	if (pid < 0) {
		fprintf(stderr, "stapcache: cannot run %s: %s; building locally\n",
			s->helper, strerror((int)-pid));
		store_failed = true;
		return SC_SHARED_ERROR;
	}
	do
		n = read(out, word, sizeof(word) - 1);
	while (n < 0 && errno == EINTR);
	close(out);
	word[n > 0 ? n : 0] = '\0';
	word[strcspn(word, "\n")] = '\0';
	if (!strcmp(word, "lease")) {
		s->lease_pid = pid;
		s->lease_fd = in;
		return SC_SHARED_MISS;
	}
	close(in);
	(void)sc_wait(pid, &status);
	if (!strcmp(word, "hit"))
		res = SC_SHARED_HIT;
	else if (!strcmp(word, "miss"))
		res = SC_SHARED_MISS;
	else if (!strcmp(word, "reject"))
		res = SC_SHARED_REJECT;
	else if (!word[0] && WIFSIGNALED(status))
		fprintf(stderr,
			"stapcache: %s was ended by signal %d (%s); building locally\n",
			s->helper, WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (!word[0])
		fprintf(stderr, "stapcache: %s failed; building locally\n", s->helper);
	store_failed = res == SC_SHARED_ERROR;
	return res;
}

enum sc_shared_result sc_shared_fetch(struct sc_shared *s, const char *key,
				      const char *module, const char *dir)
{
	return fetch(s, key, module, dir, true);
}

enum sc_shared_result sc_shared_peek(struct sc_shared *s, const char *key,
				     const char *module, const char *dir)
{
	return fetch(s, key, module, dir, false);
}

int sc_shared_upload(struct sc_shared *s, const char *key, const char *module,
		     const char *entry_dir)
{
	struct sc_argv a = {0};
	int in = -1, out = -1, status = 1;
	pid_t pid;

	if (store_failed)
		return -1;
	if (base_argv(s, &a, "put", key, module) < 0 || sc_argv_push(&a, "--entry") < 0 ||
	    sc_argv_push(&a, entry_dir) < 0) {
		sc_argv_free(&a);
		return -1;
	}
	pid = start(s, a.v, &in, &out);
	sc_argv_free(&a);
	if (pid < 0)
		return -1;
	close(in);
	close(out);
	if (sc_wait(pid, &status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

void sc_shared_done(struct sc_shared *s)
{
	int status;

	if (!s || !s->lease_pid)
		return;
	close(s->lease_fd);
	(void)sc_wait(s->lease_pid, &status);
	s->lease_pid = 0;
	s->lease_fd = -1;
}
