/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One-liners: each probe kind's stap probe point, filters (the spec's and
 * --pid/--comm/--uid), formats and arguments, errors at their column,
 * determinism; and the event records the scripts print, parsed back.
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output/event.h"
#include "tests/lib/tap.h"
#include "trace/oneliner.h"

static char *gen1(const char *spec, const struct sc_trace_filters *f)
{
	const char *v[1] = {spec};
	struct sc_trace_error e = {0};
	char *s = NULL;

	if (sc_trace_script(v, 1, f, &s, &e) < 0)
		return NULL;
	return s;
}

static void has(const char *spec, const char *want, const char *what)
{
	char *s = gen1(spec, NULL);

	if (!tap_ok(s && strstr(s, want), "%s: '%s'", what, spec))
		printf("#   want: %s\n#   script:\n%s", want, s ? s : "(none)\n");
	free(s);
}

static void lacks(const char *spec, const char *unwanted, const char *what)
{
	char *s = gen1(spec, NULL);

	tap_ok(s && !strstr(s, unwanted), "%s: '%s' has no %s", what, spec, unwanted);
	free(s);
}

/* spec fails at 1-based column col, with a message containing word. */
static void fails_at(const char *spec, size_t col, const char *word)
{
	const char *v[1] = {spec};
	struct sc_trace_error e = {0};
	char *s = NULL, *text;
	int r = sc_trace_script(v, 1, NULL, &s, &e);

	if (!tap_ok(r == -EINVAL && s == NULL && e.pos + 1 == col && strstr(e.msg, word),
		    "'%s' is refused at column %zu (%s)", spec, col, word))
		printf("#   got r=%d column %zu: %s\n", r, e.pos + 1, e.msg);
	free(s);
	text = sc_trace_error_text(spec, &e);
	/* The caret sits under the column: line 3 is "  " then col-1 spaces. */
	if (text) {
		const char *l3 = strrchr(text, '\n');
		size_t caret = l3 ? strcspn(l3 + 1, "^") : 0;

		tap_ok(l3 && caret == col - 1 + 2, "  its caret is under column %zu",
		       col);
	} else {
		tap_ok(0, "  error text for '%s'", spec);
	}
	free(text);
}

static void kinds(void)
{
	has("syscall.openat", "probe syscall.openat\n", "syscall entry");
	has("p:syscall.openat", "probe syscall.openat\n", "p: syscall entry");
	has("syscall.openat", "text_str(argstr)", "syscall entry's default message");
	has("r:syscall.read", "probe syscall.read.return\n", "syscall return");
	has("r:syscall.read", "text_str(retstr)", "syscall return's default message");
	has("nd_syscall.close", "probe nd_syscall.close\n", "nd_syscall");
	has("syscall.open*", "probe syscall.open*\n", "syscall wildcard");
	has("vfs_read", "probe kprobe.function(\"vfs_read\")\n", "kernel function");
	has("p:vfs_read", "\"p:vfs_read\"", "kernel function's probe field");
	has("r:vfs_read", "probe kprobe.function(\"vfs_read\").return\n",
	    "function return");
	has("t:sched:sched_process_exec",
	    "probe kernel.trace(\"sched:sched_process_exec\")\n", "tracepoint");
	has("t:sched:sched_process_exec", "text_str($$parms)",
	    "tracepoint's default message");
	has("u:/usr/lib/x86_64-linux-gnu/libstdc++.so.6:throw",
	    "probe process(\"/usr/lib/x86_64-linux-gnu/libstdc++.so.6\").mark(\"throw\")\n",
	    "user-space mark");
}

