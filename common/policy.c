/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * authorized_probes(5): parsing, loading with trust checks on the opened
 * descriptors, and matching a load request against the entries.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "common/modinfo.h"
#include "common/policy.h"

#define MAX_LIST 256 /* items in one comma list */

struct strlist {
	char **v;
	size_t n;
	int set;
};

struct entry {
	uint8_t digest[SC_SHA256_LEN];
	char *where; /* "file:line" */
	struct strlist users, groups, kernels, params;
	unsigned bufsize; /* MiB per CPU, 0 when none */
	long expires;     /* YYYYMMDD, 0 when none */
};

struct sc_policy {
	struct entry *e;
	size_t n;
};

/* ------------------------------------------------------------------ memory */

static void strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void entry_free(struct entry *e)
{
	free(e->where);
	strlist_free(&e->users);
	strlist_free(&e->groups);
	strlist_free(&e->kernels);
	strlist_free(&e->params);
}

struct sc_policy *sc_policy_new(void)
{
	return calloc(1, sizeof(struct sc_policy));
}

void sc_policy_free(struct sc_policy *pol)
{
	size_t i;

	if (!pol)
		return;
	for (i = 0; i < pol->n; i++)
		entry_free(&pol->e[i]);
	free(pol->e);
	free(pol);
}

size_t sc_policy_count(const struct sc_policy *pol)
{
	return pol->n;
}

/* ----------------------------------------------------------------- parsing */

/* What a caller sees of the line being parsed, for messages. */
struct ctx {
	const char *file;
	size_t line;
	struct sc_error *err;
};

#define BAD(c, ...)                                                                      \
	do {                                                                             \
		sc_error_set((c)->err, __VA_ARGS__);                                     \
		sc_error_prefix((c)->err, "%s:%zu", (c)->file, (c)->line);               \
	} while (0)

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* User and group names: [A-Za-z0-9_][A-Za-z0-9_.-]*, optionally ending in '$'. */
static int account_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && s[0] != '-' && s[0] != '.' &&
	       strspn(s, ALNUM "_.-") >= n - (s[n - 1] == '$');
}

/* Module parameter names: [A-Za-z_][A-Za-z0-9_]*. */
static int param_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && !(s[0] >= '0' && s[0] <= '9') &&
	       strspn(s, ALNUM "_") == n;
}

/* val (in the line's buffer) is split in place; an empty item is invalid. */
static int parse_list(const struct ctx *c, const char *key, char *val,
		      int (*valid)(const char *), struct strlist *out)
{
	char *item, **nv;

	if (out->set) {
		BAD(c, "option %s= given twice", key);
		return -EINVAL;
	}
	out->set = 1;
	while ((item = strsep(&val, ","))) {
		if (!valid(item) || out->n >= MAX_LIST) {
			BAD(c, "invalid value '%.64s' in %s=", item, key);
			return -EINVAL;
		}
		nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		out->v = nv;
		nv[out->n] = strdup(item);
		if (!nv[out->n])
			return -ENOMEM;
		out->n++;
	}
	return 0;
}

static int parse_date(const struct ctx *c, const char *val, long *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, i;

	if (*out) {
		BAD(c, "option expires= given twice");
		return -EINVAL;
	}
	for (i = 0; i < 10; i++) {
		int dash = i == 4 || i == 7;

		if (dash ? val[i] != '-' : !(val[i] >= '0' && val[i] <= '9'))
			break;
	}
	if (i != 10 || val[10] != '\0' || sscanf(val, "%4d-%2d-%2d", &y, &m, &d) != 3 ||
	    y < 1970 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] +
			    (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))) {
		BAD(c, "invalid date '%.32s' in expires= (want YYYY-MM-DD)", val);
		return -EINVAL;
	}
	*out = (long)y * 10000 + m * 100 + d;
	return 0;
}

