/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The key as a function of (request, context, kernel), without stap: the same
 * inputs give the same key, each input changes it, and a golden record pins
 * the format.
 */
#include "build-config.h"

#include <ctype.h>

#include "tests/lib/tap.h"
#include "fixture.h"

/*
 * In the sanitizer build (build-asan), undefined behaviour fails this test
 * instead of printing one line to its log (an empty directory in a walked
 * tree once passed NULL to qsort).
 */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/*
 * A value with what differs from run to run masked: the scratch dir's path,
 * stat identities (size ... mode=...) and digests over them.
 */
static char *normalize(const char *v, const char *root)
{
	size_t rl = strlen(root), n = 0;
	char *out = malloc(strlen(v) * 2 + 64);

	if (!out)
		abort();
	while (*v) {
		if (!strncmp(v, root, rl)) {
			n += (size_t)sprintf(out + n, "@T@");
			v += rl;
		} else if (!strncmp(v, "size=", 5) && strstr(v, "mode=")) {
			v = strstr(v, "mode=") + 5;
			while (isdigit((unsigned char)*v))
				v++;
			n += (size_t)sprintf(out + n, "@STAT@");
		} else if (!strncmp(v, "sha256:", 7) && strlen(v) >= 71) {
			n += (size_t)sprintf(out + n, "sha256:@");
			v += 71;
		} else {
			out[n++] = *v++;
		}
	}
	out[n] = '\0';
	return out;
}

/*
 * The record for the golden request. Changing what the key covers changes
 * this list: then bump SC_KEY_FORMAT (key.h) and update both.
 */
static const char *const golden[][2] = {
	{"key.format", "3"},
	{"stap", "@T@/stap sha256:@"},
	{"stap.version", "Systemtap translator/driver (version 9.9/test)"},
	{"runtime", "@T@/rt sha256:@ files=1"},
	{"tapset", "@T@/ts sha256:@ files=1"},
	{"stap.rc", "# stap rc\n"},
	{"compiler", "@T@/bin/gcc sha256:@"},
	{"kernel.release", "1.2.3-test"},
	{"kernel.arch", "x86_64"},
	{"kernel.build-tree", "@T@/tree"},
	{"kernel.file", "@T@/tree/.config sha256:@"},
	{"kernel.file", "@T@/tree/Module.symvers missing"},
	{"kernel.file", "@T@/tree/Makefile missing"},
	{"kernel.file", "@T@/tree/include/config/kernel.release missing"},
	{"kernel.file", "@T@/tree/include/generated/utsrelease.h sha256:@"},
	{"kernel.file", "@T@/tree/include/generated/compile.h missing"},
	{"kernel.file", "@T@/tree/include/generated/autoconf.h missing"},
	{"kernel.file", "@T@/tree/include/generated/uapi/linux/version.h missing"},
	{"kernel.file", "@T@/tree/include/linux/version.h missing"},
	{"uid", "1234"},
	{"define", "B=2"},
	{"define", "A=1"},
	{"option", "guru"},
	{"salt", "s"},
	{"module", ""},
	{"script.name", "-e"},
	{"script", "probe begin { exit() }"},
	{"arg", "one"},
	{"arg", "two"},
};

static void check_golden(struct fixture *f)
{
	const char *args[] = {"-p4",
			      "-r",
			      fx_path(f, "tree"),
			      "-a",
			      "x86_64",
			      "-g",
			      "-D",
			      "B=2",
			      "-v",
			      "--salt",
			      "s",
			      "-G",
			      "x=1",
			      "-D",
			      "A=1",
			      "-e",
			      "probe begin { exit() }",
			      "one",
			      "two",
			      NULL};
	size_t ng = sizeof(golden) / sizeof(golden[0]), i;
	struct sc_record *rec = NULL;
	char hex[SC_SHA256_HEXLEN + 1], *text = NULL;
	int same = 1;

	tap_is_int(SC_KEY_FORMAT, 3, "the golden record is for this key format");
	if (!tap_ok(fx_key(f, args, hex, &text) == 0, "the golden request has a key"))
		return;
	tap_ok(sc_record_parse(text, strlen(text), &rec, NULL) == 0, "its record parses");
	tap_is_int(sc_record_count(rec), ng, "the record has the golden fields");
	for (i = 0; rec && i < ng && i < sc_record_count(rec); i++) {
		char *v = normalize(sc_record_value(rec, i, NULL), f->root);

		if (strcmp(sc_record_label(rec, i), golden[i][0]) ||
		    strcmp(v, golden[i][1])) {
			printf("# field %zu: got '%s' '%s', want '%s' '%s'\n", i,
			       sc_record_label(rec, i), v, golden[i][0], golden[i][1]);
			same = 0;
		}
		free(v);
	}
	tap_ok(same,
	       "the record matches the golden one (a change needs SC_KEY_FORMAT bumped)");
	sc_record_free(rec);
	free(text);
}

/*
 * Replace every input of the key with a copy at new inodes and other times
 * (what a second machine with the same packages has), memos left in place.
 */
