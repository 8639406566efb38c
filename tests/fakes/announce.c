/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A library that announces itself when it is loaded: it prints a line and,
 * when ANNOUNCE_MARKER names a file, creates it. The hostile-environment test
 * sets LD_PRELOAD to it for the setuid binary, which must never load it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void announce(void)
{
	const char *marker = getenv("ANNOUNCE_MARKER");

	fprintf(stderr, "ANNOUNCE: preloaded into pid %ld (euid %ld)\n", (long)getpid(),
		(long)geteuid());
	if (marker) {
		int fd = open(marker, O_WRONLY | O_CREAT | O_APPEND, 0666);

		if (fd >= 0)
			close(fd);
	}
}
