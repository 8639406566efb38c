/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/build.h"
#include "cache/job.h"
#include "core/build-tree.h"
#include "core/cache-key.h"
#include "run/runner.h"
#include "remote/fleet.h"
#include "remote/launch.h"
#include "core/libexec.h"
#include "common/fsutil.h"
#include "common/spawn.h"
#include "remote/targets.h"
#include "sign/signed.h"
#include "sign/signer.h"

/* One distinct build: its key, and the module it gave (when one was needed). */
struct build {
	const struct sc_target *first; /* the target it was made for first */
	const char *spec, *arch, *runtime;
	char *owned_spec; /* spec, when made from a sysroot */
	const char *root; /* the target's build root, or NULL */
	struct sc_key key;
	char *path;
};

/*
 * Module signatures (issue 20): the signer stapcache is configured with
 * (signing-key:), read once when a target needs one; and per target the
 * signed variant found for it (NULL: it gets the unsigned module).
 */
struct signing {
	struct sc_signer signer;
	bool have_signer, tried;
	char **signed_path; /* one a selected target */
};

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static struct build *find_build(struct build *b, size_t n, const struct build *want)
{
	for (size_t i = 0; i < n; i++)
		if (same(b[i].spec, want->spec) && same(b[i].arch, want->arch) &&
		    same(b[i].runtime, want->runtime) && same(b[i].root, want->root))
			return &b[i];
	return NULL;
}

/* want's kernel: in its build root when it has one, else on this host. */
static int resolve_kernel(const struct sc_ctx *ctx, const struct build *want,
			  struct sc_kernel *k, struct sc_error *err)
{
	if (want->root)
		return sc_kernel_resolve_root(want->root, ctx->buildroot_homes,
					      want->spec, want->arch, k, err);
	return sc_kernel_resolve(want->spec, want->arch, k, err);
}

/*
 * The key of req's module for one target's kernel, as `-r spec -a arch
 * [-R runtime] -p4` would compute it (want->key), in the target's build root
 * when it has one. Returns 0, or -errno with err set.
 */
static int build_key(const struct sc_request *req, const struct sc_ctx *ctx,
		     struct sc_cache *c, struct build *want, struct sc_error *err)
{
	struct sc_request treq = *req;
	struct sc_kernel k = {0};
	int r;

	treq.kernel = want->spec;
	treq.arch = want->arch;
	treq.runtime = want->runtime; /* NULL: the context's */
	r = resolve_kernel(ctx, want, &k, err);
	if (r == 0)
		r = sc_key_compute(&treq, ctx, &k, sc_cache_memo_dir(c), &want->key, err);
	sc_kernel_clear(&k);
	return r;
}

/* --explain -T: one record a distinct build, after the target it is for. */
static int explain_build(const struct sc_ctx *ctx, struct sc_cache *c,
			 const struct build *b)
{
	printf("# target: %s%s%s\n", b->first->name, b->root ? ", build root " : "",
	       b->root ? b->root : "");
	return sc_signed_explain(&b->key, ctx, c, stdout);
}

/*
 * Get or build the unsigned module of want (its key computed): the same
 * cache entry, the same build as -p4. Returns 0 and want->path, or -errno
 * with err set.
 */
static int get_module(const struct sc_request *req, const struct sc_ctx *ctx,
		      struct sc_cache *c, struct build *want, struct sc_error *err)
{
	struct sc_request treq = *req;
	struct sc_kernel k = {0};
	enum sc_cache_how how;
	int r;

	if (want->path)
		return 0;
	treq.kernel = want->spec;
	treq.arch = want->arch;
	treq.runtime = want->runtime;
	r = resolve_kernel(ctx, want, &k, err);
	if (r == 0) {
		struct sc_build b = {.req = &treq,
				     .ctx = ctx,
				     .kernel = &k,
				     .key = &want->key};

		r = sc_cache_get(c, &want->key, sc_build_run, &b, &want->path, &how, err);
	}
	if (r == 0 && req->verbose)
		fprintf(stderr, "stapcache: %s for %s: %s\n",
			how == SC_CACHE_BUILT        ? "built"
			: how == SC_CACHE_HIT_WAITED ? "built by a concurrent request"
						     : "cache hit",
			k.release, want->path);
	sc_kernel_clear(&k);
	return r;
}

/*
 * A target that loads only signed modules: the signed variant of b by a
 * signer it trusts, from the cache or the shared store: the configured
 * signer first (unless the target is known not to trust it), then each
 * signer the target's UEFI db and MOK list hold. Returns 0 and *path, or
 * -ENOENT, or -errno with err set.
 */
