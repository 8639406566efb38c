/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_CMDOPT_H
#define SC_CMDOPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/spawn.h"
#include "core/options.h"

/*
 * The one command-line convention of every subcommand, stapcache's and its
 * helpers' alike (getopt_long underneath; the compile command keeps its own
 * table, options.h, whose rows a subcommand may borrow):
 *
 *   -h, --help    the command's usage on stdout; the caller exits 0
 *   a bad option, a missing or bad argument, a wrong number of operands:
 *                 "stapcache NAME: WHAT" and "Try 'stapcache NAME --help'."
 *                 on stderr; the caller exits 2
 *
 * Numbers go through sc_parse_int (one parser, one message) and sizes through
 * sc_parse_size.
 */

enum sc_cmdopt_type {
	SC_CMDOPT_IS_FLAG,   /* bool *: true when given */
	SC_CMDOPT_IS_COUNT,  /* int *: one more each time (-v) */
	SC_CMDOPT_IS_STRING, /* const char **: the last value (borrowed from argv) */
	SC_CMDOPT_IS_LIST,   /* struct sc_strv *: every value, in order (borrowed) */
	SC_CMDOPT_IS_INT,    /* int *: a whole number in [min, max] */
	SC_CMDOPT_IS_LONG,   /* long *: a whole number in [min, max] */
	SC_CMDOPT_IS_SIZE,   /* uint64_t *: 500M, 2G (sc_parse_size) */
	SC_CMDOPT_IS_ROW,    /* a row of the compile command's table (options.h): its
			     spelling, argument and help, parsed into spec->req */
};

struct sc_cmdopt {
	int short_name;        /* 0: none */
	const char *long_name; /* NULL: none */
	const char *metavar;   /* the argument's name in the usage; NULL: no argument */
	enum sc_cmdopt_type type;
	void *out;
	long min, max; /* SC_CMDOPT_IS_INT, SC_CMDOPT_IS_LONG */
	const char *help;
	int row; /* SC_CMDOPT_IS_ROW: the row's id (enum sc_opt_id or its letter) */
};

/* A row, spelled short: SC_CMDOPT_STRING('T', NULL, "TARGET", &t, "help"). */
#define SC_CMDOPT_FLAG(S, L, OUT, HELP)                                                  \
	{                                                                                \
		.short_name = (S), .long_name = (L), .type = SC_CMDOPT_IS_FLAG,          \
		.out = (OUT), .help = (HELP)                                             \
	}
#define SC_CMDOPT_COUNT(S, L, OUT, HELP)                                                 \
	{                                                                                \
		.short_name = (S), .long_name = (L), .type = SC_CMDOPT_IS_COUNT,         \
		.out = (OUT), .help = (HELP)                                             \
	}
#define SC_CMDOPT_STRING(S, L, META, OUT, HELP)                                          \
	{                                                                                \
		.short_name = (S), .long_name = (L), .metavar = (META),                  \
		.type = SC_CMDOPT_IS_STRING, .out = (OUT), .help = (HELP)                \
	}
#define SC_CMDOPT_LIST(S, L, META, OUT, HELP)                                            \
	{                                                                                \
		.short_name = (S), .long_name = (L), .metavar = (META),                  \
		.type = SC_CMDOPT_IS_LIST, .out = (OUT), .help = (HELP)                  \
	}
#define SC_CMDOPT_INT(S, L, META, OUT, MIN, MAX, HELP)                                   \
	{                                                                                \
		.short_name = (S), .long_name = (L), .metavar = (META),                  \
		.type = SC_CMDOPT_IS_INT, .out = (OUT), .min = (MIN), .max = (MAX),      \
		.help = (HELP)                                                           \
	}
#define SC_CMDOPT_LONG(S, L, META, OUT, MIN, MAX, HELP)                                  \
	{                                                                                \
		.short_name = (S), .long_name = (L), .metavar = (META),                  \
		.type = SC_CMDOPT_IS_LONG, .out = (OUT), .min = (MIN), .max = (MAX),     \
		.help = (HELP)                                                           \
	}
#define SC_CMDOPT_SIZE(S, L, META, OUT, HELP)                                            \
	{                                                                                \
		.short_name = (S), .long_name = (L), .metavar = (META),                  \
		.type = SC_CMDOPT_IS_SIZE, .out = (OUT), .help = (HELP)                  \
	}
#define SC_CMDOPT_ROW(ID)                                                                \
	{                                                                                \
		.type = SC_CMDOPT_IS_ROW, .row = (ID)                                    \
	}
/* A spec's rows: .opts and .nopts from one array. */
#define SC_CMDOPT_ROWS(A) .opts = (A), .nopts = sizeof(A) / sizeof((A)[0])

struct sc_cmdopt_spec {
	const char *name;     /* as typed after "stapcache": "cache prune" */
	const char *synopsis; /* what follows the name in "Usage:"; '\n' between forms */
	const char *about;    /* a few lines on what it does (may be NULL) */
	const struct sc_cmdopt *opts;
	size_t nopts;
	int min_args, max_args;  /* operands after the options; max_args -1: any */
	bool stop_at_operand;    /* options end at the first operand (a sub-verb) */
	struct sc_request *req;  /* where SC_CMDOPT_IS_ROW options go */
	struct sc_argv *compile; /* non-NULL: every compile option is accepted and
				    appended here as given (stapcache trace) */
	bool compile_options;    /* its options are the compile command's (the
				    usage says so; stapcache verify) */
	const char *prog;        /* the program, in messages (NULL: "stapcache"; a
			     helper's internal verb names the helper) */
};

/* What sc_cmdopt_parse returns besides the index of the first operand. */
#define SC_CMDOPT_HELP (-1)  /* the usage was printed on stdout: exit 0 */
#define SC_CMDOPT_USAGE (-2) /* the error was said on stderr: exit 2 */

/*
 * Parse argv (argv[0] is the command's last word) by spec. Returns the index
 * of the first operand (argc when there is none), SC_CMDOPT_HELP or
 * SC_CMDOPT_USAGE. Operands are argv[return .. argc).
 */
int sc_cmdopt_parse(const struct sc_cmdopt_spec *spec, int argc, char **argv);

/* The exit status for a negative sc_cmdopt_parse result: 0 after --help, else 2. */
static inline int sc_cmdopt_exit(int r)
{
	return r == SC_CMDOPT_HELP ? 0 : 2;
}

/* "Usage: stapcache NAME SYNOPSIS", the about text and the option list. */
void sc_cmdopt_usage(const struct sc_cmdopt_spec *spec, FILE *out);

/*
 * A usage error found after parsing (a bad operand): "stapcache NAME: ..."
 * and the hint on stderr. Returns 2, the exit status.
 */
int sc_cmdopt_usage_error(const struct sc_cmdopt_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A command with verbs (`stapcache cache stats`): parse *argv by top (which
 * sets stop_at_operand and min_args 1), take its first operand as the verb
 * among verbs[0..n) (the last word of each one's name), move *argc and
 * *argv to start at it, and parse them by the verb's spec, *verb. Returns
 * what that parse returns (the index of the verb's first operand in *argv),
 * or SC_CMDOPT_HELP / SC_CMDOPT_USAGE: an unknown verb is said on stderr
 * with the list of verbs, built from verbs, and the nearest one of a typo.
 */
int sc_cmdopt_verb(const struct sc_cmdopt_spec *top, const struct sc_cmdopt_spec *verbs,
		   size_t n, int *argc, char ***argv, const struct sc_cmdopt_spec **verb);

#endif
