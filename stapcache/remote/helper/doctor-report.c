/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stapcache-remote doctor: the run side of `stapcache doctor`, and the
 * report. The frontend (cmd/doctor.c) hands over its build-side checks as
 * --check lines; here each host is asked, in one shell round trip (over SSH
 * for a target, /bin/sh for this host), what decides whether it can run a
 * probe: module support and what refuses unsigned modules (lockdown,
 * module.sig_enforce, IMA appraisal, modules_disabled), Secure Boot and
 * whether the configured module-signing key is among the certificates its
 * UEFI db and MOK list hold (remote/hostfacts.c), the runner and its mode,
 * and the trust of authorized_probes, checked by the rules staprun-auth
 * applies (common/policy.h; the shell functions of policy-sh.c: every
 * directory on the path owned by root and not writable by group or others,
 * unless sticky; the policy's own directory, files and drop-ins strictly, and
 * none of them a symlink, FIFO or device). The probe only reads; nothing is
 * changed.
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

#include "remote/helper/doctor-report.h"
#include "common/fsutil.h"
#include "common/policy.h"
#include "core/cmdopt.h"
#include "remote/helper/helper.h"
#include "common/spawn.h"
#include "remote/helper/ssh.h"
#include "remote/hostfacts.h"
#include "remote/targets.h"
#include "sign/signer.h"

/*
 * key=value lines; the policy checks print "policy=ok N" or "policy=bad WHY".
 * Sent after sc_policy_trust_sh() (probe_text()).
 */
static const char probe_script[] =
	"echo \"release=$(uname -r)\"; "
	"if [ -e /proc/modules ]; then echo modules=yes; else echo modules=no; fi; "
	"v=$(cat /proc/sys/kernel/modules_disabled 2>/dev/null); "
	"echo \"modules_disabled=${v:-absent}\"; "
	"v=$(cat /sys/kernel/security/lockdown 2>/dev/null); v=${v#*\\[}; v=${v%%]*}; "
	"echo \"lockdown=${v:-absent}\"; "
	"v=$(cat /sys/module/module/parameters/sig_enforce 2>/dev/null); "
	"echo \"sig_enforce=${v:-absent}\"; "
	"c=\" $(cat /proc/cmdline 2>/dev/null) \"; i=off; "
	"p=/sys/kernel/security/ima/policy; [ -e $p ] || p=/sys/kernel/security/integrity/ima/policy; "
	"if [ -e $p ]; then i=unreadable; "
	"if v=$(cat $p 2>/dev/null); then i=none; case $v in *appraise*func=MODULE_CHECK*) "
	"i=module-check;; esac; fi; fi; "
	"case $c in *' ima_policy=secure_boot'*|*'|secure_boot'*) i=module-check;; esac; "
	"case $c in *' ima_appraise=off '*|*' ima_appraise=log '*|*' ima_appraise=fix '*) "
	"[ $i = module-check ] && i=not-enforced;; esac; echo \"ima=$i\"; "
	"for r in staprun-auth staprun; do p=$(command -v $r 2>/dev/null) || "
	"{ echo \"runner.$r=\"; continue; }; set -- $(ls -lnL \"$p\" 2>/dev/null); "
	"echo \"runner.$r=$p $1 $3\"; done; "
	"d=$(staprun-auth --help 2>/dev/null | sed -n 's,^ *\\(/.*\\)/authorized_probes$,\\1,p' "
	"| head -n 1); echo \"policy_dir=$d\"; [ -n \"$d\" ] || exit 0; "
	/* policy.h's rules, as sc_policy_trust_sh() has the shell apply them */
	"bad=; sc_trust_walk \"$d\" || bad=$why; n=0; p=$d/authorized_probes; "
	"if [ -z \"$bad\" ] && { [ -e \"$p\" ] || [ -L \"$p\" ]; }; then "
	"sc_trust \"$p\" f 1 || bad=$why; "
	"[ -n \"$bad\" ] || n=$(grep -c '^ *sha256:' \"$p\" 2>/dev/null); fi; p=$p.d; "
	"if [ -z \"$bad\" ] && { [ -e \"$p\" ] || [ -L \"$p\" ]; }; then "
	"sc_trust \"$p\" d 1 || bad=$why; for x in \"$p\"/*; do [ -z \"$bad\" ] || break; "
	"sc_policy_skipped \"${x##*/}\" && continue; { [ -e \"$x\" ] || [ -L \"$x\" ]; } && "
	"{ sc_trust \"$x\" f 1 || bad=$why; }; done; fi; "
	"if [ -n \"$bad\" ]; then echo \"policy=bad $bad\"; else echo \"policy=ok ${n:-0}\"; fi";

