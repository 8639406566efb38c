/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modinfo.h"
#include "options.h"

enum {
	OPT_HELP = 256,
	OPT_VERSION,
	OPT_EXPLAIN,
	OPT_SALT,
	OPT_PRIVILEGE,
	OPT_UNPRIVILEGED,
	OPT_COMPATIBLE,
	OPT_SUPPRESS_HANDLER_ERRORS,
	OPT_SUPPRESS_TIME_LIMITS,
	OPT_SKIP_BADVARS,
	OPT_CONNECT_TIMEOUT, /* remote */
	OPT_JOBS,            /* remote */
};

static const struct option long_options[] = {
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{"explain", no_argument, NULL, OPT_EXPLAIN},
	{"salt", required_argument, NULL, OPT_SALT},
	{"privilege", required_argument, NULL, OPT_PRIVILEGE},
	{"unprivileged", no_argument, NULL, OPT_UNPRIVILEGED},
	{"compatible", required_argument, NULL, OPT_COMPATIBLE},
	{"suppress-handler-errors", no_argument, NULL, OPT_SUPPRESS_HANDLER_ERRORS},
	{"suppress-time-limits", no_argument, NULL, OPT_SUPPRESS_TIME_LIMITS},
	{"skip-badvars", no_argument, NULL, OPT_SKIP_BADVARS},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"jobs", required_argument, NULL, OPT_JOBS},
	{NULL, 0, NULL, 0},
};

