/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stapcache-remote: the part of stapcache that speaks SSH. The frontend
 * (stapcache) execs it for -T runs and for `stapcache host ...`, so that only
 * these commands pay for loading libssh; a cache hit never does.
 *
 *   stapcache-remote run [-v] [--entry YAML]... [--connect-timeout S]
 *                        [--io-timeout S] [--jobs N] [--output json] [--trace]
 *                        [--output-file FILE] [--no-progress]
 *                        -T NAME=MODULE.ko ...
 *                        [--duration S [--detach]] [--runner-arg WORD ...]
 *                        [--] [NAME=VALUE ...]
 *
 * The runner's options (WORDs, before the module) and parameters (after it)
 * arrive spelled for the runner already: the frontend takes them from the
 * option table (sc_run_opts), exactly as a local run does.
 *   stapcache-remote host VERB ...      (host-admin.c; `host probe NAME EXECUTE`
 *                        prints an ad-hoc target's entry for --remote)
 *   stapcache-remote bless -T NAME ... -- HEX LINE   (policy-edit.c)
 *   stapcache-remote doctor [--json] [--local] [--check LINE]... [-T NAME]...
 *                        (doctor-report.c)
 *   stapcache-remote ps|kill ...        (runs.c)
 *   stapcache-remote logs ...           (logs.c)
 *
 * Every verb parses its arguments with core/cmdopt.h (-h/--help: its usage
 * on stdout, exit 0; a usage error: one line and a hint, exit 2); run takes
 * its shared options from the compile command's rows (core/options.h), as
 * stapcache itself parsed them. The environment is read here, once, and
 * handed to each verb (helper.h).
 */
#include "build-config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "core/cmdopt.h"
#include "core/options.h" /* the rows run shares with the compile command */
#include "output/progress.h"
#include "remote/helper/doctor-report.h"
#include "remote/helper/fanout.h"
#include "remote/helper/helper.h"
#include "remote/helper/host-admin.h"
#include "remote/helper/logs.h"
#include "remote/helper/policy-edit.h"
#include "remote/helper/runs.h"
#include "remote/targets.h"

/* What run was given besides the shared rows (those are in req). */
struct run_args {
	struct sc_request req; /* -v, --connect-timeout, --io-timeout, --jobs, ... */
	struct sc_strv runner_args, entries, modules;
	const char *output_file;
	bool trace;
};

/*
 * The -T NAME=MODULE.ko items, looked up in all (known_hosts and the
 * --entry ad-hoc targets). Returns 0, or non-zero after saying why.
 */
static int run_items(const struct sc_cmdopt_spec *spec, const struct run_args *a,
		     const struct sc_helper_env *env, struct sc_targets *all,
		     struct sc_fanout_item *items)
{
	struct sc_error err = {{0}};

	/* First every --entry: a later parse may move the targets found before it. */
	for (size_t i = 0; i < a->entries.n; i++)
		if (sc_targets_parse("--remote", a->entries.v[i], strlen(a->entries.v[i]),
				     all, &err) < 0) {
			fprintf(stderr, "stapcache: %s\n", err.msg);
			return 1;
		}
	for (size_t i = 0; i < a->modules.n; i++) {
		const char *v = a->modules.v[i], *eq = strchr(v, '=');
		char *name;

		if (!eq)
			return sc_cmdopt_usage_error(spec,
						     "-T '%s': expected NAME=MODULE.ko",
						     v);
		name = sc_strdupf("%.*s", (int)(eq - v), v);
		items[i].target = sc_targets_find(all, name);
		items[i].module_path = eq + 1;
		if (!items[i].target)
			fprintf(stderr, "stapcache: -T %s: no such target in %s\n", name,
				env->known_hosts);
		free(name);
		if (!items[i].target)
			return 1;
	}
	return 0;
}

/* Run each module on its target (fanout.c), with what a and env say. */
static int run_fanout(const struct run_args *a, const struct sc_helper_env *env,
		      const struct sc_fanout_item *items, char **params, int nparams)
{
	const struct sc_request *req = &a->req;
	struct sc_run_req rq = {.grace = 20};
	struct sc_output_opts oo = {.json = req->output_json,
				    .trace = a->trace,
				    .file = a->output_file};
	struct sc_run_secret sudo;
	bool progress = !req->no_progress && sc_progress_wanted(STDERR_FILENO, env->term);
	char detached[4200];
	int status;

	snprintf(detached, sizeof(detached), "%s/" SC_DETACHED_DIR, env->cache_dir);

	rq.ssh = sc_helper_ssh_opts(env, NULL);
	if (req->connect_timeout)
		rq.ssh.connect_timeout = req->connect_timeout;
	rq.ssh.io_timeout = req->io_timeout;
	rq.ssh.verbose = req->verbose;
	rq.duration = (unsigned)req->duration;
	rq.detach = req->detach;
	rq.run_epoch = (long long)time(NULL);
	rq.detach_record = detached;
	rq.rotate_mb = req->rotate_mb ? req->rotate_mb : SC_DETACH_ROTATE_MB;
	rq.rotate_files = req->rotate_mb ? req->rotate_files : SC_DETACH_ROTATE_FILES;
	if (rq.detach && !rq.duration) {
		fprintf(stderr, "stapcache: --detach needs --duration SECONDS\n");
		return 2;
	}
	if (sc_run_secret_init(&sudo, env->may_prompt && isatty(STDERR_FILENO)) < 0) {
		fprintf(stderr, "stapcache: cannot set up the sudo prompt: %s\n",
			strerror(errno));
		return 2;
	}
	rq.sudo = &sudo;
	rq.runner_opts = a->runner_args.v;
	rq.nrunner_opts = a->runner_args.n;
	rq.params = (const char *const *)params;
	rq.nparams = (size_t)nparams;
	status = sc_fanout_run(items, a->modules.n, &rq,
			       req->jobs ? req->jobs : SC_REMOTE_DEFAULT_JOBS, progress,
			       &oo);
	sc_run_secret_clear(&sudo);
	return status;
}

/*
 * run: the modules stapcache built, each on its target. Its status is the
 * run's (fanout.h); 2 a usage error or a run that could not start.
 */
static int helper_run(int argc, char **argv, const struct sc_helper_env *env)
{
	struct run_args a = {.trace = false};
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_LIST('T', NULL, "NAME=MODULE.ko", &a.modules,
			       "run MODULE.ko on target NAME; repeat for more"),
		SC_CMDOPT_LIST(0, "entry", "YAML", &a.entries,
			       "an ad-hoc target's known_hosts entry (host probe's output)"),
		SC_CMDOPT_LIST(0, "runner-arg", "WORD", &a.runner_args,
			       "a word of the runner's command line, before the module"),
		SC_CMDOPT_FLAG(0, "trace", &a.trace,
			       "the output is a one-liner's events"),
		SC_CMDOPT_STRING(0, "output-file", "FILE", &a.output_file,
				 "write the output to FILE (FILE.NAME for each of several)"),
		SC_CMDOPT_ROW('v'),
		SC_CMDOPT_ROW(SC_OPT_CONNECT_TIMEOUT),
		SC_CMDOPT_ROW(SC_OPT_IO_TIMEOUT),
		SC_CMDOPT_ROW(SC_OPT_JOBS),
		SC_CMDOPT_ROW(SC_OPT_DURATION),
		SC_CMDOPT_ROW(SC_OPT_DETACH),
		SC_CMDOPT_ROW(SC_OPT_ROTATE),
		SC_CMDOPT_ROW(SC_OPT_OUTPUT),
		SC_CMDOPT_ROW(SC_OPT_NO_PROGRESS),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "run",
		.prog = "stapcache-remote",
		.synopsis = "[OPTIONS] -T NAME=MODULE.ko... [--] [NAME=VALUE]...",
		.about =
			"Ship each module to its target over SSH and run it there, the\n"
			"output here (run by stapcache -T); NAME=VALUE are module parameters.",
		SC_CMDOPT_ROWS(opts),
		.max_args = -1,
		.stop_at_operand = true,
		.req = &a.req,
	};
	struct sc_fanout_item *items = NULL;
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	int status = sc_cmdopt_parse(&spec, argc, argv), r = status;

	if (r < 0) {
		status = sc_cmdopt_exit(r);
		goto out;
	}
	status = 2;
	if (a.modules.n == 0) {
		status = sc_cmdopt_usage_error(&spec, "no -T NAME=MODULE.ko");
		goto out;
	}
	items = calloc(a.modules.n, sizeof(*items));
	if (!items) {
		fprintf(stderr, "stapcache: out of memory\n");
		goto out;
	}
	if (sc_targets_load(env->known_hosts, &all, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		goto out;
	}
	if (run_items(&spec, &a, env, &all, items) == 0)
		status = run_fanout(&a, env, items, argv + r, argc - r);
out:
	sc_targets_clear(&all);
	free(items);
	free(a.modules.v);
	free(a.entries.v);
	free(a.runner_args.v);
	sc_options_free(&a.req);
	return status;
}

/*
 * The environment, read once: where ~/.ssh and known_hosts are, whether a
 * person is there to ask. ssh_dir[0..n) holds the one; the other is returned
 * (env->known_hosts points to it; the caller frees it).
 */
static char *read_env(struct sc_helper_env *env, char *ssh_dir, size_t n, char *cache_dir,
		      size_t cn)
{
	const char *home = getenv("HOME"), *xdg_cache = getenv("XDG_CACHE_HOME");
	char *known_hosts = sc_targets_default_path(getenv("XDG_CONFIG_HOME"), home);

	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : "/";
	}
	snprintf(ssh_dir, n, "%s/.ssh", home);
	if (xdg_cache && xdg_cache[0] == '/')
		snprintf(cache_dir, cn, "%s/stapcache", xdg_cache);
	else
		snprintf(cache_dir, cn, "%s/.cache/stapcache", home);
	*env = (struct sc_helper_env){
		.ssh_dir = ssh_dir,
		.known_hosts = known_hosts,
		.user = getenv("USER"),
		.term = getenv("TERM"),
		.cache_dir = cache_dir,
		.may_prompt = isatty(STDIN_FILENO) &&
			      access("/dev/tty", R_OK | W_OK) == 0,
	};
	return known_hosts;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv, const struct sc_helper_env *env);
} verbs[] = {
	{"run", helper_run},        {"host", sc_helper_host},
	{"bless", sc_helper_bless}, {"doctor", sc_helper_doctor},
	{"ps", sc_helper_ps},       {"kill", sc_helper_kill},
	{"logs", sc_helper_logs},
};

int main(int argc, char **argv)
{
	struct sc_helper_env env;
	char ssh_dir[4096], cache_dir[4096], *known_hosts;
	int status;

	for (size_t i = 0; argc > 1 && i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name) != 0)
			continue;
		known_hosts = read_env(&env, ssh_dir, sizeof(ssh_dir), cache_dir,
				       sizeof(cache_dir));
		status = verbs[i].run(argc - 1, argv + 1, &env);
		free(known_hosts);
		return status;
	}
	fprintf(stderr,
		"stapcache-remote is run by stapcache (-T TARGET, stapcache host ...); "
		"see stapcache(1)\n");
	return 2;
}
