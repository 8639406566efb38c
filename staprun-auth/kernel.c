/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's view of a module: the running release, live or not, which
 * loaded instance, init_module(2) from the checked buffer, and an unload
 * that keeps trying. Everything is read from /proc/sys and /sys/module
 * directly: no library, no configuration, nothing executed.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "common/modsign.h"

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The running release from /proc/sys/kernel/osrelease (personality cannot
 * change it, unlike uname(2) under UNAME26). 0 or -errno. */
int sa_kernel_osrelease(char *buf, size_t n)
{
	int fd = open("/proc/sys/kernel/osrelease", O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return -errno;
	len = read(fd, buf, n - 1);
	close(fd);
	if (len <= 0)
		return len < 0 ? -errno : -EIO;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? 0 : -EIO;
}

/* 1 when the kernel has a module called name (live, coming, going or built
 * in: /sys/module/NAME exists), 0 when not, or -errno. */
int sa_kernel_live(const char *name)
{
	char path[128];
	struct stat st;

	if (!sc_module_name_ok(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

/*
 * Which loaded instance of name this is: "INODE:ADDRESS", the inode of
 * /sys/module/NAME and the address of its struct module. A module unloaded
 * and loaded again under the same name gets another identity. Returns 0, or
 * -errno (-ENOENT: not loaded).
 */
int sa_kernel_instance(const char *name, char *buf, size_t n)
{
	char path[256], addr[64] = "";
	struct stat st;
	ssize_t len;
	int fd, w;

	if (!sc_module_name_ok(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (stat(path, &st) < 0)
		return -errno;
	snprintf(path, sizeof(path), "/sys/module/%s/sections/.gnu.linkonce.this_module",
		 name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) /* there, but which one cannot be told */
		return errno == ENOENT && sa_kernel_live(name) == 1 ? -EIO : -errno;
	len = read(fd, addr, sizeof(addr) - 1);
	close(fd);
	if (len <= 0)
		return -EIO;
	addr[len] = '\0';
	addr[strcspn(addr, "\n")] = '\0';
	w = snprintf(buf, n, "%llu:%s", (unsigned long long)st.st_ino, addr);
	return w < 0 || (size_t)w >= n ? -ENOSPC : 0;
}

/*
 * What init_module's errno means, for the caller and the audit log.
 * is_signed: the bytes end in a module signature (their framing only:
 * common/modsign-frame.c); the kernel alone judges the signature.
 */
static const char *init_error(int e, bool is_signed)
{
	switch (e) {
	case ENOSYS:
		return "this kernel cannot load modules (CONFIG_MODULES is off)";
	case EEXIST:
		return "a module with this name is already loaded";
	case ENOEXEC:
		return "invalid module format";
	case ENOENT:
		return "unknown symbol in module";
	case ESRCH:
		return "module has wrong symbol version";
	case EINVAL:
		return "invalid parameters";
	case EPERM:
		return is_signed
			       ? "the kernel refuses to load modules (modules_disabled, "
				 "lockdown or a security module)"
			       : "the kernel refuses to load it (under lockdown: it is not "
				 "signed by a key this host trusts; else modules_disabled "
				 "or a security module)";
	case EKEYREJECTED:
	case ENOKEY:
	case EBADMSG:
	case ENOPKG:
		return is_signed
			       ? "the kernel loads only modules signed by a key this host "
				 "trusts, and refused this one's signature (signed by a "
				 "key not in its UEFI db, MOK list or built-in keys, or "
				 "altered after signing)"
			       : "the kernel loads only modules signed by a key this host "
				 "trusts (Secure Boot, lockdown or module.sig_enforce), and "
				 "this one is not signed: bless its signed variant "
				 "(stapcache bless --sign KEY)";
	default:
		return strerror(e);
	}
}

/*
 * Like staprun, refuse in FIPS mode: an unsigned module may panic such a
 * kernel. 0 when not in FIPS mode (or the kernel has no such switch),
 * -EPERM when it is, -errno when that cannot be told: fail closed.
 */
static int check_fips(const char *name, struct sc_error *err)
{
	char c = '0';
	int fd = open("/proc/sys/crypto/fips_enabled", O_RDONLY | O_CLOEXEC), r = 0;
	ssize_t n;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		r = -errno;
	} else {
		n = read(fd, &c, 1);
		r = n == 1 ? 0 : n < 0 ? -errno : -EIO;
		close(fd);
	}
	if (r < 0)
		sc_error_set(err,
			     "cannot load %s: cannot tell whether the kernel is in "
			     "FIPS mode (%s)",
			     name, strerror(-r));
	else if (c != '0')
		sc_error_set(err, "cannot load %s: the kernel is in FIPS mode", name);
	return r < 0 ? r : c != '0' ? -EPERM : 0;
}

/*
 * The loading child: real ids the caller's (the runtime gives its control
 * files to current_uid()), effective root. The caller may stop or kill it;
 * it holds no lock. Reports errno (0: loaded) on fd 3 and exits.
 */
static void __attribute__((noreturn))
insert_child(const struct sa_module *m, const struct sa_ids *ids, int fd)
{
	int e = EPERM;

	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(1);
	closefrom(4);
	if (sa_loader_ids(ids) == 0) {
		e = 0;
		if (syscall(SYS_init_module, m->buf, (unsigned long)m->len, m->params) !=
		    0)
			e = errno ? errno : EIO;
	}
	_exit(write(3, &e, sizeof(e)) == (ssize_t)sizeof(e) ? 0 : 1);
}

/*
 * The child's answer, watched: a child that stops (the caller may SIGSTOP
 * it: its real uid is the caller's) or takes longer than SA_LOAD_TIMEOUT_MS
 * is killed by us. Returns 0 or -errno of init_module, or -ECHILD when the
 * child ended without an answer (the module may be loaded: the caller of
 * sa_kernel_insert looks).
 */
static int insert_wait(pid_t pid, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	long start = now_ms();
	int e = 0, st, killed = 0, reaped = 0;
	ssize_t n = -1;

	for (;;) {
		if (poll(&p, 1, 100) > 0) {
			do
				n = read(fd, &e, sizeof(e));
			while (n < 0 && errno == EINTR);
			break;
		}
		if (killed || reaped)
			continue;
		st = 0;
		if (waitpid(pid, &st, WNOHANG | WUNTRACED) == pid)
			reaped = !WIFSTOPPED(st);
		if (!reaped &&
		    (WIFSTOPPED(st) || now_ms() - start > SA_LOAD_TIMEOUT_MS)) {
			kill(pid, SIGKILL);
			killed = 1;
		}
	}
	/* Answered or not, the child has nothing left to do: a stopped one
	 * would never be reaped by a plain waitpid. */
	if (!reaped) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (n != (ssize_t)sizeof(e))
		return -ECHILD;
	return e > 0 ? -e : e == 0 ? 0 : -EIO;
}

/*
 * init_module(2) on the checked buffer, in a watched child. Returns 0 when
 * the module is loaded, -errno when it is not, or -ECHILD when the child
 * died without saying (then the module may be loaded; see sa_kernel_live).
 * err says why.
 */
int sa_kernel_insert(const struct sa_module *m, const struct sa_ids *ids,
		     struct sc_error *err)
{
	int p[2], r;
	pid_t pid;

	r = check_fips(m->name, err);
	if (r < 0)
		return r;
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		sc_error_set(err, "cannot load %s: pipe: %s", m->name, strerror(-r));
		return r;
	}
	pid = fork();
	if (pid == 0)
		insert_child(m, ids, p[1]);
	r = pid < 0 ? -errno : 0;
	close(p[1]);
	if (r == 0)
		r = insert_wait(pid, p[0]);
	close(p[0]);
	if (r == -ECHILD)
		sc_error_set(err, "the process loading %s was stopped or killed",
			     m->name);
	else if (r < 0 && pid < 0)
		sc_error_set(err, "cannot load %s: fork: %s", m->name, strerror(-r));
	else if (r < 0)
		sc_error_set(err, "cannot load %s: %s", m->name,
			     init_error(-r, sc_modsign_locate(m->buf, m->len, NULL, NULL,
							      NULL) == 0));
	return r;
}

/*
 * The module's control files (the caller's, by design) made unopenable
 * before an unload. systemtap 4.8's runtime takes a module reference in the
 * open of .cmd without checking that the module is going away, so an open
 * that races delete_module leaves a file whose close drops a reference of a
 * freed module: a kernel BUG the caller could trigger at will (seen in
 * tests/vm/attacks.sh). They become root's, mode 0, so that their owner can
 * neither open them nor chmod them back (through an O_PATH descriptor kept
 * from before: tests/vm/attacks-review.sh). Files already open hold the
 * module busy instead, which the unload waits out. old[] keeps what was.
 */
static const struct {
	const char *dir, *file;
} fenced[] = {{"/proc/systemtap/", "/.cmd"},
	      {"/proc/systemtap/", ""},
	      {"/sys/kernel/debug/systemtap/", ""}};
#define NFENCED (sizeof(fenced) / sizeof(fenced[0]))

static void fence(const char *name, struct stat *old, int on)
{
	char path[160];
	size_t i;

	for (i = 0; i < NFENCED; i++) {
		snprintf(path, sizeof(path), "%s%s%s", fenced[i].dir, name,
			 fenced[i].file);
		if (on && lstat(path, &old[i]) == 0) {
			/* The owner first: then its owner cannot undo the mode. */
			if (chown(path, 0, 0) == 0 || errno != ENOENT)
				(void)chmod(path, 0);
		} else if (on) {
			old[i].st_mode = 0;
		} else if (old[i].st_mode) {
			(void)chmod(path, old[i].st_mode & 07777);
			if (chown(path, old[i].st_uid, old[i].st_gid) < 0) {
				/* gone meanwhile: nothing to give back */
			}
		}
	}
}

/*
 * delete_module(name, O_NONBLOCK) until it is gone: while the module is
 * busy (a stapio that just died, or anyone holding its .cmd open), again
 * after a back-off that doubles from 50 ms to 10 s, for at most max_ms
 * (max_ms < 0: for as long as the module lives, logging the failures, the
 * first at once and then after 1, 2, 4 ... s). Its control files are
 * fenced meanwhile, and opened up again if it stays. Returns 0, -ENOENT when
 * no such module is loaded, or -errno (err says why).
 */
int sa_kernel_unload(const char *name, long max_ms, struct sc_error *err)
{
	struct sa_event ev = {.action = "unload", .module = name};
	long start = now_ms(), nap = 50, logged = 0;
	struct stat old[NFENCED];
	int e;

	fence(name, old, 1);
	for (;;) {
		if (syscall(SYS_delete_module, name, O_NONBLOCK) == 0)
			return 0;
		e = errno;
		if (e == ENOENT)
			return -ENOENT;
		if (e != EINTR && e != EAGAIN && e != EBUSY)
			break;
		if (max_ms >= 0 && now_ms() - start + nap > max_ms)
			break;
		if (max_ms < 0 && now_ms() - start >= logged * 1000) {
			sa_audit_fail(&ev,
				      "cannot unload it yet (%s); trying again for as "
				      "long as it is loaded",
				      strerror(e));
			logged = logged ? logged * 2 : 1;
		}
		usleep((useconds_t)nap * 1000);
		nap = nap * 2 > 10000 ? 10000 : nap * 2;
	}
	fence(name, old, 0);
	if (e == ENOSYS)
		sc_error_set(err, "cannot unload %s: this kernel cannot unload modules",
			     name);
	else
		sc_error_set(err, "cannot unload %s: %s", name, strerror(e));
	return -e;
}
