/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_OUTPUT_H
#define SC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/*
 * A run's output, from one target or several: text as it arrives (prefixed
 * "NAME: " when asked), or --output json, one JSON object a line (json-c
 * writes them): {"type":"line"|"event"|"summary","target":...}. With trace,
 * one-liners' event records (event.h) become readable lines or "event"
 * objects. Shared by the local run that reads its output (capture.c) and
 * stapcache-remote's fan-out; every call is thread-safe.
 */
struct sc_output_opts {
	bool json;
	bool trace;
	bool prefix;      /* text: "NAME: " before each line */
	const char *file; /* -o FILE (several targets: FILE.NAME each); NULL: stdout */
};

struct sc_output;

/*
 * For targets names[0..n) (borrowed: they must outlive it). With a file, a
 * temporary file per target next to it, renamed into place by
 * sc_output_finish. Returns 0 and *out, or -errno with err saying why.
 */
int sc_output_new(const struct sc_output_opts *o, const char *const *names, size_t n,
		  struct sc_output **out, struct sc_error *err);

/* One line (no newline) from target t's stdout or stderr. */
void sc_output_line(struct sc_output *o, size_t t, bool is_stderr, const char *line,
		    size_t len);

/* JSON: target t's summary object (exit status, duration, counts, top processes). */
void sc_output_summary(struct sc_output *o, size_t t, int status, double seconds,
		       const char *state);

/*
 * Has a write of the output failed (stdout a closed pipe, a full disk)? The
 * run is then pointless: the caller stops it. Thread-safe.
 */
bool sc_output_failed(const struct sc_output *o);

/*
 * Flush, and put each file in place (rename). Returns 0 or -errno with err.
 * Then free with sc_output_free (which, without a finish, removes the
 * temporary files: nothing half-written is ever left under FILE's name).
 */
int sc_output_finish(struct sc_output *o, struct sc_error *err);
void sc_output_free(struct sc_output *o);

#endif
