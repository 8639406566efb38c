/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-kmod.so: LD_PRELOAD seam for the kernel's module calls, after kmod's
 * testsuite. It records what a loader passes to init_module(2) and
 * delete_module(2) (reached through syscall(2) or glibc's wrappers) instead
 * of calling the kernel, and can fake uname(2)'s release so that a module
 * built for another kernel passes the vermagic check.
 *
 * For a whole run on a kernel without modules it can also stand in for the
 * rest of the kernel's side: redirect /proc/systemtap/NAME and
 * /sys/module/NAME to directories the test prepared (a regular .cmd file then
 * collects the control messages), pretend to be a caller with another real
 * uid (as a setuid binary would see it: real uid from FAKE_UID, euid 0), and
 * record the exec of stapio instead of running it.
 *
 * Environment, read in a constructor (the loader clears its environment
 * before main's work begins):
 *   FAKE_KMOD_OUT        directory for the records (required)
 *   FAKE_KMOD_ERRNO      errno init_module fails with; 0 or unset: success
 *   FAKE_INIT_ACTION     "kill": init_module loads, then kills its caller
 *                        with SIGKILL before it can return; "sigparent": it
 *                        loads and sends SIGINT to the caller's parent (a
 *                        Ctrl-C that comes during the load)
 *   FAKE_UNAME_RELEASE   the release uname() and /proc/sys/kernel/osrelease
 *                        report (the latter read from FAKE_KMOD_OUT/osrelease)
 *   FAKE_REDIRECT        "FROM=TO[:FROM=TO...]": path prefixes to rewrite in
 *                        open/stat/fopen
 *   FAKE_DELETE_BUSY     N: the first N delete_module calls fail with EAGAIN
 *                        (a module whose .cmd someone holds open)
 *   FAKE_LIVE_DIR        a directory that exists while the module is loaded:
 *                        init_module renames DIR.off to DIR, delete_module
 *                        renames it back (point /sys/module/NAME at it)
 *   FAKE_UID, FAKE_GID   what getuid()/getgid() report (getgroups(): none)
 *   FAKE_CMD_PROTOCOL    4 or 5: a write to a file named .cmd answers EINVAL,
 *                        as that systemtap major's runtime answers a control
 *                        message number of the other one (5 renumbered them
 *                        from 80); the message is not written
 *   FAKE_EXEC            a program path: execv() of it is recorded, not run;
 *                        the child then exits with FAKE_EXEC_STATUS, kills
 *                        itself with SIGKILL when that is "kill", or sleeps
 *                        (for signals to reach it) when it is "sleep"; when
 *                        it is "run" or "stubborn", the child behaves as if
 *                        the exec happened (its close-on-exec descriptors
 *                        closed) and waits: "run" exits 0 on SIGTERM, as
 *                        stapio does, "stubborn" ignores SIGTERM
 * Records in FAKE_KMOD_OUT: module.bin (the exact bytes), params (the
 * parameter string), env (the environment at that moment), fds (the open
 * descriptors and their targets), ids (real/effective/saved uid and gid),
 * finit (if finit_module was ever called), delete (one "NAME FLAGS" line a
 * call), and for FAKE_EXEC: exec.argv (one argument a line), exec.env,
 * exec.fds (the descriptors the exec would keep: close-on-exec ones are left
 * out), exec.ids (ids, supplementary groups, umask, RLIMIT_NOFILE, ignored
 * and blocked signals as /proc/self/status shows them, and whether setuid(0)
 * and setgid(0) still succeed).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static char out_dir[2048];
static char release[65];
static int init_errno;
static char redirects[4096];
static char exec_path[1024];
static char exec_status[32];
static char live_dir[2048];
static char init_action[32];
static long fake_uid = -1, fake_gid = -1;
static int delete_busy;
static int cmd_protocol;

__attribute__((constructor)) static void fake_setup(void)
{
	const char *v = getenv("FAKE_KMOD_OUT");

	if ((v = getenv("FAKE_REDIRECT")))
		snprintf(redirects, sizeof(redirects), "%s", v);
	if ((v = getenv("FAKE_EXEC")))
		snprintf(exec_path, sizeof(exec_path), "%s", v);
	if ((v = getenv("FAKE_EXEC_STATUS")))
		snprintf(exec_status, sizeof(exec_status), "%s", v);
	if ((v = getenv("FAKE_DELETE_BUSY")))
		delete_busy = atoi(v);
	if ((v = getenv("FAKE_LIVE_DIR")))
		snprintf(live_dir, sizeof(live_dir), "%s", v);
	if ((v = getenv("FAKE_INIT_ACTION")))
		snprintf(init_action, sizeof(init_action), "%s", v);
	if ((v = getenv("FAKE_CMD_PROTOCOL")))
		cmd_protocol = atoi(v);
	if ((v = getenv("FAKE_UID")))
		fake_uid = atol(v);
	if ((v = getenv("FAKE_GID")))
		fake_gid = atol(v);
	v = getenv("FAKE_KMOD_OUT");

	if (v)
		snprintf(out_dir, sizeof(out_dir), "%s", v);
	v = getenv("FAKE_KMOD_ERRNO");
	init_errno = v ? atoi(v) : 0;
	v = getenv("FAKE_UNAME_RELEASE");
	if (v)
		snprintf(release, sizeof(release), "%s", v);
}

static void record(const char *name, const void *buf, size_t len, int append)
{
	char path[2304];
	const char *p = buf;
	int fd;

	if (!out_dir[0])
		return;
	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC),
		  0644);
	if (fd < 0)
		return;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w <= 0)
			break;
		p += w;
		len -= (size_t)w;
	}
	close(fd);
}

