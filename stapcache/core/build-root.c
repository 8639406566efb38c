/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build roots (build-root.h): the stamp, paths inside a root, and the way a
 * child process enters one. The child's part (sc_jail_enter) makes system
 * calls only: every string it needs was made by sc_jail_new before the fork.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/record.h"
#include "common/spawn.h"
#include "core/build-root.h"

#define STAMP_MAX (1u << 20)
#define LINKS_MAX 40
#define HOME_ID_LEN 16

void sc_buildroot_free(struct sc_buildroot *br)
{
	if (!br)
		return;
	free(br->dir);
	free(br->id);
	free(br->release);
	free(br->arch);
	free(br->kernel);
	free(br->systemtap);
	free(br->home);
	free(br);
}

/* A stamp field: present, printable ASCII, no '/' in a name-like one. */
static int stamp_field(const struct sc_record *rec, const char *label, bool word,
		       char **out, const char *stamp, struct sc_error *err)
{
	const char *v = sc_record_get(rec, label);

	if (!v || !*v) {
		sc_error_set(err, "%s has no '%s' field", stamp, label);
		return -EINVAL;
	}
	for (const char *c = v; *c; c++)
		if (*c <= ' ' || *c > '~' || (word && *c == '/')) {
			sc_error_set(err, "%s: '%s' is not a plain word", stamp, label);
			return -EINVAL;
		}
	*out = sc_strdupf("%s", v);
	return 0;
}

static int read_stamp(struct sc_buildroot *br, struct sc_error *err)
{
	char *path = sc_strdupf("%s/%s", br->dir, SC_BUILDROOT_STAMP), *buf = NULL;
	struct sc_record *rec = NULL;
	const char *fmt;
	size_t len = 0;
	int r = sc_read_file(path, STAMP_MAX, &buf, &len);

	if (r < 0) {
		sc_error_set(err,
			     "%s is not a build root: %s %s (make one with 'stapcache "
			     "buildroot create --release RELEASE --dir %s')",
			     br->dir, path, r == -ENOENT ? "is missing" : strerror(-r),
			     br->dir);
		goto out;
	}
	r = sc_record_parse(buf, len, &rec, err);
	if (r < 0) {
		sc_error_prefix(err,
				"%s is not a stamp this stapcache reads (recreate the root "
				"with 'stapcache buildroot create')",
				path);
		goto out;
	}
	fmt = sc_record_get(rec, "buildroot.format");
	if (!fmt || strcmp(fmt, SC_BUILDROOT_FORMAT) != 0) {
		sc_error_set(err,
			     "%s: build root format %s, this stapcache reads format %s "
			     "(recreate the root with 'stapcache buildroot create')",
			     path, fmt ? fmt : "(none)", SC_BUILDROOT_FORMAT);
		r = -EINVAL;
		goto out;
	}
	r = stamp_field(rec, "release", true, &br->release, path, err);
	r = r ?: stamp_field(rec, "arch", true, &br->arch, path, err);
	r = r ?: stamp_field(rec, "kernel-release", true, &br->kernel, path, err);
	r = r ?: stamp_field(rec, "systemtap", true, &br->systemtap, path, err);
	r = r ?: stamp_field(rec, "id", true, &br->id, path, err);
	if (r == 0 &&
	    (strlen(br->id) != 64 || strspn(br->id, "0123456789abcdef") != 64)) {
		sc_error_set(err, "%s: 'id' is not a SHA-256 in hex", path);
		r = -EINVAL;
	}
out:
	sc_record_free(rec);
	free(buf);
	free(path);
	return r;
}

int sc_buildroot_open(const char *dir, const char *homes, struct sc_buildroot **out,
		      struct sc_error *err)
{
	struct sc_buildroot *br = calloc(1, sizeof(*br));
	char real[PATH_MAX];
	int r;

