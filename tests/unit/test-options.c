/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The option table, walked row by row: every key input changes the key and
 * reaches stap; every other option that reaches stap says why the module does
 * not change; run-time options reach the runner and never stap or the key.
 */
#include "build-config.h"

#include <errno.h>

#include "cache/build.h"
#include "run/runner.h"
#include "tests/lib/tap.h"
#include "fixture.h"

/* The row's example, with @DIR@ and @TREE@ made real. */
static const char *example(struct fixture *f, const struct sc_opt *o)
{
	if (!o->example)
		return NULL;
	if (!strcmp(o->example, "@DIR@"))
		return fx_path(f, "dir2");
	if (!strcmp(o->example, "@TREE@"))
		return fx_path(f, "tree2");
	return o->example;
}

static void spell(const struct sc_opt *o, char *buf, size_t n)
{
	sc_opt_name(o, buf, n);
}

/* Parse args (after the program's name), as stapcache or as stap. */
static int parse_as(const char *const *args, bool as_stap, struct sc_request *req,
		    struct sc_error *err)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = (char *)(as_stap ? "/some/bin/stap" : "stapcache");
	while (*args && argc < 63)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return sc_options_parse_as(argc, argv, as_stap, req, err);
}

/*
 * An exec row hands the command line to the real stap, as stapcache and as
 * stap; a refused row is refused with its reason and hint, except as stap.
 */
static void check_exec_row(struct fixture *f, const struct sc_opt *o)
{
	const char *ex = example(f, o), *args[8];
	struct sc_request req;
	struct sc_error err = {{0}};
	char sp[64], glued[128];
	size_t n = 0;
	int r;

	spell(o, sp, sizeof(sp));
	if (ex && o->id >= 256) { /* long options take theirs glued on: --x=ARG */
		snprintf(glued, sizeof(glued), "%s=%s", sp, ex);
		args[n++] = glued;
	} else {
		args[n++] = sp;
		if (ex)
			args[n++] = ex;
	}
	args[n++] = "-e";
	args[n++] = "probe begin { exit() }";
	args[n] = NULL;
	r = parse_as(args, false, &req, &err);
	if (o->role == SC_ROLE_EXEC) {
		tap_ok(r == 0 && req.exec_stap && req.exec == o && o->why && *o->why,
		       "%s: nothing to cache, the real stap runs it (%s)", sp,
		       o->why ? o->why : "NO REASON");
	} else {
		tap_ok(r == -EINVAL && strstr(err.msg, o->why) && o->hint &&
			       strstr(err.msg, o->hint),
		       "%s is refused with its reason and a hint: %s", sp, err.msg);
	}
	sc_options_free(&req);
	r = parse_as(args, true, &req, &err);
	tap_ok(r == 0 && req.exec_stap, "%s: invoked as stap, the real stap runs it", sp);
	sc_options_free(&req);
}

/* A parsed request, its kernel and key: what the argvs borrow from. */
struct parsed {
	struct sc_request req;
	struct sc_kernel k;
	struct sc_key key;
};

static void parsed_free(struct parsed *p)
{
	sc_key_clear(&p->key);
	sc_kernel_clear(&p->k);
	sc_options_free(&p->req);
}

/* Parse argv and build stap's and the runner's argv for it. */
static int argvs(struct fixture *f, const char *const *args, struct parsed *p,
		 struct sc_argv *stap, struct sc_argv *runner)
{
	char *argv[64];
	struct sc_error err = {{0}};
	int argc = 0, r;

	memset(p, 0, sizeof(*p));
	argv[argc++] = (char *)"stapcache";
	while (*args && argc < 63)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	if (sc_options_parse(argc, argv, &p->req, &err) != 0 ||
	    sc_kernel_resolve(p->req.kernel, p->req.arch, &p->k, &err) < 0 ||
	    sc_key_compute(&p->req, &f->ctx, &p->k, f->memo, &p->key, &err) < 0) {
		printf("# %s\n", err.msg);
		return -1;
	}
	struct sc_build b = {.req = &p->req,
			     .ctx = &f->ctx,
			     .kernel = &p->k,
			     .key = &p->key};

	r = sc_build_argv(&b, p->req.script_text ? NULL : p->key.script_name, stap);
	return r ?: sc_run_argv(&p->req, "runner", "/m.ko", runner);
}

static bool has_word(const struct sc_argv *a, const char *w)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], w) ||
		    (w[0] == '-' && !strncmp(a->v[i], w, strlen(w))))
			return true;
	return false;
}

