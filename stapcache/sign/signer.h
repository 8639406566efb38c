/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_SIGNER_H
#define SC_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/digest.h"
#include "common/error.h"

/*
 * A module signer as stapcache names it: the SHA-256 of its X.509
 * certificate's DER encoding (what `openssl x509 -noout -fingerprint -sha256`
 * prints, without the colons), written "sha256:HEX". The cache keys a signed
 * variant by it, known_hosts lists the ones a host trusts by it (its UEFI db
 * and MOK list), doctor compares the two.
 *
 * Finding that name needs no cryptography: the certificate is read (DER, or
 * the first CERTIFICATE block of a PEM file, base64-decoded) and hashed with
 * plain SHA-256, so a -T run or --explain never loads OpenSSL's EVP machinery.
 * Only the stapcache-sign helper (sign/helper/) parses the certificate and
 * touches the private key; it checks that the certificate it signs with has
 * the fingerprint computed here.
 */

/* "sha256:" and 64 hex digits. */
#define SC_SIGNER_FP_LEN (7 + SC_SHA256_HEXLEN)

/* The key and where its certificate is, as --sign/--sign-cert or config.yaml say. */
struct sc_signer {
	char *key;                     /* the key directory or PEM key file, as given */
	char *cert;                    /* the file the certificate was read from */
	bool cert_given;               /* cert came from --sign-cert / signing-cert: */
	char fp[SC_SIGNER_FP_LEN + 1]; /* "sha256:" HEX of the certificate's DER */
	uint8_t *der;                  /* the certificate (DER) */
	size_t der_len;
};

/*
 * The signer named by key (a key directory as `stapcache signing-key
 * generate` makes it, or a PEM file) and cert (NULL: the certificate is with
 * the key: DIR/module-signing-cert.der or .pem, or a CERTIFICATE block in
 * the PEM key file, as the kernel's certs/signing_key.pem holds one). Reads
 * only the certificate. Returns 0 and fills s (free with sc_signer_clear),
 * -ENOENT (no such key or certificate) or -EINVAL (no certificate in it, or
 * not one) with err saying which file and what to do.
 */
int sc_signer_open(const char *key, const char *cert, struct sc_signer *s,
		   struct sc_error *err);
void sc_signer_clear(struct sc_signer *s);

/*
 * The DER certificate in buf (len bytes: DER as it is, or the first
 * "-----BEGIN CERTIFICATE-----" block of PEM text). Checks that the DER is
 * one whole SEQUENCE, nothing before or after. Returns 0 and *der (caller
 * frees) and *der_len, or -EINVAL.
 */
int sc_signer_cert_der(const void *buf, size_t len, uint8_t **der, size_t *der_len);

/* "sha256:" and the first 16 hex digits: a signer in a message that must stay short. */
#define SC_SIGNER_SHORT_LEN (7 + 16)
void sc_signer_short(const char *fp, char out[SC_SIGNER_SHORT_LEN + 1]);

/*
 * Is s "sha256:" followed by 64 lower-case hex digits (a signer as
 * known_hosts and the cache write it)?
 */
bool sc_signer_fp_ok(const char *s);

#endif
