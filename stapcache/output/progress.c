/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The status line. Written with write(2) straight to the fd (stderr is
 * unbuffered anyway), never through stdout: a probe's output and a -p4 path
 * stay byte for byte what they are without a terminal.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "output/progress.h"

#define LINE_MAX_BYTES 512
#define ERASE "\r\033[K"

struct sc_progress {
	int fd;
	bool shown;
	char last[LINE_MAX_BYTES + 1]; /* what is shown: the same text is not redrawn */
};

bool sc_progress_wanted(int fd, const char *term)
{
	return isatty(fd) && !(term && !strcmp(term, "dumb"));
}

struct sc_progress *sc_progress_new(int fd)
{
	struct sc_progress *p = calloc(1, sizeof(*p));

	if (p)
		p->fd = fd;
	return p;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) /* a terminal gone away: nothing to show it on */
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Columns to use: one less than the terminal's, so that no line wraps. */
static size_t columns(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col < 2)
		return 79;
	return (size_t)ws.ws_col - 1;
}

void sc_progress_show(struct sc_progress *p, const char *text)
{
	char line[LINE_MAX_BYTES + sizeof(ERASE) * 2];
	size_t n = strlen(text), w;
	int len;

	if (!p)
		return;
	w = columns(p->fd);
	if (w > LINE_MAX_BYTES)
		w = LINE_MAX_BYTES;
	if (n > w)
		n = w;
	/* Control characters would move the cursor: the line is cut there. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			n = i;
	if (p->shown && strlen(p->last) == n && !memcmp(p->last, text, n))
		return;
	snprintf(p->last, sizeof(p->last), "%.*s", (int)n, text);
	len = snprintf(line, sizeof(line), "\r%.*s\033[K", (int)n, text);
	if (len > 0)
		write_all(p->fd, line, (size_t)len);
	p->shown = true;
}

void sc_progress_hide(struct sc_progress *p)
{
	if (!p || !p->shown)
		return;
	write_all(p->fd, ERASE, sizeof(ERASE) - 1);
	p->shown = false;
}

void sc_progress_free(struct sc_progress *p)
{
	sc_progress_hide(p);
	free(p);
}
