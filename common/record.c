/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/record.h"

#define LABEL_MAX 64
#define HEADER "stapcache-record "

struct field {
	char label[LABEL_MAX + 1];
	char *value;
	size_t len;
};

struct sc_record {
	struct field *fields;
	size_t n, cap;
};

struct sc_record *sc_record_new(void)
{
	return calloc(1, sizeof(struct sc_record));
}

void sc_record_free(struct sc_record *rec)
{
	size_t i;

	if (!rec)
		return;
	for (i = 0; i < rec->n; i++)
		free(rec->fields[i].value);
	free(rec->fields);
	free(rec);
}

static int label_ok(const char *label, size_t len)
{
	size_t i;

	if (len == 0 || len > LABEL_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = label[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int add_n(struct sc_record *rec, const char *label, size_t llen, const void *value,
		 size_t len)
{
	struct field *f;

	if (!label_ok(label, llen))
		return -EINVAL;
	if (len > SC_RECORD_MAX_VALUE || rec->n >= SC_RECORD_MAX_FIELDS)
		return -E2BIG;
	if (rec->n == rec->cap) {
		size_t cap = rec->cap ? rec->cap * 2 : 32;
		struct field *nf = realloc(rec->fields, cap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		rec->fields = nf;
		rec->cap = cap;
	}
	f = &rec->fields[rec->n];
	f->value = malloc(len + 1);
	if (!f->value)
		return -ENOMEM;
	memcpy(f->label, label, llen);
	f->label[llen] = '\0';
	if (len)
		memcpy(f->value, value, len);
	f->value[len] = '\0';
	f->len = len;
	rec->n++;
	return 0;
}

int sc_record_add(struct sc_record *rec, const char *label, const void *value, size_t len)
{
	return add_n(rec, label, strlen(label), value, len);
}

int sc_record_add_str(struct sc_record *rec, const char *label, const char *value)
{
	return sc_record_add(rec, label, value, strlen(value));
}

int sc_record_addf(struct sc_record *rec, const char *label, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	s = sc_vstrdupf(fmt, ap);
	va_end(ap);
	r = sc_record_add(rec, label, s, strlen(s));
	free(s);
	return r;
}

size_t sc_record_count(const struct sc_record *rec)
{
	return rec->n;
}

const char *sc_record_label(const struct sc_record *rec, size_t i)
{
	return i < rec->n ? rec->fields[i].label : NULL;
}

const char *sc_record_value(const struct sc_record *rec, size_t i, size_t *len)
{
	if (i >= rec->n)
		return NULL;
	if (len)
		*len = rec->fields[i].len;
	return rec->fields[i].value;
}

const char *sc_record_get(const struct sc_record *rec, const char *label)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		if (!strcmp(rec->fields[i].label, label))
			return rec->fields[i].value;
	return NULL;
}

int sc_record_serialize(const struct sc_record *rec, char **out, size_t *len)
{
	size_t total = sizeof(HEADER) + 16, i, pos;
	char *buf;
	int w;

	for (i = 0; i < rec->n; i++)
		total += strlen(rec->fields[i].label) + 24 + rec->fields[i].len + 1;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	w = snprintf(buf, total, HEADER "%d\n", SC_RECORD_FORMAT);
	pos = (size_t)w;
	for (i = 0; i < rec->n; i++) {
		const struct field *f = &rec->fields[i];

		w = snprintf(buf + pos, total - pos, "%s %zu\n", f->label, f->len);
		pos += (size_t)w;
		memcpy(buf + pos, f->value, f->len);
		pos += f->len;
		buf[pos++] = '\n';
	}
	buf[pos] = '\0';
	*out = buf;
	*len = pos;
	return 0;
}

int sc_record_digest(const struct sc_record *rec, uint8_t out[SC_SHA256_LEN])
{
	char *buf;
	size_t len;
	int r = sc_record_serialize(rec, &buf, &len);

	if (r < 0)
		return r;
	sc_sha256(buf, len, out);
	free(buf);
	return 0;
}

/* Parse a decimal length without sign or leading zeros, ending at a newline. */
static int parse_len(const char *p, const char *end, size_t *out, const char **next)
{
	size_t v = 0;
	const char *q = p;

	if (q < end && *q == '0' && q + 1 < end && q[1] != '\n')
		return -EINVAL;
	while (q < end && *q >= '0' && *q <= '9') {
		if (v > SC_RECORD_MAX_VALUE)
			return -E2BIG;
		v = v * 10 + (size_t)(*q - '0');
		q++;
	}
	if (q == p || q >= end || *q != '\n')
		return -EINVAL;
	*out = v;
	*next = q + 1;
	return 0;
}

int sc_record_parse(const char *buf, size_t len, struct sc_record **out,
		    struct sc_error *err)
{
	const char *p = buf, *end = buf + len;
	struct sc_record *rec;
	char header[32];
	int hl = snprintf(header, sizeof(header), HEADER "%d\n", SC_RECORD_FORMAT);
	int r = -EINVAL;

	if (len < (size_t)hl || memcmp(buf, header, (size_t)hl) != 0) {
		sc_error_set(err, "not a stapcache record of format %d (bad header)",
			     SC_RECORD_FORMAT);
		return -EINVAL;
	}
	rec = sc_record_new();
	if (!rec)
		return -ENOMEM;
	p += hl;
	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p)), *val;
		size_t vlen;

		if (!sp || !label_ok(p, (size_t)(sp - p))) {
			sc_error_set(err, "offset %td: expected a field label", p - buf);
			goto fail;
		}
		if (parse_len(sp + 1, end, &vlen, &val) < 0) {
			sc_error_set(err, "offset %td: bad field length", sp + 1 - buf);
			goto fail;
		}
		if (vlen > (size_t)(end - val) || (size_t)(end - val) - vlen < 1 ||
		    val[vlen] != '\n') {
			sc_error_set(err, "offset %td: field value truncated", val - buf);
			goto fail;
		}
		r = add_n(rec, p, (size_t)(sp - p), val, vlen);
		if (r < 0) {
			sc_error_set(err, "offset %td: %s", p - buf, strerror(-r));
			goto fail;
		}
		r = -EINVAL;
		p = val + vlen + 1;
	}
	*out = rec;
	return 0;
fail:
	sc_record_free(rec);
	return r;
}