struct check {
	char *section, *name, *detail, *fix;
	int ok;
};

struct report {
	struct check *v;
	size_t n;
};

static void add(struct report *rp, const char *section, const char *name, int ok,
		const char *detail, const char *fix)
{
	struct check *nv = realloc(rp->v, (rp->n + 1) * sizeof(*nv));

	if (!nv)
		return;
	rp->v = nv;
	rp->v[rp->n++] = (struct check){.section = sc_strdupf("%s", section),
					.name = sc_strdupf("%s", name),
					.detail = sc_strdupf("%s", detail),
					.fix = fix && *fix ? sc_strdupf("%s", fix) : NULL,
					.ok = ok};
}

/* "SECTION\tNAME\tOK\tDETAIL\tFIX" from the frontend. Returns 0, or -1: not that shape. */
static int add_line(struct report *rp, const char *text)
{
	char *copy = sc_strdupf("%s", text), *line = copy, *f[5];
	int r = 0;

	for (int i = 0; r == 0 && i < 5; i++)
		if (!(f[i] = strsep(&line, "\t")))
			r = -1;
	if (r == 0)
		add(rp, f[0], f[1], !strcmp(f[2], "1"), f[3], f[4]);
	free(copy);
	return r;
}

/* The value of key in the probe's output (a copy, caller frees), or "". */
static char *get(const char *out, const char *key)
{
	size_t k = strlen(key);

	for (const char *l = out; l && *l;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == '=') {
			const char *e = strchr(l + k + 1, '\n');

			return sc_strdupf("%.*s",
					  (int)(e ? e - (l + k + 1)
						  : (long)strlen(l + k + 1)),
					  l + k + 1);
		}
	return sc_strdupf("%s", "");
}

/* Module loading: supported, and nothing that refuses an unsigned module. */
static void judge_modules(struct report *rp, const char *sec, const char *out)
{
	char *mods = get(out, "modules"), *dis = get(out, "modules_disabled"),
	     *lock = get(out, "lockdown"), *sig = get(out, "sig_enforce"),
	     *ima = get(out, "ima"), why[1024] = "", *d;
	const char *fix = "boot without that setting";

	if (strcmp(mods, "yes") != 0) {
		add(rp, sec, "modules", 0,
		    "this kernel has no loadable-module support (no /proc/modules: "
		    "CONFIG_MODULES is off), so no probe can run here",
		    "build here (-p4) and run on a target whose kernel loads modules "
		    "(stapcache -T NAME); stapcache doctor -T NAME checks one");
		goto out;
	}
	if (!strcmp(dis, "1"))
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "%skernel.modules_disabled is 1 (no module loads until reboot)",
			 *why ? "; " : "");
	/* lockdown and module.sig_enforce: judge_signing (a signed variant loads) */
	if (!strcmp(ima, "module-check"))
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "%sIMA appraisal (func=MODULE_CHECK) refuses unsigned modules",
			 *why ? "; " : "");
	if (*why) {
		d = sc_strdupf("refused: %s", why);
		add(rp, sec, "modules", 0, d,
		    !strcmp(dis, "1") ? "reboot (and do not set "
					"kernel.modules_disabled)"
				      : fix);
	} else {
		bool signed_only = !strcmp(lock, "integrity") ||
				   !strcmp(lock, "confidentiality") ||
				   !strcmp(sig, "Y") || !strcmp(sig, "1");

		d = sc_strdupf("loadable%s (lockdown %s, module.sig_enforce %s, IMA "
			       "appraisal of modules %s)",
			       signed_only ? " when signed by a key it trusts (below)"
					   : "",
			       lock, sig,
			       !strcmp(ima, "unreadable") ? "unknown (policy "
							    "not readable)"
							  : ima);
		add(rp, sec, "modules", 1, d, NULL);
	}
	free(d);
