/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signed variants in the cache (signed.h): the derived key, the build
 * callback that has the stapcache-sign helper sign the unsigned module into
 * the staging directory, and the two ways in (sign if needed, or only look).
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "common/modinfo.h"
#include "common/modsign.h"
#include "common/record.h"
#include "common/spawn.h"
#include "cache/job.h"
#include "core/libexec.h"
#include "sign/signed.h"

int sc_signed_key(const struct sc_key *plain, const char *fp, struct sc_key *out)
{
	struct sc_record *rec = sc_record_new();
	uint8_t md[SC_SHA256_LEN];
	int r = rec ? 0 : -ENOMEM;

	r = r ?: sc_record_addf(rec, "signed-variant", "%d", SC_SIGNED_FORMAT);
	r = r ?: sc_record_add_str(rec, "module-key", plain->hex);
	r = r ?: sc_record_add_str(rec, "module", plain->module);
	r = r ?: sc_record_add_str(rec, "signer", fp);
	r = r
		    ?: sc_record_add_str(rec, "signature",
					 "pkcs7 sha256, appended as scripts/sign-file does");
	r = r ?: sc_record_digest(rec, md);
	if (r < 0) {
		sc_record_free(rec);
		return r;
	}
	memset(out, 0, sizeof(*out));
	out->record = rec;
	sc_hex(out->hex, md, sizeof(md));
	snprintf(out->module, sizeof(out->module), "%s", plain->module);
	return 0;
}

/* What the build callback needs: the unsigned module and who signs it. */
struct sign_job {
	const struct sc_key *plain;
	const char *plain_path;
	const struct sc_signer *signer;
};

/* kernel and arch from the unsigned entry's meta, for `cache list`. */
static void copy_meta(const char *plain_path, struct sc_record *meta,
		      char plain_sha[SC_SHA256_HEXLEN + 1])
{
	char *dir = sc_strdupf("%s", plain_path), *slash = strrchr(dir, '/'), *mp;
	struct sc_record *m = NULL;
	char *buf = NULL;
	size_t len = 0;

	plain_sha[0] = '\0';
	if (slash)
		*slash = '\0';
	mp = sc_strdupf("%s/meta", dir);
	if (sc_read_file(mp, 65536, &buf, &len) == 0 &&
	    sc_record_parse(buf, len, &m, NULL) == 0) {
		const char *labels[] = {"kernel", "arch"};
		const char *v = sc_record_get(m, "sha256");

		for (size_t i = 0; i < 2; i++)
			if (sc_record_get(m, labels[i]))
				(void)sc_record_add_str(meta, labels[i],
							sc_record_get(m, labels[i]));
		if (v && strlen(v) == SC_SHA256_HEXLEN)
			memcpy(plain_sha, v, SC_SHA256_HEXLEN + 1);
	}
	sc_record_free(m);
	free(buf);
	free(mp);
	free(dir);
}

/*
 * What the helper wrote is the unsigned module's bytes (as the unsigned
 * entry recorded them: plain_sha) with a signature block after them. The
 * helper checked the signature itself; this binds it to the module that was
 * asked for, whatever happened to the file meanwhile.
 */
static int check_output(const char *out, const char *plain_sha, struct sc_error *err)
{
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1], *buf = NULL;
	size_t len = 0, mlen = 0;
	int r = sc_read_file(out, SC_MODULE_MAX, &buf, &len);

	if (r < 0) {
		sc_error_set(err, "the signed module %s cannot be read: %s", out,
			     strerror(-r));
		return r;
	}
	r = sc_modsign_locate(buf, len, &mlen, NULL, err);
	if (r == 0) {
		sc_sha256(buf, mlen, md);
		sc_hex(hex, md, sizeof(md));
		if (!*plain_sha || strcmp(hex, plain_sha) != 0) {
			sc_error_set(err,
				     "the signed module does not hold the unsigned one "
				     "the cache recorded (sha256 %.16s…, not %.16s…)",
				     hex, plain_sha);
			r = -EBADMSG;
		}
	} else {
		sc_error_prefix(err, "the signer wrote no signed module");
	}
	free(buf);
	return r;
}

/* The cache's build callback for a signed variant (arg: struct sign_job). */
static int sign_build(void *arg, const char *stage_dir, struct sc_record *meta,
		      struct sc_error *err)
{
	const struct sign_job *j = arg;
	struct sc_argv a = {0};
	char plain_sha[SC_SHA256_HEXLEN + 1], *helper = sc_helper_path("stapcache-sign");
	char *out = sc_strdupf("%s/%s.ko", stage_dir, j->plain->module);
	int r, st = 0;
	pid_t pid;