static void recopy_inputs(struct fixture *f)
{
	static const char *const inputs[] = {"stap", "bin",  "rt",
					     "ts",   "tree", "systemtap"};
	char cmd[4 * PATH_MAX];
	int ok = 1;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		snprintf(cmd, sizeof(cmd),
			 "cd '%s' && cp -R --preserve=mode '%s' '%s.copy' && "
			 "find '%s.copy' -exec touch -h -d @1000000000 {} + && "
			 "mv '%s' '%s.old' && mv '%s.copy' '%s' && rm -rf '%s.old'",
			 f->root, inputs[i], inputs[i], inputs[i], inputs[i], inputs[i],
			 inputs[i], inputs[i], inputs[i]);
		ok &= system(cmd) == 0;
	}
	tap_ok(ok, "copied every input to new inodes with other times");
}

/* Does changing the world with change() change the key of args? */
static void changes(struct fixture *f, const char *const *args, const char *base,
		    const char *what)
{
	char hex[SC_SHA256_HEXLEN + 1];

	tap_ok(fx_key(f, args, hex, NULL) == 0 && strcmp(hex, base) != 0,
	       "%s changes the key", what);
}

int main(void)
{
	struct fixture f;
	char base[SC_SHA256_HEXLEN + 1], again[SC_SHA256_HEXLEN + 1];

	if (fx_init(&f) < 0) {
		printf("1..1\nnot ok 1 - cannot set up the fixture\n");
		return 1;
	}
	const char *tree = fx_path(&f, "tree"), *script = fx_path(&f, "s.stp");
	const char *args[] = {"-p4", "-r", tree, script, "a1", NULL};

	check_golden(&f);
	tap_ok(fx_key(&f, args, base, NULL) == 0, "a key without stap");
	tap_ok(fx_key(&f, args, again, NULL) == 0 && !strcmp(base, again),
	       "the same inputs give the same key (and the memo of stap -V agrees)");
	{
		char *memo = fx_path(&f, "memo/stap-version");

		tap_ok(access(memo, F_OK) == 0,
		       "stap -V is memoized in the memo directory");
	}

	/* Portable: content, not identity (issue 10). */
	{
		char copy[SC_SHA256_HEXLEN + 1], *text = NULL;

		recopy_inputs(&f);
		tap_ok(fx_key(&f, args, copy, &text) == 0 && !strcmp(copy, base),
		       "the same inputs at other inodes and times give the same key");
		tap_ok(text && !strstr(text, "ino=") && !strstr(text, "mtime=") &&
			       !strstr(text, "ctime="),
		       "no inode or time enters the record");
		free(text);
		fx_write(&f, "tree/.config", "CONFIG_MODULES=n\n", 0644);
		changes(&f, args, base, "a same-size edit of a memoized file");
		fx_write(&f, "tree/.config", "CONFIG_MODULES=y\n", 0644);
		tap_ok(fx_key(&f, args, copy, NULL) == 0 && !strcmp(copy, base),
		       "the old content gives the old key again");
	}

	/* The request. */
	{
		const char *a2[] = {"-p4", "-r", tree, script, "a2", NULL};
		const char *a3[] = {"-p4",  "-r", fx_path(&f, "tree2"),
				    script, "a1", NULL};
		const char *a4[] = {"-p4",     "-r",   tree, "-a",
				    "riscv64", script, "a1", NULL};

		changes(&f, a2, base, "a compile-time argument");
		changes(&f, a3, base, "the kernel (another build tree and release)");
		changes(&f, a4, base, "the architecture");
	}
	/* The context. */
	f.ctx.uid = 4321;
	changes(&f, args, base, "the uid");
	f.ctx.uid = 1234;
	{
		char *saved = f.ctx.tapset;

		f.ctx.tapset = fx_path(&f, "dir2");
		changes(&f, args, base, "the tapset directory");
		f.ctx.tapset = saved;
	}
	fx_write(&f, "ts/b.stp", "probe b = end {}\n", 0644);
	changes(&f, args, base, "a new tapset file");
	tap_ok(fx_key(&f, args, base, NULL) == 0, "(new base)");
	fx_write(&f, "rt/new.h", "/* new */\n", 0644);
	changes(&f, args, base, "a new runtime file");
	tap_ok(fx_key(&f, args, base, NULL) == 0, "(new base)");
	/* An empty directory: the walk reads no names (no qsort of NULL, UBSan). */
	tap_ok(sc_mkdir_p(fx_path(&f, "rt/empty"), 0755) == 0,
	       "an empty runtime directory");
	changes(&f, args, base, "an empty runtime directory");
	tap_ok(fx_key(&f, args, base, NULL) == 0, "(new base)");
	fx_write(&f, "systemtap/rc", "-DMAXACTION=5\n", 0644);
	changes(&f, args, base, "stap's rc file");
	tap_ok(fx_key(&f, args, base, NULL) == 0, "(new base)");
	fx_write(&f, "bin2/gcc", "#!/bin/sh\nexit 1\n", 0755);
	{
		char *saved = f.ctx.path;

		f.ctx.path = fx_path(&f, "bin2");
		changes(&f, args, base, "another gcc first on PATH");
		f.ctx.path = saved;
	}
	fx_write(&f, "tree/Module.symvers", "0x0 sym vmlinux EXPORT_SYMBOL\n", 0644);
	changes(&f, args, base, "a kernel build tree file");
	tap_ok(fx_key(&f, args, base, NULL) == 0, "(new base)");
	fx_write(&f, "stap",
		 "#!/bin/sh\necho 'Systemtap translator/driver (version 9.10/test)'\n",
		 0755);
	changes(&f, args, base, "another stap binary");

	fx_free(&f);
	return tap_done();
}
