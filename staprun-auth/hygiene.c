/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Start-up hygiene for a setuid program: sane descriptors 0-2 and no others,
 * an environment rebuilt from an allow-list, and the caller's identity
 * captured once. Modelled on OpenSSH's sanitise_stdfd() and OpenBSD doas.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
