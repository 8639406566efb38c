/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Module-signing keys and their certificates (modsign.h): made, written,
 * loaded. Signing and checking signatures: modsign.c.
 *
 * Invariants:
 *  - A private key is read only from a regular file that group and others
 *    cannot touch; loading never prompts on a terminal; the PEM text of a
 *    private key is wiped from memory after use.
 *  - A key directory appears whole (renamed into place) or not at all, and
 *    an existing one is never replaced.
 *  - A loaded key is RSA of at least SC_MODSIGN_RSA_MIN_BITS and belongs to
 *    its certificate.
 * Style: one exit path per function (goto out); libcrypto's failures are
 * folded into one -errno after its own reason is put in the message.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/fsutil.h"
#include "common/modsign-priv.h"
#include "common/modsign.h"

/* The extensions of a generated certificate, in this order (modsign.h). The
 * subject key identifier comes before the authority key identifier, which
 * copies it. */
static const struct {
	int nid;
	const char *value;
} cert_extensions[] = {
	{NID_basic_constraints, "critical,CA:FALSE"},
	{NID_key_usage, "critical,digitalSignature"},
	{NID_ext_key_usage, "codeSigning,1.3.6.1.4.1.2312.16.1.2"},
	{NID_subject_key_identifier, "hash"},
	{NID_authority_key_identifier, "keyid:always"},
};

int sc_modsign_crypto_fail(struct sc_error *err, int r, const char *fmt, ...)
{
	unsigned long e = ERR_peek_last_error();
	char what[512], why[256] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (e)
		ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	sc_error_set(err, "%s%s%s", what, *why ? ": " : "", why);
	return r;
}

/* ------------------------------------------------------------ certificates */

void sc_modsign_cert_free(struct sc_modsign_cert *cert)
{
	if (!cert)
		return;
	X509_free(cert->x509);
	free(cert);
}

/* The first certificate in buf, or NULL: DER when buf starts like a DER
 * SEQUENCE, else PEM (other PEM blocks are skipped). */
static X509 *parse_cert(const char *buf, size_t len)
{
	X509 *x = NULL;
	BIO *b;

	if (len > INT_MAX)
		return NULL;
	if (len >= 2 && (unsigned char)buf[0] == 0x30) {
		const unsigned char *p = (const unsigned char *)buf;

		x = d2i_X509(NULL, &p, (long)len);
	} else {
		b = BIO_new_mem_buf(buf, (int)len);
		if (b)
			x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	return x;
}

/* The first certificate of the file at path into *out (set on success). */
static int read_cert(const char *path, X509 **out, struct sc_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	X509 *x;
	int r;

	r = sc_read_file(path, SC_MODSIGN_FILE_MAX, &buf, &len);
	if (r < 0) {
		sc_error_set(err, "cannot read the certificate %s: %s", path,
			     r == -EFBIG ? "too large" : strerror(-r));
		return r;
	}
	x = parse_cert(buf, len);
	free(buf);
	if (!x)
		return sc_modsign_crypto_fail(err, -EINVAL,
					      "%s holds no X.509 certificate (DER or PEM)",
					      path);
	*out = x;
	return 0;
}

int sc_modsign_cert_load(const char *path, struct sc_modsign_cert **out,
			 struct sc_error *err)
{
	struct sc_modsign_cert *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = read_cert(path, &c->x509, err);
	if (r < 0) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

int sc_modsign_cert_der(const struct sc_modsign_cert *cert, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509(cert->x509, &p);

	if (n <= 0) {
		ERR_clear_error();
		return -EIO;
	}
	*der = malloc((size_t)n);
	if (!*der) {
		OPENSSL_free(p);
		return -ENOMEM;
	}
	memcpy(*der, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return 0;
}

int sc_modsign_cert_fingerprint(const struct sc_modsign_cert *cert,
				uint8_t out[SC_SHA256_LEN])
{
	uint8_t *der = NULL;
	size_t len = 0;
	int r = sc_modsign_cert_der(cert, &der, &len);

	if (r < 0)
		return r;
	sc_sha256(der, len, out);
	free(der);
	return 0;
}

int sc_modsign_cert_subject(const struct sc_modsign_cert *cert, char *buf, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *text;
	long len;
	int r = -EIO;

	if (!b || !n)
		goto out;
	if (X509_NAME_print_ex(b, X509_get_subject_name(cert->x509), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	len = BIO_get_mem_data(b, &text);
	if (len < 0)
		goto out;
	snprintf(buf, n, "%.*s", (int)len, text);
	r = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	return r;
}

/* ------------------------------------------------------------ keys */

void sc_modsign_key_free(struct sc_modsign_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	X509_free(key->cert.x509);
	free(key);
}

const struct sc_modsign_cert *sc_modsign_key_cert(const struct sc_modsign_key *key)
{
	return &key->cert;
}

static int add_extensions(X509 *x, struct sc_error *err)
{
	X509V3_CTX ctx;
	size_t i;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	for (i = 0; i < sizeof(cert_extensions) / sizeof(cert_extensions[0]); i++) {
		X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx,
							   cert_extensions[i].nid,
							   cert_extensions[i].value);
		int ok = ext && X509_add_ext(x, ext, -1) == 1;

		X509_EXTENSION_free(ext);
		if (!ok)
			return sc_modsign_crypto_fail(err, -EIO,
						      "cannot add the extension %s = %s",
						      OBJ_nid2sn(cert_extensions[i].nid),
						      cert_extensions[i].value);
	}
	return 0;
}

/* A self-signed certificate for pkey (modsign.h, sc_modsign_key_generate). */
static int make_cert(EVP_PKEY *pkey, const char *cn, X509 **out, struct sc_error *err)
{
	unsigned char serial[16];
	X509 *x = X509_new();
	X509_NAME *name;
	BIGNUM *bn = NULL;
	int r = -EIO;

	if (!x)
		goto fail;
	/* 127 random bits, positive (RFC 5280: at most 20 octets, non-negative) */
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto fail;
	name = X509_get_subject_name(x);
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), SC_MODSIGN_CERT_DAYS, 0, NULL) ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, pkey) != 1)
		goto fail;
	r = add_extensions(x, err);
	if (r < 0)
		goto out;
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto fail;
	*out = x;
	x = NULL;
	r = 0;
	goto out;
fail:
	r = sc_modsign_crypto_fail(err, -EIO,
				   "cannot make the module-signing certificate");
out:
	BN_free(bn);
	X509_free(x);
	return r;
}