	if (!br)
		return -ENOMEM;
	if (dir[0] != '/') {
		sc_error_set(err, "build root '%s': give an absolute path", dir);
		r = -EINVAL;
		goto fail;
	}
	r = sc_realpath(dir, real);
	if (r < 0) {
		sc_error_set(err,
			     "no build root at %s: %s (create it: stapcache buildroot "
			     "create --release RELEASE --dir %s)",
			     dir, strerror(-r), dir);
		goto fail;
	}
	br->dir = sc_strdupf("%s", real);
	r = read_stamp(br, err);
	if (r < 0)
		goto fail;
	br->home = sc_strdupf("%s/%.*s", homes, HOME_ID_LEN, br->id);
	*out = br;
	return 0;
fail:
	sc_buildroot_free(br);
	return r;
}

const char *sc_buildroot_inside(const struct sc_buildroot *br, const char *host)
{
	size_t n = strlen(br->dir);

	if (strncmp(host, br->dir, n) != 0)
		return NULL;
	if (host[n] == '\0')
		return "/";
	return host[n] == '/' ? host + n : NULL;
}

/* Append "/name" (n bytes of it) to the resolved prefix done (PATH_MAX). */
static int push_component(char *done, const char *name, size_t n)
{
	size_t len = strlen(done);

	if (len + 1 + n >= PATH_MAX)
		return -ENAMETOOLONG;
	done[len] = '/';
	memcpy(done + len + 1, name, n);
	done[len + 1 + n] = '\0';
	return 0;
}

/*
 * Walk inside component by component below root; a symbolic link's target
 * replaces the rest of the walk (an absolute one from the root's top).
 */
static int resolve_walk(const char *root, const char *inside, char *done)
{
	char todo[2 * PATH_MAX], host[2 * PATH_MAX], target[PATH_MAX];
	const char *p;
	int links = 0;

	if (inside[0] != '/' || strlen(inside) >= PATH_MAX)
		return inside[0] != '/' ? -EINVAL : -ENAMETOOLONG;
	snprintf(todo, sizeof(todo), "%s", inside);
	done[0] = '\0';
	p = todo;
	while (*p) {
		size_t n, rest;
		struct stat st;
		ssize_t tl;
		int r;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(done, '/');

			if (slash)
				*slash = '\0';
			p += n;
			continue;
		}
		r = push_component(done, p, n);
		if (r < 0)
			return r;
		p += n;
		snprintf(host, sizeof(host), "%s%s", root, done);
		if (lstat(host, &st) < 0)
			return -errno;
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++links > LINKS_MAX)
			return -ELOOP;
		tl = readlink(host, target, sizeof(target) - 1);
		if (tl < 0)
			return -errno;
		target[tl] = '\0';
		*strrchr(done, '/') = '\0'; /* the link itself is replaced */
		if (target[0] == '/')
			done[0] = '\0';
		rest = strlen(p);
		if ((size_t)tl + rest + 2 > sizeof(todo))
			return -ENAMETOOLONG;
		/* todo becomes TARGET/REST (REST moves first: it is in todo). */
		memmove(todo + tl + 1, p, rest + 1);
		memcpy(todo, target, (size_t)tl);
		todo[tl] = '/';
		p = todo;
	}
	if (!done[0])
		snprintf(done, PATH_MAX, "/");
	return 0;
}

int sc_buildroot_resolve(const struct sc_buildroot *br, const char *inside, char **host,
			 char **inside_real)
{
	char done[PATH_MAX];
	int r = resolve_walk(br->dir, inside, done);

	if (r < 0)
		return r;
	*host = sc_strdupf("%s%s", br->dir, strcmp(done, "/") ? done : "");
	if (inside_real)
		*inside_real = sc_strdupf("%s", done);
	return 0;
}

const char *sc_buildroot_runtime(const struct sc_buildroot *br)
{
	char *p = sc_strdupf("%s%s/STAPCACHE-FIXES", br->dir, SC_BUILDROOT_FIXED_RUNTIME);
	bool fixed = access(p, F_OK) == 0;

	free(p);
	return fixed ? SC_BUILDROOT_FIXED_RUNTIME : SC_BUILDROOT_STOCK_RUNTIME;
}

