/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_PROGRESS_H
#define SC_PROGRESS_H

#include <stdbool.h>

/*
 * One status line on a terminal (stderr): drawn with a carriage return and
 * erased with "erase to end of line" before anything else is written there,
 * so it never ends up in a file or a pipe and never between the bytes of
 * another line. The caller serialises the calls (one thread, or under its
 * output lock). Every function accepts NULL and then does nothing, so callers
 * hold a NULL progress when progress is off.
 */
struct sc_progress;

/*
 * Is a status line wanted on fd: a terminal whose TERM (NULL: unset) is not
 * "dumb". The caller decides about --no-progress.
 */
bool sc_progress_wanted(int fd, const char *term);

/* A status line on fd (not owned). Returns NULL when out of memory. */
struct sc_progress *sc_progress_new(int fd);

/* Show text (one line, no newline), cut to the terminal's width. */
void sc_progress_show(struct sc_progress *p, const char *text);

/* Erase the line if it is shown (before other output to that terminal). */
void sc_progress_hide(struct sc_progress *p);

/* Hide it and free p. */
void sc_progress_free(struct sc_progress *p);

#endif
