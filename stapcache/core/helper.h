/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_UTIL_H
#define SC_UTIL_H

/*
 * asprintf for the program's own code: a stapcache process that runs out of
 * memory says so and exits 1 (common/ returns -ENOMEM instead). Never NULL.
 */
char *xstrdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The helper program NAME (stapcache-remote, stapcache-store): next to this
 * program (the build tree), else where make install puts it. Never NULL;
 * the caller frees it.
 */
char *sc_helper_path(const char *name);

#endif