static void check_row(struct fixture *f, const struct sc_opt *o, const char *base)
{
	const char *tree = fx_path(f, "tree"), *script = fx_path(f, "s.stp");
	const char *args[8];
	const char *ex = example(f, o);
	struct sc_argv stap = {0}, runner = {0};
	struct parsed p = {0};
	char sp[64], glued[128], hex[SC_SHA256_HEXLEN + 1];
	size_t n = 0;

	spell(o, sp, sizeof(sp));
	args[n++] = "-p4";
	args[n++] = "-r";
	args[n++] = tree;
	if (ex && o->optional) { /* an optional argument is glued on: --x=ARG */
		snprintf(glued, sizeof(glued), "%s=%s", sp, ex);
		args[n++] = glued;
	} else {
		args[n++] = sp;
		if (ex)
			args[n++] = ex;
	}
	args[n++] = script;
	args[n] = NULL;
	if (fx_key(f, args, hex, NULL) < 0 || argvs(f, args, &p, &stap, &runner) < 0) {
		tap_ok(0, "%s: the request is valid", sp);
		goto out;
	}
	switch (o->role) {
	case SC_ROLE_KEY:
		tap_ok(strcmp(hex, base) != 0, "%s is a key input: it changes the key",
		       sp);
		if (o->key != SC_KEY_DERIVED && o->id != SC_OPT_SALT)
			tap_ok(o->stap && has_word(&stap, o->stap),
			       "%s reaches stap as %s", sp,
			       o->stap ? o->stap : "(nothing)");
		else if (ex && o->id != SC_OPT_SALT && o->id != 'r')
			tap_ok(has_word(&stap, ex) ||
				       (o->id == 'e' && has_word(&stap, "-e")),
			       "%s reaches stap (spelled by build.c)", sp);
		tap_ok(!o->runner, "%s is not given to the runner", sp);
		break;
	case SC_ROLE_PASS:
		tap_ok(o->why && *o->why, "%s reaches stap but is no key input: %s", sp,
		       o->why ? o->why : "NO REASON GIVEN");
		tap_ok(strcmp(hex, base) == 0, "%s does not change the key", sp);
		tap_ok(o->stap && has_word(&stap, o->stap), "%s reaches stap", sp);
		break;
	case SC_ROLE_RUN:
		tap_ok(!o->stap && (!ex || !has_word(&stap, ex)), "%s never reaches stap",
		       sp);
		tap_ok(strcmp(hex, base) == 0, "%s does not change the key", sp);
		tap_ok(o->runner && has_word(&runner, ex ? ex : o->runner),
		       "%s reaches the runner", sp);
		break;
	case SC_ROLE_EXEC:
	case SC_ROLE_REFUSE:
		break;
	case SC_ROLE_OWN:
		tap_ok(!o->stap && !o->runner,
		       "%s is stapcache's own: neither stap nor the runner "
		       "sees it",
		       sp);
		tap_ok(strcmp(hex, base) == 0, "%s does not change the key", sp);
		tap_ok(!has_word(&stap, sp) && !has_word(&runner, sp) &&
			       (!ex || (!has_word(&stap, ex) && !has_word(&runner, ex))),
		       "%s reaches neither argv", sp);
		break;
	}
out:
	sc_argv_free(&stap);
	sc_argv_free(&runner);
	parsed_free(&p);
}

/*
 * A remote target's runner gets what sc_run_opts yields (remote/frontend.c
 * forwards it): exactly the local runner's argv without the runner and the
 * module.
 */
static void check_remote_runner(struct fixture *f)
{
	const char *args[] = {"-p4",
			      "-r",
			      fx_path(f, "tree"),
			      "-v",
			      "-G",
			      "a=1",
			      "-c",
			      "true",
			      "-x",
			      "1",
			      "-o",
			      "/dev/null",
			      "-s",
			      "4",
			      "-G",
			      "b=2",
			      fx_path(f, "s.stp"),
			      NULL};
	struct sc_argv stap = {0}, local = {0}, opts = {0}, params = {0};
	struct parsed p = {0};
	bool same;

	if (argvs(f, args, &p, &stap, &local) < 0 ||
	    sc_run_opts(&p.req, &opts, &params) < 0) {
		tap_ok(0, "a request with every run-time option is valid");
		goto out;
	}
	same = local.n == 1 + opts.n + 1 + params.n &&
	       !strcmp(local.v[opts.n + 1], "/m.ko");
	for (size_t i = 0; same && i < opts.n; i++)
		same = !strcmp(local.v[1 + i], opts.v[i]);
	for (size_t i = 0; same && i < params.n; i++)
		same = !strcmp(local.v[opts.n + 2 + i], params.v[i]);
	tap_ok(same, "a remote runner gets the local runner's options and parameters");
	tap_ok(opts.n == 9 && params.n == 2 && !strcmp(params.v[0], "a=1") &&
		       !strcmp(params.v[1], "b=2") && has_word(&opts, "-b"),
	       "options before the module (-s as -b), -G parameters after it, in order");
out:
	sc_argv_free(&stap);
	sc_argv_free(&local);
	sc_argv_free(&opts);
	sc_argv_free(&params);
	parsed_free(&p);
}

