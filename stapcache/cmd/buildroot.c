/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache buildroot create|show`: build roots (core/build-root.h), another
 * Debian release's stap and kernel headers for the targets that run it.
 * create runs the stapcache-buildroot helper (debootstrap and apt-get, as
 * root); show opens a root the way a build does, enters it, and prints what
 * a build there would use.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/fsutil.h"
#include "common/spawn.h"
#include "core/build-tree.h"
#include "core/build-root.h"
#include "core/cmdopt.h"
#include "core/context.h"
#include "core/libexec.h"

struct buildroot_args {
	const char *release, *dir, *mirror;
	bool no_security, no_image, refresh, force;
};

static int create(const struct buildroot_args *a)
{
	char *helper = sc_helper_path("stapcache-buildroot");
	char *fix = sc_helper_path("stapcache-fix-runtime");
	struct sc_argv v = {0};
	int r = sc_argv_push(&v, helper);

	r = r ?: sc_argv_push(&v, "--release") ?: sc_argv_push(&v, a->release);
	r = r ?: sc_argv_push(&v, "--fix-runtime") ?: sc_argv_push(&v, fix);
	if (a->dir)
		r = r ?: sc_argv_push(&v, "--dir") ?: sc_argv_push(&v, a->dir);
	if (a->mirror)
		r = r ?: sc_argv_push(&v, "--mirror") ?: sc_argv_push(&v, a->mirror);
	if (a->no_security)
		r = r ?: sc_argv_push(&v, "--no-security");
	if (a->no_image)
		r = r ?: sc_argv_push(&v, "--no-image");
	if (a->refresh)
		r = r ?: sc_argv_push(&v, "--refresh");
	if (a->force)
		r = r ?: sc_argv_push(&v, "--force");
	if (r == 0) {
		fflush(NULL);
		execv(helper, (char *const *)v.v);
		fprintf(stderr,
			"stapcache: cannot run %s: %s (is stapcache installed?)\n",
			helper, strerror(errno));
	}
	sc_argv_free(&v);
	free(helper);
	free(fix);
	return 1;
}

/* The runtime a build in k's root uses, with its fixes. */
static void show_runtime(const struct sc_buildroot *br)
{
	const char *rt = sc_buildroot_runtime(br);
	char *stamp = sc_strdupf("%s%s/STAPCACHE-FIXES", br->dir, rt), *buf = NULL;
	const char *fixes = NULL;

	if (sc_read_file(stamp, 4096, &buf, NULL) == 0 && (fixes = strstr(buf, "fixes:")))
		fixes += 6;
	printf("runtime:      %s (%s%.*s)\n", rt, fixes ? "fixed:" : "systemtap's own",
	       fixes ? (int)strcspn(fixes, "\n") : 0, fixes ? fixes : "");
	free(buf);
	free(stamp);
}

static int show(const char *dir, const char *kernel)
{
	const char *argv[] = {SC_BUILDROOT_STAP, "-V", NULL};
	struct sc_error err = {{0}};
	struct sc_kernel k = {0};
	struct sc_env env;
	struct sc_ctx ctx = {0};
	char *out = NULL;
	int status = 1;

	sc_env_read(&env);
	if (sc_ctx_init(&ctx, &env, &err) < 0 ||
	    sc_kernel_resolve_root(dir, ctx.buildroot_homes, kernel, NULL, &k, &err) < 0)
		goto out;
	printf("build root:   %s\n", k.root->dir);
	printf("release:      %s (%s)\n", k.root->release, k.root->arch);
	printf("systemtap:    %s\n", k.root->systemtap);
	printf("kernel:       %s (%s)\n", k.release, k.tree_inside);
	show_runtime(k.root);
	printf("id:           %s\n", k.root->id);
	printf("stap's home:  %s\n", k.root->home);
	printf("entered as:   %s\n", geteuid() == 0 ? "root, in a private mount namespace"
						    : "you, through a user namespace");
	fflush(stdout);
	if (sc_buildroot_capture(k.root, argv, 4096, &out, &err) < 0)
		goto out;
	printf("stap -V:      %.*s\n", (int)strcspn(out, "\n"), out);
	status = 0;
out:
	if (status)
		fprintf(stderr, "stapcache: buildroot show: %s\n", err.msg);
	free(out);
	sc_kernel_clear(&k);
	sc_ctx_clear(&ctx);
	return status;
}

int sc_cmd_buildroot(int argc, char **argv)
{
	struct buildroot_args a = {0};
	const char *kernel = NULL;
	const struct sc_cmdopt create_opts[] = {
		SC_CMDOPT_STRING(0, "release", "RELEASE", &a.release,
				 "the Debian release (bookworm, trixie, ...); required"),
		SC_CMDOPT_STRING(0, "dir", "DIR", &a.dir,
				 "where the root goes (default\n"
				 "/var/lib/stapcache/buildroot/RELEASE)"),
		SC_CMDOPT_STRING(0, "mirror", "URL", &a.mirror,
				 "the Debian mirror (default http://deb.debian.org/debian)"),
		SC_CMDOPT_FLAG(0, "no-security", &a.no_security,
			       "RELEASE alone, without RELEASE-updates and -security"),
		SC_CMDOPT_FLAG(0, "no-image", &a.no_image,
			       "keep no linux-image .deb (a test guest boots it)"),
		SC_CMDOPT_FLAG(0, "refresh", &a.refresh,
			       "ask the mirror whether anything changed; rebuild only then"),
		SC_CMDOPT_FLAG(0, "force", &a.force,
			       "build a new root even if the present one is complete"),
	};
	const struct sc_cmdopt show_opts[] = {
		SC_CMDOPT_STRING('r', NULL, "RELEASE", &kernel,
				 "the kernel whose headers to look for (default: the\n"
				 "root's own)"),
	};
	const struct sc_cmdopt_spec verbs[] = {
		{.name = "buildroot create",
		 .synopsis =
			 "--release RELEASE [--dir DIR] [--mirror URL] [--no-security]\n"
			 "[--no-image] [--refresh] [--force]",
		 .about =
			 "Create a build root for a Debian release from the Debian archive\n"
			 "(debootstrap, then systemtap, linux-headers-amd64, gcc and make),\n"
			 "with the systemtap runtime fixed for its kernel where it needs it,\n"
			 "or reuse the one in DIR when it holds what was asked for. Prints\n"
			 "its directory: name it as build-root: of the known_hosts targets\n"
			 "that run RELEASE. Needs root; minutes and ~1 GB the first time.",
		 SC_CMDOPT_ROWS(create_opts)},
		{.name = "buildroot show",
		 .synopsis = "[-r RELEASE] DIR",
		 .about =
			 "What a build in the root DIR uses (release, systemtap, kernel\n"
			 "headers, runtime, stap's home), and stap -V run inside it: the\n"
			 "check that this user can enter it. Exit 1 when that fails.",
		 SC_CMDOPT_ROWS(show_opts),
		 .min_args = 1,
		 .max_args = 1},
	};
	const struct sc_cmdopt_spec top = {
		.name = "buildroot",
		.synopsis = "create|show [OPTIONS]",
		.about =
			"Build roots: another Debian release's stap and kernel headers,\n"
			"for known_hosts targets that run it (stapcache buildroot VERB\n"
			"--help for each verb).",
		.min_args = 1,
		.max_args = -1,
		.stop_at_operand = true,
	};
	const struct sc_cmdopt_spec *verb;
	int r = sc_cmdopt_verb(&top, verbs, sizeof(verbs) / sizeof(verbs[0]), &argc,
			       &argv, &verb);

	if (r < 0)
		return sc_cmdopt_exit(r);
	if (verb == &verbs[1])
		return show(argv[r], kernel);
	if (!a.release)
		return sc_cmdopt_usage_error(verb, "--release RELEASE is required");
	return create(&a);
}
