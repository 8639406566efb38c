/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_OPTIONS_H
#define SC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"

/* A growable list of borrowed strings (they point into argv). */
struct sc_strv {
	const char **v;
	size_t n;
};

/* A stap-compatible request: what to compile, for what, and what to do with it. */
struct sc_request {
	int last_pass;           /* 4 for -p4; 5 (the default) means run */
	int verbose;             /* -v count */
	bool explain;            /* --explain: print the key record, build nothing */
	const char *kernel;      /* -r RELEASE or BUILD-TREE */
	const char *arch;        /* -a */
	const char *runtime;     /* -R */
	const char *module;      /* -m */
	const char *salt;        /* --salt */
	const char *privilege;   /* --privilege / --unprivileged */
	const char *compatible;  /* --compatible */
	bool guru, bulk, timing, unoptimized;
	bool suppress_handler_errors, suppress_time_limits, skip_badvars;
	struct sc_strv defines;  /* -D */
	struct sc_strv includes; /* -I */
	struct sc_strv kbuild;   /* -B */
	struct sc_strv globals;  /* -G NAME=VALUE: module parameters, not key inputs */
	const char *script_text; /* -e */
	const char *script_file; /* FILE (or "-" for stdin) */
	struct sc_strv args;     /* @1 @2 ... */
	const char *cmd;         /* -c: run-time only */
	const char *pid;         /* -x: run-time only */
	const char *output;      /* -o: run-time only */
	const char *bufsize;     /* -s: run-time only */
	/* remote runs (stapcache/remote/): run-time only */
	struct sc_strv targets;        /* -T NAME or @GROUP */
	const char *connect_timeout;   /* --connect-timeout SECONDS */
	const char *jobs;              /* --jobs N: targets at once */
};

/*
 * Parse a stap-style command line (argv[0] is the program). Returns 0 and
 * fills req, -EINVAL with err describing the first problem, or 1 when --help
 * or --version was handled (printed) and the program should exit 0.
 */
int sc_options_parse(int argc, char **argv, struct sc_request *req, struct sc_error *err);

/* Free what sc_options_parse allocated (the lists, not the strings). */
void sc_options_free(struct sc_request *req);

void sc_usage(FILE *out);

#endif
