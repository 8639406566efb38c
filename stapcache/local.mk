# SPDX-License-Identifier: GPL-2.0-or-later
# stapcache/: the library (every folder but cmd/) and the program (main.c and
# cmd/, one file a command). The library depends on no program:
# tests/unit/library-deps.sh checks that nm -u of it names no sc_ symbol it
# or common/ does not define; build-aux/check-layering checks the includes
# against doc/ARCHITECTURE.md.
noinst_LTLIBRARIES += stapcache/libstapcache.la
stapcache_libstapcache_la_SOURCES = \
	stapcache/core/cache-key.c stapcache/core/cache-key.h \
	stapcache/core/cmdopt.c stapcache/core/cmdopt.h \
	stapcache/core/context.c stapcache/core/context.h \
	stapcache/core/libexec.c stapcache/core/libexec.h \
	stapcache/core/build-tree.c stapcache/core/build-tree.h \
	stapcache/core/build-root.c stapcache/core/build-root.h \
	stapcache/core/options.c stapcache/core/options.h \
	stapcache/core/tree.c stapcache/core/tree.h \
	stapcache/cache/build.c stapcache/cache/build.h \
	stapcache/cache/job.c stapcache/cache/job.h \
	stapcache/cache/cache.h stapcache/cache/internal.h \
	stapcache/cache/entries.c stapcache/cache/layout.c \
	stapcache/cache/publish.c stapcache/cache/stats.c \
	stapcache/cache/stamp.c stapcache/cache/stamp.h \
	stapcache/cache/stapq.c stapcache/cache/stapq.h \
	stapcache/run/capture.c stapcache/run/capture.h \
	stapcache/run/runner.c stapcache/run/runner.h \
	stapcache/run/runproc.c stapcache/run/runproc.h \
	stapcache/run/supervise.c stapcache/run/supervise.h \
	stapcache/trace/expr.c stapcache/trace/oneliner.c stapcache/trace/oneliner.h \
	stapcache/trace/parser.h \
	stapcache/output/event.c stapcache/output/event.h \
	stapcache/output/output.c stapcache/output/output.h \
	stapcache/output/progress.c stapcache/output/progress.h \
	stapcache/remote/fleet.c stapcache/remote/fleet.h \
	stapcache/remote/hostfacts.c stapcache/remote/hostfacts.h \
	stapcache/remote/inventory.c stapcache/remote/inventory.h \
	stapcache/remote/inventory-model.c stapcache/remote/inventory-model.h \
	stapcache/remote/inventory-yaml.c stapcache/remote/inventory-ini.c \
	stapcache/remote/launch.c stapcache/remote/launch.h \
	stapcache/remote/targets.c stapcache/remote/targets.h \
	stapcache/store/client.c stapcache/store/client.h \
	stapcache/sign/signer.c stapcache/sign/signer.h \
	stapcache/sign/signed.c stapcache/sign/signed.h

# The module-signing helper's own rules (its folder, as the other helpers').
include stapcache/sign/helper/local.mk

bin_PROGRAMS += stapcache/stapcache
stapcache_stapcache_SOURCES = stapcache/main.c stapcache/cmd/cmd.h \
	stapcache/cmd/bless.c stapcache/cmd/buildroot.c stapcache/cmd/cache.c \
	stapcache/cmd/compile.c \
	stapcache/cmd/complete.c stapcache/cmd/doctor.c stapcache/cmd/key.c \
	stapcache/cmd/remote.c stapcache/cmd/signing-key.c stapcache/cmd/trace.c \
	stapcache/cmd/verify.c
stapcache_stapcache_LDFLAGS = $(AM_LDFLAGS) $(STATIC_PIE_LDFLAGS)
if STATIC_PIE
# The linker's cross-reference table: auth-hardening.sh checks in it that
# nothing outside libc calls an NSS, locale or dlopen function.
stapcache_stapcache_LDFLAGS += -Wl,-Map,stapcache/stapcache.map -Wl,--cref
CLEANFILES += stapcache/stapcache.map
endif
stapcache_stapcache_LDADD = stapcache/libstapcache.la common/libcommon.la $(YAML_LINK) \
	$(JSONC_LINK) $(CRYPTO_LINK)

# stapcache-fix-runtime carries its patches (runtime-fixes/, one a fix),
# inlined as shell functions patch_NAME, so that the installed script is
# whole and its fixes are part of what it hashes.
RUNTIME_FIXES = stapcache/runtime-fixes/uprobes-6.12.patch \
	stapcache/runtime-fixes/empty-body.patch
