/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "core/build-tree.h"

void sc_kernel_clear(struct sc_kernel *k)
{
	free(k->spec);
	free(k->release);
	free(k->build_tree);
	free(k->arch);
	sc_buildroot_free(k->root);
	free(k->tree_inside);
	memset(k, 0, sizeof(*k));
}

static char *read_line_file(const char *path)
{
	char *buf = NULL;

	if (sc_read_file(path, 4096, &buf, NULL) < 0)
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

	if (sc_read_file(path, 4096, &buf, NULL) == 0 &&
	    (p = strstr(buf, "UTS_RELEASE")) && (p = strchr(p, '"')) &&
	    (q = strchr(p + 1, '"')) && q > p + 1)
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
		sc_error_set(
			err,
			"-r needs a kernel release or a build tree, not an empty string");
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
	if (sc_realpath(tree, real) < 0) {
		if (spec)
			sc_error_set(
				err,
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

int sc_kernel_resolve_root(const char *root_dir, const char *homes, const char *spec,
			   const char *arch, struct sc_kernel *out, struct sc_error *err)
{
	struct sc_buildroot *br = NULL;
	char *tree = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = sc_buildroot_open(root_dir, homes, &br, err);
	if (r < 0)
		return r;
	if (spec && !*spec) {
		sc_error_set(err, "an empty kernel release for the build root %s",
			     br->dir);
		sc_buildroot_free(br);
		return -EINVAL;
	}
	if (!spec)
		spec = br->kernel;
	tree = strchr(spec, '/') ? sc_strdupf("%s", spec)
				 : sc_strdupf("/lib/modules/%s/build", spec);
	r = sc_buildroot_resolve(br, tree, &out->build_tree, &out->tree_inside);
	if (r < 0) {
		sc_error_set(err,
			     "the build root %s (%s) has no kernel build tree %s (%s); it "
			     "has the headers for %s: update it (stapcache buildroot create "
			     "--release %s --refresh) or set the target's kernel: to what "
			     "it runs",
			     br->dir, br->release, tree, strerror(-r), br->kernel,
			     br->release);
		free(tree);
		sc_buildroot_free(br);
		sc_kernel_clear(out);
		return r;
	}
	free(tree);
	out->root = br;
	out->release = strchr(spec, '/') ? tree_release(out->build_tree)
					 : sc_strdupf("%s", spec);
	if (!out->release) {
		sc_error_set(err,
			     "%s in the build root %s is not a configured kernel build tree",
			     spec, br->dir);
		sc_kernel_clear(out);
		return -ENOENT;
	}
	out->spec = sc_strdupf("%s", spec);
	out->arch = sc_strdupf("%s", arch ? arch : "x86_64");
	return 0;
}

static bool file_has(const char *path, const char *needle)
{
	char *buf = NULL;
	bool found;

	if (sc_read_file(path, 1u << 20, &buf, NULL) < 0)
		return false;
	found = strstr(buf, needle) != NULL;
	free(buf);
	return found;
}

/* The common tree a Debian -ARCH Makefile includes ("include DIR/Makefile"), or NULL. */
static char *common_tree(const struct sc_kernel *k)
{
	char *mk = sc_strdupf("%s/Makefile", k->build_tree), *buf = NULL, *dir = NULL;
	char *inc, *end, *host = NULL;

	if (sc_read_file(mk, 4096, &buf, NULL) == 0 && (inc = strstr(buf, "include ")) &&
	    (end = strstr(inc, "/Makefile")) &&
	    memchr(inc, '\n', (size_t)(end - inc)) == NULL)
		dir = sc_strdupf("%.*s", (int)(end - inc - 8), inc + 8);
	if (dir && k->root && sc_buildroot_resolve(k->root, dir, &host, NULL) == 0) {
		free(dir);
		dir = host;
	}
	free(buf);
	free(mk);
	return dir;
}

char *sc_kernel_header(const struct sc_kernel *k, const char *rel)
{
	char *common = common_tree(k);
	const char *const bases[] = {k->build_tree, k->build_tree, common};
	const char *const subs[] = {"", "/source", ""};
	char *found = NULL;

	for (size_t i = 0; i < 3 && !found; i++) {
		char *p;

		if (!bases[i])
			continue;
		p = sc_strdupf("%s%s/%s", bases[i], subs[i], rel);
		if (access(p, F_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(common);
	return found;
}

/* Does k's header rel mention needle? */
static bool header_has(const struct sc_kernel *k, const char *rel, const char *needle)
{
	char *h = sc_kernel_header(k, rel);
	bool found = h && file_has(h, needle);

	free(h);
	return found;
}

const char *sc_kernel_runtime_fix(const struct sc_kernel *k, const char *runtime)
{
	char *tw = sc_strdupf("%s/stp_task_work.c", runtime);
	char *tr = sc_strdupf("%s/transport/transport.c", runtime);
	/* where stapcache-fix-runtime's uprobes-6.12 puts the new call */
	char *ui = sc_strdupf("%s/linux/uprobes-inode.c", runtime);
	const char *why = NULL;

	if (file_has(tw, "typedef typeof(&task_work_cancel) task_work_cancel_fn;") &&
	    header_has(k, "include/linux/task_work.h", "task_work_cancel_func"))
		why = "task_work_cancel() is now task_work_cancel_func()";
	else if (file_has(tr, "kallsyms_lookup_name (\"uprobe_unregister\")") &&
		 !file_has(tr, "uprobe_unregister_nosync") &&
		 !file_has(ui, "uprobe_unregister_nosync") &&
		 header_has(k, "include/linux/uprobes.h", "uprobe_unregister_nosync"))
		why = "uprobes API changed in Linux 6.12 (uprobe_unregister_nosync)";
	free(tw);
	free(tr);
	free(ui);
	return why;
}
