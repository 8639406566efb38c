/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * staprun-auth's choice of control protocol for a user's module,
 * sa_protocol_check() in staprun-auth/protocol.c, exactly as the setuid
 * binary compiles it (the file is included whole): the module's bytes go
 * through sc_modinfo_parse(), as load.c hands them over, and the decision is
 * made against this machine's real stapio (SC_STAPIO, read once).
 *
 * fuzz-version.c fuzzes the string scanner alone; this one fuzzes what the
 * setuid program concludes from it together with the .modinfo "systemtap="
 * claim and stapio's own version. What must hold:
 * - an accepted module speaks the protocol of the one version string its
 *   string sections hold, any .modinfo claim names that same version, and
 *   this host's stapio (when its version can be read) speaks that protocol;
 * - a refusal is -EINVAL or -EPROTONOSUPPORT with a message, and the
 *   message names the versions it refused over: the module's, the claim
 *   that contradicts it, stapio's when stapio is what does not match;
 * - a module whose version this staprun-auth has no protocol for is never
 *   accepted.
 */
#include "../../staprun-auth/protocol.c"

static char stapio[SC_STAP_VERSION_MAX];
static int stapio_r = 1; /* 1: not read yet */

/* The length of v's MAJOR.MINOR[suffix] part (before "/ELFUTILS"). */
static size_t version_len(const char *v)
{
	return strcspn(v, "/");
}

static int mentions(const char *msg, const char *s, size_t n)
{
	return n == 0 || memmem(msg, strlen(msg), s, n) != NULL;
}

static void check_accepted(const struct sa_module *m, const struct sc_modinfo *mi)
{
	char v[SC_STAP_VERSION_MAX];
	const char *claim = sc_modinfo_get(mi, "systemtap");

	if (sc_modinfo_stap_version(mi, v, sizeof(v)) != 0 || strcmp(v, m->stap_version))
		abort(); /* accepted on a version the module does not hold */
	if (!m->proto || m->proto != sa_protocol_of(v))
		abort();
	if (claim &&
	    (strlen(claim) != version_len(v) || strncmp(claim, v, version_len(v))))
		abort(); /* a contradicting claim got through */
	if (stapio_r == 0 && sa_protocol_of(stapio) != m->proto)
		abort(); /* stapio cannot speak to it */
}

static void check_refused(int r, const struct sa_module *m, const struct sc_modinfo *mi,
			  const struct sc_error *err)
{
	char v[SC_STAP_VERSION_MAX];
	const char *claim = sc_modinfo_get(mi, "systemtap");
	int have = sc_modinfo_stap_version(mi, v, sizeof(v));

	if ((r != -EINVAL && r != -EPROTONOSUPPORT) || !err->msg[0])
		abort();
	if (have != 0)
		return; /* none or two: the message says so, there is no version to name */
	if (!mentions(err->msg, v, version_len(v)))
		abort();    /* every other refusal names the module's version */
	if (r == -EINVAL) { /* the claim contradicts the bytes: both named */
		if (!claim || !mentions(err->msg, claim, strnlen(claim, 32)))
			abort();
		return;
	}
	if (!m->hint)
		abort(); /* a refusal over a version says what to do */
	if (m->proto && (stapio_r != 0 || !mentions(err->msg, stapio, strlen(stapio))))
		abort(); /* refused over stapio: its version named */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_error err = {{0}};
	struct sc_modinfo *mi = NULL;
	struct sa_module m = {.path = "fuzz.ko"};
	char *copy = malloc(size ? size : 1);
	int r;

	if (!copy)
		return 0;
	if (stapio_r == 1)
		stapio_r = sa_stapio_version(stapio) == 0 ? 0 : -1;
	memcpy(copy, data, size);
	if (sc_modinfo_parse(copy, size, &mi, &err) == 0) {
		memset(&err, 0, sizeof(err));
		r = sa_protocol_check(&m, mi, &err);
		if (r == 0)
			check_accepted(&m, mi);
		else
			check_refused(r, &m, mi, &err);
		if (!sa_protocol_of(m.stap_version) && r == 0)
			abort();
	}
	sc_modinfo_free(mi);
	free(copy);
	return 0;
}
