/* SPDX-License-Identifier: GPL-2.0-or-later */
/* known_hosts: both forms, groups, and every kind of malformed entry. */
#include "build-config.h"

#include <errno.h>

#include "common/fsutil.h"
#include "tests/lib/tap.h"
#include "remote/targets.h"

static int parse(const char *text, struct sc_targets *t, struct sc_error *err)
{
	memset(err, 0, sizeof(*err));
	return sc_targets_parse("kh", text, strlen(text), t, err);
}

/* A malformed text must fail, leave nothing behind, and name the line. */
static void bad(const char *text, const char *want_in_msg, const char *what)
{
	struct sc_targets t = {0};
	struct sc_error err;
	int r = parse(text, &t, &err);

	if (!tap_ok(r == -EINVAL && t.n == 0 && strstr(err.msg, want_in_msg),
		    "refused: %s", what))
		printf("#   r=%d n=%zu msg='%s' want '%s'\n", r, t.n, err.msg,
		       want_in_msg);
	sc_targets_clear(&t);
}

static void test_yaml(void)
{
	struct sc_targets t = {0};
	struct sc_error err;
	const char *text = "# fleet\n"
			   "- name: web1\n"
			   "  execute: ssh:ops@web1.example.com:2222:auth\n"
			   "  kernel: 6.1.0-57-amd64\n"
			   "  arch: x86_64\n"
			   "  cpu: \"Intel(R) Xeon(R): 8 cores\"\n"
			   "  build-tree: /srv/trees/57\n"
			   "  groups: [web, prod]\n"
			   "- name: db1\n"
			   "  execute: ssh:[::1]:22:sudo\n"
			   "  kernel: 6.1.0-56-cloud-amd64\n"
			   "  arch: x86_64\n"
			   "  cpu: qemu64\n"
			   "  runtime: /var/lib/stapcache/runtime/4.8-fixed\n"
			   "  groups:\n"
			   "    - prod\n"
			   "---\n"
			   "- name: lab\n"
			   "  execute: ssh:lab:direct\n"
			   "  kernel: 6.12.0-1-amd64\n"
			   "  arch: aarch64\n"
			   "  cpu: cortex-a72\n";

	tap_is_int(parse(text, &t, &err), 0,
		   "yaml: a fleet file with two documents parses");
	if (err.msg[0])
		printf("#   %s\n", err.msg);
	tap_is_int(t.n, 3, "yaml: three targets");
	if (t.n != 3)
		return;
	tap_is_str(t.v[0].name, "web1", "yaml: name");
	tap_is_str(t.v[0].ex.user, "ops", "yaml: user");
	tap_is_str(t.v[0].ex.host, "web1.example.com", "yaml: host");
	tap_is_int(t.v[0].ex.port, 2222, "yaml: port");
	tap_is_int(t.v[0].ex.runner, SC_RUNNER_AUTH, "yaml: runner auth");
	tap_is_str(t.v[0].cpu, "Intel(R) Xeon(R): 8 cores", "yaml: quoted cpu");
	tap_is_str(t.v[0].build_tree, "/srv/trees/57", "yaml: build-tree");
	tap_is_int(t.v[0].ngroups, 2, "yaml: two groups");
	tap_is_str(t.v[0].origin, "kh:2", "yaml: origin is file:line");
	tap_is_str(t.v[1].ex.host, "::1", "yaml: [v6] host");
	tap_is_int(t.v[1].ex.runner, SC_RUNNER_SUDO, "yaml: runner sudo");
	tap_ok(t.v[1].ex.user == NULL, "yaml: no user means ssh's default");
	tap_is_str(t.v[1].runtime, "/var/lib/stapcache/runtime/4.8-fixed",
		   "yaml: runtime");
	tap_is_str(t.v[2].ex.host, "lab", "yaml: alias host, no port");
	tap_is_int(t.v[2].ex.port, 0, "yaml: no port is 0");
	tap_is_str(t.v[2].origin, "kh:18", "yaml: second document keeps its lines");

	{
		const char *specs[] = {"@prod", "web1", "lab"};
		size_t *idx = NULL, n = 0;

		tap_is_int(sc_targets_select(&t, specs, 3, &idx, &n, &err), 0,
			   "select: ok");
		tap_is_int(n, 3, "select: @prod + web1 + lab, duplicates dropped");
		if (n == 3)
			tap_ok(idx[0] == 0 && idx[1] == 1 && idx[2] == 2,
			       "select: in order");
		free(idx);
		specs[0] = "@nosuch";
		tap_is_int(sc_targets_select(&t, specs, 1, &idx, &n, &err), -ENOENT,
			   "select: empty group refused");
		tap_ok(strstr(err.msg, "group 'nosuch'") != NULL,
		       "select: says which group");
		specs[0] = "web9";
		tap_is_int(sc_targets_select(&t, specs, 1, &idx, &n, &err), -ENOENT,
			   "select: unknown name refused");
		tap_ok(strstr(err.msg, "host add web9") != NULL,
		       "select: hints host add");
	}

	/* What sc_target_format writes parses back to the same entry. */
	{
		struct sc_targets back = {0};
		char *all = NULL;

		for (size_t i = 0; i < t.n; i++) {
			char *e = sc_target_format(&t.v[i]), *n2;

			n2 = sc_strdupf("%s%s", all ? all : "", e);
			free(all);
			free(e);
			all = n2;
		}
		tap_is_int(sc_targets_parse("fmt", all, strlen(all), &back, &err), 0,
			   "format: round trip parses");
		if (back.n == 3) {
			tap_is_str(back.v[0].cpu, t.v[0].cpu,
				   "format: cpu survives quoting");
			tap_is_str(back.v[1].execute, t.v[1].execute, "format: execute");
			tap_is_int(back.v[1].ngroups, 1, "format: groups");
		} else {
			tap_ok(0, "format: three entries back (got %zu: %s)", back.n,
			       err.msg);
		}
		free(all);
		sc_targets_clear(&back);
	}

	/* Appending a file that redefines a name fails and keeps the first file's. */
	tap_is_int(parse("- name: web1\n  execute: ssh:x:auth\n  kernel: k\n  arch: a\n  "
			 "cpu: c\n",
			 &t, &err),
		   -EINVAL, "duplicate across files refused");
	tap_ok(strstr(err.msg, "kh:1: target 'web1' is already defined at kh:2") != NULL,
	       "duplicate names both places");
	tap_is_int(t.n, 3, "duplicate: earlier entries kept");
	sc_targets_clear(&t);
}

