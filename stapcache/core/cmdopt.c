/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The subcommands' option parser: a spec's rows become getopt_long's tables,
 * values land where the rows say, and every command answers --help and
 * usage errors the same way (cmdopt.h).
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "core/cmdopt.h"

/* getopt's value of spec->opts[i]; the compile table's rows keep their own ids. */
#define OWN_ID(i) (1000 + (int)(i))
#define HELP_ID 999

static const char *prog(const struct sc_cmdopt_spec *spec)
{
	return spec->prog ? spec->prog : "stapcache";
}

static const struct sc_opt *row_of(const struct sc_cmdopt *o)
{
	return o->type == SC_CMDOPT_IS_ROW ? sc_opt_find(o->row) : NULL;
}

static int short_of(const struct sc_cmdopt *o)
{
	const struct sc_opt *row = row_of(o);

	return row ? (row->id < 256 ? row->id : 0) : o->short_name;
}

static const char *long_of(const struct sc_cmdopt *o)
{
	const struct sc_opt *row = row_of(o);

	return row ? row->long_name : o->long_name;
}

static const char *metavar_of(const struct sc_cmdopt *o)
{
	const struct sc_opt *row = row_of(o);

	return row ? row->metavar : o->metavar;
}

static bool own_short(const struct sc_cmdopt_spec *spec, int c)
{
	for (size_t i = 0; i < spec->nopts; i++)
		if (short_of(&spec->opts[i]) == c)
			return true;
	return c == 'h';
}

static bool own_long(const struct sc_cmdopt_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->nopts; i++)
		if (long_of(&spec->opts[i]) && !strcmp(long_of(&spec->opts[i]), name))
			return true;
	return !strcmp(name, "help");
}

static void add_short(char *shorts, size_t *s, int c, bool arg)
{
	shorts[(*s)++] = (char)c;
	if (arg)
		shorts[(*s)++] = ':';
}

/*
 * getopt's tables: the spec's rows, --help, and with spec->compile every
 * spelled row of the compile table that the spec does not override.
 * Returns 0 or -ENOMEM; the caller frees *longs and *shorts.
 */
static int tables(const struct sc_cmdopt_spec *spec, struct option **longs, char **shorts)
{
	size_t nl = 0, s = 0, max = spec->nopts + 2 + (spec->compile ? sc_opts_n : 0);
	struct option *l = calloc(max, sizeof(*l));
	char *sh = malloc(3 * max + 4);

	if (!l || !sh) {
		free(l);
		free(sh);
		return -ENOMEM;
	}
	if (spec->stop_at_operand)
		sh[s++] = '+';
	sh[s++] = ':';
	add_short(sh, &s, 'h', false);
	l[nl++] = (struct option){"help", no_argument, NULL, HELP_ID};
	for (size_t i = 0; i < spec->nopts; i++) {
		const struct sc_cmdopt *o = &spec->opts[i];
		const struct sc_opt *row = row_of(o);
		bool arg = metavar_of(o) != NULL;

		if (short_of(o))
			add_short(sh, &s, short_of(o), arg);
		if (row && row->long_name)
			l[nl++] = sc_opt_long(row, OWN_ID(i));
		else if (o->long_name)
			l[nl++] = (struct option){o->long_name,
						  arg ? required_argument : no_argument,
						  NULL, OWN_ID(i)};
	}
	for (size_t i = 0; spec->compile && i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];

		if (!sc_opt_spelled(o))
			continue;
		if (o->id < 256 && !own_short(spec, o->id))
			add_short(sh, &s, o->id, sc_opt_has_arg(o));
		if (o->long_name && !own_long(spec, o->long_name))
			l[nl++] = sc_opt_long(o, o->id);
	}
	sh[s] = '\0';
	l[nl] = (struct option){NULL, 0, NULL, 0};
	*longs = l;
	*shorts = sh;
	return 0;
}

int sc_cmdopt_usage_error(const struct sc_cmdopt_spec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", prog(spec), *spec->name ? " " : "", spec->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", prog(spec), *spec->name ? " " : "",
		spec->name);
	return 2;
}

