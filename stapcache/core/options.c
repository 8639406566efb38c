/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/modinfo.h"
#include "common/parse.h"
#include "common/policy.h"
#include "core/options.h"

/*
 * When unsure whether an option changes the module, it is a key input: a hit
 * must never hand back a module that the same stap command line would not
 * have built. An option stap sees that is not a key input says why.
 */
const struct sc_opt sc_opts[] = {
	{'p', NULL, "NUM", SC_ROLE_OWN, .example = "4",
	 .help = "-p4: compile only and print the module's absolute path on stdout;\n"
		 "-p1..-p3 build no module: the real stap runs them; 5 (the\n"
		 "default) runs the module"},
	{'r', NULL, "RELEASE|DIR", SC_ROLE_KEY, SC_KEY_DERIVED, "kernel",
	 .example = "@TREE@",
	 .help = "kernel release or build tree (default: the running kernel)"},
	{'a', NULL, "ARCH", SC_ROLE_KEY, SC_KEY_DERIVED, "kernel.arch",
	 .example = "arm64", .help = "target architecture (default: this machine's)"},
	{'R', NULL, "DIR", SC_ROLE_KEY, SC_KEY_DERIVED, "runtime", .example = "@DIR@",
	 .help = "systemtap runtime directory (default: config.yaml, then stap's)"},
	{'m', NULL, "NAME", SC_ROLE_KEY, SC_KEY_DERIVED, "module", .example = "mymod",
	 .help = "module name (default: stap_ and 32 hex digits of the key)"},
	{'e', NULL, "SCRIPT", SC_ROLE_KEY, SC_KEY_DERIVED, "script",
	 .example = "probe begin { exit() }",
	 .help = "the script text (instead of a FILE)"},
	{'D', NULL, "NAME[=VALUE]", SC_ROLE_KEY, SC_KEY_VALUE, "define", "-D",
	 .example = "MAXACTION=10000", .help = "preprocessor definition for the module"},
	{'I', NULL, "DIR", SC_ROLE_KEY, SC_KEY_TREE, "include", "-I", .example = "@DIR@",
	 .help = "extra tapset directory (its files are key inputs)"},
	{'B', NULL, "NAME=VALUE", SC_ROLE_KEY, SC_KEY_VALUE, "kbuild", "-B",
	 .example = "V=1", .help = "kbuild make option"},
	{'g', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "guru", "-g", .help = "guru mode"},
	{'b', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "bulk", "-b",
	 .help = "bulk (per-cpu file) mode"},
	{'t', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "timing", "-t",
	 .help = "collect probe timing information"},
	{'u', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "unoptimized", "-u",
	 .help = "unoptimized translation"},
	{SC_OPT_PRIVILEGE, "privilege", "LEVEL", SC_ROLE_KEY, SC_KEY_VALUE, "privilege",
	 "--privilege=", .example = "stapusr", .help = "privilege level, as stap"},
	{SC_OPT_UNPRIVILEGED, "unprivileged", NULL, SC_ROLE_KEY, SC_KEY_VALUE,
	 "privilege", "--privilege=", .help = "--privilege=stapusr"},
	{SC_OPT_COMPATIBLE, "compatible", "VERSION", SC_ROLE_KEY, SC_KEY_VALUE,
	 "compatible", "--compatible=", .example = "4.0",
	 .help = "compatibility with an older stap"},
	{SC_OPT_SUPPRESS_HANDLER_ERRORS, "suppress-handler-errors", NULL, SC_ROLE_KEY,
	 SC_KEY_FLAG, "suppress-handler-errors", "--suppress-handler-errors",
	 .help = "as stap"},
	{SC_OPT_SUPPRESS_TIME_LIMITS, "suppress-time-limits", NULL, SC_ROLE_KEY,
	 SC_KEY_FLAG, "suppress-time-limits", "--suppress-time-limits",
	 .help = "as stap"},
	{SC_OPT_SKIP_BADVARS, "skip-badvars", NULL, SC_ROLE_KEY, SC_KEY_FLAG,
	 "skip-badvars", "--skip-badvars", .help = "as stap"},
	{'E', NULL, "SCRIPT", SC_ROLE_KEY, SC_KEY_VALUE, "script.extra", "-E",
	 .example = "probe end { }",
	 .help = "a script to run in addition to the main one (its text)"},
	{'d', NULL, "OBJECT", SC_ROLE_KEY, SC_KEY_FILE, "object", "-d",
	 .example = "/bin/ls",
	 .help = "add unwind/symbol data for OBJECT (its path and content;\n"
		 "under --sysroot, the sysroot's copy)"},
	{SC_OPT_LDD, "ldd", NULL, SC_ROLE_KEY, SC_KEY_LDD, "ldd", "--ldd",
	 .help = "add unwind/symbol data for the libraries every -d OBJECT\n"
		 "links (each library ldd resolves, by content)"},
	{SC_OPT_SYSROOT, "sysroot", "DIR", SC_ROLE_KEY, SC_KEY_VALUE, "sysroot",
	 "--sysroot=", .example = "/",
	 .help = "where the target's files are (-d objects are read there)"},
	{SC_OPT_SYSENV, "sysenv", "VAR=VALUE", SC_ROLE_KEY, SC_KEY_VALUE, "sysenv",
	 "--sysenv=", .example = "PATH=/usr/bin",
	 .help = "the target's value of an environment variable"},
	{SC_OPT_MODINFO, "modinfo", "NM=VAL", SC_ROLE_KEY, SC_KEY_VALUE, "modinfo",
	 "--modinfo", .example = "author=me",
	 .help = "a MODULE_INFO(NM,VAL) in the module"},
	{'w', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "no-warnings", "-w",
	 .help = "suppress warnings"},
	{'W', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "warnings-are-errors", "-W",
	 .help = "turn warnings into errors"},
	{'P', NULL, NULL, SC_ROLE_KEY, SC_KEY_FLAG, "prologue-searching", "-P",
	 .help = "prologue-searching for function probes"},
	{SC_OPT_PROLOGUE_SEARCHING, "prologue-searching", "WHEN", SC_ROLE_KEY,
	 SC_KEY_VALUE, "prologue-searching", "--prologue-searching=", .example = "always",
	 .help = "prologue-searching for function probes", .optional = true},
	/*
	 * stap's -T TIME adds a probe timer.ms(TIME*1000) { exit() } to the
	 * script: a key input. It has no spelling of its own: -T NUMBER comes
	 * here unless a known_hosts target has that name (see -T below).
	 */
	{SC_OPT_TIMEOUT, NULL, "TIME", SC_ROLE_KEY, SC_KEY_VALUE, "timeout", "-T",
	 .example = "5", .help = "stap's -T TIME: end the script after TIME seconds"},
	{SC_OPT_SALT, "salt", "S", SC_ROLE_KEY, SC_KEY_VALUE, "salt", .example = "2",
	 .help = "a deliberate extra key input: a distinct module for the same\n"
		 "script (e.g. to run it twice at once)"},
	{'G', NULL, "NAME=VALUE", SC_ROLE_RUN, .runner = "", .example = "greeting=hi",
	 .help = "run-time global (a module parameter; not a key input)"},
	{'c', NULL, "CMD", SC_ROLE_RUN, .runner = "-c", .example = "true",
	 .help = "run CMD while the probes are active (runner)"},
	{'x', NULL, "PID", SC_ROLE_RUN, .runner = "-x", .example = "1",
	 .help = "target() is PID (runner)"},
	{'o', NULL, "FILE", SC_ROLE_RUN, .runner = "-o", .example = "/dev/null",
	 .help = "send the script's output to FILE (runner; with -T or --output\n"
		 "json stapcache writes it: FILE.TARGET each with several targets)"},
	{'s', NULL, "MB", SC_ROLE_RUN, .runner = "-b", .example = "4",
	 .help = "buffer size in megabytes (runner)"},
	{'F', NULL, NULL, SC_ROLE_RUN, .runner = "-L",
	 .no_auth = "staprun-auth runs a module for the length of one session and "
		    "never leaves it loaded",
	 .help = "flight recorder: in memory (runner -L), or with -o in files\n"
		 "in the background (runner -D)"},
	{'S', NULL, "SIZE[,N]", SC_ROLE_RUN, .runner = "-S", .example = "1,2",
	 .no_auth = "stapcache runs staprun-auth with the output its own; a detached "
		    "run rotates its files on the target (--detach --rotate MB,N)",
	 .help = "-o files of at most SIZE MB, at most N of them (runner)"},
	{SC_OPT_TARGET_NAMESPACE, "target-namespace", "PID", SC_ROLE_RUN, .runner = "-N",
	 .example = "1", .no_auth = "staprun-auth does not set the target namespace",
	 .help = "the target namespaces are PID's (runner -N)"},
	{'v', NULL, NULL, SC_ROLE_PASS, .stap = "-v", .runner = "-v",
	 .why = "verbosity changes what stap and the runner print, not the module",
	 .help = "more progress on stderr (repeatable)"},
	{SC_OPT_VP, "vp", "NNNNN", SC_ROLE_PASS, .stap = "--vp", .example = "00200",
	 .why = "per-pass verbosity changes what stap prints, not the module",
	 .help = "per-pass verbosity (stap's, on a miss)"},
	/*
	 * Nothing to cache: these produce no kernel module, or do what only
	 * stap itself can (its own temporary directory, compile servers,
	 * coverage data, debuginfo downloads). The real stap runs the
	 * command line as given.
	 */
	{'l', NULL, "PROBE", SC_ROLE_EXEC, .example = "syscall.open*",
	 .why = "lists probes; builds no module", .help = "list matching probes (stap)"},
	{'L', NULL, "PROBE", SC_ROLE_EXEC, .example = "syscall.open*",
	 .why = "lists probes and their variables; builds no module",
	 .help = "list matching probes and local variables (stap)"},
	{SC_OPT_DUMP_PROBE_TYPES, "dump-probe-types", NULL, SC_ROLE_EXEC,
	 .why = "lists probe types; builds no module", .help = "(stap)"},
	{SC_OPT_DUMP_PROBE_ALIASES, "dump-probe-aliases", NULL, SC_ROLE_EXEC,
	 .why = "lists probe aliases; builds no module", .help = "(stap)"},
	{SC_OPT_DUMP_FUNCTIONS, "dump-functions", NULL, SC_ROLE_EXEC,
	 .why = "lists functions; builds no module", .help = "(stap)"},
	{SC_OPT_CHECK_VERSION, "check-version", NULL, SC_ROLE_EXEC,
	 .why = "its point is stap's warnings, which a cache hit would not print",
	 .help = "version-dependent syntax warnings (stap)"},
	{SC_OPT_RUNTIME_MODE, "runtime", "MODE", SC_ROLE_EXEC, .example = "bpf",
	 .why = "another runtime (bpf, dyninst) builds no kernel module",
	 .help = "pass-5 runtime mode (stap; --runtime=kernel is the default\n"
		 "and is cached)"},
	{SC_OPT_BPF, "bpf", NULL, SC_ROLE_EXEC,
	 .why = "a BPF program is no kernel module", .help = "--runtime=bpf (stap)"},
	{'k', NULL, NULL, SC_ROLE_EXEC,
	 .why = "keeps stap's temporary directory: only a build by stap itself has one",
	 .help = "keep stap's temporary directory (stap)"},
	{SC_OPT_TMPDIR, "tmpdir", "NAME", SC_ROLE_EXEC, .example = "/tmp/x",
	 .why = "names stap's temporary directory: only a build by stap itself has one",
	 .help = "stap's temporary directory (stap)"},
	{'q', NULL, NULL, SC_ROLE_EXEC,
	 .why = "stap itself collects the tapset coverage after the run",
	 .help = "tapset coverage (stap)"},
	{SC_OPT_ALL_MODULES, "all-modules", NULL, SC_ROLE_EXEC,
	 .why = "its input is whatever kernel modules are loaded at build time, "
		"which the key cannot fingerprint",
	 .help = "unwind/symbol data for all loaded kernel modules (stap)"},
	{SC_OPT_DOWNLOAD_DEBUGINFO, "download-debuginfo", "OPTION", SC_ROLE_EXEC,
	 .example = "no", .optional = true,
	 .why = "stap downloads debuginfo (ABRT) while it builds",
	 .help = "download debuginfo with ABRT (stap)"},
	{SC_OPT_SAVE_UPROBES, "save-uprobes", NULL, SC_ROLE_EXEC,
	 .why = "writes stap's uprobes.ko to the current directory",
	 .help = "save uprobes.ko here (stap)"},
	{SC_OPT_USE_SERVER, "use-server", "SERVER", SC_ROLE_EXEC, .example = "host",
	 .optional = true, .why = "a compile server builds the module, not this host",
	 .help = "compile on a compile server (stap)"},
	{SC_OPT_USE_SERVER_ON_ERROR, "use-server-on-error", "yes|no", SC_ROLE_EXEC,
	 .example = "yes", .optional = true,
	 .why = "a compile server may build the module, not this host",
	 .help = "retry on a compile server (stap)"},
	{SC_OPT_LIST_SERVERS, "list-servers", "PROPERTIES", SC_ROLE_EXEC,
	 .example = "all", .optional = true,
	 .why = "lists compile servers; builds no module", .help = "(stap)"},
	{SC_OPT_TRUST_SERVERS, "trust-servers", "TRUST", SC_ROLE_EXEC, .example = "ssl",
	 .optional = true, .why = "manages compile-server trust; builds no module",
	 .help = "(stap)"},
	/*
	 * stap's own spelling of a remote run, taken over: an ad-hoc target
	 * with no known_hosts entry, asked its uname -r/-m as stap --remote
	 * does, then built for and run like -T (stapcache/remote/frontend.c).
	 */
	{SC_OPT_STAP_REMOTE, "remote", "[ssh://]USER@HOST[:PORT]", SC_ROLE_OWN,
	 .example = "root@host",
	 .help = "an ad-hoc target (repeatable): ask it its kernel and arch,\n"
		 "build for it and run there as -T does (runner: --remote-runner)"},
	{SC_OPT_REMOTE_RUNNER, "remote-runner", "auth|sudo|direct", SC_ROLE_OWN,
	 .example = "auth",
	 .help = "for --remote: the runner there (default direct: staprun, as\n"
		 "stap --remote runs it)"},
	{SC_OPT_STAP_REMOTE_PREFIX, "remote-prefix", NULL, SC_ROLE_REFUSE,
	 .why = "stapcache's --remote and -T prefix lines with the target's name",
	 .hint = "with several targets each line is prefixed with its target's name",
	 .help = "(refused: several targets' lines are prefixed anyway)"},
	/*
	 * Remote runs: which targets and how to reach them. A target's
	 * known_hosts entry gives the kernel, arch and runtime the key sees (as
	 * -r/-a/-R would); the name itself is no key input, and neither stap nor
	 * the local runner sees these. stapcache-remote gets them from
	 * stapcache/remote/frontend.c.
	 */
	{'T', NULL, "TARGET|@GROUP", SC_ROLE_OWN, .example = "web1",
	 .help = "build for a stapcache-known_hosts(5) target and run there over\n"
		 "SSH (repeatable; with -p4 only build and print the paths);\n"
		 "a number that names no target is stap's -T TIME"},
	{SC_OPT_CONNECT_TIMEOUT, "connect-timeout", "SECONDS", SC_ROLE_OWN,
	 .example = "5", .help = "for -T: SSH connect timeout (default 10)"},
	{SC_OPT_IO_TIMEOUT, "io-timeout", "SECONDS", SC_ROLE_OWN, .example = "60",
	 .help = "for -T: give up on a connected target that answers\n"
		 "nothing for this long (default 30)"},
	{SC_OPT_JOBS, "jobs", "N", SC_ROLE_OWN, .example = "4",
	 .help = "for -T: targets run at once (default 64)"},
	{SC_OPT_OUTPUT, "output", "text|json", SC_ROLE_OWN, .example = "json",
	 .help = "json: one JSON object a line (each output line, each\n"
		 "one-liner event, a summary per target); default text"},
	{SC_OPT_BUILD_TIMEOUT, "build-timeout", "SECONDS", SC_ROLE_OWN, .example = "600",
	 .help = "on a miss, stop stap (its whole process group) after SECONDS\n"
		 "and cache nothing (0: no limit; default: build-timeout: in\n"
		 "config.yaml, else none)"},
	{SC_OPT_NO_PROGRESS, "no-progress", NULL, SC_ROLE_OWN,
	 .help = "no status line on stderr (a build's pass and time, each\n"
		 "target's state); there is none when stderr is not a terminal"},
	/* Run time, but stapcache's own: it stops the runner (run.c, remote/run.c). */
	{SC_OPT_DURATION, "duration", "SECONDS", SC_ROLE_OWN, .example = "2",
	 .help = "stop the run cleanly after SECONDS (the module is unloaded);\n"
		 "max-duration: in config.yaml caps it (the smaller wins)"},
	{SC_OPT_DETACH, "detach", NULL, SC_ROLE_OWN,
	 .help = "with -T and --duration: start the run on each target, print\n"
		 "its run id and return; it outlives the connection, its output\n"
		 "stays there (stapcache logs, ps, kill)"},
	{SC_OPT_ROTATE, "rotate", "MB,N", SC_ROLE_OWN, .example = "1,8",
	 .help = "with --detach: a new output file every MB MiB on the target,\n"
		 "the oldest removed beyond N files (default 64,16)"},
	/*
	 * stap's own cache options, given stapcache's meaning (ccache's
	 * CCACHE_DISABLE, CCACHE_RECACHE and a cleanup): stap(1) documents them,
	 * and scripts that pass them to stap keep working through the drop-in.
	 */
	{SC_OPT_DISABLE_CACHE, "disable-cache", NULL, SC_ROLE_EXEC,
	 .why = "the cache is off for this request: the real stap builds it, with "
		"config.yaml's runtime",
	 .help = "bypass the cache: the real stap does all of it (with\n"
		 "config.yaml's runtime)"},
	{SC_OPT_POISON_CACHE, "poison-cache", NULL, SC_ROLE_OWN,
	 .help = "build the module again and replace the cached entry"},
	{SC_OPT_CLEAN_CACHE, "clean-cache", NULL, SC_ROLE_OWN,
	 .help = "prune the cache to its size limit (max-size:) first"},
	{SC_OPT_EXPLAIN, "explain", NULL, SC_ROLE_OWN,
	 .help = "print the key record for this request; build nothing"},
	{SC_OPT_DUMP_OPTIONS, "dump-options", NULL, SC_ROLE_OWN,
	 .help = "print this table, one tab-separated line a row"},
	{'h', "help", NULL, SC_ROLE_OWN, .help = "this text (invoked as stap: stap's)"},
	{'V', "version", NULL, SC_ROLE_OWN, .help = "version (invoked as stap: stap's)"},
};
const size_t sc_opts_n = sizeof(sc_opts) / sizeof(sc_opts[0]);

