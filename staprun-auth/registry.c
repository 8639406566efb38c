/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The registry of modules staprun-auth loaded: one root-only file per module
 * in RUNSTATEDIR/staprun-auth (0700), so that -d unloads only a module it
 * loaded for the caller (CVE-2010-4171 was staprun unloading any module),
 * and --list can say who runs what. The directory is flock()ed around every
 * change, by processes the caller cannot signal, and never waited for longer
 * than SA_LOCK_WAIT_MS. A record carries a random nonce, so that a run only
 * ever removes its own record, and names the loaded instance, so that a
 * module unloaded and loaded again by someone else is never mistaken for it.
 * Only a missing record means "gone"; one that cannot be read, or a kernel
 * that cannot tell which instance is loaded, changes nothing.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "fsutil.h"
#include "policy.h"

#define SA_NONCE_LEN 16

struct sa_record {
	int dirfd;
	int fd;
	char name[SC_MODULE_NAME_MAX + 1];
	char nonce[2 * SA_NONCE_LEN + 1]; /* which record is ours, whatever its inode */
	char instance[96];		  /* the loaded instance, once committed */
};

/* A record's contents. */
struct info {
	char module[SC_MODULE_NAME_MAX + 1];
	long long uid;
	char user[64];
	char sha256[SC_SHA256_HEXLEN + 1];
	long long loaded;
	long long pid;
	char nonce[2 * SA_NONCE_LEN + 1];
	char instance[96];
};

static int open_registry(int create, int *out, struct sc_error *err)
{
	struct stat st;
	int parent = -1, fd, r;

	r = sc_policy_open_dir(RUNSTATEDIR, &parent, err);
	if (r < 0)
		return r;
	if (create && mkdirat(parent, "staprun-auth", 0700) < 0 && errno != EEXIST) {
		r = -errno;
		sc_error_set(err, "cannot create %s: %s", SA_REGISTRY_DIR,
			     strerror(errno));
		close(parent);
		return r;
	}
	fd = openat(parent, "staprun-auth",
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = fd < 0 ? -errno : 0;
	close(parent);
	if (r < 0) {
		sc_error_set(err, "cannot open %s: %s", SA_REGISTRY_DIR, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 077)) {
		sc_error_set(
		    err, "refusing %s: it must be a directory owned by root, mode 0700",
		    SA_REGISTRY_DIR);
		close(fd);
		return -EPERM;
	}
	*out = fd;
	return 0;
}

/*
 * flock the registry, waiting at most SA_LOCK_WAIT_MS: only processes the
 * caller cannot signal hold it, for moments, so a longer wait means
 * something is wrong, and a clear refusal beats a hang. 0 or -errno (err).
 */
static int lock_registry(int dirfd, struct sc_error *err)
{
	const struct timespec nap = {.tv_nsec = 20 * 1000 * 1000};
	struct timespec start, now;
	long waited;

	if (clock_gettime(CLOCK_MONOTONIC, &start) < 0)
		return -errno;
	for (;;) {
		if (flock(dirfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int r = -errno;

			sc_error_set(err, "cannot lock %s: %s", SA_REGISTRY_DIR,
				     strerror(-r));
			return r;
		}
		if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
			return -errno;
		waited = (now.tv_sec - start.tv_sec) * 1000 +
			 (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= SA_LOCK_WAIT_MS) {
			sc_error_set(err,
				     "%s is busy: its lock has been held for more "
				     "than %d s; try again",
				     SA_REGISTRY_DIR, SA_LOCK_WAIT_MS / 1000);
			return -ETIMEDOUT;
		}
		nanosleep(&nap, NULL);
	}
}

/* Closing the descriptor would drop the lock too; say if unlocking failed. */
static int unlock_registry(int dirfd)
{
	return flock(dirfd, LOCK_UN) < 0 ? -errno : 0;
}

static void parse_info(char *text, struct info *in)
{
	char *save = NULL, *line;

	memset(in, 0, sizeof(*in));
	in->uid = -1;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "module"))
			snprintf(in->module, sizeof(in->module), "%s", v);
		else if (!strcmp(line, "uid"))
			in->uid = strtoll(v, NULL, 10);
		else if (!strcmp(line, "user"))
			snprintf(in->user, sizeof(in->user), "%s", v);
		else if (!strcmp(line, "sha256"))
			snprintf(in->sha256, sizeof(in->sha256), "%s", v);
		else if (!strcmp(line, "loaded"))
			in->loaded = strtoll(v, NULL, 10);
		else if (!strcmp(line, "pid"))
			in->pid = strtoll(v, NULL, 10);
		else if (!strcmp(line, "nonce"))
			snprintf(in->nonce, sizeof(in->nonce), "%s", v);
		else if (!strcmp(line, "instance"))
			snprintf(in->instance, sizeof(in->instance), "%s", v);
	}
}

