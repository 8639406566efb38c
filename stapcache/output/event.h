/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_EVENT_H
#define SC_EVENT_H

#include <stddef.h>

/*
 * The record a one-liner's script prints for each event (trace.c writes the
 * printf, this parses what it printed): one line,
 *
 *   "\036SC1" TAB TIME_NS TAB PID TAB TID TAB COMM TAB PROBE TAB MESSAGE { TAB ARG }
 *
 * where every text field went through stap's text_str(): no raw tab, newline
 * or control character is left in it, a backslash escapes \a \b \f \n \r \t
 * \v \" \\, \OOO an ASCII byte, \uXXXX and \UXXXXXXXX a code point. ASCII RS
 * (\036) first: no line a script prints by accident starts like that.
 */
#define SC_EVENT_MARK "\036SC1\t"
#define SC_EVENT_MARK_STAP "\\036SC1\\t" /* the same, spelled in a stap string */
#define SC_EVENT_ARGS_MAX 16

struct sc_event {
	long long time_ns; /* gettimeofday_ns() in the probe */
	long long pid, tid;
	char *comm, *probe, *message; /* unescaped, UTF-8 */
	char *args[SC_EVENT_ARGS_MAX];
	size_t nargs;
};

/*
 * Parse line[0..len) (no newline). Returns 0 and fills ev (free it with
 * sc_event_clear), 1 when the line is not an event record (any other line
 * the run printed), -EINVAL for a record that does not parse, -ENOMEM.
 */
int sc_event_parse(const char *line, size_t len, struct sc_event *ev);

void sc_event_clear(struct sc_event *ev);

/*
 * The value an argument stands for: a string stap quoted (the tapsets'
 * user_string_quoted, a $var$ pretty-print: "..." with C escapes) as the
 * string itself, anything else as it is. Never NULL (sc_strdupf); caller
 * frees.
 */
char *sc_event_arg_value(const char *arg);

#endif