static int find_signed(const struct sc_ctx *ctx, struct sc_cache *c,
		       const struct sc_target *t, struct build *b, struct signing *sg,
		       char **path, struct sc_error *err)
{
	struct sc_error ignored = {{0}};
	int r = -ENOENT;

	if (!sg->tried) {
		sg->tried = true;
		sg->have_signer = ctx->signing_key &&
				  sc_signer_open(ctx->signing_key, ctx->signing_cert,
						 &sg->signer, &ignored) == 0;
	}
	/* the cache for every candidate first, then the shared store, if any */
	for (int local = 1; local >= (ctx->shared_cache ? 0 : 1) && r == -ENOENT;
	     local--) {
		if (sg->have_signer && sc_target_trusts(t, sg->signer.fp) != 0)
			r = sc_signed_find(c, &b->key, sg->signer.fp, local, path, err);
		for (size_t i = 0; r == -ENOENT && i < t->nsigners; i++)
			if (!sg->have_signer || strcmp(t->signers[i], sg->signer.fp))
				r = sc_signed_find(c, &b->key, t->signers[i], local, path,
						   err);
	}
	return r;
}

/*
 * No signed variant for t: one line, before anything connects, saying what
 * t demands and the bless --sign that would fix it (the unsigned module's
 * path is b->path). With -p4 (p4), a note: the unsigned module is printed,
 * the one to sign.
 */
static void say_unsigned(const struct sc_target *t, const struct build *b,
			 const struct signing *sg, bool p4)
{
	char *why = sc_target_enforcement(t), fp[SC_SIGNER_SHORT_LEN + 1];
	const char *key = sg->have_signer ? sg->signer.key : "KEY";

	if (p4) {
		fprintf(stderr,
			"stapcache: note: %s loads only signed modules (%s) and has no signed "
			"variant yet; this is the unsigned module: stapcache bless -T %s "
			"--sign %s %s\n",
			t->name, why, t->name, key, b->path);
		free(why);
		return;
	}

	if (sg->have_signer && sc_target_trusts(t, sg->signer.fp) == 0) {
		sc_signer_short(sg->signer.fp, fp);
		fprintf(stderr,
			"stapcache: %s loads only signed modules (%s), and the "
			"configured signer %s (%s…) is not among the %zu certificates its "
			"UEFI db and MOK list hold: enroll it there (mokutil --import), "
			"'stapcache host refresh %s', then: stapcache bless -T %s --sign %s "
			"%s\n",
			t->name, why, key, fp, t->nsigners, t->name, t->name, key,
			b->path);
	} else {
		fprintf(stderr,
			"stapcache: %s loads only signed modules (%s), and no signed "
			"variant of %s.ko is cached; sign and bless it: stapcache bless -T "
			"%s --sign %s %s%s\n",
			t->name, why, b->key.module, t->name, key, b->path,
			sg->have_signer ? ""
					: " (KEY: a module-signing key enrolled there; "
					  "stapcache signing-key generate makes one)");
	}
	free(why);
}

/*
 * Run argv (host probe) with its stdout read into *out (caller frees) and its
 * stderr left on ours, where its messages (a refused host key) belong.
 * Returns 0 when it exited 0, else -errno.
 */
static int probe_stdout(const char *const *argv, char **out)
{
	struct sc_spawn_opts so = SC_SPAWN_OPTS_INIT;
	char *buf = NULL;
	size_t len = 0;
	int fd[2], st = 0, r;
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC) < 0)
		return -errno;
	so.stdout_fd = fd[1];
	r = sc_spawn(argv, &so, &pid);
	close(fd[1]);
	while (r == 0) {
		char chunk[4096], *nb;
		ssize_t n = read(fd[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || len + (size_t)n > (64u << 10))
			break;
		nb = realloc(buf, len + (size_t)n + 1);
		if (!nb)
			break;
		buf = nb;
		memcpy(buf + len, chunk, (size_t)n);
		len += (size_t)n;
		buf[len] = '\0';
	}
	close(fd[0]);
	if (r == 0)
		r = sc_wait(pid, &st);
	if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !buf))
		r = -EIO;
	if (r == 0)
		*out = buf;
	else
		free(buf);
	return r;
}

/*
 * --remote [ssh://]USER@HOST[:PORT]: an ad-hoc target named after its host
 * (and port), with the --remote-runner runner (default direct, staprun, as
 * stap --remote runs). Its kernel and arch come from asking it
 * (stapcache-remote host probe: one connection, the same host key checks),
 * and the entry is added to all, its YAML to *yaml (for the helper's --entry).
 */
