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

#include "digest.h"
#include "error.h"
#include "modinfo.h"

#define SA_PROG "staprun-auth"
#define SA_POLICY_DIR SYSCONFDIR "/systemtap"
#define SA_POLICY_FILE SA_POLICY_DIR "/authorized_probes"
#define SA_REGISTRY_DIR RUNSTATEDIR "/staprun-auth"
#define SA_SELF BINDIR "/staprun-auth"

/* Largest module accepted (stap modules are ~120 KiB; big ones a few MiB). */
#define SA_MODULE_MAX (64u << 20)
/* Most NAME=VALUE arguments and longest value (staprun: 64 options). */
#define SA_MAX_PARAMS 64
#define SA_MAX_VALUE 1024
/* Longest wait for the registry lock (only root processes hold it, briefly). */
#define SA_LOCK_WAIT_MS 5000
/* sa_module_insert(): the loading child died before it said how init_module went. */
#define SA_LOADER_DIED (-ECHILD)

/* Exit statuses. */
#define SA_EXIT_OK 0
#define SA_EXIT_REFUSED 1
#define SA_EXIT_USAGE 2

enum sa_mode { SA_RUN, SA_VERIFY, SA_DELETE, SA_LIST, SA_HELP, SA_VERSION };

/* The command line (main.c). Strings point into argv. */
struct sa_opts {
	enum sa_mode mode;
	int verbose;
	const char *cmd;     /* -c CMD */
	const char *pid;     /* -x PID (digits only) */
	const char *outfile; /* -o FILE */
	const char *color;   /* -C never|auto|always */
	unsigned bufsize;    /* -b MB, 0: the module's default */
	const char *module;  /* MODULE.ko, or MODULE_NAME for -d */
	char **params;	     /* NAME=VALUE ... */
	int nparams;
};

/* The caller, captured once at start-up (hygiene.c). */
struct sa_ids {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups */
	int ngroups;
	char *user;	    /* NULL when the uid has no name */
	char **group_names; /* names of gid and groups (unnamed ones skipped) */
	size_t ngroup_names;
	mode_t umask;			    /* the caller's, restored for stapio */
	struct rlimit limits[RLIM_NLIMITS]; /* the caller's, restored for stapio */
};

/* hygiene.c: start-up, before anything else. */
void sa_sanitise_fds(void);
int sa_rebuild_env(void);
int sa_ids_capture(struct sa_ids *ids);
void sa_ids_release(struct sa_ids *ids);
const char *sa_user_label(const struct sa_ids *ids); /* "alice(1000)" */
int sa_limits_harden(const struct sa_ids *ids, struct sc_error *err);
int sa_limits_restore(const struct sa_ids *ids);
int sa_signals_startup(void);
int sa_signals_pending(void);
int sa_signals_watchdog(void);
int sa_signals_default(void);
int sa_signals_release(void);

/* audit.c: every decision to syslog (LOG_AUTHPRIV), refusals to stderr too. */
struct sa_event {
	const char *action; /* "load", "verify", "unload", "list" */
	const char *module; /* path or name as given */
	const char *digest; /* hex, or NULL */
	const char *params; /* the parameter string, or NULL */
};
void sa_audit_open(const struct sa_ids *ids);
void sa_audit_allow(const struct sa_event *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Logs and prints "staprun-auth: REASON" plus "  hint: HINT" when hint is set. */
void sa_audit_refuse(const struct sa_event *ev, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sa_info(int verbose, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* params.c: NAME=VALUE arguments and the init_module parameter string. */
int sa_param_check(const char *arg, struct sc_error *err);
int sa_params_build(unsigned bufsize, char *const *args, int n, char **out,
		    struct sc_error *err);

/* privs.c */
int sa_become_root(struct sc_error *err);
int sa_as_caller(const struct sa_ids *ids);
int sa_as_root(void);
int sa_loader_ids(const struct sa_ids *ids);
int sa_drop_privileges(const struct sa_ids *ids, struct sc_error *err);

/* load.c: a module read once, hashed and checked. */
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
};
int sa_module_prepare(const struct sa_opts *o, const struct sa_ids *ids,
		      struct sa_module *m, struct sc_error *err);
int sa_module_insert(const struct sa_module *m, const struct sa_ids *ids,
		     struct sc_error *err);
void sa_module_release(struct sa_module *m);

/* kernel.c: the kernel's view of a module. */
int sa_kernel_live(const char *name);
int sa_kernel_instance(const char *name, char *buf, size_t n);
int sa_kernel_same(const char *name, const char *instance);
int sa_kernel_unload(const char *name, struct sc_error *err);
int sa_kernel_release(char *buf, size_t n);

/* control.c: start the module the way staprun 4.8 does. */
struct sa_control {
	int relay_fd; /* the module's relay dir, handed to stapio as -F */
	int *holds;   /* .gnu.linkonce.this_module section files kept open */
	size_t nholds;
};
int sa_control_start(const char *name, uid_t uid, int verbose, struct sa_control *c,
		     struct sc_error *err);
void sa_control_release(struct sa_control *c);

/* registry.c: which modules staprun-auth loaded, for whom. */
struct sa_record;
enum { SA_KEEP, SA_UNLOAD_IF_OURS, SA_UNLOAD_NOW };
int sa_registry_claim(const struct sa_module *m, const struct sa_ids *ids,
		      struct sa_record **out, struct sc_error *err);
int sa_registry_commit(struct sa_record *rec, struct sc_error *err);
int sa_registry_release(struct sa_record *rec, int unload, struct sc_error *err);
void sa_record_free(struct sa_record *rec);
int sa_cmd_delete(const struct sa_opts *o, const struct sa_ids *ids);
int sa_cmd_list(const struct sa_opts *o, const struct sa_ids *ids);

/* run.c: the load command, stapio and the watchdog. */
int sa_cmd_run(const struct sa_opts *o, const struct sa_ids *ids);
int sa_cmd_verify(const struct sa_opts *o, const struct sa_ids *ids);

#endif
