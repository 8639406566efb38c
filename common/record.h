/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_RECORD_H
#define SC_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/digest.h"
#include "common/error.h"

/*
 * The cache-key record: an ordered list of labelled, length-prefixed fields.
 * Its serialized form is both what is hashed and what `--explain` prints:
 *
 *     stapcache-record 1\n
 *     LABEL LENGTH\n
 *     VALUE (exactly LENGTH bytes)\n
 *     ...
 *
 * LABEL is [a-z0-9._-]{1,64}; LENGTH is decimal without leading zeros. No two
 * inputs can run together, and a value may hold any bytes, newlines included.
 */
#define SC_RECORD_FORMAT 1
#define SC_RECORD_MAX_FIELDS 4096
#define SC_RECORD_MAX_VALUE (16u << 20)

struct sc_record;

/* Returns a new empty record, or NULL when out of memory. */
struct sc_record *sc_record_new(void);
/* Frees the record and every field; NULL is a no-op. */
void sc_record_free(struct sc_record *rec);

/* Append a field (the value is copied). Returns 0, -EINVAL for a bad label, -E2BIG, -ENOMEM. */
int sc_record_add(struct sc_record *rec, const char *label, const void *value,
		  size_t len);
int sc_record_add_str(struct sc_record *rec, const char *label, const char *value);
int sc_record_addf(struct sc_record *rec, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

size_t sc_record_count(const struct sc_record *rec);
/* Label and value of field i (i < count); the value is NUL-terminated for convenience. */
const char *sc_record_label(const struct sc_record *rec, size_t i);
const char *sc_record_value(const struct sc_record *rec, size_t i, size_t *len);
/* First value with this label, or NULL. */
const char *sc_record_get(const struct sc_record *rec, const char *label);

/* Serialize into a new buffer (caller frees). Returns 0 or -ENOMEM. */
int sc_record_serialize(const struct sc_record *rec, char **out, size_t *len);
/* SHA-256 of the serialized form. Returns 0 or -ENOMEM. */
int sc_record_digest(const struct sc_record *rec, uint8_t out[SC_SHA256_LEN]);

/*
 * Parse a serialized record strictly: wrong header, bad label, bad length,
 * truncated value or missing newline all fail with -EINVAL and a message that
 * gives the byte offset. Returns 0 and sets *out (free with sc_record_free).
 */
int sc_record_parse(const char *buf, size_t len, struct sc_record **out,
		    struct sc_error *err);

#endif