static void expressions(void)
{
	has("syscall.openat (pid == 1234)", "if (pid() == 1234) {", "pid filter");
	has("syscall.openat (comm == \"bash\")", "if (execname() == \"bash\") {",
	    "comm filter");
	has("r:syscall.read (retval > 4096)", "if (retval > 4096) {", "syscall retval");
	has("r:vfs_read (retval < 0)", "if (returnval() < 0) {", "function retval");
	has("vfs_read (arg3 >= 0x1000)", "if (ulong_arg(3) >= 0x1000) {",
	    "function argN");
	has("u:/bin/x:m (arg1 == 2)", "if ($arg1 == 2) {", "mark argN");
	has("t:sched:sched_process_exec ($pid != 1)", "if ($pid != 1) {",
	    "tracepoint field");
	has("syscall.openat   (  pid==1&&!(uid  ==0) )",
	    "if (pid() == 1 && !(uid() == 0)) {", "spaces normalised");
	has("syscall.openat (isinstr(filename, \"etc\"))",
	    "if (isinstr(filename, \"etc\")) {", "function call");
	has("syscall.openat (filename =~ \"^/etc\")", "filename =~ \"^/etc\"",
	    "regex match");
	has("syscall.openat \"open %s flags %x\", filename, flags",
	    "text_str(sprintf(\"open %s flags %x\", sc_a1, sc_a2))",
	    "format with arguments");
	has("syscall.openat \"%s\", filename", "sc_a1 = filename\n",
	    "argument evaluated once");
	has("syscall.openat \"%s\", filename", "text_str(sprint(sc_a1)))",
	    "argument in args");
	has("syscall.openat \"100%% %d\", pid", "sc_a1 = pid()", "%% is no conversion");
	lacks("syscall.openat", "if (", "no filter, no condition");
}

static void filters(void)
{
	struct sc_trace_filters f = {.has_pid = true, .pid = 42, .comm = "sshd"};
	struct sc_trace_filters u = {.has_uid = true, .uid = 1000};
	char *s = gen1("syscall.openat (fd > 2)", &f), *t = gen1("syscall.close", &u);

	tap_ok(s && strstr(s, "if ((fd > 2) && pid() == 42 && execname() == \"sshd\") {"),
	       "--pid and --comm join the spec's filter");
	tap_ok(t && strstr(t, "if (uid() == 1000) {"), "--uid alone");
	free(s);
	free(t);
	f.comm = "a-process-name-too-long";
	tap_ok(gen1("syscall.close", &f) == NULL,
	       "a --comm longer than 15 bytes is refused");
	f.comm = "a\"b";
	tap_ok(gen1("syscall.close", &f) == NULL, "a --comm with a quote is refused");
}

