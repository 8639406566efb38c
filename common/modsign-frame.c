/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The framing of a signed module (modsign.h, sc_modsign_locate): the trailer
 * and struct module_signature at the very end, read without libcrypto, so
 * that stapcache's library and staprun-auth can tell a signed module from an
 * unsigned one without linking the CMS code. tests/fuzz/fuzz-modsign reaches
 * it through sc_modsign_verify.
 */
#include "build-config.h"

#include <errno.h>
#include <string.h>

#include "common/modsign.h"

int sc_modsign_locate(const void *buf, size_t len, size_t *module_len, size_t *sig_len,
		      struct sc_error *err)
{
	const unsigned char *p = buf;
	const unsigned char *info;
	size_t framing = SC_MODSIGN_INFO_LEN + SC_MODSIGN_MAGIC_LEN, n;

	if (len < SC_MODSIGN_MAGIC_LEN ||
	    memcmp(p + len - SC_MODSIGN_MAGIC_LEN, SC_MODSIGN_MAGIC,
		   SC_MODSIGN_MAGIC_LEN)) {
		sc_error_set(
			err,
			"the module is not signed (no '~Module signature appended~' trailer)");
		return -ENODATA;
	}
	if (len < framing) {
		sc_error_set(err, "the module signature's trailer is cut short");
		return -EBADMSG;
	}
	info = p + len - framing;
	/* struct module_signature: algo, hash, id_type, signer_len, key_id_len,
	 * __pad[3], sig_len (big-endian) */
	if (info[2] != SC_MODSIGN_ID_PKCS7) {
		sc_error_set(err, "the module signature is of type %u, not PKCS#7 (%d)",
			     info[2], SC_MODSIGN_ID_PKCS7);
		return -EBADMSG;
	}
	if (info[0] || info[1] || info[3] || info[4] || info[5] || info[6] || info[7]) {
		sc_error_set(
			err,
			"the module signature's header has fields set that a PKCS#7 signature leaves zero");
		return -EBADMSG;
	}
	n = (size_t)info[8] << 24 | (size_t)info[9] << 16 | (size_t)info[10] << 8 |
	    info[11];
	if (n == 0 || n > len - framing) {
		sc_error_set(err,
			     "the module signature claims %zu bytes, but %zu precede it",
			     n, len - framing);
		return -EBADMSG;
	}
	if (module_len)
		*module_len = len - framing - n;
	if (sig_len)
		*sig_len = n;
	return 0;
}
