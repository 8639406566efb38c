/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache host ...`: keep known_hosts. Every change rewrites the whole file
 * atomically (temp file, fsync, rename) from the parsed entries, so a reader
 * sees the old file or the new one; comments in it are not kept.
 */
#include "build-config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fsutil.h"
#include "host.h"
#include "modinfo.h"
#include "remote.h"
#include "ssh.h"
#include "targets.h"

/* One round trip: release, machine, cpu, and which runners are there. */
static const char probe_cmd[] =
	"uname -r; uname -m; "
	"c=$(sed -n 's/^model name[[:space:]]*: //p; s/^cpu model[[:space:]]*: //p' "
	"/proc/cpuinfo 2>/dev/null | head -n 1); printf '%s\\n' \"${c:-unknown}\"; "
	"for r in staprun-auth staprun sudo; do command -v \"$r\" >/dev/null 2>&1 && "
	"printf '%s ' \"$r\"; done; echo";

static int usage(void)
{
	fprintf(stderr,
		"Usage: stapcache host self [NAME]\n"
		"       stapcache host list [--json]\n"
		"       stapcache host add NAME ssh:[USER@]HOST[:PORT]:auth|sudo|direct "
		"[--group G]...\n"
		"       stapcache host remove NAME\n"
		"       stapcache host refresh NAME|@GROUP|--all\n"
		"       stapcache host accept NAME SHA256:FINGERPRINT\n"
		"Targets live in $XDG_CONFIG_HOME/stapcache/known_hosts "
		"(stapcache-known_hosts(5)).\n");
	return 2;
}

static char *cpu_model(void)
{
	char *buf = NULL, *p, *e;
	size_t len;

	if (sc_read_file("/proc/cpuinfo", 1u << 20, &buf, &len) == 0 &&
	    (p = strstr(buf, "model name")) && (p = strchr(p, ':'))) {
		p += 1 + strspn(p + 1, " \t");
		e = strchr(p, '\n');
		if (e)
			*e = '\0';
		p = sc_strdupf("%s", p);
		free(buf);
		return p;
	}
	free(buf);
	return sc_strdupf("unknown");
}

static int host_self(int argc, char **argv)
{
	struct sc_target t = {0};
	struct utsname u;
	struct stat st;
	char host[256], *tree, *out;
	const char *runner = "direct", *user = getenv("USER");

	if (uname(&u) < 0 || gethostname(host, sizeof(host)) < 0)
		return 1;
	host[sizeof(host) - 1] = '\0';
	if (stat(BINDIR "/staprun-auth", &st) == 0 && (st.st_mode & S_ISUID) &&
	    st.st_uid == 0)
		runner = "auth";
	else if (getuid() != 0 && access("/usr/bin/sudo", X_OK) == 0)
		runner = "sudo";
	t.name = sc_strdupf("%s", argc > 1 ? argv[1] : host);
	if (!sc_target_name_ok(t.name)) {
		fprintf(stderr, "stapcache: host self: '%s' is not a target name\n",
			t.name);
		free(t.name);
		return 2;
	}
	t.execute =
		sc_strdupf("ssh:%s@%s:%s", user && *user ? user : "root", host, runner);
	t.kernel = u.release;
	t.arch = u.machine;
	t.cpu = cpu_model();
	tree = sc_strdupf("/lib/modules/%s/build", u.release);
	if (access(tree, F_OK) == 0)
		t.build_tree = tree;
	out = sc_target_format(&t);
	fputs(out, stdout);
	free(out);
	free(tree);
	free(t.cpu);
	free(t.name);
	free(t.execute);
	return 0;
}

/* The targets as a JSON array (json-c), one object a target. */
static int host_list_json(const struct sc_targets *all)
{
	json_object *a = json_object_new_array();
	int r;

	for (size_t i = 0; i < all->n; i++) {
		const struct sc_target *t = &all->v[i];
		const char *k[] = {"name", "execute",    "kernel",  "arch",
				   "cpu",  "build-tree", "runtime", "sysroot"};
		const char *v[] = {t->name, t->execute,    t->kernel,  t->arch,
				   t->cpu,  t->build_tree, t->runtime, t->sysroot};
		json_object *o = json_object_new_object(), *g = json_object_new_array();

		for (size_t f = 0; f < 8; f++)
			if (v[f])
				json_object_object_add(o, k[f],
						       json_object_new_string(v[f]));
		for (size_t j = 0; j < t->ngroups; j++)
			json_object_array_add(g, json_object_new_string(t->groups[j]));
		json_object_object_add(o, "groups", g);
		json_object_array_add(a, o);
	}
	r = puts(json_object_to_json_string_ext(a,
						JSON_C_TO_STRING_PRETTY |
							JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
	return r < 0 || fflush(stdout) != 0 ? 1 : 0;
}

static int host_list(const struct sc_targets *all, bool json)
{
	if (json)
		return host_list_json(all);
	printf("%-20s %-40s %-24s %-8s %s\n", "NAME", "EXECUTE", "KERNEL", "ARCH",
	       "GROUPS");
	for (size_t i = 0; i < all->n; i++) {
		const struct sc_target *t = &all->v[i];

		printf("%-20s %-40s %-24s %-8s ", t->name, t->execute, t->kernel,
		       t->arch);
		for (size_t g = 0; g < t->ngroups; g++)
			printf("%s%s", g ? "," : "", t->groups[g]);
		printf("%s\n", t->ngroups ? "" : "-");
	}
	return 0;
}

/* Rewrite the file from entries (all of them but skip, which may be NULL). */
static int save(const char *path, const struct sc_targets *all,
		const struct sc_target *skip)
{
	char *text = sc_strdupf("# stapcache known_hosts (stapcache-known_hosts(5))\n"),
	     *n;
	char *dir = sc_strdupf("%s", path), *slash = strrchr(dir, '/');
	bool replaced = false;
	int r;

	for (size_t i = 0; i < all->n; i++) {
		char *e;

		if (&all->v[i] == skip)
			continue;
		e = sc_target_format(&all->v[i]);
		n = sc_strdupf("%s%s", text, e);
		free(e);
		free(text);
		text = n;
	}
	if (slash)
		*slash = '\0';
	r = sc_mkdir_p(dir, 0755);
	if (r == 0)
		r = sc_write_file_atomic(path, text, strlen(text), 0644, &replaced);
	if (r < 0 && replaced) {
		/* The new file is in place; only its directory entry may not survive a crash. */
		fprintf(stderr, "stapcache: warning: %s: cannot sync its directory: %s\n",
			path, strerror(-r));
		r = 0;
	}
	if (r < 0)
		fprintf(stderr, "stapcache: cannot write %s: %s\n", path, strerror(-r));
	free(dir);
	free(text);
	return r;
}

/* 1 when word is one of the space-separated words of list. */
static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * Ask a target for its release, arch and cpu (each checked: targets.h), and
 * whether its runner is there.
 */
static int probe(const char *name, const struct sc_execute *ex, bool quiet, char **kernel,
		 char **arch, char **cpu)
{
	struct sc_ssh_opts o = {.name = name,
				.connect_timeout = SC_REMOTE_DEFAULT_CONNECT_TIMEOUT};
	static const char *const need[] = {"staprun-auth", "staprun", "staprun"};
	static const char *const runners[] = {"staprun-auth", "staprun", "sudo"};
	struct sc_error err = {{0}};
	struct sc_ssh *s = NULL;
	char *out = NULL, *l[4] = {0}, *save_p = NULL, found[64];
	int st, r;

	sc_remote_env(&o);
	r = sc_ssh_connect(ex, &o, &s, &err);
	if (r == 0)
		r = sc_ssh_exec(s, probe_cmd, NULL, 0, &out, &st, &err);
	sc_ssh_free(s);
	if (r != 0 || st != 0) { /* 0 or -errno: st is set whenever r is 0 */
		fprintf(stderr, "stapcache: %s\n", err.msg);
		free(out);
		return r < 0 ? r : -EIO;
	}
	for (int i = 0; i < 4; i++)
		l[i] = strtok_r(i ? NULL : out, "\n", &save_p);
	if (!l[0] || !l[1] || !l[2]) {
		fprintf(stderr, "stapcache: %s: unexpected answer to uname -r/-m\n",
			name);
		free(out);
		return -EIO;
	}
	/* Nothing a target says is saved (or shown raw) before it is checked. */
	if (!sc_release_ok(l[0]) || !sc_target_arch_ok(l[1]) || !sc_target_cpu_ok(l[2])) {
		int bad = !sc_release_ok(l[0]) ? 0 : !sc_target_arch_ok(l[1]) ? 1 : 2;
		static const char *const what[] =
			{"kernel release (uname -r; 1-64 of A-Z a-z 0-9 . _ + ~ -)",
			 "architecture (uname -m; 1-32 of A-Z a-z 0-9 _)",
			 "cpu model (1-128 printable ASCII characters)"};
		char v[81];
		size_t i;

		for (i = 0; l[bad][i] && i + 1 < sizeof(v); i++)
			v[i] = l[bad][i] < 0x20 || l[bad][i] > 0x7e ? '?' : l[bad][i];
		v[i] = '\0';
		fprintf(stderr,
			"stapcache: %s: refusing what it reports as its %s: '%s' is not "
			"one; nothing was saved\n",
			name, what[bad], v);
		free(out);
		return -EINVAL;
	}
	found[0] = '\0';
	for (size_t i = 0; l[3] && i < sizeof(runners) / sizeof(runners[0]); i++)
		if (has_word(l[3], runners[i]))
			snprintf(found + strlen(found), sizeof(found) - strlen(found),
				 "%s%s", found[0] ? " " : "", runners[i]);
	if (quiet)
		; /* the run will say it, if the runner is missing */
	else if (!has_word(found, need[ex->runner]) ||
		 (ex->runner == SC_RUNNER_SUDO && !has_word(found, "sudo")))
		fprintf(stderr,
			"stapcache: warning: %s: runner '%s' not found there "
			"(found: %s)\n",
			name, sc_runner_name(ex->runner), found[0] ? found : "none");
	*kernel = sc_strdupf("%s", l[0]);
	*arch = sc_strdupf("%s", l[1]);
	*cpu = sc_strdupf("%s", l[2]);
	free(out);
	return 0;
}

/*
 * host add NAME EXECUTE [--group G]...: ask the host, append its entry. With
 * probe_only (host probe, for --remote's ad-hoc targets): print the entry
 * only, save nothing, and warn about nothing (stdout is parsed).
 */
static int host_add(struct sc_targets *all, const char *path, int argc, char **argv,
		    bool probe_only)
{
	struct sc_target t = {0};
	struct sc_error err = {{0}};
	struct sc_targets one = {0};
	char *entry;
	int r = 1;

	if (argc < 3)
		return usage();
	if (!sc_target_name_ok(argv[1])) {
		fprintf(stderr, "stapcache: host add: '%s' is not a target name\n",
			argv[1]);
		return 2;
	}
	if (!probe_only && sc_targets_find(all, argv[1])) {
		fprintf(stderr,
			"stapcache: host add: %s is already in %s (%s); "
			"use host refresh %s\n",
			argv[1], path, sc_targets_find(all, argv[1])->origin, argv[1]);
		return 1;
	}
	if (sc_execute_parse(argv[2], &t.ex, &err) < 0) {
		fprintf(stderr, "stapcache: host add: %s\n", err.msg);
		return 2;
	}
	t.name = sc_strdupf("%s", argv[1]);
	t.execute = sc_strdupf("%s", argv[2]);
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--group") || i + 1 >= argc ||
		    !sc_target_name_ok(argv[i + 1])) {
			fprintf(stderr, "stapcache: host add: unexpected '%s'\n",
				argv[i]);
			goto out;
		}
		t.groups = realloc(t.groups, (t.ngroups + 1) * sizeof(*t.groups));
		t.groups[t.ngroups++] = sc_strdupf("%s", argv[++i]);
	}
	if (probe(t.name, &t.ex, probe_only, &t.kernel, &t.arch, &t.cpu) < 0)
		goto out;
	/* Through the parser once more: what is saved is what will be read. */
	entry = sc_target_format(&t);
	if (sc_targets_parse("new entry", entry, strlen(entry), &one, &err) < 0) {
		fprintf(stderr, "stapcache: host add: %s\n", err.msg);
		free(entry);
		goto out;
	}
	if (probe_only) {
		fputs(entry, stdout);
		r = fflush(stdout) == 0 ? 0 : 1;
		sc_targets_clear(&one);
		free(entry);
		goto out;
	}
	all->v = realloc(all->v, (all->n + 1) * sizeof(*all->v));
	all->v[all->n++] = one.v[0];
	one.n = 0;
	if (save(path, all, NULL) == 0) {
		fputs(entry, stdout);
		r = 0;
	}
	free(entry);
out:
	free(one.v);
	sc_execute_clear(&t.ex);
	free(t.name);
	free(t.execute);
	free(t.kernel);
	free(t.arch);
	free(t.cpu);
	for (size_t g = 0; g < t.ngroups; g++)
		free(t.groups[g]);
	free(t.groups);
	return r;
}

static int host_refresh(struct sc_targets *all, const char *path, const char *spec)
{
	struct sc_error err = {{0}};
	size_t *idx = NULL, n = 0, changed = 0;
	int failed = 0;

	if (!strcmp(spec, "--all")) {
		idx = calloc(all->n + 1, sizeof(*idx));
		for (n = 0; n < all->n; n++)
			idx[n] = n;
	} else if (sc_targets_select(all, &spec, 1, &idx, &n, &err) < 0) {
		fprintf(stderr, "stapcache: host refresh: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct sc_target *t = &all->v[idx[i]];
		char *k, *a, *c;

		if (probe(t->name, &t->ex, false, &k, &a, &c) < 0) {
			failed++;
			continue;
		}
		if (strcmp(k, t->kernel) || strcmp(a, t->arch) || strcmp(c, t->cpu)) {
			printf("%s: kernel %s -> %s, arch %s -> %s\n", t->name, t->kernel,
			       k, t->arch, a);
			changed++;
		} else {
			printf("%s: unchanged (%s)\n", t->name, k);
		}
		free(t->kernel);
		free(t->arch);
		free(t->cpu);
		t->kernel = k;
		t->arch = a;
		t->cpu = c;
	}
	free(idx);
	if (changed && save(path, all, NULL) < 0)
		return 1;
	return failed ? 1 : 0;
}

static int host_accept(const struct sc_targets *all, int argc, char **argv)
{
	struct sc_ssh_opts o = {.connect_timeout = SC_REMOTE_DEFAULT_CONNECT_TIMEOUT};
	struct sc_error err = {{0}};
	struct sc_ssh *s = NULL;
	const struct sc_target *t;
	int r;

	if (argc != 3 || strncmp(argv[2], "SHA256:", 7) != 0)
		return usage();
	t = sc_targets_find(all, argv[1]);
	if (!t) {
		fprintf(stderr, "stapcache: host accept: no target %s in known_hosts\n",
			argv[1]);
		return 1;
	}
	sc_remote_env(&o);
	o.name = t->name;
	o.accept_fp = argv[2];
	r = sc_ssh_connect(&t->ex, &o, &s, &err);
	if (r == SC_SSH_EHOSTKEY || r == SC_SSH_ECONNECT) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	printf("%s: host key %s is in %s/known_hosts\n", t->name, argv[2], o.ssh_dir);
	if (r < 0)
		fprintf(stderr, "stapcache: but: %s\n", err.msg);
	sc_ssh_free(s);
	return r < 0 ? 1 : 0;
}

int sc_cmd_host(int argc, char **argv)
{
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	char *path;
	int status = 2;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage();
	if (!strcmp(argv[1], "self"))
		return argc <= 3 ? host_self(argc - 1, argv + 1) : usage();
	path = sc_remote_known_hosts();
	if (sc_targets_load(path, &all, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		free(path);
		return 1;
	}
	if (!strcmp(argv[1], "list") && argc <= 3) {
		if (argc == 3 && strcmp(argv[2], "--json"))
			status = usage();
		else
			status = host_list(&all, argc == 3);
	} else if (!strcmp(argv[1], "add")) {
		status = host_add(&all, path, argc - 1, argv + 1, false);
	} else if (!strcmp(argv[1], "probe")) {
		status = host_add(&all, path, argc - 1, argv + 1, true);
	} else if (!strcmp(argv[1], "remove") && argc == 3) {
		const struct sc_target *t = sc_targets_find(&all, argv[2]);

		if (!t) {
			fprintf(stderr, "stapcache: host remove: no target %s in %s\n",
				argv[2], path);
			status = 1;
		} else {
			status = save(path, &all, t) < 0;
		}
	} else if (!strcmp(argv[1], "refresh") && argc == 3) {
		status = host_refresh(&all, path, argv[2]);
	} else if (!strcmp(argv[1], "accept")) {
		status = host_accept(&all, argc - 1, argv + 1);
	} else {
		status = usage();
	}
	sc_targets_clear(&all);
	free(path);
	return status;
}