static void errors(void)
{
	fails_at("", 1, "expected a probe point");
	fails_at("x:foo", 1, "unknown probe kind");
	fails_at("syscall.", 9, "system call's name");
	fails_at("syscall.read.return", 13, "r:syscall.read");
	fails_at("syscall.openat (pid == )", 24, "expected a value");
	fails_at("syscall.openat (pid == 1", 25, "expected ')'");
	fails_at("syscall.openat (pid == 1) junk", 27, "unexpected");
	fails_at("syscall.openat \"%s %d\", filename", 33, "2 conversions");
	fails_at("syscall.openat \"%s\", filename, fd", 30, "argument 2");
	fails_at("syscall.openat \"%q\", filename", 17, "not a conversion");
	fails_at("syscall.openat \"unterminated", 16, "no closing");
	fails_at("syscall.openat (arg1 == 1)", 17, "arg1");
	fails_at("syscall.openat (retval == 1)", 17, "retval");
	fails_at("t:sched:sched_switch (bogus == 1)", 23, "unknown name");
	fails_at("t:sched", 8, "':EVENT'");
	fails_at("u:relative:mark", 3, "ABSOLUTE");
	fails_at("u:/bin/x", 9, "':MARK'");
	fails_at("vfs_*", 5, "wildcards");
	fails_at("vfs_read ($x == 1)", 11, "$NAME");
	fails_at("syscall.openat (pid == 1; exit())", 25, "expected ')'");
	fails_at("syscall.openat } probe begin {", 16, "unexpected");
	fails_at("syscall.openat (\"a\tb\")", 19, "control character");
	fails_at("syscall.openat (1 == 0x)", 23, "number");

	char deep[200];

	memset(deep, '(', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	memcpy(deep, "syscall.openat ", 15);
	fails_at(deep, 50, "nested");

	const char *v[2] = {"syscall.openat", "r:syscall.bad name"};
	struct sc_trace_error e = {0};
	char *s = NULL;

	int r = sc_trace_script(v, 2, NULL, &s, &e);

	tap_ok(r == -EINVAL && e.spec == 1 && e.pos == 14,
	       "the second one-liner's error names it (spec %zu, column %zu)", e.spec + 1,
	       e.pos + 1);
	tap_ok(sc_trace_script(v, 0, NULL, &s, &e) == -EINVAL,
	       "no one-liner is an error");
}

static void determinism(void)
{
	struct sc_trace_filters f = {.has_pid = true, .pid = 7};
	const char *v[3] = {"syscall.openat (pid == 1) \"%s\", filename",
			    "r:syscall.read", "t:sched:sched_process_exec"};
	const char *w[3] = {"p:syscall.openat(pid==1)\"%s\",filename", "r:syscall.read  ",
			    "  t:sched:sched_process_exec"};
	char *a = NULL, *b = NULL, *c = NULL;
	struct sc_trace_error e;

	sc_trace_script(v, 3, &f, &a, &e);
	sc_trace_script(v, 3, &f, &b, &e);
	sc_trace_script(w, 3, &f, &c, &e);
	tap_ok(a && b && !strcmp(a, b),
	       "the same one-liners give byte-identical scripts");
	tap_ok(a && c && !strcmp(a, c),
	       "two spellings of the same one-liners: one script");
	free(b);
	f.pid = 8;
	sc_trace_script(v, 3, &f, &b, &e);
	tap_ok(a && b && strcmp(a, b), "a different --pid: a different script");
	free(a);
	free(b);
	free(c);
}

static void events(void)
{
	const char rec[] = SC_EVENT_MARK
		"1764612345123456789\t42\t43\tmy\\tcomm\tsyscall.openat"
		"\topen \\\"/etc/x\\\"\\n\\u00e9\\U0001F600\\001\t/etc/x\t7";
	struct sc_event ev;
	int r = sc_event_parse(rec, sizeof(rec) - 1, &ev);

	tap_is_int(r, 0, "an event record parses");
	if (r == 0) {
		tap_ok(ev.time_ns == 1764612345123456789LL && ev.pid == 42 &&
			       ev.tid == 43,
		       "its time, pid and tid");
		tap_is_str(ev.comm, "my\tcomm", "its comm, unescaped");
		tap_is_str(ev.probe, "syscall.openat", "its probe");
		tap_is_str(ev.message, "open \"/etc/x\"\n\xc3\xa9\xf0\x9f\x98\x80\x01",
			   "its message: \\\" \\n \\u \\U \\ooo");
		tap_ok(ev.nargs == 2 && !strcmp(ev.args[0], "/etc/x") &&
			       !strcmp(ev.args[1], "7"),
		       "its args");
		sc_event_clear(&ev);
	}
	tap_is_int(sc_event_parse("hello", 5, &ev), 1, "another line is no event");
	tap_is_int(sc_event_parse(SC_EVENT_MARK "x\t1\t1\tc\tp\tm", 17, &ev), -EINVAL,
		   "a bad time is refused");
	const char big[] = SC_EVENT_MARK "9764612345123456789\t1\t1\tc\tp\tm";

	tap_is_int(sc_event_parse(big, sizeof(big) - 1, &ev), -EINVAL,
		   "a time beyond 64 bits is refused (found by fuzz-trace)");
	tap_is_int(sc_event_parse(SC_EVENT_MARK "1\t1\t1\tc\tp", 14, &ev), -EINVAL,
		   "a record without a message is refused");
	tap_is_int(sc_event_parse(SC_EVENT_MARK "1\t1\t1\tc\tp\t\\q", 17, &ev), -EINVAL,
		   "an unknown escape is refused");
	tap_is_int(sc_event_parse(SC_EVENT_MARK "1\t1\t1\tc\tp\t\\ud800", 21, &ev),
		   -EINVAL, "a surrogate is refused");
	tap_is_int(sc_event_parse(SC_EVENT_MARK "1\t1\t1\tc\tp\t\\000", 19, &ev), -EINVAL,
		   "a NUL is refused");
}

int main(void)
{
	kinds();
	expressions();
	filters();
	errors();
	determinism();
	events();
	return tap_done();
}
