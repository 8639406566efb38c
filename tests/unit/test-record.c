/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The key record: canonical form, round trip, and strict parsing of bad input. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "common/record.h"
#include "tests/lib/tap.h"

static struct sc_record *sample(void)
{
	struct sc_record *r = sc_record_new();

	sc_record_add_str(r, "kernel.release", "6.1.0-56-amd64");
	sc_record_add(r, "script", "probe begin {\n\texit()\n}", 23);
	sc_record_add_str(r, "arg", "");
	sc_record_add(r, "bin", "a\0b\nc", 5);
	return r;
}

static int parse_fails(const char *text, size_t len, const char *name)
{
	struct sc_record *r = NULL;
	struct sc_error err = {{0}};
	int rc = sc_record_parse(text, len, &r, &err);

	tap_ok(rc < 0 && r == NULL && err.msg[0], "rejects %s (%s)", name, err.msg);
	return rc;
}

int main(void)
{
	struct sc_record *a = sample(), *b = NULL, *c;
	struct sc_error err = {{0}};
	uint8_t d1[32], d2[32];
	char *text, *text2;
	size_t len, len2, vlen;

	tap_is_int(sc_record_serialize(a, &text, &len), 0, "serializes");
	tap_ok(!strncmp(text, "stapcache-record 1\nkernel.release 14\n6.1.0-56-amd64\n",
			52),
	       "canonical form: header, then LABEL LENGTH, value, newline");
	tap_is_int(sc_record_parse(text, len, &b, &err), 0, "parses its own output");
	tap_is_int(sc_record_count(b), 4, "round trip keeps every field");
	tap_ok(!memcmp(sc_record_value(b, 3, &vlen), "a\0b\nc", 5) && vlen == 5,
	       "values may hold NUL bytes and newlines");
	tap_is_str(sc_record_get(b, "arg"), "", "empty values survive");
	sc_record_serialize(b, &text2, &len2);
	tap_ok(len == len2 && !memcmp(text, text2, len), "serialization is canonical");

	/* Field boundaries cannot run together: ("ab","c") differs from ("a","bc"). */
	c = sc_record_new();
	sc_record_add_str(c, "arg", "ab");
	sc_record_add_str(c, "arg", "c");
	sc_record_digest(c, d1);
	sc_record_free(c);
	c = sc_record_new();
	sc_record_add_str(c, "arg", "a");
	sc_record_add_str(c, "arg", "bc");
	sc_record_digest(c, d2);
	sc_record_free(c);
	tap_ok(memcmp(d1, d2, 32) != 0,
	       "length prefixes keep fields apart in the digest");

	c = sc_record_new();
	tap_ok(sc_record_add_str(c, "Bad Label", "x") < 0, "labels are [a-z0-9._-]");
	tap_ok(sc_record_add_str(c, "", "x") < 0, "labels are not empty");
	sc_record_free(c);

	parse_fails("", 0, "empty input");
	parse_fails("stapcache-record 2\n", 19, "another format version");
	parse_fails("stapcache-record 1\nlabel\nx\n", 27, "a field without length");
	parse_fails("stapcache-record 1\nlabel 5\nab\n", 30, "a truncated value");
	parse_fails("stapcache-record 1\nlabel 2\nabX", 30,
		    "a value not followed by newline");
	parse_fails("stapcache-record 1\nlabel 02\nab\n", 31,
		    "a length with a leading zero");
	parse_fails("stapcache-record 1\nlabel -1\nab\n", 31, "a negative length");
	parse_fails("stapcache-record 1\nlabel 99999999999999999999\n", 46,
		    "a huge length");
	parse_fails("stapcache-record 1\nLA BEL 1\na\n", 29, "a bad label");
	parse_fails("stapcache-record 1\n 1\na\n", 24, "an empty label");
	{
		/* Every truncation of a valid record fails cleanly or parses a prefix. */
		int bad = 0;

		for (size_t cut = 0; cut < len; cut++) {
			struct sc_record *t = NULL;
			int rc = sc_record_parse(text, cut, &t, NULL);

			if (rc == 0 && sc_record_count(t) >= 4)
				bad++;
			sc_record_free(t);
		}
		tap_is_int(bad, 0, "no truncation parses as the whole record");
	}
	free(text);
	free(text2);
	sc_record_free(a);
	sc_record_free(b);
	sc_record_free(NULL);
	return tap_done();
}
