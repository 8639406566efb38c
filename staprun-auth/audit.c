/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Audit trail and messages. Every decision and every failure goes to syslog
 * (LOG_AUTHPRIV). What the caller sees goes through sa_say(): a write to
 * the caller's stderr or stdout may block (a pipe nobody reads), so each one
 * runs under our own ITIMER_REAL, whose SIGALRM (caught without SA_RESTART,
 * signals.c) cuts it short after SA_WRITE_TIMEOUT_MS: the message is lost,
 * the root side goes on.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include "auth.h"

static char who[96] = "?";

void sa_audit_open(const struct sa_ids *ids)
{
	snprintf(who, sizeof(who), "%s(%u)", ids->user ? ids->user : "?",
		 (unsigned)ids->uid);
	openlog(SA_PROG, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

/* The caller as the initial namespace knows it (a user namespace's uid 0 is not root). */
void sa_audit_outside(unsigned uid)
{
	snprintf(who, sizeof(who), "uid %u (in a user namespace)", uid);
}

static void timed_write(int fd, const char *buf, size_t len)
{
	const struct itimerval off = {{0, 0}, {0, 0}};
	struct itimerval t = {{0, 0},
			      {SA_WRITE_TIMEOUT_MS / 1000,
			       (SA_WRITE_TIMEOUT_MS % 1000) * 1000}};
	ssize_t w;

	if (setitimer(ITIMER_REAL, &t, NULL) < 0)
		return;
	while (len > 0) {
		w = write(fd, buf, len);
		if (w <= 0)
			break; /* EINTR here is our timer: give up */
		buf += w;
		len -= (size_t)w;
	}
	setitimer(ITIMER_REAL, &off, NULL);
}

void sa_say(int fd, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		timed_write(fd, buf,
			    (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
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

__attribute__((format(printf, 4, 0))) static void log_event(int prio, const char *verdict,
							    const struct sa_event *ev,
							    const char *fmt, va_list ap)
{
	char mod[512], par[1024], txt[1200], raw[1200];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	syslog(prio, "%s %s user=%s module=%s sha256=%s params='%s': %s", verdict,
	       ev->action, who, clean(ev->module, mod, sizeof(mod)),
	       ev->digest ? ev->digest : "-", clean(ev->params, par, sizeof(par)),
	       clean(raw, txt, sizeof(txt)));
}

void sa_audit(int prio, const struct sa_event *ev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_event(prio, prio == LOG_NOTICE ? "allow" : "fail", ev, fmt, ap);
	va_end(ap);
}

void sa_audit_refuse(const struct sa_event *ev, const char *hint, const char *fmt, ...)
{
	char text[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	log_event(LOG_WARNING, "refuse", ev, fmt, ap);
	va_end(ap);
	sa_say(2, "%s: %s\n%s%s%s", SA_PROG, text, hint ? "  hint: " : "",
	       hint ? hint : "", hint ? "\n" : "");
}

void sa_info(int verbose, const char *fmt, ...)
{
	char text[1200];
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sa_say(2, "%s: %s\n", SA_PROG, text);
}
