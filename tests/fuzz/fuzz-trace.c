/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one-liner parser (stapcache/trace.c) and the event record reader
 * (event.c) on arbitrary bytes, one spec a line; a line "--comm NAME" is
 * the --comm filter instead (the last one counts), and the input's length
 * sets --pid and --uid. Whatever the input: a script or an error that names
 * a spec, a column inside it and a message (or, for a bad --comm, no spec,
 * as stapcache/cmd/trace.c prints it); the same specs give the same bytes;
 * and the canonical spelling the script records for each spec ("# N: ...")
 * gives that same script again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output/event.h"
#include "trace/oneliner.h"

#define SPECS_MAX 8

#define COMM_LINE "--comm "

static size_t split(const uint8_t *data, size_t size, char **v, char **comm)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= size && n < SPECS_MAX; i++) {
		char *line;

		if (i < size && data[i] != '\n')
			continue;
		line = calloc(1, i - start + 1);
		if (!line)
			abort();
		memcpy(line, data + start, i - start); /* a NUL inside ends the line */
		start = i + 1;
		if (!strncmp(line, COMM_LINE, strlen(COMM_LINE))) {
			free(*comm);
			*comm = line;
			continue;
		}
		v[n++] = line;
	}
	return n;
}

/* The script's "# N: SPEC" lines, as specs again. */
static size_t canonical(const char *script, char **v)
{
	size_t n = 0;

	for (const char *p = strstr(script, "\n# "); p && n < SPECS_MAX;
	     p = strstr(p + 1, "\n# ")) {
		const char *colon = strstr(p, ": "), *end;

		if (!colon || !(p[3] >= '1' && p[3] <= '9'))
			continue;
		end = strchr(colon, '\n');
		v[n] = strndup(colon + 2,
			       end ? (size_t)(end - colon - 2) : strlen(colon + 2));
		if (!v[n++])
			abort();
	}
	return n;
}

static void check_events(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sc_event ev;
		int r = sc_event_parse(v[i], strlen(v[i]), &ev);

		if (r == 0) {
			if (!ev.comm || !ev.probe || !ev.message ||
			    ev.nargs > SC_EVENT_ARGS_MAX)
				abort();
			for (size_t k = 0; k < ev.nargs; k++) {
				/* the value is never longer than the argument */
				char *val = sc_event_arg_value(ev.args[k]);

				if (strlen(val) > strlen(ev.args[k]))
					abort();
				free(val);
			}
			sc_event_clear(&ev);
		} else if (r != 1 && r != -EINVAL) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[SPECS_MAX], *w[SPECS_MAX], *a = NULL, *b = NULL, *c = NULL, *comm = NULL;
	size_t n = split(data, size, v, &comm), m = 0;
	struct sc_trace_filters f = {.has_pid = size & 1,
				     .pid = (long long)size,
				     .has_uid = size & 2,
				     .uid = (long long)size / 4,
				     .comm = comm ? comm + strlen(COMM_LINE) : NULL};
	struct sc_trace_error e = {0};
	int r = sc_trace_script((const char *const *)v, n, &f, &a, &e);

	check_events(v, n);
	if (r < 0) {
		const char *spec = e.spec < n ? v[e.spec] : NULL;
		char *text;

		/* No spec only for a bad --comm (e.spec == n, what cmd/trace.c checks). */
		if (r != -EINVAL || a || e.spec > n || (!spec && !comm) ||
		    (spec && e.pos > strlen(spec)) || !e.msg[0])
			abort();
		text = sc_trace_error_text(spec, &e);
		if (!text || (spec && !strchr(text, '^')))
			abort();
		free(text);
		goto out;
	}
	if (sc_trace_script((const char *const *)v, n, &f, &b, &e) != 0 || strcmp(a, b))
		abort(); /* the same specs, another script */
	m = canonical(a, w);
	if (m != n)
		abort();
	if (sc_trace_script((const char *const *)w, m, &f, &c, &e) != 0 || strcmp(a, c))
		abort(); /* the canonical spelling is not the same one-liner */
out:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	for (size_t i = 0; i < m; i++)
		free(w[i]);
	free(comm);
	free(a);
	free(b);
	free(c);
	return 0;
}
