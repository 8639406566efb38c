/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which control protocol a module speaks, and whether this host's stapio
 * speaks it too.
 *
 * systemtap 5.0 renumbered the control messages ("to force
 * incompatibility"): of the three staprun-auth writes as root,
 * STP_RELOCATION, STP_TZINFO and STP_PRIVILEGE_CREDENTIALS are 9, 14, 15
 * in systemtap 4 and 89, 94, 95 in systemtap 5 (transport_msgs.h of 4.8 and
 * 5.1; the ranges 0-18 and 80-100 do not overlap, and a runtime answers a
 * number it does not know with EINVAL). Their layouts did not change.
 * systemtap 5's runtime also wants the kernel's
 * module_kallsyms_on_each_symbol among the relocations (kprobes over module
 * symbols; 4.x modules ignore a name they do not know).
 *
 * The module's version comes from the bytes that were hashed and blessed
 * (common/modinfo.h: the translator's "VERSION/ELFUTILS" string), never from
 * a file name or a user's word. stapio, started after the privileges are
 * dropped, must speak the same protocol: its version is read the same way
 * from the installed binary (root's file at a compiled-in path). A module
 * of a systemtap major this table lacks, one whose version cannot be told,
 * or one whose .modinfo "systemtap=" claims another version than the
 * translator's string, is refused; so is a module stapio cannot speak to.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "common/fsutil.h"

/* systemtap-runtime's message layouts (GPL-2.0-or-later), by path. */
#include SA_TRANSPORT_MSGS_H

/* The layouts are the same in both protocols; the numbers are the table's. */
_Static_assert(sizeof(struct _stp_msg_relocation) == 264, "relocation layout");
_Static_assert(sizeof(struct _stp_msg_tzinfo) == 72, "tzinfo layout");
_Static_assert(sizeof(struct _stp_msg_privilege_credentials) == 4, "credentials layout");
/* The header this was built with is one of the table's. */
_Static_assert(STP_RELOCATION == 9 || STP_RELOCATION == 89, "an unknown protocol");

static const struct sa_protocol protocols[] = {
	{.major = 4,
	 .name = "systemtap 4",
	 .relocation = 9,
	 .tzinfo = 14,
	 .privilege_credentials = 15,
	 .module_kallsyms = 0},
	{.major = 5,
	 .name = "systemtap 5",
	 .relocation = 89,
	 .tzinfo = 94,
	 .privilege_credentials = 95,
	 .module_kallsyms = 1},
};

/* The largest stapio binary read (systemtap's is ~200 KiB). */
#define STAPIO_MAX (8u << 20)

const struct sa_protocol *sa_protocol_of(const char *version)
{
	unsigned major, minor;

	if (sc_stap_version_numbers(version, &major, &minor) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
		if (protocols[i].major == major)
			return &protocols[i];
	return NULL;
}

const char *sa_protocols_known(void)
{
	return "systemtap 4.x and 5.x";
}

int sa_stapio_version(char out[SC_STAP_VERSION_MAX])
{
	char *buf = NULL;
	size_t len = 0;
	int fd = open(SC_STAPIO, O_RDONLY | O_NOCTTY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = sc_read_fd(fd, STAPIO_MAX, &buf, &len);
	close(fd);
	if (r == 0)
		r = sc_stap_version_scan(buf, len, 0, out);
	free(buf);
	return r;
}

/* The translator's version string, and the .modinfo claim agreeing with it. */
static int module_version(struct sa_module *m, const struct sc_modinfo *mi,
			  struct sc_error *err)
{
	const char *claim = sc_modinfo_get(mi, "systemtap");
	size_t n;
	int r = sc_modinfo_stap_version(mi, m->stap_version, sizeof(m->stap_version));

	if (r == -EEXIST) {
		sc_error_set(err,
			     "%s holds two different systemtap version strings: which "
			     "systemtap built it cannot be told",
			     m->path);
		return -EINVAL;
	}
	if (r < 0) {
		sc_error_set(err,
			     "%s carries no systemtap version (not a module stap "
			     "built for the kernel runtime)",
			     m->path);
		return -EINVAL;
	}
	n = strcspn(m->stap_version, "/");
	if (claim && (strlen(claim) != n || strncmp(claim, m->stap_version, n))) {
		sc_error_set(err,
			     "%s claims systemtap %.32s (.modinfo systemtap=) but was "
			     "built by systemtap %.*s",
			     m->path, claim, (int)n, m->stap_version);
		return -EINVAL;
	}
	return 0;
}

int sa_protocol_check(struct sa_module *m, const struct sc_modinfo *mi,
		      struct sc_error *err)
{
	char stapio[SC_STAP_VERSION_MAX];
	const struct sa_protocol *sp;
	int n, r = module_version(m, mi, err);

	if (r < 0)
		return r;
	n = (int)strcspn(m->stap_version, "/");
	m->proto = sa_protocol_of(m->stap_version);
	if (!m->proto) {
		sc_error_set(err,
			     "%s was built by systemtap %.*s, whose control protocol "
			     "this staprun-auth does not know (it speaks %s)",
			     m->path, n, m->stap_version, sa_protocols_known());
		m->hint = "build the module with the systemtap this host runs";
		return -EPROTONOSUPPORT;
	}
	r = sa_stapio_version(stapio);
	if (r < 0) /* not told: the module's own protocol, which stapio may speak */
		return 0;
	sp = sa_protocol_of(stapio);
	if (sp != m->proto) {
		sc_error_set(err,
			     "%s was built by systemtap %.*s, but this host's stapio (%s) "
			     "is systemtap %s, which speaks %s's control protocol, not "
			     "%s's",
			     m->path, n, m->stap_version, SC_STAPIO, stapio,
			     sp ? sp->name : "an unknown", m->proto->name);
		snprintf(m->hintbuf, sizeof(m->hintbuf),
			 "build the module with systemtap %s, which this host runs "
			 "(stapcache -T picks the target's build root)",
			 stapio);
		m->hint = m->hintbuf;
		return -EPROTONOSUPPORT;
	}
	return 0;
}
