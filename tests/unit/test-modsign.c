/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Module signing (common/modsign.c): generated keys and their certificate,
 * the key file checks, the three ways to give a key, signing and checking
 * back, every flipped byte and every truncation of a signature, forged
 * trailers, and byte-for-byte equality with the kernel's scripts/sign-file
 * (linux-kbuild-6.1, which ./quickstart installs) on a real stap module.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/fsutil.h"
#include "common/modsign.h"
#include "tests/lib/tap.h"

#define MODNAME "sc_ms_test"
#define SYNTH_LEN (120 * 1024)

static char tmp[] = "/tmp/sc-modsign.XXXXXX";
static struct sc_modsign_key *key_a, *key_b;

static char *path_in(const char *name)
{
	return sc_strdupf("%s/%s", tmp, name);
}

static int write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	return sc_write_file_atomic(path, buf, len, mode, NULL);
}

/* The PEM text of a key (encrypted with pass when not NULL) or a cert. */
static char *pem_of(EVP_PKEY *pkey, X509 *x, const char *pass, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *text, *copy;
	long n;

	if (pkey)
		PEM_write_bio_PrivateKey(b, pkey, pass ? EVP_aes_256_cbc() : NULL, NULL,
					 0, NULL, (void *)pass);
	else
		PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &text);
	copy = malloc((size_t)n + 1);
	memcpy(copy, text, (size_t)n);
	copy[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return copy;
}

static X509 *cert_from_dir(const char *dir)
{
	char *p = sc_strdupf("%s/%s", dir, SC_MODSIGN_CERT_DER_FILE), *buf = NULL;
	const unsigned char *q;
	size_t len = 0;
	X509 *x = NULL;

	if (sc_read_file(p, 1 << 20, &buf, &len) == 0) {
		q = (const unsigned char *)buf;
		x = d2i_X509(NULL, &q, (long)len);
	}
	free(buf);
	free(p);
	return x;
}

static mode_t mode_of(const char *dir, const char *name)
{
	char *p = sc_strdupf("%s/%s", dir, name);
	struct stat st;
	mode_t m = stat(p, &st) == 0 ? st.st_mode & 07777 : 01;

	free(p);
	return m;
}

/* ------------------------------------------------------------ keys */

