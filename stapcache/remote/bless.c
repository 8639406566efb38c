/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache bless -T TARGET ... FILE.ko`, the SSH half: append the module's
 * authorized_probes line on each target, as an admin login.
 *
 *   stapcache-remote bless [--admin USER] [--policy PATH] -T NAME ... -- HEX LINE
 *
 * The frontend (commands.c) computes HEX and LINE from the module; this only
 * ships LINE. On the target the script (common/policy-sh.c) runs as root:
 * directly when the login is root, else through `sudo -n` (no password
 * prompt: it fails fast). It is fed on stdin, so the policy path and the line
 * never reach a command line. It trusts the policy exactly as staprun-auth
 * does (policy.h's rules: no symlink, FIFO or device, root's, not writable by
 * group or others, and so every directory above it) and refuses anything
 * else, changing nothing. The append is atomic and idempotent:
 * - a line for the same digest already there: nothing changes ("already");
 * - else a temp file in the policy's own directory gets the opened file's
 *   bytes plus the line, that file's owner and mode, and is renamed over it,
 *   so a reader (staprun-auth) sees the old file or the new one, never half;
 * - a mkdir lock next to the file keeps two concurrent blesses from losing
 *   one of the lines.
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bless.h"
#include "fsutil.h"
#include "policy.h"
#include "remote.h"
#include "ssh.h"
#include "targets.h"

#define DEFAULT_POLICY "/etc/systemtap/authorized_probes"

/* Root runs the script itself; anyone else through sudo, which must not ask. */
static const char bless_cmd[] =
	"if [ \"$(id -u)\" = 0 ]; then exec sh -s; else exec sudo -n sh -s; fi";

static int bless_one(const struct sc_target *t, const char *admin, const char *policy,
		     const char *hex, const char *line)
{
	struct sc_ssh_opts o = {.name = t->name,
				.connect_timeout = SC_REMOTE_DEFAULT_CONNECT_TIMEOUT};
	struct sc_error err = {{0}};
	struct sc_execute ex = t->ex;
	struct sc_ssh *s = NULL;
	char *script = sc_policy_bless_script(policy, hex, line);
	char *out = NULL, *nl;
	int st = 0, r;

	if (!script)
		return -ENOMEM;
	if (admin)
		ex.user = (char *)admin;
	sc_remote_env(&o);
	r = sc_ssh_connect(&ex, &o, &s, &err);
	if (r == 0)
		r = sc_ssh_exec(s, bless_cmd, script, strlen(script), &out, &st, &err);
	if (r < 0) {
		fprintf(stderr, "stapcache: %s: %s\n", t->name, err.msg);
	} else if (st == 3) { /* refused by the trust rules: nothing changed */
		err.msg[strcspn(err.msg, "\n")] = '\0';
		fprintf(stderr, "stapcache: %s: not blessed: %s (nothing was changed)\n",
			t->name, err.msg);
		r = -EPERM;
	} else if (st != 0) {
		fprintf(stderr, "stapcache: %s: blessing in %s failed (status %d)%s%s\n",
			t->name, policy, st, err.msg[0] ? ": " : "", err.msg);
		if (st == 1 && ex.user && strcmp(ex.user, "root") != 0)
			fprintf(stderr,
				"stapcache: %s: %s is not root and `sudo -n` refused; "
				"use --admin root or a sudo-capable user\n",
				t->name, ex.user);
		r = -EACCES;
	} else {
		nl = strchr(out ? out : "", '\n');
		if (nl)
			*nl = '\0';
		if (out && (!strcmp(out, "already") || !strcmp(out, "appended"))) {
			printf("%s: %s %s in %s\n", t->name,
			       !strcmp(out, "already") ? "already blessed:" : "blessed",
			       hex, policy);
		} else {
			fprintf(stderr,
				"stapcache: %s: blessing in %s: unexpected answer '%.80s'\n",
				t->name, policy, out ? out : "");
			r = -EIO;
		}
	}
	sc_ssh_free(s);
	free(out);
	free(script);
	return r;
}

enum { OPT_ADMIN = 256, OPT_POLICY };

int sc_cmd_bless_remote(int argc, char **argv)
{
	static const struct option longs[] = {
		{"admin", required_argument, NULL, OPT_ADMIN},
		{"policy", required_argument, NULL, OPT_POLICY},
		{NULL, 0, NULL, 0},
	};
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	const char *admin = NULL, *policy = DEFAULT_POLICY;
	const char **names = calloc((size_t)argc, sizeof(*names));
	char *path = sc_remote_known_hosts();
	size_t n = 0, *idx = NULL, nidx = 0;
	int c, status = 2;

	if (!names || !path)
		goto out;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+T:", longs, NULL)) != -1) {
		if (c == 'T')
			names[n++] = optarg;
		else if (c == OPT_ADMIN)
			admin = optarg;
		else if (c == OPT_POLICY)
			policy = optarg;
		else
			goto out;
	}
	if (n == 0 || argc - optind != 2) {
		fprintf(stderr, "stapcache-remote bless: -T NAME ... -- HEX LINE\n");
		goto out;
	}
	status = 1;
	if (sc_targets_load(path, &all, &err) < 0 ||
	    sc_targets_select(&all, (const char *const *)names, n, &idx, &nidx, &err) <
		    0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		goto out;
	}
	status = 0;
	for (size_t i = 0; i < nidx; i++)
		if (bless_one(&all.v[idx[i]], admin, policy, argv[optind],
			      argv[optind + 1]) < 0)
			status = 1;
out:
	sc_targets_clear(&all);
	free(idx);
	free(names);
	free(path);
	return status;
}