const struct sc_opt *sc_opt_find(int id)
{
	for (size_t i = 0; i < sc_opts_n; i++)
		if (sc_opts[i].id == id)
			return &sc_opts[i];
	return NULL;
}

bool sc_opt_spelled(const struct sc_opt *o)
{
	return o->id < 256 || o->long_name;
}

void sc_opt_spelling(const struct sc_opt *o, char *buf, size_t n)
{
	const char *arg = o->metavar ? o->metavar : "";
	const char *open = o->optional ? "[=" : "=", *close = o->optional ? "]" : "";

	if (o->id < 256 && o->long_name)
		snprintf(buf, n, "-%c, --%s%s%s", o->id, o->long_name, *arg ? "=" : "",
			 arg);
	else if (o->id < 256)
		snprintf(buf, n, "-%c%s%s", o->id, *arg ? " " : "", arg);
	else
		snprintf(buf, n, "--%s%s%s%s", o->long_name, *arg ? open : "", arg,
			 *arg ? close : "");
}

void sc_opt_name(const struct sc_opt *o, char *buf, size_t n)
{
	if (o->id < 256)
		snprintf(buf, n, "-%c", o->id);
	else if (o->long_name)
		snprintf(buf, n, "--%s", o->long_name);
	else
		snprintf(buf, n, "-%c", o->stap ? o->stap[1] : '?');
}

