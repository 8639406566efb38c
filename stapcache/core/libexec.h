/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_LIBEXEC_H
#define SC_LIBEXEC_H

/*
 * The helper program NAME (stapcache-remote, stapcache-store): next to this
 * program (the build tree), else where make install puts it. Never NULL;
 * the caller frees it.
 */
char *sc_helper_path(const char *name);

#endif
