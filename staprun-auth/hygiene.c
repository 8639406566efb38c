/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Start-up hygiene for a setuid program: sane descriptors 0-2 and no others,
 * an environment rebuilt from an allow-list, the caller's identity and
 * resource limits captured once, limits and signals of our own. Modelled on
 * OpenSSH's sanitise_stdfd() and OpenBSD doas.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "auth.h"

/* The PATH stapio and the user's -c command get; nothing of the caller's. */
#define SA_PATH "/usr/local/bin:/usr/bin:/bin"

void sa_sanitise_fds(void)
{
	int nullfd, fd;

	nullfd = open("/dev/null", O_RDWR);
	if (nullfd < 0)
		_exit(SA_EXIT_REFUSED); /* nothing sane to print to */
	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFL) < 0 && errno == EBADF && dup2(nullfd, fd) < 0)
			_exit(SA_EXIT_REFUSED);
	}
	if (nullfd > 2)
		close(nullfd);
	closefrom(3);
}

/* Values of TERM, LANG, LC_*: a plain word, no path, no option, no escape. */
static int word_ok(const char *v)
{
	size_t n = strlen(v), i;

	if (n == 0 || n > 64 || v[0] == '.' || v[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("._@+-", c)))
			return 0;
	}
	return 1;
}

/* TZ: a zone name or POSIX rule, never a path of one's own choosing. */
static int tz_ok(const char *v)
{
	const char *p = v[0] == ':' ? v + 1 : v;
	size_t n = strlen(p), i;

	if (n == 0 || n > 64 || p[0] == '/' || strstr(p, ".."))
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("._+-/,:<>", c)))
			return 0;
	}
	return 1;
}

static const char *const kept[] = {
    "TERM",    "LANG",	     "LC_ALL",	     "LC_CTYPE",       "LC_NUMERIC",
    "LC_TIME", "LC_COLLATE", "LC_MONETARY",  "LC_MESSAGES",    "LC_PAPER",
    "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION",
    "TZ",
};
#define NKEPT (sizeof(kept) / sizeof(kept[0]))

/* Set HOME, USER, LOGNAME and SHELL from the password database, not from the caller. */
static int set_account_env(void)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwuid(getuid());
	if (!pw)
		return 0;
	if (setenv("HOME", pw->pw_dir, 1) < 0 || setenv("USER", pw->pw_name, 1) < 0 ||
	    setenv("LOGNAME", pw->pw_name, 1) < 0 || setenv("SHELL", pw->pw_shell, 1) < 0)
		return -errno;
	return 0;
}

int sa_rebuild_env(void)
{
	char *val[NKEPT];
	size_t i;
	int r = 0;

	for (i = 0; i < NKEPT; i++) {
		const char *v = getenv(kept[i]);
		int good = v && (i == NKEPT - 1 ? tz_ok(v) : word_ok(v));

		val[i] = good ? strdup(v) : NULL;
		if (good && !val[i])
			r = -ENOMEM;
	}
	if (clearenv() != 0 && r == 0)
		r = -ENOMEM;
	for (i = 0; i < NKEPT; i++) {
		if (r == 0 && val[i] && setenv(kept[i], val[i], 1) < 0)
			r = -errno;
		free(val[i]);
	}
	if (r == 0 && setenv("PATH", SA_PATH, 1) < 0)
		r = -errno;
	if (r == 0)
		r = set_account_env();
	return r;
}

static int add_group_name(struct sa_ids *ids, gid_t gid)
{
	struct group *gr = getgrgid(gid);
	char **nn;
	size_t i;

	if (!gr)
		return 0;
	for (i = 0; i < ids->ngroup_names; i++)
		if (!strcmp(ids->group_names[i], gr->gr_name))
			return 0;
	nn = realloc(ids->group_names, (ids->ngroup_names + 1) * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	ids->group_names = nn;
	nn[ids->ngroup_names] = strdup(gr->gr_name);
	if (!nn[ids->ngroup_names])
		return -ENOMEM;
	ids->ngroup_names++;
	return 0;
}

int sa_ids_capture(struct sa_ids *ids)
{
	struct passwd *pw;
	int n, i, r;

	memset(ids, 0, sizeof(*ids));
	ids->uid = getuid();
	ids->gid = getgid();
	for (i = 0; i < RLIM_NLIMITS; i++)
		if (getrlimit(i, &ids->limits[i]) < 0)
			return -errno;
	n = getgroups(0, NULL);
	if (n < 0)
		return -errno;
	ids->groups = calloc((size_t)n + 1, sizeof(gid_t));
	if (!ids->groups)
		return -ENOMEM;
	n = getgroups(n, ids->groups);
	if (n < 0)
		return -errno;
	ids->ngroups = n;
	pw = getpwuid(ids->uid);
	if (pw && !(ids->user = strdup(pw->pw_name)))
		return -ENOMEM;
	r = add_group_name(ids, ids->gid);
	for (i = 0; r == 0 && i < n; i++)
		r = add_group_name(ids, ids->groups[i]);
	return r;
}

void sa_ids_release(struct sa_ids *ids)
{
	size_t i;

	for (i = 0; i < ids->ngroup_names; i++)
		free(ids->group_names[i]);
	free(ids->group_names);
	free(ids->groups);
	free(ids->user);
	memset(ids, 0, sizeof(*ids));
}

const char *sa_user_label(const struct sa_ids *ids)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%s(%u)", ids->user ? ids->user : "?",
		 (unsigned)ids->uid);
	return buf;
}

/* ------------------------------------------------------------ limits */

#define MIB ((rlim_t)1 << 20)