static const char *role_name(enum sc_opt_role r)
{
	switch (r) {
	case SC_ROLE_KEY:
		return "key";
	case SC_ROLE_RUN:
		return "run";
	case SC_ROLE_PASS:
		return "pass";
	case SC_ROLE_OWN:
		return "own";
	case SC_ROLE_EXEC:
		return "exec";
	case SC_ROLE_REFUSE:
		return "refuse";
	}
	return "?";
}

static const char *key_name(enum sc_opt_key k)
{
	switch (k) {
	case SC_KEY_NONE:
		return "-";
	case SC_KEY_FLAG:
		return "flag";
	case SC_KEY_VALUE:
		return "value";
	case SC_KEY_TREE:
		return "tree";
	case SC_KEY_DERIVED:
		return "derived";
	case SC_KEY_FILE:
		return "file";
	case SC_KEY_LDD:
		return "ldd";
	}
	return "?";
}

void sc_dump_options(FILE *out)
{
	for (size_t i = 0; i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];
		char name[64];

		sc_opt_name(o, name, sizeof(name));
		fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", name,
			o->id < 256 && o->long_name ? o->long_name : "-",
			o->metavar ? o->metavar : "-", role_name(o->role),
			key_name(o->key), o->stap ? o->stap : "-",
			o->runner ? (*o->runner ? o->runner : "\"\"") : "-",
			o->why ? o->why : "-");
		for (const char *h = o->help; *h; h++) /* the help text on one line */
			fputc(*h == '\n' ? ' ' : *h, out);
		fputc('\n', out);
	}
}

