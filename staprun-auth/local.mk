# SPDX-License-Identifier: GPL-2.0-or-later
# staprun-auth/: the setuid runner. Hardened (PIE, full RELRO, _FORTIFY_SOURCE,
# stack protector), linked with libc and the parts of common/ it needs, and
# never built with a sanitizer.
bin_PROGRAMS += staprun-auth/staprun-auth
staprun_auth_staprun_auth_SOURCES = \
	staprun-auth/auth.h \
	staprun-auth/staprun-auth.c \
	staprun-auth/attrs.c \
	staprun-auth/env.c \
	staprun-auth/signals.c \
	staprun-auth/privs.c \
	staprun-auth/cgroup.c \
	staprun-auth/registry.c \
	staprun-auth/load.c \
	staprun-auth/kernel.c \
	staprun-auth/control.c \
	staprun-auth/protocol.c \
	staprun-auth/run.c \
	staprun-auth/audit.c
staprun_auth_staprun_auth_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRUNSTATEDIR='"$(runstatedir)"' \
	-DSA_TRANSPORT_MSGS_H='"$(STAP_RUNTIME)/transport/transport_msgs.h"'
staprun_auth_staprun_auth_CFLAGS = $(CFLAGS_UNSANITIZED)
staprun_auth_staprun_auth_LDFLAGS = $(LDFLAGS_UNSANITIZED)
staprun_auth_staprun_auth_LDADD = common/libcommon.la $(CRYPTO_LINK)

# make install: setuid root when installing as root, a warning otherwise.
install-exec-hook: staprun-auth-install-exec-hook
staprun-auth-install-exec-hook:
	@f="$(DESTDIR)$(bindir)/staprun-auth"; \
	if test ! -f "$$f"; then :; \
	elif test "`id -u`" = 0; then \
		chown root:root "$$f" && chmod 4755 "$$f" && \
		echo "staprun-auth: installed $$f setuid root (mode 4755)"; \
	else \
		echo "WARNING: not installing as root: $$f is NOT setuid root."; \
		echo "WARNING: as root run: chown root:root $$f && chmod 4755 $$f"; \
	fi
	$(MKDIR_P) "$(DESTDIR)$(runstatedir)"
.PHONY: staprun-auth-install-exec-hook
