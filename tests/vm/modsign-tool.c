/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * modsign-tool: common/modsign.c from the shell, for the Secure Boot test
 * guest (build-guest --secure-boot makes its db key with it) and its tests
 * (tests/vm/secureboot.sh signs real modules with it). stapcache's own
 * commands for module-signing keys and `bless --sign` are the product; this
 * is a test bed's tool.
 *
 *   modsign-tool keygen DIR [COMMON-NAME]
 *       make a module-signing key directory (modsign.h); print the
 *       certificate's SHA-256 fingerprint
 *   modsign-tool sign [-c CERT] KEY IN OUT
 *       sign the module IN into OUT (KEY: a key directory, a PEM file with
 *       key and certificate, or a PEM key with -c CERT); OUT is checked
 *       back against the certificate before it is written
 *   modsign-tool verify CERT FILE
 *       exit 0 when FILE is a module signed by CERT's key, else say why
 *       (exit 1)
 *   modsign-tool fingerprint CERT
 *
 * Exit status: 0 success, 1 failure, 2 usage.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "common/modsign.h"

#define MODULE_MAX (64u << 20)

static int usage(FILE *f, int status)
{
	fprintf(f, "usage: modsign-tool keygen DIR [COMMON-NAME]\n"
		   "       modsign-tool sign [-c CERT] KEY IN OUT\n"
		   "       modsign-tool verify CERT FILE\n"
		   "       modsign-tool fingerprint CERT\n");
	return status;
}

static int fail(const struct sc_error *err)
{
	fprintf(stderr, "modsign-tool: %s\n", err->msg);
	return 1;
}

static void print_fingerprint(const struct sc_modsign_cert *c)
{
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1];

	if (sc_modsign_cert_fingerprint(c, md) < 0) {
		fprintf(stderr, "modsign-tool: cannot encode the certificate\n");
		return;
	}
	sc_hex(hex, md, sizeof(md));
	printf("sha256:%s\n", hex);
}

static int cmd_keygen(int argc, char **argv)
{
	struct sc_modsign_key *k = NULL;
	struct sc_error err = {""};
	int st = 1;

	if (argc < 2 || argc > 3)
		return usage(stderr, 2);
	if (sc_modsign_key_generate(argc == 3 ? argv[2] : "stapcache module-signing key",
				    0, &k, &err) < 0 ||
	    sc_modsign_key_write_dir(k, argv[1], &err) < 0) {
		st = fail(&err);
		goto out;
	}
	print_fingerprint(sc_modsign_key_cert(k));
	st = 0;
out:
	sc_modsign_key_free(k);
	return st;
}

static int cmd_sign(int argc, char **argv)
{
	struct sc_modsign_key *k = NULL;
	struct sc_error err = {""};
	const char *cert = NULL;
	char *in = NULL;
	uint8_t *out = NULL;
	size_t len = 0, out_len = 0;
	int st = 1, r;

	if (argc >= 3 && !strcmp(argv[1], "-c")) {
		cert = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc != 4)
		return usage(stderr, 2);
	if (sc_modsign_key_load(argv[1], cert, NULL, &k, &err) < 0) {
		st = fail(&err);
		goto out;
	}
	r = sc_read_file(argv[2], MODULE_MAX, &in, &len);
	if (r < 0) {
		fprintf(stderr, "modsign-tool: cannot read %s: %s\n", argv[2],
			strerror(-r));
		goto out;
	}
	if (sc_modsign_sign(k, in, len, &out, &out_len, &err) < 0) {
		st = fail(&err);
		goto out;
	}
	r = sc_write_file_atomic(argv[3], out, out_len, 0644, NULL);
	if (r < 0) {
		fprintf(stderr, "modsign-tool: cannot write %s: %s\n", argv[3],
			strerror(-r));
		goto out;
	}
	st = 0;
out:
	free(out);
	free(in);
	sc_modsign_key_free(k);
	return st;
}

static int cmd_verify(int argc, char **argv)
{
	struct sc_modsign_cert *c = NULL;
	struct sc_error err = {""};
	char *buf = NULL;
	size_t len = 0;
	int st = 1, r;

	if (argc != 3)
		return usage(stderr, 2);
	if (sc_modsign_cert_load(argv[1], &c, &err) < 0) {
		st = fail(&err);
		goto out;
	}
	r = sc_read_file(argv[2], MODULE_MAX, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "modsign-tool: cannot read %s: %s\n", argv[2],
			strerror(-r));
		goto out;
	}
	if (sc_modsign_verify(c, buf, len, NULL, &err) < 0) {
		st = fail(&err);
		goto out;
	}
	st = 0;
out:
	free(buf);
	sc_modsign_cert_free(c);
	return st;
}

static int cmd_fingerprint(int argc, char **argv)
{
	struct sc_modsign_cert *c = NULL;
	struct sc_error err = {""};

	if (argc != 2)
		return usage(stderr, 2);
	if (sc_modsign_cert_load(argv[1], &c, &err) < 0)
		return fail(&err);
	print_fingerprint(c);
	sc_modsign_cert_free(c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, 2);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage(stdout, 0);
	if (!strcmp(argv[1], "keygen"))
		return cmd_keygen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sign"))
		return cmd_sign(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fingerprint"))
		return cmd_fingerprint(argc - 1, argv + 1);
	return usage(stderr, 2);
}