/*
 * Read the record for name. Returns 0, -ENOENT when there is none (the only
 * answer that means "gone"), -EPERM when the file is not a trustworthy
 * record, or another -errno when it could not be read: then nothing may be
 * concluded about it.
 */
static int read_info(int dirfd, const char *name, struct info *in)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	r = -EPERM;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISREG(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 077))
		r = sc_read_fd(fd, 4096, &text, &len);
	close(fd);
	if (r < 0)
		return r == -ENOENT ? -EPERM : r;
	parse_info(text, in);
	free(text);
	return strcmp(in->module, name) ? -EPERM : 0;
}

static int make_nonce(char *hex)
{
	uint8_t raw[SA_NONCE_LEN];
	ssize_t n = getrandom(raw, sizeof(raw), 0);

	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(raw))
		return -EIO;
	sc_hex(hex, raw, sizeof(raw));
	return 0;
}

static int write_info(int fd, const struct sa_record *rec, const struct sa_module *m,
		      const struct sa_ids *ids)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "module=%s\nuid=%u\nuser=%s\nsha256=%s\n"
			 "loaded=%lld\npid=%ld\nnonce=%s\n",
			 m->name, (unsigned)ids->uid, ids->user ? ids->user : "?", m->hex,
			 (long long)time(NULL), (long)getpid(), rec->nonce);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENOSPC;
	return sc_write_all(fd, buf, (size_t)n);
}