void sc_usage(FILE *out)
{
	fputs("Usage: stapcache [OPTIONS] (-e SCRIPT | FILE) [ARGS...]\n"
	      "       stapcache -T TARGET|@GROUP ... [OPTIONS] (-e SCRIPT | FILE) [ARGS...]\n"
	      "       stapcache COMMAND [OPTIONS] [ARGS...]   (the commands are below;\n"
	      "                                             stapcache COMMAND --help)\n"
	      "\n"
	      "Compile a SystemTap script once and answer the same request from a cache.\n"
	      "Options that shape the module are key inputs; ARGS (@1, @2, ...) are too.\n"
	      "Options marked (stap) build no module: the real stap runs the command.\n"
	      "Invoked as stap (a symlink), it is a drop-in for stap; see stapcache(1).\n"
	      "\n",
	      out);
	for (size_t i = 0; i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];
		const char *h = o->help;
		char sp[64];

		if (!sc_opt_spelled(o))
			continue;
		sc_opt_spelling(o, sp, sizeof(sp));
		fprintf(out, "  %-20s", sp);
		if (strlen(sp) >= 20) /* no room for the space before the help text */
			fprintf(out, "\n  %-20s", "");
		/* Continuation lines of a help text line up under its first. */
		for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
			fprintf(out, "%.*s\n  %-20s", (int)(nl - h), h, "");
		fprintf(out, "%s%s\n", h, o->role == SC_ROLE_KEY ? " (key input)" : "");
		if (o->id == 'T') /* stap's meaning, which SC_OPT_TIMEOUT's row holds */
			fprintf(out, "  %-20s%s (key input)\n", "-T TIME",
				sc_opt_find(SC_OPT_TIMEOUT)->help);
	}
	fputs("\n"
	      "Files: $(sysconfdir)/stapcache/config.yaml, then\n"
	      "       $XDG_CONFIG_HOME/stapcache/config.yaml (settings; the user's wins),\n"
	      "       $XDG_CACHE_HOME/stapcache (the cache). See stapcache(1).\n",
	      out);
}

