/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Process attributes that survive execve(2) and that the caller sets: each is
 * reset here, in one place, or is listed in SECURITY.md with the reason it
 * is harmless. Descriptors 0-2 are made sane and all others closed (after
 * OpenSSH's sanitise_stdfd()); interval timers, personality, timer slack,
 * the subreaper flag and the TSC/CPUID traps are reset before anything else,
 * since any of them can kill or mislead the process at a moment the caller
 * picks. Scheduling, I/O priority, the OOM score and resource limits need
 * root and are reset once the process is root through and through.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "auth.h"

#define SA_ARCH_SET_CPUID 0x1012 /* asm/prctl.h */
#define SA_IOPRIO_WHO_PROCESS 1

static void sanitise_fds(void)
{
	int nullfd = -1, fd;

	/* /dev/null only when one of 0-2 is closed: under `ulimit -n 3` with all
	 * three open there is no room for it, and no need. */
	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFL) >= 0 || errno != EBADF)
			continue;
		if (nullfd < 0 && (nullfd = open("/dev/null", O_RDWR)) < 0)
			_exit(SA_EXIT_REFUSED); /* nothing sane to print to */
		if (nullfd != fd && dup2(nullfd, fd) < 0)
			_exit(SA_EXIT_REFUSED);
	}
	if (nullfd > 2)
		close(nullfd);
	closefrom(3);
}

/*
 * Descriptors for ourselves before anything opens one: the caller's limit
 * (kept in *caller, restored for stapio) may be as low as 3, and everything
 * until sa_attrs_reset_root (syslog's socket, NSS, /proc, the walk to the
 * registry, the slot lock) opens under ours. As root by the setuid bit we
 * may raise the hard limit too; where even that is refused, the soft one up
 * to the hard, and sa_attrs_check_nofile says what is too low.
 */
static void own_nofile(struct rlimit *caller)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, caller) < 0)
		_exit(SA_EXIT_REFUSED);
	if (caller->rlim_cur != RLIM_INFINITY && caller->rlim_cur >= SA_NOFILE_OWN)
		return;
	rl.rlim_cur = SA_NOFILE_OWN;
	rl.rlim_max = caller->rlim_max == RLIM_INFINITY ||
				      caller->rlim_max >= SA_NOFILE_OWN
			      ? caller->rlim_max
			      : SA_NOFILE_OWN;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		rl.rlim_cur = caller->rlim_max;
		rl.rlim_max = caller->rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * First thing in main(): needs no privilege. Failures that matter are fatal.
 * *nofile gets the caller's RLIMIT_NOFILE (ours is raised here).
 */
