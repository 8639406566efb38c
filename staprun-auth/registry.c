/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The registry, RUNSTATEDIR/staprun-auth (root's, 0700): one record per
 * module name, so that -d unloads only a module staprun-auth loaded for the
 * caller (CVE-2010-4171 was staprun unloading any module) and --list can
 * say who runs what; and per-user slots that bound how many root-side
 * processes one user can have.
 *
 * A run holds an exclusive flock(2) on its record from the claim, through
 * init_module and the whole run, to the unload: a lock that only a process
 * the caller can neither signal, stop nor freeze holds (staprun-auth.c: root through
 * and through, out of the caller's cgroup), and that vanishes with it. So
 * "a run owns this name" is exactly "the record is locked"; a record that is
 * unlocked while its module is loaded is an orphan (its run died), which the
 * next run of that module, its owner's -d or root's reclaims. A record is a
 * fixed binary layout written with one pwrite(2): nothing to parse.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "common/fsutil.h"
#include "common/policy.h"

/* 2: the -x target and -c command were added (a record of 1 reads as damaged). */
#define SA_RUN_MAGIC "sa-run-2"
/* The -c command as --list shows it: the first bytes only. */
#define SA_CMD_MAX 256

struct sa_run {
	char magic[8];
	uint32_t uid;
	int32_t watchdog; /* the root process that holds the lock */
	int32_t stapio;   /* 0 until stapio was started */
	int64_t loaded;
	char user[64];
	char module[SC_MODULE_NAME_MAX + 1];
	char sha256[SC_SHA256_HEXLEN + 1];
	char instance[SA_INSTANCE_MAX]; /* "" until init_module succeeded */
	int32_t target;                 /* -x PID, 0: none */
	char cmd[SA_CMD_MAX + 1];       /* -c CMD (the caller's words: shown escaped) */
};

struct sa_record {
	int dirfd;
	int fd;
	struct sa_run run;
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
		sc_error_set(err, "cannot create %s: %s", SA_REGISTRY_DIR, strerror(-r));
		close(parent);
		return r;
	}
	fd = openat(parent, "staprun-auth",
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = fd < 0 ? -errno : 0;
	close(parent);
	if (r < 0) {
		if (r != -ENOENT)
			sc_error_set(err, "cannot open %s: %s", SA_REGISTRY_DIR,
				     strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 077)) {
		sc_error_set(err,
			     "refusing %s: it must be a directory owned by root, "
			     "mode 0700",
			     SA_REGISTRY_DIR);
		close(fd);
		return -EPERM;
	}
	*out = fd;
	return 0;
}

/* 0, -ENOENT for an empty (fresh) record, -EBADMSG for anything else. */
static int read_run(int fd, struct sa_run *run)
{
	struct stat st;
	ssize_t n;

	memset(run, 0, sizeof(*run));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077))
		return -EBADMSG;
	n = pread(fd, run, sizeof(*run), 0);
	if (n == 0)
		return -ENOENT;
	if (n != (ssize_t)sizeof(*run) || memcmp(run->magic, SA_RUN_MAGIC, 8) ||
	    run->user[sizeof(run->user) - 1] || run->module[sizeof(run->module) - 1] ||
	    run->sha256[sizeof(run->sha256) - 1] ||
	    run->instance[sizeof(run->instance) - 1] || run->cmd[sizeof(run->cmd) - 1])
		return -EBADMSG;
	return 0;
}

static int write_run(const struct sa_record *rec, struct sc_error *err)
{
	ssize_t n = pwrite(rec->fd, &rec->run, sizeof(rec->run), 0);
	int r = n == (ssize_t)sizeof(rec->run) ? 0 : n < 0 ? -errno : -EIO;

	if (r < 0)
		sc_error_set(err, "cannot write the record %s/%s: %s", SA_REGISTRY_DIR,
			     rec->run.module, strerror(-r));
	return r;
}

/* 1 when name is loaded and is the instance run names, 0 when not, -errno. */
static int still_ours(const char *name, const struct sa_run *run)
{
	char now[SA_INSTANCE_MAX];
	int r = sa_kernel_instance(name, now, sizeof(now));

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* No instance noted: the run died between init_module and noting it,
	 * holding the name's lock all along, so what is loaded is its. */
	return !run->instance[0] || !strcmp(now, run->instance);
}

