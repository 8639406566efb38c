/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_POLICY_H
#define SC_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"

/*
 * authorized_probes(5): the modules an admin has blessed, by SHA-256 of their
 * bytes. One entry a line:
 *
 *     sha256:HEX [users=a,b] [groups=g,h] [kernel=REL[,REL]] [params=p,q]
 *                [bufsize=MIB] [expires=YYYY-MM-DD] [# comment]
 *
 * Blank lines and comments are ignored. Anything else (an unknown option, a
 * repeated option, a malformed value, an md5: entry) is an error naming
 * file:line, so that a typo never widens what is allowed.
 */
struct sc_policy;

/*
 * The trust rules (SECURITY.md, "The policy's trust rules"), in code once.
 * sc_policy_load() applies them to what it opens; sc_policy_trust_sh()
 * (policy-sh.c) is the same rules for a target's shell, built from these
 * macros, with the same words: `stapcache bless -T` and `stapcache doctor`
 * send it (tests/unit/test-policy.c proves the shell and this file refuse
 * the same set, with the same message).
 *
 * Every directory from '/' down to the policy's and every policy file must
 * be what it should be (a directory, a regular file: no symlink, FIFO,
 * device or socket), be owned by SC_POLICY_OWNER, and have none of the
 * SC_POLICY_DENIED mode bits; an ancestor of the policy's directory (not the
 * directory itself, nor authorized_probes.d) may, if it is sticky, like
 * /tmp: nobody else can replace root's entries in it. Each refusal is
 * "refusing " followed by one of the SC_POLICY_WHY_ texts.
 */
#define SC_POLICY_OWNER 0
#define SC_POLICY_DENIED 022   /* S_IWGRP | S_IWOTH */
#define SC_POLICY_STICKY 01000 /* S_ISVTX */
/* PATH, the type it is, the type it should be (fsutil.h's SC_FILE_TYPES words) */
#define SC_POLICY_WHY_TYPE "%s: a %s, not a %s"
/* PATH, its owner */
#define SC_POLICY_WHY_OWNER "%s: owned by uid %u, not by root"
/* PATH, its mode & 07777 */
#define SC_POLICY_WHY_MODE "%s: writable by group or others (mode %04o)"
/* PATH: missing or unreadable where it must be checked (the bless, doctor) */
#define SC_POLICY_WHY_MISSING "%s: cannot be examined (missing?)"
/* staprun-auth's refusal of a digest the policy does not list: stapcache
   -T looks for it in a target's stderr to print the bless that fixes it. */
#define SC_POLICY_UNBLESSED "is not an authorized module"
/* What staprun-auth says when a run holds the module; stapcache adds the fix. */
#define SC_POLICY_IN_USE "is in use by a run of"

/* authorized_probes.d: names skipped (as well as dot files and NAME~). */
#define SC_POLICY_SKIPPED_INFIXES(X) X(".dpkg-") X(".rpmnew") X(".rpmsave") X(".ucf-")

/*
 * The rules above as POSIX shell functions for a target (static text; needs
 * stat(1) with -c, as GNU coreutils and busybox have):
 *   sc_trust PATH d|f STRICT   lstat PATH (stat -c, never following it) and
 *                              apply the rules; 1 with $why set when refused
 *   sc_why PATH d|f STRICT RAWHEXMODE UID
 *                              the rules on a stat already taken (e.g. of an
 *                              open descriptor, stat -L /proc/self/fd/N)
 *   sc_trust_walk DIR          every directory from / down to DIR (DIR and,
 *                              when DIR is .../authorized_probes.d, its
 *                              parent strictly), as sc_policy_open_dir does
 *   sc_policy_skipped NAME     0 when a drop-in of that name is not read
 * They use variables named sc_*. Returns a static string.
 */
const char *sc_policy_trust_sh(void);

/*
 * The script `stapcache bless -T` runs as root on a target (sh -s) to add
 * line (for digest hex) to the policy file path, after sc_policy_trust_sh():
 * refused (status 3, "refusing WHY" on stderr, nothing changed) unless the
 * file's directory chain passes sc_trust_walk and the file, if there, passes
 * sc_trust both as found (lstat) and as opened (stat of /proc/self/fd/3, the
 * same inode); then, under a lock next to it, a temporary file in the same
 * directory gets the opened file's bytes plus the line (nothing when the
 * digest is already there: "already"), the opened file's owner and mode, and
 * is renamed over it ("appended"). Caller frees.
 */
char *sc_policy_bless_script(const char *path, const char *hex, const char *line);

/* Largest policy file read (bytes) and longest line accepted. */
#define SC_POLICY_MAX_FILE (1024 * 1024)
#define SC_POLICY_MAX_LINE 4096

/*
 * Trace buffer sizes (MiB per CPU, the runtime's _stp_bufsize): the most an
 * entry allows without bufsize=, and the most any entry may allow (the
 * runtime computes _stp_bufsize * 1024 * 1024 in an int).
 */
