/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "key.h"
#include "tree.h"

#define SCRIPT_MAX (16u << 20)

void sc_kernel_clear(struct sc_kernel *k)
{
	free(k->spec);
	free(k->release);
	free(k->build_tree);
	free(k->arch);
	memset(k, 0, sizeof(*k));
}

static char *read_line_file(const char *path)
{
	char *buf = NULL;
	size_t len = 0;

	if (sc_read_file(path, 4096, &buf, &len) < 0)
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!*buf) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The release a build tree builds for: UTS_RELEASE (what vermagic and uname
 * say; Debian's include/config/kernel.release holds the upstream version).
 */
static char *tree_release(const char *tree)
{
	char *path = sc_strdupf("%s/include/generated/utsrelease.h", tree);
	char *buf = NULL, *p, *q, *rel = NULL;

	if (sc_read_file(path, 4096, &buf, NULL) == 0 && (p = strstr(buf, "UTS_RELEASE")) &&
	    (p = strchr(p, '"')) && (q = strchr(p + 1, '"')) && q > p + 1)
		rel = strndup(p + 1, (size_t)(q - p - 1));
	free(buf);
	free(path);
	if (!rel) {
		path = sc_strdupf("%s/include/config/kernel.release", tree);
		rel = read_line_file(path);
		free(path);
	}
	return rel;
}

int sc_kernel_resolve(const char *spec, const char *arch, struct sc_kernel *out,
		      struct sc_error *err)
{
	struct utsname u;
	char real[PATH_MAX];
	char *tree;

	memset(out, 0, sizeof(*out));
	if (spec && !*spec) {
		sc_error_set(err, "-r needs a kernel release or a build tree, not an empty string");
		return -EINVAL;
	}
	if (uname(&u) < 0)
		return -errno;
	if (spec && strchr(spec, '/')) {
		out->release = tree_release(spec);
		if (!out->release) {
			sc_error_set(err,
				     "'%s' is not a configured kernel build tree "
				     "(include/generated/utsrelease.h is missing); "
				     "give a kernel release or a prepared build tree to -r",
				     spec);
			return -ENOENT;
		}
		tree = sc_strdupf("%s", spec);
	} else {
		out->release = sc_strdupf("%s", spec ? spec : u.release);
		tree = sc_strdupf("/lib/modules/%s/build", out->release);
	}
	if (!realpath(tree, real)) {
		if (spec)
			sc_error_set(err,
				     "no kernel build tree for %s (%s is missing); install its "
				     "headers (apt-get install linux-headers-%s) or pass -r BUILD-TREE",
				     out->release, tree, out->release);
		else
			sc_error_set(err,
				     "the running kernel %s has no build tree (%s is missing); "
				     "install linux-headers-%s, or compile for another kernel "
				     "with -r RELEASE or for a target with -T NAME",
				     out->release, tree, out->release);
		free(tree);
		sc_kernel_clear(out);
		return -ENOENT;
	}
	free(tree);
	out->build_tree = sc_strdupf("%s", real);
	out->spec = sc_strdupf("%s", spec ? spec : out->release);
	out->arch = sc_strdupf("%s", arch ? arch : u.machine);
	return 0;
}

void sc_key_clear(struct sc_key *key)
{
	sc_record_free(key->record);
	free(key->script);
	memset(key, 0, sizeof(*key));
}

/* ------------------------------------------------------------ fingerprints */

static int add_file_fp(struct sc_record *rec, const char *label, const char *path)
{
	char fp[256];
	struct stat st;

	if (stat(path, &st) < 0)
		return sc_record_addf(rec, label, "%s missing", path);
	sc_stat_fingerprint(&st, fp, sizeof(fp));
	return sc_record_addf(rec, label, "%s %s", path, fp);
}

/* Record a tree's fingerprint (see tree.h). */
static int add_tree_fp(struct sc_record *rec, const char *label, const char *path,
		       const char *cache_dir, struct sc_error *err)
{
	char *memo = cache_dir ? sc_strdupf("%s/trees", cache_dir) : NULL;
	char value[PATH_MAX + 128];
	int r = sc_tree_fingerprint(path, memo, value, sizeof(value), err);

	free(memo);
	return r < 0 ? r : sc_record_add_str(rec, label, value);
}

/* ------------------------------------------------------------ stap version */

static char *run_stap_version(const char *stap)
{
	char buf[512];
	size_t n = 0;
	int pfd[2], status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return NULL;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return NULL;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execl(stap, stap, "-V", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r = read(pfd[0], buf + n, sizeof(buf) - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == sizeof(buf) - 1)
			break;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !*buf)
		return NULL;
	return strdup(buf);
}

/*
 * `stap -V` once per stap binary identity; later requests read the memo, so
 * a cache hit never runs stap.
 */
static int add_stap(struct sc_record *rec, const struct sc_key_env *env,
		    struct sc_error *err)
{
	char fp[256], hex[SC_SHA256_HEXLEN + 1], *memo, *version, *id;
	uint8_t md[SC_SHA256_LEN];
	struct stat st;
	int r;

	if (stat(env->stap, &st) < 0 || !S_ISREG(st.st_mode)) {
		sc_error_set(err, "stap not found at %s: install systemtap (apt-get install "
				  "systemtap) or set 'stap:' in config.yaml", env->stap);
		return -ENOENT;
	}
	sc_stat_fingerprint(&st, fp, sizeof(fp));
	id = sc_strdupf("%s %s", env->stap, fp);
	sc_sha256(id, strlen(id), md);
	sc_hex(hex, md, sizeof(md));
	memo = sc_strdupf("%s/stap-version/%s", env->cache_dir, hex);
	version = read_line_file(memo);
	if (!version) {
		version = run_stap_version(env->stap);
		if (!version) {
			sc_error_set(err, "%s -V failed: is systemtap installed correctly?",
				     env->stap);
			free(memo);
			free(id);
			return -ENOEXEC;
		}
		char *dir = sc_strdupf("%s/stap-version", env->cache_dir);
		char *line = sc_strdupf("%s\n", version);

		/* The memo is an optimisation: failing to store it is harmless. */
		if (sc_mkdir_p(dir, 0755) == 0)
			(void)sc_write_file_atomic(memo, line, strlen(line), 0644);
		free(dir);
		free(line);
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
static int add_compiler(struct sc_record *rec)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	int r = 0, found = 0;

	copy = strdup(path && *path ? path : "/usr/bin:/bin");
	if (!copy)
		return -ENOMEM;
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *cand = sc_strdupf("%s/gcc", *dir ? dir : ".");
		char real[PATH_MAX];

		if (access(cand, X_OK) == 0 && realpath(cand, real)) {
			r = add_file_fp(rec, "compiler", real);
			found = 1;
		}
		free(cand);
	}
	free(copy);
	if (!found)
		r = sc_record_add_str(rec, "compiler", "gcc not found on PATH");
	return r;
}

static int add_kernel(struct sc_record *rec, const struct sc_kernel *k)
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

	r = sc_record_add_str(rec, "kernel.release", k->release);
	if (r == 0)
		r = sc_record_add_str(rec, "kernel.arch", k->arch);
	if (r == 0)
		r = sc_record_add_str(rec, "kernel.build-tree", k->build_tree);
	for (i = 0; r == 0 && i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = sc_strdupf("%s/%s", k->build_tree, files[i]);

		r = add_file_fp(rec, "kernel.file", p);
		free(p);
	}
	return r;
}

