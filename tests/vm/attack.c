/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * attack: what an unprivileged user of a target does to staprun-auth, in
 * one small static program copied into the test guest (tests/vm/attacks.sh).
 *
 *   attack itimer real|virtual|prof USEC PROG ARGS...
 *       arm that interval timer, then exec PROG (the timer survives execve)
 *   attack uname26 PROG ARGS...     personality(UNAME26), then exec PROG
 *   attack slack NS PROG ARGS...
 *       timer slack NS, then fork and exec PROG in the child (whose default
 *       slack, what PR_SET_TIMERSLACK 0 goes back to, is NS then); exits
 *       with its status
 *   attack runas UID GID PROG ARGS...   (root) become UID:GID, exec PROG
 *   attack hold-open PATH PID SIGNAL SECONDS
 *       kill -SIGNAL PID, then spin on open(PATH) until it opens (or 10 s),
 *       hold it SECONDS, close; prints "held" or "missed"
 *   attack exec-empty PROG           execve(PROG) with an empty argv (argc 0)
 *   attack stop-loader NAME SECONDS
 *       find, within SECONDS, a process called NAME whose real uid is ours
 *       and whose effective uid is 0 (staprun-auth's init_module child),
 *       SIGSTOP it; prints "stopped PID" or "missed"
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/time.h>
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
	fputs("usage: attack itimer|uname26|slack|runas|hold-open|exec-empty|stop-loader ...\n",
	      stderr);
	return 2;
}

static int do_exec(char **argv)
{
	execv(argv[0], argv);
	perror(argv[0]);
	return 127;
}

static int itimer(int argc, char **argv)
{
	struct itimerval t = {{0, 0}, {0, 0}};
	long usec;
	int which;

	if (argc < 4)
		return usage();
	which = !strcmp(argv[1], "real")      ? ITIMER_REAL
		: !strcmp(argv[1], "virtual") ? ITIMER_VIRTUAL
					      : ITIMER_PROF;
	usec = atol(argv[2]);
	t.it_value.tv_sec = usec / 1000000;
	t.it_value.tv_usec = usec % 1000000;
	t.it_interval = t.it_value; /* keep firing */
	if (setitimer(which, &t, NULL) < 0) {
		perror("setitimer");
		return 1;
	}
	return do_exec(argv + 3);
}

static int slack(int argc, char **argv)
{
	pid_t pid;
	int st;

	if (argc < 3)
		return usage();
	if (prctl(PR_SET_TIMERSLACK, strtoul(argv[1], NULL, 10), 0, 0, 0) < 0) {
		perror("PR_SET_TIMERSLACK");
		return 1;
	}
	pid = fork();
	if (pid == 0)
		_exit(do_exec(argv + 2));
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		perror("fork");
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int uname26(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (personality(PER_LINUX | UNAME26) < 0) {
		perror("personality");
		return 1;
	}
	return do_exec(argv + 1);
}

static int runas(int argc, char **argv)
{
	if (argc < 4)
		return usage();
	if (setgroups(0, NULL) < 0 || setgid((gid_t)atoi(argv[2])) < 0 ||
	    setuid((uid_t)atoi(argv[1])) < 0) {
		perror("runas");
		return 1;
	}
	return do_exec(argv + 3);
}

static int hold_open(int argc, char **argv)
{
	long start;
	int fd = -1;

	if (argc < 5)
		return usage();
	kill((pid_t)atoi(argv[2]), atoi(argv[3]));
	start = now_ms();
	while (fd < 0 && now_ms() - start < 10000)
		fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		puts("missed");
		return 1;
	}
	puts("held");
	fflush(stdout);
	sleep((unsigned)atoi(argv[4]));
	close(fd);
	return 0;
}

/* Name and real/effective uid of /proc/PID/status; 0 or -1. */
static int status_of(const char *pid, char *name, size_t n, unsigned *ruid,
		     unsigned *euid, char *ppid, size_t pn)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	name[0] = ppid[0] = '\0';
	*ruid = *euid = 99999;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Name:", 5))
			sscanf(line + 5, "%63s", name);
		else if (!strncmp(line, "PPid:", 5))
			snprintf(ppid, pn, "%d", atoi(line + 5));
		else if (sscanf(line, "Uid: %u %u", ruid, euid) == 2)
			break;
	}
	fclose(f);
	(void)n;
	return 0;
}

/* 1 for staprun-auth's init_module child: called name, real uid ours,
 * effective uid 0, and its parent a name process that is root through and
 * through (not the run itself before it became root, which looks the same). */
static int is_loader(const char *pid, const char *name)
{
	char got[64], ppid[16], pname[64], pp[16];
	unsigned ruid, euid, pruid, peuid;

	if (status_of(pid, got, sizeof(got), &ruid, &euid, ppid, sizeof(ppid)) < 0 ||
	    strcmp(got, name) || ruid != getuid() || euid != 0)
		return 0;
	return status_of(ppid, pname, sizeof(pname), &pruid, &peuid, pp, sizeof(pp)) ==
		       0 &&
	       !strcmp(pname, name) && pruid == 0 && peuid == 0;
}

static int stop_loader(int argc, char **argv)
{
	long start = now_ms(), limit;
	struct dirent *d;

	if (argc < 3)
		return usage();
	limit = atol(argv[2]) * 1000;
	while (now_ms() - start < limit) {
		DIR *dir = opendir("/proc");

		if (!dir)
			return 1;
		while ((d = readdir(dir))) {
			if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
			    !is_loader(d->d_name, argv[1]))
				continue;
			if (kill((pid_t)atoi(d->d_name), SIGSTOP) == 0) {
				printf("stopped %s\n", d->d_name);
				closedir(dir);
				return 0;
			}
		}
		closedir(dir);
	}
	puts("missed");
	return 1;
}

extern char **environ;

static int exec_empty(int argc, char **argv)
{
	char *none[] = {NULL};

	if (argc < 2)
		return usage();
	execve(argv[1], none, environ);
	perror(argv[1]);
	return 127;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "itimer"))
		return itimer(argc - 1, argv + 1);
	if (!strcmp(argv[1], "uname26"))
		return uname26(argc - 1, argv + 1);
	if (!strcmp(argv[1], "slack"))
		return slack(argc - 1, argv + 1);
	if (!strcmp(argv[1], "runas"))
		return runas(argc - 1, argv + 1);
	if (!strcmp(argv[1], "hold-open"))
		return hold_open(argc - 1, argv + 1);
	if (!strcmp(argv[1], "exec-empty"))
		return exec_empty(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stop-loader"))
		return stop_loader(argc - 1, argv + 1);
	return usage();
}
