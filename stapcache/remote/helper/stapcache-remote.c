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
 *                        [--duration S] [--runner-arg WORD ...] [--] [NAME=VALUE ...]
 *
 * The runner's options (WORDs, before the module) and parameters (after it)
 * arrive spelled for the runner already: the frontend takes them from the
 * option table (sc_run_opts), exactly as a local run does.
 *   stapcache-remote host SUBCOMMAND ...      (see host.c; `host probe NAME EXECUTE`
 *                        prints an ad-hoc target's entry for --remote)
 *   stapcache-remote bless ... -T NAME ... -- HEX LINE   (see bless.c)
 *   stapcache-remote ps|kill ...              (see ps.c)
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote/helper/policy-edit.h"
#include "remote/helper/fanout.h"
#include "common/fsutil.h"
#include "remote/helper/host-admin.h"
#include "output/progress.h"
#include "remote/helper/doctor-report.h"
#include "remote/helper/runs.h"
#include "remote/helper/helper.h"
#include "common/config.h"     /* SC_MAX_DURATION */
#include "core/options.h" /* the ranges of --connect-timeout and --jobs */

/* Read once, here at the edge: where ~/.ssh is, and whether a person is there to ask. */
void sc_remote_env(struct sc_ssh_opts *o)
{
	const char *home = getenv("HOME");
	static char dir[4096];

	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : "/";
	}
	snprintf(dir, sizeof(dir), "%s/.ssh", home);
	o->ssh_dir = dir;
	o->may_prompt = isatty(STDIN_FILENO) && access("/dev/tty", R_OK | W_OK) == 0;
}

char *sc_remote_known_hosts(void)
{
	return sc_targets_default_path(getenv("XDG_CONFIG_HOME"), getenv("HOME"));
}

int sc_remote_int_arg(const char *opt, const char *v, int min, int max, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end || n < min || n > max) {
		fprintf(stderr, "stapcache: %s '%s': expected a number %d-%d\n", opt, v,
			min, max);
		return -EINVAL;
	}
	*out = (int)n;
	return 0;
}

enum {
	OPT_CONNECT_TIMEOUT = 256,
	OPT_JOBS,
	OPT_RUNNER_ARG,
	OPT_ENTRY,
	OPT_NO_PROGRESS,
	OPT_DURATION,
	OPT_IO_TIMEOUT,
	OPT_OUTPUT,
	OPT_TRACE,
	OPT_OUTPUT_FILE
};