static int add_strv(struct sc_record *rec, const char *label, const struct sc_strv *sv)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < sv->n; i++)
		r = sc_record_add_str(rec, label, sv->v[i]);
	return r;
}

static int add_flag(struct sc_record *rec, const char *name, bool on)
{
	return on ? sc_record_add_str(rec, "option", name) : 0;
}

static int add_options(struct sc_record *rec, const struct sc_request *req,
		       struct sc_error *err)
{
	size_t i;
	int r = 0;

	r = r ?: add_flag(rec, "guru", req->guru);
	r = r ?: add_flag(rec, "bulk", req->bulk);
	r = r ?: add_flag(rec, "timing", req->timing);
	r = r ?: add_flag(rec, "unoptimized", req->unoptimized);
	r = r ?: add_flag(rec, "suppress-handler-errors", req->suppress_handler_errors);
	r = r ?: add_flag(rec, "suppress-time-limits", req->suppress_time_limits);
	r = r ?: add_flag(rec, "skip-badvars", req->skip_badvars);
	if (r == 0 && req->privilege)
		r = sc_record_add_str(rec, "privilege", req->privilege);
	if (r == 0 && req->compatible)
		r = sc_record_add_str(rec, "compatible", req->compatible);
	r = r ?: add_strv(rec, "define", &req->defines);
	r = r ?: add_strv(rec, "kbuild", &req->kbuild);
	for (i = 0; r == 0 && i < req->includes.n; i++)
		r = add_tree_fp(rec, "include", req->includes.v[i], NULL, err);
	return r;
}

