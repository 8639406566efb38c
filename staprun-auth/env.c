/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The environment: cleared and rebuilt from an allow-list before any library
 * call can read it (after OpenBSD doas), with HOME, USER, LOGNAME and SHELL
 * from the password database and a fixed PATH.
 */
#include "build-config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"

/* The PATH stapio and the user's -c command get; nothing of the caller's. */
#define SA_PATH "/usr/local/bin:/usr/bin:/bin"

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/*
 * Values of TERM, LANG, LC_*: a plain word, no path, no option, no escape.
 * TZ (tz set): a zone name or POSIX rule, never a path of one's own choosing.
 */
static int value_ok(const char *v, int tz)
{
	const char *p = tz && v[0] == ':' ? v + 1 : v;
	size_t n = strlen(p);

	if (n == 0 || n > 64 ||
	    (tz ? p[0] == '/' || strstr(p, "..") : p[0] == '.' || p[0] == '-'))
		return 0;
	return strspn(p, tz ? ALNUM "._+-/,:<>" : ALNUM "._@+-") == n;
}

static const char *const kept[] = {
	"TERM",    "LANG",       "LC_ALL",       "LC_CTYPE",       "LC_NUMERIC",
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

int sa_env_rebuild(void)
{
	char *val[NKEPT];
	size_t i;
	int r = 0;

	for (i = 0; i < NKEPT; i++) {
		const char *v = getenv(kept[i]);
		int good = v && value_ok(v, i == NKEPT - 1);

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