/* The parts of the drop-in that are more than one row. */
static void check_dropin(struct fixture *f, const char *base)
{
	const char *tree = fx_path(f, "tree"), *script = fx_path(f, "s.stp");
	struct sc_argv stap = {0}, runner = {0};
	struct sc_request req;
	struct sc_error err = {{0}};
	struct parsed p = {0};
	char hex[SC_SHA256_HEXLEN + 1];
	int r;

	/* -T: a number is stap's -T TIME (a key input), a name is a target. */
	const char *t5[] = {"-p4", "-r", tree, "-T", "5", script, NULL};
	if (argvs(f, t5, &p, &stap, &runner) == 0) {
		tap_ok(p.req.timeout && !strcmp(p.req.timeout, "5") &&
			       p.req.targets.n == 0,
		       "-T 5 is taken for stap's -T TIME");
		tap_ok(has_word(&stap, "-T") && has_word(&stap, "5"),
		       "and reaches stap as -T 5");
		tap_ok(fx_key(f, t5, hex, NULL) == 0 && strcmp(hex, base) != 0,
		       "-T TIME is a key input (stap adds a timer probe)");
		tap_ok(sc_request_timeout_is_target(&p.req) == 0 &&
			       p.req.targets.n == 1 && !strcmp(p.req.targets.v[0], "5") &&
			       !p.req.timeout &&
			       !sc_request_has(&p.req, SC_OPT_TIMEOUT, NULL),
		       "a known_hosts target named 5 turns it into a target");
	} else {
		tap_ok(0, "-T 5 parses");
	}
	sc_argv_free(&stap);
	sc_argv_free(&runner);
	parsed_free(&p);
	const char *tw[] = {"-p4", "-T", "web1", "-T", "@prod", "-e", "x", NULL};
	r = parse_as(tw, false, &req, &err);
	tap_ok(r == 0 && req.targets.n == 2 && !req.timeout,
	       "-T NAME and -T @GROUP are targets");
	sc_options_free(&req);

	/* Passes 1-3, unknown options, a bad command line. */
	const char *p2[] = {"-p2", "-e", "probe begin {}", NULL};
	r = parse_as(p2, false, &req, &err);
	tap_ok(r == 0 && req.exec_stap, "-p2 goes to the real stap");
	sc_options_free(&req);
	const char *unk[] = {"--no-such-option", "-e", "x", NULL};
	r = parse_as(unk, false, &req, &err);
	tap_ok(r == -EINVAL && strstr(err.msg, "unknown option '--no-such-option'"),
	       "an unknown option is refused by stapcache");
	sc_options_free(&req);
	r = parse_as(unk, true, &req, &err);
	tap_ok(r == 0 && req.exec_stap,
	       "and answered by the real stap when invoked as stap");
	sc_options_free(&req);
	const char *none[] = {"-p4", NULL}, *help[] = {"--help", NULL};
	r = parse_as(none, true, &req, &err);
	tap_ok(r == 0 && req.exec_stap, "as stap, no script is stap's error to print");
	sc_options_free(&req);
	r = parse_as(help, true, &req, &err);
	tap_ok(r == 0 && req.exec_stap, "as stap, --help is stap's");
	sc_options_free(&req);
	const char *rk[] = {"--runtime=kernel", "-e", "x", NULL};
	r = parse_as(rk, false, &req, &err);
	tap_ok(r == 0 && !req.exec_stap, "--runtime=kernel (the default) is cached");
	sc_options_free(&req);

	/* -F: staprun -L, or -D with -o; an optional argument left out. */
	const char *fl[] = {"-p4",  "-r", tree, "-F", "--prologue-searching",
			    script, NULL};
	if (argvs(f, fl, &p, &stap, &runner) == 0) {
		tap_ok(has_word(&runner, "-L") && !has_word(&runner, "-D"),
		       "-F is the runner's -L");
		bool bare = false;

		for (size_t i = 0; i < stap.n; i++)
			bare |= !strcmp(stap.v[i], "--prologue-searching");
		tap_ok(bare, "--prologue-searching without WHEN reaches stap bare");
		tap_ok(sc_run_refused(&p.req, "/usr/bin/staprun-auth", &err) == -EPERM &&
			       strstr(err.msg, "-F cannot be run by"),
		       "staprun-auth refuses -F clearly: %s", err.msg);
		tap_ok(sc_run_refused(&p.req, "staprun", &err) == 0, "staprun takes -F");
	} else {
		tap_ok(0, "-F parses");
	}
	sc_argv_free(&stap);
	sc_argv_free(&runner);
	parsed_free(&p);
	const char *fo[] = {"-p4", "-r", tree, "-F", "-o", "/tmp/x", script, NULL};
	if (argvs(f, fo, &p, &stap, &runner) == 0)
		tap_ok(has_word(&runner, "-D") && !has_word(&runner, "-L"),
		       "-F with -o is the runner's -D");
	sc_argv_free(&stap);
	sc_argv_free(&runner);
	parsed_free(&p);

	/* -d with a relative path: stap builds elsewhere, so it gets the absolute one. */
	char cwd[PATH_MAX], *want;
	const char *dr[] = {"-p4", "-r", tree, "-d", "s.stp", script, NULL};
	if (getcwd(cwd, sizeof(cwd)) && chdir(f->root) == 0 &&
	    argvs(f, dr, &p, &stap, &runner) == 0) {
		want = sc_strdupf("%s/s.stp", f->root);
		tap_ok(want && has_word(&stap, want), "-d s.stp reaches stap as %s",
		       want ? want : "?");
		free(want);
	} else {
		tap_ok(0, "-d RELATIVE parses");
	}
	if (chdir(cwd) < 0)
		tap_ok(0, "back to %s", cwd);
	sc_argv_free(&stap);
	sc_argv_free(&runner);
	parsed_free(&p);
}

