/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `stapcache bless [-T TARGET|@GROUP]... MODULE.ko`: the line that blesses a
 * module in authorized_probes(5), printed, or appended on each target by the
 * stapcache-remote helper (remote/helper/policy-edit.c). The digest is of
 * exactly the bytes checked as a module.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/digest.h"
#include "common/fsutil.h"
#include "common/modinfo.h"
#include "core/cmdopt.h"
#include "remote/launch.h"

struct bless_args {
	const char *path, *users, *params, *admin, *policy;
	struct sc_strv targets;
};

/* A users=/params= list: names and commas only, so it cannot end the entry. */
static bool list_ok(const char *v)
{
	if (!*v || *v == ',')
		return false;
	for (const char *p = v; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("_.,-", *p)))
			return false;
	return true;
}

/* The module's bytes, read once (regular file, at most SC_MODULE_MAX) and hashed. */
static int read_module(const char *path, char **buf, size_t *len,
		       uint8_t md[SC_SHA256_LEN])
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), r;

	if (fd < 0) {
		fprintf(stderr, "stapcache: bless: cannot open %s: %s (check the path)\n",
			path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		fprintf(stderr, "stapcache: bless: %s is not a regular file\n", path);
		return -1;
	}
	r = sc_read_fd_sha256(fd, SC_MODULE_MAX, buf, len, md);
	close(fd);
	if (r == -EFBIG)
		fprintf(stderr,
			"stapcache: bless: %s is larger than %u MiB, the largest "
			"module stapcache handles\n",
			path, SC_MODULE_MAX >> 20);
	else if (r < 0)
		fprintf(stderr, "stapcache: bless: cannot read %s: %s\n", path,
			strerror(-r));
	return r < 0 ? -1 : 0;
}

/*
 * The module's digest and its authorized_probes line with a's options.
 * Returns 0, or 1 after saying why.
 */
static int bless_line(const struct bless_args *a, char hex[SC_SHA256_HEXLEN + 1],
		      char **line)
{
	uint8_t md[SC_SHA256_LEN];
	struct sc_error err = {{0}};
	struct sc_modinfo *mi = NULL;
	const char *path = a->path, *base, *name;
	char *buf = NULL;
	size_t len = 0, blen;
	int r;

	if (read_module(path, &buf, &len, md) < 0)
		return 1;
	r = sc_modinfo_parse(buf, len, &mi, &err);
	free(buf);
	if (r < 0) {
		fprintf(stderr, "stapcache: bless: %s is not a kernel module: %s\n", path,
			err.msg);
		return 1;
	}
	sc_hex(hex, md, SC_SHA256_LEN);
	name = sc_modinfo_name(mi);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	blen = strlen(base);
	if (blen < 3 || strcmp(base + blen - 3, ".ko") != 0 || blen - 3 != strlen(name) ||
	    strncmp(base, name, blen - 3) != 0)
		fprintf(stderr,
			"stapcache: warning: %s is module %s; it can be loaded only "
			"as a file named %s.ko\n",
			path, name, name);
	*line = sc_strdupf("sha256:%s%s%s%s%s  # %s", hex, a->users ? " users=" : "",
			   a->users ? a->users : "", a->params ? " params=" : "",
			   a->params ? a->params : "", name);
	sc_modinfo_free(mi);
	if (!*line) {
		fprintf(stderr, "stapcache: out of memory\n");
		return 1;
	}
	return 0;
}

int sc_cmd_bless(int argc, char **argv)
{
	struct bless_args a = {0};
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_LIST('T', NULL, "TARGET", &a.targets,
			       "append the line to TARGET's authorized_probes (a known_hosts\n"
			       "target or @GROUP; repeat for more)"),
		SC_CMDOPT_STRING(0, "admin", "USER", &a.admin,
				 "with -T: log in as USER (root, or a user that may run sudo\n"
				 "without a password; default: the target's login)"),
		SC_CMDOPT_STRING(0, "policy", "PATH", &a.policy,
				 "with -T: the policy file (default: "
				 "/etc/systemtap/authorized_probes)"),
		SC_CMDOPT_STRING(0, "users", "U,...", &a.users,
				 "only these users may load it (users=)"),
		SC_CMDOPT_STRING(0, "params", "P,...", &a.params,
				 "only these module parameters may be set (params=)"),
	};
	const struct sc_cmdopt_spec spec = {
		.name = "bless",
		.synopsis = "[--users U,...] [--params P,...] MODULE.ko\n"
			    "-T TARGET|@GROUP... [--admin USER] [--policy PATH] "
			    "[--users U,...] [--params P,...] MODULE.ko",
		.about =
			"Print the line that blesses MODULE.ko in authorized_probes(5); with\n"
			"-T, append it on each target (atomic; nothing is added twice).",
		SC_CMDOPT_ROWS(opts),
		.min_args = 1,
		.max_args = 1,
	};
	char hex[SC_SHA256_HEXLEN + 1], *line = NULL;
	int r = sc_cmdopt_parse(&spec, argc, argv), status;

	if (r < 0)
		return sc_cmdopt_exit(r);
	a.path = argv[r];
	if (!a.targets.n && (a.admin || a.policy))
		status = sc_cmdopt_usage_error(&spec, "--admin and --policy go with -T");
	else if ((a.users && !list_ok(a.users)) || (a.params && !list_ok(a.params)))
		status =
			sc_cmdopt_usage_error(&spec,
					      "--users and --params take NAME[,NAME...]");
	else if ((status = bless_line(&a, hex, &line)) != 0)
		;
	else if (a.targets.n)
		status = sc_remote_exec_bless(a.targets.v, a.targets.n, a.admin, a.policy,
					      hex, line);
	else
		status = printf("%s\n", line) < 0;
	free(line);
	free(a.targets.v);
	return status;
}
