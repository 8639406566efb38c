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

#include "common/fsutil.h"
#include "common/spawn.h"
#include "common/modinfo.h"
#include "core/cmdopt.h"
#include "remote/helper/host-admin.h"
#include "remote/helper/host-import.h"
#include "remote/helper/helper.h"
#include "remote/helper/ssh.h"
#include "remote/hostfacts.h"
#include "remote/targets.h"

/* One round trip: release, machine, cpu, and which runners are there. */
static const char probe_cmd[] =
	"uname -r; uname -m; "
	"c=$(sed -n 's/^model name[[:space:]]*: //p; s/^cpu model[[:space:]]*: //p' "
	"/proc/cpuinfo 2>/dev/null | head -n 1); printf '%s\\n' \"${c:-unknown}\"; "
	"for r in staprun-auth staprun sudo; do command -v \"$r\" >/dev/null 2>&1 && "
	"printf '%s ' \"$r\"; done; echo";

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

/* What a host verb was given: its spec (for usage errors), operands, options. */
struct host_args {
	const struct sc_cmdopt_spec *spec;
	char **ops;
	int nops;
	bool json, all;
	struct sc_strv groups;
	char *accept; /* host add --accept SHA256:... */
};

/* This host's module-signature facts (hostfacts.h), into t. */
static void local_facts(struct sc_target *t)
{
	const char *argv[] = {"/bin/sh", "-c", sc_hostfacts_script, NULL};
	char *out = NULL;

	if (sc_run_capture(argv, 4 * SC_EFIVAR_MAX, &out) == 0 &&
	    sc_hostfacts_apply(out, t) == -EBADMSG)
		fprintf(stderr,
			"stapcache: warning: this host's UEFI db or MOK list is not a "
			"signature list; its module-signers are left out\n");
	free(out);
}

/* "signatures required (lockdown integrity, ...), N trusted signers": a target's facts. */
static char *facts_text(const struct sc_target *t)
{
	char *why = sc_target_enforcement(t), *signers, *out;

	signers = !t->signers ? sc_strdupf("trusted signers not readable")
		  : t->nsigners == 1
			  ? sc_strdupf("1 trusted signer in its UEFI db/MOK list")
			  : sc_strdupf("%zu trusted signers in its UEFI db/MOK list",
				       t->nsigners);
	if (*why)
		out = sc_strdupf("module signatures required (%s), %s", why, signers);
	else if (!t->lockdown && !t->sig_enforce && !t->secure_boot)
		out = sc_strdupf("module signatures: not known (nothing readable)");
	else
		out = sc_strdupf("module signatures not required, %s", signers);
	free(why);
	free(signers);
	return out;
}

