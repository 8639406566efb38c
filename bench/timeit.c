/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * timeit N COMMAND [ARGS...]: run COMMAND N times (stdout and stderr to
 * /dev/null) and print "median min max cpu": wall-clock milliseconds, then
 * the median CPU milliseconds (user+system of the process tree). Exits
 * non-zero if any run failed. A C driver, so the spawn cost measured is the
 * same small fork+exec for every command compared.
 *
 * timeit -c COMMAND [ARGS...]: run it once and print "WALL CPU" in seconds,
 * CPU being user+system time of its whole process tree (wait4's rusage, in
 * microseconds: /usr/bin/time rounds to 10 ms, more than a target costs).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static double ms(struct timeval t)
{
	return (double)t.tv_sec * 1e3 + (double)t.tv_usec / 1e3;
}

/* One run: wall and CPU milliseconds. 0 when it exited 0, 1 when not, -1: no run. */
static int run(char **argv, double *wall, double *cpu)
{
	struct timespec a, b;
	struct rusage ru;
	int status;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	*wall = (double)(b.tv_sec - a.tv_sec) * 1e3 +
		(double)(b.tv_nsec - a.tv_nsec) / 1e6;
	*cpu = ms(ru.ru_utime) + ms(ru.ru_stime);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0, failed = 0, r;
	double *t, *c, lo, hi;

	if (argc > 2 && !strcmp(argv[1], "-c")) {
		double wall, cpu;

		r = run(argv + 2, &wall, &cpu);
		if (r >= 0)
			printf("%.3f %.4f\n", wall / 1e3, cpu / 1e3);
		return r != 0;
	}
	if (n < 1) {
		fprintf(stderr,
			"usage: timeit N COMMAND [ARGS...] | -c COMMAND [ARGS...]\n");
		return 2;
	}
	t = calloc((size_t)n, sizeof(*t));
	c = calloc((size_t)n, sizeof(*c));
	if (!t || !c)
		return 1;
	for (int i = 0; i < n; i++) {
		r = run(argv + 2, &t[i], &c[i]);
		if (r < 0)
			return 1;
		failed += r;
	}
	lo = hi = t[0];
	for (int i = 1; i < n; i++) {
		lo = t[i] < lo ? t[i] : lo;
		hi = t[i] > hi ? t[i] : hi;
	}
	printf("%.3f %.3f %.3f %.3f\n", median(t, n), lo, hi, median(c, n));
	free(t);
	free(c);
	return failed ? 1 : 0;
}
