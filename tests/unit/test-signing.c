/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Issue 20's plumbing without a kernel: a signer's name read without X.509
 * code (sign/signer.c) against libcrypto's, the signed variant's key
 * (sign/signed.c), the EFI signature lists a host's db and MOK list come in
 * and the facts host add reads (remote/hostfacts.c), and the known_hosts
 * fields that carry them (remote/targets.c).
 */
#include "build-config.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/modsign.h"
#include "core/cache-key.h"
#include "remote/hostfacts.h"
#include "remote/targets.h"
#include "sign/signed.h"
#include "sign/signer.h"
#include "tests/fuzz/modsign-cert.h"
#include "tests/lib/tap.h"

static char tmp[] = "/tmp/test-signing.XXXXXX";

static char *b64(const uint8_t *in, size_t n)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = calloc(1, n / 3 * 4 + n / 48 + 8), *o = out;
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 |
			     (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);

		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? a[v & 63] : '=';
		if ((col += 4) == 64) {
			*o++ = '\n';
			col = 0;
		}
	}
	*o = '\0';
	return out;
}

static char *pem_of(const uint8_t *der, size_t n, const char *before)
{
	char *body = b64(der, n), *pem;

	pem = sc_strdupf("%s-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n",
			 before, body);
	free(body);
	return pem;
}

static void write_file(const char *path, const void *buf, size_t n, mode_t mode)
{
	if (sc_write_file_atomic(path, buf, n, mode, NULL) < 0)
		abort();
}

/* libcrypto's name for the seed certificate: the reference. */
static void reference_fp(char out[SC_SIGNER_FP_LEN + 1])
{
	char *p = sc_strdupf("%s/ref.der", tmp);
	struct sc_modsign_cert *c = NULL;
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1];

	write_file(p, seed_cert_der, sizeof(seed_cert_der), 0644);
	if (sc_modsign_cert_load(p, &c, NULL) < 0 ||
	    sc_modsign_cert_fingerprint(c, md) < 0)
		abort();
	sc_hex(hex, md, sizeof(md));
	snprintf(out, SC_SIGNER_FP_LEN + 1, "sha256:%s", hex);
	sc_modsign_cert_free(c);
	free(p);
}

