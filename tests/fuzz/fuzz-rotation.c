/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * staprun-auth -S MB[,N] (and stapcache --rotate): sc_policy_rotation_parse,
 * the one parser of these words, as the setuid binary links it. Whatever it
 * accepts must be exactly the canonical spelling of what it returns (so
 * that what staprun-auth prints again for stapio is what the caller meant,
 * and nothing else was let through), within the bounds; whatever it refuses
 * leaves both numbers 0.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *arg = malloc(size + 1), again[32];
	unsigned mb = 7, files = 7;
	int r;

	if (!arg)
		return 0;
	memcpy(arg, data, size);
	arg[size] = '\0'; /* an argv word ends at its first NUL */
	r = sc_policy_rotation_parse(arg, &mb, &files);
	if (r != 0 && r != -EINVAL)
		abort();
	if (r != 0) {
		if (mb || files)
			abort();
	} else {
		if (mb < 1 || mb > SC_POLICY_ROTATE_MB_MAX ||
		    files > SC_POLICY_ROTATE_FILES_MAX)
			abort();
		if (files)
			snprintf(again, sizeof(again), "%u,%u", mb, files);
		else
			snprintf(again, sizeof(again), "%u", mb);
		if (strcmp(again, arg) != 0)
			abort();
	}
	free(arg);
	return 0;
}
