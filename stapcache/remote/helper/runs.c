/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache ps [-T TARGET]...` and `stapcache kill [-T TARGET] MODULE`:
 * what staprun-auth runs, here or on targets, read from `staprun-auth
 * --list` (its root-owned registry: owner, digest and pids come from root,
 * not from the user who started the run), and stopping one run.
 *
 * kill stops a run the way a Ctrl-C does: a TERM to its stapio, which runs
 * as its user, so the kernel lets only that user (or root) do it; the
 * watchdog then unloads the module. Another user's run is refused here,
 * before anything is sent, with whose it is. A run whose watchdog died (an
 * orphan) is unloaded with staprun-auth -d, which checks the owner again.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/modinfo.h"
#include "core/cmdopt.h"
#include "remote/helper/runs.h"
#include "remote/helper/helper.h"
#include "remote/helper/logs.h"
#include "common/spawn.h"
#include "remote/helper/ssh.h"
#include "remote/helper/stage.h"
#include "remote/targets.h"

#define LIST_MAX (1u << 20)
/* Runs one listing holds at most (staprun-auth caps each user at 4 at once). */
#define SC_RUNS_MAX 1024

/* One line of staprun-auth --list. */
struct run {
	char module[64], user[64], sha256[65], loaded[32], cmd[1100];
	unsigned uid;
	int pid, stapio, target;
	int orphan;
};

/* field "key=VALUE" -> VALUE into buf; 0 or -1 when it is not that key. */
static int field(const char *f, const char *key, char *buf, size_t n)
{
	size_t k = strlen(key);

	if (strncmp(f, key, k) != 0 || strlen(f + k) >= n)
		return -1;
	memcpy(buf, f + k, strlen(f + k) + 1);
	return 0;
}

static int number(const char *f, const char *key, int *out)
{
	char buf[16], *end;
	long v;

	if (field(f, key, buf, sizeof(buf)) < 0)
		return -1;
	v = strtol(buf, &end, 10);
	if (!buf[0] || *end || v < 0 || v > 0x7fffffff)
		return -1;
	*out = (int)v;
	return 0;
}

/*
 * NAME, user=U(UID), sha256:HEX, loaded=T, pid=N, stapio=N, target=N,
 * cmd=TEXT, running|orphan: tab-separated (staprun-auth(8)). Returns 0, or
 * -1 for a line of any other shape (an older staprun-auth's has no target=
 * and cmd=: they stay 0 and "").
 */
static int parse_line(char *line, struct run *r)
{
	char *f[10], *open_p;
	int n = 0;

	memset(r, 0, sizeof(*r));
	/* strsep, not strtok: an empty field (cmd=) is a field */
	for (char *t; n < 10 && (t = strsep(&line, "\t"));)
		f[n++] = t;
	if (line || (n != 7 && n != 9))
		return -1;
	if (strlen(f[0]) >= sizeof(r->module) || !sc_module_name_ok(f[0]))
		return -1;
	strcpy(r->module, f[0]);
	if (field(f[1], "user=", r->user, sizeof(r->user)) < 0 ||
	    !(open_p = strrchr(r->user, '(')) || sscanf(open_p, "(%u)", &r->uid) != 1)
		return -1;
	*open_p = '\0';
	if (field(f[2], "sha256:", r->sha256, sizeof(r->sha256)) < 0 ||
	    field(f[3], "loaded=", r->loaded, sizeof(r->loaded)) < 0 ||
	    number(f[4], "pid=", &r->pid) < 0 || number(f[5], "stapio=", &r->stapio) < 0)
		return -1;
	if (n == 9 && (number(f[6], "target=", &r->target) < 0 ||
		       field(f[7], "cmd=", r->cmd, sizeof(r->cmd)) < 0))
		return -1;
	r->orphan = !strcmp(f[n - 1], "orphan");
	return r->orphan || !strcmp(f[n - 1], "running") ? 0 : -1;
}

/* The runs in text (the --list output), at most max of them. Returns how many. */
static size_t parse_list(char *text, struct run *runs, size_t max)
{
	size_t n = 0;

	for (char *l; n < max && (l = strsep(&text, "\n"));)
		if (*l && parse_line(l, &runs[n]) == 0)
			n++;
	return n;
}

/* Where a listing comes from: this host (s NULL) or a target over s. */
struct source {
	const char *name; /* target name, or "local" */
	struct sc_ssh *s;
};

static const char list_cmd[] =
	"id -u; command -v staprun-auth >/dev/null 2>&1 || { echo no-staprun-auth; exit 0; }; "
	"staprun-auth --list";

/*
 * The login's uid and the listing. Returns 0 and *text (caller frees), or
 * -ENOENT when there is no staprun-auth, -errno with err set.
 */
static int get_list(const struct source *src, unsigned *uid, char **text,
		    struct sc_error *err)
{
	char *out = NULL, *nl;
	int st = 0, r;

	if (!src->s) {
		const char *argv[] = {BINDIR "/staprun-auth", "--list", NULL};

		*uid = (unsigned)getuid();
		if (access(argv[0], X_OK) < 0) {
			sc_error_set(err, "no %s here: it lists what it runs", argv[0]);
			return -ENOENT;
		}
		r = sc_run_capture(argv, LIST_MAX, text);
		if (r < 0)
			sc_error_set(err, "%s --list failed: %s", argv[0],
				     *text ? *text : strerror(-r));
		return r;
	}
	r = sc_ssh_exec(src->s, list_cmd, NULL, 0, &out, &st, err);
	if (r == 0 && st != 0) {
		sc_error_prefix(err, "staprun-auth --list failed there (status %d)", st);
		r = -EIO;
	}
	if (r == 0 && (!(nl = strchr(out, '\n')) || sscanf(out, "%u", uid) != 1)) {
		sc_error_set(err, "unexpected answer to id -u: '%.60s'", out);
		r = -EIO;
	}
	if (r == 0 && !strncmp(nl + 1, "no-staprun-auth", 15)) {
		sc_error_set(err, "no staprun-auth on its PATH: it lists what it runs");
		r = -ENOENT;
	}
	if (r == 0)
		*text = sc_strdupf("%s", nl + 1);
	free(out);
	return r;
}

/* One format for the header and the rows: the columns line up. */
#define PS_ROW "%-12s %-40s %-10s %-20s %-7s %-7s %-12.12s %s\n"

static void print_header(void)
{
	printf(PS_ROW, "TARGET", "MODULE", "USER", "STARTED", "PID", "STATE", "DIGEST",
	       "COMMAND");
}

static void print_run(const char *target, const struct run *r)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", r->target);
	printf(PS_ROW, target, r->module, r->user, r->loaded, r->target ? pid : "-",
	       r->orphan ? "orphan" : "running", r->sha256, r->cmd[0] ? r->cmd : "-");
}

static int connect_to(const struct sc_target *t, const struct sc_helper_env *env,
		      struct sc_ssh **s, struct sc_error *err)
{
	struct sc_ssh_opts o = sc_helper_ssh_opts(env, t->name);

	return sc_ssh_connect(&t->ex, &o, s, err);
}

/*
 * The login's detached runs on a target (stage.c's run dirs): one line a
 * run, "ID<TAB>STATE<TAB>STARTED<TAB>DURATION<TAB>BYTES", then "now=EPOCH".
 */
static const char detached_cmd[] =
	"for r in " SC_RUNS_DIR_SH "/*@*; do [ -d \"$r\" ] && [ ! -L \"$r\" ] && "
	"[ -O \"$r\" ] || continue; s=-; d=-; h=running; { read -r s < \"$r/started\"; "
	"read -r d < \"$r/duration\"; } 2>/dev/null; [ -f \"$r/end\" ] && { h=ended; "
	"while read -r l; do case $l in how=*) h=ended:${l#how=};; esac; done < "
	"\"$r/end\"; }; z=0; for f in \"$r\"/out \"$r\"/out.*; do [ -f \"$f\" ] && "
	"z=$((z + $(stat -c %s \"$f\"))); done; printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "
	"\"${r##*/}\" \"$h\" \"$s\" \"$d\" \"$z\"; done; echo \"now=$(date +%s)\"";

#define PS_DROW "%-12s %-52s %-22s %-20s %-8s %s\n"

/* The detached runs of src's login, after the registry's rows (none: nothing). */
static int ps_detached(const struct source *src)
{
	struct sc_error err = {{0}};
	char *out = NULL, *text, *now_at;
	long long now = 0;
	bool header = false;
	int st = 0;

	if (!src->s)
		return 0;
	if (sc_ssh_exec(src->s, detached_cmd, NULL, 0, &out, &st, &err) < 0 || st != 0) {
		fprintf(stderr, "stapcache: ps: %s: cannot list the detached runs: %s\n",
			src->name, err.msg);
		free(out);
		return 1;
	}
	if ((now_at = strstr(out, "now=")))
		now = atoll(now_at + 4);
	text = out;
	for (char *l; (l = strsep(&text, "\n"));) {
		char *f[5], module[64], started[32] = "-", left[24] = "-";
		int k = 0;

		for (char *t; k < 5 && (t = strsep(&l, "\t"));)
			f[k++] = t;
		if (k != 5 || l || !sc_run_id_ok(f[0], module, sizeof(module)))
			continue;
		if (strspn(f[2], "0123456789") == strlen(f[2]) && f[2][0]) {
			time_t t0 = (time_t)atoll(f[2]);
			struct tm tm;

			if (gmtime_r(&t0, &tm))
				strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ",
					 &tm);
			if (!strcmp(f[1], "running") && atoll(f[3]) > 0)
				snprintf(left, sizeof(left), "%llds",
					 atoll(f[2]) + atoll(f[3]) - now > 0
						 ? atoll(f[2]) + atoll(f[3]) - now
						 : 0);
		}
		if (!header) {
			printf("\n" PS_DROW, "TARGET", "DETACHED RUN", "STATE", "STARTED",
			       "LEFT", "OUTPUT");
			header = true;
		}
		printf(PS_DROW, src->name, f[0], f[1], started, left, f[4]);
	}
	free(out);
	return 0;
}

/* ps for one source: its lines, or what went wrong on stderr. Returns 0 or 1. */
static int ps_one(const struct source *src, bool *header)
{
	struct sc_error err = {{0}};
	struct run *runs = NULL;
	char *text = NULL;
	unsigned uid;
	size_t n;

	if (get_list(src, &uid, &text, &err) < 0) {
		fprintf(stderr, "stapcache: ps: %s: %s\n", src->name, err.msg);
		return 1;
	}
	runs = calloc(SC_RUNS_MAX, sizeof(*runs));
	if (!runs) {
		free(text);
		return 1;
	}
	n = parse_list(text, runs, SC_RUNS_MAX);
	if (!*header) {
		print_header();
		*header = true;
	}
	for (size_t i = 0; i < n; i++)
		print_run(src->name, &runs[i]);
	free(runs);
	free(text);
	return ps_detached(src);
}

int sc_helper_ps(int argc, char **argv, const struct sc_helper_env *env)
{
	struct sc_strv specs = {0};
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_LIST('T', NULL, "TARGET", &specs,
			       "list what runs on TARGET (a known_hosts target or @GROUP)\n"
			       "instead of this host; repeat for more"),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "ps",
		.synopsis = "[-T TARGET|@GROUP]...",
		.about =
			"What staprun-auth runs here, or on each target: one line a run\n"
			"(module, user, start, pid, state, digest, command). Exit 1 when a\n"
			"target could not be asked.",
		SC_CMDOPT_ROWS(opts),
	};
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	size_t *idx = NULL, n = 0;
	bool header = false;
	int failed = 0, r = sc_cmdopt_parse(&spec, argc, argv);

	if (r < 0) {
		failed = sc_cmdopt_exit(r);
		goto out;
	}
	if (specs.n == 0) {
		struct source src = {.name = "local"};

		failed = ps_one(&src, &header);
		goto out;
	}
	if (sc_targets_load(env->known_hosts, &all, &err) < 0 ||
	    sc_targets_select(&all, specs.v, specs.n, &idx, &n, &err) < 0) {
		fprintf(stderr, "stapcache: ps: %s\n", err.msg);
		failed = 1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct source src = {.name = all.v[idx[i]].name};

		if (connect_to(&all.v[idx[i]], env, &src.s, &err) < 0) {
			fprintf(stderr, "stapcache: ps: %s\n", err.msg);
			failed = 1;
			continue;
		}
		failed |= ps_one(&src, &header);
		sc_ssh_free(src.s);
	}
out:
	fflush(stdout);
	sc_targets_clear(&all);
	free(specs.v);
	free(idx);
	return failed;
}

/*
 * Stop r (TERM to its stapio, or -d for an orphan) and wait until it is gone
 * from --list and /proc/modules (the record goes after the unload). The
 * script says how it ended on its last line, "rc=N".
 */
static int stop_run(const struct source *src, const struct run *r, struct sc_error *err)
{
	char *script, *out = NULL, *rc_at = NULL, *action;
	int st = 0, rc, code = -1;

	action = r->orphan ? sc_strdupf("staprun-auth -d %s", r->module)
			   : sc_strdupf("kill -TERM %d", r->stapio);

	/* The module name passed sc_module_name_ok ([A-Za-z0-9_]); stapio is a number. */
	script = sc_strdupf(
		"%s%s 2>&1 || { echo rc=3; exit 0; }; i=0; while [ $i -lt 150 ]; do "
		"staprun-auth --list 2>/dev/null | grep -q '^%s	' || "
		"grep -q '^%s ' /proc/modules || { echo rc=0; exit 0; }; sleep 0.2; "
		"i=$((i + 1)); done; echo rc=5",
		src->s ? "" : "PATH=" BINDIR ":$PATH; ", action, r->module, r->module);
	if (src->s) {
		rc = sc_ssh_exec(src->s, script, NULL, 0, &out, &st, err);
	} else {
		const char *argv[] = {"/bin/sh", "-c", script, NULL};

		rc = sc_run_capture(argv, 1u << 16, &out);
	}
	if (rc == 0 && (rc_at = strstr(out ? out : "", "rc=")))
		code = atoi(rc_at + 3);
	if (rc == 0 && code != 0) {
		if (rc_at)
			*rc_at = '\0';
		if (code == 3)
			sc_error_set(err, "%s %s failed: %s",
				     r->orphan ? "staprun-auth -d" : "kill -TERM",
				     r->orphan ? r->module : "its stapio", out);
		else
			sc_error_set(err,
				     "%s is still loaded 30 s after the stop: see "
				     "staprun-auth --list and the system log",
				     r->module);
		rc = -EIO;
	}
	free(out);
	free(script);
	free(action);
	return rc;
}

/*
 * Kill of a run id: the login's run dir must be there, its run not ended,
 * and its runner (the pid in its dir) the watchdog that staprun-auth lists
 * for the module now (pid): else the id is a stale one (its shell was
 * killed, the target rebooted) and the module's current run, another one,
 * is not touched. "killed" goes into its how (first word wins: a duration
 * that ended it just before keeps its word). Returns 0, or 1 after saying
 * why.
 */
static int mark_killed(const struct source *src, const char *id, const char *module,
		       int pid)
{
	struct sc_error err = {{0}};
	char *script, *out = NULL;
	int st = 0, rc = 1;

	/* id passed sc_run_id_ok: [A-Za-z0-9_]+@[0-9]+, nothing to quote */
	script =
		sc_strdupf("r=" SC_RUNS_DIR_SH "/%s; [ -d \"$r\" ] && [ ! -L \"$r\" ] "
			   "&& [ -O \"$r\" ] || { echo norun; exit 0; }; [ -e \"$r/end\" ] "
			   "&& { echo ended; exit 0; }; p=; { read -r p < \"$r/pid\"; } "
			   "2>/dev/null; [ \"$p\" = %d ] || { echo stale; exit 0; }; "
			   "( set -C; echo killed > \"$r/how\" ) 2>/dev/null; echo marked",
			   id, pid);
	if (sc_ssh_exec(src->s, script, NULL, 0, &out, &st, &err) < 0 || st != 0)
		fprintf(stderr, "stapcache: kill: %s: %s\n", src->name, err.msg);
	else if (!strncmp(out, "norun", 5))
		fprintf(stderr,
			"stapcache: kill: %s: no detached run %s of this login there\n",
			src->name, id);
	else if (!strncmp(out, "stale", 5))
		fprintf(stderr,
			"stapcache: kill: %s: run %s is not the run of %s there now (its "
			"shell is gone: killed, or the target rebooted); nothing stopped. "
			"stapcache ps -T %s lists what runs\n",
			src->name, id, module, src->name);
	else if (!strncmp(out, "ended", 5))
		fprintf(stderr,
			"stapcache: kill: %s: run %s has ended already (stapcache logs "
			"-T %s %s says how)\n",
			src->name, id, src->name, id);
	else
		rc = 0;
	free(out);
	free(script);
	return rc;
}

/* Has the login's detached run id there published its end record? */
static bool run_ended(const struct source *src, const char *id)
{
	struct sc_error err = {{0}};
	char *script = sc_strdupf("test -f " SC_RUNS_DIR_SH "/%s/end", id);
	int st = 1;
	bool ended = sc_ssh_exec(src->s, script, NULL, 0, NULL, &st, &err) == 0 &&
		     st == 0;

	free(script);
	return ended;
}

static int kill_in(const struct source *src, const char *module, const char *id)
{
	struct sc_error err = {{0}};
	struct run *runs = calloc(SC_RUNS_MAX, sizeof(*runs)), *r = NULL;
	char *text = NULL;
	unsigned uid = (unsigned)-1; /* fail closed: nobody's */
	size_t n;
	int rc = 1;

	if (!runs)
		return 1;
	if (get_list(src, &uid, &text, &err) < 0) {
		fprintf(stderr, "stapcache: kill: %s: %s\n", src->name, err.msg);
		goto out;
	}
	n = parse_list(text, runs, SC_RUNS_MAX);
	for (size_t i = 0; i < n && !r; i++)
		if (!strcmp(runs[i].module, module))
			r = &runs[i];
	if (!r && id && src->s && run_ended(src, id)) {
		fprintf(stderr,
			"stapcache: kill: %s: run %s has ended already (stapcache logs "
			"-T %s %s says how)\n",
			src->name, id, src->name, id);
		goto out;
	}
	if (!r) {
		fprintf(stderr,
			"stapcache: kill: %s: staprun-auth runs no module %s there "
			"(stapcache ps%s%s lists what it runs)\n",
			src->name, module, src->s ? " -T " : "", src->s ? src->name : "");
		goto out;
	}
	if (uid != 0 && r->uid != uid) {
		fprintf(stderr,
			"stapcache: kill: %s: refused: %s is run by %s (uid %u), not by "
			"you (uid %u); only that user or root can stop it\n",
			src->name, module, r->user, r->uid, uid);
		rc = 4;
		goto out;
	}
	if (id && (!src->s || mark_killed(src, id, module, r->pid) != 0))
		goto out;
	/* stapio=0: not started yet, or ended and the unload goes on; its old
	 * pid is not named, and "kill 0" would be this process group. */
	if (!r->orphan && r->stapio <= 0) {
		fprintf(stderr,
			"stapcache: kill: %s: %s has no stapio to stop right now (it is "
			"starting, or it ended and its module is being unloaded): try "
			"again in a moment; stapcache ps%s%s shows whether it is still "
			"there\n",
			src->name, module, src->s ? " -T " : "", src->s ? src->name : "");
		goto out;
	}
	if (stop_run(src, r, &err) < 0) {
		fprintf(stderr, "stapcache: kill: %s: %s\n", src->name, err.msg);
		goto out;
	}
	printf("%s: stopped %s (%s), module unloaded\n", src->name, id ? id : module,
	       r->orphan ? "an orphan, unloaded with staprun-auth -d"
			 : "its stapio TERMed");
	rc = 0;
out:
	free(runs);
	free(text);
	return rc;
}

int sc_helper_kill(int argc, char **argv, const struct sc_helper_env *env)
{
	struct sc_strv specs = {0};
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_LIST(
			'T', NULL, "TARGET", &specs,
			"stop the run on TARGET (a known_hosts target) instead of here"),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "kill",
		.synopsis = "[-T TARGET] MODULE\n-T TARGET RUN",
		.about =
			"Stop your run of MODULE (as stapcache ps names it), or your detached\n"
			"run RUN (MODULE@EPOCH, as --detach printed it), the way a Ctrl-C\n"
			"does, and wait until the module is unloaded. Another user's run is\n"
			"refused (exit 4).",
		SC_CMDOPT_ROWS(opts),
		.min_args = 1,
		.max_args = 1,
	};
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	struct source src = {.name = "local"};
	const struct sc_target *t;
	const char *module, *id = NULL;
	char modbuf[64], *noted = NULL;
	int rc = 1, r = sc_cmdopt_parse(&spec, argc, argv);

	if (r < 0) {
		rc = sc_cmdopt_exit(r);
		goto out;
	}
	module = argv[r];
	if (specs.n > 1) {
		rc = sc_cmdopt_usage_error(&spec, "one -T TARGET at most");
		goto out;
	}
	if (strchr(module, '@')) { /* a detached run's id */
		if (!sc_run_id_ok(module, modbuf, sizeof(modbuf))) {
			rc = sc_cmdopt_usage_error(&spec, "'%s' is not a run id", module);
			goto out;
		}
		if (!specs.n && (sc_detached_targets(env, module, &noted, &specs) < 0 ||
				 specs.n != 1)) {
			rc = sc_cmdopt_usage_error(&spec, "a detached run: which target? "
							  "-T TARGET");
			goto out;
		}
		id = module;
		module = modbuf;
	} else if (!sc_module_name_ok(module)) {
		rc = sc_cmdopt_usage_error(&spec, "'%s' is not a module name", module);
		goto out;
	}
	if (specs.n) {
		if (sc_targets_load(env->known_hosts, &all, &err) < 0) {
			fprintf(stderr, "stapcache: kill: %s\n", err.msg);
			goto out;
		}
		t = sc_targets_find(&all, specs.v[0]);
		if (!t) {
			fprintf(stderr, "stapcache: kill: no target %s in %s\n",
				specs.v[0], env->known_hosts);
			goto out;
		}
		src.name = t->name;
		if (connect_to(t, env, &src.s, &err) < 0) {
			fprintf(stderr, "stapcache: kill: %s\n", err.msg);
			goto out;
		}
	}
	rc = kill_in(&src, module, id);
out:
	sc_ssh_free(src.s);
	sc_targets_clear(&all);
	free(specs.v);
	free(noted);
	return rc;
}
