/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A host's module-signature facts (stapcache/remote/hostfacts.c), which host
 * add and doctor read from another machine: the first byte picks the input.
 *  - even: the bytes are an EFI variable (sc_efi_certs): every certificate
 *    handed out lies inside the buffer, and the count returned is the count
 *    handed out;
 *  - odd: the rest is the probe script's output (sc_hostfacts_apply): only
 *    0, -EBADMSG or -ENOMEM; the facts are the values known_hosts allows,
 *    the signers are well-formed names, and a target carrying them formats
 *    and parses back with the same facts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote/hostfacts.h"
#include "remote/targets.h"
#include "sign/signer.h"

struct span {
	const uint8_t *buf;
	size_t len, n;
};

static void cert(void *arg, const uint8_t *der, size_t n)
{
	struct span *s = arg;

	if (der < s->buf || n > s->len || der > s->buf + s->len - n)
		abort();
	s->n++;
}

static int one_of(const char *v, const char *a, const char *b, const char *c)
{
	return !v || !strcmp(v, a) || !strcmp(v, b) || (c && !strcmp(v, c));
}

static void facts(const char *text)
{
	struct sc_target t = {0};
	struct sc_targets back = {0};
	char *f;
	int r = sc_hostfacts_apply(text, &t);

	if (r != 0 && r != -EBADMSG && r != -ENOMEM)
		abort();
	if (!one_of(t.lockdown, "none", "integrity", "confidentiality") ||
	    !one_of(t.sig_enforce, "yes", "no", NULL) ||
	    !one_of(t.secure_boot, "on", "off", NULL) || (r != 0 && t.signers))
		abort();
	for (size_t i = 0; i < t.nsigners; i++)
		if (!sc_signer_fp_ok(t.signers[i]))
			abort();
	t.name = strdup("fuzz");
	t.execute = strdup("ssh:h:auth");
	t.kernel = strdup("k");
	t.arch = strdup("a");
	t.cpu = strdup("c");
	f = sc_target_format(&t);
	if (sc_targets_parse("fuzz", f, strlen(f), &back, NULL) != 0 || back.n != 1 ||
	    back.v[0].nsigners != t.nsigners || !back.v[0].signers != !t.signers ||
	    sc_target_needs_signature(&back.v[0]) != sc_target_needs_signature(&t))
		abort();
	free(f);
	sc_targets_clear(&back);
	/* t's strings freed the way every entry's are: as a one-entry list */
	back.v = malloc(sizeof(t));
	memcpy(back.v, &t, sizeof(t));
	back.n = 1;
	sc_targets_clear(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		struct span s = {.buf = data + 1, .len = size - 1};
		int r = sc_efi_certs(data + 1, size - 1, cert, &s);

		if (r != -EBADMSG && (r < 0 || (size_t)r != s.n))
			abort();
		return 0;
	}
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	facts(text);
	free(text);
	return 0;
}