/* 1 when the process a record names still runs (it may still be loading). */
static int pid_alive(long long pid)
{
	return pid > 0 && pid <= 0x7fffffff &&
	       (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/*
 * Under the lock, before a load: a record whose module is gone and whose run
 * has ended is stale and removed. Anything else keeps the record: a live
 * module (-EEXIST), a run still loading it (-EBUSY), a record that cannot
 * be read or trusted, or a kernel that cannot be asked.
 */
static int clear_stale(int dirfd, const char *name, struct sc_error *err)
{
	struct info in;
	int r = read_info(dirfd, name, &in), live;

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		sc_error_set(err,
			     "the record %s/%s cannot be read (%s): ask root to check it",
			     SA_REGISTRY_DIR, name, strerror(-r));
		return r;
	}
	live = sa_kernel_live(name);
	if (live < 0) {
		sc_error_set(err, "cannot tell whether %s is loaded: %s", name,
			     strerror(-live));
		return live;
	}
	if (live) {
		sc_error_set(err, "%s is already loaded (by %s, pid %lld)", name, in.user,
			     in.pid);
		return -EEXIST;
	}
	if (pid_alive(in.pid)) {
		sc_error_set(err, "%s is being loaded by another run (%s, pid %lld)",
			     name, in.user, in.pid);
		return -EBUSY;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		r = -errno;
		sc_error_set(err, "cannot remove the stale record %s/%s: %s",
			     SA_REGISTRY_DIR, name, strerror(-r));
		return r;
	}
	return 0;
}

static int create_record(struct sa_record *rec, const struct sa_module *m,
			 const struct sa_ids *ids, struct sc_error *err)
{
	int r = make_nonce(rec->nonce);

	if (r < 0) {
		sc_error_set(err, "getrandom: %s", strerror(-r));
		return r;
	}
	rec->fd = openat(rec->dirfd, m->name,
			 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (rec->fd < 0) {
		r = -errno;
		sc_error_set(
		    err, "cannot create the record %s/%s: %s", SA_REGISTRY_DIR, m->name,
		    r == -EEXIST ? "another run is loading this module" : strerror(-r));
		return r;
	}
	r = write_info(rec->fd, rec, m, ids);
	if (r < 0)
		sc_error_set(err, "cannot write the record %s/%s: %s%s", SA_REGISTRY_DIR,
			     m->name, strerror(-r),
			     unlinkat(rec->dirfd, m->name, 0) < 0
				 ? " (and cannot remove it: it stays until this run ends)"
				 : "");
	return r;
}

void sa_record_free(struct sa_record *rec)
{
	if (!rec)
		return;
	if (rec->fd >= 0)
		close(rec->fd);
	if (rec->dirfd >= 0)
		close(rec->dirfd);
	free(rec);
}

/*
 * Before init_module: create the record of this load (owner, digest, pid
 * and a random nonce that names it), so that a loaded module always has an
 * owner. Returns 0 and *out (free with sa_record_free), or -errno (err).
 */
int sa_registry_claim(const struct sa_module *m, const struct sa_ids *ids,
		      struct sa_record **out, struct sc_error *err)
{
	struct sa_record *rec = calloc(1, sizeof(*rec));
	int r = -ENOMEM, locked = 0, u;

	if (!rec)
		return r;
	rec->fd = -1;
	snprintf(rec->name, sizeof(rec->name), "%s", m->name);
	r = open_registry(1, &rec->dirfd, err);
	if (r < 0)
		rec->dirfd = -1;
	if (r == 0)
		r = lock_registry(rec->dirfd, err);
	locked = r == 0;
	if (r == 0)
		r = clear_stale(rec->dirfd, m->name, err);
	if (r == 0)
		r = create_record(rec, m, ids, err);
	if (locked && (u = unlock_registry(rec->dirfd)) < 0 && r == 0) {
		r = u;
		sc_error_set(err, "cannot unlock %s: %s", SA_REGISTRY_DIR, strerror(-u));
	}
	if (r < 0)
		sa_record_free(rec);
	else
		*out = rec;
	return r;
}

/* 1 when the record for rec's name is rec (same nonce), 0 when it is gone or
 * another run's, -errno when it cannot be read. */
static int record_is_ours(const struct sa_record *rec)
{
	struct info in;
	int r = read_info(rec->dirfd, rec->name, &in);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return !strcmp(in.nonce, rec->nonce);
}

static int commit_locked(struct sa_record *rec, struct sc_error *err)
{
	char line[128];
	int r = record_is_ours(rec);

	if (r == 0) {
		sc_error_set(err,
			     "the record of %s was removed while it was being loaded",
			     rec->name);
		return -ESTALE;
	}
	if (r < 0) {
		sc_error_set(err, "cannot read the record %s/%s: %s", SA_REGISTRY_DIR,
			     rec->name, strerror(-r));
		return r;
	}
	r = sa_kernel_instance(rec->name, rec->instance, sizeof(rec->instance));
	if (r < 0) {
		rec->instance[0] = '\0';
		sc_error_set(err, "cannot tell which instance of %s was loaded: %s",
			     rec->name, strerror(-r));
		return r;
	}
	snprintf(line, sizeof(line), "instance=%s\n", rec->instance);
	r = sc_write_all(rec->fd, line, strlen(line));
	if (r < 0)
		sc_error_set(err, "cannot write the record %s/%s: %s", SA_REGISTRY_DIR,
			     rec->name, strerror(-r));
	return r;
}

/*
 * Right after init_module succeeded: note which instance was loaded, in the
 * record and in rec, once the record is seen to be still ours (root's -d may
 * have removed it meanwhile). Returns 0 or -errno (err); on an error the
 * caller unloads (SA_UNLOAD_NOW).
 */
int sa_registry_commit(struct sa_record *rec, struct sc_error *err)
{
	int r = lock_registry(rec->dirfd, err), u;

	if (r < 0)
		return r;
	r = commit_locked(rec, err);
	u = unlock_registry(rec->dirfd);
	if (u < 0 && r == 0) {
		sc_error_set(err, "cannot unlock %s: %s", SA_REGISTRY_DIR, strerror(-u));
		r = u;
	}
	return r;
}

/* Whether to unload at the end of a claim; see sa_registry_release(). */
static int want_unload(const struct sa_record *rec, int unload, int ours,
		       struct sc_error *err)
{
	int same;

	/* Our record gone means root's -d unloaded our module already: the name
	 * may be another run's by now. */
	if (unload == SA_UNLOAD_NOW)
		return ours != 0;
	if (unload != SA_UNLOAD_IF_OURS)
		return 0;
	same = sa_kernel_same(rec->name, rec->instance);
	if (same < 0)
		sc_error_set(err, "cannot tell whether %s is still the module loaded: %s",
			     rec->name, strerror(-same));
	/* Unknown: ours while our record says so (only -d removes it). */
	return same > 0 || (same < 0 && ours != 0);
}

/*
 * End of a claim: unload the module (SA_UNLOAD_NOW: right after our own
 * init_module, while the record is ours; SA_UNLOAD_IF_OURS: only while the
 * loaded instance is the one we loaded; SA_KEEP: not at all), then remove
 * our record, unless the unload failed (so that -d can try again) or the
 * record could not be read. The unload never waits for the lock: when the
 * lock cannot be had within SA_LOCK_WAIT_MS, the module is still unloaded
 * and the record stays (stale, removed by the next claim). Only our own
 * record file is touched. Returns 0 or -errno (err says why).
 */
int sa_registry_release(struct sa_record *rec, int unload, struct sc_error *err)
{
	struct sc_error lock_err = {.msg = ""};
	int locked = lock_registry(rec->dirfd, &lock_err) == 0;
	int ours = record_is_ours(rec), r = 0, u;

	if (want_unload(rec, unload, ours, err)) {
		r = sa_kernel_unload(rec->name, err);
		if (r == -ENOENT)
			r = 0;
	}
	if (r == 0 && !locked) {
		sc_error_set(err, "%s", lock_err.msg);
		r = -ETIMEDOUT;
	} else if (r == 0 && ours < 0) {
		sc_error_set(err, "cannot read the record %s/%s (%s): it stays",
			     SA_REGISTRY_DIR, rec->name, strerror(-ours));
		r = ours;
	} else if (r == 0 && ours > 0 && unlinkat(rec->dirfd, rec->name, 0) < 0 &&
		   errno != ENOENT) {
		r = -errno;
		sc_error_set(err, "cannot remove the record %s/%s: %s", SA_REGISTRY_DIR,
			     rec->name, strerror(-r));
	}
	if (locked && (u = unlock_registry(rec->dirfd)) < 0 && r == 0) {
		r = u;
		sc_error_set(err, "cannot unlock %s: %s", SA_REGISTRY_DIR, strerror(-u));
	}
	return r;
}

/* ---------------------------------------------------------------- -d */

/* Like staprun: a module that stapio is still attached to is not unloaded. */
static int attached(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/systemtap/%s/.cmd", name);
	fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EBUSY;
}

/* A record whose module is known to be gone: removed, and -ENOENT says so. */
static int remove_stale(int dirfd, const char *name, struct sc_error *err)
{
	int r;

	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		r = -errno;
		sc_error_set(err, "cannot remove the stale record %s/%s: %s",
			     SA_REGISTRY_DIR, name, strerror(-r));
		return r;
	}
	sc_error_set(err, "%s is not loaded any more (removed its stale record)", name);
	return -ENOENT;
}

/* A record without its instance: the run is still loading, or died early. */
static int may_unload_incomplete(int dirfd, const char *name, const struct sa_ids *ids,
				 const struct info *in, struct sc_error *err)
{
	int live = sa_kernel_live(name);

	if (live < 0) {
		sc_error_set(err, "cannot tell whether %s is loaded: %s", name,
			     strerror(-live));
		return live;
	}
	if (live && ids->uid == 0)
		return 0;
	if (live) {
		sc_error_set(
		    err,
		    "the record of %s is incomplete (the run that loaded it "
		    "is still starting, or died early): ask root to run %s -d %s",
		    name, SA_PROG, name);
		return -EPERM;
	}
	if (pid_alive(in->pid)) {
		sc_error_set(err, "%s is being loaded (pid %lld): try again", name,
			     in->pid);
		return -EBUSY;
	}
	return remove_stale(dirfd, name, err);
}

static int may_unload(int dirfd, const char *name, const struct sa_ids *ids,
		      struct info *in, struct sc_error *err)
{
	int r = read_info(dirfd, name, in), same;

	if (r == -ENOENT) {
		sc_error_set(err,
			     "%s was not loaded by %s (no record in %s): it unloads only "
			     "modules it loaded",
			     name, SA_PROG, SA_REGISTRY_DIR);
		return -EPERM;
	}
	if (r < 0) {
		sc_error_set(err, "the record %s/%s cannot be read or is damaged (%s)",
			     SA_REGISTRY_DIR, name, strerror(-r));
		return r;
	}
	if (ids->uid != 0 && in->uid != (long long)ids->uid) {
		sc_error_set(err, "%s was loaded by %s (uid %lld), not by you", name,
			     in->user, in->uid);
		return -EPERM;
	}
	if (!in->instance[0])
		return may_unload_incomplete(dirfd, name, ids, in, err);
	same = sa_kernel_same(name, in->instance);
	if (same < 0) {
		sc_error_set(err,
			     "cannot tell whether %s is still the module that was "
			     "loaded (%s): its record stays",
			     name, strerror(-same));
		return same;
	}
	if (!same)
		return remove_stale(dirfd, name, err);
	if (attached(name)) {
		sc_error_set(err,
			     "%s is still attached to its stapio: stop that run instead",
			     name);
		return -EBUSY;
	}
	return 0;
}

/* Under the lock: check, unload, forget. */
static int delete_locked(int dirfd, const char *name, const struct sa_ids *ids,
			 struct info *in, struct sc_error *err)
{
	int r = may_unload(dirfd, name, ids, in, err);

	if (r < 0)
		return r;
	r = sa_kernel_unload(name, err);
	if (r == -ENOENT)
		return remove_stale(dirfd, name, err); /* it went away meanwhile */
	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		r = -errno;
		sc_error_set(err, "unloaded %s, but cannot remove its record: %s", name,
			     strerror(-r));
	}
	return r;
}