#define SC_POLICY_BUFSIZE_DEFAULT 64
#define SC_POLICY_BUFSIZE_MAX 2047
/*
 * staprun-auth -S MB[,N], stapio's output rotation: MB MiB a file (MB << 20
 * must fit stapio's off_t, 64 bits there), at most N files kept. stapcache
 * --rotate checks the same bounds before it sends anything; staprun-auth
 * uses these too (the only definition).
 */
#define SC_POLICY_ROTATE_MB_MAX 4096
#define SC_POLICY_ROTATE_FILES_MAX 65536
/*
 * The longest run, in seconds (30 days): stapcache's --duration and
 * max-duration:, and staprun-auth's --duration, which its root watchdog
 * enforces.
 */
#define SC_MAX_DURATION 2592000u
/* staprun-auth's exit status when its --duration ended the run (timeout(1)'s). */
#define SC_EXIT_DURATION 124

/*
 * MB[,N] as staprun-auth -S and stapcache --rotate take it: decimal numbers
 * without sign, space or leading zero, MB 1..SC_POLICY_ROTATE_MB_MAX, N
 * 1..SC_POLICY_ROTATE_FILES_MAX (*files 0 without ",N"). Returns 0, or
 * -EINVAL (then *mb and *files are 0).
 */
int sc_policy_rotation_parse(const char *arg, unsigned *mb, unsigned *files);

/* Returns a new, empty policy (free with sc_policy_free), or NULL when out of memory. */
struct sc_policy *sc_policy_new(void);

/* Free pol; NULL is a no-op. */
void sc_policy_free(struct sc_policy *pol);

/*
 * Add the entries of one file's text (len bytes; need not be NUL-terminated)
 * to pol. name is used in messages ("name:line: ..."). Returns 0, -EINVAL with
 * err naming the file and line of the first bad line (pol then holds no entry
 * of this text), or -ENOMEM.
 */
int sc_policy_parse(struct sc_policy *pol, const char *name, const char *text, size_t len,
		    struct sc_error *err);

/*
 * Load dir/authorized_probes and every file of dir/authorized_probes.d (in
 * name order; names starting with '.' or ending in '~', and dpkg/rpm backup
 * files are skipped) into pol, with trust checks done on the opened
 * descriptors: dir is walked from '/' with openat(O_DIRECTORY|O_NOFOLLOW);
 * every directory on the way must be owned by root and not writable by group
 * or others (an ancestor that is root-owned and sticky, like /tmp, is
 * accepted); dir, authorized_probes.d and every policy file must be owned by
 * root and not writable by group or others, and the files must be regular.
 * A missing dir or file is an empty policy. Returns 0, -EPERM when a trust
 * check fails (err names the file and the reason), -EINVAL for a bad line, or
 * another -errno.
 */
int sc_policy_load(struct sc_policy *pol, const char *dir, struct sc_error *err);

/*
 * Open the absolute directory path dir after the walk sc_policy_load() does
 * (from '/', O_DIRECTORY|O_NOFOLLOW, every directory root-owned and not
 * writable by group or others; ancestors may be root-owned and sticky).
 * Returns 0 and sets *fd (O_CLOEXEC, the caller closes it), or -errno with err
 * naming the directory (-ENOENT when a component is missing, -EPERM when a
 * trust check fails).
 */
int sc_policy_open_dir(const char *dir, int *fd, struct sc_error *err);

/* Number of entries in pol. */
size_t sc_policy_count(const struct sc_policy *pol);

/* Who asks to load what; see sc_policy_check(). */
struct sc_policy_request {
	const uint8_t *digest;     /* SHA-256 of the module's bytes (32 bytes) */
	const char *user;          /* the caller's user name */
	const char *const *groups; /* the caller's group names (primary and others) */
	size_t ngroups;
	const char *kernel;        /* the running kernel's release */
	const char *const *params; /* names of the module parameters to set */
	size_t nparams;
	unsigned bufsize; /* trace buffer asked for, MiB per CPU; 0: the default */
	time_t now;       /* for expires= (compared as a UTC date) */
};

/*
 * Decide req against pol. An entry allows the request when its digest
 * matches, it has not expired (expires=D allows through day D, UTC), the
 * caller is in users= or in groups= (either list; no list: anyone), the
 * kernel is in kernel= (if given), every parameter named in req is in
 * params= (no params=: no parameter may be set), and the buffer size is at
 * most bufsize= (no bufsize=: SC_POLICY_BUFSIZE_DEFAULT).
 *
 * Returns 0 when some entry allows it (*where, when where is non-NULL, is set
 * to that entry's "file:line", owned by pol); -ENOENT when no entry has this
 * digest; -EACCES when entries have the digest but none allows the request
 * (err says why).
 */
int sc_policy_check(const struct sc_policy *pol, const struct sc_policy_request *req,
		    const char **where, struct sc_error *err);

#endif