/* ------------------------------------------------------------- slots */

/*
 * One of SA_MAX_PER_USER slot locks for the caller, held until we exit (the
 * descriptor is close-on-exec; the lock dies with us). Root has no limit.
 * Returns 0 or -errno (err says why).
 */
int sa_slot_take(const struct sa_ids *ids, struct sc_error *err)
{
	char name[64];
	int dirfd = -1, fd, i, r;

	if (ids->uid == 0)
		return 0;
	r = open_registry(1, &dirfd, err);
	if (r < 0)
		return r;
	for (i = 0; i < SA_MAX_PER_USER; i++) {
		snprintf(name, sizeof(name), ".slot-%u-%d", (unsigned)ids->uid, i);
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = -errno;
			sc_error_set(err, "cannot open %s/%s: %s", SA_REGISTRY_DIR, name,
				     strerror(-r));
			close(dirfd);
			return r;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			close(dirfd);
			return 0; /* fd stays open: the slot is ours until we exit */
		}
		close(fd);
	}
	close(dirfd);
	sc_error_set(err,
		     "you already have %d %s processes running, the most one user may "
		     "have: wait for one to end",
		     SA_MAX_PER_USER, SA_PROG);
	return -EUSERS;
}

/* ------------------------------------------------------------ claims */

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

/* The record for name, opened and locked (the one at that path, not one
 * unlinked under us). -EBUSY (err names the run) when a run holds it. */
static int lock_record(struct sa_record *rec, const char *name, struct sc_error *err)
{
	struct stat a, b;
	struct sa_run other;
	int tries, r;

	for (tries = 0; tries < 8; tries++) {
		rec->fd = openat(rec->dirfd, name,
				 O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (rec->fd < 0) {
			r = -errno;
			sc_error_set(err, "cannot open the record %s/%s: %s",
				     SA_REGISTRY_DIR, name, strerror(-r));
			return r;
		}
		if (flock(rec->fd, LOCK_EX | LOCK_NB) < 0) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			if (read_run(rec->fd, &other) == 0)
				sc_error_set(err, "%s " SC_POLICY_IN_USE " %s (pid %d)",
					     name, other.user, (int)other.watchdog);
			else
				sc_error_set(err, "%s is in use by another run", name);
			return r;
		}
		if (fstat(rec->fd, &a) == 0 &&
		    fstatat(rec->dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_ino == b.st_ino)
			return 0;
		close(rec->fd);
		rec->fd = -1;
	}
	sc_error_set(err, "the record %s/%s keeps changing; try again", SA_REGISTRY_DIR,
		     name);
	return -EAGAIN;
}

/* Under the lock: a module of that name already loaded is an orphan of a
 * dead run (unloaded now, and logged) or someone else's (refused). */
static int reclaim(struct sa_record *rec, const char *name, struct sc_error *err)
{
	struct sa_event ev = {.action = "reclaim", .module = name};
	struct sa_run old;
	int had = read_run(rec->fd, &old) == 0, r;

	r = sa_kernel_live(name);
	if (r <= 0) {
		if (r < 0)
			sc_error_set(err, "cannot tell whether %s is loaded: %s", name,
				     strerror(-r));
		return r;
	}
	r = had ? still_ours(name, &old) : 0;
	if (r <= 0) {
		sc_error_set(err, "a module named %s is already loaded (not by %s)", name,
			     SA_PROG);
		return r < 0 ? r : -EEXIST;
	}
	ev.digest = old.sha256;
	r = sa_kernel_unload(name, 5000, err);
	if (r < 0 && r != -ENOENT) {
		sa_audit_fail(&ev, "orphan left by %s (pid %d): %s", old.user,
			      (int)old.watchdog, err->msg);
		sc_error_prefix(err, "%s was left loaded by a run of %s that died, and",
				name, old.user);
		return r;
	}
	sa_audit_allow(&ev, "orphan left by %s (pid %d) unloaded", old.user,
		       (int)old.watchdog);
	return 0;
}

/*
 * Before init_module: lock and write the record of this load (owner, digest,
 * our pid), reclaiming an orphan of the same name. Returns 0 and *out (free
 * with sa_record_free, after sa_registry_end), or -errno (err).
 */
int sa_registry_claim(const struct sa_module *m, const struct sa_ids *ids,
		      const struct sa_opts *o, struct sa_record **out,
		      struct sc_error *err)
{
	struct sa_record *rec = calloc(1, sizeof(*rec));
	int r;

	if (!rec)
		return -ENOMEM;
	rec->fd = -1;
	r = open_registry(1, &rec->dirfd, err);
	if (r < 0)
		rec->dirfd = -1;
	if (r == 0)
		r = lock_record(rec, m->name, err);
	if (r == 0)
		r = reclaim(rec, m->name, err);
	if (r == 0) {
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): an 8-byte tag, not a string */
		memcpy(rec->run.magic, SA_RUN_MAGIC, 8);
		rec->run.uid = ids->uid;
		rec->run.watchdog = (int32_t)getpid();
		rec->run.loaded = (int64_t)time(NULL);
		snprintf(rec->run.user, sizeof(rec->run.user), "%s",
			 ids->user ? ids->user : "?");
		snprintf(rec->run.module, sizeof(rec->run.module), "%s", m->name);
		snprintf(rec->run.sha256, sizeof(rec->run.sha256), "%s", m->hex);
		/* staprun-auth.c let only digits (at most 9) through for -x */
		rec->run.target = o->pid ? (int32_t)atoi(o->pid) : 0;
		snprintf(rec->run.cmd, sizeof(rec->run.cmd), "%s", o->cmd ? o->cmd : "");
		r = write_run(rec, err);
	}
	if (r < 0)
		sa_record_free(rec);
	else
		*out = rec;
	return r;
}

