/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The module: opened without following a symlink, with the caller's own
 * ids and no effective capability, read once into memory, hashed, matched
 * against the policy and checked as ELF; kernel.c hands that same buffer to
 * init_module(2). Nothing ever looks at the path again after the one read.
 *
 * Module parameters: the kernel splits the init_module parameter string at
 * whitespace (its isspace() includes 0xa0) and honours double quotes, so a
 * value that could carry a second NAME=VALUE is refused here, and the string
 * is built by us alone.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "common/fsutil.h"
#include "common/modinfo.h"
#include "common/policy.h"

static int name_ok(const char *s, size_t n)
{
	return n <= 64 && sc_identifier_ok(s, n);
}

static int param_check(const char *arg, struct sc_error *err)
{
	const char *eq = strchr(arg, '=');
	const char *why;

	if (!eq) {
		sc_error_set(err, "module parameter '%.80s' is not NAME=VALUE", arg);
		return -EINVAL;
	}
	if (!name_ok(arg, (size_t)(eq - arg))) {
		sc_error_set(err,
			     "module parameter '%.80s': the name must match "
			     "[A-Za-z_][A-Za-z0-9_]*",
			     arg);
		return -EINVAL;
	}
	if (!strncmp(arg, "_stp_bufsize=", 13)) {
		sc_error_set(err,
			     "module parameter _stp_bufsize: use -b BUFSIZE instead");
		return -EINVAL;
	}
	why = sc_param_value_problem(eq + 1);
	if (why) {
		sc_error_set(err, "module parameter '%.80s': %s", arg, why);
		return -EINVAL;
	}
	return 0;
}

static int same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return n == strcspn(b, "=") && !strncmp(a, b, n);
}

static int params_build(unsigned bufsize, char *const *args, int n, char **out,
			struct sc_error *err)
{
	size_t len = 32;
	char *s;
	int i, j, r;

	if (n > SA_MAX_PARAMS) {
		sc_error_set(err, "too many module parameters (at most %d)",
			     SA_MAX_PARAMS);
		return -E2BIG;
	}
	for (i = 0; i < n; i++) {
		r = param_check(args[i], err);
		if (r < 0)
			return r;
		for (j = 0; j < i; j++) {
			if (same_name(args[i], args[j])) {
				sc_error_set(err, "module parameter %.*s given twice",
					     (int)strcspn(args[i], "="), args[i]);
				return -EINVAL;
			}
		}
		len += strlen(args[i]) + 1;
	}
	s = malloc(len);
	if (!s)
		return -ENOMEM;
	/* staprun always passes _stp_bufsize first (0: the module's default). */
	snprintf(s, len, "_stp_bufsize=%u", bufsize);
	for (i = 0; i < n; i++) {
		strcat(s, " ");
		strcat(s, args[i]);
	}
	*out = s;
	return 0;
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
	if (fstat(fd, &st) < 0) {
		r = -errno;
		sc_error_set(err, "cannot stat %s: %s", m->path, strerror(-r));
		goto out;
	}
	r = -EINVAL;
	if (!S_ISREG(st.st_mode)) {
		sc_error_set(err, "%s is a %s, not a module file", m->path,
			     sc_file_type(st.st_mode));
		goto out;
	}
	r = -EFBIG;
	if ((unsigned long long)st.st_size <= SC_MODULE_MAX)
		r = sc_read_fd_sha256(fd, SC_MODULE_MAX, &buf, &m->len, m->digest);
	if (r == -EFBIG)
		sc_error_set(err, "%s is too large for a module (more than %u MiB)",
			     m->path, SC_MODULE_MAX >> 20);
	else if (r < 0)
		sc_error_set(err, "cannot read %s: %s", m->path, strerror(-r));
	else
		m->buf = (unsigned char *)buf;
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
			     "%s (sha256:%s) " SC_POLICY_UNBLESSED ": its digest is "
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
		sc_error_set(err,
			     "%s: the module calls itself '%s'; the file must be named %s.ko",
			     m->path, sc_modinfo_name(mi), sc_modinfo_name(mi));
		goto out;
	}
	/* Before the kernel: a module of the other systemtap says so first. */
	r = sa_protocol_check(m, mi, err);
	if (r < 0)
		goto out;
	r = -EINVAL;
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

int sa_module_prepare(const struct sa_opts *o, const struct sa_ids *ids,
		      struct sa_module *m, struct sc_error *err)
{
	int r;

	m->path = o->module;
	r = name_from_path(m, err);
	if (r == 0 && (r = sa_kernel_osrelease(m->kernel, sizeof(m->kernel))) < 0)
		sc_error_set(err, "cannot read /proc/sys/kernel/osrelease: %s",
			     strerror(-r));
	if (r == 0)
		r = params_build(o->bufsize, o->params, o->nparams, &m->params, err);
	if (r == 0)
		r = read_module(m, ids, err);
	if (r < 0)
		return r;
	sc_hex(m->hex, m->digest, SC_SHA256_LEN);
	sa_info(o->verbose, "%s: %zu bytes, sha256:%s", m->path, m->len, m->hex);
	r = match_policy(m, o, ids, err);
	if (r == 0)
		r = check_elf(m, o, err);
	return r;
}

/* A refused module's bytes go before anything is reported or waited for. */
void sa_module_drop_buffer(struct sa_module *m)
{
	free(m->buf);
	m->buf = NULL;
}

void sa_module_free(struct sa_module *m)
{
	sa_module_drop_buffer(m);
	free(m->params);
	m->params = NULL;
}
