/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_OPTIONS_H
#define SC_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"
#include "common/spawn.h"

/*
 * The option table: one row per option, the only place an option is
 * described. Parsing (getopt's strings are built from it), the key record
 * (key.c), stap's argv (build.c), the runner's argv (run.c) and --help all
 * read these rows; tests/unit/test-options.c walks them.
 */

/*
 * What an option is for. Every option of the installed stap has a row
 * (tests/cli/dropin-options.sh reads `stap --help` to prove it).
 */
enum sc_opt_role {
	SC_ROLE_KEY,    /* shapes the module: a key input, and given to stap */
	SC_ROLE_RUN,    /* run time only: given to the runner, never to stap or the key */
	SC_ROLE_PASS,   /* given to stap, but does not change the module (why says why) */
	SC_ROLE_OWN,    /* stapcache's own: neither stap nor the runner sees it */
	SC_ROLE_EXEC,   /* nothing to cache (why says why): the real stap runs the
			   whole command line, with the same output and exit status */
	SC_ROLE_REFUSE, /* refused (why, and hint says what to do instead); invoked
			   as stap, the real stap runs it as for SC_ROLE_EXEC */
};

/* How a key-role option enters the key record. */
enum sc_opt_key {
	SC_KEY_NONE,
	SC_KEY_FLAG,  /* "option" field whose value is the row's label, once */
	SC_KEY_VALUE, /* a field labelled label per occurrence, with the value */
	SC_KEY_TREE, /* a field labelled label per occurrence: the directory's fingerprint */
	SC_KEY_DERIVED, /* key.c records it in its own right (kernel, runtime, module, script) */
	SC_KEY_FILE, /* a field labelled label per occurrence: the path (under
			   --sysroot) and the SHA-256 of the file's content */
	SC_KEY_LDD,  /* a flag, and every library ldd resolves for each
			   SC_KEY_FILE object, by content */
};

enum sc_opt_id {
	/* Short options are their character; long-only ones count from here. */
	SC_OPT_EXPLAIN = 256,
	SC_OPT_SALT,
	SC_OPT_PRIVILEGE,
	SC_OPT_UNPRIVILEGED,
	SC_OPT_COMPATIBLE,
	SC_OPT_SUPPRESS_HANDLER_ERRORS,
	SC_OPT_SUPPRESS_TIME_LIMITS,
	SC_OPT_SKIP_BADVARS,
	SC_OPT_CONNECT_TIMEOUT,
	SC_OPT_IO_TIMEOUT,
	SC_OPT_JOBS,
	SC_OPT_REMOTE_RUNNER,
	SC_OPT_DUMP_OPTIONS,
	SC_OPT_OUTPUT,
	SC_OPT_BUILD_TIMEOUT,
	SC_OPT_NO_PROGRESS,
	SC_OPT_TIMEOUT, /* -T TIME in stap's meaning: no spelling of its own (see -T) */
	/* stap's long-only options */
	SC_OPT_VP,
	SC_OPT_MODINFO,
	SC_OPT_LDD,
	SC_OPT_ALL_MODULES,
	SC_OPT_RUNTIME_MODE,
	SC_OPT_BPF,
	SC_OPT_PROLOGUE_SEARCHING,
	SC_OPT_CHECK_VERSION,
	SC_OPT_USE_SERVER,
	SC_OPT_LIST_SERVERS,
	SC_OPT_TRUST_SERVERS,
	SC_OPT_USE_SERVER_ON_ERROR,
	SC_OPT_STAP_REMOTE,
	SC_OPT_STAP_REMOTE_PREFIX,
	SC_OPT_TMPDIR,
	SC_OPT_DOWNLOAD_DEBUGINFO,
	SC_OPT_DUMP_PROBE_TYPES,
	SC_OPT_DUMP_PROBE_ALIASES,
	SC_OPT_DUMP_FUNCTIONS,
	SC_OPT_SYSROOT,
	SC_OPT_SYSENV,
	SC_OPT_SAVE_UPROBES,
	SC_OPT_TARGET_NAMESPACE,
	SC_OPT_DURATION,
	SC_OPT_DETACH,
	SC_OPT_ROTATE,
	SC_OPT_DISABLE_CACHE,
	SC_OPT_POISON_CACHE,
	SC_OPT_CLEAN_CACHE,
};

