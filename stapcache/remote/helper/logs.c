/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache logs [-T TARGET|@GROUP]... [--follow] [--since CURSOR] RUN`:
 * what a detached run (stage.c, --detach) has written so far, fetched from
 * the login's run dir on each target, printed as a live run prints it (text,
 * "NAME: " before each line with several targets, or JSON lines).
 *
 * Pull, not push: the client asks, the target answers with a shell script
 * run as the login, so a target needs no credentials of any store and opens
 * no connection; the output stays readable only by the login and root.
 *
 * Resumable by a cursor per (target, run): the output file's number K (stapio
 * -S rotation writes out.0, out.1, ...; without it there is one "out", file
 * 0) and the byte offset OFF in it, kept under the cache dir
 * (logs/TARGET/RUN, "K OFF") and advanced only over whole lines printed;
 * --since K:OFF (or 0) starts elsewhere. The script reads the run's end
 * record first: a run that had ended then has all its output in the files,
 * and its last line is printed even without a newline.
 *
 * The answer, in lines: "@@NONCE run ID", then for each file from K on
 * "@@NONCE file K OFF SIZE", exactly SIZE - OFF bytes (tail | head: a file
 * that grows meanwhile is cut where it was measured), "\n@@NONCE eof"; then,
 * for an ended run, "@@NONCE end", its record (how=, status=, ended=) and
 * "@@NONCE stderr", the run's messages, "\n@@NONCE eof"; "@@NONCE done". The
 * nonce is random per call, so no output line can pass for a marker. The
 * line before an eof marker is the file's unterminated last line, or the
 * empty artifact of the '\n' before the marker.
 */
#include "build-config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "core/cmdopt.h"
#include "output/output.h"
#include "remote/helper/helper.h"
#include "remote/helper/logs.h"
#include "remote/helper/ssh.h"
#include "remote/helper/stage.h"
#include "remote/targets.h"

/* How long --follow waits between two looks at a run that goes on. */
#define SC_LOGS_FOLLOW_S 1

struct cursor {
	unsigned long file;
	unsigned long long off;
};

/* One target's fetch: the parser's state over the script's lines. */
struct fetch {
	struct sc_output *out;
	size_t t;        /* the target's index in out */
	char marker[40]; /* "@@NONCE " */
	size_t mlen;
	struct cursor at; /* where the next call starts */
	enum { F_HEAD, F_FILE, F_END, F_STDERR } mode;
	char *held; /* the last line of a file, until the next one or eof */
	size_t held_len;
	bool have_held;
	struct cursor cur; /* the file being read: its number and offset */
	bool ended, done, none, gap, seen_file;
	char how[32], status[16], run[96];
};

static bool is_marker(const struct fetch *f, const char *line, size_t len, const char *w)
{
	size_t wl = strlen(w);

	return len >= f->mlen + wl && !memcmp(line, f->marker, f->mlen) &&
	       !memcmp(line + f->mlen, w, wl);
}

static void print(struct fetch *f, bool is_stderr, const char *line, size_t len)
{
	sc_output_line(f->out, f->t, is_stderr, line, len);
}

/* A line of a file: the one held before it is whole now. */
static void content_line(struct fetch *f, const char *line, size_t len)
{
	if (f->have_held) {
		print(f, f->mode == F_STDERR, f->held, f->held_len);
		if (f->mode == F_FILE)
			f->cur.off += f->held_len + 1;
	}
	free(f->held);
	f->held = malloc(len ? len : 1);
	if (f->held)
		memcpy(f->held, line, len);
	f->held_len = len;
	f->have_held = f->held != NULL;
}

/* The eof marker: the held line is the file's unterminated end, or nothing. */
static void content_end(struct fetch *f)
{
	if (f->have_held && f->held_len && (f->ended || f->mode == F_STDERR)) {
		print(f, f->mode == F_STDERR, f->held, f->held_len);
		if (f->mode == F_FILE)
			f->cur.off += f->held_len;
	}
	if (f->mode == F_FILE)
		f->at = f->cur;
	free(f->held);
	f->held = NULL;
	f->have_held = false;
	f->mode = F_HEAD;
}

static void head_line(struct fetch *f, const char *line, size_t len)
{
	const char *w = line + f->mlen;
	unsigned long k;
	unsigned long long off;

	if (len == f->mlen + 4 && is_marker(f, line, len, "none")) {
		f->none = true;
	} else if (is_marker(f, line, len, "run ")) {
		snprintf(f->run, sizeof(f->run), "%.*s", (int)(len - f->mlen - 4), w + 4);
	} else if (len == f->mlen + 5 && is_marker(f, line, len, "ended")) {
		f->ended = true;
	} else if (is_marker(f, line, len, "file ") &&
		   sscanf(w + 5, "%lu %llu", &k, &off) == 2) {
		if (!f->seen_file && (k != f->at.file || off != f->at.off))
			f->gap = true; /* rotation's cap removed what was not fetched */
		f->seen_file = true;
		f->cur = (struct cursor){k, off};
		f->mode = F_FILE;
	} else if (len == f->mlen + 3 && is_marker(f, line, len, "end")) {
		f->mode = F_END;
	} else if (len == f->mlen + 4 && is_marker(f, line, len, "done")) {
		f->done = true;
	}
}

static void on_line(void *ud, int is_stderr, const char *line, size_t len)
{
	struct fetch *f = ud;

	if (is_stderr) {
		print(f, true, line, len);
		return;
	}
	if (f->mode == F_HEAD) {
		head_line(f, line, len);
	} else if (f->mode == F_END) {
		if (is_marker(f, line, len, "stderr"))
			f->mode = F_STDERR;
		else if (len > 4 && !strncmp(line, "how=", 4))
			snprintf(f->how, sizeof(f->how), "%.*s", (int)len - 4, line + 4);
		else if (len > 7 && !strncmp(line, "status=", 7))
			snprintf(f->status, sizeof(f->status), "%.*s", (int)len - 7,
				 line + 7);
	} else if (is_marker(f, line, len, "eof")) {
		content_end(f);
	} else {
		content_line(f, line, len);
	}
}

/* The script for run id (checked: MODULE@EPOCH) from cursor at. Caller frees. */
static char *logs_script(const struct fetch *f, const char *id)
{
	const char *epoch = strchr(id, '@') + 1;

	return sc_strdupf(
		"M='%s'; b=" SC_RUNS_DIR_SH "; r=$b/%s; if [ ! -d \"$r\" ]; then "
		"set -- \"$b\"/*@%s; [ $# = 1 ] && [ -d \"$1\" ] && r=$1; fi; "
		"[ -d \"$r\" ] && [ ! -L \"$r\" ] && [ -O \"$r\" ] && cd \"$r\" || "
		"{ echo \"${M}none\"; exit 0; }; e=; [ -f end ] && e=1; "
		"echo \"${M}run ${r##*/}\"; [ -z \"$e\" ] || echo \"${M}ended\"; l=$(ls | sed -n 's/^out\\.\\([0-9][0-9]*\\)$/\\1/p' "
		"| sort -n | tail -n 1); [ -n \"$l\" ] || l=0; k=%lu; o=%llu; "
		"while [ $k -le $l ]; do f=out.$k; [ $k = 0 ] && [ -f out ] && f=out; "
		"if [ -f \"$f\" ]; then s=$(stat -c %%s \"$f\"); [ \"$o\" -le \"$s\" ] || o=$s; "
		"echo \"${M}file $k $o $s\"; tail -c +$((o + 1)) \"$f\" | head -c $((s - o)); "
		"printf '\\n%%seof\\n' \"$M\"; fi; k=$((k + 1)); o=0; done; "
		"if [ -n \"$e\" ]; then echo \"${M}end\"; cat end; echo \"${M}stderr\"; "
		"head -c %u stderr; printf '\\n%%seof\\n' \"$M\"; fi; echo \"${M}done\"",
		f->marker, id, epoch, f->at.file, f->at.off, SC_DETACH_STDERR_MAX);
}

static char *cursor_path(const struct sc_helper_env *env, const char *target,
			 const char *run)
{
	return sc_strdupf("%s/logs/%s/%s", env->cache_dir, target, run);
}

static void cursor_load(const char *path, struct cursor *c)
{
	char *text = NULL;
	size_t len;

	*c = (struct cursor){0, 0};
	if (sc_read_file(path, 64, &text, &len) == 0 &&
	    sscanf(text, "%lu %llu", &c->file, &c->off) != 2)
		*c = (struct cursor){0, 0};
	free(text);
}

static int cursor_save(const char *path, const struct cursor *c)
{
	char buf[64], *dir = sc_strdupf("%s", path);
	int n = snprintf(buf, sizeof(buf), "%lu %llu\n", c->file, c->off), r;

	*strrchr(dir, '/') = '\0';
	r = sc_mkdir_p(dir, 0700);
	if (r == 0)
		r = sc_write_file_atomic(path, buf, (size_t)n, 0600, NULL);
	free(dir);
	return r;
}

/* --since K:OFF (or 0: from the start). Returns 0 or -EINVAL. */
static int parse_since(const char *s, struct cursor *c)
{
	char *end;

	errno = 0;
	c->file = strtoul(s, &end, 10);
	c->off = 0;
	if (end == s || errno)
		return -EINVAL;
	if (*end == ':') {
		s = end + 1;
		c->off = strtoull(s, &end, 10);
		if (end == s || errno)
			return -EINVAL;
	}
	return *end ? -EINVAL : 0;
}

/* The end record's how=, in words. */
static const char *how_words(const char *how)
{
	static const char *const words[][2] = {
		{"duration", "its duration was reached"},
		{"killed", "stopped (stapcache kill)"},
		{"exit", "the probe exited"},
		{"error", "it failed (its messages are above)"},
		{"interrupted", "interrupted while it started"},
		{"disk-full", "stopped: its filesystem there was nearly full"},
		{"stderr-full", "stopped: its messages (stderr) reached their cap"},
		{"lost",
		 "its shell on the target was killed (the run was still stopped at "
		 "its duration, if not before)"},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(how, words[i][0]))
			return words[i][1];
	return "it ended (no word why)";
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

struct one {
	const struct sc_target *t;
	struct sc_ssh *s;
	struct fetch f;
	char *cpath;
	bool finished; /* its end record was printed */
	bool failed;
};

/* One look at target o's run: print what is new, advance its cursor. 0 or 1. */
static int fetch_once(struct one *o, const char *id, const struct sc_helper_env *env)
{
	struct sc_error err = {{0}};
	struct fetch *f = &o->f;
	unsigned char rnd[8];
	char hex[17], *script;
	int st = 0, r;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return 1;
	sc_hex(hex, rnd, sizeof(rnd));
	snprintf(f->marker, sizeof(f->marker), "@@%s ", hex);
	f->mlen = strlen(f->marker);
	f->mode = F_HEAD;
	f->ended = f->done = f->none = f->gap = f->seen_file = false;
	f->how[0] = f->status[0] = '\0';
	script = logs_script(f, id);
	r = sc_ssh_stream(o->s, script, on_line, f, NULL, 5, &st, &err);
	free(script);
	free(f->held);
	f->held = NULL;
	f->have_held = false;
	if (r < 0 || st != 0 || (!f->done && !f->none)) {
		fprintf(stderr, "stapcache: logs: %s: %s\n", o->t->name,
			r < 0 ? err.msg : "the answer was cut short");
		return 1;
	}
	if (f->none) {
		fprintf(stderr,
			"stapcache: logs: %s: no run %s of %s there (a run's output is "
			"readable only by the user who started it)\n",
			o->t->name, id, o->t->ex.user ? o->t->ex.user : "this login");
		return 1;
	}
	if (f->gap)
		fprintf(stderr,
			"stapcache: logs: %s: some output was removed by the rotation's "
			"cap (-S SIZE,N) before it was fetched\n",
			o->t->name);
	if (cursor_save(o->cpath, &f->at) < 0)
		fprintf(stderr, "stapcache: logs: cannot save the position in %s\n",
			o->cpath);
	(void)env;
	return 0;
}

/*
 * --remove: the ended run's dir on the target (the login's, ended, its name
 * checked again there), then its position here; only the run asked for (id),
 * not one of another module that logs found by its start time alone.
 * Returns 0 or -1 after saying why.
 */
static int remove_run(struct one *o, const char *id)
{
	struct sc_error err = {{0}};
	/* o->f.run came from the target: only a run id is used in a path */
	char module[64], *script = NULL;
	int st = 1, r = -1;

	if (!sc_run_id_ok(o->f.run, module, sizeof(module))) {
		fprintf(stderr, "stapcache: logs: %s: not removed: odd run name '%s'\n",
			o->t->name, o->f.run);
		return -1;
	}
	if (strcmp(o->f.run, id) != 0) {
		fprintf(stderr,
			"stapcache: logs: %s: not removed: the run there is %s, not %s "
			"(stapcache logs -T %s --remove %s removes it)\n",
			o->t->name, o->f.run, id, o->t->name, o->f.run);
		return -1;
	}
	script = sc_strdupf("r=" SC_RUNS_DIR_SH
			    "/%s; [ -d \"$r\" ] && [ ! -L \"$r\" ] && "
			    "[ -O \"$r\" ] && [ -f \"$r/end\" ] && rm -rf \"$r\"",
			    o->f.run);
	if (sc_ssh_exec(o->s, script, NULL, 0, NULL, &st, &err) == 0 && st == 0) {
		r = 0;
		unlink(o->cpath);
		fprintf(stderr, "stapcache: logs: %s: removed run %s there\n", o->t->name,
			o->f.run);
	} else {
		fprintf(stderr, "stapcache: logs: %s: cannot remove run %s there: %s\n",
			o->t->name, o->f.run, err.msg[0] ? err.msg : "not an ended run");
	}
	free(script);
	return r;
}

int sc_helper_logs(int argc, char **argv, const struct sc_helper_env *env)
{
	struct sc_strv specs = {0};
	struct sc_request req = {0};
	const char *since = NULL;
	bool follow = false, remove = false;
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_LIST('T', NULL, "TARGET", &specs,
			       "the run's target (a known_hosts target or @GROUP); "
			       "repeat for more"),
		SC_CMDOPT_FLAG(0, "remove", &remove,
			       "once all of an ended run was printed, remove its dir\n"
			       "on the target (and the position kept here)"),
		SC_CMDOPT_FLAG('f', "follow", &follow,
			       "go on printing what comes until the run ends (Ctrl-C "
			       "stops following, not the run)"),
		SC_CMDOPT_STRING(0, "since", "K:OFF", &since,
				 "start at output file K, byte OFF (0: from the start)\n"
				 "instead of where the last logs ended"),
		SC_CMDOPT_ROW(SC_OPT_OUTPUT),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "logs",
		.synopsis = "[-T TARGET|@GROUP]... [--follow] [--since K:OFF] RUN",
		.about =
			"What the detached run RUN (stapcache --detach's id) has written\n"
			"so far on each target; a second call prints only what is new.\n"
			"Without -T: the targets the --detach that printed RUN noted.\n"
			"The run's end (how, status, messages) goes to stderr. Exit 1\n"
			"when a target could not be asked or has no such run of yours.",
		SC_CMDOPT_ROWS(opts),
		.min_args = 1,
		.max_args = 1,
		.req = &req,
	};
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	struct sc_output *out = NULL;
	struct one *ones = NULL;
	size_t *idx = NULL, n = 0;
	const char **names = NULL;
	char module[64], *noted = NULL;
	const char *id;
	int rc = 1, r = sc_cmdopt_parse(&spec, argc, argv);

	if (r < 0) {
		rc = sc_cmdopt_exit(r);
		goto out;
	}
	id = argv[r];
	if (!sc_run_id_ok(id, module, sizeof(module))) {
		rc = sc_cmdopt_usage_error(&spec, "'%s' is not a run id (MODULE@EPOCH)",
					   id);
		goto out;
	}
	struct cursor from = {0, 0};
	if (since && parse_since(since, &from) < 0) {
		rc = sc_cmdopt_usage_error(&spec, "--since '%s': K:OFF or K", since);
		goto out;
	}
	if (specs.n == 0 && sc_detached_targets(env, id, &noted, &specs) < 0) {
		rc = sc_cmdopt_usage_error(&spec,
					   "which target? -T TARGET (no --detach "
					   "here noted where %s runs)",
					   id);
		goto out;
	}
	if (sc_targets_load(env->known_hosts, &all, &err) < 0 ||
	    sc_targets_select(&all, specs.v, specs.n, &idx, &n, &err) < 0) {
		fprintf(stderr, "stapcache: logs: %s\n", err.msg);
		goto out;
	}
	ones = calloc(n, sizeof(*ones));
	names = calloc(n, sizeof(*names));
	if (!ones || !names)
		goto out;
	for (size_t i = 0; i < n; i++)
		names[i] = all.v[idx[i]].name;
	{
		struct sc_output_opts oo = {.json = req.output_json, .prefix = n > 1};

		if (sc_output_new(&oo, names, n, &out, &err) < 0) {
			fprintf(stderr, "stapcache: logs: %s\n", err.msg);
			goto out;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct one *o = &ones[i];
		struct sc_ssh_opts so = sc_helper_ssh_opts(env, all.v[idx[i]].name);

		o->t = &all.v[idx[i]];
		o->f.out = out;
		o->f.t = i;
		o->cpath = cursor_path(env, o->t->name, id);
		if (since)
			o->f.at = from;
		else
			cursor_load(o->cpath, &o->f.at);
		if (sc_ssh_connect(&o->t->ex, &so, &o->s, &err) < 0) {
			fprintf(stderr, "stapcache: logs: %s\n", err.msg);
			o->failed = true;
			rc = 1;
		}
	}
	for (;;) {
		bool more = false;

		for (size_t i = 0; i < n && !interrupted; i++) {
			struct one *o = &ones[i];

			if (o->failed || o->finished)
				continue;
			if (fetch_once(o, id, env)) {
				o->failed = true;
				rc = 1;
				continue;
			}
			if (o->f.ended || o->f.how[0]) {
				char line[256];
				int len =
					snprintf(line, sizeof(line),
						 "stapcache: logs: %s: run %s ended: %s, "
						 "status %s",
						 o->t->name, o->f.run,
						 how_words(o->f.how),
						 o->f.status[0] ? o->f.status : "?");

				print(&o->f, true, line, (size_t)len);
				o->finished = true;
				if (remove && remove_run(o, id) < 0)
					rc = 1;
			}
			more |= !o->finished;
		}
		if (!follow || !more || interrupted)
			break;
		sleep(SC_LOGS_FOLLOW_S);
	}
	if (interrupted && rc == 0)
		rc = 130;
	if (sc_output_finish(out, &err) < 0) {
		fprintf(stderr, "stapcache: logs: %s\n", err.msg);
		rc = rc ? rc : 1;
	}
out:
	for (size_t i = 0; ones && i < n; i++) {
		sc_ssh_free(ones[i].s);
		free(ones[i].cpath);
	}
	sc_output_free(out);
	free(ones);
	free(names);
	free(idx);
	free(specs.v);
	free(noted);
	sc_targets_clear(&all);
	sc_options_free(&req);
	return rc;
}

int sc_detached_targets(const struct sc_helper_env *env, const char *id, char **text,
			struct sc_strv *names)
{
	char *path = sc_strdupf("%s/" SC_DETACHED_DIR "/%s", env->cache_dir, id);
	size_t len, n = 0;
	int r = sc_read_file(path, 1u << 16, text, &len);

	free(path);
	if (r < 0)
		return r;
	for (size_t i = 0; i < len; i++)
		n += (*text)[i] == '\n';
	names->v = calloc(n + 1, sizeof(*names->v));
	if (!names->v)
		return -ENOMEM;
	names->n = 0;
	for (char *p = *text, *l; (l = strsep(&p, "\n"));)
		if (*l && names->n < n)
			names->v[names->n++] = l;
	return names->n ? 0 : -ENOENT;
}
