/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_TRACE_PARSER_H
#define SC_TRACE_PARSER_H

/*
 * Inside the one-liner parser (oneliner.c: probe points, formats, the script;
 * expr.c: the growable buffer, errors, the expression grammar). Not
 * for other modules: oneliner.h is the interface.
 */
#include <stdbool.h>
#include <stddef.h>

#include "trace/oneliner.h"

#define SC_TRACE_DEPTH_MAX 32

/* A growable string; oom set once an allocation failed (p then stays as it was). */
struct sc_trace_buf {
	char *p;
	size_t n, cap;
	bool oom;
};

void sc_trace_put(struct sc_trace_buf *b, const char *s, size_t len);
void sc_trace_puts(struct sc_trace_buf *b, const char *s);
/* Only short texts (under 512 bytes) go through here; longer ones set oom. */
void sc_trace_putf(struct sc_trace_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

enum sc_trace_kind {
	SC_TRACE_SYSCALL,
	SC_TRACE_SYSCALL_RET,
	SC_TRACE_KPROBE,
	SC_TRACE_KRETPROBE,
	SC_TRACE_TRACE,
	SC_TRACE_MARK
};

/* One spec being parsed: s[0..len), at i, in a probe of kind. */
struct sc_trace_parser {
	const char *s;
	size_t len, i;
	enum sc_trace_kind kind;
	size_t spec;
	struct sc_trace_error *err;
	bool failed;
};

static inline bool sc_trace_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool sc_trace_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool sc_trace_is_alnum(int c)
{
	return sc_trace_is_alpha(c) || sc_trace_is_digit(c);
}

static inline bool sc_trace_is_space(int c)
{
	return c == ' ' || c == '\t';
}

/* The byte at i, or -1 past the end. */
static inline int sc_trace_at(const struct sc_trace_parser *p, size_t i)
{
	return i < p->len ? (unsigned char)p->s[i] : -1;
}

static inline void sc_trace_skip_space(struct sc_trace_parser *p)
{
	while (p->i < p->len && sc_trace_is_space(sc_trace_at(p, p->i)))
		p->i++;
}

/* Record the first error (spec, pos, message) in p->err. Returns -EINVAL. */
int sc_trace_fail(struct sc_trace_parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What is at pos, for messages ("'x'", "byte 0x01", "the end of the spec"), in tmp. */
const char *sc_trace_what(const struct sc_trace_parser *p, size_t pos, char *tmp,
			  size_t n);

/* A "string" at p->i, copied as written to out. Returns 0 or -EINVAL. */
int sc_trace_string(struct sc_trace_parser *p, struct sc_trace_buf *out);

/*
 * An expression at p->i (depth: how deep in parentheses and calls), spelled
 * canonically to out, names translated for p->kind. Returns 0 or -EINVAL.
 */
int sc_trace_expr(struct sc_trace_parser *p, struct sc_trace_buf *out, int depth);

#endif
