/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One-liners: a spec (trace.h has the grammar) to a stap script.
 *
 * Invariants:
 * - The parser reads only s[0..len) and recurses at most DEPTH_MAX deep:
 *   whatever the input, it returns (tests/fuzz/fuzz-trace.c holds it to it).
 * - Nothing of a spec reaches the script but tokens the lexer accepted,
 *   re-spelled canonically (one space around each operator): a spec cannot
 *   end the probe or add statements, and two spellings of one spec give one
 *   script, so one cache entry.
 * - The script depends on the specs and filters only (no time, no pid, no
 *   path): the same one-liner is the same key.
 */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "trace.h"

#define DEPTH_MAX 32
#define COMM_MAX 15 /* TASK_COMM_LEN - 1 */

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t len)
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

static void puts_b(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct buf *b, const char *fmt,
						       ...)
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
		put(b, tmp, (size_t)k);
}

enum kind { K_SYSCALL, K_SYSCALL_RET, K_KPROBE, K_KRETPROBE, K_TRACE, K_MARK };

struct parser {
	const char *s;
	size_t len, i;
	enum kind kind;
	size_t spec;
	struct sc_trace_error *err;
	bool failed;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, size_t pos,
						      const char *fmt, ...)
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

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t';
}

static int at(const struct parser *p, size_t i)
{
	return i < p->len ? (unsigned char)p->s[i] : -1;
}

static void skip_space(struct parser *p)
{
	while (p->i < p->len && is_space(at(p, p->i)))
		p->i++;
}

/* What is at pos, for messages: "'x'" or "the end". */
static const char *what(const struct parser *p, size_t pos, char *tmp, size_t n)
{
	int c = at(p, pos);

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

static size_t match_binop(const struct parser *p)
{
	for (size_t k = 0; binops[k]; k++) {
		size_t l = strlen(binops[k]);

		if (p->i + l <= p->len && !memcmp(p->s + p->i, binops[k], l))
			return l;
	}
	return 0;
}

static size_t name_end(const struct parser *p, size_t i)
{
	while (i < p->len && is_alnum(at(p, i)))
		i++;
	return i;
}

static int string_lit(struct parser *p, struct buf *out)
{
	size_t start = p->i++;

	while (p->i < p->len && at(p, p->i) != '"') {
		int c = at(p, p->i);

		if (c < 0x20 || c == 0x7f)
			return fail(p, p->i,
				    "a control character in a string: write it as an "
				    "escape (\\n, \\t, \\033)");
		if (c == '\\') {
			int e = at(p, p->i + 1);

			if (e < 0x20 || e >= 0x7f)
				return fail(p, p->i,
					    "a backslash must escape a printable "
					    "character");
			p->i++;
		}
		p->i++;
	}
	if (p->i >= p->len)
		return fail(p, start, "this string has no closing '\"'");
	p->i++;
	put(out, p->s + start, p->i - start);
	return 0;
}

static int number(struct parser *p, struct buf *out)
{
	size_t start = p->i, end = name_end(p, p->i);
	bool hex = end - start > 2 && p->s[start] == '0' &&
		   (p->s[start + 1] == 'x' || p->s[start + 1] == 'X');

	for (size_t k = start + (hex ? 2 : 0); k < end; k++) {
		int c = at(p, k);
		bool ok = hex ? (is_digit(c) || (c >= 'a' && c <= 'f') ||
				 (c >= 'A' && c <= 'F'))
			      : is_digit(c);

		if (!ok)
			return fail(p, k,
				    "not a number: write decimal digits or 0x and "
				    "hex digits");
	}
	if (end - start > 20)
		return fail(p, start, "this number does not fit in 64 bits");
	put(out, p->s + start, end - start);
	p->i = end;
	return 0;
}

static const char *const names_help = "pid, tid, ppid, uid, gid, cpu, comm, retval (r:), "
				      "arg1..arg6 (kernel functions, marks)";

/* A bare name: what it means in this kind of probe. */
static int name(struct parser *p, struct buf *out)
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
			puts_b(out, always[k].stap);
			return 0;
		}
	if (l == 6 && !memcmp(s, "retval", 6)) {
		if (p->kind == K_SYSCALL_RET)
			puts_b(out, "retval");
		else if (p->kind == K_KRETPROBE)
			puts_b(out, "returnval()");
		else
			return fail(p, start,
				    "retval is known only in a return probe "
				    "(r:syscall.NAME or r:FUNCTION)");
		return 0;
	}
	if (l == 4 && !memcmp(s, "arg", 3) && s[3] >= '1' && s[3] <= '6') {
		if (p->kind == K_KPROBE)
			putf(out, "ulong_arg(%c)", s[3]);
		else if (p->kind == K_MARK)
			putf(out, "$arg%c", s[3]);
		else
			return fail(p, start,
				    "%.4s is known only at a kernel function's "
				    "entry (p:FUNCTION) or a mark (u:PATH:MARK)%s",
				    s,
				    p->kind == K_SYSCALL ? "; a system call's arguments "
							   "have names (stap -L "
							   "'syscall.NAME')"
							 : "");
		return 0;
	}
	/* A system call's probe has its arguments by name (filename, fd, count...). */
	if (p->kind == K_SYSCALL || p->kind == K_SYSCALL_RET) {
		put(out, s, l);
		return 0;
	}
	return fail(p, start, "unknown name '%.*s' (here: %s%s)", (int)(l > 64 ? 64 : l),
		    s, names_help,
		    p->kind == K_TRACE ? "; a tracepoint's fields are $NAME" : "");
}

