/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting a loaded stap module the way systemtap's staprun does, in the
 * control protocol of the systemtap that built it (protocol.c): open
 * the module's relay directory (kept for stapio, which gets it as -F), open
 * its .cmd control file and write, as root, the messages only root may send:
 * STP_PRIVILEGE_CREDENTIALS, STP_RELOCATION for the kernel (_stext and the
 * kallsyms functions the runtime needs) and for every section of every
 * loaded module, and STP_TZINFO. Then .cmd is closed again so that stapio
 * can open it (the runtime allows one opener at a time).
 *
 * Unlike staprun, no sysctl is changed (kptr_restrict, kprobes-optimization):
 * root reads true addresses from /proc/kallsyms and /sys/module on the
 * kernels this supports, and a silent system-wide change is not ours to make.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"

/* systemtap-runtime's message layouts (GPL-2.0-or-later), by path; the
 * message numbers are the module's protocol's (protocol.c). */
#include SA_TRANSPORT_MSGS_H

/* systemtap's privilege.h: pr_stapusr | pr_stapsys | pr_stapdev. A blessed
 * module is authorized as staprun authorizes one from /lib/modules/.../systemtap. */
#define SA_PR_ALL 0x0000000e
#define SA_DEBUGFS_MAGIC 0x64626720

static int send_msg(int fd, uint32_t type, const void *data, size_t len)
{
	char buf[1024];
	ssize_t w;

	if (len + sizeof(type) > sizeof(buf))
		return -E2BIG;
	memcpy(buf, &type, sizeof(type));
	memcpy(buf + sizeof(type), data, len);
	w = write(fd, buf, len + sizeof(type));
	if (w < 0)
		return -errno;
	/* Old runtimes report sizeof(type) fewer bytes; staprun accepts both. */
	return (size_t)w == len || (size_t)w == len + sizeof(type) ? 0 : -EIO;
}

static int send_reloc(int fd, const struct sa_protocol *p, const char *module,
		      const char *reloc, uint64_t addr)
{
	struct _stp_msg_relocation msg;

	if (strlen(module) >= STP_MODULE_NAME_LEN - 1 ||
	    strlen(reloc) >= STP_SYMBOL_NAME_LEN - 1)
		return -ENAMETOOLONG;
	memset(&msg, 0, sizeof(msg));
	memcpy(msg.module, module, strlen(module));
	memcpy(msg.reloc, reloc, strlen(reloc));
	msg.address = addr;
	return send_msg(fd, p->relocation, &msg, sizeof(msg));
}

/* _stext first (required); the last only for protocols that want it. */
static const char *const kernel_syms[] = {"_stext", "kallsyms_lookup_name",
					  "kallsyms_on_each_symbol",
					  "module_kallsyms_on_each_symbol"};
#define KERNEL_SYMS (sizeof(kernel_syms) / sizeof(kernel_syms[0]))

/* One /proc/kallsyms line: "ADDR T name" (module symbols end in "\t[mod]"). */
static int kallsyms_line(char *line, uint64_t *addr, const char **name)
{
	char *end;

	line[strcspn(line, "\n")] = '\0';
	*addr = strtoull(line, &end, 16);
	if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ')
		return 0;
	*name = end + 3;
	return 1;
}

static int send_kernel(int fd, const struct sa_protocol *p, int *count)
{
	int found[KERNEL_SYMS] = {0}, nfound = 0, r = 0, i;
	int want = p->module_kallsyms ? (int)KERNEL_SYMS : (int)KERNEL_SYMS - 1;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return -errno;
	while (nfound < want && getline(&line, &cap, f) > 0) {
		const char *name;
		uint64_t addr;

		if (!kallsyms_line(line, &addr, &name))
			continue;
		for (i = 0; i < want; i++) {
			if (found[i] || strcmp(name, kernel_syms[i]) != 0)
				continue;
			found[i] = 1;
			nfound++;
			r = send_reloc(fd, p, "kernel", kernel_syms[i], addr);
			if (r < 0 && i == 0)
				goto out; /* _stext is required; the others help */
			*count += r == 0;
			r = 0;
		}
	}
	/* Like staprun: with _stext sent, flag the kernel's build-id note. */
	if (found[0] && access("/sys/kernel/notes", R_OK) == 0)
		r = send_reloc(fd, p, "kernel", ".note.gnu.build-id", 2);
out:
	free(line);
	fclose(f);
	return r;
}

/* The sections of one loaded module; .gnu.linkonce.this_module stays open. */
static void send_module(int fd, const struct sa_protocol *p, int sysmod, const char *mod,
			struct sa_control *c, int *count)
{
	char path[512];
	struct dirent *d;
	DIR *dir;
	int dfd;

