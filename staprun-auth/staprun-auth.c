/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * staprun-auth: run a SystemTap module whose SHA-256 an admin blessed in
 * authorized_probes(5), without a root password, and nothing else.
 *
 *   staprun-auth.c  start-up order, options, dispatch
 *   attrs.c     descriptors and every inherited process attribute, reset
 *   env.c       the environment, rebuilt from an allow-list
 *   signals.c   dispositions, mask, the termination signals
 *   privs.c     the caller's identity, every switch of ids, the final drop
 *   cgroup.c    out of the caller's cgroup
 *   registry.c  records of what is loaded for whom, per-user slots; -d, --list
 *   load.c      read once, hash, policy, ELF checks; NAME=VALUE parameters
 *   kernel.c    release, live / instance, watched init_module, unload
 *   control.c   the control-channel messages staprun 4.8 sends
 *   run.c       the run: load, stapio, the watchdog; --verify
 *   audit.c     syslog (LOG_AUTHPRIV) and bounded writes to the caller
 */
#include "build-config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "common/policy.h"

enum { OPT_VERIFY = 256, OPT_LIST, OPT_DURATION };

/* A printf format: its numbers are SC_POLICY_BUFSIZE_MAX and SC_MAX_DURATION. */
#define USAGE_TEXT                                                                            \
	"Usage: staprun-auth [-v] [-c CMD | -x PID] [-o FILE [-S MB[,N]]] [-b BUFSIZE]\n"     \
	"                    [-C WHEN] [--duration SECONDS] MODULE.ko [NAME=VALUE ...]\n"     \
	"       staprun-auth -d MODULE_NAME\n"                                                \
	"       staprun-auth --verify MODULE.ko [NAME=VALUE ...]\n"                           \
	"       staprun-auth --list | --help | --version\n"                                   \
	"\n"                                                                                  \
	"Load a SystemTap module whose SHA-256 is listed in\n"                                \
	"  " SYSCONFDIR "/systemtap/authorized_probes\n"                                      \
	"run it through stapio as you, and unload it at the end.\n"                           \
	"\n"                                                                                  \
	"  -v            more messages (repeat for more)\n"                                   \
	"  -c CMD        run CMD (as you) and stop when it exits\n"                           \
	"  -x PID        set the script's target() to PID\n"                                  \
	"  -o FILE       write the output to FILE (strftime formats allowed)\n"               \
	"  -b BUFSIZE    buffer size in MiB per CPU, 1-%d (the policy may allow less)\n"      \
	"  -S MB[,N]     with -o: a new output file (FILE.0, FILE.1, ...) every MB MiB,\n"    \
	"                the oldest removed beyond N files (stapio's -S)\n"                   \
	"  -C WHEN       colour error messages: never, auto or always\n"                      \
	"  --duration SECONDS\n"                                                              \
	"                stop the run SECONDS after it started (at most %u), whatever\n"      \
	"                happens to the processes you own; exit status 124 then\n"            \
	"  -d NAME       unload module NAME, if staprun-auth loaded it for you\n"             \
	"  --verify      say whether MODULE.ko would be allowed, and why not; load nothing\n" \
	"  --list        modules staprun-auth loaded that are still loaded\n"                 \
	"  -h, --help    this text\n"                                                         \
	"  -V, --version the version\n"                                                       \
	"\n"                                                                                  \
	"See staprun-auth(8) and authorized_probes(5).\n"

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	struct sa_event ev = {.action = "usage"};
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sa_audit_refuse(&ev, NULL, "%s", text);
	sa_say(2, "Try '%s --help'.\n", SA_PROG);
	return SA_EXIT_USAGE;
}

static int set_mode(struct sa_opts *o, enum sa_mode mode)
{
	if (o->mode != SA_RUN && o->mode != mode)
		return -1;
	o->mode = mode;
	return 0;
}

static int digits(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, "0123456789") == n && s[0] != '0';
}