out:
	free(mods);
	free(dis);
	free(lock);
	free(sig);
	free(ima);
}

/* The configured module-signing key, as the frontend names it (--signer ...). */
struct signer {
	const char *fp, *key, *cert;
};

/*
 * Module signatures (issue 20): the Secure Boot and lockdown state, and,
 * where the kernel loads only signed modules, whether the configured signer
 * is among the certificates its UEFI db and MOK list hold.
 */
static void judge_signing(struct report *rp, const char *sec, const char *out,
			  const struct signer *sg)
{
	struct sc_target f = {0};
	char *why, *d, *fix = NULL, fp[SC_SIGNER_SHORT_LEN + 1] = "";
	const char *where = *sec ? sec : "this host", *name = *sec ? sec : "HOST";
	int trust;

	(void)sc_hostfacts_apply(out, &f);
	why = sc_target_enforcement(&f);
	d = sc_strdupf("Secure Boot %s, lockdown %s, module.sig_enforce %s%s",
		       f.secure_boot ? f.secure_boot : "unknown",
		       f.lockdown ? f.lockdown : "unknown (no securityfs)",
		       f.sig_enforce ? f.sig_enforce : "unknown",
		       *why ? ": only signed modules load" : "");
	add(rp, sec, "secure boot", 1, d, NULL);
	free(d);
	if (!*why)
		goto out;
	if (sg->fp)
		sc_signer_short(sg->fp, fp);
	trust = sg->fp ? sc_target_trusts(&f, sg->fp) : 0;
	if (!sg->fp) {
		d = sc_strdupf("%s loads only signed modules (%s), and no module-signing "
			       "key is configured (signing-key: in config.yaml)",
			       where, why);
		fix = sc_strdupf("stapcache signing-key generate; enroll its certificate "
				 "on %s (as root there: mokutil --import CERT.der, reboot, "
				 "confirm at the console); then stapcache bless -T %s --sign "
				 "KEY MODULE.ko",
				 where, name);
		add(rp, sec, "signer", 0, d, fix);
	} else if (trust == 1) {
		d = sc_strdupf("the configured signer %s… (%s) is in its UEFI db or MOK "
			       "list: modules bless --sign signs load here",
			       fp, sg->key ? sg->key : "?");
		add(rp, sec, "signer", 1, d, NULL);
	} else if (trust == 0) {
		d = sc_strdupf("the configured signer %s… (%s) is not among the %zu "
			       "certificates its UEFI db and MOK list hold: modules it signs "
			       "are refused here",
			       fp, sg->key ? sg->key : "?", f.nsigners);
		fix = sc_strdupf("enroll it: as root on %s, mokutil --import %s, reboot and "
				 "confirm at the console (a test guest: append it to db); "
				 "then stapcache host refresh %s",
				 where, sg->cert ? sg->cert : "CERT.der", name);
		add(rp, sec, "signer", 0, d, fix);
	} else {
		d = sc_strdupf("the configured signer is %s… (%s); whether %s trusts it "
			       "cannot be read (its UEFI db is not readable by this login): a "
			       "run says",
			       fp, sg->key ? sg->key : "?", where);
		add(rp, sec, "signer", 1, d, NULL);
	}
	free(d);
	free(fix);
out:
	free(why);
	free(f.lockdown);
	free(f.sig_enforce);
	free(f.secure_boot);
	for (size_t i = 0; i < f.nsigners; i++)
		free(f.signers[i]);
	free(f.signers);
}

/* "PATH MODE UID" of a runner, or "" when it is not there. */
static void judge_runner(struct report *rp, const char *sec, const char *out,
			 enum sc_runner runner)
{
	char *auth = get(out, "runner.staprun-auth"), *sr = get(out, "runner.staprun");
	char path[4096], mode[16], *d = NULL, *fix = NULL;
	unsigned uid = 1;