static void test_generate(void)
{
	struct sc_modsign_key *k = NULL, *back = NULL;
	struct sc_error err = {""};
	uint8_t fa[SC_SHA256_LEN], fb[SC_SHA256_LEN];
	char subject[256], *dir = path_in("keydir");
	ASN1_OBJECT *modsign_only = OBJ_txt2obj("1.3.6.1.4.1.2312.16.1.2", 1);
	EXTENDED_KEY_USAGE *eku;
	X509 *x;
	int i, found = 0;

	tap_is_int(sc_modsign_key_generate("x", 1024, &k, &err), -EINVAL,
		   "RSA-1024 refused");
	tap_is_int(sc_modsign_key_generate("", 0, &k, &err), -EINVAL,
		   "empty name refused");
	tap_is_int(sc_modsign_key_generate("stapcache test module-signing key A", 0,
					   &key_a, &err),
		   0, "generate an RSA-3072 module-signing key");
	tap_is_int(sc_modsign_key_generate("stapcache test module-signing key B", 0,
					   &key_b, &err),
		   0, "and another");
	if (!key_a || !key_b)
		exit(tap_done());
	tap_is_int(sc_modsign_cert_subject(sc_modsign_key_cert(key_a), subject,
					   sizeof(subject)),
		   0, "its subject");
	tap_is_str(subject, "CN=stapcache test module-signing key A", "  is CN=<name>");
	sc_modsign_cert_fingerprint(sc_modsign_key_cert(key_a), fa);
	sc_modsign_cert_fingerprint(sc_modsign_key_cert(key_b), fb);
	tap_ok(memcmp(fa, fb, sizeof(fa)) != 0, "two keys, two fingerprints");

	tap_is_int(sc_modsign_key_write_dir(key_a, dir, &err), 0,
		   "write a key directory");
	tap_is_int(mode_of(dir, "."), 0700, "  the directory is 0700");
	tap_is_int(mode_of(dir, SC_MODSIGN_KEY_FILE), 0600, "  the private key is 0600");
	tap_is_int(mode_of(dir, SC_MODSIGN_CERT_PEM_FILE), 0644,
		   "  the PEM certificate 0644");
	tap_is_int(mode_of(dir, SC_MODSIGN_CERT_DER_FILE), 0644,
		   "  the DER certificate 0644");
	tap_is_int(sc_modsign_key_write_dir(key_b, dir, &err), -EEXIST,
		   "an existing key directory is never overwritten");
	tap_ok(strstr(err.msg, "never overwritten") != NULL, "  and says so: %s",
	       err.msg);
	tap_is_int(sc_modsign_key_load(dir, NULL, NULL, &back, &err), 0,
		   "load the directory back");
	if (back) {
		uint8_t fc[SC_SHA256_LEN];

		sc_modsign_cert_fingerprint(sc_modsign_key_cert(back), fc);
		tap_ok(!memcmp(fa, fc, sizeof(fa)), "  same certificate");
		sc_modsign_key_free(back);
	}

	/* What the kernel, mokutil and shim see (modsign.h). */
	x = cert_from_dir(dir);
	tap_ok(x != NULL, "the DER certificate parses");
	if (x) {
		tap_ok(X509_get_version(x) == X509_VERSION_3, "  X.509 v3");
		tap_ok(X509_check_ca(x) == 0, "  not a CA (basicConstraints CA:FALSE)");
		tap_ok(X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE,
		       "  keyUsage digitalSignature only");
		tap_ok(X509_get_extended_key_usage(x) & XKU_CODE_SIGN,
		       "  extendedKeyUsage codeSigning");
		eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
		for (i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++)
			found |= !OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), modsign_only);
		tap_ok(found, "  and 1.3.6.1.4.1.2312.16.1.2 (module signing only)");
		sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
		tap_ok(X509_get0_subject_key_id(x) && X509_get0_authority_key_id(x) &&
			       !ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(x),
						      X509_get0_authority_key_id(x)),
		       "  subject and authority key identifiers, equal");
		tap_ok(!X509_NAME_cmp(X509_get_issuer_name(x),
				      X509_get_subject_name(x)) &&
			       X509_verify(x, X509_get0_pubkey(x)) == 1,
		       "  self-signed");
		tap_is_int(EVP_PKEY_get_bits(X509_get0_pubkey(x)), SC_MODSIGN_RSA_BITS,
			   "  RSA-3072");
		tap_ok(X509_cmp_time(X509_get0_notAfter(x), NULL) > 0 &&
			       X509_cmp_time(X509_get0_notBefore(x), NULL) <= 0,
		       "  valid now");
		X509_free(x);
	}
	ASN1_OBJECT_free(modsign_only);
	free(dir);
}

