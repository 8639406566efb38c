/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache host import FILE|-`: the hosts of an Ansible inventory
 * (remote/inventory.h) into known_hosts, its groups as @GROUPs.
 *
 * Each new host is asked what host add asks (sc_host_ask: release, arch,
 * cpu, module-signature facts; an unknown host key refused unless
 * --accept names its fingerprint), all of them at once as -T's fan-out
 * does (at most SC_REMOTE_DEFAULT_JOBS threads). A host already in known_hosts is left
 * alone; --update rewrites its execute and groups from the inventory (and
 * its build-root when the inventory or --build-root names one) without
 * connecting: host refresh asks it again. --dry-run connects to nothing and
 * writes nothing.
 *
 * The file is written once, at the end, through the one atomic write, from
 * a text that was parsed whole first: every entry it holds is one the
 * parser accepts. Hosts that did not answer are said, with the fix, and not
 * added; those that did are saved, so the same command run again adds only
 * what is still missing.
 */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/spawn.h"
#include "core/cmdopt.h"
#include "remote/helper/helper.h"
#include "remote/helper/host-admin.h"
#include "remote/helper/host-import.h"
#include "remote/inventory.h"
#include "remote/targets.h"

/* What became of each host, counted for the summary. */
struct tally {
	size_t added, updated, unchanged, left, skipped, failed;
};

/* The --accept for host name: NAME=SHA256:... or, for a lone new host, SHA256:... */
static const char *accept_for(const struct sc_host_import_args *a, const char *name,
			      size_t nnew)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < a->accepts.n; i++) {
		const char *v = a->accepts.v[i];

		if (!strncmp(v, name, n) && v[n] == '=')
			return v + n + 1;
		if (nnew == 1 && !strncmp(v, "SHA256:", 7))
			return v;
	}
	return NULL;
}

static int check_args(const struct sc_host_import_args *a, enum sc_runner *runner)
{
	if (sc_runner_parse(a->runner, runner) < 0)
		return sc_cmdopt_usage_error(a->spec,
					     "--runner '%s': auth, sudo or direct",
					     a->runner);
	for (size_t g = 0; g < a->groups.n; g++)
		if (!sc_target_name_ok(a->groups.v[g]))
			return sc_cmdopt_usage_error(a->spec,
						     "--group '%s': not a group name",
						     a->groups.v[g]);
	if (a->build_root && a->build_root[0] != '/')
		return sc_cmdopt_usage_error(a->spec,
					     "--build-root '%s': an absolute directory",
					     a->build_root);
	for (size_t i2 = 0; i2 < a->accepts.n; i2++) {
		const char *v = a->accepts.v[i2], *eq = strchr(v, '=');

		if (strncmp(eq ? eq + 1 : v, "SHA256:", 7) != 0)
			return sc_cmdopt_usage_error(a->spec,
						     "--accept '%s': expected NAME=SHA256:... "
						     "(or SHA256:... when one host is new)",
						     v);
	}
	return 0;
}

/* The groups h gets: the inventory's, then --group's, once each. Caller frees. */
static char **host_groups(const struct sc_inventory_host *h,
			  const struct sc_host_import_args *a, size_t *n)
{
	char **v = calloc(h->ngroups + a->groups.n + 1, sizeof(*v));

	if (!v)
		sc_oom();
	*n = 0;
	for (size_t i = 0; i < h->ngroups + a->groups.n; i++) {
		const char *g = i < h->ngroups ? h->groups[i]
					       : a->groups.v[i - h->ngroups];
		bool seen = false;

		for (size_t j = 0; j < *n; j++)
			seen |= !strcmp(v[j], g);
		if (!seen)
			v[(*n)++] = sc_strdupf("%s", g);
	}
	return v;
}

static char *joined(char *const *v, size_t n)
{
	char *s = sc_strdupf("%s", n ? "" : "-"), *next;

	for (size_t i = 0; i < n; i++) {
		next = sc_strdupf("%s%s%s", s, i ? "," : "", v[i]);
		free(s);
		s = next;
	}
	return s;
}

/* The target an inventory host describes (no kernel yet). Clear with sc_target_clear. */
static void target_of(const struct sc_inventory_host *h,
		      const struct sc_host_import_args *a, struct sc_target *t)
{
	struct sc_error err = {{0}};

	memset(t, 0, sizeof(*t));
	t->name = sc_strdupf("%s", h->name);
	t->execute = sc_strdupf("%s", h->execute);
	if (sc_execute_parse(t->execute, &t->ex, &err) < 0)
		abort(); /* inventory.c checked it */
	t->groups = host_groups(h, a, &t->ngroups);
	if (h->build_root || a->build_root)
		t->build_root =
			sc_strdupf("%s", h->build_root ? h->build_root : a->build_root);
}

/*
 * An entry already there: with --update its execute, groups and build-root
 * from the inventory (a copy of old with those replaced, formatted), else
 * NULL. Says what happens on stdout.
 */
static char *existing(const struct sc_target *old, const struct sc_inventory_host *h,
		      const struct sc_host_import_args *a, struct tally *n)
{
	struct sc_target t, now = *old;
	char *before, *after = NULL, *g;

	if (!a->update) {
		printf("%s: already in known_hosts (%s), left alone\n", h->name,
		       old->origin);
		n->left++;
		return NULL;
	}
	target_of(h, a, &t);
	now.execute = t.execute;
	now.groups = t.groups;
	now.ngroups = t.ngroups;
	if (t.build_root)
		now.build_root = t.build_root;
	before = sc_target_format(old);
	after = sc_target_format(&now);
	g = joined(t.groups, t.ngroups);
	if (!strcmp(before, after)) {
		printf("%s: unchanged\n", h->name);
		n->unchanged++;
	} else {
		printf("%s: %s %s groups=%s%s%s\n", h->name,
		       a->dry_run ? "would update to" : "updated to", t.execute, g,
		       now.build_root ? " build-root=" : "",
		       now.build_root ? now.build_root : "");
		n->updated++;
	}
	free(g);
	free(before);
	sc_target_clear(&t);
	return after;
}

/* A new host's questions, asked by a worker (ask_all). */
struct ask {
	const struct sc_inventory_host *h;
	struct sc_target t;
	const char *accept; /* its --accept fingerprint, or NULL */
	char *how;          /* the command that accepts its key */
	char *entry;        /* its known_hosts entry; NULL: not added */
};

struct asks {
	struct ask *v;
	size_t n;
	atomic_size_t next;
	const struct sc_helper_env *env;
};

static void *ask_worker(void *arg)
{
	struct asks *q = arg;
	size_t i;

	while ((i = atomic_fetch_add(&q->next, 1)) < q->n) {
		struct ask *k = &q->v[i];
		struct sc_targets one = {0};

		if (sc_host_ask(q->env, &k->t, k->accept, k->how, false, &one,
				&k->entry) < 0)
			k->entry = NULL;
		sc_targets_clear(&one);
	}
	return NULL;
}

/*
 * Ask every new host at once, at most SC_REMOTE_DEFAULT_JOBS at a time (a
 * thread each, as -T's fan-out): an inventory's dead hosts cost one connect
 * timeout, not one each. What a host says wrong goes to stderr as it comes.
 */
static void ask_all(struct ask *v, size_t n, const struct sc_helper_env *env)
{
	struct asks q = {.v = v, .n = n, .env = env};
	size_t nth = n < SC_REMOTE_DEFAULT_JOBS ? n : SC_REMOTE_DEFAULT_JOBS, started = 0;
	pthread_t *th = calloc(nth + 1, sizeof(*th));

	if (!th)
		sc_oom();
	atomic_init(&q.next, 0);
	for (; started < nth; started++)
		if (pthread_create(&th[started], NULL, ask_worker, &q) != 0)
			break;
	if (started == 0)
		ask_worker(&q); /* one after another rather than not at all */
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
}

/* A new host: what --dry-run would add, or what the asking added (its entry to out). */
static void report_new(const struct ask *k, const struct sc_host_import_args *a,
		       FILE *out, struct tally *n)
{
	char *g = joined(k->t.groups, k->t.ngroups);

	if (a->dry_run) {
		printf("%s: would add %s groups=%s%s%s\n", k->h->name, k->t.execute, g,
		       k->t.build_root ? " build-root=" : "",
		       k->t.build_root ? k->t.build_root : "");
		n->added++;
	} else if (k->entry) {
		printf("%s: added %s kernel=%s arch=%s groups=%s\n", k->h->name,
		       k->t.execute, k->t.kernel, k->t.arch, g);
		fputs(k->entry, out);
		n->added++;
	} else {
		fprintf(stderr, "stapcache: host import: %s (%s) not added\n", k->h->name,
			k->h->origin);
		n->failed++;
	}
	free(g);
}

/*
 * Every host of inv: the new text of known_hosts (all's entries, updated
 * where --update says, then the new ones) into *text. Returns whether it
 * differs from what is there.
 */
static bool import_hosts(const struct sc_inventory *inv, const struct sc_targets *all,
			 const struct sc_host_import_args *a, size_t nnew,
			 const struct sc_helper_env *env, struct tally *n, char **text)
{
	char **upd = calloc(all->n + 1, sizeof(*upd));
	struct ask *asks = calloc(nnew + 1, sizeof(*asks));
	size_t nask = 0, len = 0;
	FILE *out = open_memstream(text, &len);
	bool changed = false;

	if (!upd || !asks || !out)
		sc_oom();
	for (size_t i = 0; i < inv->n; i++) {
		const struct sc_inventory_host *h = &inv->v[i];
		const struct sc_target *old = sc_targets_find(all, h->name);

		if (h->skip) {
			printf("%s: skipped: %s\n", h->name, h->skip);
			n->skipped++;
		} else if (old) {
			free(upd[old - all->v]);
			upd[old - all->v] = existing(old, h, a, n);
		} else {
			struct ask *k = &asks[nask++];

			k->h = h;
			target_of(h, a, &k->t);
			k->accept = accept_for(a, h->name, nnew);
			k->how = sc_strdupf("%s --accept %s=", a->again, h->name);
		}
	}
	fflush(stdout);
	if (!a->dry_run)
		ask_all(asks, nask, env);
	for (size_t i = 0; i < all->n; i++) {
		char *e = sc_target_format(&all->v[i]);

		changed |= upd[i] && strcmp(upd[i], e) != 0;
		fputs(upd[i] ? upd[i] : e, out);
		free(e);
		free(upd[i]);
	}
	for (size_t i = 0; i < nask; i++) {
		report_new(&asks[i], a, out, n);
		changed |= asks[i].entry != NULL;
		free(asks[i].entry);
		free(asks[i].how);
		sc_target_clear(&asks[i].t);
	}
	fflush(stdout);
	if (fclose(out) != 0)
		sc_oom();
	free(asks);
	free(upd);
	return changed;
}

static int import(const struct sc_host_import_args *a, const char *file,
		  enum sc_runner runner, const struct sc_helper_env *env)
{
	struct sc_inventory *inv = NULL;
	struct sc_targets all = {0}, next = {0};
	struct sc_error err = {{0}};
	struct tally n = {0};
	const char *name = strcmp(file, "-") ? file : "stdin";
	char *buf = NULL, *text = NULL;
	size_t len = 0, nnew = 0;
	int r = strcmp(file, "-")
			? sc_read_file(file, SC_INVENTORY_MAX, &buf, &len)
			: sc_read_fd(STDIN_FILENO, SC_INVENTORY_MAX, &buf, &len);
	int status = 1;
	bool changed;

	if (r < 0) {
		if (r == -EFBIG)
			fprintf(stderr,
				"stapcache: host import: cannot read %s: larger than %u MiB, "
				"the most an inventory may be\n",
				name, SC_INVENTORY_MAX >> 20);
		else
			fprintf(stderr, "stapcache: host import: cannot read %s: %s\n",
				name, strerror(-r));
		return 1;
	}
	if (sc_inventory_parse(name, buf, len, runner, &inv, &err) < 0 ||
	    sc_targets_load(env->known_hosts, &all, &err) < 0) {
		fprintf(stderr, "stapcache: host import: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < inv->n; i++)
		nnew += !inv->v[i].skip && !sc_targets_find(&all, inv->v[i].name);
	for (size_t i = 0; i < a->accepts.n; i++)
		if (!strncmp(a->accepts.v[i], "SHA256:", 7) && nnew != 1) {
			status =
				sc_cmdopt_usage_error(a->spec,
						      "--accept %s: %zu hosts are new; name the "
						      "host: --accept NAME=%s",
						      a->accepts.v[i], nnew,
						      a->accepts.v[i]);
			goto out;
		}
	printf("# %s: %s, %zu host%s%s\n", name, sc_inventory_format_name(inv->format),
	       inv->n, inv->n == 1 ? "" : "s",
	       a->dry_run ? "; nothing is connected to or saved" : "");
	fflush(stdout);
	changed = import_hosts(inv, &all, a, nnew, env, &n, &text);

	if (sc_targets_parse(env->known_hosts, text, strlen(text), &next, &err) < 0) {
		fprintf(stderr, "stapcache: host import: nothing saved: %s\n", err.msg);
		goto out;
	}
	if (changed && !a->dry_run && sc_host_save(env->known_hosts, &next, NULL) < 0)
		goto out;
	printf("# %s%zu added, %zu updated, %zu unchanged, %zu left alone, %zu skipped, "
	       "%zu failed\n",
	       a->dry_run ? "would be: " : "", n.added, n.updated, n.unchanged, n.left,
	       n.skipped, n.failed);
	if (n.failed)
		fprintf(stderr,
			"stapcache: host import: %zu host%s not added (said above); the "
			"others are saved: the same command again adds what is missing\n",
			n.failed, n.failed == 1 ? "" : "s");
	status = n.failed ? 1 : 0;
out:
	sc_targets_clear(&next);
	sc_targets_clear(&all);
	sc_inventory_free(inv);
	free(text);
	free(buf);
	return status;
}

/* s as a shell word: as it is when that is safe, else quoted. Caller frees. */
static char *shell_word(const char *s)
{
	if (*s &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		      "_./=:@%+,-") == strlen(s))
		return sc_strdupf("%s", s);
	return sc_shell_quote(s);
}

struct sc_cmdopt_spec sc_host_import_spec(struct sc_host_import_args *a)
{
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_FLAG(0, "dry-run", &a->dry_run,
			       "say what would be added or updated; connect to nothing,\n"
			       "write nothing"),
		SC_CMDOPT_FLAG(0, "update", &a->update,
			       "hosts already in known_hosts: take their execute, groups\n"
			       "(and build-root, when given) from the inventory (default:\n"
			       "leave them alone); host refresh asks them again"),
		SC_CMDOPT_LIST(0, "group", "G", &a->groups,
			       "put every imported host in group G too; repeat for more"),
		SC_CMDOPT_STRING(0, "runner", "auth|sudo|direct", &a->runner,
				 "the runner of hosts without stapcache_runner (auth)"),
		SC_CMDOPT_STRING(0, "build-root", "DIR", &a->build_root,
				 "the build root of hosts without stapcache_build_root"),
		SC_CMDOPT_LIST(0, "accept", "NAME=SHA256:FP", &a->accepts,
			       "a host not yet in ~/.ssh/known_hosts: add its key if it\n"
			       "has this fingerprint (checked out of band); repeat for\n"
			       "more; SHA256:FP alone when one host is new"),
	};

	_Static_assert(sizeof(opts) == sizeof(a->opts), "host import: its options' room");
	memset(a, 0, sizeof(*a));
	a->runner = "auth";
	memcpy(a->opts, opts, sizeof(opts));
	return (struct sc_cmdopt_spec){
		.name = "host import",
		.synopsis = "FILE|- [--dry-run] [--update] [--accept NAME=SHA256:FP]... "
			    "[OPTIONS]",
		.about =
			"Add the hosts of an Ansible inventory to known_hosts, each asked\n"
			"over SSH as host add asks; its groups become @GROUPs (children\n"
			"flattened: a host is in every group above its own). The form is\n"
			"read from the text: '{' starts ansible-inventory --list's JSON;\n"
			"'---' or 'GROUP:' the YAML form (all: hosts:/children:/vars:);\n"
			"anything else is the INI form ([group], [group:children],\n"
			"[group:vars]). ansible_host, ansible_port and ansible_user give\n"
			"the address, port and user; stapcache_runner and\n"
			"stapcache_build_root, the runner and build root. Ranges such as\n"
			"web[01:03] are expanded. Hosts already there are left alone.",
		SC_CMDOPT_ROWS(a->opts),
		.min_args = 1,
		.max_args = 1,
	};
}

void sc_host_import_clear(struct sc_host_import_args *a)
{
	free(a->again);
	free(a->groups.v);
	free(a->accepts.v);
	a->again = NULL;
	a->groups.v = a->accepts.v = NULL;
}

int sc_host_import(struct sc_host_import_args *a, const struct sc_cmdopt_spec *spec,
		   int argc, char **argv, int first, const struct sc_helper_env *env)
{
	enum sc_runner runner = SC_RUNNER_AUTH;
	int status;

	a->spec = spec;
	status = check_args(a, &runner);
	if (status)
		return status;
	a->again = sc_strdupf("%s", "stapcache host import");
	for (int i = 1; i < argc; i++) {
		char *q = shell_word(argv[i]), *next;

		if (strncmp(argv[i], "--accept", 8) &&
		    (i == 1 || strcmp(argv[i - 1], "--accept"))) {
			next = sc_strdupf("%s %s", a->again, q);
			free(a->again);
			a->again = next;
		}
		free(q);
	}
	return import(a, argv[first], runner, env);
}