static int expr(struct parser *p, struct buf *out, int depth);

static int call(struct parser *p, struct buf *out, int depth)
{
	size_t end = name_end(p, p->i);

	put(out, p->s + p->i, end - p->i);
	p->i = end;
	skip_space(p);
	p->i++; /* '(' */
	puts_b(out, "(");
	skip_space(p);
	if (at(p, p->i) == ')') {
		p->i++;
		puts_b(out, ")");
		return 0;
	}
	for (;;) {
		int r = expr(p, out, depth + 1);
		size_t here;

		if (r < 0)
			return r;
		skip_space(p);
		here = p->i;
		if (at(p, here) == ')') {
			p->i++;
			puts_b(out, ")");
			return 0;
		}
		if (at(p, here) != ',') {
			char tmp[16];

			return fail(p, here, "expected ',' or ')' in the call, not %s",
				    what(p, here, tmp, sizeof(tmp)));
		}
		p->i++;
		puts_b(out, ", ");
	}
}

static int primary(struct parser *p, struct buf *out, int depth)
{
	size_t here;
	char tmp[16];
	int c;

	skip_space(p);
	here = p->i;
	c = at(p, here);
	if (c == '(') {
		int r;

		p->i++;
		puts_b(out, "(");
		r = expr(p, out, depth + 1);
		if (r < 0)
			return r;
		skip_space(p);
		if (at(p, p->i) != ')')
			return fail(p, p->i,
				    "expected ')' to close the '(' at column %zu, not %s",
				    here + 1, what(p, p->i, tmp, sizeof(tmp)));
		p->i++;
		puts_b(out, ")");
		return 0;
	}
	if (c == '"')
		return string_lit(p, out);
	if (is_digit(c))
		return number(p, out);
	if (c == '$') {
		size_t end = name_end(p, here + 1);

		if (end == here + 1 || !is_alpha(at(p, here + 1)))
			return fail(p, here, "expected a name after '$'");
		if (p->kind != K_TRACE && p->kind != K_MARK)
			return fail(p, here,
				    "$NAME is a tracepoint's field or a mark's "
				    "argument: not known here");
		put(out, p->s + here, end - here);
		p->i = end;
		return 0;
	}
	if (is_alpha(c)) {
		size_t k = name_end(p, here);

		while (k < p->len && is_space(at(p, k)))
			k++;
		return at(p, k) == '(' ? call(p, out, depth) : name(p, out);
	}
	return fail(p, here,
		    "expected a value (a number, a \"string\", a name or '('), not %s",
		    what(p, here, tmp, sizeof(tmp)));
}

