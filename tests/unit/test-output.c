/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A run's output (stapcache/output.c): JSON lines parsed back with json-c,
 * events from records, the summary and its top processes, bytes that are
 * not UTF-8, text with and without prefixes, -o FILE.TARGET per target
 * renamed into place, nothing left behind without a finish.
 */
#include "build-config.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/event.h"
#include "common/fsutil.h"
#include "output/output.h"
#include "tests/lib/tap.h"

static char dir[] = "/tmp/sc-output.XXXXXX";

static char *slurp(const char *name)
{
	char path[256], *buf = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return sc_read_file(path, 1 << 20, &buf, &len) == 0 ? buf : NULL;
}

/* Line nth (0-based) of text, parsed as JSON; NULL if it is not. */
static json_object *nth_json(const char *text, int nth)
{
	const char *p = text;
	char line[4096];

	for (int k = 0; p && k < nth; k++)
		p = (p = strchr(p, '\n')) ? p + 1 : NULL;
	if (!p || !*p)
		return NULL;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	return json_tokener_parse(line);
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static long long num(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

static int files_in_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void json_two_targets(void)
{
	const char *names[] = {"web1", "web2"};
	char file[256], rec[256];
	struct sc_output_opts oo = {.json = true, .trace = true, .file = file};
	struct sc_output *o = NULL;
	struct sc_error err = {{0}};
	json_object *j, *a;
	char *t1, *t2;

	snprintf(file, sizeof(file), "%s/out.json", dir);
	tap_is_int(sc_output_new(&oo, names, 2, &o, &err), 0,
		   "json output for two targets");
	tap_is_int(files_in_dir(), 2,
		   "a temporary file each, nothing under the final names");
	sc_output_line(o, 0, false, "hello \"x\"\t\xff", 11);
	sc_output_line(o, 1, true, "an error", 8);
	snprintf(rec, sizeof(rec),
		 SC_EVENT_MARK
		 "1764612345123456789\t42\t43\tcat\tsyscall.openat"
		 "\topen /etc/x\t/etc/x\t\\\"/etc/\\\\\\\"y\\\"\t\\\"a\\\" \\\"b\\\"");
	for (int k = 0; k < 3; k++)
		sc_output_line(o, 0, false, rec, strlen(rec));
	rec[strlen(SC_EVENT_MARK) + 20] = '7'; /* another process: pid 72 */
	sc_output_line(o, 0, false, rec, strlen(rec));
	sc_output_summary(o, 0, 0, 2.0, "ok");
	sc_output_summary(o, 1, 3, 1.5, "runner failed");
	tap_is_int(sc_output_finish(o, &err), 0, "finish puts the files in place");
	sc_output_free(o);
	t1 = slurp("out.json.web1");
	t2 = slurp("out.json.web2");
	tap_ok(t1 && t2, "-o FILE with two targets: FILE.web1 and FILE.web2");
	tap_is_int(files_in_dir(), 2, "and no temporary file is left");
	j = t1 ? nth_json(t1, 0) : NULL;
	tap_is_str(str(j, "type"), "line", "a plain line is a line object");
	tap_is_str(str(j, "target"), "web1", "with its target");
	tap_is_str(str(j, "stream"), "stdout", "and stream");
	tap_is_str(str(j, "line"), "hello \"x\"\t\xef\xbf\xbd",
		   "its text, a bad byte as U+FFFD");
	json_object_put(j);
	j = t1 ? nth_json(t1, 1) : NULL;
	tap_is_str(str(j, "type"), "event", "a record is an event object");
	tap_ok(num(j, "pid") == 42 && num(j, "tid") == 43, "its pid and tid are numbers");
	tap_is_str(str(j, "comm"), "cat", "its comm");
	tap_is_str(str(j, "probe"), "syscall.openat", "its probe");
	tap_is_str(str(j, "message"), "open /etc/x", "its message");
	tap_ok(json_object_object_get_ex(j, "args", &a) &&
		       json_object_array_length(a) == 3 &&
		       !strcmp(json_object_get_string(json_object_array_get_idx(a, 0)),
			       "/etc/x"),
	       "its args");
	tap_is_str(a ? json_object_get_string(json_object_array_get_idx(a, 1)) : NULL,
		   "/etc/\"y", "a string stap quoted is its value, unescaped");
	tap_is_str(a ? json_object_get_string(json_object_array_get_idx(a, 2)) : NULL,
		   "\"a\" \"b\"", "two quoted strings are not one: as they are");
	tap_ok(j && strstr(json_object_to_json_string(j), "1764612345.123456"),
	       "its time: the probe's, in seconds with microseconds");
	json_object_put(j);
	j = t1 ? nth_json(t1, 5) : NULL;
	tap_is_str(str(j, "type"), "summary", "the summary comes last");
	tap_ok(num(j, "lines") == 5 && num(j, "events") == 4 && num(j, "status") == 0,
	       "it counts lines and events, with the status");
	tap_is_int(num(j, "bytes"), 12 + 3 * (strlen(rec) + 1) + strlen(rec) + 1,
		   "and the bytes received");
	tap_ok(t1 && strstr(t1, "\"events_per_second\":2.0,"),
	       "events per second: 4 in 2 s");
	tap_ok(j && json_object_object_get_ex(j, "top", &a) &&
		       json_object_array_length(a) == 2 &&
		       num(json_object_array_get_idx(a, 0), "pid") == 42 &&
		       num(json_object_array_get_idx(a, 0), "events") == 3,
	       "top processes, the busiest first");
	json_object_put(j);
	j = t2 ? nth_json(t2, 0) : NULL;
	tap_ok(str(j, "stream") && !strcmp(str(j, "stream"), "stderr") &&
		       !strcmp(str(j, "target"), "web2"),
	       "web2's stderr line is in web2's file");
	json_object_put(j);
	j = t2 ? nth_json(t2, 1) : NULL;
	tap_ok(num(j, "status") == 3 && str(j, "state") &&
		       !strcmp(str(j, "state"), "runner failed"),
	       "web2's summary has its status and state");
	json_object_put(j);
	free(t1);
	free(t2);
}

static void text_and_abandon(void)
{
	const char *names[] = {"a", "b"};
	char file[256];
	struct sc_output_opts oo = {.trace = true, .prefix = true, .file = file};
	struct sc_output *o = NULL;
	const char rec[] = SC_EVENT_MARK
		"1764612345000001000\t7\t8\tsh\tr:syscall.read\tread 3";
	char *t;

	snprintf(file, sizeof(file), "%s/out.txt", dir);
	sc_output_new(&oo, names, 2, &o, NULL);
	sc_output_line(o, 0, false, "plain", 5);
	sc_output_line(o, 0, false, rec, sizeof(rec) - 1);
	sc_output_finish(o, NULL);
	sc_output_free(o);
	t = slurp("out.txt.a");
	tap_ok(t && !strncmp(t, "plain\n", 6),
	       "text in a file of its own: no target prefix");
	tap_ok(t && strstr(t,
			   ".000001 7       8       sh               r:syscall.read       read 3\n"),
	       "an event as one readable line: time, pid, tid, comm, probe, message");
	free(t);
	snprintf(file, sizeof(file), "%s/never.txt", dir);
	int before = files_in_dir();

	sc_output_new(&oo, names, 1, &o, NULL);
	sc_output_line(o, 0, false, "half", 4);
	sc_output_free(o);
	tap_is_int(files_in_dir(), before,
		   "freed without a finish: its temporary file is gone");
	t = slurp("never.txt");
	tap_ok(t == NULL, "and nothing is under its name");
	free(t);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	json_two_targets();
	text_and_abandon();
	sc_rm_rf(dir);
	return tap_done();
}