/* After init_module (stapio 0: note the instance) and after stapio started. */
int sa_registry_commit(struct sa_record *rec, pid_t stapio, struct sc_error *err)
{
	int r = 0;

	if (!rec->run.instance[0]) {
		r = sa_kernel_instance(rec->run.module, rec->run.instance,
				       sizeof(rec->run.instance));
		if (r < 0) {
			rec->run.instance[0] = '\0';
			sc_error_set(err,
				     "cannot tell which instance of %s was loaded: %s",
				     rec->run.module, strerror(-r));
			return r;
		}
	}
	rec->run.stapio = (int32_t)stapio;
	return write_run(rec, err);
}

/*
 * End of a claim. maybe_loaded: init_module succeeded, or its outcome is
 * unknown. Then the module, if still the instance we loaded (or, outcome
 * unknown, whatever is loaded under the name we held locked), is unloaded
 * for as long as that takes, every failure logged. The record goes, and our
 * lock with it, unless the unload failed for good (then it is an orphan for
 * the next run). Returns 0 or -errno.
 */
int sa_registry_end(struct sa_record *rec, int maybe_loaded, const struct sa_event *ev)
{
	struct sc_error err = {.msg = ""};
	const char *name = rec->run.module;
	int r;

	/* No instance noted: whatever carries the name is ours (we held it). */
	if (!maybe_loaded)
		r = 0;
	else if (!rec->run.instance[0])
		r = 1;
	else
		r = still_ours(name, &rec->run);

	if (r > 0) {
		r = sa_kernel_unload(name, -1, &err);
		if (r == -ENOENT)
			r = 0;
		if (r < 0) {
			sa_audit_fail(ev, "%s; it stays loaded, its record kept",
				      err.msg);
			sa_say(2, "%s: %s\n", SA_PROG, err.msg);
			return r;
		}
	} else if (r < 0) {
		sa_audit_fail(ev, "cannot tell whether %s is still loaded: %s", name,
			      strerror(-r));
		return r;
	}
	if (unlinkat(rec->dirfd, name, 0) < 0 && errno != ENOENT) {
		r = -errno;
		sa_audit_fail(ev, "cannot remove the record %s/%s: %s", SA_REGISTRY_DIR,
			      name, strerror(-r));
	}
	return r;
}

/* ---------------------------------------------------------------- -d */

