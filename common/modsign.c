/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel module signatures: signing a module and checking a signed one
 * (modsign.h). Keys and certificates: modsign-key.c.
 *
 * Invariants:
 *  - sc_modsign_sign hands back only bytes that sc_modsign_verify accepted
 *    against the signer's own certificate.
 *  - sc_modsign_verify returns 0 only when the framing is the kernel's, the
 *    CMS is DER that fills its slot exactly with the versions and algorithms
 *    the kernel takes, and libcrypto verified its one signer, who is the
 *    given certificate, over exactly the bytes before the signature.
 *  - Every offset read from the signature block is checked against the
 *    buffer before use.
 * Style: one exit path per function (goto out); libcrypto's failures are
 * folded into one -errno after its own reason is put in the message.
 */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "common/modsign-priv.h"
#include "common/modsign.h"

/* ------------------------------------------------------------ signatures */

static bool digest_ok(int nid)
{
	return nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512;
}

/* Name the signer of si for a message: issuer and serial, or key id. */
static void describe_signer(CMS_SignerInfo *si, char *buf, size_t n)
{
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *serial = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	char *text;
	long len;

	snprintf(buf, n, "an unnamed signer");
	if (!b || CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &serial) != 1)
		goto out;
	if (issuer) {
		BIO_puts(b, "issuer ");
		X509_NAME_print_ex(b, issuer, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
		BIO_puts(b, ", serial ");
		i2a_ASN1_INTEGER(b, serial);
	} else if (keyid) {
		BIO_puts(b, "key id ");
		i2a_ASN1_STRING(b, keyid, V_ASN1_OCTET_STRING);
	}
	len = BIO_get_mem_data(b, &text);
	if (len > 0)
		snprintf(buf, n, "%.*s", (int)len, text);
out:
	ERR_clear_error();
	BIO_free(b);
}

/*
 * A strict reader of one DER element at *p (before end): tag, definite
 * length of at most four bytes, content within end. Sets *c and *cend to
 * the content and advances *p past the element. Returns 0 or -EBADMSG.
 */
static int der_next(const unsigned char **p, const unsigned char *end, unsigned char tag,
		    const unsigned char **c, const unsigned char **cend)
{
	const unsigned char *q = *p;
	size_t n, i, k;

	if (end - q < 2 || q[0] != tag)
		return -EBADMSG;
	n = q[1];
	q += 2;
	if (n & 0x80) {
		k = n & 0x7f;
		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return -EBADMSG;
		for (n = 0, i = 0; i < k; i++)
			n = n << 8 | *q++;
	}
	if ((size_t)(end - q) < n)
		return -EBADMSG;
	*c = q;
	*cend = q + n;
	*p = q + n;
	return 0;
}

/* A DER INTEGER of one content byte, and its value. */
static int der_small_int(const unsigned char **p, const unsigned char *end, int *v)
{
	const unsigned char *c, *ce;

	if (der_next(p, end, 0x02, &c, &ce) < 0 || ce - c != 1 || *c > 0x7f)
		return -EBADMSG;
	*v = *c;
	return 0;
}

/*
 * What libcrypto parses but does not check, because no signature covers it:
 * the SignedData and SignerInfo versions. The kernel takes SignedData 1
 * (PKCS#7) or 3 (CMS), and a SignerInfo of version 1 naming its signer by
 * issuer and serial in a version 1 SignedData, or of version 3 naming it
 * by subject key identifier in a version 3 one.
 */
static int check_versions(const unsigned char *der, size_t len, struct sc_error *err)
{
	const unsigned char *p = der, *end = der + len, *c = NULL, *ce = NULL;
	int sd_version = 0, si_version = 0;

	/* ContentInfo { contentType, [0] EXPLICIT SignedData { version,
	 * digestAlgorithms, encapContentInfo, [0] certificates OPTIONAL,
	 * [1] crls OPTIONAL, signerInfos { SignerInfo { version, sid ... */
	if (der_next(&p, end, 0x30, &c, &ce) < 0)
		goto bad;
	p = c;
	end = ce;
	if (der_next(&p, end, 0x06, &c, &ce) < 0 || der_next(&p, end, 0xa0, &c, &ce) < 0)
		goto bad;
	p = c;
	end = ce;
	if (der_next(&p, end, 0x30, &c, &ce) < 0)
		goto bad;
	p = c;
	end = ce;
	if (der_small_int(&p, end, &sd_version) < 0 ||
	    der_next(&p, end, 0x31, &c, &ce) < 0 || der_next(&p, end, 0x30, &c, &ce) < 0)
		goto bad;
	if (p < end && *p == 0xa0 && der_next(&p, end, 0xa0, &c, &ce) < 0)
		goto bad;
	if (p < end && *p == 0xa1 && der_next(&p, end, 0xa1, &c, &ce) < 0)
		goto bad;
	if (der_next(&p, end, 0x31, &c, &ce) < 0)
		goto bad;
	p = c;
	end = ce;
	if (der_next(&p, end, 0x30, &c, &ce) < 0)
		goto bad;
	p = c;
	end = ce;
	if (der_small_int(&p, end, &si_version) < 0)
		goto bad;
	if (!((sd_version == 1 && si_version == 1 && p < end && *p == 0x30) ||
	      (sd_version == 3 && si_version == 3 && p < end && *p == 0x80))) {
		sc_error_set(err,
			     "the module signature's versions (SignedData %d, SignerInfo %d) are not ones the kernel takes",
			     sd_version, si_version);
		return -EBADMSG;
	}
	return 0;
bad:
	sc_error_set(err,
		     "the module signature's CMS does not have the SignedData layout");
	return -EBADMSG;
}