int sa_cmd_delete(const struct sa_opts *o, const struct sa_ids *ids)
{
	struct sa_event ev = {.action = "unload", .module = o->module};
	struct sc_error err = {.msg = ""};
	struct info in;
	int dirfd = -1, r = -EINVAL, locked = 0, u;

	memset(&in, 0, sizeof(in));
	if (!sc_module_name_ok(o->module)) {
		sc_error_set(&err, "'%s' is not a module name", o->module);
		goto out;
	}
	r = open_registry(0, &dirfd, &err);
	if (r == -ENOENT)
		sc_error_set(&err,
			     "%s was not loaded by %s (no record in %s): it unloads "
			     "only modules it loaded",
			     o->module, SA_PROG, SA_REGISTRY_DIR);
	if (r == 0)
		r = lock_registry(dirfd, &err);
	locked = r == 0;
	if (r == 0)
		r = delete_locked(dirfd, o->module, ids, &in, &err);
	ev.digest = in.sha256[0] ? in.sha256 : NULL;
out:
	if (locked && (u = unlock_registry(dirfd)) < 0 && r == 0) {
		r = u;
		sc_error_set(&err, "cannot unlock %s: %s", SA_REGISTRY_DIR, strerror(-u));
	}
	if (dirfd >= 0)
		close(dirfd);
	if (r < 0) {
		sa_audit_refuse(&ev, NULL, "%s", err.msg[0] ? err.msg : strerror(-r));
		return SA_EXIT_REFUSED;
	}
	sa_audit_allow(&ev, "unloaded");
	sa_info(o->verbose, "module %s unloaded", o->module);
	return SA_EXIT_OK;
}