/* host self [NAME]: this host's entry, for another machine's known_hosts. */
static int host_self(const struct host_args *a, const struct sc_helper_env *env)
{
	struct sc_target t = {0};
	struct utsname u;
	struct stat st;
	char host[256], *tree, *out;
	const char *runner = "direct", *user = env->user;

	if (a->nops && !sc_target_name_ok(a->ops[0]))
		return sc_cmdopt_usage_error(a->spec, "'%s' is not a target name",
					     a->ops[0]);
	if (uname(&u) < 0 || gethostname(host, sizeof(host)) < 0)
		return 1;
	host[sizeof(host) - 1] = '\0';
	if (stat(BINDIR "/staprun-auth", &st) == 0 && (st.st_mode & S_ISUID) &&
	    st.st_uid == 0)
		runner = "auth";
	else if (getuid() != 0 && access("/usr/bin/sudo", X_OK) == 0)
		runner = "sudo";
	t.name = sc_strdupf("%s", a->nops ? a->ops[0] : host);
	t.execute =
		sc_strdupf("ssh:%s@%s:%s", user && *user ? user : "root", host, runner);
	t.kernel = u.release;
	t.arch = u.machine;
	t.cpu = cpu_model();
	tree = sc_strdupf("/lib/modules/%s/build", u.release);
	if (access(tree, F_OK) == 0)
		t.build_tree = tree;
	local_facts(&t);
	out = sc_target_format(&t);
	fputs(out, stdout);
	free(out);
	free(tree);
	free(t.lockdown);
	free(t.sig_enforce);
	free(t.secure_boot);
	for (size_t i = 0; i < t.nsigners; i++)
		free(t.signers[i]);
	free(t.signers);
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
		const char *k[] = {"name",       "execute", "kernel",  "arch",      "cpu",
				   "build-tree", "runtime", "sysroot", "build-root"};
		const char *v[] = {t->name,    t->execute, t->kernel,
				   t->arch,    t->cpu,     t->build_tree,
				   t->runtime, t->sysroot, t->build_root};
		json_object *o = json_object_new_object(), *g = json_object_new_array();

		for (size_t f = 0; f < sizeof(k) / sizeof(k[0]); f++)
			if (v[f])
				json_object_object_add(o, k[f],
						       json_object_new_string(v[f]));
		for (size_t j = 0; j < t->ngroups; j++)
			json_object_array_add(g, json_object_new_string(t->groups[j]));
		json_object_object_add(o, "groups", g);
		if (t->lockdown)
			json_object_object_add(o, "lockdown",
					       json_object_new_string(t->lockdown));
		if (t->sig_enforce)
			json_object_object_add(o, "sig-enforce",
					       json_object_new_string(t->sig_enforce));
		if (t->secure_boot)
			json_object_object_add(o, "secure-boot",
					       json_object_new_string(t->secure_boot));
		json_object_object_add(o, "module-signatures-required",
				       json_object_new_boolean(
					       sc_target_needs_signature(t)));
		if (t->signers) {
			json_object *sg = json_object_new_array();

			for (size_t j = 0; j < t->nsigners; j++)
				json_object_array_add(sg, json_object_new_string(
								  t->signers[j]));
			json_object_object_add(o, "module-signers", sg);
		}
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
	printf("%-20s %-40s %-24s %-8s %-8s %s\n", "NAME", "EXECUTE", "KERNEL", "ARCH",
	       "SIGNED", "GROUPS");
	for (size_t i = 0; i < all->n; i++) {
		const struct sc_target *t = &all->v[i];

		/* SIGNED: does it load signed modules only (issue 20)? */
		printf("%-20s %-40s %-24s %-8s %-8s ", t->name, t->execute, t->kernel,
		       t->arch,
		       sc_target_needs_signature(t)                         ? "required"
		       : !t->lockdown && !t->sig_enforce && !t->secure_boot ? "?"
									    : "-");
		for (size_t g = 0; g < t->ngroups; g++)
			printf("%s%s", g ? "," : "", t->groups[g]);
		printf("%s\n", t->ngroups ? "" : "-");
	}
	return 0;
}