/* 1 when process anc is pid's parent, grandparent or great-grandparent. */
static int ancestor(pid_t anc, pid_t pid)
{
	char buf[512];
	const char *p;

	for (int i = 0; i < 3 && pid > 1; i++) {
		p = sc_proc_stat_fields(pid, buf, sizeof(buf));
		if (!p || sscanf(p, " %*c %d", &pid) != 1)
			return 0;
		if (pid == anc)
			return 1;
	}
	return 0;
}

/*
 * -d NAME. A record a live run holds (locked) is that run's: its watchdog
 * unloads the module when the run ends, and -d unloads nothing by name in
 * the meantime (the run could end and another user's take the name). That
 * is what stapio's own "-d" at its end finds: success, quietly. Anyone else
 * is told to stop the run. An unlocked record is an orphan or stale.
 */
static int unload_by_name(const char *name, const struct sa_ids *ids, struct sa_run *run,
			  struct sc_error *err)
{
	struct stat a, b;
	int dirfd = -1, fd = -1, r, ours;

	r = open_registry(0, &dirfd, err);
	if (r == 0 && (fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0 && read_run(fd, run) < 0) {
		sc_error_set(err, "the record %s/%s is damaged: ask root to remove it",
			     SA_REGISTRY_DIR, name);
		r = -EBADMSG;
	}
	if (r == -ENOENT)
		sc_error_set(err,
			     "%s was not loaded by %s (no record in %s): it unloads "
			     "only modules it loaded",
			     name, SA_PROG, SA_REGISTRY_DIR);
	if (r == 0 && ids->uid != 0 && run->uid != ids->uid) {
		sc_error_set(err, "%s was loaded by %s (uid %u), not by you", name,
			     run->user, (unsigned)run->uid);
		r = -EPERM;
	}
	if (r < 0)
		goto out;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = 1; /* stapio's own -d: its watchdog unloads */
		if (run->stapio > 0 && ancestor((pid_t)run->stapio, getpid()))
			goto out;
		if (run->stapio > 0)
			sc_error_set(err,
				     "%s is running (stapio pid %d): stop that run "
				     "(Ctrl-C, or kill %d); it is unloaded when it ends",
				     name, (int)run->stapio, (int)run->stapio);
		else
			sc_error_set(err,
				     "%s is starting or ending (no stapio now): its "
				     "run unloads it when it ends; try again if it "
				     "stays in --list",
				     name);
		r = -EBUSY;
		goto out;
	}
	ours = still_ours(name, run);
	if (ours < 0) {
		sc_error_set(err,
			     "cannot tell whether %s is still the module that was "
			     "loaded (%s): its record stays",
			     name, strerror(-ours));
		r = ours;
		goto out;
	}
	if (ours > 0)
		r = sa_kernel_unload(name, 3000, err);
	else
		sc_error_set(err, "%s is not loaded any more", name);
	/* The record is ours to remove (we hold its lock) if it is still the
	 * one at that name. */
	if ((ours == 0 || r == 0) && fstat(fd, &a) == 0 &&
	    fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino)
		unlinkat(dirfd, name, 0);
	if (ours == 0)
		r = -ENOENT;
	if (r == -EAGAIN || r == -EBUSY)
		sc_error_set(err,
			     "%s is still in use (someone holds its control channel "
			     "open): try again",
			     name);
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return r;
}

/*
 * Is this `-d NAME` stapio's own, at the end of a live run of the caller's?
 * Asked before any slot is taken, while the caller can still stop us: it
 * takes no lock and only reads. Yes when NAME's record is the caller's, its
 * run's watchdog is our ancestor (so it is alive, and holds the record: a
 * watchdog's only children are stapio and the loading child) and its stapio
 * is us or our ancestor (stapio runs `staprun-auth -d` at its end). Then that
 * watchdog unloads the module when the run ends, and this -d has nothing to
 * do: it needs no slot of its own (with SA_MAX_PER_USER runs going, it found
 * none, and the run failed). Returns 1 then, else 0.
 */