bin_SCRIPTS += stapcache/stapcache-fix-runtime
CLEANFILES += stapcache/stapcache-fix-runtime stapcache/stapcache-fix-runtime.fixes
EXTRA_DIST += stapcache/stapcache-fix-runtime.in $(RUNTIME_FIXES)
stapcache/stapcache-fix-runtime: stapcache/stapcache-fix-runtime.in $(RUNTIME_FIXES) Makefile
	$(AM_V_GEN)$(MKDIR_P) stapcache && \
	for p in $(RUNTIME_FIXES); do \
		printf 'patch_%s() {\n\tcat <<'"'"'STAPCACHE_PATCH_END'"'"'\n' \
			"`basename $$p .patch | tr .- __`" && \
		cat $(srcdir)/$$p && printf 'STAPCACHE_PATCH_END\n}\n' || exit 1; \
	done > $@.fixes && \
	sed -e 's|@STAP_RUNTIME[@]|$(STAP_RUNTIME)|g' -e 's|@VERSION[@]|$(VERSION)|g' \
		-e '/^@RUNTIME_FIXES@$$/{r $@.fixes' -e 'd;}' \
		$(srcdir)/stapcache/stapcache-fix-runtime.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# stapcache-buildroot: what `stapcache buildroot create` runs (as root).
pkglibexec_SCRIPTS += stapcache/stapcache-buildroot
CLEANFILES += stapcache/stapcache-buildroot
EXTRA_DIST += stapcache/stapcache-buildroot.in
stapcache/stapcache-buildroot: stapcache/stapcache-buildroot.in Makefile
	$(AM_V_GEN)$(MKDIR_P) stapcache && \
	sed -e 's|@BINDIR[@]|$(bindir)|g' \
		$(srcdir)/stapcache/stapcache-buildroot.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# make install: the system-wide config.yaml that every user reads first, only
# when there is none (an admin's file is never overwritten), naming the
# runtime stapcache-fix-runtime prepared, when there is one.
PREPARED_RUNTIME_GLOB = /var/lib/stapcache/runtime/*-fixed
install-data-hook: stapcache-install-data-hook
stapcache-install-data-hook:
	@d="$(DESTDIR)$(sysconfdir)/stapcache"; f="$$d/config.yaml"; \
	if test -e "$$f"; then \
		echo "stapcache: keeping the existing $$f"; \
	else \
		rt=; for c in $(PREPARED_RUNTIME_GLOB); do \
			test -f "$$c/STAPCACHE-FIXES" && rt=$$c; done; \
		$(MKDIR_P) "$$d" && \
		if test -n "$$rt"; then \
			sed "s|^# runtime: .*|runtime: $$rt|" $(srcdir)/etc/config.yaml > "$$f.tmp"; \
		else \
			cp $(srcdir)/etc/config.yaml "$$f.tmp"; \
		fi && chmod 644 "$$f.tmp" && mv "$$f.tmp" "$$f" && \
		echo "stapcache: installed $$f$${rt:+ (runtime: $$rt)}"; \
		test -n "$$rt" || echo "stapcache: for Debian kernels >= 6.1.103 run" \
			"'stapcache-fix-runtime -r RELEASE' and set 'runtime:' in $$f"; \
	fi
.PHONY: stapcache-install-data-hook
# make uninstall removes it only while it is still what make install wrote:
# an admin's edits are kept (and said so).
uninstall-hook: stapcache-uninstall-hook
stapcache-uninstall-hook:
	@f="$(DESTDIR)$(sysconfdir)/stapcache/config.yaml"; \
	if test -f "$$f"; then \
		rt=; for c in $(PREPARED_RUNTIME_GLOB); do \
			test -f "$$c/STAPCACHE-FIXES" && rt=$$c; done; \
		if test -n "$$rt"; then \
			sed "s|^# runtime: .*|runtime: $$rt|" $(srcdir)/etc/config.yaml; \
		else cat $(srcdir)/etc/config.yaml; fi | cmp -s - "$$f" && \
			rm -f "$$f" && rmdir "$(DESTDIR)$(sysconfdir)/stapcache" 2>/dev/null; \
		test ! -f "$$f" || echo "stapcache: keeping $$f (changed since make install)"; \
	fi
.PHONY: stapcache-uninstall-hook

# The drop-in: a stap symlink to stapcache in a directory of its own, to be
# put first on PATH (README, stapcache(1) "INVOKED AS STAP").
STAPCACHE_STAP_DIR = $(pkglibexecdir)/bin
install-exec-hook: stapcache-install-exec-hook
stapcache-install-exec-hook:
	$(MKDIR_P) "$(DESTDIR)$(STAPCACHE_STAP_DIR)"
	rm -f "$(DESTDIR)$(STAPCACHE_STAP_DIR)/stap"
	ln -s "$(bindir)/stapcache" "$(DESTDIR)$(STAPCACHE_STAP_DIR)/stap"
uninstall-hook: stapcache-stap-uninstall-hook
stapcache-stap-uninstall-hook:
	rm -f "$(DESTDIR)$(STAPCACHE_STAP_DIR)/stap"
	-rmdir "$(DESTDIR)$(STAPCACHE_STAP_DIR)"
.PHONY: stapcache-install-exec-hook stapcache-stap-uninstall-hook