/* Rewrite the file from entries (all of them but skip, which may be NULL). */
int sc_host_save(const char *path, const struct sc_targets *all,
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

/* What a target reported that is not a release, an arch or a cpu: said, not saved. */
static void refuse_report(const char *name, char *const l[4])
{
	static const char *const what[] =
		{"kernel release (uname -r; 1-64 of A-Z a-z 0-9 . _ + ~ -)",
		 "architecture (uname -m; 1-32 of A-Z a-z 0-9 _)",
		 "cpu model (1-128 printable ASCII characters)"};
	int bad = !sc_release_ok(l[0]) ? 0 : !sc_target_arch_ok(l[1]) ? 1 : 2;
	char v[81];
	size_t i;

	for (i = 0; l[bad][i] && i + 1 < sizeof(v); i++)
		v[i] = l[bad][i] < 0x20 || l[bad][i] > 0x7e ? '?' : l[bad][i];
	v[i] = '\0';
	fprintf(stderr,
		"stapcache: %s: refusing what it reports as its %s: '%s' is not one; "
		"nothing was saved\n",
		name, what[bad], v);
}

/*
 * Ask a target for its release, arch and cpu, and its module-signature facts
 * (into facts: hostfacts.h); check its runner is there.
 */
static int probe(const struct sc_helper_env *env, const char *name,
		 const struct sc_execute *ex, bool quiet, const char *accept_fp,
		 const char *accept_how, char **kernel, char **arch, char **cpu,
		 struct sc_target *facts)
{
	struct sc_ssh_opts o = sc_helper_ssh_opts(env, name);
	static const char *const need[] = {"staprun-auth", "staprun", "staprun"};
	static const char *const runners[] = {"staprun-auth", "staprun", "sudo"};
	struct sc_error err = {{0}};
	struct sc_ssh *s = NULL;
	char *out = NULL, *l[4] = {0}, *save_p = NULL, found[64];
	int st, r;

	char *cmd = sc_strdupf("%s; %s", probe_cmd, sc_hostfacts_script);

	o.accept_fp = accept_fp; /* the key of a host met for the first time */
	o.accept_how = accept_how;
	r = sc_ssh_connect(ex, &o, &s, &err);
	if (r == 0)
		r = sc_ssh_exec(s, cmd, NULL, 0, &out, &st, &err);
	sc_ssh_free(s);
	free(cmd);
	if (r == 0 && st == 0 && out && sc_hostfacts_apply(out, facts) == -EBADMSG)
		fprintf(stderr,
			"stapcache: warning: %s: its UEFI db or MOK list is not a signature "
			"list; its module-signers are left out\n",
			name);
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
		refuse_report(name, l);
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

int sc_host_ask(const struct sc_helper_env *env, struct sc_target *t,
		const char *accept_fp, const char *accept_how, bool quiet,
		struct sc_targets *out, char **entry)
{
	struct sc_error err = {{0}};
	char *e;
	int r = probe(env, t->name, &t->ex, quiet, accept_fp, accept_how, &t->kernel,
		      &t->arch, &t->cpu, t);

	if (r < 0)
		return r;
	/* Through the parser once more: what is saved is what will be read. */
	e = sc_target_format(t);
	r = sc_targets_parse("new entry", e, strlen(e), out, &err);
	if (r < 0) {
		fprintf(stderr, "stapcache: %s: %s\n", t->name, err.msg);
		free(e);
		return r;
	}
	*entry = e;
	return 0;
}

/*
 * host add NAME EXECUTE [--group G]...: ask the host, append its entry to
 * known_hosts (all, read from path). With probe_only (host probe, for
 * --remote's ad-hoc targets): print the entry only, save nothing, and warn
 * about nothing (stdout is parsed).
 */
static int host_add(struct sc_targets *all, const char *path, const struct host_args *a,
		    bool probe_only, const struct sc_helper_env *env)
{
	const char *name = a->ops[0], *execute = a->ops[1];
	struct sc_target t = {0};
	struct sc_error err = {{0}};
	struct sc_targets one = {0};
	char *entry = NULL, *how = NULL, *q;
	int r = 1;

	if (!probe_only && sc_targets_find(all, name)) {
		fprintf(stderr,
			"stapcache: host add: %s is already in %s (%s); "
			"use host refresh %s\n",
			name, path, sc_targets_find(all, name)->origin, name);
		return 1;
	}
	if (sc_execute_parse(execute, &t.ex, &err) < 0)
		return sc_cmdopt_usage_error(a->spec, "%s", err.msg);
	t.name = sc_strdupf("%s", name);
	t.execute = sc_strdupf("%s", execute);
	t.groups = calloc(a->groups.n + 1, sizeof(*t.groups));
	if (!t.groups)
		sc_oom();
	for (; t.ngroups < a->groups.n; t.ngroups++)
		t.groups[t.ngroups] = sc_strdupf("%s", a->groups.v[t.ngroups]);
	if (!probe_only) {
		q = sc_shell_quote(execute);
		how = sc_strdupf("stapcache host add %s %s --accept", name, q);
		free(q);
	}
	if (sc_host_ask(env, &t, a->accept, how, probe_only, &one, &entry) < 0)
		goto out;
	if (probe_only) {
		fputs(entry, stdout);
		r = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	all->v = realloc(all->v, (all->n + 1) * sizeof(*all->v));
	if (!all->v)
		sc_oom();
	all->v[all->n++] = one.v[0];
	one.n = 0;
	if (sc_host_save(path, all, NULL) == 0) {
		fputs(entry, stdout);
		r = 0;
	}
out:
	free(entry);
	free(how);
	sc_targets_clear(&one);
	sc_target_clear(&t);
	return r;
}

/* host refresh NAME|@GROUP|--all: ask each target again; save what changed. */
static int host_refresh(struct sc_targets *all, const char *path,
			const struct host_args *a, const struct sc_helper_env *env)
{
	struct sc_error err = {{0}};
	const char *spec = a->nops ? a->ops[0] : NULL;
	size_t *idx = NULL, n = 0, changed = 0;
	int failed = 0;

	if (a->all) {
		idx = calloc(all->n + 1, sizeof(*idx));
		for (n = 0; idx && n < all->n; n++)
			idx[n] = n;
	} else if (sc_targets_select(all, &spec, 1, &idx, &n, &err) < 0) {
		fprintf(stderr, "stapcache: host refresh: %s\n", err.msg);
		return 1;
	}
	if (!idx) {
		fprintf(stderr, "stapcache: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct sc_target *t = &all->v[idx[i]];
		char *k, *ar, *c, *before = facts_text(t), *after, *old_fmt, *new_fmt;
		bool facts_changed;

		old_fmt = sc_target_format(t);
		if (probe(env, t->name, &t->ex, false, NULL, NULL, &k, &ar, &c, t) < 0) {
			failed++;
			free(before);
			free(old_fmt);
			continue;
		}
		after = facts_text(t);
		new_fmt = sc_target_format(t);
		/* what the entry says about signatures, before and after */
		facts_changed = strcmp(old_fmt, new_fmt) != 0;
		if (strcmp(k, t->kernel) || strcmp(ar, t->arch) || !t->cpu ||
		    strcmp(c, t->cpu)) {
			printf("%s: kernel %s -> %s, arch %s -> %s\n", t->name, t->kernel,
			       k, t->arch, ar);
			changed++;
		} else if (!facts_changed) {
			printf("%s: unchanged (%s; %s)\n", t->name, k, after);
		}
		if (facts_changed) {
			printf("%s: %s (was: %s)\n", t->name, after, before);
			changed++;
		}
		free(before);
		free(after);
		free(old_fmt);
		free(new_fmt);
		free(t->kernel);
		free(t->arch);
		free(t->cpu);
		t->kernel = k;
		t->arch = ar;
		t->cpu = c;
	}
	free(idx);
	if (changed && sc_host_save(path, all, NULL) < 0)
		return 1;
	return failed ? 1 : 0;
}

/* host remove NAME: known_hosts without it. */
static int host_remove(struct sc_targets *all, const char *path,
		       const struct host_args *a)
{
	const struct sc_target *t = sc_targets_find(all, a->ops[0]);

	if (!t) {
		fprintf(stderr, "stapcache: host remove: no target %s in %s\n", a->ops[0],
			path);
		return 1;
	}
	return sc_host_save(path, all, t) < 0;
}

/* host accept NAME SHA256:...: add the target's host key if it is that one. */
static int host_accept(const struct sc_targets *all, const struct host_args *a,
		       const struct sc_helper_env *env)
{
	const char *fp = a->ops[1];
	struct sc_error err = {{0}};
	struct sc_ssh *s = NULL;
	struct sc_ssh_opts o;
	const struct sc_target *t = sc_targets_find(all, a->ops[0]);
	int r;

	if (!t) {
		fprintf(stderr, "stapcache: host accept: no target %s in known_hosts\n",
			a->ops[0]);
		return 1;
	}
	o = sc_helper_ssh_opts(env, t->name);
	o.accept_fp = fp;
	r = sc_ssh_connect(&t->ex, &o, &s, &err);
	if (r == SC_SSH_EHOSTKEY || r == SC_SSH_ECONNECT) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	printf("%s: host key %s is in %s/known_hosts\n", t->name, fp, o.ssh_dir);
	if (r < 0)
		fprintf(stderr, "stapcache: but: %s\n", err.msg);
	sc_ssh_free(s);
	return r < 0 ? 1 : 0;
}

/* What a's operands and options say that cmdopt cannot check. Returns 0, or 2 said. */
static int host_usage_check(const struct host_args *a, const char *verb)
{
	bool named = !strcmp(verb, "add") || !strcmp(verb, "probe");

	if (named && !sc_target_name_ok(a->ops[0]))
		return sc_cmdopt_usage_error(a->spec, "'%s' is not a target name",
					     a->ops[0]);
	for (size_t i = 0; named && i < a->groups.n; i++)
		if (!sc_target_name_ok(a->groups.v[i]))
			return sc_cmdopt_usage_error(a->spec,
						     "--group '%s': not a group name",
						     a->groups.v[i]);
	if (!strcmp(verb, "refresh") && a->all == (a->nops == 1))
		return sc_cmdopt_usage_error(a->spec, "give NAME, @GROUP or --all");
	if (a->accept && strncmp(a->accept, "SHA256:", 7) != 0)
		return sc_cmdopt_usage_error(a->spec,
					     "--accept '%s': not a SHA256:... fingerprint",
					     a->accept);
	if (!strcmp(verb, "accept") && strncmp(a->ops[1], "SHA256:", 7) != 0)
		return sc_cmdopt_usage_error(a->spec,
					     "'%s' is not a SHA256:... fingerprint",
					     a->ops[1]);
	return 0;
}

/* One verb but self: known_hosts read, the verb done on it. */
static int host_verb(const char *verb, const struct host_args *a,
		     const struct sc_helper_env *env)
{
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	const char *path = env->known_hosts;
	int status = host_usage_check(a, verb);

	if (status)
		return status;
	if (sc_targets_load(path, &all, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	if (!strcmp(verb, "list"))
		status = host_list(&all, a->json);
	else if (!strcmp(verb, "add") || !strcmp(verb, "probe"))
		status = host_add(&all, path, a, !strcmp(verb, "probe"), env);
	else if (!strcmp(verb, "remove"))
		status = host_remove(&all, path, a);
	else if (!strcmp(verb, "refresh"))
		status = host_refresh(&all, path, a, env);
	else
		status = host_accept(&all, a, env);
	sc_targets_clear(&all);
	return status;
}

int sc_helper_host(int argc, char **argv, const struct sc_helper_env *env)
{
	struct host_args a = {0};
	struct sc_host_import_args imp; /* host import's own (host-import.c) */
	const struct sc_cmdopt_spec import_spec = sc_host_import_spec(&imp);
	const struct sc_cmdopt list_opts[] = {
		SC_CMDOPT_FLAG(0, "json", &a.json, "one JSON array, an object a target"),
	};
	const struct sc_cmdopt add_opts[] = {
		SC_CMDOPT_LIST(0, "group", "G", &a.groups,
			       "put the target in group G (-T @G); repeat for more"),
		SC_CMDOPT_STRING(0, "accept", "SHA256:FP", &a.accept,
				 "a host not yet in ~/.ssh/known_hosts: add its key if it\n"
				 "has this fingerprint (checked out of band)"),
	};
	const struct sc_cmdopt refresh_opts[] = {
		SC_CMDOPT_FLAG(0, "all", &a.all, "every target in known_hosts"),
	};
	const struct sc_cmdopt_spec verbs[] = {
		{.name = "host self",
		 .synopsis = "[NAME]",
		 .about = "Print this host's entry (named NAME, else its host name), to\n"
			  "append to known_hosts on the machine that builds.",
		 .max_args = 1},
		{.name = "host list",
		 .synopsis = "[--json]",
		 .about =
			 "Every target in known_hosts: name, execute, kernel, arch, whether it\n"
			 "loads only signed modules (SIGNED: required, -, or ? when not\n"
			 "known), groups.",
		 SC_CMDOPT_ROWS(list_opts)},
		{.name = "host add",
		 .synopsis =
			 "NAME ssh:[USER@]HOST[:PORT]:auth|sudo|direct [--group G]... "
			 "[--accept SHA256:FP]",
		 .about =
			 "Ask the host over SSH for its kernel, arch and cpu, and what it\n"
			 "demands of module signatures (lockdown, sig_enforce, Secure Boot,\n"
			 "the certificates its UEFI db and MOK list hold, where its login may\n"
			 "read them), and append its entry to known_hosts.",
		 SC_CMDOPT_ROWS(add_opts),
		 .min_args = 2,
		 .max_args = 2},
		import_spec,
		{.name = "host remove",
		 .synopsis = "NAME",
		 .about = "Take the target out of known_hosts.",
		 .min_args = 1,
		 .max_args = 1},
		{.name = "host refresh",
		 .synopsis = "NAME|@GROUP|--all",
		 .about =
			 "Ask the targets again for their kernel, arch, cpu and module-\n"
			 "signature facts (after an upgrade, or a key enrolled), and save\n"
			 "what changed.",
		 SC_CMDOPT_ROWS(refresh_opts),
		 .max_args = 1},
		{.name = "host accept",
		 .synopsis = "NAME SHA256:FINGERPRINT",
		 .about =
			 "Add the target's host key to ~/.ssh/known_hosts if its fingerprint\n"
			 "is FINGERPRINT (check it first, out of band).",
		 .min_args = 2,
		 .max_args = 2},
		{.name = "host probe",
		 .prog = "stapcache-remote",
		 .synopsis = "NAME EXECUTE [--group G]...",
		 .about =
			 "Print the entry host add would append, and save nothing (stapcache\n"
			 "--remote's ad-hoc targets).",
		 SC_CMDOPT_ROWS(add_opts),
		 .min_args = 2,
		 .max_args = 2},
	};
	const struct sc_cmdopt_spec top = {
		.name = "host",
		.synopsis = "self|list|add|import|remove|refresh|accept [ARGUMENTS]",
		.about =
			"The targets of -T, kept in $XDG_CONFIG_HOME/stapcache/known_hosts\n"
			"(stapcache-known_hosts(5)):\n"
			"  self [NAME]           this host's entry, for a builder's known_hosts\n"
			"  list [--json]         every target\n"
			"  add NAME EXECUTE [--group G]...\n"
			"                        ask the host over SSH; append its entry\n"
			"  import FILE|-         an Ansible inventory's hosts, its groups as\n"
			"                        @GROUPs, each host asked as add asks\n"
			"  remove NAME           take it out\n"
			"  refresh NAME|@GROUP|--all\n"
			"                        ask again (after an upgrade); save changes\n"
			"  accept NAME SHA256:FINGERPRINT\n"
			"                        trust its host key if it is that one\n"
			"EXECUTE is ssh:[USER@]HOST[:PORT]:auth|sudo|direct. stapcache host\n"
			"VERB --help for each verb.",
		.min_args = 1,
		.max_args = -1,
		.stop_at_operand = true,
	};
	const char *verb;
	int r, status;

	r = sc_cmdopt_verb(&top, verbs, sizeof(verbs) / sizeof(verbs[0]), &argc, &argv,
			   &a.spec);
	if (r < 0) {
		status = sc_cmdopt_exit(r);
	} else {
		a.ops = argv + r;
		a.nops = argc - r;
		verb = strrchr(a.spec->name, ' ') + 1;
		status = !strcmp(verb, "self") ? host_self(&a, env)
			 : !strcmp(verb, "import")
				 ? sc_host_import(&imp, a.spec, argc, argv, r, env)
				 : host_verb(verb, &a, env);
	}
	free(a.groups.v);
	sc_host_import_clear(&imp);
	return status;
}
