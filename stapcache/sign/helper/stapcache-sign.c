/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stapcache-sign: the module-signing helper (issue 20). The only stapcache
 * program that reads a private module-signing key; it links libcrypto's
 * X.509, CMS and EVP code (common/modsign.c) and nothing that talks to a
 * network, and stapcache runs it only to sign (a signed variant's miss,
 * sign/signed.c) and for `stapcache signing-key`. A cache hit, signed or not,
 * never runs it.
 *
 *   stapcache-sign keygen [--cn NAME] [--bits N] DIR
 *       make a module-signing key directory (common/modsign.h) and show it
 *   stapcache-sign show [--cert CERT] KEY
 *       the key's certificate (subject, fingerprint), whether the private
 *       key is there and usable, and how to enroll it
 *   stapcache-sign sign --key KEY [--cert CERT] --fingerprint sha256:HEX IN OUT
 *       sign the module IN into the new file OUT (O_EXCL), in the format of
 *       the kernel's scripts/sign-file, after checking that the certificate
 *       is the one the caller named (the fingerprint stapcache computed);
 *       the signature is checked back before OUT is written
 *
 * Exit status: 0 done, 1 failed (one line on stderr), 2 a usage error.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "common/modinfo.h"
#include "common/modsign.h"
#include "core/cmdopt.h"

#define PROG "stapcache-sign"

static int fail(const char *what, const struct sc_error *err)
{
	fprintf(stderr, "stapcache: %s: %s\n", what, err->msg);
	return 1;
}

static void fingerprint(const struct sc_modsign_cert *c,
			char out[7 + SC_SHA256_HEXLEN + 1])
{
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1];

	if (sc_modsign_cert_fingerprint(c, md) < 0) {
		snprintf(out, 7 + SC_SHA256_HEXLEN + 1, "unknown");
		return;
	}
	sc_hex(hex, md, sizeof(md));
	snprintf(out, 7 + SC_SHA256_HEXLEN + 1, "sha256:%s", hex);
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Does the file hold a PEM private key (of any kind)? */
static bool holds_private_key(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	bool yes = false;

	if (sc_read_file(path, SC_MODSIGN_FILE_MAX, &buf, &len) == 0)
		yes = strstr(buf, "PRIVATE KEY-----") != NULL;
	free(buf);
	return yes;
}

/*
 * What `show` prints about key (a directory or PEM file) and cert (NULL:
 * with the key). Returns 0, or 1 when there is no certificate, or the
 * private key is there but cannot be used (its mode, a mismatch).
 */
static int show(const char *key, const char *cert)
{
	struct sc_modsign_cert *c = NULL;
	struct sc_modsign_key *k = NULL;
	struct sc_error err = {""}, kerr = {""};
	char fp[7 + SC_SHA256_HEXLEN + 1], subject[512], *cpath, *der = NULL, *kpath;
	bool dir = is_dir(key), has_key;
	int st = 1;

	if (cert)
		cpath = sc_strdupf("%s", cert);
	else if (dir)
		cpath = sc_strdupf("%s/%s", key, SC_MODSIGN_CERT_PEM_FILE);
	else
		cpath = sc_strdupf("%s", key);
	kpath = dir ? sc_strdupf("%s/%s", key, SC_MODSIGN_KEY_FILE)
		    : sc_strdupf("%s", key);
	if (sc_modsign_cert_load(cpath, &c, &err) < 0) {
		st = fail(key, &err);
		goto out;
	}
	fingerprint(c, fp);
	if (sc_modsign_cert_subject(c, subject, sizeof(subject)) < 0)
		snprintf(subject, sizeof(subject), "?");
	has_key = access(kpath, F_OK) == 0 && holds_private_key(kpath);
	if (has_key && sc_modsign_key_load(key, cert, NULL, &k, &kerr) < 0)
		has_key = false;
	der = dir ? sc_strdupf("%s/%s", key, SC_MODSIGN_CERT_DER_FILE) : NULL;
	printf("module-signing key %s\n", key);
	printf("  certificate  %s\n", cpath);
	printf("  subject      %s\n", subject);
	printf("  fingerprint  %s\n", fp);
	if (has_key)
		printf("  private key  %s (mode 0600, belongs to the certificate)\n",
		       kpath);
	else if (kerr.msg[0])
		printf("  private key  NOT USABLE: %s\n", kerr.msg);
	else
		printf("  private key  none here: this certificate names the signer (-T "
		       "finds what it signed); signing needs the key\n");
	printf("\nEnroll the certificate on each Secure Boot host, once (stapcache(1),\n"
	       "MODULE SIGNING): as root there,\n"
	       "  mokutil --import %s\n"
	       "(choose a one-time password), reboot, and at the console confirm \"Enroll\n"
	       "MOK\" with that password. Then\n"
	       "  stapcache bless -T HOST --sign %s MODULE.ko\n"
	       "signs a cached module and blesses the signed bytes there.\n",
	       der && access(der, F_OK) == 0 ? der : "CERT.der", key);
	st = kerr.msg[0] ? 1 : 0;
out:
	sc_modsign_key_free(k);
	sc_modsign_cert_free(c);
	free(cpath);
	free(kpath);
	free(der);
	return st;
}

