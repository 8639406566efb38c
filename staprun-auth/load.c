/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The module: opened without following a symlink, with the caller's own
 * ids and no effective capability, read once into memory, hashed, matched
 * against the policy, checked as ELF, and handed to init_module(2) from that
 * same buffer by a child whose real ids are the caller's. Nothing here ever
 * looks at the path again after the one read.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "fsutil.h"
#include "policy.h"

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/* The name the file promises: its base name without ".ko". */
static int name_from_path(struct sa_module *m, struct sc_error *err)
{
	const char *base = strrchr(m->path, '/');
	size_t n;

	base = base ? base + 1 : m->path;
	n = strlen(base);
	if (n <= 3 || strcmp(base + n - 3, ".ko") != 0) {
		sc_error_set(err, "%s: the module file name must end in .ko", m->path);
		return -EINVAL;
	}
	n -= 3;
	if (n <= SC_MODULE_NAME_MAX) {
		memcpy(m->name, base, n);
		m->name[n] = '\0';
	}
	if (n > SC_MODULE_NAME_MAX || !sc_module_name_ok(m->name)) {
		m->name[0] = '\0';
		sc_error_set(err,
			     "%s: not a valid module file name ([A-Za-z0-9_], at most "
			     "%d characters, then .ko)",
			     m->path, SC_MODULE_NAME_MAX);
		return -EINVAL;
	}
	return 0;
}

static int open_module(const struct sa_module *m, const struct sa_ids *ids,
		       struct sc_error *err)
{
	int fd, e;

	if (sa_as_caller(ids) < 0) {
		sc_error_set(err, "cannot switch to your user and group ids");
		return -EPERM;
	}
	fd = open(m->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	e = errno;
	if (sa_as_root() < 0) {
		if (fd >= 0)
			close(fd);
		sc_error_set(err, "cannot switch back to root");
		return -EPERM;
	}
	if (fd >= 0)
		return fd;
	if (e == ELOOP)
		sc_error_set(err, "%s is a symbolic link: give the module file itself",
			     m->path);
	else
		sc_error_set(err, "cannot open %s: %s", m->path, strerror(e));
	return -e;
}

static int read_module(struct sa_module *m, const struct sa_ids *ids,
		       struct sc_error *err)
{
	struct stat st;
	char *buf = NULL;
	int fd, r;

	fd = open_module(m, ids, err);
	if (fd < 0)
		return fd;
	r = -errno;
	if (fstat(fd, &st) < 0) {
		sc_error_set(err, "cannot stat %s: %s", m->path, strerror(errno));
		goto out;
	}
	r = -EINVAL;
	if (!S_ISREG(st.st_mode)) {
		sc_error_set(err, "%s is %s, not a module file", m->path,
			     file_kind(st.st_mode));
		goto out;
	}
	r = -EFBIG;
	if ((unsigned long long)st.st_size > SA_MODULE_MAX)
		goto too_big;
	r = sc_read_fd(fd, SA_MODULE_MAX, &buf, &m->len);
	if (r == -EFBIG)
		goto too_big;
	if (r < 0) {
		sc_error_set(err, "cannot read %s: %s", m->path, strerror(-r));
		goto out;
	}
	m->buf = (unsigned char *)buf;
	r = 0;
	goto out;
too_big:
	sc_error_set(err, "%s is too large for a module (more than %u MiB)", m->path,
		     SA_MODULE_MAX >> 20);
out:
	close(fd);
	return r;
}

static int match_policy(struct sa_module *m, const struct sa_opts *o,
			const struct sa_ids *ids, struct sc_error *err)
{
	const char *names[SA_MAX_PARAMS];
	char namebuf[SA_MAX_PARAMS][72];
	struct sc_policy *pol = sc_policy_new();
	struct sc_policy_request req = {
	    .digest = m->digest,
	    .user = ids->user,
	    .groups = (const char *const *)ids->group_names,
	    .ngroups = ids->ngroup_names,
	    .kernel = m->kernel,
	    .params = names,
	    .nparams = (size_t)o->nparams,
	    .bufsize = o->bufsize,
	    .now = time(NULL),
	};
	const char *where = NULL;
	int i, r = -ENOMEM;

	if (!pol)
		goto out;
	for (i = 0; i < o->nparams && i < SA_MAX_PARAMS; i++) {
		snprintf(namebuf[i], sizeof(namebuf[i]), "%.*s",
			 (int)strcspn(o->params[i], "="), o->params[i]);
		names[i] = namebuf[i];
	}
	r = sc_policy_load(pol, SA_POLICY_DIR, err);
	if (r < 0) {
		m->hint =
		    "ask an admin to fix the policy files (see authorized_probes(5))";
		goto out;
	}
	r = sc_policy_check(pol, &req, &where, err);
	if (r == -ENOENT) {
		sc_error_set(err,
			     "%s (sha256:%s) is not an authorized module: its digest is "
			     "not listed in %s",
			     m->path, m->hex, SA_POLICY_FILE);
		snprintf(m->hintbuf, sizeof(m->hintbuf),
			 "ask an admin to add: sha256:%s  # %s  "
			 "to %s",
			 m->hex, m->name, SA_POLICY_FILE);
		m->hint = m->hintbuf;
	} else if (r < 0) {
		sc_error_prefix(err, "%s is not authorized for you", m->path);
		m->hint = "ask an admin to change the entry in " SA_POLICY_FILE;
	} else {
		snprintf(m->hintbuf, sizeof(m->hintbuf), "%s", where);
	}
out:
	sc_policy_free(pol);
	return r;
}

/* The ELF checks, on the same bytes that were hashed. */
static int check_elf(struct sa_module *m, const struct sa_opts *o, struct sc_error *err)
{
	struct sc_modinfo *mi = NULL;
	char rel[128];
	int i, r;

	r = sc_modinfo_parse(m->buf, m->len, &mi, err);
	if (r < 0) {
		sc_error_prefix(err, "%s is not a valid kernel module", m->path);
		return r;
	}
	r = -EINVAL;
	if (strcmp(sc_modinfo_name(mi), m->name) != 0) {
		sc_error_set(
		    err, "%s: the module calls itself '%s'; the file must be named %s.ko",
		    m->path, sc_modinfo_name(mi), sc_modinfo_name(mi));
		goto out;
	}
	if (sc_modinfo_release(mi, rel, sizeof(rel)) < 0) {
		sc_error_set(err, "%s has no usable vermagic", m->path);
		goto out;
	}
	if (strcmp(rel, m->kernel) != 0) {
		sc_error_set(err, "%s was built for kernel %s, this kernel is %s",
			     m->path, rel, m->kernel);
		m->hint = "rebuild the module for this kernel (stap -r RELEASE) and have "
			  "it blessed";
		goto out;
	}
	for (i = 0; i < o->nparams; i++) {
		int n = (int)strcspn(o->params[i], "=");
		char name[72];

		snprintf(name, sizeof(name), "%.*s", n, o->params[i]);
		if (!sc_modinfo_has_param(mi, name)) {
			sc_error_set(err, "%s declares no parameter %s", m->path, name);
			goto out;
		}
	}
	r = 0;
out:
	sc_modinfo_free(mi);
	return r;
}

static int check_not_loaded(const struct sa_module *m, struct sc_error *err)
{
	int r = sa_kernel_live(m->name);

	if (r < 0) {
		sc_error_set(err, "cannot tell whether %s is loaded: %s", m->name,
			     strerror(-r));
		return r;
	}
	if (r > 0) {
		sc_error_set(err, "a module named %s is already loaded", m->name);
		return -EEXIST;
	}
	return 0;
}

int sa_module_prepare(const struct sa_opts *o, const struct sa_ids *ids,
		      struct sa_module *m, struct sc_error *err)
{
	int r;