static int unary(struct parser *p, struct buf *out, int depth)
{
	bool first = true;

	skip_space(p);
	/* "! ~x", "- -1": glued together they would be stap's !~ and --. */
	while (at(p, p->i) == '!' || at(p, p->i) == '-' || at(p, p->i) == '~') {
		puts_b(out, first ? "" : " ");
		put(out, p->s + p->i, 1);
		first = false;
		p->i++;
		skip_space(p);
	}
	return primary(p, out, depth);
}

static int expr(struct parser *p, struct buf *out, int depth)
{
	if (depth > DEPTH_MAX)
		return fail(p, p->i, "nested more than %d deep", DEPTH_MAX);
	for (;;) {
		int r = unary(p, out, depth);
		size_t l;

		if (r < 0)
			return r;
		skip_space(p);
		l = match_binop(p);
		if (!l)
			return 0;
		puts_b(out, " ");
		put(out, p->s + p->i, l);
		puts_b(out, " ");
		p->i += l;
	}
}

/* ---------------------------------------------------------------- probe points */

struct spec {
	enum kind kind;
	struct buf point; /* stap's probe point */
	struct buf probe; /* the canonical probe, as events name it */
	struct buf filter, format;
	struct buf args[SC_EVENT_ARGS_MAX];
	size_t nargs;
};

static void spec_clear(struct spec *sp)
{
	free(sp->point.p);
	free(sp->probe.p);
	free(sp->filter.p);
	free(sp->format.p);
	for (size_t k = 0; k < sp->nargs; k++)
		free(sp->args[k].p);
	memset(sp, 0, sizeof(*sp));
}

/* [A-Za-z0-9_]+, with '*' too when wild: the end, or 0 when empty. */
static size_t ident(const struct parser *p, size_t i, size_t end, bool wild)
{
	size_t k = i;

	while (k < end && (is_alnum(at(p, k)) || (wild && at(p, k) == '*')))
		k++;
	return k;
}

static int bad_char(struct parser *p, size_t k, const char *in)
{
	char tmp[16];

	return fail(p, k, "%s not allowed in %s", what(p, k, tmp, sizeof(tmp)), in);
}

static int tracepoint(struct parser *p, struct spec *sp, size_t b, size_t e)
{
	size_t k = ident(p, b, e, true);

	if (k == b)
		return fail(p, b,
			    "expected t:SUBSYSTEM:EVENT (e.g. t:sched:sched_process_exec)");
	if (k == e || at(p, k) != ':')
		return k == e ? fail(p, k, "expected ':EVENT' after the subsystem")
			      : bad_char(p, k, "a tracepoint's subsystem");
	size_t ev = k + 1, ee = ident(p, ev, e, true);

	if (ee == ev)
		return fail(p, ev, "expected the tracepoint's event name after ':'");
	if (ee != e)
		return bad_char(p, ee, "a tracepoint's event name");
	sp->kind = K_TRACE;
	puts_b(&sp->point, "kernel.trace(\"");
	put(&sp->point, p->s + b, e - b);
	puts_b(&sp->point, "\")");
	puts_b(&sp->probe, "t:");
	put(&sp->probe, p->s + b, e - b);
	return 0;
}