static int cmd_keygen(const char *dir, const char *cn, int bits)
{
	struct sc_modsign_key *k = NULL;
	struct sc_error err = {""};
	char host[256], *name = NULL;
	int st = 1, r;

	if (!cn) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "this host");
		host[sizeof(host) - 1] = '\0';
		name = sc_strdupf("%.40s module signing (stapcache)", host);
	}
	if (sc_modsign_key_generate(cn ? cn : name, (unsigned)bits, &k, &err) < 0)
		goto fail;
	r = sc_modsign_key_write_dir(k, dir, &err);
	if (r == -EEXIST) {
		fprintf(stderr,
			"stapcache: signing-key generate: %s exists; it is never replaced "
			"(stapcache signing-key show %s shows it)\n",
			dir, dir);
		goto out;
	}
	if (r < 0)
		goto fail;
	printf("created ");
	st = show(dir, NULL);
	goto out;
fail:
	st = fail("signing-key generate", &err);
out:
	sc_modsign_key_free(k);
	free(name);
	return st;
}

static int cmd_sign(const char *key, const char *cert, const char *want_fp,
		    const char *in, const char *out)
{
	struct sc_modsign_key *k = NULL;
	struct sc_error err = {""};
	char fp[7 + SC_SHA256_HEXLEN + 1], *buf = NULL;
	uint8_t *signed_buf = NULL;
	size_t len = 0, slen = 0;
	int fd = -1, st = 1, r;

	if (sc_modsign_key_load(key, cert, NULL, &k, &err) < 0) {
		st = fail("signing", &err);
		goto out;
	}
	fingerprint(sc_modsign_key_cert(k), fp);
	if (strcmp(fp, want_fp) != 0) {
		fprintf(stderr,
			"stapcache: signing: the certificate of %s is %s, not %s (did it "
			"change meanwhile?)\n",
			key, fp, want_fp);
		goto out;
	}
	r = sc_read_file(in, SC_MODULE_MAX, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "stapcache: signing: cannot read %s: %s\n", in,
			strerror(-r));
		goto out;
	}
	if (sc_modsign_sign(k, buf, len, &signed_buf, &slen, &err) < 0) {
		st = fail("signing", &err);
		goto out;
	}
	if (slen > SC_MODULE_MAX) {
		fprintf(stderr,
			"stapcache: signing: the signed module is larger than %u MiB\n",
			SC_MODULE_MAX >> 20);
		goto out;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	r = fd < 0 ? -errno : sc_write_all(fd, signed_buf, slen);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		fprintf(stderr, "stapcache: signing: cannot write %s: %s\n", out,
			strerror(-r));
		if (fd >= 0)
			(void)unlink(out);
		goto out;
	}
	st = 0;
out:
	free(signed_buf);
	free(buf);
	sc_modsign_key_free(k);
	return st;
}

int main(int argc, char **argv)
{
	const char *cn = NULL, *cert = NULL, *key = NULL, *want = NULL;
	int bits = SC_MODSIGN_RSA_BITS;
	const struct sc_cmdopt keygen_opts[] = {
		SC_CMDOPT_STRING(0, "cn", "NAME", &cn, "the certificate's common name"),
		SC_CMDOPT_INT(0, "bits", "N", &bits, SC_MODSIGN_RSA_GEN_MIN_BITS,
			      SC_MODSIGN_RSA_GEN_MAX_BITS, "RSA key size"),
	};
	const struct sc_cmdopt show_opts[] = {
		SC_CMDOPT_STRING(0, "cert", "CERT", &cert,
				 "the certificate, if not with KEY"),
	};
	const struct sc_cmdopt sign_opts[] = {
		SC_CMDOPT_STRING(0, "key", "KEY", &key, "the key directory or PEM key"),
		SC_CMDOPT_STRING(0, "cert", "CERT", &cert,
				 "the certificate, if not with KEY"),
		SC_CMDOPT_STRING(0, "fingerprint", "sha256:HEX", &want,
				 "the certificate the caller means"),
	};
	const struct sc_cmdopt_spec verbs[] = {
		{.name = "keygen",
		 .prog = PROG,
		 .synopsis = "[--cn NAME] [--bits N] DIR",
		 .about = "Make a module-signing key directory and show it.",
		 SC_CMDOPT_ROWS(keygen_opts),
		 .min_args = 1,
		 .max_args = 1},
		{.name = "show",
		 .prog = PROG,
		 .synopsis = "[--cert CERT] KEY",
		 .about =
			 "Show a module-signing key: certificate, fingerprint, enrollment.",
		 SC_CMDOPT_ROWS(show_opts),
		 .min_args = 1,
		 .max_args = 1},
		{.name = "sign",
		 .prog = PROG,
		 .synopsis = "--key KEY [--cert CERT] --fingerprint sha256:HEX IN OUT",
		 .about = "Sign the module IN into the new file OUT.",
		 SC_CMDOPT_ROWS(sign_opts),
		 .min_args = 2,
		 .max_args = 2},
	};
	const struct sc_cmdopt_spec top = {
		.name = "",
		.prog = PROG,
		.synopsis = "keygen|show|sign [OPTIONS]",
		.about =
			"stapcache's module-signing helper, run by stapcache signing-key\n"
			"and by bless --sign.",
		.min_args = 1,
		.max_args = -1,
		.stop_at_operand = true,
	};
	const struct sc_cmdopt_spec *spec;
	int r = sc_cmdopt_verb(&top, verbs, sizeof(verbs) / sizeof(verbs[0]), &argc,
			       &argv, &spec);

	if (r < 0)
		return sc_cmdopt_exit(r);
	if (spec == &verbs[0])
		return cmd_keygen(argv[r], cn, bits);
	if (spec == &verbs[1])
		return show(argv[r], cert);
	if (!key || !want)
		return sc_cmdopt_usage_error(spec,
					     "--key and --fingerprint are required");
	return cmd_sign(key, cert, want, argv[r], argv[r + 1]);
}
