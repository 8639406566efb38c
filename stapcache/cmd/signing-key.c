/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache signing-key generate|show`: the module-signing key an admin
 * enrolls on Secure Boot hosts (a MOK, or the UEFI db) and signs modules
 * with (`bless --sign`). Not the builder key of `stapcache key`, which signs
 * shared-cache entries for other stapcache installations: this one convinces
 * a kernel. The stapcache-sign helper does the cryptography, so stapcache
 * itself never loads libcrypto's X.509 or EVP code.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/fsutil.h"
#include "common/modsign.h"
#include "core/cmdopt.h"
#include "core/context.h"
#include "core/libexec.h"
#include "common/spawn.h"

int sc_cmd_signing_key(int argc, char **argv)
{
	const char *cn = NULL, *cert = NULL;
	int bits = 0;
	const struct sc_cmdopt gen_opts[] = {
		SC_CMDOPT_STRING(0, "cn", "NAME", &cn,
				 "the certificate's common name\n(default: HOST module "
				 "signing (stapcache))"),
		SC_CMDOPT_INT(0, "bits", "N", &bits, SC_MODSIGN_RSA_GEN_MIN_BITS,
			      SC_MODSIGN_RSA_GEN_MAX_BITS, "RSA key size (default 3072)"),
	};
	const struct sc_cmdopt show_opts[] = {
		SC_CMDOPT_STRING(0, "sign-cert", "CERT", &cert,
				 "KEY's certificate, when it is not with the key"),
	};
	const struct sc_cmdopt_spec verbs[] = {
		{.name = "signing-key generate",
		 .synopsis = "[--cn NAME] [--bits N] [DIR]",
		 .about =
			 "Create a module-signing key in the new directory DIR (default:\n"
			 "signing-key: in config.yaml, else ~/.config/stapcache/module-signing):\n"
			 "an RSA key (0600) and its X.509 certificate, DER (for mokutil\n"
			 "--import) and PEM. An existing DIR is never replaced. Prints its\n"
			 "fingerprint and how to enroll it.",
		 SC_CMDOPT_ROWS(gen_opts),
		 .max_args = 1},
		{.name = "signing-key show",
		 .synopsis = "[--sign-cert CERT] [KEY]",
		 .about =
			 "Show a module-signing key (default: signing-key: in config.yaml,\n"
			 "else ~/.config/stapcache/module-signing): its certificate's subject\n"
			 "and fingerprint, whether the private key is usable, how to enroll\n"
			 "it. KEY is a key directory, or a PEM file with the key (and the\n"
			 "certificate, unless --sign-cert names it).",
		 SC_CMDOPT_ROWS(show_opts),
		 .max_args = 1},
	};
	const struct sc_cmdopt_spec top = {
		.name = "signing-key",
		.synopsis = "generate|show [OPTIONS]",
		.about =
			"The module-signing key for Secure Boot hosts (stapcache signing-key\n"
			"VERB --help for each verb).",
		.min_args = 1,
		.max_args = -1,
		.stop_at_operand = true,
	};
	const struct sc_cmdopt_spec *verb;
	struct sc_error err = {{0}};
	struct sc_argv a = {0};
	struct sc_env env;
	struct sc_ctx ctx = {0};
	const char *key;
	char *helper = NULL;
	int r = sc_cmdopt_verb(&top, verbs, sizeof(verbs) / sizeof(verbs[0]), &argc,
			       &argv, &verb),
	    status = 1;

	if (r < 0)
		return sc_cmdopt_exit(r);
	sc_env_read(&env);
	if (sc_ctx_init(&ctx, &env, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	helper = sc_helper_path("stapcache-sign");
	if (verb == &verbs[0]) {
		key = r < argc               ? argv[r]
		      : ctx.cfg->signing_key ? ctx.cfg->signing_key
					     : ctx.signing_key_default;
		char *parent = sc_strdupf("%s", key), *slash = strrchr(parent, '/');

		if (slash && slash != parent) {
			*slash = '\0';
			(void)sc_mkdir_p(parent, 0755); /* the helper says what fails */
		}
		free(parent);
		r = sc_argv_push(&a, helper) ?: sc_argv_push(&a, "keygen");
		if (r == 0 && cn)
			r = sc_argv_push(&a, "--cn") ?: sc_argv_push(&a, cn);
		if (r == 0 && bits)
			r = sc_argv_pushf(&a, "--bits=%d", bits);
	} else {
		key = r < argc ? argv[r] : ctx.signing_key;
		if (!cert && r >= argc)
			cert = ctx.signing_cert;
		if (!key) {
			fprintf(stderr,
				"stapcache: signing-key show: no module-signing key yet (no "
				"signing-key: in config.yaml, no %s): stapcache signing-key "
				"generate makes one\n",
				ctx.signing_key_default);
			goto out;
		}
		r = sc_argv_push(&a, helper) ?: sc_argv_push(&a, "show");
		if (r == 0 && cert)
			r = sc_argv_push(&a, "--cert") ?: sc_argv_push(&a, cert);
	}
	r = r ?: sc_argv_push(&a, "--") ?: sc_argv_push(&a, key);
	if (r < 0) {
		fprintf(stderr, "stapcache: out of memory\n");
		goto out;
	}
	fflush(NULL);
	execv(helper, (char *const *)a.v);
	fprintf(stderr, "stapcache: cannot run %s: %s (make install puts it there)\n",
		helper, strerror(errno));
out:
	sc_argv_free(&a);
	free(helper);
	sc_ctx_clear(&ctx);
	return status;
}
