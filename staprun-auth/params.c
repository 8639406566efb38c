/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Module parameters from the command line. The kernel splits the
 * init_module parameter string at whitespace (its isspace() includes 0xa0)
 * and honours double quotes, so a value that could carry a second NAME=VALUE
 * is refused here, and the string is built by us alone.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static int name_ok(const char *s, size_t n)
{
	return n <= 64 && sc_identifier_ok(s, n);
}

/* Why value may not be passed, or NULL when it may. */
static const char *value_problem(const char *v)
{
	size_t i;

	if (strlen(v) > SA_MAX_VALUE)
		return "the value is too long";
	for (i = 0; v[i]; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\n' || c == '\r')
			return "the value contains a newline";
		if (c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == 0xa0)
			return "the value contains whitespace";
		if (c == '"' || c == '\'')
			return "the value contains a quote";
		if (c == '=')
			return "the value contains a second '='";
		if (c < 0x20 || c == 0x7f)
			return "the value contains a control character";
		if (c >= 0x80)
			return "the value contains a non-ASCII byte";
	}
	return NULL;
}

static int param_check(const char *arg, struct sc_error *err)
{
	const char *eq = strchr(arg, '=');
	const char *why;

	if (!eq) {
		sc_error_set(err, "module parameter '%.80s' is not NAME=VALUE", arg);
		return -EINVAL;
	}
	if (!name_ok(arg, (size_t)(eq - arg))) {
		sc_error_set(err,
			     "module parameter '%.80s': the name must match "
			     "[A-Za-z_][A-Za-z0-9_]*",
			     arg);
		return -EINVAL;
	}
	if (!strncmp(arg, "_stp_bufsize=", 13)) {
		sc_error_set(err,
			     "module parameter _stp_bufsize: use -b BUFSIZE instead");
		return -EINVAL;
	}
	why = value_problem(eq + 1);
	if (why) {
		sc_error_set(err, "module parameter '%.80s': %s", arg, why);
		return -EINVAL;
	}
	return 0;
}

static int same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return n == strcspn(b, "=") && !strncmp(a, b, n);
}

int sa_params_build(unsigned bufsize, char *const *args, int n, char **out,
		    struct sc_error *err)
{
	size_t len = 32;
	char *s;
	int i, j, r;

	if (n > SA_MAX_PARAMS) {
		sc_error_set(err, "too many module parameters (at most %d)",
			     SA_MAX_PARAMS);
		return -E2BIG;
	}
	for (i = 0; i < n; i++) {
		r = param_check(args[i], err);
		if (r < 0)
			return r;
		for (j = 0; j < i; j++) {
			if (same_name(args[i], args[j])) {
				sc_error_set(err, "module parameter %.*s given twice",
					     (int)strcspn(args[i], "="), args[i]);
				return -EINVAL;
			}
		}
		len += strlen(args[i]) + 1;
	}
	s = malloc(len);
	if (!s)
		return -ENOMEM;
	/* staprun always passes _stp_bufsize first (0: the module's default). */
	snprintf(s, len, "_stp_bufsize=%u", bufsize);
	for (i = 0; i < n; i++) {
		strcat(s, " ");
		strcat(s, args[i]);
	}
	*out = s;
	return 0;
}
