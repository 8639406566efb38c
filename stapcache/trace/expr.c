/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one-liners' expressions (filters and format arguments): a lexer and a
 * recursive-descent parser that re-spells what it accepts canonically, and
 * the buffer and error helpers trace.c shares (trace-parse.h).
 *
 * Invariants: reads only s[0..len); recurses at most SC_TRACE_DEPTH_MAX
 * deep; only tokens it accepted reach the output (no statement, assignment
 * or brace can).
 */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/parser.h"

void sc_trace_put(struct sc_trace_buf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->n + len + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

void sc_trace_puts(struct sc_trace_buf *b, const char *s)
{
	sc_trace_put(b, s, strlen(s));
}

void sc_trace_putf(struct sc_trace_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof(tmp))
		b->oom = true; /* only short, fixed texts go through here */
	else
		sc_trace_put(b, tmp, (size_t)k);
}

int sc_trace_fail(struct sc_trace_parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -EINVAL;
	p->failed = true;
	if (p->err) {
		p->err->spec = p->spec;
		p->err->pos = pos;
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* What is at pos, for messages: "'x'" or "the end". */
const char *sc_trace_what(const struct sc_trace_parser *p, size_t pos, char *tmp,
			  size_t n)
{
	int c = sc_trace_at(p, pos);

	if (c < 0)
		return "the end of the spec";
	if (c < 0x20 || c >= 0x7f)
		snprintf(tmp, n, "byte 0x%02x", (unsigned)c);
	else
		snprintf(tmp, n, "'%c'", c);
	return tmp;
}

/* ---------------------------------------------------------------- expressions */

static const char *const binops[] = {"||", "&&", "==", "!=", "<=", ">=", "<<", ">>",
				     "=~", "!~", "<",  ">",  "|",  "^",  "&",  "+",
				     "-",  "*",  "/",  "%",  ".",  NULL};

static size_t match_binop(const struct sc_trace_parser *p)
{
	for (size_t k = 0; binops[k]; k++) {
		size_t l = strlen(binops[k]);

		if (p->i + l <= p->len && !memcmp(p->s + p->i, binops[k], l))
			return l;
	}
	return 0;
}

static size_t name_end(const struct sc_trace_parser *p, size_t i)
{
	while (i < p->len && sc_trace_is_alnum(sc_trace_at(p, i)))
		i++;
	return i;
}

int sc_trace_string(struct sc_trace_parser *p, struct sc_trace_buf *out)
{
	size_t start = p->i++;

	while (p->i < p->len && sc_trace_at(p, p->i) != '"') {
		int c = sc_trace_at(p, p->i);

		if (c < 0x20 || c == 0x7f)
			return sc_trace_fail(p, p->i,
					     "a control character in a string: write it as an "
					     "escape (\\n, \\t, \\033)");
		if (c == '\\') {
			int e = sc_trace_at(p, p->i + 1);

			if (e < 0x20 || e >= 0x7f)
				return sc_trace_fail(p, p->i,
						     "a backslash must escape a printable "
						     "character");
			p->i++;
		}
		p->i++;
	}
	if (p->i >= p->len)
		return sc_trace_fail(p, start, "this string has no closing '\"'");
	p->i++;
	sc_trace_put(out, p->s + start, p->i - start);
	return 0;
}

static int number(struct sc_trace_parser *p, struct sc_trace_buf *out)
{
	size_t start = p->i, end = name_end(p, p->i);
	bool hex = end - start > 2 && p->s[start] == '0' &&
		   (p->s[start + 1] == 'x' || p->s[start + 1] == 'X');

	for (size_t k = start + (hex ? 2 : 0); k < end; k++) {
		int c = sc_trace_at(p, k);
		bool ok = hex ? (sc_trace_is_digit(c) || (c >= 'a' && c <= 'f') ||
				 (c >= 'A' && c <= 'F'))
			      : sc_trace_is_digit(c);

		if (!ok)
			return sc_trace_fail(p, k,
					     "not a number: write decimal digits or 0x and "
					     "hex digits");
	}
	if (end - start > 20)
		return sc_trace_fail(p, start, "this number does not fit in 64 bits");
	sc_trace_put(out, p->s + start, end - start);
	p->i = end;
	return 0;
}

static const char *const names_help = "pid, tid, ppid, uid, gid, cpu, comm, retval (r:), "
				      "arg1..arg6 (kernel functions, marks)";

/* A bare name: what it means in this kind of probe. */
static int name(struct sc_trace_parser *p, struct sc_trace_buf *out)
{
	static const struct {
		const char *name, *stap;
	} always[] = {{"pid", "pid()"},      {"tid", "tid()"}, {"ppid", "ppid()"},
		      {"uid", "uid()"},      {"gid", "gid()"}, {"cpu", "cpu()"},
		      {"comm", "execname()"}};
	size_t start = p->i, end = name_end(p, p->i), l = end - start;
	const char *s = p->s + start;

	p->i = end;
	for (size_t k = 0; k < sizeof(always) / sizeof(always[0]); k++)
		if (strlen(always[k].name) == l && !memcmp(always[k].name, s, l)) {
			sc_trace_puts(out, always[k].stap);
			return 0;
		}
	if (l == 6 && !memcmp(s, "retval", 6)) {
		if (p->kind == SC_TRACE_SYSCALL_RET)
			sc_trace_puts(out, "retval");
		else if (p->kind == SC_TRACE_KRETPROBE)
			sc_trace_puts(out, "returnval()");
		else
			return sc_trace_fail(p, start,
					     "retval is known only in a return probe "
					     "(r:syscall.NAME or r:FUNCTION)");
		return 0;
	}
	if (l == 4 && !memcmp(s, "arg", 3) && s[3] >= '1' && s[3] <= '6') {
		if (p->kind == SC_TRACE_KPROBE)
			sc_trace_putf(out, "ulong_arg(%c)", s[3]);
		else if (p->kind == SC_TRACE_MARK)
			sc_trace_putf(out, "$arg%c", s[3]);
		else
			return sc_trace_fail(p, start,
					     "%.4s is known only at a kernel function's "
					     "entry (p:FUNCTION) or a mark (u:PATH:MARK)%s",
					     s,
					     p->kind == SC_TRACE_SYSCALL
						     ? "; a system call's arguments "
						       "have names (stap -L "
						       "'syscall.NAME')"
						     : "");
		return 0;
	}
	/* A system call's probe has its arguments by name (filename, fd, count...). */
	if (p->kind == SC_TRACE_SYSCALL || p->kind == SC_TRACE_SYSCALL_RET) {
		sc_trace_put(out, s, l);
		return 0;
	}
	return sc_trace_fail(p, start, "unknown name '%.*s' (here: %s%s)",
			     (int)(l > 64 ? 64 : l), s, names_help,
			     p->kind == SC_TRACE_TRACE
				     ? "; a tracepoint's fields are $NAME"
				     : "");
}

static int call(struct sc_trace_parser *p, struct sc_trace_buf *out, int depth)
{
	size_t end = name_end(p, p->i);

	sc_trace_put(out, p->s + p->i, end - p->i);
	p->i = end;
	sc_trace_skip_space(p);
	p->i++; /* '(' */
	sc_trace_puts(out, "(");
	sc_trace_skip_space(p);
	if (sc_trace_at(p, p->i) == ')') {
		p->i++;
		sc_trace_puts(out, ")");
		return 0;
	}
	for (;;) {
		int r = sc_trace_expr(p, out, depth + 1);
		size_t here;

		if (r < 0)
			return r;
		sc_trace_skip_space(p);
		here = p->i;
		if (sc_trace_at(p, here) == ')') {
			p->i++;
			sc_trace_puts(out, ")");
			return 0;
		}
		if (sc_trace_at(p, here) != ',') {
			char tmp[16];

			return sc_trace_fail(p, here,
					     "expected ',' or ')' in the call, not %s",
					     sc_trace_what(p, here, tmp, sizeof(tmp)));
		}
		p->i++;
		sc_trace_puts(out, ", ");
	}
}

static int primary(struct sc_trace_parser *p, struct sc_trace_buf *out, int depth)
{
	size_t here;
	char tmp[16];
	int c;

	sc_trace_skip_space(p);
	here = p->i;
	c = sc_trace_at(p, here);
	if (c == '(') {
		int r;

		p->i++;
		sc_trace_puts(out, "(");
		r = sc_trace_expr(p, out, depth + 1);
		if (r < 0)
			return r;
		sc_trace_skip_space(p);
		if (sc_trace_at(p, p->i) != ')')
			return sc_trace_fail(
				p, p->i,
				"expected ')' to close the '(' at column %zu, not %s",
				here + 1, sc_trace_what(p, p->i, tmp, sizeof(tmp)));
		p->i++;
		sc_trace_puts(out, ")");
		return 0;
	}
	if (c == '"')
		return sc_trace_string(p, out);
	if (sc_trace_is_digit(c))
		return number(p, out);
	if (c == '$') {
		size_t end = name_end(p, here + 1);

		if (end == here + 1 || !sc_trace_is_alpha(sc_trace_at(p, here + 1)))
			return sc_trace_fail(p, here, "expected a name after '$'");
		if (p->kind != SC_TRACE_TRACE && p->kind != SC_TRACE_MARK)
			return sc_trace_fail(p, here,
					     "$NAME is a tracepoint's field or a mark's "
					     "argument: not known here");
		sc_trace_put(out, p->s + here, end - here);
		p->i = end;
		return 0;
	}
	if (sc_trace_is_alpha(c)) {
		size_t k = name_end(p, here);

		while (k < p->len && sc_trace_is_space(sc_trace_at(p, k)))
			k++;
		return sc_trace_at(p, k) == '(' ? call(p, out, depth) : name(p, out);
	}
	return sc_trace_fail(
		p, here,
		"expected a value (a number, a \"string\", a name or '('), not %s",
		sc_trace_what(p, here, tmp, sizeof(tmp)));
}

static int unary(struct sc_trace_parser *p, struct sc_trace_buf *out, int depth)
{
	bool first = true;

	sc_trace_skip_space(p);
	/* "! ~x", "- -1": glued together they would be stap's !~ and --. */
	while (sc_trace_at(p, p->i) == '!' || sc_trace_at(p, p->i) == '-' ||
	       sc_trace_at(p, p->i) == '~') {
		sc_trace_puts(out, first ? "" : " ");
		sc_trace_put(out, p->s + p->i, 1);
		first = false;
		p->i++;
		sc_trace_skip_space(p);
	}
	return primary(p, out, depth);
}

int sc_trace_expr(struct sc_trace_parser *p, struct sc_trace_buf *out, int depth)
{
	if (depth > SC_TRACE_DEPTH_MAX)
		return sc_trace_fail(p, p->i, "nested more than %d deep",
				     SC_TRACE_DEPTH_MAX);
	for (;;) {
		int r = unary(p, out, depth);
		size_t l;

		if (r < 0)
			return r;
		sc_trace_skip_space(p);
		l = match_binop(p);
		if (!l)
			return 0;
		sc_trace_puts(out, " ");
		sc_trace_put(out, p->s + p->i, l);
		sc_trace_puts(out, " ");
		p->i += l;
	}
}
