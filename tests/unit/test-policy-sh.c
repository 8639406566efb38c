/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy's trust rules, stated once (policy.h), checked twice: by
 * staprun-auth's loader (sc_policy_load, C, on descriptors) and by the shell
 * that `stapcache bless -T` sends (sc_policy_bless_script, run here by
 * /bin/sh). For every kind of file where a regular file or a directory is
 * expected, every owner and mode the rules look at, at every place (the
 * policy file, a drop-in, their directories, an ancestor), both must decide
 * alike: both accept, or both refuse with the same message. A refusal by the
 * bless changes nothing (every entry of the tree lstat()s the same, nothing
 * is left next to the file) and never blocks (a FIFO); an accepted bless
 * keeps the owner and mode of the file it replaces.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/policy.h"
#include "tests/lib/tap.h"

#define HEX "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define LINE "sha256:" HEX "  # the blessed one"
#define OLD "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"

static char root[64];

static char *at(const char *rel)
{
	return sc_strdupf("%s/%s", root, rel);
}

static void put(const char *rel, const char *text, mode_t mode)
{
	char *p = at(rel);

	if (sc_write_file_atomic(p, text, strlen(text), mode, NULL) < 0)
		printf("# cannot write %s\n", p);
	free(p);
}

/* A fresh, trusted tree: ROOT/etc/systemtap/{authorized_probes,authorized_probes.d/10-a}. */
static void fresh(void)
{
	char *p = at("etc/systemtap/authorized_probes.d");

	sc_rm_rf(root);
	if (mkdir(root, 0755) < 0 || sc_mkdir_p(p, 0755) < 0)
		printf("# cannot make %s\n", p);
	free(p);
	put("etc/systemtap/authorized_probes", OLD, 0644);
	put("etc/systemtap/authorized_probes.d/10-a", OLD, 0600);
	put("other", OLD, 0644);
}

