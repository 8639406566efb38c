/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Numbers and sizes as people type and read them: one parser each. */
#include "build-config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"

int sc_parse_int(const char *what, const char *s, long min, long max, long *out,
		 struct sc_error *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s ? s : "", &end, 10);
	if (!s || *s == '\0' || *end || errno || n < min || n > max) {
		sc_error_set(err, "%s '%s': expected a number %ld-%ld", what, s ? s : "",
			     min, max);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

void sc_human_size(uint64_t n, char *buf, size_t len)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	unsigned u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

int sc_parse_size(const char *s, uint64_t *out, struct sc_error *err)
{
	char *end;
	double v;
	uint64_t mult = 1;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+')
		goto bad;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		goto bad;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	case 't':
	case 'T':
		mult = 1ULL << 40;
		end++;
		break;
	default:
		goto bad;
	}
	if (mult > 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end != '\0' || v * (double)mult > 1.8e19)
		goto bad;
	*out = (uint64_t)(v * (double)mult);
	return 0;
bad:
	sc_error_set(err,
		     "invalid size '%s' (expected a number with an optional K, M, G or T suffix, e.g. 2G)",
		     s ? s : "");
	return -EINVAL;
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

size_t sc_word_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];

			row[j] = a[i - 1] == b[j - 1] ? diag
						      : 1 + min3(diag, up, row[j - 1]);
			diag = up;
		}
	}
	return row[lb];
}

int sc_nearest_word(const char *word, const char *list, char *out, size_t n)
{
	size_t best = SC_TYPO_DISTANCE_MAX + 1, lw = strlen(word);
	const char *p = list, *found = NULL;
	size_t found_len = 0;

	while (*p) {
		size_t len = strcspn(p, ","), d = sc_word_distance(word, lw, p, len);

		if (d > 0 && d < best) {
			best = d;
			found = p;
			found_len = len;
		}
		p += len;
		p += strspn(p, ", ");
	}
	if (!found || found_len >= n)
		return -ENOENT;
	memcpy(out, found, found_len);
	out[found_len] = '\0';
	return 0;
}