static int parse_bufsize(const struct ctx *c, const char *val, unsigned *out)
{
	size_t n = strlen(val);

	if (*out) {
		BAD(c, "option bufsize= given twice");
		return -EINVAL;
	}
	if (n == 0 || n > 4 || strspn(val, "0123456789") != n || val[0] == '0' ||
	    atoi(val) > SC_POLICY_BUFSIZE_MAX) {
		BAD(c, "invalid value '%.32s' in bufsize= (MiB per CPU, 1-%d)", val,
		    SC_POLICY_BUFSIZE_MAX);
		return -EINVAL;
	}
	*out = (unsigned)atoi(val);
	return 0;
}

static int parse_option(const struct ctx *c, struct entry *e, char *tok)
{
	char *val = strchr(tok, '=');

	if (!val || val == tok) {
		BAD(c, "expected option=value, got '%.64s'", tok);
		return -EINVAL;
	}
	*val++ = '\0';
	if (!*val) {
		BAD(c, "option %s= has an empty value", tok);
		return -EINVAL;
	}
	if (!strcmp(tok, "users"))
		return parse_list(c, tok, val, account_ok, &e->users);
	if (!strcmp(tok, "groups"))
		return parse_list(c, tok, val, account_ok, &e->groups);
	if (!strcmp(tok, "kernel"))
		return parse_list(c, tok, val, sc_release_ok, &e->kernels);
	if (!strcmp(tok, "params"))
		return parse_list(c, tok, val, param_ok, &e->params);
	if (!strcmp(tok, "bufsize"))
		return parse_bufsize(c, val, &e->bufsize);
	if (!strcmp(tok, "expires"))
		return parse_date(c, val, &e->expires);
	BAD(c,
	    "unknown option '%.64s' (known: users, groups, kernel, params, bufsize, "
	    "expires)",
	    tok);
	return -EINVAL;
}

static int parse_digest(const struct ctx *c, struct entry *e, const char *tok)
{
	if (!strncmp(tok, "md5:", 4)) {
		BAD(c, "md5 digests are refused (md5 collisions are practical): "
		       "bless the module again as sha256:HEX (stapcache bless)");
		return -EINVAL;
	}
	if (strncmp(tok, "sha256:", 7) != 0) {
		BAD(c, "expected sha256:HEX at the start of the entry, got '%.80s'", tok);
		return -EINVAL;
	}
	if (sc_unhex_sha256(tok + 7, strlen(tok + 7), e->digest) < 0) {
		BAD(c, "sha256: needs exactly 64 hex digits, got '%.80s'", tok + 7);
		return -EINVAL;
	}
	return 0;
}

/* Parse one line (NUL-terminated, modified in place). Blank lines add nothing. */
static int parse_line(struct sc_policy *pol, const struct ctx *c, char *line)
{
	struct entry e = {.expires = 0}, *ne = NULL;
	char *save = NULL, *tok;
	int r;

	line[strcspn(line, "#")] = '\0';
	tok = strtok_r(line, " \t\r", &save);
	if (!tok)
		return 0;
	r = parse_digest(c, &e, tok);
	while (r == 0 && (tok = strtok_r(NULL, " \t\r", &save)))
		r = parse_option(c, &e, tok);
	if (r == 0 && asprintf(&e.where, "%s:%zu", c->file, c->line) < 0) {
		e.where = NULL;
		r = -ENOMEM;
	}
	if (r == 0 && !(ne = realloc(pol->e, (pol->n + 1) * sizeof(*ne))))
		r = -ENOMEM;
	if (r != 0) { /* 0 or -errno: "!= 0" shows clang-tidy that ne is set below */
		entry_free(&e);
		return r;
	}
	pol->e = ne;
	pol->e[pol->n++] = e;
	return 0;
}

