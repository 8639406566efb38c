# SPDX-License-Identifier: GPL-2.0-or-later
# stapcache-store: the shared cache's helper. Everything that needs hiredis,
# libcurl or OpenSSL's EVP (Ed25519) is here, and stapcache runs it only on a
# local miss: a local hit loads none of them.
STORE_ENTRY_SOURCES = stapcache/store/helper/entry.c stapcache/store/helper/entry.h
pkglibexec_PROGRAMS += stapcache/stapcache-store
stapcache_stapcache_store_SOURCES = $(STORE_ENTRY_SOURCES) \
	stapcache/store/helper/stapcache-store.c \
	stapcache/store/helper/store.c stapcache/store/helper/store.h \
	stapcache/store/helper/http.c stapcache/store/helper/http.h \
	stapcache/store/helper/redis_tls.c stapcache/store/helper/redis_tls.h
stapcache_stapcache_store_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS) $(CRYPTO_CFLAGS) \
	$(CURL_CFLAGS) $(SSL_CFLAGS)
stapcache_stapcache_store_LDADD = stapcache/libstapcache.la common/libcommon.la \
	$(HIREDIS_LIBS) $(CURL_LIBS) $(YAML_LIBS) $(SSL_LINK) $(CRYPTO_LINK)