static void test_load_forms(void)
{
	struct sc_modsign_key *k = NULL;
	struct sc_error err = {""};
	char *dir = path_in("keydir"),
	     *key = sc_strdupf("%s/%s", dir, SC_MODSIGN_KEY_FILE);
	char *der = sc_strdupf("%s/%s", dir, SC_MODSIGN_CERT_DER_FILE);
	char *pem = sc_strdupf("%s/%s", dir, SC_MODSIGN_CERT_PEM_FILE);
	char *both = path_in("signing_key.pem"), *enc = path_in("encrypted.pem");
	char *b_cert = path_in("b-cert.pem"), *keytext, *certtext, *joined;
	size_t klen, clen;
	mode_t bad[] = {0640, 0604, 0620, 0602, 0610, 0601};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		chmod(key, bad[i]);
		tap_ok(sc_modsign_key_load(dir, NULL, NULL, &k, &err) == -EPERM,
		       "a private key of mode 0%o is refused", (unsigned)bad[i]);
	}
	tap_ok(strstr(err.msg, "chmod 600") != NULL,
	       "  and the message says what to do: %s", err.msg);
	chmod(key, 0400);
	tap_is_int(sc_modsign_key_load(dir, NULL, NULL, &k, &err), 0,
		   "mode 0400 is fine");
	sc_modsign_key_free(k);
	k = NULL;
	chmod(key, 0600);

	tap_is_int(sc_modsign_key_load(key, der, NULL, &k, &err), 0,
		   "a PEM key with a DER certificate");
	sc_modsign_key_free(k);
	k = NULL;
	tap_is_int(sc_modsign_key_load(key, pem, NULL, &k, &err), 0,
		   "a PEM key with a PEM certificate");
	sc_modsign_key_free(k);
	k = NULL;
	tap_is_int(sc_modsign_key_load(key, NULL, NULL, &k, &err), -EINVAL,
		   "a key file alone, without its certificate, is refused");
	tap_ok(strstr(err.msg, "no certificate") != NULL, "  %s", err.msg);

	/* The kernel's certs/signing_key.pem: key and certificate in one file. */
	{
		char *kbuf = NULL;
		size_t kl = 0;

		sc_read_file(key, 1 << 20, &kbuf, &kl);
		sc_read_file(pem, 1 << 20, &certtext, &clen);
		joined = sc_strdupf("%s%s", kbuf, certtext);
		write_file(both, joined, strlen(joined), 0600);
		tap_is_int(sc_modsign_key_load(both, NULL, NULL, &k, &err), 0,
			   "key and certificate in one PEM file (signing_key.pem)");
		sc_modsign_key_free(k);
		k = NULL;
		free(joined);
		joined = sc_strdupf("%s%s", certtext, kbuf);
		write_file(both, joined, strlen(joined), 0600);
		tap_is_int(sc_modsign_key_load(both, NULL, NULL, &k, &err), 0,
			   "  in either order");
		sc_modsign_key_free(k);
		k = NULL;
		free(joined);
		free(certtext);
		free(kbuf);
	}

	/* Another key's certificate. */
	{
		struct sc_modsign_key *kb = key_b;
		uint8_t *d = NULL;
		size_t dl = 0;

		sc_modsign_cert_der(sc_modsign_key_cert(kb), &d, &dl);
		write_file(b_cert, d, dl, 0644);
		free(d);
	}
	tap_is_int(sc_modsign_key_load(key, b_cert, NULL, &k, &err), -EINVAL,
		   "a key with another key's certificate is refused");
	tap_ok(strstr(err.msg, "does not belong") != NULL, "  %s", err.msg);

	/* An encrypted key (an organisation's MOK key often is). */
	{
		struct sc_modsign_key *plain = NULL;
		EVP_PKEY *pk;
		BIO *b;

		sc_modsign_key_load(dir, NULL, NULL, &plain, &err);
		b = BIO_new_file(key, "r");
		pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
		keytext = pem_of(pk, NULL, "sesame", &klen);
		EVP_PKEY_free(pk);
		write_file(enc, keytext, klen, 0600);
		free(keytext);
		tap_is_int(sc_modsign_key_load(enc, der, NULL, &k, &err), -EINVAL,
			   "an encrypted key without its passphrase is refused (no prompt)");
		tap_ok(strstr(err.msg, "encrypted") != NULL, "  %s", err.msg);
		tap_is_int(sc_modsign_key_load(enc, der, "wrong", &k, &err), -EINVAL,
			   "  with a wrong passphrase too");
		tap_is_int(sc_modsign_key_load(enc, der, "sesame", &k, &err), 0,
			   "  and loads with the right one");
		sc_modsign_key_free(k);
		k = NULL;
		sc_modsign_key_free(plain);
	}

	/* An EC key: the kernel's check here is for RSA signers. */
	{
		EVP_PKEY *ec = EVP_EC_gen("P-256");
		X509 *x = X509_new();
		char *ecpath = path_in("ec.pem"), *all;

		X509_set_version(x, X509_VERSION_3);
		ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
		X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
					   (const unsigned char *)"ec", -1, -1, 0);
		X509_set_issuer_name(x, X509_get_subject_name(x));
		X509_gmtime_adj(X509_getm_notBefore(x), 0);
		X509_gmtime_adj(X509_getm_notAfter(x), 3600);
		X509_set_pubkey(x, ec);
		X509_sign(x, ec, EVP_sha256());
		keytext = pem_of(ec, NULL, NULL, &klen);
		certtext = pem_of(NULL, x, NULL, &clen);
		all = sc_strdupf("%s%s", keytext, certtext);
		write_file(ecpath, all, strlen(all), 0600);
		tap_is_int(sc_modsign_key_load(ecpath, NULL, NULL, &k, &err), -EINVAL,
			   "an EC key is refused");
		tap_ok(strstr(err.msg, "not an RSA key") != NULL, "  %s", err.msg);
		free(all);
		free(keytext);
		free(certtext);
		free(ecpath);
		X509_free(x);
		EVP_PKEY_free(ec);
	}
	tap_is_int(sc_modsign_key_load("/nonexistent/key.pem", NULL, NULL, &k, &err),
		   -ENOENT, "a missing key file");
	free(b_cert);
	free(enc);
	free(both);
	free(pem);
	free(der);
	free(key);
	free(dir);
}