	if (runner == SC_RUNNER_AUTH) {
		if (!*auth) {
			add(rp, sec, "runner", 0, "no staprun-auth on the PATH",
			    "install staprun-auth there (make install as root, or the "
			    "stapcache .deb)");
		} else if (sscanf(auth, "%4095s %15s %u", path, mode, &uid) != 3 ||
			   mode[3] != 's' || uid != 0) {
			d = sc_strdupf("%s is not setuid root (%s, uid %u)", path, mode,
				       uid);
			fix = sc_strdupf("as root: chown root:root %s && chmod 4755 %s",
					 path, path);
			add(rp, sec, "runner", 0, d, fix);
		} else {
			d = sc_strdupf("%s, setuid root (%s)", path, mode);
			add(rp, sec, "runner", 1, d, NULL);
		}
	} else if (!*sr) {
		add(rp, sec, "runner", 0, "no staprun on the PATH",
		    "apt-get install systemtap-runtime");
	} else {
		sscanf(sr, "%4095s %15s %u", path, mode, &uid);
		d = sc_strdupf("%s (%s)%s", path, mode,
			       runner == SC_RUNNER_SUDO
				       ? ", run with sudo"
				       : "; a login other than root needs the stapusr group");
		add(rp, sec, "runner", 1, d, NULL);
	}
	free(d);
	free(fix);
	free(auth);
	free(sr);
}

static void judge_policy(struct report *rp, const char *sec, const char *out)
{
	char *dir = get(out, "policy_dir"), *pol = get(out, "policy"), *d;

	if (!*dir) {
		add(rp, sec, "authorized_probes", 0,
		    "staprun-auth --help names no authorized_probes file",
		    "install a staprun-auth of this version there");
	} else if (!strncmp(pol, "ok ", 3)) {
		d = sc_strdupf("%s/authorized_probes trusted (owned by root, not writable "
			       "by group or others), %s blessed digest(s)",
			       dir, pol + 3);
		add(rp, sec, "authorized_probes", 1, d, NULL);
		free(d);
	} else {
		d = sc_strdupf("staprun-auth would refuse it: %s",
			       !strncmp(pol, "bad ", 4) ? pol + 4 : "no answer");
		add(rp, sec, "authorized_probes", 0, d,
		    "as root: make what is named a real file or directory (no symlink, "
		    "FIFO or device), root's (chown root:root), not writable by group "
		    "or others (chmod go-w)");
		free(d);
	}
	free(dir);
	free(pol);
}

/* Everything the probe's output tells about running there. */
static void judge(struct report *rp, const char *sec, const char *out,
		  enum sc_runner runner, const struct signer *sg)
{
	judge_runner(rp, sec, out, runner);
	judge_modules(rp, sec, out);
	judge_signing(rp, sec, out, sg);
	if (runner == SC_RUNNER_AUTH)
		judge_policy(rp, sec, out);
}

/* The probe with the trust functions it calls. Caller frees. */
static char *probe_text(void)
{
	return sc_strdupf("%s%s", sc_policy_trust_sh(), probe_script);
}

/* This host: the runner a local run would use (run.c's choice). */
static void check_local(struct report *rp, const struct signer *sg)
{
	char *probe = probe_text(), *out = NULL;
	char *script =
		sc_strdupf("PATH=%s:$PATH\n%s\n%s", BINDIR, sc_hostfacts_script, probe);
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct stat st;
	enum sc_runner runner = SC_RUNNER_DIRECT;

	if (stat(BINDIR "/staprun-auth", &st) == 0 && (st.st_mode & S_ISUID) &&
	    st.st_uid == 0)
		runner = SC_RUNNER_AUTH;
	if (sc_run_capture(argv, 4 * SC_EFIVAR_MAX, &out) < 0 && !out)
		add(rp, "", "probe", 0, "cannot run /bin/sh here", NULL);
	else
		judge(rp, "", out, runner, sg);
	free(out);
	free(script);
	free(probe);
}