/* Check line[0..n) (length, bytes) and copy it into *out. */
static int copy_line(const struct ctx *c, const char *line, size_t n, char **out)
{
	size_t i;

	if (n > SC_POLICY_MAX_LINE) {
		BAD(c, "line longer than %d bytes", SC_POLICY_MAX_LINE);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];

		if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f) {
			BAD(c, "control character 0x%02x in line", ch);
			return -EINVAL;
		}
	}
	*out = strndup(line, n);
	return *out ? 0 : -ENOMEM;
}

int sc_policy_parse(struct sc_policy *pol, const char *name, const char *text, size_t len,
		    struct sc_error *err)
{
	struct ctx c = {.file = name, .line = 0, .err = err};
	size_t before = pol->n, off = 0;
	int r = 0;

	while (r == 0 && off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		char *line = NULL;

		c.line++;
		r = copy_line(&c, text + off, n, &line);
		if (r == 0)
			r = parse_line(pol, &c, line);
		free(line);
		off += n + 1;
	}
	if (r == -ENOMEM)
		sc_error_set(err, "%s: out of memory", name);
	while (r < 0 && pol->n > before) /* none of this text's entries stay */
		entry_free(&pol->e[--pol->n]);
	return r;
}

/* ------------------------------------------------------- loading with trust */

/*
 * The trust rules (policy.h) on one stat. strict: the policy's directory,
 * authorized_probes.d and the files. Otherwise (an ancestor directory) a
 * root-owned sticky directory may be writable by others: they cannot
 * replace root's entries in it.
 */
static int trust_stat(const struct stat *st, const char *path, int want_dir, int strict,
		      struct sc_error *err)
{
	mode_t want = want_dir ? S_IFDIR : S_IFREG;

