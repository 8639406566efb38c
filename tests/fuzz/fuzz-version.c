/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which systemtap built a module, and which one stapio is: the string
 * scanner staprun-auth runs on a user's module (inside each string section)
 * and on the installed stapio (the whole file), in both forms. The input is
 * copied into a buffer of exactly its size so that ASan sees any read past
 * the end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/modinfo.h"

/* An answer is a whole NUL-delimited string of the input, shaped as asked. */
static void check(const char *buf, size_t size, int elfutils)
{
	char out[SC_STAP_VERSION_MAX];
	unsigned major, minor;
	size_t n;
	const char *at;
	int r = sc_stap_version_scan(buf, size, elfutils, out);

	if (r == -ENOENT || r == -EEXIST)
		return;
	if (r != 0)
		abort();
	n = strnlen(out, sizeof(out));
	if (n == 0 || n >= sizeof(out) || (elfutils != 0) != (strchr(out, '/') != NULL))
		abort();
	if (sc_stap_version_numbers(out, &major, &minor) != 0)
		abort();
	/* It is there, with a NUL after it and the start or a NUL before it. */
	for (at = buf; (at = memmem(at, size - (size_t)(at - buf), out, n)); at++)
		if ((at == buf || at[-1] == '\0') && (size_t)(at - buf) + n < size &&
		    at[n] == '\0')
			return;
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	unsigned major, minor;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	check(copy, size, 1);
	check(copy, size, 0);
	if (size > 0 && memchr(copy, '\0', size))
		(void)sc_stap_version_numbers(copy, &major, &minor);
	free(copy);
	return 0;
}