/*
 * The caller's limits must not make the privileged process fail half-way
 * (RLIMIT_NOFILE turning the registry's open into EMFILE after a load,
 * RLIMIT_FSIZE or RLIMIT_AS a write or malloc, RLIMIT_CPU, RLIMIT_RTTIME or a
 * tiny RLIMIT_STACK killing it), nor leave a core of it. Each is raised to
 * cur (hard limits never lowered, so that stapio gets the caller's back);
 * where the system does not let us raise one (no CAP_SYS_RESOURCE), a soft
 * limit below need refuses the run before anything is done.
 */
static const struct {
	int resource;
	const char *name;
	rlim_t cur, need;
} own_limits[] = {
    {RLIMIT_CORE, "RLIMIT_CORE", 0, 0},
    {RLIMIT_NOFILE, "RLIMIT_NOFILE", 1024, 64},
    {RLIMIT_STACK, "RLIMIT_STACK", 8 * MIB, 1 * MIB},
    {RLIMIT_AS, "RLIMIT_AS", RLIM_INFINITY, 512 * MIB},
    {RLIMIT_DATA, "RLIMIT_DATA", RLIM_INFINITY, 512 * MIB},
    {RLIMIT_FSIZE, "RLIMIT_FSIZE", RLIM_INFINITY, 1 * MIB},
    {RLIMIT_CPU, "RLIMIT_CPU", RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_RTTIME, "RLIMIT_RTTIME", RLIM_INFINITY, RLIM_INFINITY},
};

static int set_limit(size_t i, const struct sa_ids *ids, struct sc_error *err)
{
	const struct rlimit *caller = &ids->limits[own_limits[i].resource];
	struct rlimit rl = {.rlim_cur = own_limits[i].cur, .rlim_max = caller->rlim_max};

	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;
	if (setrlimit(own_limits[i].resource, &rl) < 0) {
		/* Not allowed to raise the hard limit: as far as it goes. */
		rl.rlim_max = caller->rlim_max;
		if (rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
		if (setrlimit(own_limits[i].resource, &rl) < 0) {
			int r = -errno;

			sc_error_set(err, "setrlimit(%s): %s", own_limits[i].name,
				     strerror(-r));
			return r;
		}
	}
	if (rl.rlim_cur < own_limits[i].need) {
		sc_error_set(err,
			     "your %s (%llu) is too low to load a module safely, and "
			     "this system does not let %s raise it",
			     own_limits[i].name, (unsigned long long)rl.rlim_cur,
			     SA_PROG);
		return -EPERM;
	}
	return 0;
}

/* Our own limits, from the caller's in ids. 0 or -errno (err says which). */
int sa_limits_harden(const struct sa_ids *ids, struct sc_error *err)
{
	size_t i;
	int r;

	for (i = 0; i < sizeof(own_limits) / sizeof(own_limits[0]); i++) {
		r = set_limit(i, ids, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The caller's limits again, for stapio (never above our hard limits). */
int sa_limits_restore(const struct sa_ids *ids)
{
	int i;

	for (i = 0; i < RLIM_NLIMITS; i++)
		if (setrlimit(i, &ids->limits[i]) < 0)
			return -errno;
	return 0;
}

/* ----------------------------------------------------------- signals */

/* The terminal's and a system shutdown's: blocked, and acted on at safe points. */
static const int term_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
/* Job control: root work must never be stopped from a terminal. */
static const int stop_signals[] = {SIGTSTP, SIGTTIN, SIGTTOU};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int set_handler(const int *sigs, size_t n, void (*handler)(int))
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = handler;
	for (i = 0; i < n; i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

static int term_mask(int how)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < NELEM(term_signals); i++)
		sigaddset(&set, term_signals[i]);
	return sigprocmask(how, &set, NULL) < 0 ? -errno : 0;
}

/*
 * Every disposition SIG_DFL and nothing blocked: what a caller ignored or
 * blocked (SIGCHLD would break waitpid, SIGUSR1 stapio's start) is not
 * inherited. 0 or -errno.
 */
int sa_signals_default(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++) {
		/* SIGKILL, SIGSTOP and glibc's internal ones say EINVAL. */
		if (sigaction(sig, &sa, NULL) < 0 && errno != EINVAL)
			return -errno;
	}
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL) < 0 ? -errno : 0;
}

/*
 * For the privileged process: defaults, then job-control stops ignored, a
 * closed pipe or RLIMIT_FSIZE an error rather than death, and the
 * termination signals blocked until sa_signals_pending() looks at them or
 * sa_signals_release() lets them in. 0 or -errno.
 */
int sa_signals_startup(void)
{
	static const int ignored[] = {SIGPIPE, SIGXFSZ};
	int r = sa_signals_default();

	if (r == 0)
		r = set_handler(stop_signals, NELEM(stop_signals), SIG_IGN);
	if (r == 0)
		r = set_handler(ignored, NELEM(ignored), SIG_IGN);
	if (r == 0)
		r = term_mask(SIG_BLOCK);
	return r;
}

/* The first termination signal that arrived meanwhile, or 0. */
int sa_signals_pending(void)
{
	sigset_t set;
	size_t i;

	if (sigpending(&set) < 0)
		return 0;
	for (i = 0; i < NELEM(term_signals); i++)
		if (sigismember(&set, term_signals[i]) == 1)
			return term_signals[i];
	return 0;
}

/* The watchdog outlives whatever ends stapio: termination signals ignored. */
int sa_signals_watchdog(void)
{
	int r = set_handler(term_signals, NELEM(term_signals), SIG_IGN);

	return r ? r : term_mask(SIG_UNBLOCK);
}

/* Let the termination signals in; one that arrived meanwhile ends us now. */
int sa_signals_release(void)
{
	return term_mask(SIG_UNBLOCK);
}