int sc_modsign_key_generate(const char *common_name, unsigned int bits,
			    struct sc_modsign_key **out, struct sc_error *err)
{
	struct sc_modsign_key *k = NULL;
	size_t cn_len = common_name ? strlen(common_name) : 0;
	int r;

	if (!bits)
		bits = SC_MODSIGN_RSA_BITS;
	if (bits < SC_MODSIGN_RSA_GEN_MIN_BITS || bits > SC_MODSIGN_RSA_GEN_MAX_BITS) {
		sc_error_set(err, "a module-signing key has %d to %d bits, not %u",
			     SC_MODSIGN_RSA_GEN_MIN_BITS, SC_MODSIGN_RSA_GEN_MAX_BITS,
			     bits);
		return -EINVAL;
	}
	if (cn_len < 1 || cn_len > 64) {
		sc_error_set(err, "a certificate's common name has 1 to 64 bytes");
		return -EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->pkey = EVP_RSA_gen(bits);
	if (!k->pkey) {
		r = sc_modsign_crypto_fail(err, -EIO, "cannot generate an RSA-%u key",
					   bits);
		goto out;
	}
	r = make_cert(k->pkey, common_name, &k->cert.x509, err);
	if (r < 0)
		goto out;
	*out = k;
	k = NULL;
	r = 0;
out:
	sc_modsign_key_free(k);
	return r;
}

/* Create dir/name (which must not exist) holding buf, mode mode, synced. */
static int write_new_file(const char *dir, const char *name, const void *buf, size_t len,
			  mode_t mode)
{
	char *path = sc_strdupf("%s/%s", dir, name);
	int fd = -1, r;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		r = -errno;
		goto out;
	}
	r = sc_write_all(fd, buf, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
out:
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	free(path);
	return r;
}

/* The PEM text of pkey (unencrypted PKCS#8) or of x509, in a new buffer. */
static int to_pem(EVP_PKEY *pkey, X509 *x509, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *text;
	long n;
	int ok, r = -EIO;

	if (!b)
		return -ENOMEM;
	ok = pkey ? PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL)
		  : PEM_write_bio_X509(b, x509);
	n = BIO_get_mem_data(b, &text);
	if (ok != 1 || n <= 0)
		goto out;
	*out = malloc((size_t)n);
	if (!*out) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(*out, text, (size_t)n);
	OPENSSL_cleanse(text, (size_t)n);
	*len = (size_t)n;
	r = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	return r;
}