/* A target: SSH (reachable, host key, login), its kernel, then the probe. */
static void check_target(struct report *rp, const struct sc_target *t,
			 const struct sc_helper_env *env, const struct signer *sg)
{
	struct sc_ssh_opts o = sc_helper_ssh_opts(env, t->name);
	struct sc_error err = {{0}};
	struct sc_ssh *s = NULL;
	char *out = NULL, *rel = NULL, *d, *script;
	int r, st = 0;

	o.may_prompt = false;
	r = sc_ssh_connect(&t->ex, &o, &s, &err);
	if (r == SC_SSH_ECONNECT) {
		add(rp, t->name, "ssh", 0, err.msg,
		    "is it up? check execute: in known_hosts (stapcache host list)");
		return;
	}
	d = sc_strdupf("%s reachable%s%s", t->execute, r == 0 ? ", host key known " : "",
		       r == 0 ? sc_ssh_fingerprint(s) : "");
	add(rp, t->name, "ssh", r != SC_SSH_EHOSTKEY, r == SC_SSH_EHOSTKEY ? err.msg : d,
	    r == SC_SSH_EHOSTKEY
		    ? "check the fingerprint, then stapcache host accept NAME "
		      "SHA256:... (the message says which)"
		    : NULL);
	free(d);
	if (r == SC_SSH_EAUTH || (r < 0 && r != SC_SSH_EHOSTKEY))
		add(rp, t->name, "login", 0, err.msg,
		    "put your public key in the login's ~/.ssh/authorized_keys there");
	if (r < 0)
		return;
	d = probe_text();
	script = sc_strdupf("%s\n%s", sc_hostfacts_script, d);
	free(d);
	r = sc_ssh_exec(s, script, NULL, 0, &out, &st, &err);
	free(script);
	if (r < 0) {
		add(rp, t->name, "probe", 0, err.msg, NULL);
	} else {
		rel = get(out, "release");
		d = sc_strdupf("runs %s%s%s", rel,
			       strcmp(rel, t->kernel) ? ", but known_hosts says " : "",
			       strcmp(rel, t->kernel) ? t->kernel
						      : ", as known_hosts says");
		add(rp, t->name, "kernel", !strcmp(rel, t->kernel), d,
		    strcmp(rel, t->kernel) ? "stapcache host refresh NAME" : NULL);
		free(d);
		judge(rp, t->name, out, t->ex.runner, sg);
	}
	free(rel);
	free(out);
	sc_ssh_free(s);
}

static const char *section_title(const char *sec, char *buf, size_t n)
{
	struct utsname u;

	if (*sec)
		return sec;
	if (uname(&u) == 0)
		snprintf(buf, n, "this host (%s, %s)", u.release, u.machine);
	else
		snprintf(buf, n, "this host");
	return buf;
}

/* Sections in the order their first check came; a failed check anywhere fails. */
static int print_text(const struct report *rp)
{
	char title[512];
	int failed = 0;

	for (size_t i = 0; i < rp->n; i++) {
		const struct check *c = &rp->v[i];
		bool first = true;

		for (size_t j = 0; j < i && first; j++)
			first = strcmp(rp->v[j].section, c->section) != 0;
		if (!first)
			continue;
		printf("%s%s:\n", i ? "\n" : "",
		       section_title(c->section, title, sizeof(title)));
		for (size_t j = i; j < rp->n; j++) {
			const struct check *k = &rp->v[j];

			if (strcmp(k->section, c->section) != 0)
				continue;
			printf("  %s %s: %s\n", k->ok ? "\u2713" : "\u2717", k->name,
			       k->detail);
			if (!k->ok && k->fix)
				printf("      fix: %s\n", k->fix);
			failed |= !k->ok;
		}
	}
	return failed;
}

