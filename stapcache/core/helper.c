/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/helper.h"

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

char *sc_helper_path(const char *name)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			p = xstrdupf("%s/%s", self, name);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return xstrdupf("%s/%s", PKGLIBEXECDIR, name);
}
