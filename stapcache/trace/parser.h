/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_TRACE_PARSE_H
#define SC_TRACE_PARSE_H

/*
 * Inside the one-liner parser (trace.c: probe points, formats, the script;
 * trace-expr.c: the growable buffer, errors, the expression grammar). Not
 * for other modules: trace.h is the interface.
 */
#include <stdbool.h>
#include <stddef.h>

#include "trace/oneliner.h"

#define SC_TRACE_DEPTH_MAX 32

/* A growable string; oom set once an allocation failed (p then stays as it was). */
struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

void sc_trace_put(struct buf *b, const char *s, size_t len);
void sc_trace_puts(struct buf *b, const char *s);
/* Only short texts (under 512 bytes) go through here; longer ones set oom. */
void sc_trace_putf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

enum kind { K_SYSCALL, K_SYSCALL_RET, K_KPROBE, K_KRETPROBE, K_TRACE, K_MARK };

/* One spec being parsed: s[0..len), at i, in a probe of kind. */
struct parser {
	const char *s;
	size_t len, i;
	enum kind kind;
	size_t spec;
	struct sc_trace_error *err;
	bool failed;
};

static inline bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

static inline bool is_space(int c)
{
	return c == ' ' || c == '\t';
}

/* The byte at i, or -1 past the end. */
static inline int at(const struct parser *p, size_t i)
{
	return i < p->len ? (unsigned char)p->s[i] : -1;
}

static inline void skip_space(struct parser *p)
{
	while (p->i < p->len && is_space(at(p, p->i)))
		p->i++;
}

/* Record the first error (spec, pos, message) in p->err. Returns -EINVAL. */
int sc_trace_fail(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What is at pos, for messages ("'x'", "byte 0x01", "the end of the spec"), in tmp. */
const char *sc_trace_what(const struct parser *p, size_t pos, char *tmp, size_t n);

/* A "string" at p->i, copied as written to out. Returns 0 or -EINVAL. */
int sc_trace_string(struct parser *p, struct buf *out);

/*
 * An expression at p->i (depth: how deep in parentheses and calls), spelled
 * canonically to out, names translated for p->kind. Returns 0 or -EINVAL.
 */
int sc_trace_expr(struct parser *p, struct buf *out, int depth);

#endif
