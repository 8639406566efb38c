/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Privileges. Right after start-up the process becomes root through and
 * through (real, effective and saved ids 0), so that the caller, whose uid
 * no longer matches its real or saved uid, cannot signal it: kill(2) needs
 * one of them to match, and a process stopped or killed while it holds the
 * registry lock, or between init_module and its record, is what the runner
 * must never be. From there:
 *   - the module file is opened with the effective ids switched to the
 *     caller's (real and saved stay 0, so the caller still cannot signal):
 *     euid != 0 empties the effective capability set, so neither
 *     CAP_DAC_* nor CAP_SYS_PTRACE (/proc/PID/cwd) opens anything the
 *     caller could not open;
 *   - init_module is called by a short-lived child whose real ids are the
 *     caller's (the runtime gives its files to current_uid()), effective
 *     root;
 *   - stapio's child drops everything for good and proves it, after
 *     OpenSSH's permanently_set_uid().
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <grp.h>
#include <pwd.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "auth.h"

/* ---------------------------------------------------- who the caller is */

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

void sa_ids_free(struct sa_ids *ids)
{
	size_t i;

	for (i = 0; i < ids->ngroup_names; i++)
		free(ids->group_names[i]);
	free(ids->group_names);
	free(ids->groups);
	free(ids->user);
	memset(ids, 0, sizeof(*ids));
}

/*
 * 1 when we run in the initial user namespace (uid_map is the identity).
 * In a user namespace of the caller's own, the setuid bit is not honoured,
 * yet a caller mapped to 0 there passes an effective-uid check and looks
 * like root.
 */
int sa_initial_userns(unsigned *outside)
{
	char buf[128] = "";
	unsigned a = 1, b = 1, n = 0;
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return errno == ENOENT; /* a kernel without user namespaces */
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	/* One line, "0 0 4294967295": every uid, itself. Otherwise, for the
	 * log, who the caller is outside (its first line's mapping). */
	if (sscanf(buf, "%u %u %u", &a, &b, &n) == 3 && getuid() >= a && getuid() - a < n)
		*outside = b + (getuid() - a);
	return strchr(buf, '\n') == buf + len - 1 && a == 0 && b == 0 && n == 4294967295u;
}

/* ------------------------------------------------------------ switches */

static int ids_are(uid_t ru, uid_t eu, uid_t su, gid_t rg, gid_t eg, gid_t sg)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (getresuid(&r, &e, &s) < 0 || getresgid(&gr, &ge, &gs) < 0)
		return 0;
	/* setfsuid() reports the previous id; asking for an invalid one reads it. */
	return r == ru && e == eu && s == su && gr == rg && ge == eg && gs == sg &&
	       (uid_t)setfsuid((uid_t)-1) == eu && (gid_t)setfsgid((gid_t)-1) == eg;
}

/* 1 when no capability is effective (capget(2), the kernel's own view). */
static int no_effective_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return d[0].effective == 0 && d[1].effective == 0;
}

/*
 * Become root through and through: no supplementary groups, every uid and
 * gid 0, not dumpable. Returns 0 or -EPERM (err says why).
 */
int sa_become_root(struct sc_error *err)
{
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		sc_error_set(err, "cannot become root: %s", strerror(errno));
		return -EPERM;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		sc_error_set(err, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
		return -EPERM;
	}
	if (!ids_are(0, 0, 0, 0, 0, 0)) {
		sc_error_set(err, "cannot become root: the ids did not change");
		return -EPERM;
	}
	return 0;
}

/*
 * For one open(2) of a path the caller chose: the caller's groups and
 * effective ids, real and saved ids still 0, and (for a caller other than
 * root) no effective capability, proven with capget(2). Returns 0, or
 * -EPERM after switching back (sa_as_root()) when any of that failed.
 */
int sa_as_caller(const struct sa_ids *ids)
{
	if (setgroups((size_t)ids->ngroups, ids->groups) < 0 ||
	    setresgid((gid_t)-1, ids->gid, (gid_t)-1) < 0 ||
	    setresuid((uid_t)-1, ids->uid, (uid_t)-1) < 0 ||
	    !ids_are(0, ids->uid, 0, 0, ids->gid, 0) ||
	    (ids->uid != 0 && !no_effective_caps())) {
		/* A failure either way: the caller refuses and ends. */
		(void)sa_as_root();
		return -EPERM;
	}
	return 0;
}

/* Back from sa_as_caller(): every id 0 and no supplementary group. 0 or -EPERM. */
int sa_as_root(void)
{
	if (setresuid((uid_t)-1, 0, (uid_t)-1) < 0 ||
	    setresgid((gid_t)-1, 0, (gid_t)-1) < 0 || setgroups(0, NULL) < 0 ||
	    !ids_are(0, 0, 0, 0, 0, 0))
		return -EPERM;
	return 0;
}

/*
 * In the child that calls init_module: real uid and gid the caller's, as
 * the runtime takes current_uid()/current_gid() for its files; effective and
 * saved ids root. Returns 0 or -EPERM.
 */
int sa_loader_ids(const struct sa_ids *ids)
{
	if (setresgid(ids->gid, 0, 0) < 0 || setresuid(ids->uid, 0, 0) < 0 ||
	    !ids_are(ids->uid, 0, 0, ids->gid, 0, 0))
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

/* For good (OpenSSH's permanently_set_uid()): then every id is the caller's,
 * and root cannot be had back. */
int sa_drop_privileges(const struct sa_ids *ids, struct sc_error *err)
{
	const char *what = NULL;

	if (setgroups((size_t)ids->ngroups, ids->groups) < 0)
		what = "setgroups";
	else if (setresgid(ids->gid, ids->gid, ids->gid) < 0)
		what = "setresgid";
	else if (setresuid(ids->uid, ids->uid, ids->uid) < 0)
		what = "setresuid";
	if (what) {
		sc_error_set(err, "%s: %s", what, strerror(errno));
		return -EPERM;
	}
	if (!ids_are(ids->uid, ids->uid, ids->uid, ids->gid, ids->gid, ids->gid) ||
	    !same_groups(ids)) {
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