int sa_registry_own_unload(const char *name, const struct sa_ids *ids)
{
	struct sa_run run;
	int dirfd = -1, fd = -1, own = 0;

	if (!sc_module_name_ok(name) || open_registry(0, &dirfd, NULL) < 0)
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && read_run(fd, &run) == 0 && run.uid == ids->uid && run.stapio > 0 &&
	    run.watchdog > 0 &&
	    (run.stapio == (int32_t)getpid() || ancestor((pid_t)run.stapio, getpid())) &&
	    ancestor((pid_t)run.watchdog, getpid()))
		own = 1;
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return own;
}

/* The -d that sa_registry_own_unload() recognised: logged, nothing done. */
int sa_cmd_delete_own(const struct sa_opts *o)
{
	struct sa_event ev = {.action = "unload", .module = o->module};

	sa_audit_allow(&ev, "stapio's end of run: its watchdog unloads it");
	return SA_EXIT_OK;
}

int sa_cmd_delete(const struct sa_opts *o, const struct sa_ids *ids)
{
	struct sa_event ev = {.action = "unload", .module = o->module};
	struct sc_error err = {.msg = ""};
	struct sa_run run;
	int r;

	memset(&run, 0, sizeof(run));
	if (!sc_module_name_ok(o->module)) {
		sa_audit_refuse(&ev, NULL, "'%s' is not a module name", o->module);
		return SA_EXIT_REFUSED;
	}
	r = unload_by_name(o->module, ids, &run, &err);
	ev.digest = run.sha256[0] ? run.sha256 : NULL;
	if (r < 0) {
		sa_audit_refuse(&ev, NULL, "%s", err.msg[0] ? err.msg : strerror(-r));
		return SA_EXIT_REFUSED;
	}
	if (r > 0) {
		sa_audit_allow(&ev, "stapio's end of run: its watchdog unloads it");
		return SA_EXIT_OK;
	}
	sa_audit_allow(&ev, "unloaded (loaded by %s)", run.user);
	sa_info(o->verbose, "module %s unloaded", o->module);
	return SA_EXIT_OK;
}

/* -------------------------------------------------------------- --list */

/*
 * The -c command in one tab-free, printable field: every byte that is not
 * printable ASCII, and tab and backslash, as \xHH. The caller chose those
 * bytes; another user's terminal must not get them raw.
 */
static void escape_cmd(const char *in, char *out, size_t n)
{
	size_t k = 0;

	for (; *in && k + 5 < n; in++) {
		unsigned char c = (unsigned char)*in;

		if (c > 0x20 && c < 0x7f && c != '\\')
			out[k++] = (char)c;
		else if (c == ' ')
			out[k++] = ' ';
		else
			k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
	}
	out[k] = '\0';
}

static void print_record(int dirfd, const char *name)
{
	char when[32] = "?", cmd[SA_CMD_MAX * 4 + 8];
	struct sa_run run;
	struct tm tm;
	time_t t;
	int fd, orphan;

	if (!sc_module_name_ok(name))
		return;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read_run(fd, &run) == 0 && run.instance[0] && still_ours(name, &run) > 0) {
		/* Not by trying its lock: a listing into a pipe nobody reads
		 * would hold it, and lock the module's next run out. For the
		 * display, a dead watchdog is enough (a reused pid shows
		 * "running"; the claim itself goes by the lock). */
		orphan = kill((pid_t)run.watchdog, 0) < 0 && errno == ESRCH;
		t = (time_t)run.loaded;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		escape_cmd(run.cmd, cmd, sizeof(cmd));
		sa_say(1,
		       "%s\tuser=%s(%u)\tsha256:%s\tloaded=%s\tpid=%d\tstapio=%d\t"
		       "target=%d\tcmd=%s\t%s\n",
		       name, run.user, (unsigned)run.uid, run.sha256, when,
		       (int)run.watchdog, (int)run.stapio, (int)run.target, cmd,
		       orphan ? "orphan" : "running");
	}
	close(fd);
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
	if (r < 0 || !(dir = fdopendir(fd))) {
		sa_audit_refuse(&ev, NULL, "%s", err.msg[0] ? err.msg : strerror(errno));
		if (r == 0)
			close(fd);
		return SA_EXIT_REFUSED;
	}
	while ((d = readdir(dir)))
		print_record(dirfd(dir), d->d_name);
	closedir(dir);
	return SA_EXIT_OK;
}