/* stap also reads options from $SYSTEMTAP_DIR/rc (default ~/.systemtap/rc). */
static int add_stap_rc(struct sc_record *rec)
{
	const char *dir = getenv("SYSTEMTAP_DIR");
	const char *home = getenv("HOME");
	char *path, *buf = NULL;
	size_t len = 0;
	int r;

	if (dir && *dir)
		path = sc_strdupf("%s/rc", dir);
	else
		path = sc_strdupf("%s/.systemtap/rc", home ? home : "");
	r = sc_read_file(path, 65536, &buf, &len);
	if (r == 0)
		r = sc_record_add(rec, "stap.rc", buf, len);
	else
		r = 0;
	free(buf);
	free(path);
	return r;
}

static int read_script(const struct sc_request *req, struct sc_key *key, struct sc_error *err)
{
	int r;

	if (req->script_text) {
		key->script = strdup(req->script_text);
		key->script_len = strlen(req->script_text);
		key->script_name = "-e";
		return key->script ? 0 : -ENOMEM;
	}
	if (!strcmp(req->script_file, "-"))
		r = sc_read_fd(0, SCRIPT_MAX, &key->script, &key->script_len);
	else
		r = sc_read_file(req->script_file, SCRIPT_MAX, &key->script, &key->script_len);
	if (r < 0) {
		sc_error_set(err, "cannot read script %s: %s%s", req->script_file,
			     r == -EFBIG ? "larger than 16 MiB" : strerror(-r),
			     r == -ENOENT ? " (check the path, or use -e SCRIPT)" : "");
		return r;
	}
	if (!strcmp(req->script_file, "-")) {
		key->script_name = "stdin.stp";
	} else {
		const char *slash = strrchr(req->script_file, '/');

		key->script_name = slash ? slash + 1 : req->script_file;
	}
	return 0;
}

int sc_key_compute(const struct sc_request *req, const struct sc_kernel *kernel,
		   const struct sc_key_env *env, struct sc_key *key, struct sc_error *err)
{
	uint8_t md[SC_SHA256_LEN];
	const char *tapset_env = getenv("SYSTEMTAP_TAPSET");
	struct sc_record *rec;
	size_t i;
	int r;

	memset(key, 0, sizeof(*key));
	r = read_script(req, key, err);
	if (r < 0)
		return r;
	rec = key->record = sc_record_new();
	if (!rec) {
		r = -ENOMEM;
		goto fail;
	}
	r = add_stap(rec, env, err);
	if (r < 0)
		goto fail;
	r = add_tree_fp(rec, "runtime", env->runtime, env->cache_dir, err);
	if (r < 0) {
		sc_error_prefix(err, "runtime (-R or 'runtime:' in config.yaml)");
		goto fail;
	}
	r = add_tree_fp(rec, "tapset", tapset_env && *tapset_env ? tapset_env : env->tapset,
			env->cache_dir, err);
	if (r < 0)
		goto fail;
	r = r ?: add_stap_rc(rec);
	r = r ?: add_compiler(rec);
	r = r ?: add_kernel(rec, kernel);
	r = r ?: sc_record_addf(rec, "uid", "%u", (unsigned)getuid());
	if (r == 0)
		r = add_options(rec, req, err);
	if (r < 0)
		goto fail;
	r = r ?: sc_record_add_str(rec, "module", req->module ? req->module : "");
	r = r ?: sc_record_add_str(rec, "salt", req->salt ? req->salt : "");
	r = r ?: sc_record_add_str(rec, "script.name",
				   req->script_text ? "-e" : req->script_file);
	r = r ?: sc_record_add(rec, "script", key->script, key->script_len);
	for (i = 0; r == 0 && i < req->args.n; i++)
		r = sc_record_add_str(rec, "arg", req->args.v[i]);
	if (r == 0)
		r = sc_record_digest(rec, md);
	if (r < 0) {
		if (!err || !err->msg[0])
			sc_error_set(err, "cannot compute the cache key: %s", strerror(-r));
		goto fail;
	}
	sc_hex(key->hex, md, sizeof(md));
	if (req->module)
		snprintf(key->module, sizeof(key->module), "%s", req->module);
	else
		snprintf(key->module, sizeof(key->module), "stap_%.32s", key->hex);
	return 0;
fail:
	sc_key_clear(key);
	return r;
}
