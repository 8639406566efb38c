/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * staprun-auth: the setuid runner for blessed SystemTap modules.
 * Declarations shared by its files; each block names the file that owns it.
 */
#ifndef SA_AUTH_H
#define SA_AUTH_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <syslog.h>

#include "common/digest.h"
#include "common/error.h"
#include "common/modinfo.h"
#include "common/policy.h"

#define SA_PROG "staprun-auth"
#define SA_POLICY_DIR SYSCONFDIR "/systemtap"
#define SA_POLICY_FILE SA_POLICY_DIR "/authorized_probes"
#define SA_REGISTRY_DIR RUNSTATEDIR "/staprun-auth"
#define SA_SELF BINDIR "/staprun-auth"

/* Address space of a root-side process: the module buffer (SC_MODULE_MAX) plus room to work. */
#define SA_AS_LIMIT ((rlim_t)SC_MODULE_MAX + (64u << 20))
/* Root-side staprun-auth processes one user may have at once (root: no limit). */
#define SA_MAX_PER_USER 4
/*
 * Descriptors: ours from the start (before sa_attrs_reset_root raises them
 * to 1024), for syslog's socket, the NSS look-ups, /proc/self/uid_map, the
 * walk to the registry and the slot lock (9 at most at once); and the least
 * the caller's RLIMIT_NOFILE must allow for a run, since stapio gets it
 * back: SA_NOFILE_MIN (0-2, the control channel, the relay directory, a -c
 * command's pipes, with a margin) and one a CPU for its relay files.
 */
#define SA_NOFILE_OWN 64
#define SA_NOFILE_MIN 16
/* Most NAME=VALUE arguments and longest value (staprun: 64 options). */
#define SA_MAX_PARAMS 64
/* Longest wait for a message to the caller's terminal or pipe. */
#define SA_WRITE_TIMEOUT_MS 2000
/* Longest init_module(2) before the loading child is killed. */
#define SA_LOAD_TIMEOUT_MS 60000
/* Our timer slack (the kernel's default): not the caller's (attrs.c). */
#define SA_TIMERSLACK_NS 50000
/* --duration: how long stapio has to stop after SIGTERM before SIGKILL. */
#define SA_STOP_GRACE_MS 10000

/* Exit statuses. */
#define SA_EXIT_OK 0
#define SA_EXIT_REFUSED 1
#define SA_EXIT_USAGE 2
#define SA_EXIT_DURATION SC_EXIT_DURATION /* common/policy.h */

enum sa_mode { SA_RUN, SA_VERIFY, SA_DELETE, SA_LIST, SA_HELP, SA_VERSION };

/* The command line (staprun-auth.c). Strings point into argv. */
struct sa_opts {
	enum sa_mode mode;
	int verbose;
	const char *cmd;     /* -c CMD */
	const char *pid;     /* -x PID (digits only) */
	const char *outfile; /* -o FILE */
	const char *color;   /* -C never|auto|always */
	unsigned bufsize;    /* -b MB, 0: the module's default */
	unsigned rot_mb;     /* -S MB[,N]: stapio's rotation (0: none), needs -o */
	unsigned rot_files;  /* N of -S MB,N: files kept (0: all) */
	unsigned duration;   /* --duration SECONDS after stapio starts (0: none) */
	const char *module;  /* MODULE.ko, or MODULE_NAME for -d */
	char **params;       /* NAME=VALUE ... */
	int nparams;
};

/* The caller, captured once at start-up (privs.c). */
struct sa_ids {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups */
	int ngroups;
	char *user;         /* NULL when the uid has no name */
	char **group_names; /* names of gid and groups (unnamed ones skipped) */
	size_t ngroup_names;
	mode_t umask;                       /* the caller's, restored for stapio */
	struct rlimit limits[RLIM_NLIMITS]; /* the caller's, restored for stapio */
	char cgroup[512];                   /* the caller's cgroup v2 path, or "" */
};

/* attrs.c: every process attribute the caller set before exec, reset once. */
void sa_attrs_reset_early(struct rlimit *nofile);
int sa_attrs_check_nofile(const struct sa_ids *ids, int run, struct sc_error *err);
int sa_attrs_reset_root(const struct sa_ids *ids, struct sc_error *err);
int sa_limits_restore(const struct sa_ids *ids);

/* env.c */
int sa_env_rebuild(void);

/* signals.c */
int sa_signals_startup(void);
int sa_signals_pending(void);
int sa_signals_watchdog(void);
int sa_signals_default(void);
int sa_signals_unblock(void);

/* cgroup.c: out of the caller's cgroup before any lock or load. */
int sa_cgroup_leave(struct sa_ids *ids, struct sc_error *err);
void sa_cgroup_return(const struct sa_ids *ids);