/* ------------------------------------------------------------ signatures */

static char *real_module(size_t *len)
{
	const char *srcdir = getenv("top_srcdir");
	char line[4096] = "", *cmd, *buf = NULL;
	FILE *p;

	cmd = sc_strdupf("'%s/tests/fakes/auth-module.sh' " MODNAME
			 " 'probe begin { println(\"signed\") exit() }' 2>/dev/null",
			 srcdir ? srcdir : "../..");
	p = popen(cmd, "r");
	free(cmd);
	if (!p || !fgets(line, sizeof(line), p))
		line[0] = '\0';
	if (p)
		pclose(p);
	line[strcspn(line, "\n")] = '\0';
	if (!line[0] || sc_read_file(line, 64 << 20, &buf, len) < 0)
		return NULL;
	return buf;
}

/* buf with its byte at off changed */
static int verify_flipped(const struct sc_modsign_cert *c, const uint8_t *buf, size_t len,
			  size_t off)
{
	uint8_t *copy = malloc(len);
	int r;

	memcpy(copy, buf, len);
	copy[off] ^= 0xff;
	r = sc_modsign_verify(c, copy, len, NULL, NULL);
	free(copy);
	return r;
}

/* module, then a signature block of sig_len bytes from sig, then the framing */
static uint8_t *frame(const void *module, size_t mlen, const void *sig, size_t slen,
		      uint32_t claimed, size_t *len)
{
	uint8_t *b = calloc(1, mlen + slen + SC_MODSIGN_INFO_LEN + SC_MODSIGN_MAGIC_LEN);
	uint8_t *info = b + mlen + slen;

	memcpy(b, module, mlen);
	if (slen)
		memcpy(b + mlen, sig, slen);
	info[2] = SC_MODSIGN_ID_PKCS7;
	info[8] = (uint8_t)(claimed >> 24);
	info[9] = (uint8_t)(claimed >> 16);
	info[10] = (uint8_t)(claimed >> 8);
	info[11] = (uint8_t)claimed;
	memcpy(info + SC_MODSIGN_INFO_LEN, SC_MODSIGN_MAGIC, SC_MODSIGN_MAGIC_LEN);
	*len = mlen + slen + SC_MODSIGN_INFO_LEN + SC_MODSIGN_MAGIC_LEN;
	return b;
}