/* An AlgorithmIdentifier's parameters: absent or NULL. */
static bool params_null(const X509_ALGOR *alg)
{
	int ptype = V_ASN1_UNDEF;

	X509_ALGOR_get0(NULL, &ptype, NULL, alg);
	return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL;
}

/* The checks on the CMS's shape; returns its one SignerInfo. */
static int check_shape(CMS_ContentInfo *cms, CMS_SignerInfo **si, struct sc_error *err)
{
	STACK_OF(CMS_SignerInfo) * sis;
	ASN1_OCTET_STRING **content;
	X509_ALGOR *dig = NULL, *sig = NULL;
	const ASN1_OBJECT *obj;

	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		sc_error_set(err, "the module signature is not PKCS#7 signedData");
		return -EBADMSG;
	}
	content = CMS_get0_content(cms);
	if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data || !content ||
	    *content) {
		sc_error_set(err, "the module signature does not sign detached data");
		return -EBADMSG;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (!sis || sk_CMS_SignerInfo_num(sis) != 1) {
		sc_error_set(err, "the module signature has %d signers, not one",
			     sis ? sk_CMS_SignerInfo_num(sis) : 0);
		return -EBADMSG;
	}
	*si = sk_CMS_SignerInfo_value(sis, 0);
	CMS_SignerInfo_get0_algs(*si, NULL, NULL, &dig, &sig);
	X509_ALGOR_get0(&obj, NULL, NULL, dig);
	if (!digest_ok(OBJ_obj2nid(obj)) || !params_null(dig)) {
		sc_error_set(err,
			     "the module signature's digest is %s, not SHA-256/384/512",
			     OBJ_nid2sn(OBJ_obj2nid(obj)));
		return -EBADMSG;
	}
	/* The kernel's pkcs7 parser takes rsaEncryption, not
	 * sha256WithRSAEncryption, as an RSA signer's algorithm. */
	X509_ALGOR_get0(&obj, NULL, NULL, sig);
	if (OBJ_obj2nid(obj) != NID_rsaEncryption || !params_null(sig)) {
		sc_error_set(err,
			     "the module signature's algorithm is %s, not rsaEncryption",
			     OBJ_nid2sn(OBJ_obj2nid(obj)));
		return -EBADMSG;
	}
	return 0;
}

