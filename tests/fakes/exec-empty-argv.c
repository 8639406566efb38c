/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec-empty-argv PROGRAM: execve PROGRAM with argc == 0 (an empty argv) and
 * an environment that would be dangerous if argv[1] aliased envp[0] (PwnKit).
 * Kernels since 5.18 replace an empty argv by { "" }; either way the program
 * must refuse to run.
 */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *empty[] = {NULL};
	char *env[] = {(char *)"GCONV_PATH=.", (char *)"LD_PRELOAD=/nonexistent.so",
		       NULL};

	if (argc != 2) {
		fprintf(stderr, "usage: exec-empty-argv PROGRAM\n");
		return 2;
	}
	execve(argv[1], empty, env);
	perror(argv[1]);
	return 127;
}
