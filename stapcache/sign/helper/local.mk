# SPDX-License-Identifier: GPL-2.0-or-later
# stapcache-sign: the module-signing helper (issue 20). The only program that
# reads a private module-signing key: it links libcrypto's X.509, CMS and EVP
# code (common/modsign.c) and nothing that talks to a network (no libssh,
# hiredis or libcurl). stapcache runs it to sign a signed variant on its miss
# and for `stapcache signing-key`; a cache hit never does.
pkglibexec_PROGRAMS += stapcache/stapcache-sign
stapcache_stapcache_sign_SOURCES = stapcache/sign/helper/stapcache-sign.c
stapcache_stapcache_sign_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
stapcache_stapcache_sign_LDADD = stapcache/libstapcache.la common/libcommon.la \
	$(YAML_LIBS) $(CRYPTO_LINK)
