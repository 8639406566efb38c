/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_TRACE_H
#define SC_TRACE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One-liners (`stapcache trace SPEC...`): the grammar, its parser and the
 * stap script it generates. The grammar (stapcache(1), ONE-LINERS):
 *
 *   spec    := probe [ '(' expr ')' ] [ STRING { ',' expr } ]
 *   probe   := [ 'p:' ] 'syscall.' NAME        a system call's entry
 *            | 'r:' 'syscall.' NAME            its return
 *            | [ 'p:' ] FUNCTION               a kernel function (kprobe)
 *            | 'r:' FUNCTION                   its return
 *            | 't:' SUBSYSTEM ':' EVENT        a kernel tracepoint
 *            | 'u:' PATH ':' MARK              a user-space SDT mark
 *   expr    := unary { binop unary }
 *   unary   := { '!' | '-' | '~' } primary
 *   primary := NUMBER | STRING | NAME | '$' NAME | NAME '(' [ expr { ',' expr } ] ')'
 *            | '(' expr ')'
 *
 * The parser never prints and never aborts, whatever its input; the script
 * is a function of the specs and filters alone (byte for byte), so a
 * one-liner is cached like any script.
 */

/* Filters every probe of the run shares (--pid, --comm, --uid). */
struct sc_trace_filters {
	bool has_pid, has_uid;
	long long pid, uid;
	const char *comm; /* NULL: any */
};

/* Where a spec is wrong: which spec (0-based), which byte (0-based), what. */
struct sc_trace_error {
	size_t spec;
	size_t pos;
	char msg[256];
};

/*
 * The stap script for specs[0..n) under f, in *script (malloc'ed, the caller
 * frees it). Returns 0, -EINVAL with err saying which spec, where and what
 * is wrong, or -ENOMEM.
 */
int sc_trace_script(const char *const *specs, size_t n, const struct sc_trace_filters *f,
		    char **script, struct sc_trace_error *err);

/*
 * err as a compiler would say it: "spec N, column C: MESSAGE", the spec on
 * the next line and a caret under the column. malloc'ed (the caller frees
 * it); NULL when out of memory.
 */
char *sc_trace_error_text(const char *spec, const struct sc_trace_error *err);

#endif
