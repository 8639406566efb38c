/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prints the --detach launcher script that stapcache-remote sends to a
 * target (detach_launcher in stapcache/remote/helper/stage.c, included
 * whole: it is static), for tests/remote/detach-start.sh, which runs it
 * under /bin/sh with a stand-in staprun-auth. The one thing changed is the
 * start deadline (SC_DETACH_START_S), shorter here so that the test need not
 * wait minutes for it.
 *
 * usage: detach-script MODULE DURATION EPOCH   (rotation: 1 MiB, 3 files)
 *        detach-script --start-s               (prints the start deadline)
 *        detach-script --stderr-max            (prints the cap of its stderr)
 */
#define SC_DETACH_START_S 8
#include "stapcache/remote/helper/stage.c"

int main(int argc, char **argv)
{
	struct sc_run_req rq = {0};
	char *s;

	if (argc == 2 && !strcmp(argv[1], "--start-s")) {
		printf("%d\n", SC_DETACH_START_S);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--stderr-max")) {
		printf("%u\n", SC_DETACH_STDERR_MAX);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: detach-script MODULE DURATION EPOCH\n");
		return 2;
	}
	rq.detach = true;
	rq.duration = (unsigned)strtoul(argv[2], NULL, 10);
	rq.rotate_mb = 1;
	rq.rotate_files = 3;
	rq.run_epoch = strtoll(argv[3], NULL, 10);
	s = detach_launcher(argv[1], &rq);
	puts(s);
	free(s);
	return 0;
}
