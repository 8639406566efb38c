/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal TAP producer for the C unit tests (automake's tap-driver reads it). */
#ifndef SC_TAP_H
#define SC_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	return cond;
}

#define tap_is_int(got, want, name)                                                      \
	do {                                                                             \
		long long g_ = (long long)(got), w_ = (long long)(want);                 \
		if (!tap_ok(g_ == w_, "%s", name))                                       \
			printf("#   got %lld, want %lld\n", g_, w_);                     \
	} while (0)

#define tap_is_str(got, want, name)                                                      \
	do {                                                                             \
		const char *g_ = (got), *w_ = (want);                                    \
		if (!tap_ok(g_ && w_ && !strcmp(g_, w_), "%s", name))                    \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",          \
			       w_ ? w_ : "(null)");                                      \
	} while (0)

/* Skip one check that cannot be made here. Under SC_STRICT=1 (CI) a skip is a
 * failure, as in tests/lib/testlib.sh: nothing is silently left out of a green run. */
static inline void tap_skip(const char *reason)
{
	const char *strict = getenv("SC_STRICT");

	if (strict && !strcmp(strict, "1"))
		tap_ok(0, "would skip, and skips are failures in strict mode: %s",
		       reason);
	else
		printf("ok %d # SKIP %s\n", ++tap_n, reason);
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