struct sc_opt {
	int id;                /* enum sc_opt_id, or the short option's character */
	const char *long_name; /* NULL: none */
	const char *metavar;   /* the argument's name in --help; NULL: no argument */
	enum sc_opt_role role;
	enum sc_opt_key key;
	const char *label; /* record label (SC_KEY_VALUE, SC_KEY_TREE) or flag name */
	/*
	 * stap's spelling (NULL: stap never sees it; SC_KEY_DERIVED rows are
	 * spelled by build.c). A spelling ending in '=' takes the value glued
	 * on; otherwise an option with an argument gets it as the next word.
	 */
	const char *stap;
	const char *runner;  /* the runner's spelling, same rules; "" : the value alone */
	const char *why;     /* PASS: why the module does not change; EXEC, REFUSE: why */
	const char *hint;    /* REFUSE: what to do instead */
	const char *no_auth; /* RUN: why staprun-auth cannot do it (NULL: it can) */
	const char *example; /* a valid argument, for tests ("@DIR@": a directory) */
	const char *help;
	bool optional; /* a long option whose argument is optional (--x[=ARG]) */
};

/* The rows, in the order --help shows them and the key records them. */
extern const struct sc_opt sc_opts[];
extern const size_t sc_opts_n;

/* One option as given on the command line. */
struct sc_optarg {
	const struct sc_opt *opt;
	const char *value; /* borrowed from argv; NULL for a flag */
};

/* A growable list of borrowed strings (they point into argv). */
struct sc_strv {
	const char **v;
	size_t n;
};

/* The ranges --connect-timeout (and --io-timeout) and --jobs accept (stapcache-remote checks them again). */
#define SC_REMOTE_CONNECT_TIMEOUT_MAX 3600
#define SC_BUILD_TIMEOUT_MAX 604800 /* a week */
#define SC_REMOTE_JOBS_MAX 4096
/*
 * A detached run's output on the target without --rotate: a new file every
 * 64 MiB, at most 16 kept (1 GiB a run; staprun-auth -S bounds both).
 */
#define SC_DETACH_ROTATE_MB 64
#define SC_DETACH_ROTATE_FILES 16

/* A stap-compatible request: what to compile, for what, and what to do with it. */
struct sc_request {
	struct sc_optarg *opts; /* every option given, in order */
	size_t n_opts;
	/* Read from opts once, for the code that needs them by name. */
	int last_pass;           /* 4 for -p4; 5 (the default) means run */
	int verbose;             /* -v count */
	bool explain;            /* --explain: print the key record, build nothing */
	const char *kernel;      /* -r RELEASE or BUILD-TREE */
	const char *arch;        /* -a */
	const char *runtime;     /* -R */
	const char *module;      /* -m */
	const char *script_text; /* -e */
	const char *script_file; /* FILE (or "-" for stdin) */
	struct sc_strv args;     /* @1 @2 ... */
	/* Remote runs (stapcache/remote/), from the OWN rows -T, --connect-timeout, --jobs. */
	struct sc_strv targets;    /* -T NAME or @GROUP, in order */
	struct sc_strv remotes;    /* --remote [ssh://]USER@HOST[:PORT]: ad-hoc targets */
	const char *remote_runner; /* --remote-runner auth|sudo|direct; NULL: direct */
	const char *timeout;       /* -T TIME (stap's meaning; SC_OPT_TIMEOUT's row) */
	/*
	 * The request is stap's business (an SC_ROLE_EXEC row, -p1..-p3, or
	 * invoked as stap: a refused or unknown option, --help, --version, a
	 * bad command line): exec the real stap with the original argv.
	 */
	const struct sc_opt *exec; /* the row that decided it; NULL for the others */
	bool exec_stap;
	const char *exec_why; /* why, for -v */
	int connect_timeout;  /* --connect-timeout SECONDS; 0: the helper's default */
	int io_timeout;       /* --io-timeout SECONDS; 0: the helper's default */
	int jobs;             /* --jobs N: targets at once; 0: the helper's default */
	/* What becomes of the run's output (stapcache/output.c). */
	bool output_json;        /* --output json */
	const char *output_file; /* -o FILE */
	/*
	 * Set by the caller, not the parser: stapcache reads the output itself
	 * (supervised local run, -T), so -o is its own and the runner never
	 * sees it; and the script is a one-liner's (stapcache trace).
	 */
	bool output_here;
	bool trace;
	int duration; /* --duration SECONDS: stop the run then; 0: no limit */
	bool detach;  /* --detach: -T runs outlive the connection (needs --duration) */
	unsigned rotate_mb,
		rotate_files; /* --rotate MB,N: a detached run's files (0: default) */
	int build_timeout;    /* --build-timeout SECONDS (0: none); -1: config.yaml's */
	bool no_progress;     /* --no-progress: no status line, even on a terminal */
	bool help;        /* -h, --help: the parser returned 1; the caller prints it */
	bool recache;     /* --poison-cache: rebuild and replace the entry */
	bool clean_cache; /* --clean-cache: prune the cache to its limit first */
};

