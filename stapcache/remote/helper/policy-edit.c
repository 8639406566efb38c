/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache bless -T TARGET ... FILE.ko`, the SSH half: append the module's
 * authorized_probes line on each target, as an admin login.
 *
 *   stapcache-remote bless [--admin USER] [--policy PATH] -T NAME ... -- HEX LINE
 *
 * The frontend (cmd/bless.c) computes HEX and LINE from the module; this only
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote/helper/policy-edit.h"
#include "common/fsutil.h"
#include "common/policy.h"
#include "core/cmdopt.h"
#include "remote/helper/helper.h"
#include "remote/helper/ssh.h"
#include "remote/targets.h"

#define DEFAULT_POLICY "/etc/systemtap/authorized_probes"

/* Root runs the script itself; anyone else through sudo, which must not ask. */
static const char bless_cmd[] =
	"if [ \"$(id -u)\" = 0 ]; then exec sh -s; else exec sudo -n sh -s; fi";

static int bless_one(const struct sc_target *t, const struct sc_helper_env *env,
		     const char *admin, const char *policy, const char *hex,
		     const char *line, bool sig)
{
	struct sc_ssh_opts o = sc_helper_ssh_opts(env, t->name);
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
			printf("%s: %s %s in %s%s\n", t->name,
			       !strcmp(out, "already") ? "already blessed:" : "blessed",
			       hex, policy, sig ? " (the signed variant)" : "");
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

int sc_helper_bless(int argc, char **argv, const struct sc_helper_env *env)
{
	struct sc_strv names = {0};
	const char *admin = NULL, *policy = DEFAULT_POLICY;
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_LIST('T', NULL, "TARGET", &names,
			       "a known_hosts target or @GROUP; repeat for more"),
		SC_CMDOPT_STRING(0, "admin", "USER", &admin,
				 "log in as USER (default: the target's login)"),
		SC_CMDOPT_STRING(0, "policy", "PATH", &policy,
				 "the policy file (default: " DEFAULT_POLICY ")"),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "bless",
		.prog = "stapcache-remote",
		.synopsis = "-T TARGET... [--admin USER] [--policy PATH] -- HEX LINE "
			    "[SIGNED-HEX SIGNED-LINE]",
		.about =
			"Append LINE, the authorized_probes line of the module whose SHA-256\n"
			"is HEX, on each target unless HEX is there already (run by\n"
			"stapcache bless -T). A target whose known_hosts entry says it loads\n"
			"only signed modules gets SIGNED-LINE (the signed variant) instead.",
		SC_CMDOPT_ROWS(opts),
		.min_args = 2,
		.max_args = 4,
		.stop_at_operand = true,
	};
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	size_t *idx = NULL, nidx = 0;
	int status = sc_cmdopt_parse(&spec, argc, argv), r = status;

	if (r < 0) {
		status = sc_cmdopt_exit(r);
		goto out;
	}
	if (names.n == 0) {
		status = sc_cmdopt_usage_error(&spec, "no -T TARGET");
		goto out;
	}
	status = 1;
	if (sc_targets_load(env->known_hosts, &all, &err) < 0 ||
	    sc_targets_select(&all, names.v, names.n, &idx, &nidx, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		goto out;
	}
	if (argc - r == 3) {
		status = sc_cmdopt_usage_error(&spec,
					       "a SIGNED-HEX needs its SIGNED-LINE");
		goto out;
	}
	status = 0;
	for (size_t i = 0; i < nidx; i++) {
		const struct sc_target *t = &all.v[idx[i]];
		bool sig = sc_target_needs_signature(t);

		if (sig && argc - r < 4) {
			char *why = sc_target_enforcement(t);

			fprintf(stderr,
				"stapcache: %s loads only signed modules (%s): bless it with "
				"--sign KEY\n",
				t->name, why);
			free(why);
			status = 1;
		} else if (bless_one(t, env, admin, policy, argv[r + (sig ? 2 : 0)],
				     argv[r + (sig ? 3 : 1)], sig) < 0) {
			status = 1;
		}
	}
out:
	sc_targets_clear(&all);
	free(idx);
	free(names.v);
	return status;
}