/* privs.c: the caller's identity and every switch of ids. */
int sa_initial_userns(unsigned *outside);
int sa_ids_capture(struct sa_ids *ids);
void sa_ids_free(struct sa_ids *ids);
int sa_become_root(struct sc_error *err);
int sa_as_caller(const struct sa_ids *ids);
int sa_as_root(void);
int sa_loader_ids(const struct sa_ids *ids);
int sa_drop_privileges(const struct sa_ids *ids, struct sc_error *err);

/* audit.c: every decision and failure to syslog (LOG_AUTHPRIV); messages to
 * the caller never block for longer than SA_WRITE_TIMEOUT_MS. */
struct sa_event {
	const char *action; /* "load", "verify", "unload", "list", "start" */
	const char *module; /* path or name as given */
	const char *digest; /* hex, or NULL */
	const char *params; /* the parameter string, or NULL */
};
void sa_audit_open(const struct sa_ids *ids);
void sa_audit_outside(unsigned uid);
/* LOG_NOTICE "allow", or LOG_ERR "fail" (not a refusal: an unload not done yet). */
void sa_audit(int prio, const struct sa_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define sa_audit_allow(ev, ...) sa_audit(LOG_NOTICE, ev, __VA_ARGS__)
#define sa_audit_fail(ev, ...) sa_audit(LOG_ERR, ev, __VA_ARGS__)
/* Logs, and prints "staprun-auth: REASON" plus "  hint: HINT" when hint is set. */
void sa_audit_refuse(const struct sa_event *ev, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sa_info(int verbose, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sa_say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* protocol.c: the control protocol of the systemtap that built a module. */
struct sa_protocol {
	unsigned major; /* systemtap's major version */
	const char *name;
	uint32_t relocation, tzinfo, privilege_credentials; /* message numbers */
	int module_kallsyms; /* send module_kallsyms_on_each_symbol's address */
};

/* load.c: a module read once, hashed and checked; its parameter string. */
struct sa_module {
	const char *path;
	char name[SC_MODULE_NAME_MAX + 1];
	unsigned char *buf;
	size_t len;
	uint8_t digest[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1];
	char *params; /* the init_module parameter string */
	char kernel[65];
	const char *hint; /* for a refusal */
	char hintbuf[512];
	char stap_version[SC_STAP_VERSION_MAX]; /* the systemtap that built it */
	const struct sa_protocol *proto;        /* the protocol it speaks */
};
int sa_module_prepare(const struct sa_opts *o, const struct sa_ids *ids,
		      struct sa_module *m, struct sc_error *err);
void sa_module_drop_buffer(struct sa_module *m);
void sa_module_free(struct sa_module *m);

/* protocol.c */
const struct sa_protocol *sa_protocol_of(const char *version);
const char *sa_protocols_known(void);
int sa_stapio_version(char out[SC_STAP_VERSION_MAX]);
int sa_protocol_check(struct sa_module *m, const struct sc_modinfo *mi,
		      struct sc_error *err);

/* kernel.c: the kernel's view of a module. */
#define SA_INSTANCE_MAX 96
int sa_kernel_osrelease(char *buf, size_t n);
int sa_kernel_live(const char *name);
int sa_kernel_instance(const char *name, char *buf, size_t n);
int sa_kernel_insert(const struct sa_module *m, const struct sa_ids *ids,
		     struct sc_error *err);
int sa_kernel_unload(const char *name, long max_ms, struct sc_error *err);

/* control.c: start the module the way staprun does, in its protocol. */
struct sa_control {
	int relay_fd; /* the module's relay dir, handed to stapio as -F */
	int *holds;   /* .gnu.linkonce.this_module section files kept open */
	size_t nholds;
};
int sa_control_start(const struct sa_module *m, uid_t uid, int verbose,
		     struct sa_control *c, struct sc_error *err);
void sa_control_close(struct sa_control *c);

/* registry.c: which runs hold which module, for whom; per-user slots. */
struct sa_record;
int sa_slot_take(const struct sa_ids *ids, struct sc_error *err);
int sa_registry_own_unload(const char *name, const struct sa_ids *ids);
int sa_registry_claim(const struct sa_module *m, const struct sa_ids *ids,
		      const struct sa_opts *o, struct sa_record **out,
		      struct sc_error *err);
int sa_registry_commit(struct sa_record *rec, pid_t stapio, struct sc_error *err);
int sa_registry_end(struct sa_record *rec, int maybe_loaded, const struct sa_event *ev);
void sa_record_free(struct sa_record *rec);
int sa_cmd_delete(const struct sa_opts *o, const struct sa_ids *ids);
int sa_cmd_delete_own(const struct sa_opts *o);
int sa_cmd_list(const struct sa_opts *o, const struct sa_ids *ids);

/* run.c: the load command, stapio and the watchdog. */
int sa_cmd_run(const struct sa_opts *o, const struct sa_ids *ids);
int sa_cmd_verify(const struct sa_opts *o, const struct sa_ids *ids);

#endif
