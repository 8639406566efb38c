/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

char *xstrdupf(const char *fmt, ...)
{
	static const char oom[] = "stapcache: out of memory\n";
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		(void)!write(2, oom, sizeof(oom) - 1);
		_exit(1);
	}
	return s;
}