static void test_lines(void)
{
	struct sc_targets t = {0};
	struct sc_error err;
	const char *text =
		"# one-line form\n"
		"\n"
		"web2 execute=ssh:root@10.0.0.2:auth kernel=6.1.0-57-amd64 arch=x86_64 "
		"cpu=Xeon groups=web,prod  # comment\n"
		"  vm execute=ssh:scuser@127.0.0.1:2201:direct kernel=6.1.0-57-amd64 "
		"arch=x86_64 cpu=qemu64 build-tree=/t\n";

	tap_is_int(parse(text, &t, &err), 0, "lines: parse");
	if (err.msg[0])
		printf("#   %s\n", err.msg);
	tap_is_int(t.n, 2, "lines: two targets");
	if (t.n == 2) {
		tap_is_str(t.v[0].name, "web2", "lines: name");
		tap_is_int(t.v[0].ngroups, 2, "lines: groups=a,b");
		tap_is_str(t.v[0].groups[1], "prod", "lines: second group");
		tap_is_str(t.v[1].origin, "kh:4", "lines: origin");
		tap_is_int(t.v[1].ex.port, 2201, "lines: port");
		tap_is_int(t.v[1].ex.runner, SC_RUNNER_DIRECT, "lines: direct");
		tap_is_str(t.v[1].build_tree, "/t", "lines: build-tree");
	}
	sc_targets_clear(&t);
}

/* cpu is informational: optional. A sysroot names where the build tree is. */
static void test_optional(void)
{
	struct sc_targets t = {0};
	struct sc_error err;
	char *tree;

	tap_is_int(parse("- name: a\n  execute: ssh:h:auth\n  kernel: 6.1.0-57-amd64\n"
			 "  arch: x86_64\n  sysroot: /srv/roots/a//\n",
			 &t, &err),
		   0, "an entry without cpu parses (cpu is optional)");
	if (t.n == 1) {
		tap_ok(t.v[0].cpu == NULL, "  and has no cpu");
		tree = sc_target_sysroot_tree(&t.v[0]);
		tap_is_str(tree, "/srv/roots/a/lib/modules/6.1.0-57-amd64/build",
			   "  its sysroot's build tree for its kernel");
		free(tree);
		tree = sc_target_format(&t.v[0]);
		tap_ok(!strstr(tree, "cpu"), "  written back without a cpu");
		free(tree);
	} else {
		tap_ok(0, "  and has no cpu");
		tap_ok(0, "  its sysroot's build tree for its kernel");
		tap_ok(0, "  written back without a cpu");
	}
	sc_targets_clear(&t);
}