static void option_line(FILE *out, int sh, const char *lo, const char *metavar,
			const char *help)
{
	char sp[64];

	if (sh && lo)
		snprintf(sp, sizeof(sp), "-%c, --%s%s%s", sh, lo, metavar ? " " : "",
			 metavar ? metavar : "");
	else if (sh)
		snprintf(sp, sizeof(sp), "-%c%s%s", sh, metavar ? " " : "",
			 metavar ? metavar : "");
	else
		snprintf(sp, sizeof(sp), "--%s%s%s", lo, metavar ? " " : "",
			 metavar ? metavar : "");
	fprintf(out, "  %-22s", sp);
	if (strlen(sp) >= 22)
		fprintf(out, "\n  %-22s", "");
	for (const char *nl; (nl = strchr(help, '\n')); help = nl + 1)
		fprintf(out, "%.*s\n  %-22s", (int)(nl - help), help, "");
	fprintf(out, "%s\n", help);
}

void sc_cmdopt_usage(const struct sc_cmdopt_spec *spec, FILE *out)
{
	const char *form = spec->synopsis ? spec->synopsis : "";

	for (bool first = true; first || *form; first = false) {
		const char *nl = strchr(form, '\n');
		int len = nl ? (int)(nl - form) : (int)strlen(form);

		fprintf(out, "%s %s%s%s%s%.*s\n", first ? "Usage:" : "      ", prog(spec),
			*spec->name ? " " : "", spec->name, len ? " " : "", len, form);
		form += len + (nl ? 1 : 0);
	}
	if (spec->about)
		fprintf(out, "\n%s\n", spec->about);
	fputs("\nOptions:\n", out);
	for (size_t i = 0; i < spec->nopts; i++) {
		const struct sc_cmdopt *o = &spec->opts[i];
		const struct sc_opt *row = row_of(o);

		option_line(out, short_of(o), long_of(o), metavar_of(o),
			    row ? row->help : o->help);
	}
	option_line(out, 'h', "help", NULL, "show this help and exit");
	if (spec->compile || spec->compile_options)
		fputs("\nand every option of the compile command (stapcache --help).\n",
		      out);
}

/* The value of spec->opts[i] into where it goes. Returns 0 or SC_CMDOPT_USAGE. */
static int store(const struct sc_cmdopt_spec *spec, const struct sc_cmdopt *o,
		 const char *value)
{
	struct sc_error err = {{0}};
	char name[64];
	long n;

	if (long_of(o))
		snprintf(name, sizeof(name), "--%s", long_of(o));
	else
		snprintf(name, sizeof(name), "-%c", short_of(o));
	switch (o->type) {
	case SC_CMDOPT_IS_FLAG:
		*(bool *)o->out = true;
		return 0;
	case SC_CMDOPT_IS_COUNT:
		++*(int *)o->out;
		return 0;
	case SC_CMDOPT_IS_STRING:
		*(const char **)o->out = value;
		return 0;
	case SC_CMDOPT_IS_LIST: {
		struct sc_strv *v = o->out;
		const char **nv = realloc(v->v, (v->n + 2) * sizeof(*nv));

		if (!nv) {
			sc_error_set(&err, "out of memory");
			break;
		}
		nv[v->n++] = value;
		nv[v->n] = NULL;
		v->v = nv;
		return 0;
	}
	case SC_CMDOPT_IS_INT:
		if (sc_parse_int(name, value, o->min, o->max, &n, &err) < 0)
			break;
		*(int *)o->out = (int)n;
		return 0;
	case SC_CMDOPT_IS_LONG:
		if (sc_parse_int(name, value, o->min, o->max, o->out, &err) < 0)
			break;
		return 0;
	case SC_CMDOPT_IS_SIZE:
		if (sc_parse_size(value, o->out, &err) < 0)
			break;
		return 0;
	case SC_CMDOPT_IS_ROW:
		if (sc_opt_apply(spec->req, row_of(o), value, &err) < 0)
			break;
		return 0;
	}
	sc_cmdopt_usage_error(spec, "%s", err.msg);
	return SC_CMDOPT_USAGE;
}

/* A compile option for spec->compile, spelled so that the compile parser reads it back. */
static int pass_on(const struct sc_cmdopt_spec *spec, int id, const char *value)
{
	const struct sc_opt *o = sc_opt_find(id);
	int r;

	if (o->id < 256)
		r = sc_argv_pushf(spec->compile, "-%c", o->id);
	else if (value && o->optional)
		return sc_argv_pushf(spec->compile, "--%s=%s", o->long_name, value);
	else
		r = sc_argv_pushf(spec->compile, "--%s", o->long_name);
	return r ?: (value ? sc_argv_push(spec->compile, value) : 0);
}

