/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache bless [-T TARGET|@GROUP]... [--sign KEY] MODULE.ko`: the line
 * that blesses a module in authorized_probes(5), printed, or appended on each
 * target by the stapcache-remote helper (remote/helper/policy-edit.c). The
 * digest is of exactly the bytes checked as a module.
 *
 * Bless = sign (issue 20): with --sign KEY, or -T to a target that loads
 * only signed modules, the cache's module is signed by the stapcache-sign
 * helper into its signed variant (sign/signed.h), and the signed bytes'
 * digest is what such targets get blessed; the helper picks, per target,
 * the variant stapcache -T ships there.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/digest.h"
#include "common/fsutil.h"
#include "common/modinfo.h"
#include "core/cmdopt.h"
#include "cache/cache.h"
#include "core/context.h"
#include "remote/launch.h"
#include "remote/targets.h"
#include "sign/signed.h"
#include "sign/signer.h"
#include "store/client.h"

struct bless_args {
	const char *path, *users, *params, *admin, *policy, *sign, *sign_cert;
	struct sc_strv targets;
};

/* A users=/params= list: names and commas only, so it cannot end the entry. */
static bool list_ok(const char *v)
{
	if (!*v || *v == ',')
		return false;
	for (const char *p = v; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("_.,-", *p)))
			return false;
	return true;
}

/* The module's bytes, read once (regular file, at most SC_MODULE_MAX) and hashed. */
static int read_module(const char *path, char **buf, size_t *len,
		       uint8_t md[SC_SHA256_LEN])
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), r;

	if (fd < 0) {
		fprintf(stderr, "stapcache: bless: cannot open %s: %s (check the path)\n",
			path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		fprintf(stderr, "stapcache: bless: %s is not a regular file\n", path);
		return -1;
	}
	r = sc_read_fd_sha256(fd, SC_MODULE_MAX, buf, len, md);
	close(fd);
	if (r == -EFBIG)
		fprintf(stderr,
			"stapcache: bless: %s is larger than %u MiB, the largest "
			"module stapcache handles\n",
			path, SC_MODULE_MAX >> 20);
	else if (r < 0)
		fprintf(stderr, "stapcache: bless: cannot read %s: %s\n", path,
			strerror(-r));
	return r < 0 ? -1 : 0;
}

/*
 * The digest of the module at path and its authorized_probes line with a's
 * options, the comment naming the module (and note, when not NULL).
 * Returns 0, or 1 after saying why.
 */
static int bless_line(const struct bless_args *a, const char *path, const char *note,
		      char hex[SC_SHA256_HEXLEN + 1], char **line)
{
	uint8_t md[SC_SHA256_LEN];
	struct sc_error err = {{0}};
	struct sc_modinfo *mi = NULL;
	const char *base, *name;
	char *buf = NULL;
	size_t len = 0, blen;
	int r;

	if (read_module(path, &buf, &len, md) < 0)
		return 1;
	r = sc_modinfo_parse(buf, len, &mi, &err);
	free(buf);
	if (r < 0) {
		fprintf(stderr, "stapcache: bless: %s is not a kernel module: %s\n", path,
			err.msg);
		return 1;
	}
	sc_hex(hex, md, SC_SHA256_LEN);
	name = sc_modinfo_name(mi);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	blen = strlen(base);
	if (blen < 3 || strcmp(base + blen - 3, ".ko") != 0 || blen - 3 != strlen(name) ||
	    strncmp(base, name, blen - 3) != 0)
		fprintf(stderr,
			"stapcache: warning: %s is module %s; it can be loaded only "
			"as a file named %s.ko\n",
			path, name, name);
	*line = sc_strdupf("sha256:%s%s%s%s%s  # %s%s%s", hex, a->users ? " users=" : "",
			   a->users ? a->users : "", a->params ? " params=" : "",
			   a->params ? a->params : "", name, note ? ", " : "",
			   note ? note : "");
	sc_modinfo_free(mi);
	return 0;
}

/* What signing needs and gives: the signer, the signed variant's path. */
struct signing {
	struct sc_signer signer;
	char *path;
	bool on;
};

/*
 * The targets -T names (known_hosts read as stapcache -T reads it): *why
 * says which one loads only signed modules and why (NULL: none does).
 * Returns 0, or 1 after saying why.
 */
static int targets_need(const struct bless_args *a, const struct sc_env *env, char **why)
{
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	char *path = sc_targets_default_path(env->xdg_config_home, env->home), *e;
	size_t *idx = NULL, n = 0;
	int status = 1;

	*why = NULL;
	if (sc_targets_load(path, &all, &err) < 0 ||
	    sc_targets_select(&all, a->targets.v, a->targets.n, &idx, &n, &err) < 0) {
		fprintf(stderr, "stapcache: bless: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < n && !*why; i++)
		if (sc_target_needs_signature(&all.v[idx[i]])) {
			e = sc_target_enforcement(&all.v[idx[i]]);
			*why = sc_strdupf("%s loads only signed modules (%s)",
					  all.v[idx[i]].name, e);
			free(e);
		}
	status = 0;
out:
	free(idx);
	free(path);
	sc_targets_clear(&all);
	return status;
}

/*
 * --sign (or signing-key: when a target needs it): the cache's entry for
 * the module, signed by the signer (sign/signed.h: checked back, published
 * as a signed variant). Returns 0 (s->on when signed), or 1 after saying why.
 */
static int sign_module(const struct bless_args *a, struct signing *s)
{
	struct sc_error err = {{0}};
	struct sc_entry_info e;
	struct sc_key plain = {0};
	struct sc_cache *c = NULL;
	struct sc_env env;
	struct sc_ctx ctx = {0};
	const char *key = a->sign, *cert = a->sign_cert;
	char sha[SC_SHA256_HEXLEN + 1], *why = NULL, shortfp[SC_SIGNER_SHORT_LEN + 1];
	enum sc_cache_how how;
	int status = 1, r;

	sc_env_read(&env);
	if (sc_ctx_init(&ctx, &env, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	if (a->targets.n && targets_need(a, &env, &why) != 0)
		goto out;
	if (!key && !why) { /* nothing asks for a signature */
		status = 0;
		goto out;
	}
	if (!key) {
		key = ctx.signing_key;
		cert = ctx.signing_cert;
	}
	if (!key) {
		fprintf(stderr,
			"stapcache: bless: %s, and no module-signing key is given: add "
			"--sign KEY (stapcache signing-key generate makes one), or set "
			"signing-key: in config.yaml\n",
			why);
		goto out;
	}
	if (sc_signer_open(key, cert, &s->signer, &err) < 0) {
		fprintf(stderr, "stapcache: bless: %s\n", err.msg);
		goto out;
	}
	if (sc_cache_open(ctx.cache_dir, ctx.max_size, &c, &err) < 0)
		goto fail;
	sc_cache_set_shared(c, sc_shared_new(&ctx));
	r = sc_cache_entry_of(c, a->path, &e, sha, &err);
	if (r == -ENOENT) {
		fprintf(stderr,
			"stapcache: bless: --sign signs a module of the cache (the path "
			"stapcache -p4 prints), so that -T finds its signed variant: %s\n",
			err.msg);
		goto out;
	}
	if (r < 0)
		goto fail;
	snprintf(plain.hex, sizeof(plain.hex), "%s", e.key);
	snprintf(plain.module, sizeof(plain.module), "%s", e.module);
	r = sc_signed_get(c, &plain, e.path, &s->signer, true, &s->path, &how, &err);
	free(e.path);
	if (r < 0)
		goto fail;
	sc_signer_short(s->signer.fp, shortfp);
	fprintf(stderr, "stapcache: %s %s.ko with %s (%s…): %s\n",
		how == SC_CACHE_BUILT ? "signed" : "already signed", plain.module, key,
		shortfp, s->path);
	s->on = true;
	status = 0;
	goto out;
fail:
	fprintf(stderr, "stapcache: bless: %s\n", err.msg);
out:
	free(why);
	sc_cache_free(c);
	sc_ctx_clear(&ctx);
	return status;
}

/*
 * The module's line, and when it is signed (sign_module) its signed
 * variant's. Returns 0 (s->on: *sline and shex set too), or 1 after saying why.
 */
static int both_lines(const struct bless_args *a, struct signing *s,
		      char hex[SC_SHA256_HEXLEN + 1], char **line,
		      char shex[SC_SHA256_HEXLEN + 1], char **sline)
{
	char shortfp[SC_SIGNER_SHORT_LEN + 1], *note;
	int status = bless_line(a, a->path, NULL, hex, line);

	status = status ?: sign_module(a, s);
	if (status || !s->on)
		return status;
	sc_signer_short(s->signer.fp, shortfp);
	note = sc_strdupf("signed by %s…", shortfp);
	status = bless_line(a, s->path, note, shex, sline);
	free(note);
	return status;
}

int sc_cmd_bless(int argc, char **argv)
{
	struct bless_args a = {0};
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_LIST('T', NULL, "TARGET", &a.targets,
			       "append the line to TARGET's authorized_probes (a known_hosts\n"
			       "target or @GROUP; repeat for more)"),
		SC_CMDOPT_STRING(0, "admin", "USER", &a.admin,
				 "with -T: log in as USER (root, or a user that may run sudo\n"
				 "without a password; default: the target's login)"),
		SC_CMDOPT_STRING(0, "policy", "PATH", &a.policy,
				 "with -T: the policy file (default: "
				 "/etc/systemtap/authorized_probes)"),
		SC_CMDOPT_STRING(0, "users", "U,...", &a.users,
				 "only these users may load it (users=)"),
		SC_CMDOPT_STRING(0, "params", "P,...", &a.params,
				 "only these module parameters may be set (params=)"),
		SC_CMDOPT_STRING(0, "sign", "KEY", &a.sign,
				 "sign the module with the module-signing key KEY (a key\n"
				 "directory, or a PEM key file) and bless the signed bytes\n"
				 "where the kernel loads only signed modules (default with -T\n"
				 "to such a target: signing-key: in config.yaml)"),
		SC_CMDOPT_STRING(
			0, "sign-cert", "CERT", &a.sign_cert,
			"KEY's certificate (PEM or DER), when it is not with the key"),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "bless",
		.synopsis =
			"[--users U,...] [--params P,...] [--sign KEY] MODULE.ko\n"
			"-T TARGET|@GROUP... [--admin USER] [--policy PATH] "
			"[--users U,...] [--params P,...] [--sign KEY [--sign-cert CERT]] "
			"MODULE.ko",
		.about =
			"Print the line that blesses MODULE.ko in authorized_probes(5); with\n"
			"-T, append it on each target (atomic; nothing is added twice). With\n"
			"--sign, or -T to a target that loads only signed modules (Secure\n"
			"Boot, lockdown, sig_enforce), the cached module is signed first and\n"
			"kept in the cache as its signed variant, and such targets get the\n"
			"signed bytes blessed; the others the module as it is.",
		SC_CMDOPT_ROWS(opts),
		.min_args = 1,
		.max_args = 1,
	};
	char hex[SC_SHA256_HEXLEN + 1], shex[SC_SHA256_HEXLEN + 1];
	char *line = NULL, *sline = NULL;
	struct signing s = {0};
	int r = sc_cmdopt_parse(&spec, argc, argv), status;

	if (r < 0)
		return sc_cmdopt_exit(r);
	a.path = argv[r];
	if (!a.targets.n && (a.admin || a.policy))
		status = sc_cmdopt_usage_error(&spec, "--admin and --policy go with -T");
	else if (a.sign_cert && !a.sign)
		status = sc_cmdopt_usage_error(&spec, "--sign-cert goes with --sign KEY");
	else if ((a.users && !list_ok(a.users)) || (a.params && !list_ok(a.params)))
		status =
			sc_cmdopt_usage_error(&spec,
					      "--users and --params take NAME[,NAME...]");
	else
		status = both_lines(&a, &s, hex, &line, shex, &sline);
	if (status == 0 && a.targets.n)
		status = sc_remote_exec_bless(a.targets.v, a.targets.n, a.admin, a.policy,
					      hex, line, s.on ? shex : NULL, sline);
	else if (status == 0)
		status = printf("%s\n", s.on ? sline : line) < 0;
	free(line);
	free(sline);
	free(s.path);
	sc_signer_clear(&s.signer);
	free(a.targets.v);
	return status;
}