static int parse_flag(struct sa_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'v':
		o->verbose++;
		return 0;
	case 'c':
		o->cmd = arg;
		return 0;
	case 'x':
		o->pid = arg;
		return digits(arg, 9)
			       ? 0
			       : usage_error("-x needs a process id, not '%s'", arg);
	case 'o':
		o->outfile = arg;
		return 0;
	case 'b':
		o->bufsize = digits(arg, 4) ? (unsigned)atoi(arg) : 0;
		return o->bufsize >= 1 && o->bufsize <= SC_POLICY_BUFSIZE_MAX
			       ? 0
			       : usage_error("invalid buffer size '%s' (1-%d MiB)", arg,
					     SC_POLICY_BUFSIZE_MAX);
	case 'S': /* printed again for stapio (run.c), never passed on as given */
		return sc_policy_rotation_parse(arg, &o->rot_mb, &o->rot_files) == 0
			       ? 0
			       : usage_error("invalid -S '%s' (MB[,N]: MB 1-%d, N 1-%d)",
					     arg, SC_POLICY_ROTATE_MB_MAX,
					     SC_POLICY_ROTATE_FILES_MAX);
	case OPT_DURATION: /* the watchdog's own clock enforces it (run.c) */
		o->duration = digits(arg, 7) ? (unsigned)atol(arg) : 0;
		return o->duration >= 1 && o->duration <= SC_MAX_DURATION
			       ? 0
			       : usage_error("invalid --duration '%s' (1-%u seconds)",
					     arg, SC_MAX_DURATION);
	case 'C':
		o->color = arg;
		return !strcmp(arg, "never") || !strcmp(arg, "auto") ||
				       !strcmp(arg, "always")
			       ? 0
			       : usage_error("-C takes never, auto or always, not '%s'",
					     arg);
	case 'd':
	case OPT_VERIFY:
	case OPT_LIST:
	case 'h':
	case 'V': {
		enum sa_mode m = c == 'd'          ? SA_DELETE
				 : c == OPT_VERIFY ? SA_VERIFY
				 : c == OPT_LIST   ? SA_LIST
				 : c == 'h'        ? SA_HELP
						   : SA_VERSION;

		return set_mode(o, m) ? usage_error("%s", "conflicting modes") : 0;
	}
	default:
		return usage_error("%s", "unknown option");
	}
}

/* What is left after the options: MODULE [NAME=VALUE ...], or a name, or nothing. */
static int parse_operands(struct sa_opts *o, int argc, char **argv)
{
	if (o->mode == SA_HELP || o->mode == SA_VERSION || o->mode == SA_LIST)
		return argc > 0 ? usage_error("unexpected argument '%s'", argv[0]) : 0;
	if (argc < 1)
		return usage_error("%s", o->mode == SA_DELETE ? "-d needs a module name"
							      : "no module given");
	o->module = argv[0];
	if (o->mode == SA_DELETE)
		return argc > 1 ? usage_error("unexpected argument '%s'", argv[1]) : 0;
	if (argc - 1 > SA_MAX_PARAMS)
		return usage_error("%s", "too many module parameters");
	/* Checked (and a bad one refused and logged) when the module is prepared. */
	o->params = argv + 1;
	o->nparams = argc - 1;
	return 0;
}

