/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "core/cache-key.h"
#include "common/spawn.h"
#include "core/tree.h"

#define SCRIPT_MAX (16u << 20)
#define LDD_OUT_MAX (256u << 10)
#define SC_LDD "/usr/bin/ldd"

void sc_key_clear(struct sc_key *key)
{
	sc_record_free(key->record);
	free(key->script);
	free(key->runtime_host);
	memset(key, 0, sizeof(*key));
}

/* ------------------------------------------------------------ fingerprints */

/*
 * The one place a single file enters the key: its path and the digest of its
 * content (portable: no inode, device or time), memoized by file identity in
 * memo_dir (see tree.h) so that a hit reads no file it has read before.
 */
static int add_file_fp_as(struct sc_record *rec, const char *label, const char *path,
			  const char *shown, const char *memo_dir)
{
	char hex[SC_SHA256_HEXLEN + 1];
	int r = sc_file_content_digest(path, memo_dir, hex);

	if (r == -ENOMEM)
		return r;
	if (r == -ENOENT || r == -ENOTDIR)
		return sc_record_addf(rec, label, "%s missing", shown);
	if (r < 0)
		return sc_record_addf(rec, label, "%s unreadable: %s", shown,
				      strerror(-r));
	return sc_record_addf(rec, label, "%s sha256:%s", shown, hex);
}

static int add_file_fp(struct sc_record *rec, const char *label, const char *path,
		       const char *memo_dir)
{
	return add_file_fp_as(rec, label, path, path, memo_dir);
}