void sc_usage(FILE *out)
{
	fputs("Usage: stapcache [OPTIONS] (-e SCRIPT | FILE) [ARGS...]\n"
	      "       stapcache cache (stats|list|prune [--max-size SIZE]|clear)\n"
	      "       stapcache bless MODULE.ko\n"
	      "       stapcache -T TARGET|@GROUP ... [OPTIONS] (-e SCRIPT | FILE)\n"
	      "       stapcache host (self|list|add|remove|refresh|accept) ...\n"
	      "\n"
	      "Compile a SystemTap script once and answer the same request from a cache.\n"
	      "\n"
	      "  -p4               compile only; print the module's absolute path on stdout\n"
	      "  -r RELEASE|DIR    kernel release or build tree (default: running kernel)\n"
	      "  -a ARCH           target architecture (default: this machine's)\n"
	      "  -R DIR            systemtap runtime directory (default: config, then stap's)\n"
	      "  -m NAME           module name (default: stap_<key prefix>)\n"
	      "  -D NAME[=VALUE]   preprocessor definition for the module (key input)\n"
	      "  -I DIR            extra tapset directory (its files are key inputs)\n"
	      "  -B NAME=VALUE     kbuild make option (key input)\n"
	      "  -g                guru mode\n"
	      "  -b -t -u          bulk mode, timing, unoptimized (as stap)\n"
	      "  --privilege=LEVEL, --unprivileged, --compatible=VERSION,\n"
	      "  --suppress-handler-errors, --suppress-time-limits, --skip-badvars\n"
	      "                    as stap (key inputs)\n"
	      "  --salt S          a deliberate extra key input: a distinct module for the\n"
	      "                    same script (e.g. to run it twice at once)\n"
	      "  -G NAME=VALUE     run-time global (module parameter; not a key input)\n"
	      "  -c CMD, -x PID, -o FILE, -s MB\n"
	      "                    run-time options passed to the runner\n"
	      "  -T NAME|@GROUP    build for a known_hosts target and run there over SSH\n"
	      "                    (repeatable; with -p4 only build and print the paths)\n"
	      "  --connect-timeout S, --jobs N\n"
	      "                    for -T: SSH connect timeout (10), targets at once (64)\n"
	      "  --explain         print the key record for this request; build nothing\n"
	      "  -v                more progress on stderr (repeatable)\n"
	      "  -h, --help        this text\n"
	      "  -V, --version     version\n"
	      "\n"
	      "Files: $XDG_CONFIG_HOME/stapcache/config.yaml (settings),\n"
	      "       $XDG_CACHE_HOME/stapcache (the cache). See stapcache(1).\n",
	      out);
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

void sc_options_free(struct sc_request *req)
{
	free(req->defines.v);
	free(req->includes.v);
	free(req->kbuild.v);
	free(req->globals.v);
	free(req->args.v);
	free(req->targets.v);
}

static int parse_global(const char *arg, struct sc_error *err)
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

static int unsupported(int c, const char *arg, struct sc_error *err)
{
	if (c == '?' && arg)
		sc_error_set(err,
			     "unknown or unsupported option '%s' (stapcache caches -p4 builds; "
			     "run stap directly for other modes; see stapcache --help)",
			     arg);
	else if (c == ':' && arg)
		sc_error_set(err, "option '%s' needs a value (see stapcache --help)", arg);
	else
		sc_error_set(err, "unsupported option '-%c' (stapcache caches -p4 builds; "
				  "run stap directly for other modes)", c);
	return -EINVAL;
}

int sc_options_parse(int argc, char **argv, struct sc_request *req, struct sc_error *err)
{
	int c, r = 0;

	memset(req, 0, sizeof(*req));
	req->last_pass = 5;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:p:vr:a:R:m:D:I:B:gbtue:G:c:x:o:s:T:hV",
				long_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (strlen(optarg) != 1 || optarg[0] < '1' || optarg[0] > '5') {
				sc_error_set(err, "-p '%s': expected a pass number 1-5", optarg);
				return -EINVAL;
			}
			req->last_pass = optarg[0] - '0';
			break;
		case 'v': req->verbose++; break;
		case 'r': req->kernel = optarg; break;
		case 'a': req->arch = optarg; break;
		case 'R': req->runtime = optarg; break;
		case 'm': req->module = optarg; break;
		case 'D': r = strv_push(&req->defines, optarg); break;
		case 'I': r = strv_push(&req->includes, optarg); break;
		case 'B': r = strv_push(&req->kbuild, optarg); break;
		case 'g': req->guru = true; break;
		case 'b': req->bulk = true; break;
		case 't': req->timing = true; break;
		case 'u': req->unoptimized = true; break;
		case 'e':
			if (req->script_text) {
				sc_error_set(err, "only one -e SCRIPT may be given");
				return -EINVAL;
			}
			req->script_text = optarg;
			break;
		case 'G':
			r = parse_global(optarg, err);
			if (r < 0)
				return r;
			r = strv_push(&req->globals, optarg);
			break;
		case 'c': req->cmd = optarg; break;
		case 'x': req->pid = optarg; break;
		case 'o': req->output = optarg; break;
		case 's': req->bufsize = optarg; break;
		case 'T': r = strv_push(&req->targets, optarg); break;
		case OPT_CONNECT_TIMEOUT: req->connect_timeout = optarg; break;
		case OPT_JOBS: req->jobs = optarg; break;
		case OPT_EXPLAIN: req->explain = true; break;
		case OPT_SALT: req->salt = optarg; break;
		case OPT_PRIVILEGE: req->privilege = optarg; break;
		case OPT_UNPRIVILEGED: req->privilege = "stapusr"; break;
		case OPT_COMPATIBLE: req->compatible = optarg; break;
		case OPT_SUPPRESS_HANDLER_ERRORS: req->suppress_handler_errors = true; break;
		case OPT_SUPPRESS_TIME_LIMITS: req->suppress_time_limits = true; break;
		case OPT_SKIP_BADVARS: req->skip_badvars = true; break;
		case 'h':
		case OPT_HELP:
			sc_usage(stdout);
			return 1;
		case 'V':
		case OPT_VERSION:
			printf("stapcache %s\n", PACKAGE_VERSION);
			return 1;
		default:
			return unsupported(c, argv[optind - 1], err);
		}
		if (r < 0) {
			sc_error_set(err, "out of memory");
			return r;
		}
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
		sc_error_set(err, "-m '%s': a module name is 1-55 letters, digits or '_', "
				  "not starting with a digit", req->module);
		return -EINVAL;
	}
	return 0;
}