int sc_modsign_verify(const struct sc_modsign_cert *cert, const void *buf, size_t len,
		      size_t *module_len, struct sc_error *err)
{
	const unsigned char *p;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si = NULL;
	STACK_OF(X509) *certs = NULL;
	BIO *data = NULL, *mem = NULL;
	size_t mlen = 0, slen = 0;
	char who[512];
	int r;

	r = sc_modsign_locate(buf, len, &mlen, &slen, err);
	if (r < 0)
		goto out;
	if (mlen > INT_MAX || slen > LONG_MAX) {
		r = -EFBIG;
		sc_error_set(err, "the module is too large to check");
		goto out;
	}
	p = (const unsigned char *)buf + mlen;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)slen);
	if (!cms || p != (const unsigned char *)buf + mlen + slen) {
		r = sc_modsign_crypto_fail(err, -EBADMSG,
					   "the module signature is not one DER CMS message");
		goto out;
	}
	r = check_versions((const unsigned char *)buf + mlen, slen, err);
	r = r ?: check_shape(cms, &si, err);
	if (r < 0)
		goto out;
	if (CMS_SignerInfo_cert_cmp(si, cert->x509) != 0) {
		describe_signer(si, who, sizeof(who));
		r = -ENOKEY;
		sc_error_set(err, "the module is signed by another key (%s)", who);
		goto out;
	}
	/* The module's bytes behind a buffer BIO, not as a bare memory BIO:
	 * CMS_verify copies a memory BIO and, in OpenSSL 3.0.19, leaks the copy
	 * when the CMS lists a digest it cannot set up (valgrind, a byte flipped
	 * in the SignedData's digestAlgorithms). */
	mem = BIO_new_mem_buf(buf, (int)mlen);
	data = mem ? BIO_new(BIO_f_buffer()) : NULL;
	if (data) {
		BIO_push(data, mem);
		mem = NULL;
	}
	certs = sk_X509_new_null();
	if (!data || !certs || !sk_X509_push(certs, cert->x509)) {
		r = -ENOMEM;
		goto out;
	}
	/* The certificate is the trust anchor itself: no chain to build. */
	if (CMS_verify(cms, certs, NULL, data, NULL,
		       CMS_BINARY | CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		r = sc_modsign_crypto_fail(
			err, -EKEYREJECTED,
			"the module signature does not match the module's bytes");
		goto out;
	}
	if (module_len)
		*module_len = mlen;
	r = 0;
out:
	ERR_clear_error();
	sk_X509_free(certs); /* the certificate stays cert's */
	BIO_free_all(data);
	BIO_free(mem);
	CMS_ContentInfo_free(cms);
	return r;
}

int sc_modsign_sign(const struct sc_modsign_key *key, const void *module, size_t len,
		    uint8_t **out, size_t *out_len, struct sc_error *err)
{
	const unsigned int flags = CMS_NOCERTS | CMS_BINARY | CMS_DETACHED;
	CMS_ContentInfo *cms = NULL;
	BIO *data = NULL;
	uint8_t *res = NULL, *p;
	size_t total = 0;
	int der_len, r;

	if (!len) {
		sc_error_set(err, "the module is empty");
		return -EINVAL;
	}
	if (len > INT_MAX) {
		sc_error_set(err, "the module is too large to sign");
		return -EFBIG;
	}
	r = sc_modsign_locate(module, len, NULL, NULL, NULL);
	if (r != -ENODATA) {
		sc_error_set(
			err,
			"the module already carries a module signature: sign the unsigned build");
		return -EEXIST;
	}
	data = BIO_new_mem_buf(module, (int)len);
	/* What sign-file does: a partial signedData, one signer by issuer and
	 * serial with no signed attributes and no S/MIME capabilities, then
	 * the digest over the data, no certificates anywhere. */
	cms = data ? CMS_sign(NULL, NULL, NULL, NULL, flags | CMS_PARTIAL) : NULL;
	if (!cms ||
	    !CMS_add1_signer(cms, key->cert.x509, key->pkey, EVP_sha256(),
			     flags | CMS_NOSMIMECAP | CMS_NOATTR) ||
	    CMS_final(cms, data, NULL, flags) != 1) {
		r = sc_modsign_crypto_fail(err, -EIO, "cannot sign the module");
		goto out;
	}
	der_len = i2d_CMS_ContentInfo(cms, NULL);
	if (der_len <= 0) {
		r = sc_modsign_crypto_fail(err, -EIO,
					   "cannot encode the module signature");
		goto out;
	}
	total = len + (size_t)der_len + SC_MODSIGN_INFO_LEN + SC_MODSIGN_MAGIC_LEN;
	res = malloc(total);
	if (!res) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(res, module, len);
	p = res + len;
	if (i2d_CMS_ContentInfo(cms, &p) != der_len) {
		r = sc_modsign_crypto_fail(err, -EIO,
					   "cannot encode the module signature");
		goto out;
	}
	memset(p, 0, SC_MODSIGN_INFO_LEN);
	p[2] = SC_MODSIGN_ID_PKCS7;
	p[8] = (uint8_t)((unsigned int)der_len >> 24);
	p[9] = (uint8_t)((unsigned int)der_len >> 16);
	p[10] = (uint8_t)((unsigned int)der_len >> 8);
	p[11] = (uint8_t)der_len;
	memcpy(p + SC_MODSIGN_INFO_LEN, SC_MODSIGN_MAGIC, SC_MODSIGN_MAGIC_LEN);
	r = sc_modsign_verify(&key->cert, res, total, NULL, err);
	if (r < 0) {
		sc_error_prefix(err, "the signature just made does not check out");
		r = -EIO;
		goto out;
	}
	*out = res;
	*out_len = total;
	res = NULL;
out:
	ERR_clear_error();
	free(res);
	CMS_ContentInfo_free(cms);
	BIO_free(data);
	return r;
}