static void free_secret(char *buf, size_t len)
{
	if (buf)
		OPENSSL_cleanse(buf, len);
	free(buf);
}

/* rename(2) that never replaces a non-empty directory; RENAME_NOREPLACE
 * where the file system has it. */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* rename() of a directory onto a non-empty one fails with ENOTEMPTY */
	if (rename(from, to) == 0)
		return 0;
	return errno == ENOTEMPTY ? -EEXIST : -errno;
}

int sc_modsign_key_write_dir(const struct sc_modsign_key *key, const char *dir,
			     struct sc_error *err)
{
	char *tmp = sc_strdupf("%s.tmp.XXXXXX", dir), *parent = sc_strdupf("%s", dir);
	char *key_pem = NULL, *cert_pem = NULL, *slash;
	uint8_t *der = NULL;
	size_t key_len = 0, cert_len = 0, der_len = 0;
	bool made = false;
	struct stat st;
	int r;

	if (!tmp || !parent) {
		r = -ENOMEM;
		goto out;
	}
	if (lstat(dir, &st) == 0) {
		r = -EEXIST;
		sc_error_set(err,
			     "%s already exists: a module-signing key is never overwritten (remove it, or pick another directory)",
			     dir);
		goto out;
	}
	r = to_pem(key->pkey, NULL, &key_pem, &key_len);
	r = r ?: to_pem(NULL, key->cert.x509, &cert_pem, &cert_len);
	r = r ?: sc_modsign_cert_der(&key->cert, &der, &der_len);
	if (r < 0) {
		sc_error_set(err, "cannot encode the module-signing key: %s",
			     strerror(-r));
		goto out;
	}
	if (!mkdtemp(tmp)) {
		r = -errno;
		sc_error_set(err, "cannot create a directory beside %s: %s", dir,
			     strerror(-r));
		goto out;
	}
	made = true;
	r = write_new_file(tmp, SC_MODSIGN_KEY_FILE, key_pem, key_len, 0600);
	r = r ?: write_new_file(tmp, SC_MODSIGN_CERT_PEM_FILE, cert_pem, cert_len, 0644);
	r = r ?: write_new_file(tmp, SC_MODSIGN_CERT_DER_FILE, der, der_len, 0644);
	r = r ?: sc_fsync_dir(tmp);
	if (r < 0) {
		sc_error_set(err, "cannot write the module-signing key in %s: %s", tmp,
			     strerror(-r));
		goto out;
	}
	r = rename_noreplace(tmp, dir);
	if (r < 0) {
		sc_error_set(err, "cannot create %s: %s", dir,
			     r == -EEXIST ? "it appeared meanwhile" : strerror(-r));
		goto out;
	}
	made = false;
	slash = strrchr(parent, '/');
	if (slash == parent)
		parent[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(parent, ".");
	r = sc_fsync_dir(parent);
	if (r < 0)
		sc_error_set(err, "wrote %s, but cannot sync its directory: %s", dir,
			     strerror(-r));
out:
	if (made)
		(void)sc_rm_rf(tmp);
	free_secret(key_pem, key_len);
	free(cert_pem);
	free(der);
	free(parent);
	free(tmp);
	return r;
}

struct pass_ctx {
	const char *pass;
	bool asked;
};

/* libcrypto's passphrase callback: hand over the given passphrase once, or
 * refuse (never a terminal prompt). */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	size_t n;

	(void)rwflag;
	pc->asked = true;
	if (!pc->pass || size <= 0)
		return -1;
	n = strlen(pc->pass);
	if (n >= (size_t)size)
		return -1;
	memcpy(buf, pc->pass, n);
	pc->pass = NULL;
	return (int)n;
}

/* Read a private key file: a regular file without group or other
 * permissions, at most SC_MODSIGN_FILE_MAX bytes. */