static int bad_option(const struct sc_cmdopt_spec *spec, int c, char **argv)
{
	const char *given = argv[optind - 1];

	if (c == ':')
		return sc_cmdopt_usage_error(spec, "option '%s' needs an argument",
					     given);
	if (optopt && optopt < 256 && given[0] == '-' && given[1] != '-')
		return sc_cmdopt_usage_error(spec, "unknown option '-%c'", optopt);
	return sc_cmdopt_usage_error(spec, "unknown option '%s'", given);
}

int sc_cmdopt_parse(const struct sc_cmdopt_spec *spec, int argc, char **argv)
{
	struct option *longs = NULL;
	char *shorts = NULL;
	int c, r = SC_CMDOPT_USAGE, n;

	if (tables(spec, &longs, &shorts) < 0) {
		fprintf(stderr, "%s %s: out of memory\n", prog(spec), spec->name);
		return SC_CMDOPT_USAGE;
	}
	opterr = 0;
	optind = 0; /* 0, not 1: glibc forgets an earlier parse's state */
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == 'h' || c == HELP_ID) {
			sc_cmdopt_usage(spec, stdout);
			r = SC_CMDOPT_HELP;
			goto out;
		}
		if (c == '?' || c == ':') {
			bad_option(spec, c, argv);
			goto out;
		}
		if (c >= OWN_ID(0) && c < OWN_ID(spec->nopts)) {
			if (store(spec, &spec->opts[c - OWN_ID(0)], optarg) < 0)
				goto out;
			continue;
		}
		for (size_t i = 0; i < spec->nopts && c < 256; i++)
			if (short_of(&spec->opts[i]) == c) {
				if (store(spec, &spec->opts[i], optarg) < 0)
					goto out;
				goto next;
			}
		if (pass_on(spec, c, optarg) < 0) {
			sc_cmdopt_usage_error(spec, "out of memory");
			goto out;
		}
next:;
	}
	n = argc - optind;
	if (n < spec->min_args) {
		sc_cmdopt_usage_error(spec, "missing an argument");
		goto out;
	}
	if (spec->max_args >= 0 && n > spec->max_args) {
		sc_cmdopt_usage_error(spec, "unexpected argument '%s'",
				      argv[optind + spec->max_args]);
		goto out;
	}
	r = optind;
out:
	free(longs);
	free(shorts);
	return r;
}

/* A verb's word: the last of its spec's name ("cache prune" -> "prune"). */
static const char *verb_word(const struct sc_cmdopt_spec *spec)
{
	const char *sp = strrchr(spec->name, ' ');

	return sp ? sp + 1 : spec->name;
}

/* "unknown verb 'X' (a, b or c)", with the nearest verb when X is a typo. */
static void unknown_verb(const struct sc_cmdopt_spec *top,
			 const struct sc_cmdopt_spec *verbs, size_t n, const char *word)
{
	char list[512], near[64];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; i < n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
					 i == 0 ? "" : ", ", verb_word(&verbs[i]));
	if (sc_nearest_word(word, list, near, sizeof(near)) == 0)
		sc_cmdopt_usage_error(top, "unknown verb '%s'; did you mean '%s'? (%s)",
				      word, near, list);
	else
		sc_cmdopt_usage_error(top, "unknown verb '%s' (%s)", word, list);
}

int sc_cmdopt_verb(const struct sc_cmdopt_spec *top, const struct sc_cmdopt_spec *verbs,
		   size_t n, int *argc, char ***argv, const struct sc_cmdopt_spec **verb)
{
	int r = sc_cmdopt_parse(top, *argc, *argv);

	if (r < 0)
		return r;
	*verb = NULL;
	if (r >= *argc) { /* top lets a verb be left out: say which there are */
		unknown_verb(top, verbs, n, "");
		return SC_CMDOPT_USAGE;
	}
	for (size_t i = 0; i < n && !*verb; i++)
		if (!strcmp(verb_word(&verbs[i]), (*argv)[r]))
			*verb = &verbs[i];
	if (!*verb) {
		unknown_verb(top, verbs, n, (*argv)[r]);
		return SC_CMDOPT_USAGE;
	}
	*argc -= r;
	*argv += r;
	return sc_cmdopt_parse(*verb, *argc, *argv);
}