	snprintf(path, sizeof(path), "%s/sections", mod);
	dfd = openat(sysmod, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(dir = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((d = readdir(dir))) {
		unsigned long long addr;
		FILE *f;
		int sfd;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		sfd = openat(dirfd(dir), d->d_name, O_RDONLY | O_CLOEXEC);
		if (sfd < 0 || !(f = fdopen(sfd, "r"))) {
			if (sfd >= 0)
				close(sfd);
			continue;
		}
		if (fscanf(f, "0x%llx", &addr) == 1) {
			/* PR6503: init sections are gone once a module is up. */
			if (strstr(d->d_name, "init."))
				addr = 0;
			*count += send_reloc(fd, p, mod, d->d_name, addr) == 0;
		}
		/* As staprun: hold this one open until stapio runs (PR6503 race). */
		if (!strcmp(d->d_name, ".gnu.linkonce.this_module")) {
			int *nh = realloc(c->holds, (c->nholds + 1) * sizeof(*nh));
			int keep = nh ? dup(fileno(f)) : -1;

			if (nh)
				c->holds = nh;
			if (keep >= 0 && fcntl(keep, F_SETFD, FD_CLOEXEC) == 0)
				c->holds[c->nholds++] = keep;
			else if (keep >= 0)
				close(keep);
		}
		fclose(f);
	}
	closedir(dir);
}

/* Every loaded module's sections, as staprun; none is required. */
static void send_modules(int fd, const struct sa_protocol *p, struct sa_control *c,
			 int *count)
{
	struct dirent *d;
	DIR *dir = opendir("/sys/module");

	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			send_module(fd, p, dirfd(dir), d->d_name, c, count);
	closedir(dir);
}

static int send_tzinfo(int fd, const struct sa_protocol *p)
{
	struct _stp_msg_tzinfo tzi;
	time_t now = time(NULL);
	struct tm tm;

	memset(&tzi, 0, sizeof(tzi));
	if (!localtime_r(&now, &tm))
		return -EINVAL;
	tzi.tz_gmtoff = -tm.tm_gmtoff;
	snprintf(tzi.tz_name, sizeof(tzi.tz_name), "%s", tm.tm_zone ? tm.tm_zone : "UTC");
	return send_msg(fd, p->tzinfo, &tzi, sizeof(tzi));
}

/* The module's relay directory: debugfs when mounted and used, else procfs. */
static int open_relay_dir(const char *name)
{
	char path[256];
	struct statfs st;
	int fd = -1;

	if (statfs("/sys/kernel/debug", &st) == 0 &&
	    (long)st.f_type == SA_DEBUGFS_MAGIC) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/systemtap/%s", name);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/systemtap/%s", name);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

static int send_all(int cmd, const struct sa_module *m, int verbose, struct sa_control *c,
		    struct sc_error *err)
{
	struct _stp_msg_privilege_credentials pc = {.pc_group_mask = SA_PR_ALL};
	const struct sa_protocol *p = m->proto;
	const char *name = m->name;
	int count = 0, r;

	/*
	 * The first message: a module of another protocol answers EINVAL (staprun
	 * ignores a failure here, which only pre-1.7 modules gave; protocol.c
	 * chose from the module's own bytes, so this is a last check).
	 */
	r = send_msg(cmd, p->privilege_credentials, &pc, sizeof(pc));
	if (r == -EINVAL) {
		sc_error_set(err,
			     "%s refused %s's control protocol (its systemtap version "
			     "string says %s)",
			     name, p->name, m->stap_version);
		return r;
	}
	r = send_kernel(cmd, p, &count);
	if (r < 0) {
		sc_error_set(err, "cannot send the kernel relocations to %s: %s", name,
			     strerror(-r));
		return r;
	}
	send_modules(cmd, p, c, &count);
	r = send_tzinfo(cmd, p);
	if (r < 0) {
		sc_error_set(err, "cannot send the time zone to %s: %s", name,
			     strerror(-r));
		return r;
	}
	sa_info(verbose,
		"sent credentials, %d relocations and the time zone to %s (%s, %s's "
		"control protocol)",
		count, name, m->stap_version, p->name);
	return 0;
}

int sa_control_start(const struct sa_module *m, uid_t uid, int verbose,
		     struct sa_control *c, struct sc_error *err)
{
	const char *name = m->name;
	struct stat st;
	int cmd, r;

	c->relay_fd = open_relay_dir(name);
	if (c->relay_fd < 0) {
		r = c->relay_fd;
		sc_error_set(err,
			     "cannot attach to the control channel of %s (no "
			     "/proc/systemtap/%s): %s",
			     name, name, strerror(-r));
		return r;
	}
	/* The runtime gives .cmd to the uid that called init_module: the caller. */
	if (fstatat(c->relay_fd, ".cmd", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		sc_error_set(err, "cannot find the control channel of %s: %s", name,
			     strerror(-r));
		return r;
	}
	if (st.st_uid != uid) {
		sc_error_set(err,
			     "the control channel of %s belongs to uid %u, not to you",
			     name, (unsigned)st.st_uid);
		return -EPERM;
	}
	cmd = openat(c->relay_fd, ".cmd", O_RDWR | O_CLOEXEC);
	if (cmd < 0) {
		r = -errno;
		sc_error_set(err, "cannot open the control channel of %s: %s", name,
			     strerror(-r));
		return r;
	}
	r = send_all(cmd, m, verbose, c, err);
	if (close(cmd) < 0 && r == 0) {
		r = -errno;
		sc_error_set(err, "closing the control channel of %s: %s", name,
			     strerror(-r));
	}
	return r;
}

void sa_control_close(struct sa_control *c)
{
	size_t i;

	for (i = 0; i < c->nholds; i++)
		close(c->holds[i]);
	free(c->holds);
	c->holds = NULL;
	c->nholds = 0;
	if (c->relay_fd >= 0)
		close(c->relay_fd);
	c->relay_fd = -1;
}
