/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_ERROR_H
#define SC_ERROR_H

/*
 * Detail for a failure. common/ never prints: functions return 0 or -errno
 * and, when given a non-NULL struct sc_error, describe the cause in it.
 * The programs print the message once, at the edge.
 */
struct sc_error {
	char msg[1024];
};

/* Set err->msg (no-op when err is NULL). */
void sc_error_set(struct sc_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the existing message with "prefix: " (no-op when err is NULL). */
void sc_error_prefix(struct sc_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
