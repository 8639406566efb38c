/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one-liners' event records (event.h has the format): parsed here for
 * both the local run's supervisor and stapcache-remote's fan-out. Reads only
 * line[0..len); a record that does not parse is reported, never guessed at.
 */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "output/event.h"

static size_t utf8(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \u/\U: digits hex digits at s; the code point, or -1. */
static long code_point(const char *s, size_t avail, size_t digits)
{
	long cp = 0;

	if (avail < digits)
		return -1;
	for (size_t k = 0; k < digits; k++) {
		int h = sc_hexval((unsigned char)s[k]);

		if (h < 0)
			return -1;
		cp = cp * 16 + h;
	}
	/* Surrogates and what is beyond Unicode are not text: refuse them. */
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	return cp;
}

/* One escape at s[0] == '\\': its bytes to o, what it consumed, or 0 for a bad one. */
static size_t unescape_one(const char *s, size_t avail, char *o, size_t *olen)
{
	static const char from[] = "abfnrtv\"\\", to[] = "\a\b\f\n\r\t\v\"\\";
	const char *hit;
	long cp;

	if (avail < 2)
		return 0;
	hit = strchr(from, s[1]);
	if (hit && *hit) {
		o[0] = to[hit - from];
		*olen = 1;
		return 2;
	}
	if (s[1] >= '0' && s[1] <= '3' && avail >= 4 && s[2] >= '0' && s[2] <= '7' &&
	    s[3] >= '0' && s[3] <= '7') {
		o[0] = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
		*olen = 1;
		return o[0] ? 4 : 0; /* a NUL would end the C string */
	}
	if (s[1] == 'u' || s[1] == 'U') {
		size_t digits = s[1] == 'u' ? 4 : 8;

		cp = code_point(s + 2, avail - 2, digits);
		if (cp <= 0)
			return 0;
		*olen = utf8((uint32_t)cp, o);
		return 2 + digits;
	}
	return 0;
}

/* An escaped field s[0..len) to a malloc'ed string in *out. */
static int unescape(const char *s, size_t len, char **out)
{
	char *o = malloc(len + 1),
	     *w = o; /* an escape never grows: \uXXXX is 6, UTF-8 3 */

	if (!o)
		return -ENOMEM;
	for (size_t k = 0; k < len;) {
		size_t olen = 0, used;

		if (s[k] != '\\') {
			*w++ = s[k++];
			continue;
		}
		used = unescape_one(s + k, len - k, w, &olen);
		if (!used) {
			free(o);
			return -EINVAL;
		}
		w += olen;
		k += used;
	}
	*w = '\0';
	*out = o;
	return 0;
}

static int number(const char *s, size_t len, long long *v)
{
	long long n = 0;
	size_t k = 0;
	bool neg = len > 0 && s[0] == '-';

	if (neg)
		k++;
	if (k == len || len - k > 19)
		return -EINVAL;
	for (; k < len; k++) {
		if (s[k] < '0' || s[k] > '9' || n > (LLONG_MAX - (s[k] - '0')) / 10)
			return -EINVAL; /* not a number, or beyond 64 bits */
		n = n * 10 + (s[k] - '0');
	}
	*v = neg ? -n : n;
	return 0;
}

void sc_event_clear(struct sc_event *ev)
{
	free(ev->comm);
	free(ev->probe);
	free(ev->message);
	for (size_t k = 0; k < ev->nargs; k++)
		free(ev->args[k]);
	memset(ev, 0, sizeof(*ev));
}

static int field(struct sc_event *ev, size_t nth, const char *s, size_t len)
{
	switch (nth) {
	case 0:
		return number(s, len, &ev->time_ns);
	case 1:
		return number(s, len, &ev->pid);
	case 2:
		return number(s, len, &ev->tid);
	case 3:
		return unescape(s, len, &ev->comm);
	case 4:
		return unescape(s, len, &ev->probe);
	case 5:
		return unescape(s, len, &ev->message);
	default:
		if (ev->nargs == SC_EVENT_ARGS_MAX)
			return -EINVAL;
		return unescape(s, len, &ev->args[ev->nargs++]);
	}
}

char *sc_event_arg_value(const char *arg)
{
	size_t len = strlen(arg);
	char *v = NULL;

	if (len >= 2 && arg[0] == '"' && arg[len - 1] == '"') {
		/* an unescaped quote inside: not one quoted string */
		for (size_t k = 1; k + 1 < len; k++) {
			if (arg[k] == '\\')
				k++;
			else if (arg[k] == '"')
				return sc_strdupf("%s", arg);
		}
		if (len > 2 && arg[len - 2] == '\\') {
			size_t n =
				0; /* an odd run of backslashes escapes the end quote */

			while (n < len - 2 && arg[len - 2 - n] == '\\')
				n++;
			if (n % 2)
				return sc_strdupf("%s", arg);
		}
		if (unescape(arg + 1, len - 2, &v) == 0)
			return v;
	}
	return sc_strdupf("%s", arg);
}

int sc_event_parse(const char *line, size_t len, struct sc_event *ev)
{
	size_t ml = strlen(SC_EVENT_MARK), k, nth = 0;
	struct sc_event e = {0};
	int r = 0;

	if (len < ml || memcmp(line, SC_EVENT_MARK, ml) != 0)
		return 1;
	k = ml;
	for (;;) {
		const char *tab = memchr(line + k, '\t', len - k);
		size_t end = tab ? (size_t)(tab - line) : len;

		r = field(&e, nth++, line + k, end - k);
		if (r < 0 || !tab)
			break;
		k = end + 1;
	}
	if (r == 0 && nth < 6)
		r = -EINVAL;
	if (r < 0) {
		sc_event_clear(&e);
		return r;
	}
	*ev = e;
	return 0;
}