static void record_str(const char *name, const char *s, int append)
{
	record(name, s, strlen(s), append);
}

/* Descriptors with FD_CLOEXEC do not survive an exec: left out of exec.fds. */
static int skip_fd(const char *prefix, int fd)
{
	int flags;

	if (strcmp(prefix, "exec."))
		return 0;
	flags = fcntl(fd, F_GETFD);
	return flags >= 0 && (flags & FD_CLOEXEC);
}

static void record_state(const char *prefix)
{
	char line[600], target[256], name[64];
	ssize_t n;
	uid_t r, e, s;
	gid_t rg, eg, sg;
	struct dirent *d;
	DIR *dir;
	char **env;

	snprintf(name, sizeof(name), "%senv", prefix);
	record_str(name, "", 0);
	for (env = environ; env && *env; env++) {
		record_str(name, *env, 1);
		record_str(name, "\n", 1);
	}
	snprintf(name, sizeof(name), "%sfds", prefix);
	record_str(name, "", 0);
	dir = opendir("/proc/self/fd");
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.' || atoi(d->d_name) == dirfd(dir) ||
		    skip_fd(prefix, atoi(d->d_name)))
			continue;
		snprintf(line, sizeof(line), "/proc/self/fd/%s", d->d_name);
		n = readlink(line, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		snprintf(line, sizeof(line), "%s %s\n", d->d_name, target);
		record_str(name, line, 1);
	}
	if (dir)
		closedir(dir);
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	snprintf(line, sizeof(line), "uid=%u,%u,%u gid=%u,%u,%u\n", r, e, s, rg, eg, sg);
	snprintf(name, sizeof(name), "%sids", prefix);
	record_str(name, line, 0);
}

/* The module "appears" (on) or "goes" (off): rename DIR.off <-> DIR. */
static void set_live(int on)
{
	char off[2100];

	if (!live_dir[0])
		return;
	snprintf(off, sizeof(off), "%s.off", live_dir);
	if (on)
		rename(off, live_dir);
	else
		rename(live_dir, off);
}

static long fake_init(const void *buf, unsigned long len, const char *params)
{
	record("module.bin", buf, len, 0);
	record_str("params", params ? params : "(null)", 0);
	record_state("");
	if (init_errno) {
		errno = init_errno;
		return -1;
	}
	set_live(1);
	if (!strcmp(init_action, "kill"))
		raise(SIGKILL);
	if (!strcmp(init_action, "sigparent"))
		kill(getppid(), SIGINT);
	return 0;
}

static long fake_delete(const char *name, unsigned int flags)
{
	char line[256];

	if (delete_busy > 0) {
		delete_busy--;
		record_str("delete.busy", "EAGAIN\n", 1);
		errno = EAGAIN;
		return -1;
	}
	snprintf(line, sizeof(line), "%s %u\n", name, flags);
	record_str("delete", line, 1);
	set_live(0);
	return 0;
}