static void test_bad(void)
{
	const char *ok_tail = "  kernel: k\n  arch: a\n  cpu: c\n";
	char buf[512];

	bad("- name: a\n  kernel: k\n  arch: a\n  cpu: c\n",
	    "kh:1: entry a has no 'execute'", "missing execute");
	bad("- name: a\n  execute: ssh:h:auth\n  arch: a\n  cpu: c\n", "has no 'kernel'",
	    "missing kernel");
	bad("- name: a\n  execute: ssh:h:auth\n  kernel: k\n  arch: a\n  sysroot: srv/a\n",
	    "kh:1: sysroot 'srv/a' must be an absolute path", "a relative sysroot");
	snprintf(buf, sizeof(buf), "- name: a\n  execute: ssh:h:root\n%s", ok_tail);
	bad(buf, "unknown runner 'root'", "unknown runner");
	snprintf(buf, sizeof(buf), "- name: a\n  execute: h:auth\n%s", ok_tail);
	bad(buf, "kh:1: execute 'h:auth': expected ssh:", "execute without ssh:");
	snprintf(buf, sizeof(buf), "- name: a\n  execute: ssh:h:99999:auth\n%s", ok_tail);
	bad(buf, "bad port '99999'", "port out of range");
	snprintf(buf, sizeof(buf), "- name: a\n  execute: ssh:h:22x:auth\n%s", ok_tail);
	bad(buf, "bad port '22x'", "port not a number");
	snprintf(buf, sizeof(buf), "- name: a\n  execute: \"ssh:u@h;rm -rf /:auth\"\n%s",
		 ok_tail);
	bad(buf, "bad host", "shell metacharacters in host");
	snprintf(buf, sizeof(buf),
		 "- name: a\n  execute: \"ssh:-oProxyCommand=x@h:auth\"\n%s", ok_tail);
	bad(buf, "bad user name", "option-like user");
	snprintf(buf, sizeof(buf), "- name: a\n  execute: ssh:-oProxyCommand=x:auth\n%s",
		 ok_tail);
	bad(buf, "bad host", "option-like host");
	snprintf(buf, sizeof(buf), "- name: a b\n  execute: ssh:h:auth\n%s", ok_tail);
	bad(buf, "bad target name 'a b'", "name with a space");
	snprintf(buf, sizeof(buf), "- name: a\n  execute: ssh:h:auth\n  colour: red\n%s",
		 ok_tail);
	bad(buf, "kh:3: unknown key 'colour'", "unknown key, with its line");
	snprintf(buf, sizeof(buf), "- name: a\n  name: b\n  execute: ssh:h:auth\n%s",
		 ok_tail);
	bad(buf, "kh:2: 'name' is set twice", "key twice");
	snprintf(buf, sizeof(buf), "- name: a\n  execute: ssh:h:auth\n  groups: web\n%s",
		 ok_tail);
	bad(buf, "'groups' must be a list", "groups as a scalar");
	snprintf(buf, sizeof(buf),
		 "- name: a\n  execute: ssh:h:auth\n  groups: [\"a b\"]\n%s", ok_tail);
	bad(buf, "bad group name 'a b'", "bad group name");
	snprintf(buf, sizeof(buf), "- name: a\n  execute: [ssh]\n%s", ok_tail);
	bad(buf, "'execute' must be a single value", "execute as a list");
	snprintf(buf, sizeof(buf),
		 "- name: a\n  execute: ssh:h:auth\n  kernel: /usr/src/x\n"
		 "  arch: a\n  cpu: c\n");
	bad(buf, "must be a release", "a path as kernel");
	snprintf(buf, sizeof(buf),
		 "- name: a\n  execute: ssh:h:auth\n  kernel: \"\"\n"
		 "  arch: a\n  cpu: c\n");
	bad(buf, "'kernel' must not be empty", "empty kernel");
	snprintf(buf, sizeof(buf),
		 "- name: a\n  execute: ssh:h:auth\n  build-root: rel/dir\n%s", ok_tail);
	bad(buf, "build-root 'rel/dir' must be an absolute directory",
	    "a relative build-root");
	snprintf(buf, sizeof(buf),
		 "- name: a\n  execute: ssh:h:auth\n  build-root: /r\n  build-tree: /t\n%s",
		 ok_tail);
	bad(buf, "takes its kernel tree from it (no build-tree, no sysroot)",
	    "build-root with build-tree");
	snprintf(buf, sizeof(buf),
		 "- name: a\n  execute: ssh:h:auth\n  build-root: /r\n  sysroot: /s\n%s",
		 ok_tail);
	bad(buf, "(no build-tree, no sysroot)", "build-root with sysroot");
	snprintf(buf, sizeof(buf),
		 "- name: a\n  execute: ssh:h:auth\n  build-root: \"x\\e[2J\"\n%s",
		 ok_tail);
	bad(buf, "kh:3: 'build-root' holds a control character",
	    "a build-root with an escape");
	bad("- name: a\n  execute: ssh:h:auth\n  kernel: k\n  arch: a\n  cpu: c\n"
	    "- name: a\n  execute: ssh:h2:auth\n  kernel: k\n  arch: a\n  cpu: c\n",
	    "kh:6: target 'a' is already defined at kh:1", "duplicate name in one file");
	bad("- name: a\n  execute: ssh:h:auth\n  kernel: k\n  arch: a\n  cpu: c\n- just words\n",
	    "kh:6: expected a target", "a scalar item");
	bad("- name: a\n  execute: [ssh:h:auth\n", "kh:", "YAML syntax error");
	bad("-\n  name: a\n  bad indentation: : :\n x\n", "kh:", "broken YAML");
	bad("a execute=ssh:h:auth kernel=k arch=a cpu=c\nb execute=ssh:h:auth kernel arch=a\n",
	    "kh:2: 'kernel': expected key=value", "lines: word without =");
	bad("a execute=ssh:h:auth arch=a\n", "kh:1: entry a has no 'kernel'",
	    "lines: missing kernel");
	bad("a=b execute=ssh:h:auth\n", "kh:1: a line starts with the target's NAME",
	    "lines: no name");
	bad("a execute=ssh:h:auth kernel=k arch=a cpu=c colour=red\n",
	    "unknown key 'colour'", "lines: unknown key");
	{
		struct sc_targets t = {0};
		struct sc_error err;

		tap_is_int(sc_targets_parse("kh", "a\0b", 3, &t, &err), -EINVAL,
			   "refused: NUL byte");
		tap_is_int(parse("", &t, &err), 0, "empty file: no targets");
		tap_is_int(parse("# nothing\n\n", &t, &err), 0,
			   "comments only: no targets");
		tap_is_int(t.n, 0, "still none");
		tap_is_int(sc_targets_load("/nonexistent/known_hosts", &t, &err), 0,
			   "missing file: no targets");
	}
}