bool sc_request_has(const struct sc_request *req, int id, const char **value)
{
	bool found = false;

	for (size_t i = 0; i < req->n_opts; i++) {
		if (req->opts[i].opt->id != id)
			continue;
		found = true;
		if (value)
			*value = req->opts[i].value;
	}
	return found;
}

int sc_opt_push(struct sc_argv *a, const char *spelling, const struct sc_optarg *oa)
{
	size_t n = strlen(spelling);

	if (!oa->value && n && spelling[n - 1] == '=') /* an optional argument left out */
		return sc_argv_pushf(a, "%.*s", (int)(n - 1), spelling);
	if (!oa->value)
		return n ? sc_argv_push(a, spelling) : 0;
	if (n == 0)
		return sc_argv_push(a, oa->value);
	if (spelling[n - 1] == '=')
		return sc_argv_pushf(a, "%s%s", spelling, oa->value);
	return sc_argv_push(a, spelling) ?: sc_argv_push(a, oa->value);
}

static int strv_push(struct sc_strv *sv, const char *s)
{
	const char **nv = realloc(sv->v, (sv->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	nv[sv->n++] = s;
	sv->v = nv;
	return 0;
}

static int push_opt(struct sc_request *req, const struct sc_opt *o, const char *value)
{
	struct sc_optarg *n = realloc(req->opts, (req->n_opts + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[req->n_opts].opt = o;
	n[req->n_opts].value = value;
	req->opts = n;
	req->n_opts++;
	return 0;
}

void sc_options_free(struct sc_request *req)
{
	free(req->opts);
	free(req->args.v);
	free(req->targets.v);
	free(req->remotes.v);
	req->remotes.v = NULL;
	req->opts = NULL;
	req->args.v = NULL;
	req->targets.v = NULL;
}

struct option sc_opt_long(const struct sc_opt *o, int val)
{
	return (struct option){o->long_name,
			       !sc_opt_has_arg(o) ? no_argument
			       : o->optional      ? optional_argument
						  : required_argument,
			       NULL, val};
}

/* getopt's short and long option lists, from the table. */
static void getopt_spec(char *shorts, size_t n, struct option *longs)
{
	size_t s = 0, l = 0;

	shorts[s++] = '+'; /* stop at the script: what follows are its arguments */
	shorts[s++] = ':';
	for (size_t i = 0; i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];

		if (!sc_opt_spelled(o))
			continue;
		if (o->id < 256 && s + 3 < n) {
			shorts[s++] = (char)o->id;
			if (sc_opt_has_arg(o))
				shorts[s++] = ':';
		}
		if (o->long_name)
			longs[l++] = sc_opt_long(o, o->id);
	}
	shorts[s] = '\0';
	longs[l] = (struct option){NULL, 0, NULL, 0};
}

static int check_global(const char *arg, struct sc_error *err)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		sc_error_set(err, "-G '%s': expected NAME=VALUE", arg);
		return -EINVAL;
	}
	if (!sc_identifier_ok(arg, (size_t)(eq - arg))) {
		sc_error_set(err, "-G '%s': '%.*s' is not a global variable name", arg,
			     (int)(eq - arg), arg);
		return -EINVAL;
	}
	return 0;
}

/* A whole number in [min, max] for option name (sc_parse_int). */
static int int_arg(const char *name, const char *arg, int min, int max, int *out,
		   struct sc_error *err)
{
	long n;
	int r = sc_parse_int(name, arg, min, max, &n, err);

	if (r == 0)
		*out = (int)n;
	return r;
}

/* --rotate MB[,N]: staprun-auth -S's words, by its own parser (common/policy.c). */
static int rotate_arg(const char *arg, struct sc_request *req, struct sc_error *err)
{
	if (sc_policy_rotation_parse(arg, &req->rotate_mb, &req->rotate_files) < 0) {
		sc_error_set(err, "--rotate '%s': MB[,N] (MB 1-%d, N 1-%d)", arg,
			     SC_POLICY_ROTATE_MB_MAX, SC_POLICY_ROTATE_FILES_MAX);
		return -EINVAL;
	}
	return 0;
}

static int unsupported(int c, const char *arg, struct sc_error *err)
{
	if (c == '?' && arg)
		sc_error_set(
			err,
			"unknown option '%s': neither stapcache nor the stap it knows has it "
			"(see stapcache --help; invoked as stap, stap itself answers it)",
			arg);
	else if (c == ':' && arg)
		sc_error_set(err, "option '%s' needs a value (see stapcache --help)",
			     arg);
	else
		sc_error_set(err, "unknown option '-%c' (see stapcache --help)", c);
	return -EINVAL;
}

static int refused(const struct sc_opt *o, struct sc_error *err)
{
	char name[64];

	sc_opt_name(o, name, sizeof(name));
	sc_error_set(err, "%s is refused: %s; %s", name, o->why, o->hint);
	return -EINVAL;
}

/* The real stap gets this command line: nothing to cache. */
static void exec_stap(struct sc_request *req, const struct sc_opt *o, const char *why)
{
	req->exec_stap = true;
	req->exec = o;
	req->exec_why = why;
}

/* stap's -T TIME: a whole number of seconds. */
static bool is_time(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 9 && strspn(s, "0123456789") == n;
}

/* The options with a meaning of their own beyond their row. Returns 1 to exit 0. */
static int apply(struct sc_request *req, const struct sc_opt *o, const char *arg,
		 struct sc_error *err)
{
	switch (o->id) {
	case 'p':
		if (strlen(arg) != 1 || arg[0] < '1' || arg[0] > '5') {
			sc_error_set(err, "-p '%s': expected a pass number 1-5", arg);
			return -EINVAL;
		}
		req->last_pass = arg[0] - '0';
		if (req->last_pass < 4)
			exec_stap(req, o, "passes 1-3 build no module");
		return 0;
	case 'v':
		req->verbose++;
		return 0;
	case 'r':
		req->kernel = arg;
		return 0;
	case 'a':
		req->arch = arg;
		return 0;
	case 'R':
		req->runtime = arg;
		return 0;
	case 'm':
		req->module = arg;
		return 0;
	case 'e':
		if (req->script_text) {
			sc_error_set(err, "only one -e SCRIPT may be given");
			return -EINVAL;
		}
		req->script_text = arg;
		return 0;
	case 'G':
		return check_global(arg, err);
	case 'T':
		if (is_time(arg)) { /* main.c asks known_hosts whether it names a target */
			req->timeout = arg;
			return 0;
		}
		if (strv_push(&req->targets, arg) < 0) {
			sc_error_set(err, "out of memory");
			return -ENOMEM;
		}
		return 0;
	case SC_OPT_STAP_REMOTE:
		if (strv_push(&req->remotes, arg) < 0) {
			sc_error_set(err, "out of memory");
			return -ENOMEM;
		}
		return 0;
	case SC_OPT_REMOTE_RUNNER:
		if (strcmp(arg, "auth") && strcmp(arg, "sudo") && strcmp(arg, "direct")) {
			sc_error_set(err, "--remote-runner '%s': auth, sudo or direct",
				     arg);
			return -EINVAL;
		}
		req->remote_runner = arg;
		return 0;
	case SC_OPT_CONNECT_TIMEOUT:
		return int_arg("--connect-timeout", arg, 1, SC_REMOTE_CONNECT_TIMEOUT_MAX,
			       &req->connect_timeout, err);
	case SC_OPT_IO_TIMEOUT:
		return int_arg("--io-timeout", arg, 1, SC_REMOTE_CONNECT_TIMEOUT_MAX,
			       &req->io_timeout, err);
	case SC_OPT_JOBS:
		return int_arg("--jobs", arg, 1, SC_REMOTE_JOBS_MAX, &req->jobs, err);
	case SC_OPT_OUTPUT:
		if (strcmp(arg, "text") && strcmp(arg, "json")) {
			sc_error_set(err, "--output '%s': text or json", arg);
			return -EINVAL;
		}
		req->output_json = !strcmp(arg, "json");
		return 0;
	case 'o':
		req->output_file = arg;
		return 0;
	case SC_OPT_BUILD_TIMEOUT:
		return int_arg("--build-timeout", arg, 0, SC_BUILD_TIMEOUT_MAX,
			       &req->build_timeout, err);
	case SC_OPT_DURATION:
		return int_arg("--duration", arg, 1, (int)SC_MAX_DURATION, &req->duration,
			       err);
	case SC_OPT_DETACH:
		req->detach = true;
		return 0;
	case SC_OPT_ROTATE:
		return rotate_arg(arg, req, err);
	case SC_OPT_EXPLAIN:
		req->explain = true;
		return 0;
	case SC_OPT_POISON_CACHE:
		req->recache = true;
		return 0;
	case SC_OPT_CLEAN_CACHE:
		req->clean_cache = true;
		return 0;
	case SC_OPT_NO_PROGRESS:
		req->no_progress = true;
		return 0;
	case SC_OPT_DUMP_OPTIONS:
		sc_dump_options(stdout);
		return 1;
	case 'h':
		req->help = true; /* the command prints its own usage */
		return 1;
	case 'V':
		printf("stapcache %s\n", PACKAGE_VERSION);
		return 1;
	default:
		return 0;
	}
}

int sc_request_timeout_is_target(struct sc_request *req)
{
	size_t j = 0;

	if (!req->timeout)
		return 0;
	if (strv_push(&req->targets, req->timeout) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < req->n_opts; i++)
		if (req->opts[i].opt->id != SC_OPT_TIMEOUT)
			req->opts[j++] = req->opts[i];
	req->n_opts = j;
	req->timeout = NULL;
	return 0;
}

/* What one option does to req. Returns 0, 1 (exit 0), 2 (stop: exec stap) or -errno. */
static int one_option(struct sc_request *req, bool as_stap, const struct sc_opt *o,
		      const char *value, struct sc_error *err)
{
	int r;

	if (o->role == SC_ROLE_EXEC &&
	    !(o->id == SC_OPT_RUNTIME_MODE && value && !strcmp(value, "kernel"))) {
		exec_stap(req, o, o->why);
		return 2;
	}
	if (o->role == SC_ROLE_EXEC) /* --runtime=kernel: the default */
		return 0;
	if (o->role == SC_ROLE_REFUSE && as_stap) {
		exec_stap(req, o, o->why);
		return 2;
	}
	if (o->role == SC_ROLE_REFUSE)
		return refused(o, err);
	if (as_stap && (o->id == 'h' || o->id == 'V' || o->id == SC_OPT_DUMP_OPTIONS)) {
		exec_stap(req, o, "stap's own help and version");
		return 2;
	}
	if (o->id == SC_OPT_UNPRIVILEGED)
		value = "stapusr";
	r = apply(req, o, value, err);
	if (r != 0)
		return r;
	if (o->id == 'T' && req->timeout == value)
		o = sc_opt_find(SC_OPT_TIMEOUT);
	if (push_opt(req, o, value) < 0) {
		sc_error_set(err, "out of memory");
		return -ENOMEM;
	}
	return req->exec_stap ? 2 : 0;
}

int sc_opt_apply(struct sc_request *req, const struct sc_opt *o, const char *value,
		 struct sc_error *err)
{
	int r = apply(req, o, value, err);

	if (r < 0)
		return r;
	if (push_opt(req, o, value) < 0) {
		sc_error_set(err, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int parse(int argc, char **argv, bool as_stap, struct sc_request *req,
		 struct sc_error *err)
{
	struct option longs[sizeof(sc_opts) / sizeof(sc_opts[0]) + 1];
	char shorts[3 * sizeof(sc_opts) / sizeof(sc_opts[0]) + 3];
	int c, r;

	memset(req, 0, sizeof(*req));
	req->build_timeout = -1;
	req->last_pass = 5;
	getopt_spec(shorts, sizeof(shorts), longs);
	opterr = 0;
	optind = 0; /* 0, not 1: glibc then forgets the state of an earlier parse */
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct sc_opt *o = sc_opt_find(c);

		if (!o)
			return unsupported(c, argv[optind - 1], err);
		r = one_option(req, as_stap, o, optarg, err);
		if (r == 2)
			return 0;
		if (r != 0)
			return r;
	}
	if (!req->script_text) {
		if (optind >= argc) {
			sc_error_set(err, "no script: give -e SCRIPT or a script FILE "
					  "(see stapcache --help)");
			return -EINVAL;
		}
		req->script_file = argv[optind++];
	}
	for (; optind < argc; optind++)
		if (strv_push(&req->args, argv[optind]) < 0)
			return -ENOMEM;
	/* stap wants a C identifier; the kernel, at most SC_MODULE_NAME_MAX characters. */
	if (req->module && (strlen(req->module) > SC_MODULE_NAME_MAX ||
			    !sc_identifier_ok(req->module, strlen(req->module)))) {
		sc_error_set(err,
			     "-m '%s': a module name is 1-55 letters, digits or '_', "
			     "not starting with a digit",
			     req->module);
		return -EINVAL;
	}
	return 0;
}

int sc_options_parse_as(int argc, char **argv, bool as_stap, struct sc_request *req,
			struct sc_error *err)
{
	int r = parse(argc, argv, as_stap, req, err);

	/* Invoked as stap, what stapcache would refuse is stap's to answer. */
	if (as_stap && r == -EINVAL) {
		exec_stap(req, NULL,
			  err ? err->msg : "a command line stapcache would refuse");
		return 0;
	}
	return r;
}

int sc_options_parse(int argc, char **argv, struct sc_request *req, struct sc_error *err)
{
	return sc_options_parse_as(argc, argv, false, req, err);
}
