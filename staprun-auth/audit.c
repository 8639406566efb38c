/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Audit trail: every decision goes to syslog (LOG_AUTHPRIV); refusals to stderr too. */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "auth.h"

static char who[96];

void sa_audit_open(const struct sa_ids *ids)
{
	snprintf(who, sizeof(who), "%s", sa_user_label(ids));
	openlog(SA_PROG, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

/* Copy s into buf with anything unprintable replaced, so a log line stays one line. */
static const char *clean(const char *s, char *buf, size_t n)
{
	size_t i;

	if (!s)
		return "-";
	for (i = 0; s[i] && i + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	buf[i] = '\0';
	return buf;
}

static void log_event(int prio, const char *verdict, const struct sa_event *ev,
		      const char *text)
{
	char mod[512], par[1024], txt[1024];

	syslog(prio, "%s %s user=%s module=%s sha256=%s params='%s': %s", verdict,
	       ev->action, who, clean(ev->module, mod, sizeof(mod)),
	       ev->digest ? ev->digest : "-", clean(ev->params, par, sizeof(par)),
	       clean(text, txt, sizeof(txt)));
}

void sa_audit_allow(const struct sa_event *ev, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_event(LOG_NOTICE, "allow", ev, text);
}

void sa_audit_refuse(const struct sa_event *ev, const char *hint, const char *fmt, ...)
{
	char text[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_event(LOG_WARNING, "refuse", ev, text);
	fprintf(stderr, "%s: %s\n", SA_PROG, text);
	if (hint)
		fprintf(stderr, "  hint: %s\n", hint);
}

void sa_info(int verbose, const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fprintf(stderr, "%s: ", SA_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
