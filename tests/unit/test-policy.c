/* SPDX-License-Identifier: GPL-2.0-or-later */
/* authorized_probes(5): parser, matcher and the trust checks of the loader. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "common/policy.h"
#include "tests/lib/tap.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static uint8_t dig_a[32], dig_b[32], dig_c[32];

/* Parse text into a fresh policy; returns the result code, err gets the message. */
static int parse(const char *text, struct sc_error *err, size_t *count)
{
	struct sc_policy *pol = sc_policy_new();
	int r;

	err->msg[0] = '\0';
	r = sc_policy_parse(pol, "ap", text, strlen(text), err);
	if (count)
		*count = sc_policy_count(pol);
	sc_policy_free(pol);
	return r;
}

static void bad(const char *text, const char *want, const char *name)
{
	struct sc_error err;
	int r = parse(text, &err, NULL);

	if (!tap_ok(r == -EINVAL && strstr(err.msg, want), "rejects %s", name))
		printf("#   r=%d msg='%s' want '%s'\n", r, err.msg, want);
}

static void test_parse(void)
{
	struct sc_error err;
	size_t n = 0;

	tap_is_int(parse("", &err, &n), 0, "empty text parses");
	tap_is_int(n, 0, "  and has no entries");
	tap_is_int(parse("# only a comment\n\n   \n\t# indented\n", &err, &n), 0,
		   "comments and blank lines");
	tap_is_int(n, 0, "  add nothing");
	tap_is_int(parse("sha256:" HEX_A "  # stap_abc\n", &err, &n), 0,
		   "stapcache bless output (module name as a comment)");
	tap_is_int(n, 1, "  is one entry");
	tap_is_int(parse("sha256:" HEX_A
			 " users=alice,bob groups=wheel kernel=6.1.0-56-amd64 "
			 "params=greeting,count expires=2030-12-31 # all options\r\n"
			 "SHA256:" HEX_B "\n",
			 &err, &n),
		   -EINVAL, "upper-case algorithm name is not accepted");
	tap_is_int(parse("sha256:" HEX_A
			 " users=alice,bob groups=wheel kernel=6.1.0-56-amd64 "
			 "params=greeting,count expires=2030-12-31 # all options\r\n"
			 "sha256:"
			 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n"
			 "sha256:" HEX_C "#comment right after\n",
			 &err, &n),
		   0, "every option, CRLF, upper-case hex, comment without space");
	tap_is_int(n, 3, "  three entries");
	tap_is_int(parse("sha256:" HEX_A " users=svc$ groups=a.b-c_d", &err, &n), 0,
		   "names with . - _ and a trailing $; no final newline");

	bad("md5:0123456789abcdef0123456789abcdef\n", "md5 digests are refused", "md5:");
	bad("sha256:" HEX_A "\nmd5:0123456789abcdef0123456789abcdef\n",
	    "ap:2:", "md5: names file:line");
	bad("sha1:" HEX_A "\n", "expected sha256:HEX", "another algorithm");
	bad(HEX_A "\n", "expected sha256:HEX", "a bare digest");
	bad("sha256:" HEX_A "a\n", "exactly 64 hex digits", "65 hex digits");
	bad("sha256:abc\n", "exactly 64 hex digits", "a short digest");
	bad("sha256:"
	    "gaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "exactly 64 hex digits", "a non-hex digit");
	bad("\n\nsha256:" HEX_A " colour=blue\n", "ap:3: unknown option 'colour'",
	    "an unknown option (file:line)");
	bad("sha256:" HEX_A " users\n", "expected option=value", "an option without =");
	bad("sha256:" HEX_A " =x\n", "expected option=value", "an option without a name");
	bad("sha256:" HEX_A " users=\n", "empty value", "an empty value");
	bad("sha256:" HEX_A " users=a users=b\n", "given twice", "a repeated option");
	bad("sha256:" HEX_A " expires=2030-01-01 expires=2031-01-01\n", "given twice",
	    "a repeated expires=");
	bad("sha256:" HEX_A " users=a,,b\n",
	    "invalid value '' in users=", "an empty list item");
	bad("sha256:" HEX_A " users=a,\n",
	    "invalid value '' in users=", "a trailing comma");
	bad("sha256:" HEX_A " users=-rf\n", "invalid value '-rf'",
	    "a user name starting with -");
	bad("sha256:" HEX_A " groups=wh/eel\n", "invalid value 'wh/eel'",
	    "a / in a group");
	bad("sha256:" HEX_A " params=1abc\n",
	    "invalid value '1abc' in params=", "a parameter name starting with a digit");
	bad("sha256:" HEX_A " params=a-b\n",
	    "invalid value 'a-b' in params=", "a parameter name with a dash");
	bad("sha256:" HEX_A " kernel=6.1;rm\n",
	    "invalid value '6.1;rm' in kernel=", "a kernel release with a ;");
	tap_is_int(parse("sha256:" HEX_A " bufsize=1\nsha256:" HEX_B " bufsize=2047\n",
			 &err, &n),
		   0, "bufsize= from 1 to 2047 MiB");
	bad("sha256:" HEX_A " bufsize=0\n", "invalid value '0' in bufsize=", "bufsize=0");
	bad("sha256:" HEX_A " bufsize=2048\n",
	    "invalid value '2048' in bufsize= (MiB per CPU, 1-2047)",
	    "bufsize=2048 (the runtime's int arithmetic overflows)");
	bad("sha256:" HEX_A " bufsize=064\n", "invalid value '064'",
	    "bufsize= with a leading 0");
	bad("sha256:" HEX_A " bufsize=64M\n", "invalid value '64M'",
	    "bufsize= with a unit");
	bad("sha256:" HEX_A " bufsize=99999\n", "invalid value '99999'",
	    "a huge bufsize=");
	bad("sha256:" HEX_A " bufsize=-1\n", "invalid value '-1'", "a negative bufsize=");
	bad("sha256:" HEX_A " bufsize=8 bufsize=16\n", "bufsize= given twice",
	    "a repeated bufsize=");
	bad("sha256:" HEX_A " expires=2030-02-30\n", "invalid date", "February 30th");
	bad("sha256:" HEX_A " expires=2030-13-01\n", "invalid date", "month 13");
	bad("sha256:" HEX_A " expires=30-01-01\n", "invalid date", "a two-digit year");
	bad("sha256:" HEX_A " expires=2030-1-01\n", "invalid date", "a one-digit month");
	bad("sha256:" HEX_A " expires=2030-01-01x\n", "invalid date",
	    "trailing junk in a date");
	bad("sha256:" HEX_A " expires=tomorrow\n", "invalid date", "a word as a date");
	bad("sha256:" HEX_A "\x01\n", "control character", "a control character");
	tap_is_int(parse("sha256:" HEX_A " expires=2028-02-29\n", &err, NULL), 0,
		   "a leap day in a leap year");
	bad("sha256:" HEX_A " expires=2100-02-29\n", "invalid date",
	    "a leap day in 2100");
	{
		char *big = malloc(SC_POLICY_MAX_LINE + 64);

		memset(big, ' ', SC_POLICY_MAX_LINE + 10);
		memcpy(big, "sha256:" HEX_A, 71);
		big[SC_POLICY_MAX_LINE + 10] = '\0';
		bad(big, "line longer than", "an overlong line");
		free(big);
	}
	{
		struct sc_policy *pol = sc_policy_new();

		sc_policy_parse(pol, "one", "sha256:" HEX_A "\n", 72, &err);
		tap_is_int(sc_policy_parse(pol, "two", "sha256:" HEX_B "\nbogus\n", 79,
					   &err),
			   -EINVAL, "a bad second file fails");
		tap_is_int(sc_policy_count(pol), 1, "  and adds none of its entries");
		sc_policy_free(pol);
	}
}

static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi};

	return timegm(&tm);
}