static int adhoc_target(const char *url, const char *runner, size_t nth,
			struct sc_targets *all, struct sc_argv *yaml)
{
	struct sc_error err = {{0}};
	const char *hp = strncmp(url, "ssh://", 6) ? url : url + 6,
		   *at = strrchr(hp, '@');
	char name[80], *exe, *out = NULL, *helper = sc_helper_path("stapcache-remote");
	const char *argv[] = {helper, "host", "probe", name, NULL, NULL};
	size_t k = 0;
	int r;

	if (strstr(url, "://") && strncmp(url, "ssh://", 6)) {
		fprintf(stderr,
			"stapcache: --remote %s: only ssh:// (or USER@HOST[:PORT])\n",
			url);
		free(helper);
		return -EINVAL;
	}
	for (const char *c = at ? at + 1 : hp; *c && k < 60; c++)
		name[k++] = (isalnum((unsigned char)*c) || *c == '.' || *c == '-' ||
			     *c == '_')
				    ? *c
				    : '-';
	name[k] = '\0';
	if (!name[0] || !isalnum((unsigned char)name[0]))
		snprintf(name, sizeof(name), "remote%zu", nth + 1);
	while (sc_targets_find(all, name) && k < 70)
		snprintf(name + k, sizeof(name) - k, "-%zu", nth + 1), k = strlen(name);
	exe = sc_strdupf("ssh:%s:%s", hp, runner ? runner : "direct");
	argv[4] = exe;
	r = probe_stdout(argv, &out);
	if (r < 0 || !out) {
		r = -EIO;
		fprintf(stderr,
			"stapcache: --remote %s: cannot ask it its kernel and arch\n",
			url);
	} else if ((r = sc_targets_parse(url, out, strlen(out), all, &err)) < 0) {
		fprintf(stderr, "stapcache: --remote %s: %s\n", url, err.msg);
	} else {
		r = sc_argv_pushf(yaml, "%s", out);
	}
	free(out);
	free(exe);
	free(helper);
	return r;
}

/*
 * stapcache-remote run's argv: its own options, one -T NAME=MODULE.ko per
 * target, then what the table gives the runner (sc_run_opts, as run.c gives
 * it locally) verbatim: each option word as --runner-arg WORD, the module
 * parameters after "--".
 */
static int helper_argv(const struct sc_request *req, unsigned duration,
		       const struct sc_targets *all, const size_t *idx, size_t n,
		       const char *const *paths, const struct sc_argv *yaml,
		       struct sc_argv *a, struct sc_argv *opts, struct sc_argv *params)
{
	int r = sc_argv_push(a, "stapcache-remote") ?: sc_argv_push(a, "run");

	for (size_t i = 0; r == 0 && i < yaml->n; i++)
		r = sc_argv_push(a, "--entry") ?: sc_argv_push(a, yaml->v[i]);

	for (int i = 0; r == 0 && i < req->verbose && i < 4; i++)
		r = sc_argv_push(a, "-v");
	if (r == 0 && req->connect_timeout)
		r = sc_argv_pushf(a, "--connect-timeout=%d", req->connect_timeout);
	if (r == 0 && req->io_timeout)
		r = sc_argv_pushf(a, "--io-timeout=%d", req->io_timeout);
	if (r == 0 && req->jobs)
		r = sc_argv_pushf(a, "--jobs=%d", req->jobs);
	/* The output is read and written here (-o FILE too: never the target's runner). */
	if (r == 0 && req->output_json)
		r = sc_argv_push(a, "--output=json");
	if (r == 0 && req->trace)
		r = sc_argv_push(a, "--trace");
	if (r == 0 && req->output_file)
		r = sc_argv_push(a, "--output-file") ?: sc_argv_push(a, req->output_file);
	if (req->no_progress)
		r = r ?: sc_argv_push(a, "--no-progress");
	if (r == 0 && duration)
		r = sc_argv_pushf(a, "--duration=%u", duration);
	if (r == 0 && req->detach)
		r = sc_argv_push(a, "--detach")
			    ?: sc_argv_pushf(a, "--rotate=%u,%u",
					     req->rotate_mb ? req->rotate_mb
							    : SC_DETACH_ROTATE_MB,
					     req->rotate_mb ? req->rotate_files
							    : SC_DETACH_ROTATE_FILES);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = sc_argv_push(a, "-T")
			    ?: sc_argv_pushf(a, "%s=%s", all->v[idx[i]].name, paths[i]);
	r = r ?: sc_run_opts(req, opts, params);
	for (size_t i = 0; r == 0 && i < opts->n; i++)
		r = sc_argv_push(a, "--runner-arg") ?: sc_argv_push(a, opts->v[i]);
	r = r ?: sc_argv_push(a, "--");
	for (size_t i = 0; r == 0 && i < params->n; i++)
		r = sc_argv_push(a, params->v[i]);
	return r;
}

