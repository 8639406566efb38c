/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

void sc_error_set(struct sc_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void sc_error_prefix(struct sc_error *err, const char *fmt, ...)
{
	char old[sizeof(err->msg)];
	size_t n;
	va_list ap;
	int w;

	if (!err)
		return;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	w = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = w < 0 ? 0 : (size_t)w;
	if (n + 2 >= sizeof(err->msg))
		return;
	memcpy(err->msg + n, ": ", 2);
	n += 2;
	/* Truncation is acceptable here: the message is for people. */
	strncpy(err->msg + n, old, sizeof(err->msg) - n - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
}
