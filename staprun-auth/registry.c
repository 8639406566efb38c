/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The registry of modules staprun-auth loaded: one root-only file per module
 * in RUNSTATEDIR/staprun-auth (0700), so that -d unloads only a module it
 * loaded for the caller (CVE-2010-4171 was staprun unloading any module),
 * and --list can say who runs what. The directory is flock()ed around every
 * change; a record names the loaded instance so that a module unloaded and
 * loaded again by someone else is never mistaken for it.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "fsutil.h"
#include "policy.h"

struct sa_record {
	int dirfd;
	int fd;
	dev_t dev;
	ino_t ino;
	char name[SC_MODULE_NAME_MAX + 1];
};

/* A record's contents. */
struct info {
	char module[SC_MODULE_NAME_MAX + 1];
	long long uid;
	char user[64];
	char sha256[SC_SHA256_HEXLEN + 1];
	long long loaded;
	long long pid;
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
		else if (!strcmp(line, "instance"))
			snprintf(in->instance, sizeof(in->instance), "%s", v);
	}
}

/*
 * Read the record for name. Returns 0 (and *st of the file), -ENOENT when
 * there is none, -EPERM when the file is not a trustworthy record.
 */
static int read_info(int dirfd, const char *name, struct info *in, struct stat *st)
{
	char *text = NULL;
	size_t len;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	r = -EPERM;
	if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_uid == 0 &&
	    !(st->st_mode & 077))
		r = sc_read_fd(fd, 4096, &text, &len);
	close(fd);
	if (r < 0)
		return r == -ENOENT ? -EPERM : r;
	parse_info(text, in);
	free(text);
	return strcmp(in->module, name) ? -EPERM : 0;
}

static int write_info(int fd, const struct sa_module *m, const struct sa_ids *ids)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "module=%s\nuid=%u\nuser=%s\nsha256=%s\n"
			 "loaded=%lld\npid=%ld\n",
			 m->name, (unsigned)ids->uid, ids->user ? ids->user : "?", m->hex,
			 (long long)time(NULL), (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENOSPC;
	return sc_write_all(fd, buf, (size_t)n);
}

/* Under the lock: drop a record whose module is gone; refuse one whose module is live. */
static int clear_stale(int dirfd, const char *name, struct sc_error *err)
{
	struct info in;
	struct stat st;
	int r = read_info(dirfd, name, &in, &st);

	if (r == -ENOENT)
		return 0;
	if (r == 0 && sa_kernel_live(name) > 0) {
		sc_error_set(err, "%s is already loaded (by %s, pid %lld)", name, in.user,
			     in.pid);
		return -EEXIST;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		sc_error_set(err, "cannot remove the stale record %s/%s: %s",
			     SA_REGISTRY_DIR, name, strerror(errno));
		return -errno;
	}
	return 0;
}