/*
 * Parse a stap-style command line (argv[0] is the program). Returns 0 and
 * fills req, -EINVAL with err describing the first problem, or 1 when the
 * program should exit 0: --version or --dump-options was printed, or
 * --help was given (req->help: the command prints its own usage).
 * When req->exec_stap is set on return 0, the rest of req may be partial:
 * the command line belongs to the real stap.
 */
int sc_options_parse(int argc, char **argv, struct sc_request *req, struct sc_error *err);

/*
 * The same, invoked as stap (as_stap: the masquerade): nothing is refused
 * and nothing is printed; whatever stapcache would not cache (a refused or
 * unknown option, --help, --version, a bad command line) sets exec_stap and
 * returns 0, so that the real stap answers it exactly as it would.
 */
int sc_options_parse_as(int argc, char **argv, bool as_stap, struct sc_request *req,
			struct sc_error *err);

/*
 * -T TIME was taken for stap's meaning (a number); a known_hosts target of
 * that name makes it a target after all: move it to req->targets. Returns 0
 * or -ENOMEM.
 */
int sc_request_timeout_is_target(struct sc_request *req);

/* The row of option id (enum sc_opt_id or its letter); NULL when there is none. */
const struct sc_opt *sc_opt_find(int id);

/* getopt_long's entry for row o's long name, returning val. */
struct option sc_opt_long(const struct sc_opt *o, int val);

/* Has the row a spelling of its own (not SC_OPT_TIMEOUT's, which -T reaches)? */
bool sc_opt_spelled(const struct sc_opt *o);

/* The row's spelling for --help: "-r, --kernel=RELEASE", "--jobs=N". */
void sc_opt_spelling(const struct sc_opt *o, char *buf, size_t n);

/*
 * One occurrence of row o with value (NULL for a flag) into req, as the
 * parser would record it (for a subcommand that borrows rows: cmdopt.h).
 * Returns 0, or -errno with err describing the problem.
 */
int sc_opt_apply(struct sc_request *req, const struct sc_opt *o, const char *value,
		 struct sc_error *err);

/* The row's spelling for messages: "-d", "--ldd". */
void sc_opt_name(const struct sc_opt *o, char *buf, size_t n);

/*
 * --dump-options: one line a row, tab-separated: name, long name (of a
 * short option that has one), argument, role, key kind, stap's spelling,
 * the runner's, why, help ("-" for none).
 */
void sc_dump_options(FILE *out);

/* Free what sc_options_parse allocated (the lists, not the strings). */
void sc_options_free(struct sc_request *req);

/* Does req hold option id? The value of its last occurrence goes to *value. */
bool sc_request_has(const struct sc_request *req, int id, const char **value);

/*
 * Append oa to a as spelling (a row's stap or runner spelling) says: a flag
 * as itself; a value glued on after a spelling that ends in '=', alone for
 * "", else as the next word. Returns 0 or -ENOMEM.
 */
int sc_opt_push(struct sc_argv *a, const char *spelling, const struct sc_optarg *oa);

/* --help, generated from the table. */
void sc_usage(FILE *out);

/* Does this row's option take an argument? */
static inline bool sc_opt_has_arg(const struct sc_opt *o)
{
	return o->metavar != NULL;
}

#endif