static void test_sign_verify(const char *what, const uint8_t *mod, size_t len)
{
	const struct sc_modsign_cert *ca = sc_modsign_key_cert(key_a);
	const struct sc_modsign_cert *cb = sc_modsign_key_cert(key_b);
	struct sc_error err = {""};
	uint8_t *s = NULL, *s2 = NULL, *f, *other;
	size_t slen = 0, s2len = 0, mlen = 0, sig = 0, flen, i, zero = 0;
	size_t codes[5] = {0};
	int r;

	tap_ok(sc_modsign_sign(key_a, mod, len, &s, &slen, &err) == 0, "sign %s", what);
	if (!s)
		return;
	tap_ok(slen > len && !memcmp(s, mod, len), "  the module comes first, unchanged");
	tap_ok(!memcmp(s + slen - SC_MODSIGN_MAGIC_LEN, SC_MODSIGN_MAGIC,
		       SC_MODSIGN_MAGIC_LEN),
	       "  the trailer comes last");
	tap_is_int(sc_modsign_locate(s, slen, &mlen, &sig, &err), 0,
		   "  the framing is found");
	tap_is_int(mlen, len, "  module length");
	printf("# %s: %zu module bytes, %zu signature bytes\n", what, len, sig);
	tap_is_int(sc_modsign_verify(ca, s, slen, &mlen, &err), 0,
		   "  verifies with its key");
	tap_is_int(sc_modsign_verify(cb, s, slen, NULL, &err), -ENOKEY,
		   "  not with another key (-ENOKEY)");
	tap_ok(strstr(err.msg, "another key") && strstr(err.msg, "key A"), "  %s",
	       err.msg);
	tap_is_int(sc_modsign_sign(key_a, mod, len, &s2, &s2len, &err), 0,
		   "sign it again");
	tap_ok(s2 && s2len == slen && !memcmp(s, s2, slen),
	       "  the same bytes (deterministic)");
	free(s2);
	s2 = NULL;
	tap_is_int(sc_modsign_sign(key_a, s, slen, &s2, &s2len, &err), -EEXIST,
		   "a signed module is not signed twice");
	tap_is_int(sc_modsign_verify(ca, mod, len, NULL, &err), -ENODATA,
		   "the unsigned module: -ENODATA");

	/* altered module bytes */
	tap_is_int(verify_flipped(ca, s, slen, 0), -EKEYREJECTED,
		   "flipped first byte of the module: -EKEYREJECTED");
	tap_is_int(verify_flipped(ca, s, slen, len / 2), -EKEYREJECTED,
		   "  a middle byte");
	tap_is_int(verify_flipped(ca, s, slen, len - 1), -EKEYREJECTED,
		   "  its last byte");
	tap_is_int(verify_flipped(ca, s, slen, len + sig - 1), -EKEYREJECTED,
		   "flipped last byte of the RSA signature: -EKEYREJECTED");
	/* every byte of the signature block and trailer */
	for (i = len; i < slen; i++) {
		r = verify_flipped(ca, s, slen, i);
		if (r == 0)
			zero++;
		codes[r == -EKEYREJECTED ? 0
		      : r == -ENOKEY     ? 1
		      : r == -EBADMSG    ? 2
		      : r == -ENODATA    ? 3
					 : 4]++;
	}
	tap_is_int(zero, 0, "no flipped byte in the signature or trailer verifies");
	printf("#   %zu flips: %zu rejected, %zu other key, %zu malformed, %zu unsigned, %zu other\n",
	       slen - len, codes[0], codes[1], codes[2], codes[3], codes[4]);
	tap_ok(codes[4] == 0, "  each refused with one of the documented errors");

	/* truncations: every cut of the signed file */
	for (i = 0, zero = 0; i < slen; i += i < len ? 997 : 1)
		zero += sc_modsign_verify(ca, s, i, NULL, NULL) == 0;
	tap_is_int(zero, 0, "no truncation of the signed module verifies");
	/* a signature cut short inside consistent framing */
	f = frame(mod, len, s + len, sig - 16, (uint32_t)(sig - 16), &flen);
	tap_is_int(sc_modsign_verify(ca, f, flen, NULL, &err), -EBADMSG,
		   "a truncated signature in consistent framing: -EBADMSG");
	free(f);
	/* forged trailers on the unsigned module */
	f = frame(mod, len, NULL, 0, 0, &flen);
	tap_is_int(sc_modsign_verify(ca, f, flen, NULL, &err), -EBADMSG,
		   "a trailer forged on an unsigned module (sig_len 0): -EBADMSG");
	free(f);
	f = frame(mod, len, NULL, 0, 512, &flen);
	tap_is_int(sc_modsign_verify(ca, f, flen, NULL, &err), -EBADMSG,
		   "  claiming the module's last 512 bytes as its signature");
	free(f);
	f = frame(mod, len, NULL, 0, (uint32_t)len + 1, &flen);
	tap_is_int(sc_modsign_verify(ca, f, flen, NULL, &err), -EBADMSG,
		   "  claiming more bytes than there are");
	free(f);
	f = frame(mod, len, s + len, sig, (uint32_t)sig, &flen);
	f[flen - SC_MODSIGN_MAGIC_LEN - SC_MODSIGN_INFO_LEN + 2] = 1; /* id_type */
	tap_is_int(sc_modsign_verify(ca, f, flen, NULL, &err), -EBADMSG,
		   "a signature of another type than PKCS#7: -EBADMSG");
	free(f);
	/* the signature moved onto another module */
	other = malloc(len);
	memcpy(other, mod, len);
	other[len / 3] ^= 1;
	f = frame(other, len, s + len, sig, (uint32_t)sig, &flen);
	tap_is_int(sc_modsign_verify(ca, f, flen, NULL, &err), -EKEYREJECTED,
		   "a signature moved onto another module: -EKEYREJECTED");
	free(f);
	free(other);
	free(s);
}