static int exec_run(const struct sc_request *req, unsigned duration,
		    const struct sc_targets *all, const size_t *idx, size_t n,
		    const char *const *paths, const struct sc_argv *yaml)
{
	struct sc_argv a = {0}, opts = {0}, params = {0};
	int status = 1;

	if (helper_argv(req, duration, all, idx, n, paths, yaml, &a, &opts, &params) < 0)
		fprintf(stderr, "stapcache: out of memory\n");
	else
		status = sc_remote_exec_argv((char **)a.v);
	sc_argv_free(&a);
	sc_argv_free(&opts);
	sc_argv_free(&params);
	return status;
}

/*
 * One build per distinct (tree or release, arch, runtime) among the selected
 * targets (a target's tree is its build-tree:, else its sysroot's
 * lib/modules/KERNEL/build, else its kernel release's): builds[] gets them (*nb of them), of[i] the one for target idx[i].
 * The runtime is -R, else the target's runtime:, else the context's. A
 * target that loads only signed modules gets a signed variant
 * (sg->signed_path[i]); the unsigned module is built only where a target
 * takes it, or to name it when no signed variant is there.
 * Returns 0, or -1 after saying what failed (of[] is then not all set).
 */
static int get_builds(const struct sc_request *req, const struct sc_ctx *ctx,
		      struct sc_cache *c, const struct sc_targets *all, const size_t *idx,
		      size_t n, struct build *builds, size_t *nb, struct build **of,
		      struct signing *sg)
{
	struct sc_error err = {{0}};
	int failed = 0, r;

	for (size_t i = 0; i < n; i++) {
		const struct sc_target *t = &all->v[idx[i]];
		char *tree = !t->build_tree && t->sysroot ? sc_target_sysroot_tree(t)
							  : NULL;
		const struct build want = {
			.first = t,
			.spec = t->build_tree ? t->build_tree
				: tree        ? tree
					      : t->kernel,
			.arch = t->arch,
			.runtime = req->runtime ? req->runtime : t->runtime,
			.root = t->build_root,
		};
		struct build *b = find_build(builds, *nb, &want);

		if (!b) {
			b = &builds[(*nb)++];
			*b = want;
			b->owned_spec = tree;
			tree = NULL;
			if (build_key(req, ctx, c, b, &err) < 0) {
				fprintf(stderr, "stapcache: %s (for target %s): %s\n",
					b->spec, t->name, err.msg);
				return -1;
			}
			if (req->explain && explain_build(ctx, c, b) < 0) {
				fprintf(stderr, "stapcache: cannot write --explain\n");
				return -1;
			}
		}
		free(tree);
		of[i] = b;
		if (req->explain) /* each distinct build's record, nothing built */
			continue;
		r = sc_target_needs_signature(t)
			    ? find_signed(ctx, c, t, b, sg, &sg->signed_path[i], &err)
			    : -ENOENT;
		if (r == 0 && req->verbose)
			fprintf(stderr, "stapcache: signed variant for %s: %s\n", t->name,
				sg->signed_path[i]);
		if (r == 0)
			continue;
		if (r != -ENOENT) {
			fprintf(stderr, "stapcache: %s: %s\n", t->name, err.msg);
			return -1;
		}
		if (get_module(req, ctx, c, b, &err) < 0) {
			fprintf(stderr, "stapcache: %s (for target %s): %s\n", b->spec,
				t->name, err.msg);
			return -1;
		}
		if (sc_target_needs_signature(t)) {
			/* -p4 prints the unsigned module: the one to bless --sign */
			say_unsigned(t, b, sg, req->last_pass == 4);
			failed = req->last_pass != 4;
		}
	}
	return failed ? -1 : 0;
}

/* The module target i gets: its signed variant, or the build's. */
static const char *module_for(struct build *const *of, const struct signing *sg, size_t i)
{
	return sg->signed_path[i] ? sg->signed_path[i] : of[i]->path;
}

/*
 * --detach: a run nobody watches must end by itself, so a duration is
 * required (max-duration: caps it as for any run); its output stays on the
 * target, so -o FILE here means nothing. Returns 0, or -1 after saying why.
 */
