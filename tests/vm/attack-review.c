/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * attack-review: more of what an unprivileged user does to staprun-auth
 * (tests/vm/attacks-review.sh), in one small static program for the guest.
 *
 *   attack-review fence-beat MODULE SECONDS
 *       open /proc/systemtap/MODULE/.cmd with O_PATH (no open method runs,
 *       the module stays unloadable), wait for the run's unload to fence the
 *       file (chmod 0), then undo the fence as the file's owner through the
 *       magic link /proc/self/fd/N (which skips the fenced directory) and
 *       reopen it, for SECONDS. An open that lands while the module is going
 *       is held until the module is gone. Prints "fenced", then "reopened N"
 *       (opens that got through the fence) and "raced" when one landed while
 *       the module was going; "no-fence" when the fence never came.
 *   attack-review list-hold FIFO N
 *       N times: run "staprun-auth --list" with stdout into FIFO (which the
 *       caller fills and never reads) and wait for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int usage(void)
{
	fputs("usage: attack-review fence-beat MODULE SECONDS | list-hold FIFO N\n",
	      stderr);
	return 2;
}

/* "live", "going", "coming", or "" when the module is gone. */
static void mod_state(const char *mod, char *buf, size_t n)
{
	char path[256];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", mod);
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	r = read(fd, buf, n - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static int fence_beat(int argc, char **argv)
{
	char cmd[256], self[64], st[32], sysmod[256];
	long start, limit;
	struct stat sb;
	int p, fd, fenced = 0, reopened = 0, raced = 0, ce = 0, oe = 0;

	if (argc < 3)
		return usage();
	snprintf(cmd, sizeof(cmd), "/proc/systemtap/%s/.cmd", argv[1]);
	snprintf(sysmod, sizeof(sysmod), "/sys/module/%s", argv[1]);
	limit = atol(argv[2]) * 1000;
	p = open(cmd, O_PATH | O_CLOEXEC);
	if (p < 0) {
		perror(cmd);
		return 1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", p);
	start = now_ms();
	/* Wait for the fence: the file's mode goes to 0. */
	while (now_ms() - start < limit) {
		if (fstat(p, &sb) == 0 && (sb.st_mode & 07777) == 0) {
			fenced = 1;
			break;
		}
		if (stat(sysmod, &sb) < 0)
			break;
	}
	if (!fenced) {
		puts("no-fence");
		return 1;
	}
	puts("fenced");
	fflush(stdout);
	while (now_ms() - start < limit && stat(sysmod, &sb) == 0) {
		if (chmod(self, 0600) < 0) /* we own it: the fence comes off */
			ce = errno;
		fd = open(self, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			oe = errno;
			continue;
		}
		reopened++;
		mod_state(argv[1], st, sizeof(st));
		if (strcmp(st, "live") != 0) {
			/* Opened while it goes: keep it past the module's end. */
			raced = 1;
			while (stat(sysmod, &sb) == 0 && now_ms() - start < limit)
				usleep(1000);
			usleep(200000);
			close(fd);
			break;
		}
		close(fd);
		usleep(300);
	}
	printf("reopened %d\n", reopened);
	if (ce || oe)
		printf("last errors: chmod %s, open %s\n", strerror(ce), strerror(oe));
	if (raced)
		puts("raced");
	return reopened ? 0 : 1;
}

static int list_hold(int argc, char **argv)
{
	int i, n, fd;

	if (argc < 3)
		return usage();
	n = atoi(argv[2]);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			fd = open(argv[1], O_WRONLY);
			if (fd < 0 || dup2(fd, 1) < 0)
				_exit(127);
			execl("/usr/bin/staprun-auth", "staprun-auth", "--list",
			      (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "fence-beat"))
		return fence_beat(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list-hold"))
		return list_hold(argc - 1, argv + 1);
	return usage();
}