	m->path = o->module;
	r = name_from_path(m, err);
	if (r == 0 && (r = sa_kernel_release(m->kernel, sizeof(m->kernel))) < 0)
		sc_error_set(err, "uname: %s", strerror(-r));
	if (r == 0)
		r = sa_params_build(o->bufsize, o->params, o->nparams, &m->params, err);
	if (r == 0)
		r = read_module(m, ids, err);
	if (r < 0)
		return r;
	sc_sha256(m->buf, m->len, m->digest);
	sc_hex(m->hex, m->digest, SC_SHA256_LEN);
	sa_info(o->verbose, "%s: %zu bytes, sha256:%s", m->path, m->len, m->hex);
	r = match_policy(m, o, ids, err);
	if (r == 0)
		r = check_elf(m, o, err);
	if (r == 0)
		r = check_not_loaded(m, err);
	return r;
}

static const char *init_error(int e)
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
		return "the kernel refuses to load modules (modules_disabled, lockdown "
		       "or "
		       "a security module)";
	case EKEYREJECTED:
	case ENOKEY:
	case EBADMSG:
		return "the kernel only loads signed modules and rejected this one";
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
 * files to current_uid()), effective root. The caller may stop or kill it,
 * it holds nothing; the parent, whom the caller cannot signal, cleans up.
 * Reports errno (0: loaded) on fd and exits.
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

/* The child's answer: 0, -errno of init_module, or SA_LOADER_DIED. */
static int insert_wait(pid_t pid, int fd)
{
	int e = 0, st;
	ssize_t n;

	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(e))
		return SA_LOADER_DIED;
	return e > 0 ? -e : e == 0 ? 0 : -EIO;
}

/*
 * init_module(2) on the checked buffer, in a child (see insert_child).
 * Returns 0 when the module is loaded; -errno when it is not; SA_LOADER_DIED
 * when the child died without saying, so the module may be loaded: the
 * caller must unload it. err says why.
 */
int sa_module_insert(const struct sa_module *m, const struct sa_ids *ids,
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
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		insert_child(m, ids, p[1]);
	r = pid < 0 ? -errno : 0;
	close(p[1]);
	if (r == 0)
		r = insert_wait(pid, p[0]);
	close(p[0]);
	if (r == SA_LOADER_DIED)
		sc_error_set(err, "the process loading %s was killed", m->name);
	else if (r < 0 && pid < 0)
		sc_error_set(err, "cannot load %s: fork: %s", m->name, strerror(-r));
	else if (r < 0)
		sc_error_set(err, "cannot load %s: %s", m->name, init_error(-r));
	return r;
}

void sa_module_release(struct sa_module *m)
{
	free(m->buf);
	free(m->params);
	m->buf = NULL;
	m->params = NULL;
}