/* ------------------------------------------------------------------ jail */

#define JAIL_MOUNTS 6

struct sc_jail {
	bool userns;
	char uid_map[64], gid_map[64];
	char *root;
	struct {
		char *src, *dst, *type, *data;
		unsigned long flags;
		const char *what; /* for the message */
	} m[JAIL_MOUNTS];
	size_t nm;
	char *cwd; /* inside */
	char *envp[8];
	char *msg_prefix; /* "stapcache: cannot enter the build root DIR" */
};

void sc_jail_free(struct sc_jail *j)
{
	if (!j)
		return;
	free(j->root);
	for (size_t i = 0; i < j->nm; i++) {
		free(j->m[i].src);
		free(j->m[i].dst);
		free(j->m[i].type);
		free(j->m[i].data);
	}
	free(j->cwd);
	for (size_t i = 0; j->envp[i]; i++)
		free(j->envp[i]);
	free(j->msg_prefix);
	free(j);
}

static int add_mount(struct sc_jail *j, const char *src, const char *inside,
		     const char *type, unsigned long flags, const char *data,
		     const char *what, struct sc_error *err)
{
	char *dst = sc_strdupf("%s%s", j->root, inside);
	struct stat st;

	if (stat(dst, &st) < 0 || !S_ISDIR(st.st_mode)) {
		sc_error_set(err,
			     "the build root %s has no directory %s to mount %s on "
			     "(recreate it with 'stapcache buildroot create')",
			     j->root, inside, what);
		free(dst);
		return -ENOENT;
	}
	j->m[j->nm].src = src ? sc_strdupf("%s", src) : NULL;
	j->m[j->nm].dst = dst;
	j->m[j->nm].type = type ? sc_strdupf("%s", type) : NULL;
	j->m[j->nm].data = data ? sc_strdupf("%s", data) : NULL;
	j->m[j->nm].flags = flags;
	j->m[j->nm].what = what;
	j->nm++;
	return 0;
}

int sc_jail_new(const struct sc_buildroot *br, const char *work, const char *runtime,
		struct sc_jail **out, struct sc_error *err)
{
	struct sc_jail *j = calloc(1, sizeof(*j));
	int r, e = 0;

	if (!j)
		return -ENOMEM;
	j->root = sc_strdupf("%s", br->dir);
	j->msg_prefix = sc_strdupf("stapcache: cannot enter the build root %s", br->dir);
	j->userns = geteuid() != 0;
	snprintf(j->uid_map, sizeof(j->uid_map), "%u %u 1\n", (unsigned)geteuid(),
		 (unsigned)geteuid());
	snprintf(j->gid_map, sizeof(j->gid_map), "%u %u 1\n", (unsigned)getegid(),
		 (unsigned)getegid());
	r = sc_mkdir_p(br->home, 0700);
	if (r < 0) {
		sc_error_set(err, "cannot create %s (stap's home in the build root): %s",
			     br->home, strerror(-r));
		goto fail;
	}
	r = add_mount(j, "/dev", "/dev", NULL, MS_BIND | MS_REC, NULL, "/dev", err);
	r = r
		    ?: add_mount(j, "/proc", "/proc", NULL, MS_BIND | MS_REC, NULL,
				 "/proc", err);
	r = r
		    ?: add_mount(j, "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
				 "mode=1777", "a private /tmp", err);
	r = r
		    ?: add_mount(j, br->home, SC_BUILDROOT_HOME, NULL, MS_BIND, NULL,
				 "stap's home", err);
	if (work)
		r = r
			    ?: add_mount(j, work, SC_BUILDROOT_WORK, NULL, MS_BIND, NULL,
					 "the build's work directory", err);
	if (runtime)
		r = r
			    ?: add_mount(j, runtime, SC_BUILDROOT_RUNTIME, NULL, MS_BIND,
					 NULL, "the runtime", err);
	if (r < 0)
		goto fail;
	j->cwd = sc_strdupf("%s", work ? SC_BUILDROOT_WORK : "/");
	j->envp[e++] = sc_strdupf("PATH=%s", SC_BUILDROOT_PATH);
	j->envp[e++] = sc_strdupf("HOME=%s", SC_BUILDROOT_HOME);
	j->envp[e++] = sc_strdupf("TMPDIR=/tmp");
	j->envp[e++] = sc_strdupf("LC_ALL=C");
	j->envp[e] = NULL;
	*out = j;
	return 0;
fail:
	sc_jail_free(j);
	return r;
}