static int mark(struct parser *p, struct spec *sp, size_t b, size_t e)
{
	size_t colon = e;

	if (at(p, b) != '/')
		return fail(p, b,
			    "expected u:/ABSOLUTE/PATH:MARK (e.g. "
			    "u:/usr/lib/x86_64-linux-gnu/libc.so.6:setjmp)");
	for (size_t k = b; k < e; k++) {
		int c = at(p, k);

		if (c == ':')
			colon = k;
		else if (c < 0x21 || c == 0x7f || c == '"' || c == '\\')
			return bad_char(p, k, "a u: probe's path");
	}
	if (colon == e)
		return fail(p, e,
			    "expected ':MARK' after the path (readelf -n PATH lists "
			    "its stapsdt marks)");
	size_t mk = colon + 1, me = ident(p, mk, e, true);

	if (me == mk)
		return fail(p, mk, "expected the mark's name after ':'");
	if (me != e)
		return bad_char(p, me, "a mark's name");
	sp->kind = K_MARK;
	puts_b(&sp->point, "process(\"");
	put(&sp->point, p->s + b, colon - b);
	puts_b(&sp->point, "\").mark(\"");
	put(&sp->point, p->s + mk, e - mk);
	puts_b(&sp->point, "\")");
	puts_b(&sp->probe, "u:");
	put(&sp->probe, p->s + b, e - b);
	return 0;
}

static int syscall(struct parser *p, struct spec *sp, size_t b, size_t e, bool ret,
		   size_t dot)
{
	size_t n = dot + 1, k = ident(p, n, e, true);

	if (k == n)
		return fail(p, n,
			    "expected the system call's name after '.' (e.g. "
			    "syscall.openat)");
	if (k != e && !strncmp(p->s + k, ".return", e - k) && e - k == 7)
		return fail(p, k, "write r:%.*s for the return", (int)(k - b), p->s + b);
	if (k != e)
		return bad_char(p, k, "a system call's name");
	sp->kind = ret ? K_SYSCALL_RET : K_SYSCALL;
	put(&sp->point, p->s + b, e - b);
	if (ret)
		puts_b(&sp->point, ".return");
	puts_b(&sp->probe, ret ? "r:" : "");
	put(&sp->probe, p->s + b, e - b);
	return 0;
}

static int function(struct parser *p, struct spec *sp, size_t b, size_t e, bool ret)
{
	if (!is_alpha(at(p, b)))
		return fail(p, b,
			    "expected a probe point: syscall.NAME, a kernel function, "
			    "t:SUBSYSTEM:EVENT or u:PATH:MARK");
	for (size_t k = b; k < e; k++)
		if (!is_alnum(at(p, k)) && at(p, k) != '.')
			return bad_char(p, k,
					at(p, k) == '*' ? "a kernel function's name "
							  "(wildcards: syscall.* "
							  "and t: only)"
							: "a kernel function's name");
	sp->kind = ret ? K_KRETPROBE : K_KPROBE;
	puts_b(&sp->point, "kprobe.function(\"");
	put(&sp->point, p->s + b, e - b);
	puts_b(&sp->point, ret ? "\").return" : "\")");
	puts_b(&sp->probe, ret ? "r:" : "p:");
	put(&sp->probe, p->s + b, e - b);
	return 0;
}

static int probe_point(struct parser *p, struct spec *sp)
{
	size_t b = p->i, e = b;
	char kind = 'p';

	while (e < p->len && !is_space(at(p, e)) && at(p, e) != '(' && at(p, e) != '"')
		e++;
	p->i = e;
	if (e == b)
		return fail(p, b,
			    "expected a probe point: syscall.NAME, r:syscall.NAME, "
			    "FUNCTION, r:FUNCTION, t:SUBSYSTEM:EVENT or u:PATH:MARK");
	if (e - b >= 2 && at(p, b + 1) == ':') {
		kind = p->s[b];
		if (!strchr("prtu", kind))
			return fail(p, b,
				    "unknown probe kind '%c:' (p: entry, r: return, t: "
				    "tracepoint, u: user-space mark)",
				    kind);
		b += 2;
	}
	if (kind == 't')
		return tracepoint(p, sp, b, e);
	if (kind == 'u')
		return mark(p, sp, b, e);
	for (const char *sys = "syscall.";; sys = "nd_syscall.") {
		size_t l = strlen(sys);

		if (e - b >= l && !memcmp(p->s + b, sys, l))
			return syscall(p, sp, b, e, kind == 'r', b + l - 1);
		if (sys[0] == 'n')
			break;
	}
	return function(p, sp, b, e, kind == 'r');
}