static int check(struct sc_policy *pol, const uint8_t *dig, const char *user,
		 const char *group, const char *const *params, size_t np, time_t now,
		 struct sc_error *err, const char **where)
{
	const char *groups[] = {"users", group};
	struct sc_policy_request req = {
		.digest = dig,
		.user = user,
		.groups = groups,
		.ngroups = group ? 2 : 1,
		.kernel = "6.1.0-56-amd64",
		.params = params,
		.nparams = np,
		.now = now,
	};

	err->msg[0] = '\0';
	return sc_policy_check(pol, &req, where, err);
}

static void test_match(void)
{
	const char *text = "sha256:" HEX_A " # anyone, no params\n"
			   "sha256:" HEX_B " users=alice groups=wheel params=greeting "
			   "expires=2030-06-15\n"
			   "sha256:" HEX_C " kernel=5.10.0-1-amd64,5.10.0-2-amd64\n"
			   "sha256:" HEX_C " users=carol\n";
	const char *p1[] = {"greeting"}, *p2[] = {"greeting", "count"};
	time_t now = utc(2030, 6, 15, 23, 59), later = utc(2030, 6, 16, 0, 0);
	struct sc_policy *pol = sc_policy_new();
	const char *where = NULL;
	struct sc_error err;
	uint8_t none[32] = {0};

	tap_is_int(sc_policy_parse(pol, "ap", text, strlen(text), &err), 0,
		   "match policy parses");
	tap_is_int(check(pol, none, "bob", NULL, NULL, 0, now, &err, NULL), -ENOENT,
		   "an unlisted digest: -ENOENT");
	tap_is_int(check(pol, dig_a, "bob", NULL, NULL, 0, now, &err, &where), 0,
		   "no users=/groups=: anyone");
	tap_is_str(where, "ap:1", "  where names file:line");
	tap_is_int(check(pol, dig_a, "bob", NULL, p1, 1, now, &err, NULL), -EACCES,
		   "no params=: no parameter may be set");
	tap_ok(strstr(err.msg, "parameter greeting is not allowed by entry ap:1") != NULL,
	       "  and says so: %s", err.msg);
	tap_is_int(check(pol, dig_b, "alice", NULL, p1, 1, now, &err, NULL), 0,
		   "a listed user with an allowed parameter");
	tap_is_int(check(pol, dig_b, "bob", "wheel", NULL, 0, now, &err, NULL), 0,
		   "a member of a listed group");
	tap_is_int(check(pol, dig_b, "bob", "staff", NULL, 0, now, &err, NULL), -EACCES,
		   "neither user nor group listed");
	tap_ok(strstr(err.msg,
		      "user bob is not allowed by entry ap:2 (users=alice groups=wheel)") !=
		       NULL,
	       "  and says who is: %s", err.msg);
	tap_is_int(check(pol, dig_b, "alice", NULL, p2, 2, now, &err, NULL), -EACCES,
		   "a parameter outside params=");
	tap_ok(strstr(err.msg,
		      "parameter count is not allowed by entry ap:2 (params=greeting)") !=
		       NULL,
	       "  and names it: %s", err.msg);
	tap_is_int(check(pol, dig_b, "alice", NULL, NULL, 0, now, &err, NULL), 0,
		   "expires= allows the whole day (UTC)");
	tap_is_int(check(pol, dig_b, "alice", NULL, NULL, 0, later, &err, NULL), -EACCES,
		   "expired from the day after");
	tap_ok(strstr(err.msg, "entry ap:2 expired on 2030-06-15") != NULL,
	       "  and says so: %s", err.msg);
	tap_is_int(check(pol, dig_c, "bob", NULL, NULL, 0, now, &err, NULL), -EACCES,
		   "kernel= mismatch");
	tap_ok(strstr(err.msg,
		      "allows kernel=5.10.0-1-amd64,5.10.0-2-amd64, this kernel is "
		      "6.1.0-56-amd64") != NULL,
	       "  and names both: %s", err.msg);
	tap_ok(strstr(err.msg, "1 other entries") != NULL,
	       "  and counts the other entry");
	tap_is_int(check(pol, dig_c, "carol", NULL, NULL, 0, now, &err, &where), 0,
		   "a second entry for the same digest can allow");
	tap_is_str(where, "ap:4", "  and is the one named");
	sc_policy_free(pol);
}