static int read_private(const char *path, char **buf, size_t *len, struct sc_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r;

	if (fd < 0) {
		r = -errno;
		sc_error_set(err, "cannot read the module-signing key %s: %s", path,
			     strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		sc_error_set(err, "cannot stat %s: %s", path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		sc_error_set(err, "the module-signing key %s is not a regular file",
			     path);
		goto out;
	}
	if (st.st_mode & 077) {
		r = -EPERM;
		sc_error_set(err,
			     "the module-signing key %s is open to group or others (mode %04o): a private key must be the owner's alone; chmod 600 %s",
			     path, (unsigned int)(st.st_mode & 07777), path);
		goto out;
	}
	r = sc_read_fd(fd, SC_MODSIGN_FILE_MAX, buf, len);
	if (r < 0)
		sc_error_set(err, "cannot read the module-signing key %s: %s", path,
			     r == -EFBIG ? "too large" : strerror(-r));
out:
	close(fd);
	return r;
}

/* Check what stapcache signs with: RSA, large enough, matching cert. */
static int check_pair(EVP_PKEY *pkey, X509 *x, const char *key_path,
		      const char *cert_path, struct sc_error *err)
{
	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		sc_error_set(err,
			     "%s is not an RSA key: stapcache signs modules with RSA keys (the kernel's pkcs7 check takes RSA)",
			     key_path);
		return -EINVAL;
	}
	if (EVP_PKEY_get_bits(pkey) < SC_MODSIGN_RSA_MIN_BITS) {
		sc_error_set(err, "%s is an RSA-%d key: at least %d bits are needed",
			     key_path, EVP_PKEY_get_bits(pkey), SC_MODSIGN_RSA_MIN_BITS);
		return -EINVAL;
	}
	if (X509_check_private_key(x, pkey) != 1) {
		ERR_clear_error();
		sc_error_set(err, "the key %s does not belong to the certificate %s",
			     key_path, cert_path);
		return -EINVAL;
	}
	return 0;
}

int sc_modsign_key_load(const char *key_path, const char *cert_path,
			const char *passphrase, struct sc_modsign_key **out,
			struct sc_error *err)
{
	struct sc_modsign_key *k = NULL;
	struct pass_ctx pc = {passphrase, false};
	char *kpath = NULL, *cpath = NULL, *buf = NULL;
	size_t len = 0;
	struct stat st;
	BIO *b = NULL;
	int r;

	if (!cert_path && stat(key_path, &st) == 0 && S_ISDIR(st.st_mode)) {
		kpath = sc_strdupf("%s/%s", key_path, SC_MODSIGN_KEY_FILE);
		cpath = sc_strdupf("%s/%s", key_path, SC_MODSIGN_CERT_PEM_FILE);
	} else {
		kpath = sc_strdupf("%s", key_path);
		cpath = cert_path ? sc_strdupf("%s", cert_path) : NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!kpath || (!cpath && cert_path) || !k) {
		r = -ENOMEM;
		goto out;
	}
	r = read_private(kpath, &buf, &len, err);
	if (r < 0)
		goto out;
	b = BIO_new_mem_buf(buf, (int)len);
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	k->pkey = PEM_read_bio_PrivateKey(b, NULL, pass_cb, &pc);
	if (!k->pkey) {
		r = sc_modsign_crypto_fail(
			err, -EINVAL, "%s",
			pc.asked && !passphrase
				? "the module-signing key is encrypted: give its passphrase"
			: pc.asked
				? "cannot decrypt the module-signing key (wrong passphrase?)"
				: "no PEM private key in the file");
		sc_error_prefix(err, "%s", kpath);
		goto out;
	}
	if (cpath) {
		r = read_cert(cpath, &k->cert.x509, err);
		if (r < 0)
			goto out;
	} else {
		k->cert.x509 = parse_cert(buf, len);
		if (!k->cert.x509) {
			r = -EINVAL;
			ERR_clear_error();
			sc_error_set(err,
				     "%s holds a private key but no certificate: give the certificate too",
				     kpath);
			goto out;
		}
	}
	r = check_pair(k->pkey, k->cert.x509, kpath, cpath ? cpath : kpath, err);
	if (r < 0)
		goto out;
	*out = k;
	k = NULL;
out:
	BIO_free(b);
	free_secret(buf, len);
	sc_modsign_key_free(k);
	free(kpath);
	free(cpath);
	return r;
}