/* ---------------------------------------------------------------- the format */

/* Count the conversions of the format at start..p->i (its quotes included). */
static int conversions(struct parser *p, size_t start, size_t *count)
{
	size_t k = start + 1, end = p->i - 1;

	*count = 0;
	while (k < end) {
		size_t pct = k;

		if (p->s[k] == '\\') {
			k += 2;
			continue;
		}
		if (p->s[k++] != '%')
			continue;
		if (k < end && p->s[k] == '%') {
			k++;
			continue;
		}
		while (k < end && strchr("-+ #0", p->s[k]))
			k++;
		while (k < end && (is_digit(at(p, k)) || p->s[k] == '.'))
			k++;
		if (k < end && p->s[k] == '*')
			return fail(p, k,
				    "'*' widths are not supported: write the width");
		while (k < end && p->s[k] == 'l')
			k++;
		if (k >= end || !strchr("diouxXcspbmM", p->s[k]))
			return fail(p, pct,
				    "not a conversion stap's printf knows (%%d %%u %%x "
				    "%%s %%c %%p %%b %%m %%M; %%%% for '%%')");
		k++;
		(*count)++;
	}
	return 0;
}

static int format_args(struct parser *p, struct spec *sp)
{
	size_t start = p->i, want;
	int r = string_lit(p, &sp->format);

	if (r < 0 || (r = conversions(p, start, &want)) < 0)
		return r;
	for (;;) {
		size_t here;

		skip_space(p);
		here = p->i;
		if (at(p, here) != ',')
			break;
		if (sp->nargs == SC_EVENT_ARGS_MAX)
			return fail(p, here, "at most %d arguments", SC_EVENT_ARGS_MAX);
		p->i++;
		r = expr(p, &sp->args[sp->nargs++], 0);
		if (r < 0)
			return r;
		if (sp->nargs > want)
			return fail(p, here,
				    "the format has %zu conversion%s, this is "
				    "argument %zu",
				    want, want == 1 ? "" : "s", sp->nargs);
	}
	if (sp->nargs < want)
		return fail(p, p->i, "the format has %zu conversions but %zu argument%s",
			    want, sp->nargs, sp->nargs == 1 ? "" : "s");
	return 0;
}

static int parse_spec(struct parser *p, struct spec *sp)
{
	char tmp[16];
	int r;

	skip_space(p);
	r = probe_point(p, sp);
	if (r < 0)
		return r;
	p->kind = sp->kind;
	skip_space(p);
	if (at(p, p->i) == '(') {
		size_t open = p->i++;

		r = expr(p, &sp->filter, 0);
		if (r < 0)
			return r;
		skip_space(p);
		if (at(p, p->i) != ')')
			return fail(p, p->i,
				    "expected ')' to close the filter opened at column "
				    "%zu, not %s",
				    open + 1, what(p, p->i, tmp, sizeof(tmp)));
		p->i++;
		skip_space(p);
	}
	if (at(p, p->i) == '"') {
		r = format_args(p, sp);
		if (r < 0)
			return r;
		skip_space(p);
	}
	if (p->i < p->len)
		return fail(p, p->i,
			    "unexpected %s: a spec is PROBE [(FILTER)] [\"FORMAT\" [, "
			    "ARG]...]",
			    what(p, p->i, tmp, sizeof(tmp)));
	return 0;
}

/* ---------------------------------------------------------------- the script */

