/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The module signature reader: sc_modsign_verify (common/modsign.c: the
 * framing, the strict DER walk over the CMS versions, libcrypto's CMS
 * parser and check) on arbitrary bytes, against a fixed certificate whose
 * key signed the seed corpus/modsign/signed (modsign-cert.h). Besides "no
 * crash, no leak": only the documented refusals, each with a message; the
 * framing's verdict (sc_modsign_locate) agrees; an acceptance names a module
 * length that leaves room for a signature and its framing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modsign-cert.h"
#include "common/modsign.h"

static struct sc_modsign_cert *cert;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/fuzz-modsign.XXXXXX";
	struct sc_error err = {{0}};
	int fd = mkstemp(path);

	(void)argc;
	(void)argv;
	if (fd < 0 || write(fd, seed_cert_der, sizeof(seed_cert_der)) !=
			      (ssize_t)sizeof(seed_cert_der))
		abort();
	close(fd);
	if (sc_modsign_cert_load(path, &cert, &err) != 0) {
		fprintf(stderr, "fuzz-modsign: %s\n", err.msg);
		abort();
	}
	unlink(path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_error err = {{0}};
	size_t mlen = (size_t)-1, slen = 0, loc_mlen = 0;
	uint8_t *copy = malloc(size ? size : 1);
	int r, loc;

	/* an exact-size copy: a read past the end is ASan's to see */
	memcpy(copy, data, size);
	r = sc_modsign_verify(cert, copy, size, &mlen, &err);
	loc = sc_modsign_locate(copy, size, &loc_mlen, &slen, NULL);
	switch (r) {
	case 0:
		if (loc != 0 || mlen != loc_mlen ||
		    mlen + slen + SC_MODSIGN_INFO_LEN + SC_MODSIGN_MAGIC_LEN != size)
			abort();
		break;
	case -ENODATA:
	case -EBADMSG:
		if (!err.msg[0] || (loc != 0 && loc != r))
			abort();
		break;
	case -ENOKEY:
	case -EKEYREJECTED:
		if (!err.msg[0] || loc != 0)
			abort();
		break;
	case -ENOMEM:
		break;
	default:
		abort();
	}
	free(copy);
	return 0;
}
