# SPDX-License-Identifier: GPL-2.0-or-later
# stapcache-remote: the helper the frontend execs for -T runs and for
# `stapcache host|ps|kill|bless -T|doctor`; everything that needs libssh is
# here, so a cache hit never loads it. It stands on the library (the option
# table and parser, known_hosts, output) like the frontend.
pkglibexec_PROGRAMS += stapcache/stapcache-remote
stapcache_stapcache_remote_SOURCES = \
	stapcache/remote/helper/stapcache-remote.c stapcache/remote/helper/helper.h \
	stapcache/remote/helper/doctor-report.c stapcache/remote/helper/doctor-report.h \
	stapcache/remote/helper/fanout.c stapcache/remote/helper/fanout.h \
	stapcache/remote/helper/host-admin.c stapcache/remote/helper/host-admin.h \
	stapcache/remote/helper/host-import.c stapcache/remote/helper/host-import.h \
	stapcache/remote/helper/logs.c stapcache/remote/helper/logs.h \
	stapcache/remote/helper/policy-edit.c stapcache/remote/helper/policy-edit.h \
	stapcache/remote/helper/runs.c stapcache/remote/helper/runs.h \
	stapcache/remote/helper/ssh.c stapcache/remote/helper/ssh.h \
	stapcache/remote/helper/stage.c stapcache/remote/helper/stage.h
stapcache_stapcache_remote_CFLAGS = $(AM_CFLAGS) $(SSH_CFLAGS) -pthread
stapcache_stapcache_remote_LDFLAGS = $(AM_LDFLAGS) -pthread
stapcache_stapcache_remote_LDADD = stapcache/libstapcache.la common/libcommon.la \
	$(SSH_LIBS) $(YAML_LIBS) $(JSONC_LINK) $(CRYPTO_LINK)
