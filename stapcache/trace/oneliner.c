/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One-liners: a spec (trace.h has the grammar) to a stap script.
 *
 * Invariants:
 * - The parser (here and trace-expr.c) reads only s[0..len) and recurses at
 *   most SC_TRACE_DEPTH_MAX deep: whatever the input, it returns
 *   (tests/fuzz/fuzz-trace.c holds it to it).
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

#include "output/event.h"
#include "trace/parser.h"

#define COMM_MAX 15 /* TASK_COMM_LEN - 1 */

/* ---------------------------------------------------------------- probe points */

struct spec {
	enum sc_trace_kind kind;
	struct sc_trace_buf point; /* stap's probe point */
	struct sc_trace_buf probe; /* the canonical probe, as events name it */
	struct sc_trace_buf filter, format;
	struct sc_trace_buf args[SC_EVENT_ARGS_MAX];
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
static size_t ident(const struct sc_trace_parser *p, size_t i, size_t end, bool wild)
{
	size_t k = i;

	while (k < end && (sc_trace_is_alnum(sc_trace_at(p, k)) ||
			   (wild && sc_trace_at(p, k) == '*')))
		k++;
	return k;
}

static int bad_char(struct sc_trace_parser *p, size_t k, const char *in)
{
	char tmp[16];

	return sc_trace_fail(p, k, "%s not allowed in %s",
			     sc_trace_what(p, k, tmp, sizeof(tmp)), in);
}

static int tracepoint(struct sc_trace_parser *p, struct spec *sp, size_t b, size_t e)
{
	size_t k = ident(p, b, e, true);

	if (k == b)
		return sc_trace_fail(
			p, b,
			"expected t:SUBSYSTEM:EVENT (e.g. t:sched:sched_process_exec)");
	if (k == e || sc_trace_at(p, k) != ':')
		return k == e ? sc_trace_fail(p, k,
					      "expected ':EVENT' after the subsystem")
			      : bad_char(p, k, "a tracepoint's subsystem");
	size_t ev = k + 1, ee = ident(p, ev, e, true);

	if (ee == ev)
		return sc_trace_fail(p, ev,
				     "expected the tracepoint's event name after ':'");
	if (ee != e)
		return bad_char(p, ee, "a tracepoint's event name");
	sp->kind = SC_TRACE_TRACE;
	sc_trace_puts(&sp->point, "kernel.trace(\"");
	sc_trace_put(&sp->point, p->s + b, e - b);
	sc_trace_puts(&sp->point, "\")");
	sc_trace_puts(&sp->probe, "t:");
	sc_trace_put(&sp->probe, p->s + b, e - b);
	return 0;
}

static int mark(struct sc_trace_parser *p, struct spec *sp, size_t b, size_t e)
{
	size_t colon = e;

	if (sc_trace_at(p, b) != '/')
		return sc_trace_fail(p, b,
				     "expected u:/ABSOLUTE/PATH:MARK (e.g. "
				     "u:/usr/lib/x86_64-linux-gnu/libc.so.6:setjmp)");
	for (size_t k = b; k < e; k++) {
		int c = sc_trace_at(p, k);

		if (c == ':')
			colon = k;
		else if (c < 0x21 || c == 0x7f || c == '"' || c == '\\')
			return bad_char(p, k, "a u: probe's path");
	}
	if (colon == e)
		return sc_trace_fail(p, e,
				     "expected ':MARK' after the path (readelf -n PATH lists "
				     "its stapsdt marks)");
	size_t mk = colon + 1, me = ident(p, mk, e, true);

	if (me == mk)
		return sc_trace_fail(p, mk, "expected the mark's name after ':'");
	if (me != e)
		return bad_char(p, me, "a mark's name");
	sp->kind = SC_TRACE_MARK;
	sc_trace_puts(&sp->point, "process(\"");
	sc_trace_put(&sp->point, p->s + b, colon - b);
	sc_trace_puts(&sp->point, "\").mark(\"");
	sc_trace_put(&sp->point, p->s + mk, e - mk);
	sc_trace_puts(&sp->point, "\")");
	sc_trace_puts(&sp->probe, "u:");
	sc_trace_put(&sp->probe, p->s + b, e - b);
	return 0;
}

static int syscall(struct sc_trace_parser *p, struct spec *sp, size_t b, size_t e,
		   bool ret, size_t dot)
{
	size_t n = dot + 1, k = ident(p, n, e, true);

	if (k == n)
		return sc_trace_fail(p, n,
				     "expected the system call's name after '.' (e.g. "
				     "syscall.openat)");
	if (k != e && !strncmp(p->s + k, ".return", e - k) && e - k == 7)
		return sc_trace_fail(p, k, "write r:%.*s for the return", (int)(k - b),
				     p->s + b);
	if (k != e)
		return bad_char(p, k, "a system call's name");
	sp->kind = ret ? SC_TRACE_SYSCALL_RET : SC_TRACE_SYSCALL;
	sc_trace_put(&sp->point, p->s + b, e - b);
	if (ret)
		sc_trace_puts(&sp->point, ".return");
	sc_trace_puts(&sp->probe, ret ? "r:" : "");
	sc_trace_put(&sp->probe, p->s + b, e - b);
	return 0;
}

static int function(struct sc_trace_parser *p, struct spec *sp, size_t b, size_t e,
		    bool ret)
{
	if (!sc_trace_is_alpha(sc_trace_at(p, b)))
		return sc_trace_fail(p, b,
				     "expected a probe point: syscall.NAME, a kernel function, "
				     "t:SUBSYSTEM:EVENT or u:PATH:MARK");
	for (size_t k = b; k < e; k++)
		if (!sc_trace_is_alnum(sc_trace_at(p, k)) && sc_trace_at(p, k) != '.')
			return bad_char(p, k,
					sc_trace_at(p, k) == '*'
						? "a kernel function's name "
						  "(wildcards: syscall.* "
						  "and t: only)"
						: "a kernel function's name");
	sp->kind = ret ? SC_TRACE_KRETPROBE : SC_TRACE_KPROBE;
	sc_trace_puts(&sp->point, "kprobe.function(\"");
	sc_trace_put(&sp->point, p->s + b, e - b);
	sc_trace_puts(&sp->point, ret ? "\").return" : "\")");
	sc_trace_puts(&sp->probe, ret ? "r:" : "p:");
	sc_trace_put(&sp->probe, p->s + b, e - b);
	return 0;
}

static int probe_point(struct sc_trace_parser *p, struct spec *sp)
{
	size_t b = p->i, e = b;
	char kind = 'p';

	while (e < p->len && !sc_trace_is_space(sc_trace_at(p, e)) &&
	       sc_trace_at(p, e) != '(' && sc_trace_at(p, e) != '"')
		e++;
	p->i = e;
	if (e == b)
		return sc_trace_fail(
			p, b,
			"expected a probe point: syscall.NAME, r:syscall.NAME, "
			"FUNCTION, r:FUNCTION, t:SUBSYSTEM:EVENT or u:PATH:MARK");
	if (e - b >= 2 && sc_trace_at(p, b + 1) == ':') {
		kind = p->s[b];
		if (!strchr("prtu", kind))
			return sc_trace_fail(p, b,
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
static int conversions(struct sc_trace_parser *p, size_t start, size_t *count)
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
		while (k < end &&
		       (sc_trace_is_digit(sc_trace_at(p, k)) || p->s[k] == '.'))
			k++;
		if (k < end && p->s[k] == '*')
			return sc_trace_fail(p, k,
					     "'*' widths are not supported: write the width");
		while (k < end && p->s[k] == 'l')
			k++;
		if (k >= end || !strchr("diouxXcspbmM", p->s[k]))
			return sc_trace_fail(p, pct,
					     "not a conversion stap's printf knows (%%d %%u %%x "
					     "%%s %%c %%p %%b %%m %%M; %%%% for '%%')");
		k++;
		(*count)++;
	}
	return 0;
}

static int format_args(struct sc_trace_parser *p, struct spec *sp)
{
	size_t start = p->i, want;
	int r = sc_trace_string(p, &sp->format);

	if (r < 0 || (r = conversions(p, start, &want)) < 0)
		return r;
	for (;;) {
		size_t here;

		sc_trace_skip_space(p);
		here = p->i;
		if (sc_trace_at(p, here) != ',')
			break;
		if (sp->nargs == SC_EVENT_ARGS_MAX)
			return sc_trace_fail(p, here, "at most %d arguments",
					     SC_EVENT_ARGS_MAX);
		p->i++;
		r = sc_trace_expr(p, &sp->args[sp->nargs++], 0);
		if (r < 0)
			return r;
		if (sp->nargs > want)
			return sc_trace_fail(p, here,
					     "the format has %zu conversion%s, this is "
					     "argument %zu",
					     want, want == 1 ? "" : "s", sp->nargs);
	}
	if (sp->nargs < want)
		return sc_trace_fail(p, p->i,
				     "the format has %zu conversions but %zu argument%s",
				     want, sp->nargs, sp->nargs == 1 ? "" : "s");
	return 0;
}

static int parse_spec(struct sc_trace_parser *p, struct spec *sp)
{
	char tmp[16];
	int r;

	sc_trace_skip_space(p);
	r = probe_point(p, sp);
	if (r < 0)
		return r;
	p->kind = sp->kind;
	sc_trace_skip_space(p);
	if (sc_trace_at(p, p->i) == '(') {
		size_t open = p->i++;

		r = sc_trace_expr(p, &sp->filter, 0);
		if (r < 0)
			return r;
		sc_trace_skip_space(p);
		if (sc_trace_at(p, p->i) != ')')
			return sc_trace_fail(p, p->i,
					     "expected ')' to close the filter opened at column "
					     "%zu, not %s",
					     open + 1,
					     sc_trace_what(p, p->i, tmp, sizeof(tmp)));
		p->i++;
		sc_trace_skip_space(p);
	}
	if (sc_trace_at(p, p->i) == '"') {
		r = format_args(p, sp);
		if (r < 0)
			return r;
		sc_trace_skip_space(p);
	}
	if (p->i < p->len)
		return sc_trace_fail(p, p->i,
				     "unexpected %s: a spec is PROBE [(FILTER)] [\"FORMAT\" [, "
				     "ARG]...]",
				     sc_trace_what(p, p->i, tmp, sizeof(tmp)));
	return 0;
}

/* ---------------------------------------------------------------- the script */

static void default_message(const struct spec *sp, struct sc_trace_buf *b)
{
	switch (sp->kind) {
	case SC_TRACE_SYSCALL:
		sc_trace_puts(b, "argstr");
		break;
	case SC_TRACE_SYSCALL_RET:
		sc_trace_puts(b, "retstr");
		break;
	case SC_TRACE_KRETPROBE:
		sc_trace_puts(b, "sprint(returnval())");
		break;
	case SC_TRACE_TRACE:
	case SC_TRACE_MARK:
		sc_trace_puts(b, "$$parms");
		break;
	default:
		sc_trace_puts(b, "\"\"");
	}
}

static void canonical(const struct spec *sp, struct sc_trace_buf *b)
{
	sc_trace_put(b, sp->probe.p, sp->probe.n);
	if (sp->filter.n) {
		sc_trace_puts(b, " (");
		sc_trace_put(b, sp->filter.p, sp->filter.n);
		sc_trace_puts(b, ")");
	}
	if (sp->format.n) {
		sc_trace_puts(b, " ");
		sc_trace_put(b, sp->format.p, sp->format.n);
	}
	for (size_t k = 0; k < sp->nargs; k++) {
		sc_trace_puts(b, ", ");
		sc_trace_put(b, sp->args[k].p, sp->args[k].n);
	}
}

static void condition(const struct spec *sp, const char *global, struct sc_trace_buf *b)
{
	bool both = sp->filter.n && *global;

	if (!sp->filter.n && !*global)
		return;
	sc_trace_puts(b, "\tif (");
	if (sp->filter.n) {
		sc_trace_puts(b, both ? "(" : "");
		sc_trace_put(b, sp->filter.p, sp->filter.n);
		sc_trace_puts(b, both ? ") && " : "");
	}
	sc_trace_puts(b, global);
	sc_trace_puts(b, ") {\n");
}

static void emit_probe(const struct spec *sp, size_t nth, const char *global,
		       struct sc_trace_buf *b)
{
	const char *in = sp->filter.n || *global ? "\t\t" : "\t";

	sc_trace_putf(b, "\n# %zu: ", nth + 1);
	canonical(sp, b);
	sc_trace_puts(b, "\nprobe ");
	sc_trace_put(b, sp->point.p, sp->point.n);
	sc_trace_puts(b, "\n{\n");
	condition(sp, global, b);
	for (size_t k = 0; k < sp->nargs; k++) {
		sc_trace_putf(b, "%ssc_a%zu = ", in, k + 1);
		sc_trace_put(b, sp->args[k].p, sp->args[k].n);
		sc_trace_puts(b, "\n");
	}
	sc_trace_putf(b,
		      "%sprintf(\"" SC_EVENT_MARK_STAP
		      "%%d\\t%%d\\t%%d\\t%%s\\t%%s\\t%%s",
		      in);
	for (size_t k = 0; k < sp->nargs; k++)
		sc_trace_puts(b, "\\t%s");
	sc_trace_putf(
		b,
		"\\n\",\n%s       gettimeofday_ns(), pid(), tid(), text_str(execname()),\n",
		in);
	sc_trace_putf(b, "%s       \"", in);
	sc_trace_put(b, sp->probe.p, sp->probe.n);
	sc_trace_puts(b, "\", text_str(");
	if (sp->format.n) {
		sc_trace_puts(b, "sprintf(");
		sc_trace_put(b, sp->format.p, sp->format.n);
		for (size_t k = 0; k < sp->nargs; k++)
			sc_trace_putf(b, ", sc_a%zu", k + 1);
		sc_trace_puts(b, ")");
	} else {
		default_message(sp, b);
	}
	sc_trace_puts(b, ")");
	for (size_t k = 0; k < sp->nargs; k++)
		sc_trace_putf(b, ",\n%s       text_str(sprint(sc_a%zu))", in, k + 1);
	sc_trace_puts(b, ")\n");
	sc_trace_puts(b, in[1] ? "\t}\n" : "");
	sc_trace_puts(b, "}\n");
}

/* The filters of the whole run, as one stap condition (possibly ""). */
static int globals(const struct sc_trace_filters *f, size_t n, struct sc_trace_buf *b,
		   struct sc_trace_error *err)
{
	const char *sep = "";

	if (!f)
		return 0;
	if (f->has_pid) {
		sc_trace_putf(b, "pid() == %lld", f->pid);
		sep = " && ";
	}
	if (f->has_uid) {
		sc_trace_putf(b, "%suid() == %lld", sep, f->uid);
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
		sc_trace_putf(b, "%sexecname() == \"", sep);
		sc_trace_put(b, f->comm, l);
		sc_trace_puts(b, "\"");
	}
	return 0;
}

static void header(const struct sc_trace_filters *f, struct sc_trace_buf *b)
{
	sc_trace_puts(b,
		      "# Generated by stapcache trace from the one-liners below: the same\n"
		      "# one-liners give this same script. Each event is one record line,\n"
		      "# \\036SC1 and tab-separated fields: time_ns, pid, tid, comm, probe,\n"
		      "# message, args (stapcache(1), ONE-LINERS).\n");
	if (f && (f->has_pid || f->has_uid || f->comm)) {
		sc_trace_puts(b, "# filters:");
		if (f->has_pid)
			sc_trace_putf(b, " --pid %lld", f->pid);
		if (f->has_uid)
			sc_trace_putf(b, " --uid %lld", f->uid);
		if (f->comm) {
			sc_trace_puts(b, " --comm ");
			sc_trace_puts(b, f->comm);
		}
		sc_trace_puts(b, "\n");
	}
}

int sc_trace_script(const char *const *specs, size_t n, const struct sc_trace_filters *f,
		    char **script, struct sc_trace_error *err)
{
	struct sc_trace_buf out = {0}, global = {0};
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
	sc_trace_puts(&global, ""); /* never NULL below */
	header(f, &out);
	for (size_t k = 0; k < n; k++) {
		struct sc_trace_parser p = {.s = specs[k],
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
	struct sc_trace_buf b = {0};
	size_t l = spec ? strlen(spec) : 0, pos = err->pos > l ? l : err->pos;

	if (!spec)
		return strdup(err->msg);
	sc_trace_putf(&b, "one-liner %zu, column %zu: ", err->spec + 1, pos + 1);
	sc_trace_put(&b, err->msg, strlen(err->msg));
	sc_trace_puts(&b, "\n  ");
	for (size_t k = 0; k < l; k++) {
		unsigned char c = (unsigned char)spec[k];

		sc_trace_put(&b, c < 0x20 || c == 0x7f ? "?" : spec + k, 1);
	}
	sc_trace_puts(&b, "\n  ");
	/* Count columns as the terminal does: a UTF-8 continuation byte takes none. */
	for (size_t k = 0; k < pos; k++)
		if (((unsigned char)spec[k] & 0xc0) != 0x80)
			sc_trace_puts(&b, " ");
	sc_trace_puts(&b, "^");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