static void default_message(const struct spec *sp, struct buf *b)
{
	switch (sp->kind) {
	case K_SYSCALL:
		puts_b(b, "argstr");
		break;
	case K_SYSCALL_RET:
		puts_b(b, "retstr");
		break;
	case K_KRETPROBE:
		puts_b(b, "sprint(returnval())");
		break;
	case K_TRACE:
	case K_MARK:
		puts_b(b, "$$parms");
		break;
	default:
		puts_b(b, "\"\"");
	}
}

static void canonical(const struct spec *sp, struct buf *b)
{
	put(b, sp->probe.p, sp->probe.n);
	if (sp->filter.n) {
		puts_b(b, " (");
		put(b, sp->filter.p, sp->filter.n);
		puts_b(b, ")");
	}
	if (sp->format.n) {
		puts_b(b, " ");
		put(b, sp->format.p, sp->format.n);
	}
	for (size_t k = 0; k < sp->nargs; k++) {
		puts_b(b, ", ");
		put(b, sp->args[k].p, sp->args[k].n);
	}
}

static void condition(const struct spec *sp, const char *global, struct buf *b)
{
	bool both = sp->filter.n && *global;

	if (!sp->filter.n && !*global)
		return;
	puts_b(b, "\tif (");
	if (sp->filter.n) {
		puts_b(b, both ? "(" : "");
		put(b, sp->filter.p, sp->filter.n);
		puts_b(b, both ? ") && " : "");
	}
	puts_b(b, global);
	puts_b(b, ") {\n");
}

static void emit_probe(const struct spec *sp, size_t nth, const char *global,
		       struct buf *b)
{
	const char *in = sp->filter.n || *global ? "\t\t" : "\t";

	putf(b, "\n# %zu: ", nth + 1);
	canonical(sp, b);
	puts_b(b, "\nprobe ");
	put(b, sp->point.p, sp->point.n);
	puts_b(b, "\n{\n");
	condition(sp, global, b);
	for (size_t k = 0; k < sp->nargs; k++) {
		putf(b, "%ssc_a%zu = ", in, k + 1);
		put(b, sp->args[k].p, sp->args[k].n);
		puts_b(b, "\n");
	}
	putf(b, "%sprintf(\"" SC_EVENT_MARK_STAP "%%d\\t%%d\\t%%d\\t%%s\\t%%s\\t%%s", in);
	for (size_t k = 0; k < sp->nargs; k++)
		puts_b(b, "\\t%s");
	putf(b,
	     "\\n\",\n%s       gettimeofday_ns(), pid(), tid(), text_str(execname()),\n",
	     in);
	putf(b, "%s       \"", in);
	put(b, sp->probe.p, sp->probe.n);
	puts_b(b, "\", text_str(");
	if (sp->format.n) {
		puts_b(b, "sprintf(");
		put(b, sp->format.p, sp->format.n);
		for (size_t k = 0; k < sp->nargs; k++)
			putf(b, ", sc_a%zu", k + 1);
		puts_b(b, ")");
	} else {
		default_message(sp, b);
	}
	puts_b(b, ")");
	for (size_t k = 0; k < sp->nargs; k++)
		putf(b, ",\n%s       text_str(sprint(sc_a%zu))", in, k + 1);
	puts_b(b, ")\n");
	puts_b(b, in[1] ? "\t}\n" : "");
	puts_b(b, "}\n");
}

/* The filters of the whole run, as one stap condition (possibly ""). */
static int globals(const struct sc_trace_filters *f, size_t n, struct buf *b,
		   struct sc_trace_error *err)
{
	const char *sep = "";

