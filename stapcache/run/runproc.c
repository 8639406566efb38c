/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The local runner as stapcache's child: is stapio running yet, and the stop
 * (a signal to the runner and to its children that run as this user, found
 * in /proc: staprun execs stapio, staprun-auth forks it under a root
 * watchdog). Used by supervise.c (--duration) and capture.c (--duration
 * with the output read by stapcache).
 */
#include "build-config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/runproc.h"

/* The parent pid in /proc/PID/stat ("PID (COMM) STATE PPID ..."), or -1. */
static pid_t parent_of(const char *pid)
{
	char path[64], buf[512], *p;
	int fd, ppid;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/* The next child of pid in the /proc listing dir, or 0 when there is none. */
static pid_t next_child(DIR *dir, pid_t pid)
{
	struct dirent *d;

	while (dir && (d = readdir(dir)))
		if (d->d_name[0] >= '1' && d->d_name[0] <= '9' &&
		    parent_of(d->d_name) == pid)
			return (pid_t)atoi(d->d_name);
	return 0;
}

/*
 * Send sig to pid and to its children (stapio under staprun-auth's
 * watchdog). Returns how many processes took it.
 */
int sc_signal_run(pid_t pid, int sig)
{
	DIR *dir = opendir("/proc");
	int n = kill(pid, sig) == 0;
	pid_t c;

	while ((c = next_child(dir, pid)) > 0)
		n += kill(c, sig) == 0;
	if (dir)
		closedir(dir);
	return n;
}

/* Is pid, or a child of pid, stapio yet (the module is loaded and running)? */
bool sc_stapio_started(pid_t pid)
{
	char path[64], comm[32] = "";
	bool found = false;
	DIR *dir;
	pid_t c;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		comm[n > 0 ? n : 0] = '\0';
		if (!strcmp(comm, "stapio\n"))
			return true;
	}
	dir = opendir("/proc");
	while (!found && (c = next_child(dir, pid)) > 0)
		found = sc_stapio_started(c);
	if (dir)
		closedir(dir);
	return found;
}

double sc_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
