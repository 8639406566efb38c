/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_PARSE_H
#define SC_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/*
 * A whole number in [min, max] given for what (an option's name, for the
 * message). Returns 0 and *out, or -EINVAL with err saying
 * "WHAT 'S': expected a number MIN-MAX". The one integer parser: every
 * option and config value that takes a number goes through it.
 */
int sc_parse_int(const char *what, const char *s, long min, long max, long *out,
		 struct sc_error *err);

/* "1.2 MiB"-style text for n bytes into buf. */
void sc_human_size(uint64_t n, char *buf, size_t len);

/*
 * Parse a size like "500M", "2G", "1.5GiB", "100k", "4096". Units are powers of
 * 1024. Returns 0, or -EINVAL with err describing the problem.
 */
int sc_parse_size(const char *s, uint64_t *out, struct sc_error *err);

/* The largest edit distance at which a word is taken for a typo of another. */
#define SC_TYPO_DISTANCE_MAX 2

/*
 * Levenshtein distance between a[0..la) and b[0..lb); SIZE_MAX when either
 * is 64 bytes or longer (a typo is looked for among short words only).
 */
size_t sc_word_distance(const char *a, size_t la, const char *b, size_t lb);

/*
 * The entry of list (words separated by ", ", as messages print them)
 * nearest to word, when it is at most SC_TYPO_DISTANCE_MAX edits away and
 * not word itself: copied into out (n bytes). Returns 0, or -ENOENT when no
 * entry is that near (or it does not fit out).
 */
int sc_nearest_word(const char *word, const char *list, char *out, size_t n);

#endif