/* Every entry under root, lstat()ed: what a refusal must leave as it was. */
static void snap_at(int dfd, const char *rel, FILE *out)
{
	struct dirent **names = NULL;
	int n = scandirat(dfd, ".", &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		struct stat st;

		if (strcmp(nm, ".") && strcmp(nm, "..") &&
		    fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			fprintf(out, "%s/%s %o %u:%u %lld %lu %lu %lld.%09ld\n", rel, nm,
				(unsigned)st.st_mode, (unsigned)st.st_uid,
				(unsigned)st.st_gid, (long long)st.st_size,
				(unsigned long)st.st_ino, (unsigned long)st.st_nlink,
				(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
			if (S_ISDIR(st.st_mode)) {
				int sub = openat(dfd, nm,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
				char *r = sc_strdupf("%s/%s", rel, nm);

				if (sub >= 0) {
					snap_at(sub, r, out);
					close(sub);
				}
				free(r);
			}
		}
		free(names[i]);
	}
	free(names);
}

static char *snapshot(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int dfd = open(root, O_RDONLY | O_DIRECTORY);

	snap_at(dfd, "", out);
	close(dfd);
	fclose(out);
	return buf;
}

/* staprun-auth's loader on ROOT/etc/systemtap: 0, or -EPERM with its message. */
static int load(char *msg, size_t n)
{
	struct sc_policy *pol = sc_policy_new();
	struct sc_error err = {.msg = ""};
	char *dir = at("etc/systemtap");
	int r = sc_policy_load(pol, dir, &err);

	snprintf(msg, n, "%s", err.msg);
	sc_policy_free(pol);
	free(dir);
	return r;
}

/* The bless script for ROOT/REL by /bin/sh (at most 20 s): its status; out, errs. */
static int bless(const char *rel, char *out, char *errs, size_t n)
{
	char *file = at(rel), *script = sc_policy_bless_script(file, HEX, LINE);
	char sp[] = "/tmp/sc-bless.XXXXXX";
	int fd = mkstemp(sp), st;
	char *cmd =
		sc_strdupf("timeout -s KILL 20 /bin/sh %s >%s.out 2>%s.err </dev/null",
			   sp, sp, sp);
	char *o = sc_strdupf("%s.out", sp), *e = sc_strdupf("%s.err", sp), *buf = NULL;

	(void)!sc_write_all(fd, script, strlen(script));
	close(fd);
	st = system(cmd);
	out[0] = errs[0] = '\0';
	if (sc_read_file(o, 4096, &buf, NULL) == 0)
		snprintf(out, n, "%s", buf);
	free(buf);
	buf = NULL;
	if (sc_read_file(e, 4096, &buf, NULL) == 0)
		snprintf(errs, n, "%s", buf);
	free(buf);
	out[strcspn(out, "\n")] = errs[strcspn(errs, "\n")] = '\0';
	unlink(sp);
	unlink(o);
	unlink(e);
	free(o);
	free(e);
	free(cmd);
	free(script);
	free(file);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * One case: the tree as fresh() makes it, changed by how; then the loader and
 * the bless of target (a policy file, relative to root) must agree.
 */
static void same(const char *name, const char *target, void (*how)(const char *),
		 const char *arg)
{
	char msg[1024], out[1024], errs[1024], *before, *after;
	int r, st;

	fresh();
	how(arg);
	r = load(msg, sizeof(msg));
	before = snapshot();
	st = bless(target, out, errs, sizeof(out));
	after = snapshot();
	if (r == 0) {
		if (!tap_ok(st == 0 && !strcmp(out, "appended"),
			    "%s: both accept (bless of %s appends)", name, target))
			printf("#   bless: status %d, out '%s', err '%s'\n", st, out,
			       errs);
	} else {
		if (!tap_ok(r == -EPERM && st == 3 && !strcmp(msg, errs),
			    "%s: both refuse, with the same words", name))
			printf("#   loader: %d '%s'\n#   bless:  %d '%s' (out '%s')\n", r,
			       msg, st, errs, out);
		else
			printf("#   %s\n", msg);
		if (!tap_ok(!strcmp(before, after),
			    "  and the refused bless changed nothing"))
			printf("# before:\n%s# after:\n%s", before, after);
	}
	free(before);
	free(after);
}

/* ------------------------------------------------------------ the changes */

static void nothing(const char *rel)
{
	(void)rel;
}

static void replace_by(const char *rel, const char *kind)
{
	char *p = at(rel), *other = at("other");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int r = 0, s;

	if (strcmp(kind, "dirlink") != 0)
		sc_rm_rf(p);
	if (!strcmp(kind, "symlink"))
		r = symlink(other, p);
	else if (!strcmp(kind, "dangling"))
		r = symlink("/nonexistent/policy", p);
	else if (!strcmp(kind, "hardlink"))
		r = link(other, p);
	else if (!strcmp(kind, "fifo"))
		r = mkfifo(p, 0644);
	else if (!strcmp(kind, "chardev"))
		r = mknod(p, S_IFCHR | 0644, makedev(1, 3));
	else if (!strcmp(kind, "blockdev"))
		r = mknod(p, S_IFBLK | 0644, makedev(7, 0));
	else if (!strcmp(kind, "dir"))
		r = mkdir(p, 0755);
	else if (!strcmp(kind, "dirlink")) {
		char *real = sc_strdupf("%s.real", p);

		r = rename(p, real) ?: symlink(real, p);
		free(real);
	} else if (!strcmp(kind, "socket")) {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		r = bind(s, (struct sockaddr *)&sa, sizeof(sa));
		close(s);
	}
	if (r < 0)
		printf("# cannot make %s a %s\n", p, kind);
	free(p);
	free(other);
}

static const char *cur_kind;
static void as_kind(const char *rel)
{
	replace_by(rel, cur_kind);
}

static mode_t cur_mode;
static void chmod_to(const char *rel)
{
	char *p = at(rel);

	if (chmod(p, cur_mode) < 0)
		printf("# chmod %s failed\n", p);
	free(p);
}

static void chown_user(const char *rel)
{
	char *p = at(rel);

	if (lchown(p, 1000, 0) < 0)
		printf("# chown %s failed\n", p);
	free(p);
}

static void remove_it(const char *rel)
{
	char *p = at(rel);

	sc_rm_rf(p);
	free(p);
}

/* A directory: replaced by a symlink to a copy of itself. */
static void dir_as_link(const char *rel)
{
	cur_kind = "dirlink";
	replace_by(rel, "dirlink");
}

/* ----------------------------------------------------------------- cases */

static void file_cases(const char *target, const char *what)
{
	static const char *const kinds[] = {"symlink", "dangling", "hardlink", "fifo",
					    "chardev", "blockdev", "socket",   "dir"};
	static const mode_t modes[] = {0664, 0646, 0666, 0600, 0444, 04644, 01644};
	char name[160];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(name, sizeof(name), "%s is a %s", what, kinds[i]);
		cur_kind = kinds[i];
		same(name, target, as_kind, target);
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(name, sizeof(name), "%s has mode %04o", what,
			 (unsigned)modes[i]);
		cur_mode = modes[i];
		same(name, target, chmod_to, target);
	}
	snprintf(name, sizeof(name), "%s is owned by uid 1000", what);
	same(name, target, chown_user, target);
}

static void dir_cases(const char *dir, const char *what, const char *target)
{
	static const mode_t modes[] = {0775, 0757, 01777, 01775, 0700, 0755};
	char name[160];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(name, sizeof(name), "%s has mode %04o", what,
			 (unsigned)modes[i]);
		cur_mode = modes[i];
		same(name, target, chmod_to, dir);
	}
	snprintf(name, sizeof(name), "%s is owned by uid 1000", what);
	same(name, target, chown_user, dir);
	snprintf(name, sizeof(name), "%s is a symlink to a good directory", what);
	same(name, target, dir_as_link, dir);
}

/* What an accepted bless leaves: the line, the old bytes, owner and mode kept. */
static void test_accepted(void)
{
	char out[1024], errs[1024], *buf = NULL,
				    *p = at("etc/systemtap/authorized_probes");
	struct stat st;

	fresh();
	if (chmod(p, 0640) < 0 || chown(p, 0, 4) < 0)
		printf("# chmod/chown failed\n");
	tap_is_int(bless("etc/systemtap/authorized_probes", out, errs, sizeof(out)), 0,
		   "a good policy: blessed");
	tap_ok(sc_read_file(p, 4096, &buf, NULL) == 0 && !strcmp(buf, OLD LINE "\n"),
	       "  the old bytes, then the line");
	free(buf);
	buf = NULL;
	tap_ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0640 && st.st_gid == 4,
	       "  the owner and mode of the file it replaced (0640, gid 4)");
	tap_is_int(bless("etc/systemtap/authorized_probes", out, errs, sizeof(out)), 0,
		   "blessing again succeeds");
	tap_is_str(out, "already", "  and says it already was");
	replace_by("etc/systemtap/authorized_probes", "hardlink");
	tap_is_int(bless("etc/systemtap/authorized_probes", out, errs, sizeof(out)), 0,
		   "a hardlinked policy: blessed (staprun-auth reads it too)");
	free(p);
	p = at("other");
	tap_ok(sc_read_file(p, 4096, &buf, NULL) == 0 && !strcmp(buf, OLD),
	       "  its other name is not written through (a new file is renamed over)");
	free(buf);
	free(p);
}

int main(void)
{
	if (geteuid() != 0) {
		tap_skip("the trust rules need root (files must be root-owned)");
		return tap_done();
	}
	strcpy(root, "/tmp/sc-policy-sh.XXXXXX");
	if (!mkdtemp(root)) {
		tap_ok(0, "mkdtemp");
		return tap_done();
	}
	same("a trusted tree", "etc/systemtap/authorized_probes", nothing, NULL);
	same("no policy file yet", "etc/systemtap/authorized_probes", remove_it,
	     "etc/systemtap/authorized_probes");
	file_cases("etc/systemtap/authorized_probes", "the policy file");
	file_cases("etc/systemtap/authorized_probes.d/10-a", "a drop-in");
	dir_cases("etc/systemtap", "the policy directory",
		  "etc/systemtap/authorized_probes");
	dir_cases("etc/systemtap/authorized_probes.d", "authorized_probes.d",
		  "etc/systemtap/authorized_probes.d/10-a");
	dir_cases("etc", "an ancestor", "etc/systemtap/authorized_probes");
	test_accepted();
	sc_rm_rf(root);
	return tap_done();
}