/* -------------------------------------------------------------- --list */

static void print_record(int dirfd, const char *name)
{
	char when[32] = "?";
	struct info in;
	struct tm tm;
	time_t t;

	/* Shown unless known gone: an instance that cannot be read may be live. */
	if (!sc_module_name_ok(name) || read_info(dirfd, name, &in) < 0 ||
	    !in.instance[0] || sa_kernel_same(name, in.instance) == 0)
		return;
	t = (time_t)in.loaded;
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s\tuser=%s(%lld)\tsha256:%s\tloaded=%s\tpid=%lld\n", in.module, in.user,
	       in.uid, in.sha256, when, in.pid);
}

int sa_cmd_list(const struct sa_opts *o, const struct sa_ids *ids)
{
	struct sa_event ev = {.action = "list"};
	struct sc_error err = {.msg = ""};
	struct dirent *d;
	DIR *dir;
	int fd = -1, r;

	(void)o;
	(void)ids;
	r = open_registry(0, &fd, &err);
	if (r == -ENOENT)
		return SA_EXIT_OK; /* nothing was ever loaded */
	if (r < 0) {
		sa_audit_refuse(&ev, NULL, "%s", err.msg);
		return SA_EXIT_REFUSED;
	}
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return SA_EXIT_REFUSED;
	}
	while ((d = readdir(dir)))
		print_record(dirfd(dir), d->d_name);
	closedir(dir);
	return SA_EXIT_OK;
}