static int detach_usage(const struct sc_request *req)
{
	const char *why = !req->duration ? "--detach needs --duration SECONDS: a "
					   "detached run must end by itself "
					   "(max-duration: in config.yaml caps it)"
			  : req->output_file
				  ? "--detach and -o FILE do not go together: "
				    "the output stays on the target (stapcache "
				    "logs fetches it)"
				  : NULL;

	if (why)
		fprintf(stderr, "stapcache: %s\n", why);
	return why ? -1 : 0;
}

int sc_remote_targets(const struct sc_request *req, const struct sc_env *env,
		      const struct sc_ctx *ctx, struct sc_cache *c)
{
	struct sc_targets all = {0};
	struct sc_error err = {{0}};
	struct build *builds = NULL, **of = NULL;
	struct signing sg = {0};
	const char **paths = NULL;
	struct sc_argv yaml = {0}, specs = {0};
	size_t *idx = NULL, n = 0, nb = 0;
	char *path = sc_targets_default_path(env->xdg_config_home, env->home);
	int status = 2;

	if (req->kernel || req->arch) {
		fprintf(stderr, "stapcache: -r/-a and -T do not go together: a target's "
				"known_hosts entry says its kernel and arch\n");
		goto out;
	}
	if (req->detach && req->last_pass != 4 && detach_usage(req) < 0)
		goto out;
	status = 1;
	if (sc_targets_load(path, &all, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < req->targets.n; i++)
		if (sc_argv_push(&specs, req->targets.v[i]) < 0)
			goto out;
	for (size_t i = 0; i < req->remotes.n; i++) {
		if (adhoc_target(req->remotes.v[i], req->remote_runner, i, &all, &yaml) <
			    0 ||
		    sc_argv_push(&specs, all.v[all.n - 1].name) < 0)
			goto out;
	}
	if (sc_targets_select(&all, (const char *const *)specs.v, specs.n, &idx, &n,
			      &err) < 0) {
		fprintf(stderr, "stapcache: %s%s\n", err.msg,
			all.n == 0 && access(path, F_OK) != 0
				? " (no known_hosts file yet)"
				: "");
		goto out;
	}
	builds = calloc(n, sizeof(*builds));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): of[] is an array of pointers */
	of = calloc(n, sizeof(*of));
	sg.signed_path = calloc(n, sizeof(*sg.signed_path));
	paths = calloc(n, sizeof(*paths));
	if (!builds || !of || !sg.signed_path || !paths) {
		fprintf(stderr, "stapcache: out of memory\n");
		goto out;
	}
	/* -G values no runner can pass: said before anything is built or sent */
	if (req->last_pass != 4 && sc_run_params_check(req, NULL, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		status = 1;
		goto out;
	}
	if (get_builds(req, ctx, c, &all, idx, n, builds, &nb, of, &sg) < 0) {
		status = sc_build_interrupted() ? 128 + sc_build_interrupted() : 1;
		goto out;
	}
	if (req->explain) { /* every distinct build's record is printed */
		status = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		paths[i] = module_for((struct build *const *)of, &sg, i);
	/* -G names each module declares: said before anything connects */
	for (size_t i = 0; req->last_pass != 4 && i < n; i++)
		if ((i == 0 || strcmp(paths[i], paths[i - 1]) != 0) &&
		    sc_run_params_check(req, paths[i], &err) < 0) {
			fprintf(stderr, "stapcache: %s\n", err.msg);
			status = 1;
			goto out;
		}
	if (req->last_pass == 4) {
		/* one path a distinct module, in target order */
		for (size_t i = 0; i < n; i++) {
			bool seen = false;

			for (size_t j = 0; j < i && !seen; j++)
				seen = !strcmp(paths[j], paths[i]);
			if (!seen)
				printf("%s\n", paths[i]);
		}
		status = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	status = exec_run(req, sc_run_duration(req, ctx->max_duration), &all, idx, n,
			  paths, &yaml);
out:
	sc_argv_free(&yaml);
	sc_argv_free(&specs);
	for (size_t i = 0; i < nb; i++) {
		free(builds[i].path);
		free(builds[i].owned_spec);
		sc_key_clear(&builds[i].key);
	}
	for (size_t i = 0; sg.signed_path && i < n; i++)
		free(sg.signed_path[i]);
	free(sg.signed_path);
	free(paths);
	sc_signer_clear(&sg.signer);
	free(builds);
	free(of);
	free(idx);
	free(path);
	sc_targets_clear(&all);
	return status;
}
