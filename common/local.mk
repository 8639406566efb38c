# SPDX-License-Identifier: GPL-2.0-or-later
# common/: the library both programs stand on (never printing, never reading
# the environment). Built without sanitizers: the setuid staprun-auth links it.
noinst_LTLIBRARIES += common/libcommon.la
common_libcommon_la_SOURCES = \
	common/config.c common/config.h \
	common/digest.c common/digest.h \
	common/error.c common/error.h \
	common/fsutil.c common/fsutil.h common/readfd.c \
	common/modinfo.c common/modinfo.h \
	common/modsign.c common/modsign-key.c common/modsign.h common/modsign-priv.h \
	common/modsign-frame.c \
	common/parse.c common/parse.h \
	common/policy.c common/policy.h common/policy-sh.c \
	common/record.c common/record.h \
	common/spawn.c common/spawn.h
common_libcommon_la_CFLAGS = $(CFLAGS_UNSANITIZED) $(YAML_CFLAGS) $(CRYPTO_CFLAGS)