long syscall(long nr, ...)
{
	long (*real)(long, ...);
	va_list ap;
	long a[6];
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_init_module)
		return fake_init((const void *)a[0], (unsigned long)a[1],
				 (const char *)a[2]);
	if (nr == SYS_delete_module)
		return fake_delete((const char *)a[0], (unsigned int)a[1]);
	if (nr == SYS_finit_module) {
		record_str("finit", "finit_module called\n", 1);
		errno = ENOSYS;
		return -1;
	}
	real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int init_module(void *image, unsigned long len, const char *params)
{
	return (int)fake_init(image, len, params);
}

int finit_module(int fd, const char *params, int flags)
{
	(void)fd;
	(void)params;
	(void)flags;
	record_str("finit", "finit_module called\n", 1);
	errno = ENOSYS;
	return -1;
}

int delete_module(const char *name, unsigned int flags)
{
	return (int)fake_delete(name, flags);
}

int uname(struct utsname *u)
{
	int (*real)(struct utsname *) =
		(int (*)(struct utsname *))dlsym(RTLD_NEXT, "uname");
	int r;

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	r = real(u);
	if (r == 0 && release[0])
		snprintf(u->release, sizeof(u->release), "%s", release);
	return r;
}

/* ------------------------------------------------------- redirected paths */

/* path, or its rewrite by FAKE_REDIRECT into buf. */
static const char *redirect(const char *path, char *buf, size_t n)
{
	const char *p = redirects;

	if (path && release[0] && !strcmp(path, "/proc/sys/kernel/osrelease")) {
		char line[80];

		snprintf(line, sizeof(line), "%s\n", release);
		record_str("osrelease", line, 0);
		snprintf(buf, n, "%s/osrelease", out_dir);
		return buf;
	}

	while (path && *p) {
		const char *eq = strchr(p, '='), *end = strchr(p, ':');
		size_t flen;

		if (!end)
			end = p + strlen(p);
		if (!eq || eq > end)
			break;
		flen = (size_t)(eq - p);
		if (!strncmp(path, p, flen)) {
			snprintf(buf, n, "%.*s%s", (int)(end - eq - 1), eq + 1,
				 path + flen);
			return buf;
		}
		p = *end ? end + 1 : end;
	}
	return path;
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

/* FAKE_CMD_PROTOCOL: the runtime's answer to a control message on .cmd. */
ssize_t write(int fd, const void *buf, size_t len)
{
	ssize_t (*real)(int, const void *, size_t) =
		REAL("write", ssize_t(*)(int, const void *, size_t));
	char link[64], target[4096];
	ssize_t n;
	unsigned type;

	if (cmd_protocol && len >= sizeof(type)) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 5 && !strncmp(target + n - 5, "/.cmd", 5)) {
			memcpy(&type, buf, sizeof(type));
			if ((cmd_protocol == 4) != (type < 80)) {
				errno = EINVAL;
				return -1;
			}
		}
	}
	return real(fd, buf, len);
}

static int open_common(const char *name, const char *path, int flags, va_list ap)
{
	int (*real)(const char *, int, ...) = REAL(name, int (*)(const char *, int, ...));
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	char buf[4096];

	return real(redirect(path, buf, sizeof(buf)), flags, mode);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	int r;

	va_start(ap, flags);
	r = open_common("open", path, flags, ap);
	va_end(ap);
	return r;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	int r;

	va_start(ap, flags);
	r = open_common("open64", path, flags, ap);
	va_end(ap);
	return r;
}

int __open_2(const char *path, int flags)
{
	char buf[4096];

	return REAL("__open_2",
		    int (*)(const char *, int))(redirect(path, buf, sizeof(buf)), flags);
}

int __open64_2(const char *path, int flags)
{
	char buf[4096];

	return REAL("__open64_2",
		    int (*)(const char *, int))(redirect(path, buf, sizeof(buf)), flags);
}

int stat(const char *path, struct stat *st)
{
	char buf[4096];

	return REAL("stat", int (*)(const char *,
				    struct stat *))(redirect(path, buf, sizeof(buf)), st);
}

int stat64(const char *path, struct stat64 *st)
{
	char buf[4096];

	return REAL("stat64", int (*)(const char *,
				      struct stat64 *))(redirect(path, buf, sizeof(buf)),
							st);
}