char *sc_key_object_path(const char *value)
{
	char cwd[PATH_MAX];

	if (value[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return sc_strdupf("%s", value);
	return sc_strdupf("%s/%s", cwd, value);
}

/*
 * The one place an object file (-d OBJECT, a library --ldd resolves)
 * enters the key: the path stap is given and the digest of the content
 * stap reads, the sysroot's copy under --sysroot. Content, not identity:
 * the same object on two machines gives the same field (a portable key).
 */
static int add_object_fp(struct sc_record *rec, const char *label, const char *path,
			 const char *sysroot)
{
	char hex[SC_SHA256_HEXLEN + 1];
	char *file = sysroot && strcmp(sysroot, "/") ? sc_strdupf("%s%s", sysroot, path)
						     : sc_strdupf("%s", path);
	int r = sc_sha256_file(file, hex);

	free(file);
	if (r == -ENOMEM)
		return r;
	if (r < 0) /* stap will say so; the key only needs to differ */
		return sc_record_addf(rec, label, "%s unreadable: %s", path,
				      strerror(-r));
	return sc_record_addf(rec, label, "%s sha256:%s", path, hex);
}

/* The path ldd resolved on one line of its output, or NULL (vdso, not found). */
static char *ldd_line_path(char *line)
{
	char *p = strstr(line, "=> "), *end;

	p = p ? p + 3 : line + strspn(line, " \t");
	if (*p != '/')
		return NULL;
	end = strstr(p, " (");
	if (end)
		*end = '\0';
	return p;
}

/*
 * --ldd: every library ldd resolves for object (read in the sysroot), by
 * content, in ldd's order; "not found" lines too, since stap would miss them.
 */
static int add_ldd_fp(struct sc_record *rec, const char *object, const char *sysroot)
{
	char *file = sysroot && strcmp(sysroot, "/") ? sc_strdupf("%s%s", sysroot, object)
						     : sc_strdupf("%s", object);
	const char *argv[] = {SC_LDD, file, NULL};
	char *out = NULL, *line, *save = NULL;
	int r = sc_run_capture(argv, LDD_OUT_MAX, &out);

	free(file);
	if (r == -ENOMEM)
		return r;
	if (r < 0) /* not dynamic, or unreadable: nothing more for stap to add */
		return sc_record_addf(rec, "ldd.object", "%s no libraries", object);
	r = sc_record_addf(rec, "ldd.object", "%s", object);
	for (line = strtok_r(out, "\n", &save); r == 0 && line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *lib = ldd_line_path(line);

		if (lib)
			r = add_object_fp(rec, "ldd.lib", lib, sysroot);
		else if (strstr(line, "not found"))
			r = sc_record_addf(rec, "ldd.lib", "%s",
					   line + strspn(line, " \t"));
	}
	free(out);
	return r;
}

/* --ldd: the libraries of every -d OBJECT, in command-line order. */
static int add_ldd(struct sc_record *rec, const struct sc_request *req,
		   const char *sysroot)
{
	int r = sc_record_add_str(rec, "option", "ldd");

	for (size_t j = 0; r == 0 && j < req->n_opts; j++) {
		char *path;

		if (req->opts[j].opt->key != SC_KEY_FILE)
			continue;
		path = sc_key_object_path(req->opts[j].value);
		r = add_ldd_fp(rec, path, sysroot);
		free(path);
	}
	return r;
}

/* Record a tree's fingerprint (see tree.h), named by shown (NULL: its path). */
static int add_tree_fp_as(struct sc_record *rec, const char *label, const char *path,
			  const char *shown, const char *memo_dir, struct sc_error *err)
{
	char value[PATH_MAX + 128];
	int r = sc_tree_fingerprint_as(path, shown, memo_dir, value, sizeof(value), err);

	return r < 0 ? r : sc_record_add_str(rec, label, value);
}

static int add_tree_fp(struct sc_record *rec, const char *label, const char *path,
		       const char *memo_dir, struct sc_error *err)
{
	return add_tree_fp_as(rec, label, path, NULL, memo_dir, err);
}

/* ------------------------------------------------------------ stap version */

static char *run_stap_version(const char *stap)
{
	const char *argv[] = {stap, "-V", NULL};
	char *out = NULL;

	if (sc_run_capture(argv, 511, &out) < 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	if (!*out) {
		free(out);
		return NULL;
	}
	return out;
}

/* The memo is a record with one field, "stap.version". */
static char *memo_version(const char *path)
{
	struct sc_record *rec = NULL;
	char *buf = NULL, *v = NULL;
	size_t len = 0;

	if (sc_read_regular(AT_FDCWD, path, 4096, &buf, &len, NULL, NULL) == 0 &&
	    sc_record_parse(buf, len, &rec, NULL) == 0 &&
	    sc_record_get(rec, "stap.version"))
		v = sc_strdupf("%s", sc_record_get(rec, "stap.version"));
	sc_record_free(rec);
	free(buf);
	return v;
}

static void memo_version_store(const char *memo_dir, const char *path,
			       const char *version)
{
	struct sc_record *rec = sc_record_new();
	char *dir = sc_strdupf("%s/stap-version", memo_dir), *buf = NULL;
	size_t len;

	/* The memo is an optimisation: failing to store it is harmless. */
	if (rec && sc_record_add_str(rec, "stap.version", version) == 0 &&
	    sc_record_serialize(rec, &buf, &len) == 0 && sc_mkdir_p(dir, 0755) == 0)
		(void)sc_write_file_atomic(path, buf, len, 0644, NULL);
	sc_record_free(rec);
	free(buf);
	free(dir);
}

/* `stap -V` inside a build root (stap there needs the root's libraries). */
static char *root_stap_version(const struct sc_buildroot *br, struct sc_error *err)
{
	const char *argv[] = {SC_BUILDROOT_STAP, "-V", NULL};
	char *out = NULL;

	if (sc_buildroot_capture(br, argv, 511, &out, err) < 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	if (!*out) {
		sc_error_set(err, "%s -V in the build root %s printed nothing",
			     SC_BUILDROOT_STAP, br->dir);
		free(out);
		return NULL;
	}
	return out;
}

/*
 * `stap -V` once per stap binary (path and content); later requests read the
 * memo, so a cache hit never runs stap. stap is the binary on this host,
 * shown its name in the record (its path inside br, when br is not NULL).
 */
static int add_stap(struct sc_record *rec, const char *stap, const char *shown,
		    const struct sc_buildroot *br, const char *memo_dir,
		    struct sc_error *err)
{
	char fp[SC_SHA256_HEXLEN + 1], hex[SC_SHA256_HEXLEN + 1], *memo = NULL;
	char *version = NULL, *id;
	uint8_t md[SC_SHA256_LEN];
	int r;

	/* A directory or a missing file fails here too (-EISDIR, -ENOENT). */
	if (sc_file_content_digest(stap, memo_dir, fp) < 0) {
		if (br)
			sc_error_set(err,
				     "the build root %s has no %s: recreate it (stapcache "
				     "buildroot create --release %s --force)",
				     br->dir, shown, br->release);
		else
			sc_error_set(err,
				     "stap not found at %s: install systemtap (apt-get "
				     "install systemtap) or set 'stap:' in config.yaml",
				     stap);
		return -ENOENT;
	}
	id = sc_strdupf("%s sha256:%s", shown, fp);
	if (memo_dir) {
		sc_sha256(id, strlen(id), md);
		sc_hex(hex, md, sizeof(md));
		memo = sc_strdupf("%s/stap-version/%s", memo_dir, hex);
		version = memo_version(memo);
	}
	if (!version) {
		version = br ? root_stap_version(br, err) : run_stap_version(stap);
		if (!version) {
			if (!br)
				sc_error_set(err,
					     "%s -V failed: is systemtap installed "
					     "correctly?",
					     stap);
			free(memo);
			free(id);
			return -ENOEXEC;
		}
		if (memo)
			memo_version_store(memo_dir, memo, version);
	}
	r = sc_record_add_str(rec, "stap", id);
	if (r == 0)
		r = sc_record_add_str(rec, "stap.version", version);
	free(version);
	free(memo);
	free(id);
	return r;
}

/* The C compiler kbuild will find first on PATH. */
static int add_compiler(struct sc_record *rec, const char *path, const char *memo_dir)
{
	char *copy = sc_strdupf("%s", path), *dir, *save = NULL;
	int r = 0, found = 0;

	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *cand = sc_strdupf("%s/gcc", *dir ? dir : ".");
		char real[PATH_MAX];

		if (access(cand, X_OK) == 0 && sc_realpath(cand, real) == 0) {
			r = add_file_fp(rec, "compiler", real, memo_dir);
			found = 1;
		}
		free(cand);
	}
	free(copy);
	if (!found)
		r = sc_record_add_str(rec, "compiler", "gcc not found on PATH");
	return r;
}

/* The compiler kbuild finds first on the root's PATH, named inside the root. */
static int add_root_compiler(struct sc_record *rec, const struct sc_buildroot *br,
			     const char *memo_dir)
{
	char *copy = sc_strdupf("%s", SC_BUILDROOT_PATH), *dir, *save = NULL;
	int r = 1;

	for (dir = strtok_r(copy, ":", &save); dir && r > 0;
	     dir = strtok_r(NULL, ":", &save)) {
		char *cand = sc_strdupf("%s/gcc", dir), *host = NULL, *inside = NULL;

		if (sc_buildroot_resolve(br, cand, &host, &inside) == 0 &&
		    access(host, X_OK) == 0)
			r = add_file_fp_as(rec, "compiler", host, inside, memo_dir);
		free(cand);
		free(host);
		free(inside);
	}
	free(copy);
	if (r > 0)
		r = sc_record_add_str(rec, "compiler",
				      "gcc not found on the root's PATH");
	return r;
}

/*
 * What the build root holds beyond the files recorded one by one (the
 * libraries stap runs with, elfutils among them, whose version stap writes
 * into every module): every package's version, through dpkg's database.
 */
static int add_buildroot(struct sc_record *rec, const struct sc_buildroot *br,
			 const char *memo_dir)
{
	char *status = sc_strdupf("%s%s", br->dir, SC_BUILDROOT_DPKG_STATUS);
	int r = sc_record_addf(rec, "buildroot", "%s %s", br->release, br->arch);

	r = r
		    ?: add_file_fp_as(rec, "buildroot.packages", status,
				      SC_BUILDROOT_DPKG_STATUS, memo_dir);
	free(status);
	return r;
}

static int add_kernel(struct sc_record *rec, const struct sc_kernel *k,
		      const char *memo_dir)
{
	static const char *files[] = {
		".config",
		"Module.symvers",
		"Makefile",
		"include/config/kernel.release",
		"include/generated/utsrelease.h",
		"include/generated/compile.h",
		"include/generated/autoconf.h",
		"include/generated/uapi/linux/version.h",
		"include/linux/version.h",
	};
	size_t i;
	int r;

	const char *tree = k->root ? k->tree_inside : k->build_tree;

	r = sc_record_add_str(rec, "kernel.release", k->release);
	if (r == 0)
		r = sc_record_add_str(rec, "kernel.arch", k->arch);
	if (r == 0)
		r = sc_record_add_str(rec, "kernel.build-tree", tree);
	for (i = 0; r == 0 && i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = sc_strdupf("%s/%s", k->build_tree, files[i]);
		char *shown = sc_strdupf("%s/%s", tree, files[i]);

		r = add_file_fp_as(rec, "kernel.file", p, shown, memo_dir);
		free(p);
		free(shown);
	}
	return r;
}

/* The largest stap binary looked into for the guard (stap is ~10 MiB). */
#define STAP_BINARY_MAX (256u << 20)

/*
 * Does the stap binary at path (whose content digest is fp) carry the
 * _LINUX_ARGS_H guard? Memoized by fp in memo_dir/stap-args-guard.
 */
static bool stap_has_args_guard(const char *path, const char *fp, const char *memo_dir)
{
	char *memo = memo_dir ? sc_strdupf("%s/stap-args-guard/%s", memo_dir, fp) : NULL;
	char *buf = NULL, *dir;
	size_t len = 0;
	bool guard;

	if (memo && sc_read_file(memo, 16, &buf, &len) == 0 && len >= 1) {
		guard = buf[0] == '1';
		free(buf);
		free(memo);
		return guard;
	}
	free(buf);
	buf = NULL;
	guard = sc_read_file(path, STAP_BINARY_MAX, &buf, &len) < 0 ||
		memmem(buf, len, "_LINUX_ARGS_H", 13) != NULL;
	free(buf);
	if (memo) { /* the memo only saves time: a failure to store it is harmless */
		dir = sc_strdupf("%s/stap-args-guard", memo_dir);
		if (sc_mkdir_p(dir, 0755) == 0)
			(void)sc_write_file_atomic(memo, guard ? "1\n" : "0\n", 2, 0644,
						   NULL);
		free(dir);
	}
	free(memo);
	return guard;
}

/* Decide key->kbuild_auto (see cache-key.h) and record it. */
static int add_kbuild_auto(struct sc_record *rec, const struct sc_ctx *ctx,
			   const struct sc_kernel *k, const char *memo_dir,
			   struct sc_key *key)
{
	char *stap = k->root ? sc_strdupf("%s%s", k->root->dir, SC_BUILDROOT_STAP)
			     : sc_strdupf("%s", ctx->stap);
	char *args_h = sc_kernel_header(k, "include/linux/args.h");
	char fp[SC_SHA256_HEXLEN + 1];
	int r = 0;

	if (args_h && sc_file_content_digest(stap, memo_dir, fp) == 0 &&
	    !stap_has_args_guard(stap, fp, memo_dir)) {
		key->kbuild_auto = SC_KEY_TRACEQUERY_B;
		r = sc_record_add_str(rec, "kbuild.auto", key->kbuild_auto);
	}
	free(args_h);
	free(stap);
	return r;
}

/*
 * The options the table marks as key inputs that are not recorded in their
 * own right: in table order, each with its occurrences in command-line order.
 */
static int add_options(struct sc_record *rec, const struct sc_request *req,
		       struct sc_error *err)
{
	const char *sysroot = NULL;
	int r = 0;

	(void)sc_request_has(req, SC_OPT_SYSROOT, &sysroot);
	for (size_t i = 0; r == 0 && i < sc_opts_n; i++) {
		const struct sc_opt *o = &sc_opts[i];
		bool flagged = false;
		char *path;

		if (o->role != SC_ROLE_KEY)
			continue;
		for (size_t j = 0; r == 0 && j < req->n_opts; j++) {
			if (req->opts[j].opt != o)
				continue;
			/* o->key, read through the argument so that clang-tidy sees
			 * one kind per argument (-d's value is never NULL). */
			switch (req->opts[j].opt->key) {
			case SC_KEY_FLAG:
				if (!flagged)
					r = sc_record_add_str(rec, "option", o->label);
				flagged = true;
				break;
			case SC_KEY_VALUE: /* an optional argument left out: "" */
				r = sc_record_add_str(rec, o->label,
						      req->opts[j].value
							      ? req->opts[j].value
							      : "");
				break;
			case SC_KEY_FILE:
				path = sc_key_object_path(req->opts[j].value);
				r = add_object_fp(rec, o->label, path, sysroot);
				free(path);
				break;
			case SC_KEY_LDD:
				if (!flagged)
					r = add_ldd(rec, req, sysroot);
				flagged = true;
				break;
			case SC_KEY_TREE:
				r = add_tree_fp(rec, o->label, req->opts[j].value, NULL,
						err);
				break;
			case SC_KEY_NONE:
			case SC_KEY_DERIVED:
				break;
			}
		}
	}
	return r;
}

/* stap also reads options from $SYSTEMTAP_DIR/rc (default ~/.systemtap/rc). */
static int add_stap_rc(struct sc_record *rec, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	int r = sc_read_file(path, 65536, &buf, &len);

	r = r == 0 ? sc_record_add(rec, "stap.rc", buf, len) : 0;
	free(buf);
	return r;
}

static int read_script(const struct sc_request *req, struct sc_key *key,
		       struct sc_error *err)
{
	const char *slash;
	int r;

	if (req->script_text) {
		key->script = sc_strdupf("%s", req->script_text);
		key->script_len = strlen(req->script_text);
		key->script_name = "-e";
		return 0;
	}
	if (!strcmp(req->script_file, "-"))
		r = sc_read_fd(0, SCRIPT_MAX, &key->script, &key->script_len);
	else
		r = sc_read_file(req->script_file, SCRIPT_MAX, &key->script,
				 &key->script_len);
	if (r < 0) {
		sc_error_set(err, "cannot read script %s: %s%s", req->script_file,
			     r == -EFBIG ? "larger than 16 MiB" : strerror(-r),
			     r == -ENOENT ? " (check the path, or use -e SCRIPT)" : "");
		return r;
	}
	/* stap compiles a copy of this name (build.c): its messages name it. */
	slash = strrchr(req->script_file, '/');
	if (!strcmp(req->script_file, "-"))
		key->script_name = "stdin.stp";
	else
		key->script_name = slash ? slash + 1 : req->script_file;
	return 0;
}

static int fill_record(struct sc_record *rec, const struct sc_request *req,
		       const struct sc_ctx *ctx, const struct sc_kernel *kernel,
		       const char *memo_dir, struct sc_key *key, struct sc_error *err)
{
	const struct sc_buildroot *br = kernel->root;
	int r = sc_record_addf(rec, "key.format", "%d", SC_KEY_FORMAT);

	if (br) {
		char *stap = sc_strdupf("%s%s", br->dir, SC_BUILDROOT_STAP);

		r = r ?: add_buildroot(rec, br, memo_dir);
		r = r ?: add_stap(rec, stap, SC_BUILDROOT_STAP, br, memo_dir, err);
		free(stap);
	} else {
		r = r ?: add_stap(rec, ctx->stap, ctx->stap, NULL, memo_dir, err);
	}
	if (r < 0)
		return r;
	r = add_tree_fp_as(rec, "runtime",
			   key->runtime_host ? key->runtime_host : key->runtime,
			   br ? key->runtime : NULL, memo_dir, err);
	if (r < 0) {
		sc_error_prefix(err, "runtime (-R or 'runtime:' in %s)",
				br ? "known_hosts" : "config.yaml");
		return r;
	}
	if (br) {
		char *tapset = sc_strdupf("%s%s", br->dir, SC_BUILDROOT_TAPSET);
		char *rc = sc_strdupf("%s/.systemtap/rc", br->home);

		r = add_tree_fp_as(rec, "tapset", tapset, SC_BUILDROOT_TAPSET, memo_dir,
				   err);
		r = r ?: add_stap_rc(rec, rc);
		r = r ?: add_root_compiler(rec, br, memo_dir);
		free(tapset);
		free(rc);
	} else {
		r = add_tree_fp(rec, "tapset", ctx->tapset, memo_dir, err);
		r = r ?: add_stap_rc(rec, ctx->stap_rc);
		r = r ?: add_compiler(rec, ctx->path, memo_dir);
	}
	r = r ?: add_kernel(rec, kernel, memo_dir);
	r = r ?: add_kbuild_auto(rec, ctx, kernel, memo_dir, key);
	r = r ?: sc_record_addf(rec, "uid", "%u", (unsigned)ctx->uid);
	r = r ?: add_options(rec, req, err);
	r = r ?: sc_record_add_str(rec, "module", req->module ? req->module : "");
	r = r ?: sc_record_add_str(rec, "script.name", key->script_name);
	r = r ?: sc_record_add(rec, "script", key->script, key->script_len);
	for (size_t i = 0; r == 0 && i < req->args.n; i++)
		r = sc_record_add_str(rec, "arg", req->args.v[i]);
	return r;
}

int sc_key_compute(const struct sc_request *req, const struct sc_ctx *ctx,
		   const struct sc_kernel *kernel, const char *memo_dir,
		   struct sc_key *key, struct sc_error *err)
{
	uint8_t md[SC_SHA256_LEN];
	int r;

	memset(key, 0, sizeof(*key));
	key->runtime = req->runtime ? req->runtime : ctx->runtime;
	for (size_t i = 0; kernel->root && i < req->n_opts; i++) {
		const struct sc_opt *o = req->opts[i].opt;
		char name[64];

		if (o->key != SC_KEY_FILE && o->key != SC_KEY_TREE &&
		    o->key != SC_KEY_LDD && o->id != SC_OPT_SYSROOT)
			continue;
		sc_opt_name(o, name, sizeof(name));
		sc_error_set(err,
			     "%s names files on this host, which stap in the build root "
			     "%s cannot see: leave it out for this target (or build "
			     "for it with -r on a host of its release)",
			     name, kernel->root->dir);
		return -EINVAL;
	}
	if (kernel->root) {
		/* -R or the target's runtime: is this host's, bound inside;
		 * otherwise the root's own (fixed when it needed it). */
		key->runtime_bind = req->runtime;
		key->runtime = req->runtime ? SC_BUILDROOT_RUNTIME
					    : sc_buildroot_runtime(kernel->root);
		key->runtime_host = req->runtime ? sc_strdupf("%s", req->runtime)
						 : sc_strdupf("%s%s", kernel->root->dir,
							      key->runtime);
	}
	r = read_script(req, key, err);
	if (r < 0)
		return r;
	key->record = sc_record_new();
	r = key->record ? fill_record(key->record, req, ctx, kernel, memo_dir, key, err)
			: -ENOMEM;
	sc_tree_memo_flush();
	if (r == 0)
		r = sc_record_digest(key->record, md);
	if (r < 0) {
		if (!err || !err->msg[0])
			sc_error_set(err, "cannot compute the cache key: %s",
				     strerror(-r));
		sc_key_clear(key);
		return r;
	}
	sc_hex(key->hex, md, sizeof(md));
	if (req->module)
		snprintf(key->module, sizeof(key->module), "%s", req->module);
	else
		snprintf(key->module, sizeof(key->module), "stap_%.32s", key->hex);
	return 0;
}