static int check_buf(struct sc_policy *pol, const uint8_t *dig, unsigned bufsize,
		     struct sc_error *err)
{
	struct sc_policy_request req = {
		.digest = dig,
		.user = "bob",
		.kernel = "6.1.0-56-amd64",
		.bufsize = bufsize,
		.now = utc(2030, 1, 1, 0, 0),
	};

	err->msg[0] = '\0';
	return sc_policy_check(pol, &req, NULL, err);
}

static void test_bufsize(void)
{
	const char *text = "sha256:" HEX_A "\n"
			   "sha256:" HEX_B " bufsize=256\n"
			   "sha256:" HEX_C " bufsize=8\n";
	struct sc_policy *pol = sc_policy_new();
	struct sc_error err;

	tap_is_int(sc_policy_parse(pol, "ap", text, strlen(text), &err), 0,
		   "bufsize policy parses");
	tap_is_int(check_buf(pol, dig_a, 0, &err), 0, "no -b: the module's default");
	tap_is_int(check_buf(pol, dig_a, SC_POLICY_BUFSIZE_DEFAULT, &err), 0,
		   "no bufsize=: 64 MiB is allowed");
	tap_is_int(check_buf(pol, dig_a, SC_POLICY_BUFSIZE_DEFAULT + 1, &err), -EACCES,
		   "no bufsize=: 65 MiB is not");
	tap_ok(strstr(err.msg,
		      "a buffer of 65 MiB per CPU is more than entry ap:1 allows "
		      "(it has no bufsize=, so at most 64)") != NULL,
	       "  and says so: %s", err.msg);
	tap_is_int(check_buf(pol, dig_b, 256, &err), 0, "bufsize=256 allows 256 MiB");
	tap_is_int(check_buf(pol, dig_b, 257, &err), -EACCES, "  but not 257");
	tap_ok(strstr(err.msg, "more than entry ap:2 allows (bufsize=256)") != NULL,
	       "  and says so: %s", err.msg);
	tap_is_int(check_buf(pol, dig_c, 16, &err), -EACCES,
		   "bufsize=8 lowers the limit below the default");
	tap_is_int(check_buf(pol, dig_c, 8, &err), 0, "  and allows up to it");
	sc_policy_free(pol);
}

