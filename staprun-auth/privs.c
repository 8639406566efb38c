/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Privileges. Only the file-system ids are ever switched temporarily (so
 * that the module file is opened with the caller's own access rights); the
 * real drop is permanent and then proven, after OpenSSH's
 * permanently_set_uid().
 */
#include "build-config.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include "auth.h"

/* setfsuid() reports the previous id; asking for an invalid one reads it back. */
static int fsuid_is(uid_t want)
{
	return (uid_t)setfsuid((uid_t)-1) == want;
}

static int fsgid_is(gid_t want)
{
	return (gid_t)setfsgid((gid_t)-1) == want;
}

int sa_fsuid_user(const struct sa_ids *ids)
{
	setfsgid(ids->gid);
	setfsuid(ids->uid);
	if (!fsuid_is(ids->uid) || !fsgid_is(ids->gid))
		return -EPERM;
	return 0;
}

int sa_fsuid_root(void)
{
	setfsuid(0);
	setfsgid(0);
	if (!fsuid_is(0) || !fsgid_is(0))
		return -EPERM;
	return 0;
}

static int same_groups(const struct sa_ids *ids)
{
	gid_t *now = calloc((size_t)ids->ngroups + 1, sizeof(gid_t));
	int n, i, j, same = 0;

	if (!now)
		return 0;
	n = getgroups(ids->ngroups + 1, now);
	if (n != ids->ngroups)
		goto out;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n && now[i] != ids->groups[j]; j++)
			;
		if (j == n)
			goto out;
	}
	same = 1;
out:
	free(now);
	return same;
}

/* After the drop: every id is the caller's, and root cannot be had back. */
static int verify_dropped(const struct sa_ids *ids, struct sc_error *err)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0) {
		sc_error_set(err, "getresuid: %s", strerror(errno));
		return -EPERM;
	}
	if (ru != ids->uid || eu != ids->uid || su != ids->uid || rg != ids->gid ||
	    eg != ids->gid || sg != ids->gid || !fsuid_is(ids->uid) ||
	    !fsgid_is(ids->gid) || !same_groups(ids)) {
		sc_error_set(err, "privileges were not dropped completely");
		return -EPERM;
	}
	if (ids->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		sc_error_set(err, "could regain uid 0 after dropping privileges");
		return -EPERM;
	}
	if (ids->gid != 0 && ids->uid != 0 && (setgid(0) != -1 || setegid(0) != -1)) {
		sc_error_set(err, "could regain gid 0 after dropping privileges");
		return -EPERM;
	}
	return 0;
}

int sa_drop_privileges(const struct sa_ids *ids, struct sc_error *err)
{
	if (setgroups((size_t)ids->ngroups, ids->groups) < 0) {
		sc_error_set(err, "setgroups: %s", strerror(errno));
		return -EPERM;
	}
	if (setresgid(ids->gid, ids->gid, ids->gid) < 0) {
		sc_error_set(err, "setresgid: %s", strerror(errno));
		return -EPERM;
	}
	if (setresuid(ids->uid, ids->uid, ids->uid) < 0) {
		sc_error_set(err, "setresuid: %s", strerror(errno));
		return -EPERM;
	}
	return verify_dropped(ids, err);
}