	r = sc_argv_push(&a, helper) ?: sc_argv_push(&a, "sign");
	r = r ?: sc_argv_push(&a, "--key") ?: sc_argv_push(&a, j->signer->key);
	if (r == 0 && j->signer->cert_given)
		r = sc_argv_push(&a, "--cert") ?: sc_argv_push(&a, j->signer->cert);
	r = r ?: sc_argv_push(&a, "--fingerprint") ?: sc_argv_push(&a, j->signer->fp);
	r = r ?: sc_argv_push(&a, j->plain_path) ?: sc_argv_push(&a, out);
	if (r == 0)
		r = sc_spawn(a.v, NULL, &pid);
	if (r == 0)
		r = sc_wait(pid, &st);
	if (r < 0) {
		sc_error_set(err, "cannot run %s: %s", helper, strerror(-r));
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* the helper said why on stderr */
		sc_error_set(err, "signing %s.ko with %s failed (%s)", j->plain->module,
			     j->signer->key,
			     WIFEXITED(st) && WEXITSTATUS(st) == 127 ? "no stapcache-sign"
								     : "see above");
		r = -EIO;
	}
	if (r == 0) {
		copy_meta(j->plain_path, meta, plain_sha);
		r = check_output(out, plain_sha, err);
	}
	if (r == 0) {
		r = sc_record_add_str(meta, "signer", j->signer->fp);
		r = r ?: sc_record_add_str(meta, "unsigned-key", j->plain->hex);
		r = r ?: sc_record_add_str(meta, "unsigned-sha256", plain_sha);
		if (r < 0)
			sc_error_set(err, "out of memory");
	}
	free(out);
	free(helper);
	sc_argv_free(&a);
	return r;
}

int sc_signed_get(struct sc_cache *c, const struct sc_key *plain, const char *plain_path,
		  const struct sc_signer *signer, bool sign, char **path,
		  enum sc_cache_how *how, struct sc_error *err)
{
	struct sign_job j = {.plain = plain, .plain_path = plain_path, .signer = signer};
	struct sc_key sk;
	int r = sc_signed_key(plain, signer->fp, &sk);

	if (r < 0) {
		sc_error_set(err, "out of memory");
		return r;
	}
	r = sc_cache_get(c, &sk, sign ? sign_build : NULL, &j, path, how, err);
	sc_key_clear(&sk);
	return r;
}

int sc_signed_find(struct sc_cache *c, const struct sc_key *plain, const char *fp,
		   bool local_only, char **path, struct sc_error *err)
{
	struct sc_key sk;
	char *there = NULL;
	int r = sc_signed_key(plain, fp, &sk);

	if (r < 0) {
		sc_error_set(err, "out of memory");
		return r;
	}
	if (local_only && sc_cache_peek(c, &sk, &there) < 0)
		r = -ENOENT;
	free(there);
	if (r == 0)
		r = sc_cache_get(c, &sk, NULL, NULL, path, NULL, err);
	sc_key_clear(&sk);
	return r;
}

bool sc_signed_required_here(void)
{
	char *buf = NULL;
	size_t len = 0;
	bool yes = false;

	if (sc_read_file("/sys/kernel/security/lockdown", 4096, &buf, &len) == 0)
		yes = strstr(buf, "[integrity]") || strstr(buf, "[confidentiality]");
	free(buf);
	buf = NULL;
	if (!yes && sc_read_file("/sys/module/module/parameters/sig_enforce", 16, &buf,
				 &len) == 0)
		yes = buf[0] == 'Y' || buf[0] == '1';
	free(buf);
	return yes;
}

/* The signer's lines of --explain (issue 20); none when no signer is configured. */
static void explain_signer(const struct sc_key *key, const struct sc_ctx *ctx,
			   struct sc_cache *c, FILE *out)
{
	struct sc_error err = {{0}};
	struct sc_signer s;
	struct sc_key sk;
	char *path = NULL;

	if (!ctx->signing_key)
		return;
	if (sc_signer_open(ctx->signing_key, ctx->signing_cert, &s, &err) < 0) {
		fprintf(out, "# signer: %s: %s\n", ctx->signing_key, err.msg);
		return;
	}
	fprintf(out, "# signer: %s (%s)\n", s.fp, s.key);
	if (sc_signed_key(key, s.fp, &sk) == 0) {
		fprintf(out, "# signed variant: %s\n", sk.hex);
		if (sc_cache_peek(c, &sk, &path) == 0)
			fprintf(out, "# signed variant cached: %s\n", path);
		else
			fprintf(out,
				"# signed variant cached: no (stapcache bless --sign %s "
				"MODULE.ko makes it)\n",
				s.key);
		sc_key_clear(&sk);
	}
	free(path);
	sc_signer_clear(&s);
}

int sc_signed_explain(const struct sc_key *key, const struct sc_ctx *ctx,
		      struct sc_cache *c, FILE *out)
{
	sc_key_explain_head(key, c, out);
	explain_signer(key, ctx, c, out);
	return sc_key_explain_record(key, out);
}
