/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The key record reader: sc_record_parse on arbitrary bytes; whatever it
 * accepts serializes back to exactly the input (the format is strict: one
 * spelling per record), and its accessors hold.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_record *rec = NULL;
	struct sc_error err = {{0}};
	uint8_t d[SC_SHA256_LEN];
	char *s = NULL;
	size_t n, i, vlen;

	if (sc_record_parse((const char *)data, size, &rec, &err) != 0) {
		if (rec)
			abort();
		return 0;
	}
	for (i = 0; i < sc_record_count(rec); i++) {
		const char *v = sc_record_value(rec, i, &vlen);

		if (!sc_record_label(rec, i) || !v || v[vlen] != '\0')
			abort();
		if (!sc_record_get(rec, sc_record_label(rec, i)))
			abort();
	}
	if (sc_record_serialize(rec, &s, &n) != 0)
		abort();
	if (n != size || memcmp(s, data, n) != 0)
		abort();
	if (sc_record_digest(rec, d) != 0)
		abort();
	free(s);
	sc_record_free(rec);
	return 0;
}