	if ((st->st_mode & S_IFMT) != want) {
		sc_error_set(err, "refusing " SC_POLICY_WHY_TYPE, path,
			     sc_file_type(st->st_mode), sc_file_type(want));
		return -EPERM;
	}
	if (st->st_uid != SC_POLICY_OWNER) {
		sc_error_set(err, "refusing " SC_POLICY_WHY_OWNER, path,
			     (unsigned)st->st_uid);
		return -EPERM;
	}
	if ((st->st_mode & SC_POLICY_DENIED) &&
	    (strict || !(st->st_mode & SC_POLICY_STICKY))) {
		sc_error_set(err, "refusing " SC_POLICY_WHY_MODE, path,
			     (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static int check_trust(int fd, const char *path, int want_dir, int strict,
		       struct sc_error *err)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		sc_error_set(err, "cannot stat %s: %s", path, strerror(-r));
		return r;
	}
	return trust_stat(&st, path, want_dir, strict, err);
}

/*
 * openat dirfd/name after the rules hold for what is there (fstatat, not
 * following a symlink: a FIFO or a device is never opened), then again for
 * what was opened (O_NOFOLLOW, O_NONBLOCK: a swap in between can make it
 * neither follow nor block). Returns the descriptor, or -errno (-ENOENT
 * quietly, for a caller to whom a missing file is fine; a refusal is -EPERM).
 */
static int open_trusted(int dirfd, const char *name, const char *path, int want_dir,
			int strict, struct sc_error *err)
{
	int flags = want_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK | O_NOCTTY;
	struct stat st;
	int fd, r;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		if (r != -ENOENT)
			sc_error_set(err, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	r = trust_stat(&st, path, want_dir, strict, err);
	if (r < 0)
		return r;
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		/* Replaced since the fstatat (by root: the directory is root's). */
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    trust_stat(&st, path, want_dir, strict, err) < 0)
			return -EPERM;
		if (r != -ENOENT)
			sc_error_set(err, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	r = check_trust(fd, path, want_dir, strict, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int sc_policy_open_dir(const char *dir, int *out, struct sc_error *err)
{
	char copy[4096], path[4096] = "", *save = NULL, *comp, *next;
	int fd = -1, nfd, r = -EINVAL;

	if (dir[0] != '/' || strlen(dir) >= sizeof(path)) {
		sc_error_set(err, "policy directory %s is not an absolute path", dir);
		return r;
	}
	strcpy(copy, dir);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fd < 0 ? -errno : check_trust(fd, "/", 1, 0, err);
	for (comp = strtok_r(copy, "/", &save); r == 0 && comp; comp = next) {
		next = strtok_r(NULL, "/", &save);
		strcat(path, "/");
		strcat(path, comp);
		nfd = open_trusted(fd, comp, path, 1, next == NULL, err);
		if (nfd == -ENOENT)
			sc_error_set(err, "cannot open %s: %s", path, strerror(ENOENT));
		r = nfd < 0 ? nfd : 0;
		close(fd);
		fd = nfd;
	}
	if (r == 0)
		*out = fd;
	else if (fd >= 0)
		close(fd);
	return r;
}

/* Open, check and parse dirfd/name (shown as path). A missing file is fine. */
static int load_file(struct sc_policy *pol, int dirfd, const char *name, const char *path,
		     struct sc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	fd = open_trusted(dirfd, name, path, 0, 1, err);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	r = sc_read_fd(fd, SC_POLICY_MAX_FILE, &text, &len);
	if (r < 0)
		sc_error_set(err, "cannot read %s: %s", path,
			     r == -EFBIG ? "too large" : strerror(-r));
	if (r == 0 && memchr(text, '\0', len)) {
		sc_error_set(err, "refusing %s: it contains a NUL byte", path);
		r = -EINVAL;
	}
	if (r == 0)
		r = sc_policy_parse(pol, path, text, len, err);
	free(text);
	close(fd);
	return r;
}

static int keep_name(const struct dirent *d)
{
	const char *n = d->d_name;

	if (n[0] == '.' || n[strlen(n) - 1] == '~')
		return 0;
#define SKIP_INFIX(infix)                                                                \
	if (strstr(n, infix))                                                            \
		return 0;
	SC_POLICY_SKIPPED_INFIXES(SKIP_INFIX)
#undef SKIP_INFIX
	return 1;
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int load_dropins(struct sc_policy *pol, int dirfd, const char *dir,
			struct sc_error *err)
{
	struct dirent **names = NULL;
	char path[4096];
	int fd, r = 0, n = 0, i;

	snprintf(path, sizeof(path), "%s/authorized_probes.d", dir);
	fd = open_trusted(dirfd, "authorized_probes.d", path, 1, 1, err);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	/* In name order (strcmp, not the locale's), what keep_name() keeps. */
	if ((n = scandirat(fd, ".", &names, keep_name, cmp_names)) < 0) {
		r = -errno;
		n = 0;
		sc_error_set(err, "cannot read %s: %s", path, strerror(-r));
	}
	for (i = 0; r == 0 && i < n; i++) {
		char fpath[4096 + 256];

		snprintf(fpath, sizeof(fpath), "%s/%s", path, names[i]->d_name);
		r = load_file(pol, fd, names[i]->d_name, fpath, err);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	close(fd);
	return r;
}

int sc_policy_load(struct sc_policy *pol, const char *dir, struct sc_error *err)
{
	char path[4096];
	int dirfd = -1, r;

	r = sc_policy_open_dir(dir, &dirfd, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/authorized_probes", dir);
	r = load_file(pol, dirfd, "authorized_probes", path, err);
	if (r == 0)
		r = load_dropins(pol, dirfd, dir, err);
	close(dirfd);
	return r;
}

/* ---------------------------------------------------------------- matching */

static int in_list(const struct strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

static long utc_date(time_t now)
{
	struct tm tm;

	if (!gmtime_r(&now, &tm))
		return 99991231; /* fail closed: everything with a date has expired */
	return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static int who_ok(const struct entry *e, const struct sc_policy_request *req)
{
	size_t i;

	if (!e->users.set && !e->groups.set)
		return 1;
	if (req->user && in_list(&e->users, req->user))
		return 1;
	for (i = 0; i < req->ngroups; i++)
		if (req->groups[i] && in_list(&e->groups, req->groups[i]))
			return 1;
	return 0;
}

static void join(char *buf, size_t n, const struct strlist *l)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < l->n && off < n; i++) {
		int w = snprintf(buf + off, n - off, "%s%s", i ? "," : "", l->v[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* 0 when e allows req, else -EACCES with the reason in err. */
static int entry_allows(const struct entry *e, const struct sc_policy_request *req,
			struct sc_error *err)
{
	unsigned limit = e->bufsize ? e->bufsize : SC_POLICY_BUFSIZE_DEFAULT;
	char u[256], g[256];
	size_t i;

	if (e->expires && utc_date(req->now) > e->expires) {
		sc_error_set(err, "entry %s expired on %04ld-%02ld-%02ld", e->where,
			     e->expires / 10000, e->expires / 100 % 100,
			     e->expires % 100);
		return -EACCES;
	}
	if (!who_ok(e, req)) {
		join(u, sizeof(u), &e->users);
		join(g, sizeof(g), &e->groups);
		sc_error_set(err,
			     "user %s is not allowed by entry %s (users=%s groups=%s)",
			     req->user ? req->user : "?", e->where,
			     e->users.set ? u : "-", e->groups.set ? g : "-");
		return -EACCES;
	}
	if (e->kernels.set && !in_list(&e->kernels, req->kernel)) {
		join(u, sizeof(u), &e->kernels);
		sc_error_set(err, "entry %s allows kernel=%s, this kernel is %s",
			     e->where, u, req->kernel);
		return -EACCES;
	}
	for (i = 0; i < req->nparams; i++) {
		if (in_list(&e->params, req->params[i]))
			continue;
		join(u, sizeof(u), &e->params);
		sc_error_set(err, "parameter %s is not allowed by entry %s (%s%s)",
			     req->params[i], e->where, e->params.set ? "params=" : "",
			     e->params.set ? u : "it has no params=, so none may be set");
		return -EACCES;
	}
	if (req->bufsize <= limit)
		return 0;
	sc_error_set(err,
		     "a buffer of %u MiB per CPU is more than entry %s allows (%s%u)",
		     req->bufsize, e->where,
		     e->bufsize ? "bufsize=" : "it has no bufsize=, so at most ", limit);
	return -EACCES;
}

int sc_policy_check(const struct sc_policy *pol, const struct sc_policy_request *req,
		    const char **where, struct sc_error *err)
{
	struct sc_error first = {.msg = ""};
	size_t i, matched = 0;

	for (i = 0; i < pol->n; i++) {
		const struct entry *e = &pol->e[i];
		struct sc_error why;

		if (memcmp(e->digest, req->digest, SC_SHA256_LEN) != 0)
			continue;
		if (entry_allows(e, req, &why) == 0) {
			if (where)
				*where = e->where;
			return 0;
		}
		if (matched++ == 0)
			first = why;
	}
	if (!matched)
		return -ENOENT;
	if (matched == 1)
		sc_error_set(err, "%s", first.msg);
	else
		sc_error_set(err,
			     "%s (and %zu other entries for this digest refuse it too)",
			     first.msg, matched - 1);
	return -EACCES;
}

/* s[0..len) a decimal number in 1..max without sign or leading zero: *out. */
static int small_number(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 9 || s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int sc_policy_rotation_parse(const char *arg, unsigned *mb, unsigned *files)
{
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);
	int r;

	*mb = *files = 0;
	r = small_number(arg, len, SC_POLICY_ROTATE_MB_MAX, mb);
	if (r == 0 && comma)
		r = small_number(comma + 1, strlen(comma + 1), SC_POLICY_ROTATE_FILES_MAX,
				 files);
	if (r < 0)
		*mb = *files = 0;
	return r;
}