static int print_json(const struct report *rp)
{
	struct json_object *top = json_object_new_object(),
			   *hosts = json_object_new_array();
	char title[512];
	int failed = 0;

	for (size_t i = 0; i < rp->n; i++) {
		const struct check *c = &rp->v[i];
		struct json_object *h, *checks;
		bool first = true, ok = true;

		for (size_t j = 0; j < i && first; j++)
			first = strcmp(rp->v[j].section, c->section) != 0;
		if (!first)
			continue;
		h = json_object_new_object();
		checks = json_object_new_array();
		json_object_object_add(h, "name",
				       json_object_new_string(*c->section ? c->section
									  : "localhost"));
		json_object_object_add(h, "title",
				       json_object_new_string(
					       section_title(c->section, title,
							     sizeof(title))));
		json_object_object_add(h, "local", json_object_new_boolean(!*c->section));
		for (size_t j = i; j < rp->n; j++) {
			const struct check *k = &rp->v[j];
			struct json_object *o;

			if (strcmp(k->section, c->section) != 0)
				continue;
			o = json_object_new_object();
			json_object_object_add(o, "check",
					       json_object_new_string(k->name));
			json_object_object_add(o, "ok", json_object_new_boolean(k->ok));
			json_object_object_add(o, "detail",
					       json_object_new_string(k->detail));
			json_object_object_add(o, "fix",
					       k->fix ? json_object_new_string(k->fix)
						      : NULL);
			json_object_array_add(checks, o);
			ok = ok && k->ok;
		}
		json_object_object_add(h, "ok", json_object_new_boolean(ok));
		json_object_object_add(h, "checks", checks);
		json_object_array_add(hosts, h);
		failed |= !ok;
	}
	json_object_object_add(top, "ok", json_object_new_boolean(!failed));
	json_object_object_add(top, "hosts", hosts);
	puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
	return failed;
}

int sc_helper_doctor(int argc, char **argv, const struct sc_helper_env *env)
{
	struct sc_strv checks = {0}, names = {0};
	struct signer sg = {0};
	bool json = false, local = false;
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_STRING(0, "signer", "sha256:HEX", &sg.fp,
				 "the configured module-signing key's certificate"),
		SC_CMDOPT_STRING(0, "signer-key", "KEY", &sg.key, "where that key is"),
		SC_CMDOPT_STRING(0, "signer-cert", "CERT", &sg.cert,
				 "its certificate's file (for mokutil --import)"),
		SC_CMDOPT_FLAG(0, "json", &json, "one JSON document"),
		SC_CMDOPT_FLAG(0, "local", &local, "check the run side of this host"),
		SC_CMDOPT_LIST(0, "check", "LINE", &checks,
			       "a check of the build side, SECTION<tab>NAME<tab>1|0<tab>\n"
			       "DETAIL<tab>FIX; repeat for more"),
		SC_CMDOPT_LIST('T', NULL, "TARGET", &names,
			       "check the run side of TARGET; repeat for more"),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "doctor",
		.prog = "stapcache-remote",
		.synopsis = "[--json] [--local] [--check LINE]... [-T TARGET]...",
		.about =
			"The report of stapcache doctor: its build-side checks, then the run\n"
			"side of this host and of each target (run by stapcache doctor).",
		SC_CMDOPT_ROWS(opts),
	};
	struct report rp = {0};
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	int status = sc_cmdopt_parse(&spec, argc, argv);

	if (status < 0) {
		status = sc_cmdopt_exit(status);
		goto out;
	}
	status = 1;
	if (sc_targets_load(env->known_hosts, &all, &err) < 0) {
		fprintf(stderr, "stapcache: doctor: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < checks.n; i++)
		if (add_line(&rp, checks.v[i]) < 0)
			fprintf(stderr, "stapcache-remote doctor: bad --check\n");
	if (local)
		check_local(&rp, &sg);
	/* the targets are asked after the build side is in */
	for (size_t i = 0; i < names.n; i++) {
		const struct sc_target *t = sc_targets_find(&all, names.v[i]);

		if (t)
			check_target(&rp, t, env, &sg);
		else
			add(&rp, names.v[i], "known_hosts", 0, "no such target",
			    "stapcache host add");
	}
	status = (json ? print_json(&rp) : print_text(&rp)) ? 1 : 0;
	fflush(stdout);
out:
	for (size_t i = 0; i < rp.n; i++) {
		free(rp.v[i].section);
		free(rp.v[i].name);
		free(rp.v[i].detail);
		free(rp.v[i].fix);
	}
	free(rp.v);
	sc_targets_clear(&all);
	free(checks.v);
	free(names.v);
	return status;
}
