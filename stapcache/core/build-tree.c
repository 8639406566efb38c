/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/fsutil.h"
#include "core/build-tree.h"

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

/* Debian splits a kernel's headers into -ARCH and -common trees. */
static bool headers_rename_task_work_cancel(const char *tree)
{
	static const char *const rel[] = {
		"include/linux/task_work.h",
		"source/include/linux/task_work.h",
	};
	char *mk = sc_strdupf("%s/Makefile", tree), *buf = NULL;
	bool found = false;

	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]) && !found; i++) {
		char *p = sc_strdupf("%s/%s", tree, rel[i]);

		found = file_has(p, "task_work_cancel_func");
		free(p);
	}
	/* Debian's -ARCH Makefile is "include /usr/src/linux-headers-...-common/Makefile". */
	if (!found && sc_read_file(mk, 4096, &buf, NULL) == 0) {
		char *inc = strstr(buf, "include ");
		char *end = inc ? strstr(inc, "/Makefile") : NULL;

		if (end) {
			char *p = sc_strdupf("%.*s/include/linux/task_work.h",
					     (int)(end - inc - 8), inc + 8);

			found = file_has(p, "task_work_cancel_func");
			free(p);
		}
	}
	free(buf);
	free(mk);
	return found;
}

bool sc_kernel_needs_runtime_fix(const struct sc_kernel *k, const char *runtime)
{
	char *p = sc_strdupf("%s/stp_task_work.c", runtime);
	bool unfixed =
		file_has(p, "typedef typeof(&task_work_cancel) task_work_cancel_fn;");

	free(p);
	return unfixed && headers_rename_task_work_cancel(k->build_tree);
}
