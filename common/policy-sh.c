/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * authorized_probes(5)'s trust rules for a target's shell, and the bless
 * script that appends to the policy there. Built from policy.h's and
 * fsutil.h's macros, so that staprun-auth (policy.c) and what stapcache
 * sends (bless -T, doctor) say the same thing about the same files. Not
 * linked into staprun-auth.
 *
 * The shell cannot open with O_NOFOLLOW or fstat a descriptor, so it goes
 * by the directories: each is checked with lstat (stat -c, which does not
 * follow) from '/' down before anything in it is looked at, and once one is
 * trusted (root's, not writable by others) nobody else can swap an entry in
 * it. The policy file itself is checked as found, opened on fd 3, and checked
 * again as opened (stat -L /proc/self/fd/3: what the descriptor refers to)
 * with the same inode; its bytes are then read from that descriptor, and its
 * owner and mode taken from that stat.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "common/policy.h"

/* The file types, as fsutil.h lists them; and the drop-in names skipped. */
#define TYPE_ROW(bits, name) {(unsigned)(bits), name},
static const struct {
	unsigned bits;
	const char *name;
} types[] = {SC_FILE_TYPES(TYPE_ROW)};
#define INFIX_ARM(infix) "*" infix "*|"
static const char skipped_arms[] = SC_POLICY_SKIPPED_INFIXES(INFIX_ARM);

/*
 * printf formats of this file's own: the type arms and the rule messages go
 * in as %s arguments (the messages are formats for the shell's printf).
 * -Wformat-nonliteral is off for the calls that use them.
 */
static const char trust_fmt[] =
	/* sc_why PATH d|f STRICT RAWHEXMODE UID */
	"sc_why() { sc_m=$((0x$4)); sc_w='regular file'; [ \"$2\" = d ] && "
	"sc_w=directory; case $((sc_m & %u)) in %s*) sc_n='file of an unknown type';; "
	"esac; if [ \"$sc_n\" != \"$sc_w\" ]; then "
	"why=$(printf '%s' \"$1\" \"$sc_n\" \"$sc_w\"); return 1; fi; "
	"if [ \"$5\" != %u ]; then why=$(printf '%s' \"$1\" \"$5\"); return 1; fi; "
	"if [ $((sc_m & %u)) != 0 ] && { [ \"$3\" = 1 ] || [ $((sc_m & %u)) = 0 ]; }; "
	"then why=$(printf '%s' \"$1\" $((sc_m & 4095))); return 1; fi; return 0; }\n"
	/* sc_trust PATH d|f STRICT */
	"sc_trust() { sc_s=$(stat -c '%%f %%u' -- \"$1\" 2>/dev/null) || "
	"{ why=$(printf '%s' \"$1\"); return 1; }; sc_why \"$1\" \"$2\" \"$3\" $sc_s; }\n"
	/* sc_trust_walk DIR */
	"sc_trust_walk() { sc_d=${1%%/}; [ -n \"$sc_d\" ] || sc_d=/; "
	"sc_p=${sc_d%%/*}; [ \"${sc_d##*/}\" = authorized_probes.d ] || sc_p=; "
	"sc_trust / d 0 || return 1; sc_x= sc_r=${sc_d#/}; "
	"while [ -n \"$sc_r\" ]; do sc_c=${sc_r%%%%/*}; "
	"case $sc_r in */*) sc_r=${sc_r#*/};; *) sc_r=;; esac; "
	"[ -n \"$sc_c\" ] || continue; sc_x=$sc_x/$sc_c; sc_st=0; "
	"{ [ \"$sc_x\" = \"$sc_d\" ] || [ \"$sc_x\" = \"$sc_p\" ]; } && sc_st=1; "
	"sc_trust \"$sc_x\" d $sc_st || return 1; done; return 0; }\n"
	/* sc_policy_skipped NAME */
	"sc_policy_skipped() { case $1 in .*|*~|%s'') return 0;; esac; return 1; }\n";

/* Run by `sh -s` as root, after sc_policy_trust_sh() and f=, hex=, line=. */
static const char bless_fmt[] =
	"set -u\n"
	"umask 077\n"
	"refuse() { printf '%%s\\n' \"$*\" >&2; exit 3; }\n"
	"command -v stat >/dev/null 2>&1 || "
	"refuse \"no stat(1) here: cannot check the policy's owner and mode\"\n"
	"case $f/ in /*) ;; *) refuse \"$f: not an absolute path\";; esac\n"
	"case $f/ in */./*|*/../*|*//*) refuse \"$f: not a plain path (no ., .. or //)\";; "
	"esac\n"
	"d=${f%%/*}; [ -n \"$d\" ] || d=/\n"
	"sc_trust_walk \"$d\" || refuse \"refusing $why\"\n"
	/* refused before the lock, whose mkdir would change the directory */
	"if [ -e \"$f\" ] || [ -L \"$f\" ]; then sc_trust \"$f\" f 1 || refuse \"refusing "
	"$why\"; fi\n"
	"i=0\n"
	"until mkdir \"$f.lock\" 2>/dev/null; do\n"
	"  i=$((i + 1)); [ $i -lt 100 ] || { echo \"$f.lock is held\" >&2; exit 4; }\n"
	"  sleep 0.1\n"
	"done\n"
	"t=\n"
	"trap 'rm -f \"$t\"; rmdir \"$f.lock\"' EXIT\n"
	"trap 'exit 130' INT TERM HUP\n"
	"own=0:0 mode=644 o=\n"
	"if [ -e \"$f\" ] || [ -L \"$f\" ]; then\n"
	"  sc_trust \"$f\" f 1 || refuse \"refusing $why\"\n"
	"  exec 3<\"$f\" || refuse \"cannot open $f\"\n"
	"  s=$(stat -L -c '%%f %%u %%g %%a %%d:%%i' /proc/self/fd/3) || "
	"refuse \"cannot stat $f as opened (no /proc?)\"\n"
	"  set -- $s\n"
	"  sc_why \"$f\" f 1 \"$1\" \"$2\" || refuse \"refusing $why\"\n"
	"  [ \"$5\" = \"$(stat -c '%%d:%%i' -- \"$f\")\" ] || "
	"refuse \"$f was replaced while it was opened\"\n"
	"  own=$2:$3 mode=$4 o=1\n"
	"fi\n"
	"t=$(mktemp \"$d/.authorized_probes.XXXXXX\") || exit 6\n"
	"if [ -n \"$o\" ]; then cat <&3 >\"$t\" || exit 6; exec 3<&-; fi\n"
	"if grep -Eq \"^[[:space:]]*sha256:$hex([[:space:]]|\\$)\" \"$t\"; then\n"
	"  echo already; exit 0\n"
	"fi\n"
	"if [ -s \"$t\" ] && [ -n \"$(tail -c 1 \"$t\")\" ]; then echo >>\"$t\"; fi\n"
	"printf '%%s\\n' \"$line\" >>\"$t\" || exit 7\n"
	"[ \"$(wc -c <\"$t\")\" -le %u ] || "
	"refuse \"refusing to make $f larger than %u bytes (staprun-auth reads no more)\"\n"
	"chown \"$own\" \"$t\" && chmod \"$mode\" \"$t\" && sync && mv -f \"$t\" \"$f\" || "
	"exit 7\n"
	"t=\n"
	"echo appended\n";

static char *trust_sh;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
const char *sc_policy_trust_sh(void)
{
	char *arms, *n;

	if (trust_sh)
		return trust_sh;
	arms = sc_strdupf("%s", "");
	for (size_t i = 0; arms && i < sizeof(types) / sizeof(types[0]); i++) {
		n = sc_strdupf("%s%u) sc_n='%s';; ", arms, types[i].bits, types[i].name);
		free(arms);
		arms = n;
	}
	if (arms)
		trust_sh = sc_strdupf(trust_fmt, (unsigned)S_IFMT, arms,
				      SC_POLICY_WHY_TYPE, (unsigned)SC_POLICY_OWNER,
				      SC_POLICY_WHY_OWNER, (unsigned)SC_POLICY_DENIED,
				      (unsigned)SC_POLICY_STICKY, SC_POLICY_WHY_MODE,
				      SC_POLICY_WHY_MISSING, skipped_arms);
	free(arms);
	return trust_sh;
}

static char *bless_body(void)
{
	return sc_strdupf(bless_fmt, (unsigned)SC_POLICY_MAX_FILE,
			  (unsigned)SC_POLICY_MAX_FILE);
}
#pragma GCC diagnostic pop

/* s in single quotes for a POSIX shell ("'" becomes '\''). Caller frees. */
static char *quote(const char *s)
{
	size_t n = 3;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	out = malloc(n);
	if (!out)
		return NULL;
	o = out;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			*o++ = '\'';
			*o++ = '\\';
			*o++ = '\'';
		}
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

char *sc_policy_bless_script(const char *path, const char *hex, const char *line)
{
	char *qf = quote(path), *qh = quote(hex), *ql = quote(line), *body, *out = NULL;

	body = bless_body();
	if (qf && qh && ql && body)
		out = sc_strdupf("%sf=%s hex=%s line=%s\n%s", sc_policy_trust_sh(), qf,
				 qh, ql, body);
	free(qf);
	free(qh);
	free(ql);
	free(body);
	return out;
}