int main(void)
{
	struct fixture f;
	char base[SC_SHA256_HEXLEN + 1];
	const char *args[8];
	char *help = NULL;
	size_t help_len = 0;
	FILE *mem;

	if (fx_init(&f) < 0) {
		printf("1..1\nnot ok 1 - cannot set up the fixture\n");
		return 1;
	}
	args[0] = "-p4";
	args[1] = "-r";
	args[2] = fx_path(&f, "tree");
	args[3] = fx_path(&f, "s.stp");
	args[4] = NULL;
	if (!tap_ok(fx_key(&f, args, base, NULL) == 0, "the base request has a key"))
		return tap_done();
	for (size_t i = 0; i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];

		/* Options that end the program or refuse the request have nothing to walk. */
		if (o->id == 'h' || o->id == 'V' || o->id == 'p' ||
		    o->id == SC_OPT_EXPLAIN || o->id == SC_OPT_DUMP_OPTIONS ||
		    o->id == SC_OPT_TIMEOUT)
			continue;
		if (o->role == SC_ROLE_EXEC || o->role == SC_ROLE_REFUSE)
			check_exec_row(&f, o);
		else
			check_row(&f, o, base);
	}
	/* The rule, over the whole table: stap sees key inputs, or a reason. */
	for (size_t i = 0; i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];

		if (o->stap && o->role != SC_ROLE_KEY && !(o->why && *o->why))
			tap_ok(0,
			       "row %zu reaches stap, is no key input and gives no reason",
			       i);
		if (o->role == SC_ROLE_KEY && o->key == SC_KEY_NONE)
			tap_ok(0, "row %zu is a key input that never enters the key", i);
	}
	tap_ok(1, "every row that reaches stap is a key input or says why not");
	check_remote_runner(&f);
	check_dropin(&f, base);

	mem = open_memstream(&help, &help_len);
	sc_usage(mem);
	fclose(mem);
	for (size_t i = 0; i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];
		char sp[64];

		if (o->id < 256)
			snprintf(sp, sizeof(sp), "  -%c", o->id);
		else if (o->long_name)
			snprintf(sp, sizeof(sp), "  --%s", o->long_name);
		else
			snprintf(sp, sizeof(sp), "  -T TIME");
		tap_ok(strstr(help, sp) != NULL, "--help shows %s", sp + 2);
	}
	free(help);
	fx_free(&f);
	return tap_done();
}
