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

#define tap_is_int(got, want, name)                                                       \
	do {                                                                              \
		long long g_ = (long long)(got), w_ = (long long)(want);                  \
		if (!tap_ok(g_ == w_, "%s", name))                                        \
			printf("#   got %lld, want %lld\n", g_, w_);                          \
	} while (0)

#define tap_is_str(got, want, name)                                                       \
	do {                                                                              \
		const char *g_ = (got), *w_ = (want);                                     \
		if (!tap_ok(g_ && w_ && !strcmp(g_, w_), "%s", name))                     \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",               \
			       w_ ? w_ : "(null)");                                           \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
