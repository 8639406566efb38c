/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * staprun-auth's module-parameter validator, params_build() in
 * staprun-auth/load.c, exactly as the setuid binary compiles it: the file is
 * included here (its functions are static), and the few outside functions
 * load.c calls elsewhere are stubs that are never reached.
 *
 * Input: byte 0 the bufsize, the rest NAME=VALUE arguments separated by NUL.
 * Whatever params_build accepts must split, the way the kernel's
 * parse_args() splits (whitespace including 0xa0, double quotes), into
 * exactly "_stp_bufsize=N" and the arguments given, each with one '='.
 */
#include "../../staprun-auth/load.c"

int sa_as_caller(const struct sa_ids *ids)
{
	(void)ids;
	abort();
}

int sa_as_root(void)
{
	abort();
}

int sa_kernel_osrelease(char *buf, size_t n)
{
	(void)buf;
	(void)n;
	abort();
}

void sa_info(int verbose, const char *fmt, ...)
{
	(void)verbose;
	(void)fmt;
	abort();
}

static int kspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

/* The kernel's next_arg() in outline: count the words and check each. */
static void check_split(const char *s, char *const *args, int n)
{
	const char *p = s;
	int word = 0;

	while (*p) {
		const char *start, *end, *eq;

		while (kspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && !kspace((unsigned char)*p)) {
			if (*p == '"')
				abort(); /* a quote would change the kernel's split */
			p++;
		}
		end = p;
		if (word > 0) {
			if (word > n || strlen(args[word - 1]) != (size_t)(end - start) ||
			    memcmp(args[word - 1], start, (size_t)(end - start)) != 0)
				abort();
			eq = memchr(start, '=', (size_t)(end - start));
			if (!eq || memchr(eq + 1, '=', (size_t)(end - eq - 1)))
				abort();
		} else if (strncmp(start, "_stp_bufsize=", 13) != 0) {
			abort();
		}
		word++;
	}
	if (word != n + 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[SA_MAX_PARAMS + 2];
	char *copy, *p, *out = NULL;
	struct sc_error err = {{0}};
	unsigned bufsize;
	int n = 0, r;

	if (size < 1)
		return 0;
	bufsize = data[0] * 17u;
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	p = copy;
	while (n < SA_MAX_PARAMS + 2 && p < copy + size - 1) {
		args[n++] = p;
		p += strlen(p) + 1;
	}
	r = params_build(bufsize, args, n, &out, &err);
	if (r == 0) {
		check_split(out, args, n);
		free(out);
	} else if (!err.msg[0] && r != -ENOMEM) {
		abort(); /* every refusal says why */
	}
	free(copy);
	return 0;
}
