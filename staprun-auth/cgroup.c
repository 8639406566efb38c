/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Out of the caller's cgroup. systemd delegates a cgroup v2 subtree to each
 * user (user@UID.service): its owner can freeze it (cgroup.freeze), kill
 * everything in it (cgroup.kill) or move processes around inside it. So,
 * before it takes any lock or loads anything, the privileged process moves
 * itself into MOUNT/staprun-auth, a cgroup only root controls; stapio's
 * child goes back into the caller's cgroup before it drops privileges, so
 * that the caller's own processes stay where they were. Where the move is
 * impossible (a read-only cgroup file system) the run goes on only when no
 * cgroup above us is the caller's to control.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "auth.h"

#define SA_CGROUP "staprun-auth"
#define SA_CGROUP2_MAGIC 0x63677270

static const char *mount_point(void)
{
	static const char *const dirs[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	struct statfs st;
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (statfs(dirs[i], &st) == 0 &&
		    (unsigned long)st.f_type == SA_CGROUP2_MAGIC)
			return dirs[i];
	return NULL;
}

/* 1 when pid is listed in cgroup.procs of path (relative to the mount). */
static int member(int mfd, const char *path, pid_t pid)
{
	char rel[600];
	int fd, p, found = 0;
	FILE *f;

	snprintf(rel, sizeof(rel), "%s/cgroup.procs", path[1] ? path + 1 : ".");
	fd = openat(mfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 0;
	}
	while (!found && fscanf(f, "%d", &p) == 1)
		found = p == pid;
	fclose(f);
	return found;
}

/*
 * Our cgroup v2 path: the text after a "0::" that starts a line of
 * /proc/self/cgroup, to the end of the file (the v2 line comes last, and a
 * cgroup's name may hold a newline, even "\n0::/elsewhere"): the first such
 * candidate whose cgroup.procs lists us. 0 with "" when none does, or -errno.
 */
static int own_cgroup(int mfd, char *buf, size_t n)
{
	char text[4096], *line = text;
	ssize_t len;
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len < 0)
		return -errno;
	text[len] = '\0';
	if (len > 0 && text[len - 1] == '\n')
		text[len - 1] = '\0';
	buf[0] = '\0';
	while (line) {
		const char *p = line + 3;

		if (!strncmp(line, "0::", 3) && p[0] == '/' && strlen(p) < n &&
		    !strstr(p, "/../") && !strstr(p, "/./") && member(mfd, p, getpid())) {
			strcpy(buf, p);
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

/* 1 when the cgroup at path (relative to the mount) or one above it is the
 * caller's to control: anything there not root's, or writable by others. */
static int delegated(int mfd, char *path)
{
	static const char *const files[] = {".", "cgroup.procs", "cgroup.freeze",
					    "cgroup.kill", "cgroup.subtree_control"};
	struct stat st;
	char *slash;
	size_t i;
	int dfd;

	for (;;) {
		dfd = path[0] ? openat(mfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			      : dup(mfd);
		if (dfd < 0)
			return 1; /* cannot tell: fail closed */
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			if (fstatat(dfd, files[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (st.st_uid != 0 || (st.st_mode & 022)) {
				close(dfd);
				return 1;
			}
		}
		close(dfd);
		if (!path[0])
			return 0;
		slash = strrchr(path, '/');
		if (slash)
			*slash = '\0';
		else
			path[0] = '\0';
	}
}

static int join(int mfd, struct sc_error *err)
{
	char pid[24], now[512];
	struct stat st;
	int dfd, fd, r = 0;

	if (mkdirat(mfd, SA_CGROUP, 0755) < 0 && errno != EEXIST)
		return -errno;
	dfd = openat(mfd, SA_CGROUP, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstat(dfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022)) {
		close(dfd);
		sc_error_set(err,
			     "refusing the cgroup %s: it must be root's, not writable "
			     "by others",
			     SA_CGROUP);
		return -EPERM;
	}
	fd = openat(dfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return -errno;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (write(fd, pid, strlen(pid)) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && (r = own_cgroup(mfd, now, sizeof(now))) == 0 &&
	    strcmp(now, "/" SA_CGROUP) != 0)
		r = -EAGAIN;
	return r;
}

/*
 * Leave the caller's cgroup for MOUNT/staprun-auth, remembering the caller's
 * in ids->cgroup. Returns 0 (moved, or nothing the caller could control),
 * or -errno (err says why) when we stay where the caller has control.
 */
int sa_cgroup_leave(struct sa_ids *ids, struct sc_error *err)
{
	const char *mnt = mount_point();
	char rel[512];
	int mfd, r;

	ids->cgroup[0] = '\0';
	if (!mnt)
		return 0; /* no cgroup v2 mounted: nobody can freeze us through it */
	mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return 0;
	r = own_cgroup(mfd, ids->cgroup, sizeof(ids->cgroup));
	if (r < 0)
		sc_error_set(err, "cannot read /proc/self/cgroup: %s", strerror(-r));
	if (r < 0 || !strcmp(ids->cgroup, "/") || !strcmp(ids->cgroup, "/" SA_CGROUP)) {
		close(mfd);
		return r; /* the root cgroup cannot be frozen or killed */
	}
	/* Ours, or one we could not tell (then stapio stays with us). */
	r = join(mfd, err);
	snprintf(rel, sizeof(rel), "%s", ids->cgroup[0] ? ids->cgroup + 1 : "?");
	if (r < 0 && !err->msg[0] && (!ids->cgroup[0] || delegated(mfd, rel)))
		sc_error_set(err,
			     "cannot leave your cgroup %s for %s/%s (%s): it will not run "
			     "where you can freeze or kill it",
			     ids->cgroup[0] ? ids->cgroup : "(unknown)", mnt, SA_CGROUP,
			     strerror(-r));
	else if (r < 0 && !err->msg[0])
		r = 0; /* e.g. read-only, and none of it is the caller's */
	close(mfd);
	return r;
}

/* In stapio's child, still root: back into the caller's cgroup (best effort). */
void sa_cgroup_return(const struct sa_ids *ids)
{
	const char *mnt = mount_point();
	char path[1024], pid[24];
	int fd;

	if (!mnt || !ids->cgroup[0] || !strcmp(ids->cgroup, "/"))
		return;
	snprintf(path, sizeof(path), "%s%s/cgroup.procs", mnt, ids->cgroup);
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (write(fd, pid, strlen(pid)) < 0) {
		/* Stays in ours: harmless, only not counted as the caller's. */
	}
	close(fd);
}