/* ------------------------------------------------------------ trust checks */

static char root[64];

static void put(const char *rel, const char *text, mode_t mode)
{
	char *p = sc_strdupf("%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || sc_write_all(fd, text, strlen(text)) < 0 || fchmod(fd, mode) < 0)
		printf("# cannot write %s\n", p);
	if (fd >= 0)
		close(fd);
	free(p);
}

static int load(const char *rel, struct sc_error *err, size_t *count)
{
	struct sc_policy *pol = sc_policy_new();
	char *dir = sc_strdupf("%s/%s", root, rel);
	int r;

	err->msg[0] = '\0';
	r = sc_policy_load(pol, dir, err);
	*count = sc_policy_count(pol);
	sc_policy_free(pol);
	free(dir);
	return r;
}

static void load_refused(const char *want, const char *name)
{
	struct sc_error err;
	size_t n;
	int r = load("etc/systemtap", &err, &n);

	if (!tap_ok(r == -EPERM && strstr(err.msg, want), "refuses %s", name))
		printf("#   r=%d msg='%s' want '%s'\n", r, err.msg, want);
}

static void chmod_rel(const char *rel, mode_t mode)
{
	char *p = sc_strdupf("%s/%s", root, rel);

	if (chmod(p, mode) < 0)
		printf("# chmod %s failed\n", p);
	free(p);
}

static void test_load(void)
{
	struct sc_error err;
	char *p;
	size_t n = 0;

	if (geteuid() != 0) {
		tap_skip("trust checks need root (files must be root-owned)");
		return;
	}
	strcpy(root, "/tmp/sc-policy.XXXXXX");
	if (!mkdtemp(root)) {
		tap_ok(0, "mkdtemp");
		return;
	}
	chmod(root, 0755);
	tap_is_int(load("etc/systemtap", &err, &n), 0,
		   "a missing directory is an empty policy");
	tap_is_int(n, 0, "  with no entries");
	p = sc_strdupf("%s/etc/systemtap/authorized_probes.d", root);
	sc_mkdir_p(p, 0755);
	free(p);
	put("etc/systemtap/authorized_probes", "sha256:" HEX_A "\n", 0644);
	put("etc/systemtap/authorized_probes.d/10-web", "sha256:" HEX_B "\n", 0600);
	put("etc/systemtap/authorized_probes.d/20-db~", "garbage\n", 0644);
	put("etc/systemtap/authorized_probes.d/.hidden", "garbage\n", 0644);
	put("etc/systemtap/authorized_probes.d/30-x.dpkg-old", "garbage\n", 0644);
	tap_is_int(load("etc/systemtap", &err, &n), 0, "a good policy tree loads");
	tap_is_int(n, 2, "  main file and one drop-in (backups and dot files skipped)");

	chmod_rel("etc/systemtap/authorized_probes", 0664);
	load_refused("authorized_probes: writable by group or others (mode 0664)",
		     "a group-writable policy file");
	chmod_rel("etc/systemtap/authorized_probes", 0646);
	load_refused("writable by group or others (mode 0646)",
		     "an other-writable policy file");
	chmod_rel("etc/systemtap/authorized_probes", 0644);
	p = sc_strdupf("%s/etc/systemtap/authorized_probes", root);
	if (chown(p, 1, 0) < 0)
		printf("# chown failed\n");
	load_refused("authorized_probes: owned by uid 1, not by root",
		     "a file not owned by root");
	if (chown(p, 0, 0) < 0)
		printf("# chown failed\n");
	free(p);

	chmod_rel("etc/systemtap", 0775);
	load_refused("etc/systemtap: writable by group or others (mode 0775)",
		     "a group-writable policy directory");
	chmod_rel("etc/systemtap", 01777);
	load_refused("etc/systemtap: writable by group or others (mode 1777)",
		     "a sticky world-writable policy directory");
	chmod_rel("etc/systemtap", 0755);
	chmod_rel("etc", 0777);
	load_refused("/etc: writable by group or others (mode 0777)",
		     "a world-writable ancestor directory");
	chmod_rel("etc", 01777);
	tap_is_int(load("etc/systemtap", &err, &n), 0,
		   "a root-owned sticky ancestor (like /tmp) is accepted");
	chmod_rel("etc", 0755);

	chmod_rel("etc/systemtap/authorized_probes.d/10-web", 0620);
	load_refused("authorized_probes.d/10-web: writable by group or others",
		     "a group-writable drop-in, naming it");
	chmod_rel("etc/systemtap/authorized_probes.d/10-web", 0600);
	chmod_rel("etc/systemtap/authorized_probes.d", 0757);
	load_refused("authorized_probes.d: writable by group or others",
		     "an other-writable drop-in directory");
	chmod_rel("etc/systemtap/authorized_probes.d", 0755);

	p = sc_strdupf("%s/etc/systemtap/authorized_probes.d/40-link", root);
	if (symlink("10-web", p) < 0)
		printf("# symlink failed\n");
	load_refused("40-link: a symlink", "a symlinked drop-in");
	unlink(p);
	free(p);
	p = sc_strdupf("%s/etc/systemtap/authorized_probes.d/50-fifo", root);
	if (mkfifo(p, 0600) < 0)
		printf("# mkfifo failed\n");
	load_refused("50-fifo: a FIFO, not a regular file",
		     "a FIFO drop-in (without blocking)");
	unlink(p);
	free(p);

	put("etc/systemtap/authorized_probes.d/60-bad", "sha256:" HEX_C " nope=1\n",
	    0644);
	tap_is_int(load("etc/systemtap", &err, &n), -EINVAL,
		   "a bad line in a drop-in fails");
	tap_ok(strstr(err.msg, "authorized_probes.d/60-bad:1: unknown option") != NULL,
	       "  naming file:line: %s", err.msg);
	sc_rm_rf(root);
}

/* The sample etc/authorized_probes: all comments, and its examples are valid. */
static void test_sample(void)
{
	const char *srcdir = getenv("top_srcdir");
	char *path = sc_strdupf("%s/etc/authorized_probes", srcdir ? srcdir : "../..");
	char *text = NULL, *out, *p;
	struct sc_error err;
	size_t len = 0, n = 0;

	if (sc_read_file(path, 1 << 20, &text, &len) < 0) {
		tap_ok(0, "read %s", path);
		free(path);
		return;
	}
	tap_is_int(parse(text, &err, &n), 0, "the sample policy parses");
	tap_is_int(n, 0, "  and allows nothing");
	out = calloc(1, len + 1);
	for (p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) {
		if (!strncmp(p, "# sha256:", 9))
			p += 2;
		strcat(out, p);
		strcat(out, "\n");
	}
	tap_is_int(parse(out, &err, &n), 0,
		   "  its commented-out examples are valid entries");
	tap_ok(n >= 2, "  (%zu of them)", n);
	free(out);
	free(text);
	free(path);
}

int main(void)
{
	sc_unhex_sha256(HEX_A, 64, dig_a);
	sc_unhex_sha256(HEX_B, 64, dig_b);
	sc_unhex_sha256(HEX_C, 64, dig_c);
	test_parse();
	test_match();
	test_bufsize();
	test_load();
	test_sample();
	return tap_done();
}