static int create_record(struct sa_record *rec, const struct sa_module *m,
			 const struct sa_ids *ids, struct sc_error *err)
{
	struct stat st;
	int r;

	rec->fd = openat(rec->dirfd, m->name,
			 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (rec->fd < 0) {
		r = -errno;
		sc_error_set(
		    err, "cannot create the record %s/%s: %s", SA_REGISTRY_DIR, m->name,
		    r == -EEXIST ? "another run is loading this module" : strerror(-r));
		return r;
	}
	r = write_info(rec->fd, m, ids);
	if (r == 0 && fstat(rec->fd, &st) < 0)
		r = -errno;
	if (r < 0) {
		sc_error_set(err, "cannot write the record %s/%s: %s", SA_REGISTRY_DIR,
			     m->name, strerror(-r));
		unlinkat(rec->dirfd, m->name, 0);
		return r;
	}
	rec->dev = st.st_dev;
	rec->ino = st.st_ino;
	return 0;
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

int sa_registry_claim(const struct sa_module *m, const struct sa_ids *ids,
		      struct sa_record **out, struct sc_error *err)
{
	struct sa_record *rec = calloc(1, sizeof(*rec));
	int r = -ENOMEM, locked = 0;

	if (!rec)
		goto out;
	rec->fd = -1;
	snprintf(rec->name, sizeof(rec->name), "%s", m->name);
	r = open_registry(1, &rec->dirfd, err);
	if (r < 0) {
		rec->dirfd = -1;
		goto out;
	}
	r = flock(rec->dirfd, LOCK_EX) < 0 ? -errno : 0;
	locked = r == 0;
	if (r == 0)
		r = clear_stale(rec->dirfd, m->name, err);
	if (r == 0)
		r = create_record(rec, m, ids, err);
out:
	if (locked)
		flock(rec->dirfd, LOCK_UN);
	if (r < 0)
		sa_record_free(rec);
	else
		*out = rec;
	return r;
}

/* Note which instance was loaded, once init_module has succeeded. */
int sa_registry_commit(struct sa_record *rec, struct sc_error *err)
{
	char inst[96], line[128];
	int r;

	sa_kernel_instance(rec->name, inst, sizeof(inst));
	snprintf(line, sizeof(line), "instance=%s\n", inst);
	r = sc_write_all(rec->fd, line, strlen(line));
	if (r < 0)
		sc_error_set(err, "cannot write the record %s/%s: %s", SA_REGISTRY_DIR,
			     rec->name, strerror(-r));
	return r;
}

/* 1 when the module called in->module is loaded and is the instance in records. */
static int same_instance(const struct info *in)
{
	char now[96];

	if (sa_kernel_live(in->module) <= 0)
		return 0;
	sa_kernel_instance(in->module, now, sizeof(now));
	return in->instance[0] && !strcmp(now, in->instance);
}

/*
 * End of a claim: unload the module (SA_UNLOAD_NOW: right after our own
 * init_module; SA_UNLOAD_IF_OURS: only if it is still the instance this
 * record describes; SA_KEEP: not at all), then remove the record (kept when
 * the unload failed, so that -d can try again). Only our own record file is
 * touched. Returns 0 or -errno (err says why).
 */
int sa_registry_release(struct sa_record *rec, int unload, struct sc_error *err)
{
	struct info in;
	struct stat st;
	int r;

	if (flock(rec->dirfd, LOCK_EX) < 0)
		return -errno;
	r = read_info(rec->dirfd, rec->name, &in, &st);
	if (r < 0 || st.st_dev != rec->dev || st.st_ino != rec->ino) {
		r = 0; /* gone, or another run's: -d already did the work */
		goto out;
	}
	if (unload == SA_UNLOAD_NOW ||
	    (unload == SA_UNLOAD_IF_OURS && same_instance(&in))) {
		r = sa_kernel_unload(rec->name, err);
		if (r < 0 && r != -ENOENT)
			goto out;
	}
	r = 0;
	if (unlinkat(rec->dirfd, rec->name, 0) < 0 && errno != ENOENT)
		r = -errno;
out:
	flock(rec->dirfd, LOCK_UN);
	return r;
}

/* ---------------------------------------------------------------- -d */

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= SC_MODULE_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_-") == n;
}

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

static int may_unload(int dirfd, const char *name, const struct sa_ids *ids,
		      struct info *in, struct sc_error *err)
{
	struct stat st;
	int r = read_info(dirfd, name, in, &st);

	if (r == -ENOENT) {
		sc_error_set(err,
			     "%s was not loaded by %s (no record in %s): it unloads only "
			     "modules it loaded",
			     name, SA_PROG, SA_REGISTRY_DIR);
		return -EPERM;
	}
	if (r < 0) {
		sc_error_set(err, "the record %s/%s is damaged", SA_REGISTRY_DIR, name);
		return -EPERM;
	}
	if (ids->uid != 0 && in->uid != (long long)ids->uid) {
		sc_error_set(err, "%s was loaded by %s (uid %lld), not by you", name,
			     in->user, in->uid);
		return -EPERM;
	}
	if (!in->instance[0] && sa_kernel_live(name) > 0) {
		if (ids->uid == 0)
			return 0;
		sc_error_set(err,
			     "the record of %s is incomplete (the run that loaded it "
			     "died early): ask root to run %s -d %s",
			     name, SA_PROG, name);
		return -EPERM;
	}
	if (!same_instance(in)) {
		unlinkat(dirfd, name, 0);
		sc_error_set(err, "%s is not loaded any more (removed its stale record)",
			     name);
		return -ENOENT;
	}
	if (attached(name)) {
		sc_error_set(err,
			     "%s is still attached to its stapio: stop that run instead",
			     name);
		return -EBUSY;
	}
	return 0;
}

int sa_cmd_delete(const struct sa_opts *o, const struct sa_ids *ids)
{
	struct sa_event ev = {.action = "unload", .module = o->module};
	struct sc_error err = {.msg = ""};
	struct info in;
	int dirfd = -1, r = -EINVAL;

	if (!name_ok(o->module)) {
		sc_error_set(&err, "'%s' is not a module name", o->module);
		goto out;
	}
	r = open_registry(0, &dirfd, &err);
	if (r == -ENOENT)
		sc_error_set(&err,
			     "%s was not loaded by %s (no record in %s): it unloads "
			     "only modules it loaded",
			     o->module, SA_PROG, SA_REGISTRY_DIR);
	if (r < 0)
		goto out;
	r = flock(dirfd, LOCK_EX) < 0 ? -errno : 0;
	if (r == 0)
		r = may_unload(dirfd, o->module, ids, &in, &err);
	ev.digest = r == 0 ? in.sha256 : NULL;
	if (r == 0)
		r = sa_kernel_unload(o->module, &err);
	if (r == 0 && unlinkat(dirfd, o->module, 0) < 0)
		r = -errno;
out:
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
	struct stat st;
	struct tm tm;
	time_t t;

	if (!name_ok(name) || read_info(dirfd, name, &in, &st) < 0 || !same_instance(&in))
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
