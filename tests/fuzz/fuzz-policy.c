/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * authorized_probes(5): sc_policy_parse on arbitrary text, then
 * sc_policy_check with a request built to reach the matching code: the
 * digest of the first "sha256:" entry in the text (so that entries are
 * actually found), fixed user, groups, kernel and parameters.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/policy.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void first_digest(const char *t, size_t n, uint8_t d[32])
{
	const char *p = memmem(t, n, "sha256:", 7);
	size_t i;

	memset(d, 0, 32);
	if (!p)
		return;
	p += 7;
	for (i = 0; i < 32 && (size_t)(p + 2 * i + 1 - t) < n; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return;
		d[i] = (uint8_t)(hi << 4 | lo);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const groups[] = {"ops", "users"};
	static const char *const params[] = {"limit", "greeting"};
	struct sc_policy *pol = sc_policy_new();
	struct sc_error err = {{0}};
	uint8_t digest[32];
	const char *where = NULL;
	size_t np;

	if (!pol)
		abort();
	if (sc_policy_parse(pol, "fuzz", (const char *)data, size, &err) == 0) {
		first_digest((const char *)data, size, digest);
		for (np = 0; np <= 2; np++) {
			struct sc_policy_request req = {
				.digest = digest,
				.user = "alice",
				.groups = groups,
				.ngroups = 2,
				.kernel = "6.1.0-57-amd64",
				.params = params,
				.nparams = np,
				.bufsize = (unsigned)np * 64,
				.now = (time_t)1700000000,
			};
			int r = sc_policy_check(pol, &req, &where, &err);

			if (r != 0 && r != -ENOENT && r != -EACCES)
				abort();
			if (r == 0 && !where)
				abort();
		}
	} else if (sc_policy_count(pol) != 0) {
		/* The contract: a rejected text adds no entry. */
		abort();
	}
	sc_policy_free(pol);
	return 0;
}