static void test_cert_der(void)
{
	const size_t n = sizeof(seed_cert_der);
	uint8_t *d = NULL, *copy;
	size_t dl = 0;
	char *pem = pem_of(seed_cert_der, n, ""), *pem2;
	int r;

	r = sc_signer_cert_der(seed_cert_der, n, &d, &dl);
	tap_ok(r == 0 && dl == n && !memcmp(d, seed_cert_der, n),
	       "DER is taken as it is");
	free(d);
	r = sc_signer_cert_der(pem, strlen(pem), &d, &dl);
	tap_ok(r == 0 && dl == n && !memcmp(d, seed_cert_der, n),
	       "PEM is decoded to the same DER");
	free(d);
	pem2 = pem_of(seed_cert_der, n,
		      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
	r = sc_signer_cert_der(pem2, strlen(pem2), &d, &dl);
	tap_ok(r == 0 && dl == n && !memcmp(d, seed_cert_der, n),
	       "the CERTIFICATE block after a key block in one PEM file");
	free(d);
	free(pem2);
	tap_is_int(sc_signer_cert_der(seed_cert_der, n - 1, &d, &dl), -EINVAL,
		   "DER cut short: refused");
	copy = malloc(n + 1);
	memcpy(copy, seed_cert_der, n);
	copy[n] = 0;
	tap_is_int(sc_signer_cert_der(copy, n + 1, &d, &dl), -EINVAL,
		   "DER with a byte after it: refused");
	copy[0] = 0x31;
	tap_is_int(sc_signer_cert_der(copy, n, &d, &dl), -EINVAL,
		   "not a SEQUENCE: refused");
	free(copy);
	pem2 = sc_strdupf("%s", pem);
	pem2[40] = '*';
	tap_is_int(sc_signer_cert_der(pem2, strlen(pem2), &d, &dl), -EINVAL,
		   "PEM with a character base64 has not: refused");
	free(pem2);
	pem2 = sc_strdupf("%s", pem);
	*strstr(pem2, "-----END") = '\0';
	tap_is_int(sc_signer_cert_der(pem2, strlen(pem2), &d, &dl), -EINVAL,
		   "PEM without its END line: refused");
	free(pem2);
	tap_is_int(sc_signer_cert_der("", 0, &d, &dl), -EINVAL, "nothing: refused");
	free(pem);
}

static void test_signer_open(const char *ref)
{
	struct sc_signer s;
	struct sc_error err = {""};
	char *dir = sc_strdupf("%s/keydir", tmp), *p, *pem;
	int r;

	(void)mkdir(dir, 0700);
	p = sc_strdupf("%s/%s", dir, SC_MODSIGN_CERT_DER_FILE);
	write_file(p, seed_cert_der, sizeof(seed_cert_der), 0644);
	free(p);
	r = sc_signer_open(dir, NULL, &s, &err);
	tap_ok(r == 0, "a key directory names its signer%s%s", r ? ": " : "", err.msg);
	tap_is_str(r == 0 ? s.fp : NULL, ref,
		   "  its certificate's SHA-256, as libcrypto's");
	if (r == 0)
		sc_signer_clear(&s);

	pem = pem_of(seed_cert_der, sizeof(seed_cert_der),
		     "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
	p = sc_strdupf("%s/signing_key.pem", tmp);
	write_file(p, pem, strlen(pem), 0600);
	r = sc_signer_open(p, NULL, &s, &err);
	tap_ok(r == 0 && !strcmp(s.fp, ref),
	       "a PEM file with key and certificate (certs/signing_key.pem's form)");
	if (r == 0)
		sc_signer_clear(&s);
	free(p);
	free(pem);

	p = sc_strdupf("%s/key-only.pem", tmp);
	write_file(p, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		   58, 0600);
	r = sc_signer_open(p, NULL, &s, &err);
	tap_ok(r == -EINVAL && strstr(err.msg, "--sign-cert"),
	       "a PEM key without its certificate: refused, naming --sign-cert (%s)",
	       err.msg);
	pem = sc_strdupf("%s/cert.pem", tmp);
	{
		char *text = pem_of(seed_cert_der, sizeof(seed_cert_der), "");

		write_file(pem, text, strlen(text), 0644);
		free(text);
	}
	r = sc_signer_open(p, pem, &s, &err);
	tap_ok(r == 0 && !strcmp(s.fp, ref) && s.cert_given,
	       "a PEM key and its certificate given apart (an organisation's MOK)");
	if (r == 0)
		sc_signer_clear(&s);
	free(p);
	free(pem);
	p = sc_strdupf("%s/nosuch", tmp);
	r = sc_signer_open(p, NULL, &s, &err);
	tap_ok(r == -ENOENT && strstr(err.msg, "signing-key generate"),
	       "no such key: says how to make one (%s)", err.msg);
	free(p);
	free(dir);
	tap_ok(sc_signer_fp_ok(ref), "a signer's name is well-formed");
	tap_ok(!sc_signer_fp_ok("sha256:ABC") && !sc_signer_fp_ok(ref + 7),
	       "a short one, or one without sha256:, is not");
}

static void test_signed_key(const char *ref)
{
	struct sc_key plain = {0}, a = {0}, b = {0}, c = {0};
	char other[SC_SIGNER_FP_LEN + 1];

	snprintf(plain.hex, sizeof(plain.hex), "%064d", 7);
	snprintf(plain.module, sizeof(plain.module), "stap_demo");
	snprintf(other, sizeof(other), "%s", ref);
	other[10] = other[10] == '0' ? '1' : '0';
	tap_ok(sc_signed_key(&plain, ref, &a) == 0 && sc_signed_key(&plain, ref, &b) == 0,
	       "a signed variant's key");
	tap_is_str(a.hex, b.hex, "  the same inputs, the same key");
	tap_is_str(a.module, "stap_demo", "  the module keeps its name");
	tap_ok(strcmp(a.hex, plain.hex) != 0, "  not the unsigned entry's key");
	sc_key_clear(&b);
	sc_signed_key(&plain, other, &b);
	tap_ok(strcmp(a.hex, b.hex) != 0, "  another signer: another key");
	plain.hex[0] = '1';
	sc_signed_key(&plain, ref, &c);
	tap_ok(strcmp(a.hex, c.hex) != 0, "  another unsigned entry: another key");
	tap_is_str(sc_record_get(a.record, "signer"), ref,
		   "  its record names the signer");
	sc_key_clear(&a);
	sc_key_clear(&b);
	sc_key_clear(&c);
}

/* An EFI variable: attributes, a list of two SHA-256 hashes, a list of one cert. */
static uint8_t *efi_var(size_t *len, size_t *first_list_end)
{
	static const uint8_t sha_guid[16] = {0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50,
					     0x92, 0x40, 0xac, 0xa9, 0x41, 0xf9,
					     0x36, 0x93, 0x43, 0x28};
	static const uint8_t x509_guid[16] = {0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94,
					      0xa7, 0x4a, 0x87, 0xb5, 0xab, 0x15,
					      0x5c, 0x2b, 0xf0, 0x72};
	size_t cn = sizeof(seed_cert_der), l1 = 28 + 2 * (16 + 32), l2 = 28 + 16 + cn;
	uint8_t *v = calloc(1, 4 + l1 + l2), *p = v;

	*len = 4 + l1 + l2;
	*first_list_end = 4 + l1;
	p[0] = 0x27;
	p += 4;
	memcpy(p, sha_guid, 16);
	p[16] = (uint8_t)l1;
	p[24] = 48;
	memset(p + 28, 0xab, l1 - 28);
	p += l1;
	memcpy(p, x509_guid, 16);
	p[16] = (uint8_t)l2;
	p[17] = (uint8_t)(l2 >> 8);
	p[24] = (uint8_t)(16 + cn);
	p[25] = (uint8_t)((16 + cn) >> 8);
	memset(p + 28, 0x55, 16); /* the owner GUID */
	memcpy(p + 28 + 16, seed_cert_der, cn);
	return v;
}

static void count_cert(void *arg, const uint8_t *der, size_t n)
{
	int *ok = arg;

	*ok += n == sizeof(seed_cert_der) && !memcmp(der, seed_cert_der, n) ? 1 : 100;
}

static char *hex_of(const uint8_t *b, size_t n)
{
	char *h = malloc(2 * n + 1);

	sc_hex(h, b, n);
	return h;
}

static void test_efi(const char *ref)
{
	size_t len, end1, bad = 0;
	uint8_t *v = efi_var(&len, &end1);
	int seen = 0, r = sc_efi_certs(v, len, count_cert, &seen);
	struct sc_target t = {0};
	char *hex, *out;

	tap_ok(r == 1 && seen == 1, "one certificate among hashes in a db (r=%d)", r);
	for (size_t n = 0; n < len; n++) {
		seen = 0;
		r = sc_efi_certs(v, n, count_cert, &seen);
		if (!(r == -EBADMSG || (n == end1 && r == 0) || (n == 4 && r == 0)))
			bad++;
	}
	tap_is_int(bad, 0, "every truncation is refused (or ends at a list's end)");
	v[4 + 16] = 0xff; /* the first list claims more than there is */
	tap_is_int(sc_efi_certs(v, len, count_cert, &seen), -EBADMSG,
		   "a list larger than the variable: refused");
	free(v);
	v = efi_var(&len, &end1);

	hex = hex_of(v, len);
	out = sc_strdupf("release=x\nsig.lockdown=integrity\nsig.enforce=Y\n"
			 "sig.secureboot=1\nsig.db=%s\n",
			 hex);
	tap_is_int(sc_hostfacts_apply(out, &t), 0, "a Secure Boot host's facts");
	tap_is_str(t.lockdown, "integrity", "  lockdown");
	tap_is_str(t.sig_enforce, "yes", "  sig-enforce");
	tap_is_str(t.secure_boot, "on", "  secure-boot");
	tap_ok(t.nsigners == 1 && !strcmp(t.signers[0], ref),
	       "  the db's certificate, by name");
	tap_ok(sc_target_needs_signature(&t) && sc_target_trusts(&t, ref) == 1,
	       "  it needs signatures, and trusts that signer");
	free(out);
	out = sc_strdupf("sig.lockdown=\nsig.enforce=\nsig.secureboot=no-efi\n");
	tap_is_int(sc_hostfacts_apply(out, &t), 0, "a host without UEFI or securityfs");
	tap_ok(!t.lockdown && !t.sig_enforce && t.secure_boot &&
		       !strcmp(t.secure_boot, "off") && !t.signers,
	       "  lockdown and sig_enforce unknown, Secure Boot off, signers unknown");
	tap_ok(!sc_target_needs_signature(&t) && sc_target_trusts(&t, ref) == -1,
	       "  needs none; whom it trusts is not known");
	free(out);
	hex[10] = 'z';
	out = sc_strdupf("sig.lockdown=none\nsig.db=%s\n", hex);
	tap_is_int(sc_hostfacts_apply(out, &t), -EBADMSG,
		   "a db that is not hex: -EBADMSG");
	tap_ok(!t.signers && t.lockdown && !strcmp(t.lockdown, "none"),
	       "  signers unknown, the rest kept");
	free(out);
	free(hex);
	hex = hex_of(v, len);
	out = sc_strdupf("sig.db=%.*s\n", (int)(2 * (len - 3)), hex);
	tap_is_int(sc_hostfacts_apply(out, &t), -EBADMSG, "a db cut short: -EBADMSG");
	free(out);
	free(hex);
	free(v);
	free(t.lockdown);
	free(t.sig_enforce);
	free(t.secure_boot);
	for (size_t i = 0; i < t.nsigners; i++)
		free(t.signers[i]);
	free(t.signers);
}

static void test_known_hosts(const char *ref)
{
	struct sc_targets t = {0}, back = {0};
	struct sc_error err = {""};
	char *text = sc_strdupf("- name: sb\n"
				"  execute: ssh:u@h:auth\n"
				"  kernel: 6.1.0-57-amd64\n"
				"  arch: x86_64\n"
				"  cpu: qemu64\n"
				"  lockdown: integrity\n"
				"  sig-enforce: yes\n"
				"  secure-boot: on\n"
				"  module-signers:\n"
				"    - %s\n"
				"- name: plain\n"
				"  execute: ssh:u@h:auth\n"
				"  kernel: 6.1.0-57-amd64\n"
				"  arch: x86_64\n"
				"  cpu: qemu64\n"
				"  lockdown: none\n"
				"  sig-enforce: no\n"
				"  module-signers: []\n",
				ref),
	     *f, *why, *line;
	int r = sc_targets_parse("kh", text, strlen(text), &t, &err);

	tap_ok(r == 0 && t.n == 2, "known_hosts with the signature fields (%s)", err.msg);
	if (r != 0 || t.n != 2)
		return;
	why = sc_target_enforcement(&t.v[0]);
	tap_is_str(why, "lockdown integrity, sig_enforce, Secure Boot on",
		   "the Secure Boot target's enforcement, in words");
	free(why);
	tap_ok(sc_target_needs_signature(&t.v[0]) && !sc_target_needs_signature(&t.v[1]),
	       "one needs signatures, the other does not");
	tap_ok(sc_target_trusts(&t.v[1], ref) == 0,
	       "an empty module-signers: trusts none");
	f = sc_target_format(&t.v[0]);
	r = sc_targets_parse("back", f, strlen(f), &back, &err);
	tap_ok(r == 0 && back.n == 1 && back.v[0].nsigners == 1 &&
		       !strcmp(back.v[0].signers[0], ref) &&
		       !strcmp(back.v[0].lockdown, "integrity"),
	       "what host add writes reads back the same");
	free(f);
	sc_targets_clear(&back);
	f = sc_target_format(&t.v[1]);
	r = sc_targets_parse("back", f, strlen(f), &back, &err);
	tap_ok(r == 0 && back.n == 1 && back.v[0].signers && back.v[0].nsigners == 0,
	       "an empty list stays known and empty");
	free(f);
	sc_targets_clear(&back);
	sc_targets_clear(&t);
	free(text);

	line = sc_strdupf("sb execute=ssh:u@h:auth kernel=k arch=x86_64 cpu=c secure-boot=on "
			  "module-signers=%s,%s\n",
			  ref, ref);
	r = sc_targets_parse("kh", line, strlen(line), &t, &err);
	tap_ok(r == 0 && t.n == 1 && t.v[0].nsigners == 2 &&
		       sc_target_needs_signature(&t.v[0]),
	       "the one-line form: secure-boot=on alone needs signatures");
	sc_targets_clear(&t);
	free(line);
	{
		const char *bad[] = {"  lockdown: maybe\n", "  sig-enforce: Y\n",
				     "  secure-boot: 1\n",
				     "  module-signers: [sha256:12]\n",
				     "  module-signers: sha256:12\n"};

		for (size_t i = 0; i < 5; i++) {
			text = sc_strdupf("- name: x\n  execute: ssh:h:auth\n  kernel: k\n"
					  "  arch: a\n  cpu: c\n%s",
					  bad[i]);
			r = sc_targets_parse("kh", text, strlen(text), &t, &err);
			tap_ok(r == -EINVAL && t.n == 0, "refused: %.*s (%s)",
			       (int)strlen(bad[i]) - 3, bad[i] + 2, err.msg);
			sc_targets_clear(&t);
			free(text);
		}
	}
}

int main(void)
{
	char ref[SC_SIGNER_FP_LEN + 1];
	char *rm;

	if (!mkdtemp(tmp))
		return 1;
	reference_fp(ref);
	test_cert_der();
	test_signer_open(ref);
	test_signed_key(ref);
	test_efi(ref);
	test_known_hosts(ref);
	rm = sc_strdupf("%s", tmp);
	(void)sc_rm_rf(rm);
	free(rm);
	return tap_done();
}