void sa_attrs_reset_early(struct rlimit *nofile)
{
	static const int timers[] = {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF};
	const struct itimerval off = {{0, 0}, {0, 0}};
	size_t i;

	for (i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
		if (setitimer(timers[i], &off, NULL) < 0)
			_exit(SA_EXIT_REFUSED);
	/* UNAME26 and the like change what uname(2) says. */
	if (personality(PER_LINUX) < 0)
		_exit(SA_EXIT_REFUSED);
	/* A huge slack would stretch every timed wait of ours (--duration's
	 * too). Not 0: that means "the default", which is the slack the
	 * caller's fork copied, so the kernel's own default is set, and checked. */
	if (prctl(PR_SET_TIMERSLACK, SA_TIMERSLACK_NS, 0, 0, 0) < 0 ||
	    prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != SA_TIMERSLACK_NS)
		_exit(SA_EXIT_REFUSED);
	(void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	/* PR_TSC_SIGSEGV / a CPUID trap would turn the vDSO's clock into SIGSEGV. */
	(void)prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
	(void)syscall(SYS_arch_prctl, SA_ARCH_SET_CPUID, 1);
	sanitise_fds();
	own_nofile(nofile);
}

/*
 * Is the caller's limit on descriptors enough for a run (SA_NOFILE_MIN, and
 * one a CPU for stapio's relay files)?
 * stapio gets it back, and below that it fails half-way, after the load;
 * and where we could not raise our own, our side would fail for a reason
 * that misleads ("in a user namespace", "cannot open /run"). Say what it
 * is, and how much is enough. Returns 0 or -EMFILE (err says so).
 */
int sa_attrs_check_nofile(const struct sa_ids *ids, int run, struct sc_error *err)
{
	rlim_t cur = ids->limits[RLIMIT_NOFILE].rlim_cur;
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	unsigned long long need = SA_NOFILE_MIN;
	struct rlimit ours;

	/* Not a run, and ours could be raised: nothing of the caller's limit is used. */
	if (!run && getrlimit(RLIMIT_NOFILE, &ours) == 0 &&
	    (ours.rlim_cur == RLIM_INFINITY || ours.rlim_cur >= SA_NOFILE_MIN))
		return 0;
	if (run) /* stapio reads one relay file a CPU */
		need += cpus > 0 ? (unsigned long long)cpus : 1;
	if (cur == RLIM_INFINITY || cur >= need)
		return 0;
	sc_error_set(err,
		     "your limit on open files (ulimit -n) is %llu, too low: %s needs at "
		     "least %llu%s; raise it (ulimit -n %llu) and run again",
		     (unsigned long long)cur, run ? "a run" : SA_PROG, need,
		     run ? " (staprun-auth, then stapio: 16, and one a CPU)" : "", need);
	return -EMFILE;
}

/*
 * Our own limits, whatever the caller's: no core, enough descriptors and
 * stack, no CPU or real-time limit that could kill us, and a fixed
 * address-space cap (SA_AS_LIMIT) so that one run's memory is bounded (with
 * SA_MAX_PER_USER runs, a user's root-side memory is). Each soft limit is
 * set; a hard limit is raised only where the value needs it (and never
 * lowered, so that stapio gets the caller's back). Where the system does
 * not let root raise one (no CAP_SYS_RESOURCE), a soft limit below need
 * refuses the run before anything is done.
 */
static const struct {
	int resource;
	const char *name;
	rlim_t value, need;
} own_limits[] = {
	{RLIMIT_CORE, "RLIMIT_CORE", 0, 0},
	{RLIMIT_NOFILE, "RLIMIT_NOFILE", 1024, 64},
	{RLIMIT_STACK, "RLIMIT_STACK", 8u << 20, 1u << 20},
	{RLIMIT_AS, "RLIMIT_AS", SA_AS_LIMIT, 32u << 20},
	{RLIMIT_DATA, "RLIMIT_DATA", SA_AS_LIMIT, 32u << 20},
	{RLIMIT_FSIZE, "RLIMIT_FSIZE", RLIM_INFINITY, 1u << 20},
	{RLIMIT_CPU, "RLIMIT_CPU", RLIM_INFINITY, RLIM_INFINITY},
	{RLIMIT_RTTIME, "RLIMIT_RTTIME", RLIM_INFINITY, RLIM_INFINITY},
	{RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", 1024, 16},
};

static int set_limit(size_t i, const struct sa_ids *ids, struct sc_error *err)
{
	const struct rlimit *caller = &ids->limits[own_limits[i].resource];
	struct rlimit rl = {own_limits[i].value, caller->rlim_max};

	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;
	if (setrlimit(own_limits[i].resource, &rl) < 0) {
		rl.rlim_max = caller->rlim_max;
		if (rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
		if (setrlimit(own_limits[i].resource, &rl) < 0) {
			sc_error_set(err, "setrlimit(%s): %s", own_limits[i].name,
				     strerror(errno));
			return -errno;
		}
	}
	if (rl.rlim_cur < own_limits[i].need) {
		sc_error_set(err,
			     "your %s (%llu) is too low to load a module safely, and this "
			     "system does not let %s raise it",
			     own_limits[i].name, (unsigned long long)rl.rlim_cur,
			     SA_PROG);
		return -EPERM;
	}
	return 0;
}

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/*
 * Once root: normal scheduling and I/O priority, OOM score 0 (a caller may
 * raise its own to make the OOM killer pick us), our own limits. Returns 0 or
 * -errno (err says what).
 */
int sa_attrs_reset_root(const struct sa_ids *ids, struct sc_error *err)
{
	const struct sched_param sp = {.sched_priority = 0};
	size_t i;
	int r;

	if (sched_setscheduler(0, SCHED_OTHER, &sp) < 0 ||
	    setpriority(PRIO_PROCESS, 0, 0) < 0 ||
	    syscall(SYS_ioprio_set, SA_IOPRIO_WHO_PROCESS, 0, 0) < 0) {
		sc_error_set(err, "cannot reset the scheduling priority: %s",
			     strerror(errno));
		return -errno;
	}
	r = write_proc("/proc/self/oom_score_adj", "0");
	if (r < 0 && r != -ENOENT) {
		sc_error_set(err, "cannot reset oom_score_adj: %s", strerror(-r));
		return r;
	}
	for (i = 0; i < sizeof(own_limits) / sizeof(own_limits[0]); i++)
		if ((r = set_limit(i, ids, err)) < 0)
			return r;
	return 0;
}

/* The caller's limits again, for stapio (as root, so hard limits may rise). */
int sa_limits_restore(const struct sa_ids *ids)
{
	int i;

	for (i = 0; i < RLIM_NLIMITS; i++)
		if (setrlimit(i, &ids->limits[i]) < 0)
			return -errno;
	return 0;
}
