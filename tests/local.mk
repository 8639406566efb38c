# SPDX-License-Identifier: GPL-2.0-or-later
# tests/: one folder an area (README.md, "Tests"), the shared shell and C
# helpers in tests/lib/. Every test speaks TAP. SC_STRICT=1 (set by CI) turns
# a skip into a failure. malloc.perturb fills allocations and frees with a
# pattern: reads of uninitialised or freed memory show up as failures, not luck.
TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(BASH_SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	STAPCACHE='$(abs_top_builddir)/stapcache/stapcache'; \
	STAPCACHE_FIX_RUNTIME='$(abs_top_builddir)/stapcache/stapcache-fix-runtime'; \
	export top_srcdir top_builddir STAPCACHE STAPCACHE_FIX_RUNTIME; \
	GLIBC_TUNABLES=glibc.malloc.perturb=165; export GLIBC_TUNABLES; \
	VM_OUT=$${VM_OUT:-'$(abs_top_builddir)/tests/vm/out'}; export VM_OUT;
# In a --enable-sanitizers build the shell tests collect every sanitizer
# report in a file and fail on it (tests/lib/testlib.sh); the C unit tests fail
# by their exit status. UBSan prints the stack of its findings too.
if SANITIZE
AM_TESTS_ENVIRONMENT += SC_SANITIZED=1; export SC_SANITIZED; \
	UBSAN_OPTIONS=print_stacktrace=1$${UBSAN_OPTIONS:+:$$UBSAN_OPTIONS}; \
	export UBSAN_OPTIONS;
endif
if STATIC_PIE
AM_TESTS_ENVIRONMENT += SC_STATIC_PIE=1; export SC_STATIC_PIE;
endif
EXTRA_DIST += tests/lib/testlib.sh tests/lib/tap.h tests/lib/remote-lib.sh \
	tests/lib/shared-lib.sh tests/lib/auth-lib.sh tests/lib/pty-run tests/lib/fault-proxy

# The runtime copy tests/lib/testlib.sh prepares when systemtap's own cannot
# compile for the test kernel (sc_test_runtime), the shared remote cache and
# the stap modules the auth tests built once.
clean-local: tests-clean-local
tests-clean-local:
	-rm -rf tests/stap-runtime tests/.stap-runtime.lock tests/remote-cache \
		tests/auth-modules
.PHONY: tests-clean-local

# ---------------------------------------------------------------- tests/unit
# C, TAP, seconds: each is tests/unit/NAME.c, built with the default flags
# and LDADD (Makefile.am); library-deps.sh checks the library's undefined
# symbols (stapcache/local.mk).
UNIT_TESTS = tests/unit/test-record tests/unit/test-config tests/unit/test-fsutil \
	tests/unit/test-policy tests/unit/test-policy-sh tests/unit/test-modinfo \
	tests/unit/test-targets tests/unit/test-inventory \
	tests/unit/test-entry tests/unit/test-options tests/unit/test-key \
	tests/unit/test-trace tests/unit/test-output tests/unit/test-cache \
	tests/unit/test-modsign tests/unit/test-signing
check_PROGRAMS += $(UNIT_TESTS)
tests_unit_test_entry_SOURCES = tests/unit/test-entry.c $(STORE_ENTRY_SOURCES)
tests_unit_test_options_SOURCES = tests/unit/test-options.c tests/unit/fixture.h
tests_unit_test_key_SOURCES = tests/unit/test-key.c tests/unit/fixture.h
UNIT_SHELL_TESTS = tests/unit/library-deps.sh tests/unit/layering.sh
TESTS += $(UNIT_TESTS) $(UNIT_SHELL_TESTS)
EXTRA_DIST += $(UNIT_SHELL_TESTS)
# The unit tests alone (debian/rules runs them while building the package).
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$(UNIT_TESTS) $(UNIT_SHELL_TESTS)"
.PHONY: check-unit

# ---------------------------------------------------------------- integration
# Real stap, real sshd, real redis-server and nginx, a real setuid install.
CLI_TESTS = tests/cli/cli.sh tests/cli/config.sh tests/cli/completion.sh \
	tests/cli/progress.sh tests/cli/dropin-options.sh tests/cli/dropin-build.sh \
	tests/cli/dropin-masquerade.sh tests/cli/oneliners.sh tests/cli/signing.sh
CACHE_TESTS = tests/cache/key.sh tests/cache/cache-hit.sh tests/cache/cache-concurrent.sh \
	tests/cache/cache-failures.sh tests/cache/cache-prune.sh tests/cache/faults-cache.sh \
	tests/cache/cache-filetypes.sh
STORE_TESTS = tests/store/shared-key.sh tests/store/shared-store.sh \
	tests/store/shared-http.sh tests/store/shared-rediss.sh tests/store/shared-signed.sh \
	tests/store/shared-filetypes.sh
REMOTE_TESTS = tests/remote/remote-basic.sh tests/remote/remote-fanout.sh \
	tests/remote/remote-sudo.sh tests/remote/ops-local.sh tests/remote/faults-ssh.sh \
	tests/remote/remote-netns.sh tests/remote/host-import.sh tests/remote/detach-start.sh
# auth-setuid.sh and auth-fake-kmod.sh build and install their own copy of
# staprun-auth; auth-hardening.sh checks the built binaries.
AUTH_COPY_TESTS = tests/auth/auth-setuid.sh tests/auth/auth-fake-kmod.sh \
	tests/auth/auth-protocols.sh
AUTH_BINARY_TESTS = tests/auth/auth-hardening.sh
AUTH_TESTS = $(AUTH_COPY_TESTS) $(AUTH_BINARY_TESTS)
PKG_TESTS = tests/pkg/deb.sh
TESTS += $(CLI_TESTS) $(CACHE_TESTS) $(STORE_TESTS) $(REMOTE_TESTS) $(AUTH_TESTS)
if DEB_TEST
TESTS += $(PKG_TESTS)
endif
EXTRA_DIST += $(CLI_TESTS) $(CACHE_TESTS) $(STORE_TESTS) $(REMOTE_TESTS) $(AUTH_TESTS) \
	$(PKG_TESTS)

# Test seams: a preloadable fake init_module/delete_module/uname (LD_PRELOAD
# cannot reach a real setuid binary: the fake test uses a non-setuid copy),
# a library that would announce itself if preloaded, and an exec with an
# empty argv. (The two libraries are built as "programs" linked with -shared:
# libtool builds no shared library in this static-only tree.)
check_PROGRAMS += tests/fakes/fake-kmod-preload tests/fakes/announce-preload \
	tests/fakes/exec-empty-argv
tests_fakes_fake_kmod_preload_SOURCES = tests/fakes/fake-kmod.c
tests_fakes_fake_kmod_preload_CFLAGS = $(WARN_CFLAGS) -fPIC
tests_fakes_fake_kmod_preload_LDFLAGS = -Wc,-shared -Wl,-z,now
tests_fakes_fake_kmod_preload_LDADD = -ldl
tests_fakes_announce_preload_SOURCES = tests/fakes/announce.c
tests_fakes_announce_preload_CFLAGS = $(WARN_CFLAGS) -fPIC
tests_fakes_announce_preload_LDFLAGS = -Wc,-shared
tests_fakes_announce_preload_LDADD =
tests_fakes_exec_empty_argv_SOURCES = tests/fakes/exec-empty-argv.c
tests_fakes_exec_empty_argv_LDADD =
EXTRA_DIST += tests/fakes/auth-module.sh
# The --detach launcher script, as stage.c writes it but with a short start
# deadline (tests/remote/detach-start.sh).
check_PROGRAMS += tests/fakes/detach-script
tests_fakes_detach_script_SOURCES = tests/fakes/detach-script.c \
	stapcache/remote/helper/ssh.c stapcache/remote/helper/ssh.h
tests_fakes_detach_script_CFLAGS = $(AM_CFLAGS) $(SSH_CFLAGS) -pthread
tests_fakes_detach_script_LDFLAGS = $(AM_LDFLAGS) -pthread
tests_fakes_detach_script_LDADD = stapcache/libstapcache.la common/libcommon.la \
	$(SSH_LIBS) $(YAML_LIBS) $(JSONC_LINK) $(CRYPTO_LINK)

# ---------------------------------------------------------------- tests/vm
# End to end in Debian's kernel under QEMU: precompiled modules blessed and
# run by an unprivileged user through staprun-auth. configure
# --disable-vm-tests leaves them out (make distcheck does).
VM_TESTS = tests/vm/e2e.sh tests/vm/attacks.sh tests/vm/attacks-review.sh \
	tests/vm/remote.sh tests/vm/fleet.sh tests/vm/ops.sh tests/vm/attacks-ops.sh \
	tests/vm/faults.sh tests/vm/trace.sh tests/vm/secureboot.sh \
	tests/vm/attacks-files.sh tests/vm/attacks-versions.sh tests/vm/tour.sh \
	tests/vm/detach.sh tests/vm/detach-fleet.sh
# The mixed fleet (issue 21): the Debian 12 and 13 guests at once; its
# modules are kept outside the clone, beside the build root and the Debian 13
# guest (/var/lib/stapcache-test/fleet13-cache), between runs and clones.
VM_TESTS += tests/vm/fleet13.sh
# stap's per-kernel files through the store (issue 21 item 5): its builder A
# makes every tracequery object of the test kernel from an empty stap cache
# (minutes), so it runs where the guest tests run (make check in build/): not
# sanitized (stapq.c's fetch runs sanitized in the other store tests, at every
# miss) and not in make distcheck.
SLOW_TESTS = tests/store/shared-stapq.sh
if VM_TESTS
TESTS += $(VM_TESTS) $(SLOW_TESTS)
endif
EXTRA_DIST += $(SLOW_TESTS)
# The attacker's tools, copied into the guest: static, so that they need
# nothing there.
check_PROGRAMS += tests/vm/attack tests/vm/attack-review
tests_vm_attack_CFLAGS = $(WARN_CFLAGS)
tests_vm_attack_LDFLAGS = -all-static
tests_vm_attack_LDADD =
tests_vm_attack_review_CFLAGS = $(WARN_CFLAGS)
tests_vm_attack_review_LDFLAGS = -all-static
tests_vm_attack_review_LDADD =
EXTRA_DIST += $(VM_TESTS) tests/vm/vmtest.sh tests/vm/lib.sh tests/vm/build-guest \
	tests/vm/run-guest tests/vm/smoke-test tests/vm/README.md
# common/modsign.c from the shell: build-guest --secure-boot makes the Secure
# Boot guest's db key with it, tests/vm/secureboot.sh signs modules with it.
# Built by make (not only make check): the guest can be built before the tests.
noinst_PROGRAMS += tests/vm/modsign-tool
tests_vm_modsign_tool_LDADD = common/libcommon.la $(YAML_LIBS) $(CRYPTO_LINK)
# The Secure Boot guest (issue 20): VM_SECURE_BOOT=1 tests/vm/lib.sh;
# tests/vm/secureboot.sh (in VM_TESTS) boots it once for all its cases.
EXTRA_DIST += tests/vm/build-sb

# ---------------------------------------------------------------- sanitized
# The tests again in a build configured with --enable-sanitizers (ASan,
# UBSan, LeakSanitizer): ./run-tests runs make check-sanitized in build-asan/.
# Every folder's tests but:
# - AUTH_COPY_TESTS: they build their own copy of staprun-auth, which is never
#   built with a sanitizer, and run nothing of stapcache (auth-hardening.sh
#   stays: it proves build-asan's staprun-auth carries no sanitizer runtime);
# - PKG_TESTS: deb.sh builds the .deb with dpkg-buildpackage's own flags;
# - VM_TESTS: minutes each under TCG, where only the unsanitized staprun-auth
#   runs; their host side is what the remote tests run here.
# Cost, measured on the 2-core machine (make -j2 check-sanitized, other jobs
# running): 578 s against 329 s for the unit and cache tests alone;
# faults-cache.sh (SIGKILL during 50 builds, 1,000 prune/hit rounds) is the
# longest, 130-310 s, and stays: its races are where a use-after-free or a
# leak on an error path would show.
SANITIZER_TESTS = $(UNIT_TESTS) $(UNIT_SHELL_TESTS) $(CLI_TESTS) $(CACHE_TESTS) \
	$(STORE_TESTS) $(REMOTE_TESTS) $(AUTH_BINARY_TESTS)
check-sanitized:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$(SANITIZER_TESTS)"
.PHONY: check-sanitized

# ---------------------------------------------------------------- tests/fuzz
# make fuzz: the libFuzzer harnesses (tests/fuzz/, clang -fsanitize=fuzzer,
# address,undefined), each run for FUZZ_SECONDS on its committed seed corpus
# plus what earlier runs found; not part of make check. ./run-tests runs them
# for a short time. FUZZ_RUNS=N also stops each after N executions
# (make fuzz FUZZ_SECONDS=0 FUZZ_RUNS=10000000: the long runs that
# tests/fuzz/README.md reports).
FUZZ_SECONDS = 60
FUZZ_RUNS =
fuzz:
	FUZZ_RUNS='$(FUZZ_RUNS)' $(SHELL) $(srcdir)/tests/fuzz/run-harnesses '$(abs_top_builddir)' '$(FUZZ_SECONDS)'
clean-local: fuzz-clean-local
fuzz-clean-local:
	-rm -rf fuzz fuzz-cov
.PHONY: fuzz fuzz-clean-local
EXTRA_DIST += tests/fuzz