int lstat(const char *path, struct stat *st)
{
	char buf[4096];

	return REAL("lstat", int (*)(const char *, struct stat *))(redirect(path, buf,
									    sizeof(buf)),
								   st);
}

int lstat64(const char *path, struct stat64 *st)
{
	char buf[4096];

	return REAL("lstat64", int (*)(const char *,
				       struct stat64 *))(redirect(path, buf, sizeof(buf)),
							 st);
}

FILE *fopen(const char *path, const char *mode)
{
	char buf[4096];

	return REAL("fopen", FILE * (*)(const char *,
					const char *))(redirect(path, buf, sizeof(buf)),
						       mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	char buf[4096];

	return REAL("fopen64", FILE * (*)(const char *,
					  const char *))(redirect(path, buf, sizeof(buf)),
							 mode);
}

/* ----------------------------------------------------- a setuid caller */

uid_t getuid(void)
{
	return fake_uid >= 0 ? (uid_t)fake_uid : (uid_t)syscall(SYS_getuid);
}

gid_t getgid(void)
{
	return fake_gid >= 0 ? (gid_t)fake_gid : (gid_t)syscall(SYS_getgid);
}

int getgroups(int size, gid_t list[])
{
	if (fake_uid >= 0)
		return 0;
	return (int)syscall(SYS_getgroups, size, list);
}

/* ------------------------------------------------------------ the exec */

/* "SigIgn:" and "SigBlk:" of /proc/self/status, as "sigign=HEX sigblk=HEX". */
static void record_signals(const char *name)
{
	char line[256], out[128] = "", ign[32] = "?", blk[32] = "?";
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "SigIgn: %31s", ign);
		sscanf(line, "SigBlk: %31s", blk);
	}
	if (f)
		fclose(f);
	snprintf(out, sizeof(out), "sigign=%s sigblk=%s\n", ign, blk);
	record_str(name, out, 1);
}

static void record_exec(char *const argv[])
{
	char line[256];
	struct rlimit nofile = {0, 0}, roomy;
	gid_t groups[64];
	int i, n;
	mode_t mask = umask(0);

	umask(mask);
	/* The limit stapio would get, then room to record it (a soft limit of 5). */
	getrlimit(RLIMIT_NOFILE, &nofile);
	roomy = nofile;
	roomy.rlim_cur = nofile.rlim_max;
	setrlimit(RLIMIT_NOFILE, &roomy);
	record_str("exec.argv", "", 0);
	for (i = 0; argv[i]; i++) {
		record_str("exec.argv", argv[i], 1);
		record_str("exec.argv", "\n", 1);
	}
	record_state("exec.");
	n = (int)syscall(SYS_getgroups, 64, groups);
	snprintf(line, sizeof(line), "groups=%d umask=%04o\n", n, (unsigned)mask);
	record_str("exec.ids", line, 1);
	snprintf(line, sizeof(line), "nofile=%llu:%llu\n",
		 (unsigned long long)nofile.rlim_cur,
		 (unsigned long long)nofile.rlim_max);
	record_str("exec.ids", line, 1);
	record_signals("exec.ids");
	snprintf(line, sizeof(line), "setuid0=%s setgid0=%s\n",
		 syscall(SYS_setuid, 0) == 0 ? "succeeded" : "failed",
		 syscall(SYS_setgid, 0) == 0 ? "succeeded" : "failed");
	record_str("exec.ids", line, 1);
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

/* As after a real exec: close-on-exec descriptors gone; then wait for a signal. */
static void __attribute__((noreturn)) run_as_if_execed(int stops_on_term)
{
	int fd, flags;

	for (fd = 3; fd < 1024; fd++) {
		flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && (flags & FD_CLOEXEC))
			close(fd);
	}
	signal(SIGTERM, stops_on_term ? on_term : SIG_IGN);
	for (;;)
		pause();
}

int execv(const char *path, char *const argv[])
{
	if (exec_path[0] && !strcmp(path, exec_path)) {
		record_exec(argv);
		if (!strcmp(exec_status, "kill"))
			raise(SIGKILL);
		if (!strcmp(exec_status, "sleep"))
			sleep(15);
		if (!strcmp(exec_status, "run") || !strcmp(exec_status, "stubborn"))
			run_as_if_execed(!strcmp(exec_status, "run"));
		_exit(atoi(exec_status));
	}
	return REAL("execv", int (*)(const char *, char *const[]))(path, argv);
}