/* In the child: write(2) only. */
static void say(const struct sc_jail *j, const char *step, int e, const char *hint)
{
	const char *parts[] = {j->msg_prefix,    ": ", step, ": ", strerror(e),
			       hint ? hint : "", "\n"};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (write(2, parts[i], strlen(parts[i])) < 0)
			break;
}

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, text, strlen(text));
	if (w < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

static int enter_userns(const struct sc_jail *j)
{
	static const char hint[] =
		" (unprivileged user namespaces are off on this machine: on Debian "
		"kernels sysctl kernel.unprivileged_userns_clone=1, everywhere "
		"user.max_user_namespaces > 0; or build as root)";
	int r;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		r = -errno;
		say(j, "unshare(CLONE_NEWUSER)", -r, hint);
		return r;
	}
	r = write_proc("/proc/self/setgroups", "deny");
	if (r == 0)
		r = write_proc("/proc/self/uid_map", j->uid_map);
	if (r == 0)
		r = write_proc("/proc/self/gid_map", j->gid_map);
	if (r < 0)
		say(j, "writing the user namespace's id maps", -r, NULL);
	return r;
}

int sc_jail_enter(const void *arg)
{
	const struct sc_jail *j = arg;
	int r = 0;

	if (j->userns)
		r = enter_userns(j);
	else if (unshare(CLONE_NEWNS) < 0) {
		r = -errno;
		say(j, "unshare(CLONE_NEWNS)", -r, NULL);
	}
	if (r < 0)
		return r;
	/* New credentials may have cleared it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		r = -errno;
		say(j, "making the mounts private", -r, NULL);
		return r;
	}
	for (size_t i = 0; i < j->nm; i++) {
		if (mount(j->m[i].src, j->m[i].dst, j->m[i].type, j->m[i].flags,
			  j->m[i].data) < 0) {
			r = -errno;
			say(j, j->m[i].what, -r, NULL);
			return r;
		}
	}
	if (chroot(j->root) < 0 || chdir(j->cwd) < 0) {
		r = -errno;
		say(j, "chroot", -r, NULL);
		return r;
	}
	umask(022);
	environ = (char **)j->envp;
	return 0;
}

int sc_buildroot_capture(const struct sc_buildroot *br, const char *const *argv,
			 size_t max, char **out, struct sc_error *err)
{
	struct sc_spawn_opts o = SC_SPAWN_OPTS_INIT;
	struct sc_jail *j = NULL;
	char *buf = NULL;
	int r = sc_jail_new(br, NULL, NULL, &j, err);

	if (r < 0)
		return r;
	o.setup = sc_jail_enter;
	o.setup_arg = j;
	o.die_with_parent = true;
	r = sc_run_capture_opts(argv, &o, max, &buf);
	if (r == -EPERM && buf && !strncmp(buf, "stapcache: ", 11)) {
		sc_error_set(err, "%.*s", (int)strcspn(buf + 11, "\n"), buf + 11);
	} else if (r < 0) {
		const char *text = buf && *buf ? buf : "no message";

		sc_error_set(err, "%s failed in the build root %s: %.*s", argv[0],
			     br->dir, (int)strcspn(text, "\n"), text);
	}
	if (r < 0) {
		free(buf);
		buf = NULL;
	}
	sc_jail_free(j);
	*out = buf;
	return r;
}