	if (!f)
		return 0;
	if (f->has_pid) {
		putf(b, "pid() == %lld", f->pid);
		sep = " && ";
	}
	if (f->has_uid) {
		putf(b, "%suid() == %lld", sep, f->uid);
		sep = " && ";
	}
	if (f->comm) {
		size_t l = strlen(f->comm);

		for (size_t k = 0; k < l; k++) {
			unsigned char c = (unsigned char)f->comm[k];

			if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
				if (err) {
					err->spec = n;
					err->pos = k;
					snprintf(err->msg, sizeof(err->msg),
						 "--comm: a process name with a control "
						 "character, '\"' or '\\' cannot be matched");
				}
				return -EINVAL;
			}
		}
		if (l == 0 || l > COMM_MAX) {
			if (err) {
				err->spec = n;
				err->pos = 0;
				snprintf(err->msg, sizeof(err->msg),
					 "--comm: a process name is 1 to %d bytes (the "
					 "kernel keeps no more): give its first %d",
					 COMM_MAX, COMM_MAX);
			}
			return -EINVAL;
		}
		putf(b, "%sexecname() == \"", sep);
		put(b, f->comm, l);
		puts_b(b, "\"");
	}
	return 0;
}

static void header(const struct sc_trace_filters *f, struct buf *b)
{
	puts_b(b, "# Generated by stapcache trace from the one-liners below: the same\n"
		  "# one-liners give this same script. Each event is one record line,\n"
		  "# \\036SC1 and tab-separated fields: time_ns, pid, tid, comm, probe,\n"
		  "# message, args (stapcache(1), ONE-LINERS).\n");
	if (f && (f->has_pid || f->has_uid || f->comm)) {
		puts_b(b, "# filters:");
		if (f->has_pid)
			putf(b, " --pid %lld", f->pid);
		if (f->has_uid)
			putf(b, " --uid %lld", f->uid);
		if (f->comm) {
			puts_b(b, " --comm ");
			puts_b(b, f->comm);
		}
		puts_b(b, "\n");
	}
}

int sc_trace_script(const char *const *specs, size_t n, const struct sc_trace_filters *f,
		    char **script, struct sc_trace_error *err)
{
	struct buf out = {0}, global = {0};
	int r = -EINVAL;

	if (n == 0) {
		if (err) {
			err->spec = 0;
			err->pos = 0;
			snprintf(err->msg, sizeof(err->msg), "no one-liner given");
		}
		return -EINVAL;
	}
	r = globals(f, n, &global, err);
	if (r < 0)
		goto out;
	puts_b(&global, ""); /* never NULL below */
	header(f, &out);
	for (size_t k = 0; k < n; k++) {
		struct parser p = {.s = specs[k],
				   .len = strlen(specs[k]),
				   .spec = k,
				   .err = err};
		struct spec sp = {0};

		r = parse_spec(&p, &sp);
		if (r == 0)
			emit_probe(&sp, k, global.p ? global.p : "", &out);
		spec_clear(&sp);
		if (r < 0)
			goto out;
	}
	r = out.oom || global.oom ? -ENOMEM : 0;
	if (r == 0) {
		*script = out.p;
		out.p = NULL;
	}
out:
	free(out.p);
	free(global.p);
	return r;
}

char *sc_trace_error_text(const char *spec, const struct sc_trace_error *err)
{
	struct buf b = {0};
	size_t l = spec ? strlen(spec) : 0, pos = err->pos > l ? l : err->pos;

	if (!spec)
		return strdup(err->msg);
	putf(&b, "one-liner %zu, column %zu: ", err->spec + 1, pos + 1);
	put(&b, err->msg, strlen(err->msg));
	puts_b(&b, "\n  ");
	for (size_t k = 0; k < l; k++) {
		unsigned char c = (unsigned char)spec[k];

		put(&b, c < 0x20 || c == 0x7f ? "?" : spec + k, 1);
	}
	puts_b(&b, "\n  ");
	/* Count columns as the terminal does: a UTF-8 continuation byte takes none. */
	for (size_t k = 0; k < pos; k++)
		if (((unsigned char)spec[k] & 0xc0) != 0x80)
			puts_b(&b, " ");
	puts_b(&b, "^");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