static void test_execute(void)
{
	struct sc_execute ex;
	struct sc_error err;

	tap_is_int(sc_execute_parse("ssh:u@h:auth", &ex, &err), 0, "execute: minimal");
	tap_ok(ex.port == 0 && !strcmp(ex.user, "u"), "execute: user, default port");
	sc_execute_clear(&ex);
	tap_is_int(sc_execute_parse("ssh:[fe80::1%eth0]:2200:direct", &ex, &err), 0,
		   "execute: scoped v6 address");
	tap_ok(ex.port == 2200 && !strcmp(ex.host, "fe80::1%eth0"), "execute: v6 port");
	sc_execute_clear(&ex);
	tap_is_int(sc_execute_parse("ssh:u@:auth", &ex, &err), -EINVAL,
		   "execute: no host");
	tap_is_int(sc_execute_parse("ssh:auth", &ex, &err), -EINVAL,
		   "execute: runner only");
	tap_is_int(sc_execute_parse("ssh:h::auth", &ex, &err), -EINVAL,
		   "execute: empty port");
	tap_is_int(sc_execute_parse("ssh:[::1]x:auth", &ex, &err), -EINVAL,
		   "execute: junk after ]");
	tap_ok(sc_target_name_ok("web-1.prod_2") && !sc_target_name_ok("-x") &&
		       !sc_target_name_ok("a=b") && !sc_target_name_ok(""),
	       "names: allowed characters only");
}

int main(void)
{
	test_yaml();
	test_lines();
	test_optional();
	test_bad();
	test_execute();
	return tap_done();
}