static int cmd_run(int argc, char **argv)
{
	static const struct option longs[] = {
		{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
		{"io-timeout", required_argument, NULL, OPT_IO_TIMEOUT},
		{"jobs", required_argument, NULL, OPT_JOBS},
		{"runner-arg", required_argument, NULL, OPT_RUNNER_ARG},
		{"entry", required_argument, NULL, OPT_ENTRY},
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"trace", no_argument, NULL, OPT_TRACE},
		{"output-file", required_argument, NULL, OPT_OUTPUT_FILE},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"duration", required_argument, NULL, OPT_DURATION},
		{NULL, 0, NULL, 0},
	};
	struct sc_run_req rq = {.grace = 20};
	struct sc_output_opts oo = {0};
	struct sc_run_secret sudo;
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	struct sc_fanout_item *items = NULL;
	const char **opts = NULL;
	char *path = NULL;
	size_t nitems = 0, nopts = 0;
	int c, jobs = SC_REMOTE_DEFAULT_JOBS, status = 2;
	bool progress = sc_progress_wanted(STDERR_FILENO, getenv("TERM"));

	rq.ssh.connect_timeout = SC_REMOTE_DEFAULT_CONNECT_TIMEOUT;
	items = calloc((size_t)argc, sizeof(*items));
	opts = calloc((size_t)argc, sizeof(*opts));
	if (!items || !opts) {
		free(items);
		free(opts);
		return 1;
	}
	path = sc_remote_known_hosts();
	if (sc_targets_load(path, &all, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		goto out;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "+vT:", longs, NULL)) != -1) {
		switch (c) {
		case 'v':
			rq.ssh.verbose++;
			break;
		case OPT_RUNNER_ARG:
			opts[nopts++] = optarg;
			break;
		case OPT_OUTPUT:
			oo.json = !strcmp(optarg, "json");
			break;
		case OPT_TRACE:
			oo.trace = true;
			break;
		case OPT_OUTPUT_FILE:
			oo.file = optarg;
			break;
		case OPT_NO_PROGRESS:
			progress = false;
			break;
		case OPT_ENTRY: /* an ad-hoc target (--remote), as host probe printed it */
			if (sc_targets_parse("--remote", optarg, strlen(optarg), &all,
					     &err) < 0) {
				fprintf(stderr, "stapcache: %s\n", err.msg);
				goto out;
			}
			break;
		case 'T': {
			char *eq = strchr(optarg, '=');
			const struct sc_target *t;

			if (!eq) {
				fprintf(stderr, "stapcache-remote: -T NAME=MODULE.ko\n");
				goto out;
			}
			*eq = '\0';
			t = sc_targets_find(&all, optarg);
			if (!t) {
				fprintf(stderr,
					"stapcache: -T %s: no such target in %s\n",
					optarg, path);
				goto out;
			}
			items[nitems].target = t;
			items[nitems++].module_path = eq + 1;
			break;
		}
		case OPT_CONNECT_TIMEOUT:
			if (sc_remote_int_arg("--connect-timeout", optarg, 1,
					      SC_REMOTE_CONNECT_TIMEOUT_MAX,
					      &rq.ssh.connect_timeout) < 0)
				goto out;
			break;
		case OPT_IO_TIMEOUT:
			if (sc_remote_int_arg("--io-timeout", optarg, 1,
					      SC_REMOTE_CONNECT_TIMEOUT_MAX,
					      &rq.ssh.io_timeout) < 0)
				goto out;
			break;
		case OPT_JOBS:
			if (sc_remote_int_arg("--jobs", optarg, 1, SC_REMOTE_JOBS_MAX,
					      &jobs) < 0)
				goto out;
			break;
		case OPT_DURATION: {
			int d;

			if (sc_remote_int_arg("--duration", optarg, 1,
					      (int)SC_MAX_DURATION, &d) < 0)
				goto out;
			rq.duration = (unsigned)d;
			break;
		}
		default:
			fprintf(stderr, "stapcache-remote run: bad arguments\n");
			goto out;
		}
	}
	if (nitems == 0) {
		fprintf(stderr, "stapcache-remote run: no -T NAME=MODULE.ko\n");
		goto out;
	}
	sc_remote_env(&rq.ssh);
	if (sc_run_secret_init(&sudo, rq.ssh.may_prompt && isatty(STDERR_FILENO)) < 0) {
		fprintf(stderr, "stapcache: cannot set up the sudo prompt: %s\n",
			strerror(errno));
		goto out;
	}
	rq.sudo = &sudo;
	rq.runner_opts = opts;
	rq.nrunner_opts = nopts;
	rq.params = (const char *const *)argv + optind;
	rq.nparams = (size_t)(argc - optind);
	status = sc_fanout_run(items, nitems, &rq, jobs, progress, &oo);
	sc_run_secret_clear(&sudo);
out:
	sc_targets_clear(&all);
	free(items);
	free(opts);
	free(path);
	return status;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "host"))
		return sc_cmd_host(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "bless"))
		return sc_cmd_bless_remote(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "doctor"))
		return sc_cmd_doctor_remote(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "ps"))
		return sc_cmd_ps(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "kill"))
		return sc_cmd_kill(argc - 1, argv + 1);
	fprintf(stderr,
		"stapcache-remote is run by stapcache (-T TARGET, stapcache host ...); "
		"see stapcache(1)\n");
	return 2;
}
