/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "fsutil.h"

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t got_signal;

static void forward(int sig)
{
	got_signal = sig;
	if (child_pid > 0)
		kill(-child_pid, sig);
}

int sc_build_interrupted(void)
{
	return got_signal;
}

struct argv_builder {
	const char **v;
	size_t n, cap;
	char **owned;
	size_t n_owned;
};

static void push(struct argv_builder *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		if (!a->v)
			abort();
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void push_owned(struct argv_builder *a, char *s)
{
	a->owned = realloc(a->owned, (a->n_owned + 1) * sizeof(*a->owned));
	if (!a->owned)
		abort();
	a->owned[a->n_owned++] = s;
	push(a, s);
}

static void argv_free(struct argv_builder *a)
{
	for (size_t i = 0; i < a->n_owned; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->v);
}

static void push_list(struct argv_builder *a, const char *opt, const struct sc_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		push(a, opt);
		push(a, sv->v[i]);
	}
}

static void build_argv(struct argv_builder *a, const struct sc_request *req,
		       const struct sc_kernel *k, const struct sc_key_env *env,
		       const struct sc_key *key, const char *script_copy)
{
	push(a, env->stap);
	push(a, "-p4");
	push(a, "-m");
	push(a, key->module);
	push(a, "-r");
	push(a, k->spec);
	if (req->arch) {
		push(a, "-a");
		push(a, req->arch);
	}
	push(a, "-R");
	push(a, env->runtime);
	for (int i = 0; i < req->verbose; i++)
		push(a, "-v");
	if (req->guru)
		push(a, "-g");
	if (req->bulk)
		push(a, "-b");
	if (req->timing)
		push(a, "-t");
	if (req->unoptimized)
		push(a, "-u");
	if (req->suppress_handler_errors)
		push(a, "--suppress-handler-errors");
	if (req->suppress_time_limits)
		push(a, "--suppress-time-limits");
	if (req->skip_badvars)
		push(a, "--skip-badvars");
	if (req->privilege)
		push_owned(a, sc_strdupf("--privilege=%s", req->privilege));
	if (req->compatible)
		push_owned(a, sc_strdupf("--compatible=%s", req->compatible));
	push_list(a, "-D", &req->defines);
	push_list(a, "-I", &req->includes);
	push_list(a, "-B", &req->kbuild);
	if (script_copy) {
		push(a, script_copy);
	} else {
		push(a, "-e");
		push(a, key->script);
	}
	for (size_t i = 0; i < req->args.n; i++)
		push(a, req->args.v[i]);
}

static int write_script_copy(const char *work, const struct sc_key *key, char **out)
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
	*out = path;
	return 0;
}

static pid_t spawn(const char *const *argv, const char *work, int verbose)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* A build outlives nothing: if stapcache dies, stap goes too. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* Its own process group, so that every compiler it starts can be stopped. */
	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (chdir(work) < 0)
		_exit(127);
	setenv("TMPDIR", work, 1);
	/* stdout is reserved for the module path: stap's goes to stderr or nowhere. */
	if (verbose) {
		dup2(2, 1);
	} else {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 1);
	}
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "stapcache: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sc_build_run(const struct sc_request *req, const struct sc_kernel *kernel,
		 const struct sc_key_env *env, const struct sc_key *key, const char *tmpdir,
		 double *seconds, struct sc_error *err)
{
	struct argv_builder a = {0};
	struct sigaction sa = {0}, old_int, old_term, old_hup;
	char *work = sc_strdupf("%s/work", tmpdir), *script_copy = NULL;
	char *built = NULL, *dest = NULL;
	double t0 = now();
	int status = 0, r;
	pid_t pid;

	if (mkdir(work, 0700) < 0) {
		r = -errno;
		sc_error_set(err, "cannot create %s: %s", work, strerror(-r));
		goto out;
	}
	if (!req->script_text) {
		r = write_script_copy(work, key, &script_copy);
		if (r < 0) {
			sc_error_set(err, "cannot stage the script: %s", strerror(-r));
			goto out;
		}
	}
	build_argv(&a, req, kernel, env, key, script_copy);
	if (req->verbose) {
		fprintf(stderr, "stapcache: running");
		for (size_t i = 0; i < a.n; i++)
			fprintf(stderr, " %s", a.v[i]);
		fputc('\n', stderr);
	}
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	got_signal = 0;
	pid = spawn(a.v, work, req->verbose);
	if (pid < 0) {
		r = -errno;
		sc_error_set(err, "cannot start stap: %s", strerror(-r));
		goto restore;
	}
	setpgid(pid, pid);
	child_pid = pid;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	child_pid = 0;
	kill(-pid, SIGKILL); /* stragglers of an interrupted or failed kbuild */
	*seconds = now() - t0;
	if (got_signal) {
		r = -EINTR;
		sc_error_set(err, "build interrupted by signal %d; nothing was cached",
			     (int)got_signal);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		r = -ENOEXEC;
		sc_error_set(err, "could not run %s; install systemtap or set 'stap:' in "
				  "config.yaml", env->stap);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		r = -EIO;
		if (WIFSIGNALED(status))
			sc_error_set(err, "stap was killed by signal %d; nothing was cached",
				     WTERMSIG(status));
		else
			sc_error_set(err, "stap failed (exit status %d; its messages are above); "
					  "nothing was cached", WEXITSTATUS(status));
	} else {
		built = sc_strdupf("%s/%s.ko", work, key->module);
		dest = sc_strdupf("%s/%s.ko", tmpdir, key->module);
		r = rename(built, dest) < 0 ? -errno : 0;
		if (r < 0)
			sc_error_set(err, "stap succeeded but produced no %s.ko: %s", key->module,
				     strerror(-r));
	}
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
out:
	(void)sc_rm_rf(work);
	argv_free(&a);
	free(work);
	free(script_copy);
	free(built);
	free(dest);
	return r;
}