static int parse_options(int argc, char **argv, struct sa_opts *o)
{
	static const struct option longopts[] = {
		{"verify", no_argument, NULL, OPT_VERIFY},
		{"list", no_argument, NULL, OPT_LIST},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c, r;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	/* '+': stop at the module; everything after it is a module parameter. */
	while ((c = getopt_long(argc, argv, "+vc:x:o:b:S:C:dhV", longopts, NULL)) != -1) {
		if (c == '?')
			return usage_error("invalid option or missing argument near '%s'",
					   argv[optind - 1]);
		r = parse_flag(o, c, optarg);
		if (r)
			return r;
	}
	if (o->mode != SA_RUN && (o->cmd || o->pid || o->outfile || o->duration))
		return usage_error(
			"%s",
			"-c, -x, -o and --duration only apply when loading a module");
	if (o->rot_mb && !o->outfile)
		return usage_error("%s", "-S needs -o FILE (it rotates that file)");
	if (o->cmd && o->pid)
		return usage_error("%s", "-c and -x cannot be used together");
	return parse_operands(o, argc - optind, argv + optind);
}

static int dispatch(const struct sa_opts *o, const struct sa_ids *ids)
{
	switch (o->mode) {
	case SA_HELP:
		sa_say(1, USAGE_TEXT, SC_POLICY_BUFSIZE_MAX, SC_MAX_DURATION);
		return SA_EXIT_OK;
	case SA_VERSION: {
		char stapio[SC_STAP_VERSION_MAX];

		if (sa_stapio_version(stapio) < 0)
			snprintf(stapio, sizeof(stapio), "unknown");
		sa_say(1, "%s %s\ncontrol protocols: %s\nstapio: %s, systemtap %s\n",
		       SA_PROG, PACKAGE_VERSION, sa_protocols_known(), SC_STAPIO, stapio);
		return SA_EXIT_OK;
	}
	case SA_VERIFY:
		return sa_cmd_verify(o, ids);
	case SA_DELETE:
		return sa_cmd_delete(o, ids);
	case SA_LIST:
		return sa_cmd_list(o, ids);
	default:
		return sa_cmd_run(o, ids);
	}
}

/*
 * First the caller's limit on descriptors, which stapio gets back (a run's
 * need), and ours, if it could not be raised. Then a slot, one of the caller's few (registry.c), while
 * the real uid is still the caller's (but not for stapio's own -d at the end
 * of a run, which its run's slot covers: it only says that the run's
 * watchdog unloads; returns 1 then): a process over the limit never becomes root, so the
 * root-side processes of one user are bounded, and a slot is the one lock a
 * process the caller controls may hold (it only ever blocks that caller).
 * Then root through and through, so that the caller can no longer signal
 * us; what needs root to reset (priorities, OOM score, limits); and out of
 * the caller's cgroup, so that it cannot freeze or kill us. Only then any
 * other lock. Without the setuid bit, nothing of this: the caller is told.
 */
static int harden(struct sa_ids *ids, const struct sa_opts *o, const struct sa_event *ev)
{
	struct sc_error err = {.msg = ""};
	unsigned outside = (unsigned)-1;
	int r;

	if (sa_attrs_check_nofile(ids, o->mode == SA_RUN, &err) < 0) {
		sa_audit_refuse(ev, NULL, "%s", err.msg);
		return -EMFILE;
	}
	if (!sa_initial_userns(&outside)) {
		sa_audit_outside(outside);
		sa_audit_refuse(ev, "run it from the host's own user namespace",
				"refusing to run in a user namespace (the setuid bit does "
				"not apply there)");
		return -EPERM;
	}
	if (geteuid() != 0) {
		sa_audit_refuse(
			ev, "as root: chown root:root " SA_SELF " && chmod 4755 " SA_SELF,
			"not installed setuid root (the effective user id must be 0)");
		return -EPERM;
	}
	/* stapio's own -d at the end of a run: its run's slot covers it. */
	if (o->mode == SA_DELETE && sa_registry_own_unload(o->module, ids))
		return 1;
	r = sa_slot_take(ids, &err);
	if (r == 0)
		r = sa_become_root(&err);
	if (r == 0)
		r = sa_attrs_reset_root(ids, &err);
	if (r == 0)
		r = sa_cgroup_leave(ids, &err);
	if (r < 0)
		sa_audit_refuse(ev, NULL, "%s", err.msg);
	return r;
}

int main(int argc, char **argv)
{
	struct sa_event ev = {.action = "start"};
	struct sa_ids ids;
	struct sa_opts o;
	struct rlimit nofile;
	mode_t mask;
	int rc = SA_EXIT_REFUSED, hard = 0;

	/* Timers, personality and descriptors first: nothing of the caller's may
	 * end or mislead us at a moment it picks. Then the environment, before
	 * any library reads it. */
	sa_attrs_reset_early(&nofile);
	memset(&ids, 0, sizeof(ids));
	if (sa_env_rebuild() < 0 || sa_signals_startup() < 0) {
		sa_say(2, "%s: cannot set up a clean environment\n", SA_PROG);
		return SA_EXIT_REFUSED;
	}
	mask = umask(077);
	if (sa_ids_capture(&ids) < 0) {
		sa_say(2, "%s: cannot determine who you are\n", SA_PROG);
		goto out;
	}
	ids.limits[RLIMIT_NOFILE] = nofile; /* the caller's, not the one we raised */
	ids.umask = mask;
	sa_audit_open(&ids);
	/* PwnKit (CVE-2021-4034): with argc 0, argv[1] would be envp[0]. Newer
	 * kernels turn an empty argv into { "" }; refuse that too. */
	if (argc < 1 || !argv || !argv[0] || !argv[0][0]) {
		sa_audit_refuse(&ev, NULL, "refusing to run with an empty argument list");
		goto out;
	}
	rc = parse_options(argc, argv, &o);
	if (rc == 0 && o.mode != SA_HELP && o.mode != SA_VERSION)
		hard = harden(&ids, &o, &ev);
	if (hard < 0)
		rc = SA_EXIT_REFUSED;
	else if (hard > 0) /* nothing to do: the run's watchdog unloads it */
		rc = sa_cmd_delete_own(&o);
	else if (rc == 0)
		rc = dispatch(&o, &ids);
	/* A Ctrl-C that came while we worked ends us now, as the caller asked. */
	if (sa_signals_unblock() < 0)
		rc = SA_EXIT_REFUSED;
out:
	sa_ids_free(&ids);
	return rc;
}