/* ------------------------------------------------------------ sign-file */

static const char *find_sign_file(void)
{
	static char path[4096];
	const char *env = getenv("SC_SIGN_FILE");
	glob_t g;

	if (env)
		return env;
	path[0] = '\0';
	if (glob("/usr/lib/linux-kbuild-*/scripts/sign-file", 0, NULL, &g) == 0) {
		snprintf(path, sizeof(path), "%s", g.gl_pathv[g.gl_pathc - 1]);
		globfree(&g);
	}
	return path[0] ? path : NULL;
}

static int run(const char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_sign_file(const char *what, const uint8_t *mod, size_t len)
{
	const char *sf = find_sign_file();
	char *dir = path_in("keydir"),
	     *key = sc_strdupf("%s/%s", dir, SC_MODSIGN_KEY_FILE);
	char *der = sc_strdupf("%s/%s", dir, SC_MODSIGN_CERT_DER_FILE);
	char *pem = sc_strdupf("%s/%s", dir, SC_MODSIGN_CERT_PEM_FILE);
	char *ko = path_in(MODNAME ".ko"), *theirs = NULL;
	uint8_t *ours = NULL;
	size_t olen = 0, tlen = 0;
	struct sc_error err = {""};
	const char *certs[] = {der, pem};
	size_t i;

	if (!sf || access(sf, X_OK) != 0) {
		tap_skip(
			"the kernel's sign-file is not installed (apt-get install linux-kbuild-6.1)");
		goto out;
	}
	tap_ok(sc_modsign_sign(key_a, mod, len, &ours, &olen, &err) == 0, "sign %s",
	       what);
	for (i = 0; i < 2; i++) {
		const char *argv[] = {sf, "sha256", key, certs[i], ko, NULL};

		write_file(ko, mod, len, 0644);
		tap_ok(run(argv) == 0, "%s sha256 KEY %s %s", sf,
		       i ? "CERT.pem" : "CERT.der", what);
		free(theirs);
		theirs = NULL;
		sc_read_file(ko, 64 << 20, &theirs, &tlen);
		tap_ok(theirs && ours && tlen == olen && !memcmp(ours, theirs, olen),
		       "  writes exactly stapcache's bytes (%zu)", olen);
		tap_is_int(sc_modsign_verify(sc_modsign_key_cert(key_a), theirs, tlen,
					     NULL, &err),
			   0, "  and stapcache's check accepts sign-file's output");
	}
out:
	free(theirs);
	free(ours);
	free(ko);
	free(pem);
	free(der);
	free(key);
	free(dir);
}

int main(void)
{
	uint8_t *synth = malloc(SYNTH_LEN);
	char *real;
	size_t i, rlen = 0;

	if (!mkdtemp(tmp))
		return 1;
	for (i = 0; i < SYNTH_LEN; i++)
		synth[i] = (uint8_t)(i * 2654435761u >> 13);

	test_generate();
	test_load_forms();
	test_sign_verify("120 KiB of bytes", synth, SYNTH_LEN);
	test_sign_file("120 KiB of bytes", synth, SYNTH_LEN);
	real = real_module(&rlen);
	if (real) {
		test_sign_verify("a real stap module", (uint8_t *)real, rlen);
		test_sign_file("a real stap module", (uint8_t *)real, rlen);
	} else {
		tap_skip(
			"no real stap module could be built here (tests/fakes/auth-module.sh)");
	}
	free(real);
	free(synth);
	sc_modsign_key_free(key_a);
	sc_modsign_key_free(key_b);
	sc_rm_rf(tmp);
	return tap_done();
}
