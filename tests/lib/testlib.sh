# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the shell tests: TAP output, temporary dirs, real stap setup.
# Sourced by the integration tests (tests/{cli,cache,store,remote,auth,pkg,vm}/*.sh); run under automake's TAP driver.

set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
: "${STAPCACHE:=$top_builddir/stapcache/stapcache}"
: "${STAPCACHE_FIX_RUNTIME:=$top_builddir/stapcache/stapcache-fix-runtime}"

# Tests read nothing from stdin; CI runs with none at all.
(exec 3<&0) 2>/dev/null || exec </dev/null

# ./quickstart records the kernel and the runtime it prepared (and made the
# user's default) here; without the file the tests find or prepare their own
# (sc_test_krel, sc_test_runtime).
if [ -z "${SC_TEST_KREL:-}" ] && [ -f "$top_builddir/tests/env.sh" ]; then
	. "$top_builddir/tests/env.sh"
	export SC_TEST_KREL SC_TEST_RUNTIME
fi
# stap's kbuild must not join the test harness's make jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL

_tap_n=0
_tap_failed=0

ok() {  # ok COND-STATUS DESCRIPTION  (use: cmd; ok $? "desc")
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

is() {  # is GOT WANT DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

isnt() {  # isnt GOT UNWANTED DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" != "$2" ]; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		printf '#   both: %s\n' "$1"
		_tap_failed=$((_tap_failed + 1))
	fi
}

like() {  # like TEXT EXTENDED-REGEX DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		printf '%s\n' "$1" | sed 's/^/#   /' | head -20
		printf '#   does not match: %s\n' "$2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

diag() { printf '# %s\n' "$*"; }

done_testing() {
	_sanitizer_reports
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

# Skip one check (what cannot be checked here), or the whole file (skip_all;
# after some checks ran it skips the rest and ends the file). Under
# SC_STRICT=1 (CI) a skip is a failure: nothing is silently left out of a
# green run.
skip() {  # skip REASON
	_tap_n=$((_tap_n + 1))
	if [ "${SC_STRICT:-0}" = 1 ]; then
		echo "not ok $_tap_n - would skip, and skips are failures in strict mode: $*"
		_tap_failed=$((_tap_failed + 1))
	else
		echo "ok $_tap_n # SKIP $*"
	fi
}

skip_all() {
	if [ "$_tap_n" -gt 0 ]; then
		skip "the rest: $*"
		done_testing
		exit
	fi
	if [ "${SC_STRICT:-0}" = 1 ]; then
		echo "1..1"
		echo "not ok 1 - would skip, and skips are failures in strict mode: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

# A private scratch dir, removed at exit (TEST_KEEP=1 keeps it for debugging).
T=$(mktemp -d "${TMPDIR:-/tmp}/sctest.XXXXXX")
chmod 755 "$T"
_cleanups=""
at_exit() { _cleanups="$*; $_cleanups"; }
_run_cleanups() {
	eval "$_cleanups"
	[ "${TEST_KEEP:-0}" = 1 ] && { echo "# kept $T" >&2; return; }
	rm -rf "$T"
}
trap _run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# In a build configured with --enable-sanitizers (SC_SANITIZED, set by
# make check there), every ASan/UBSan/LSan report of every process the test
# starts goes to a file in $T/sanitizer, and done_testing fails the test for
# each one: otherwise a report is missed whenever the test expects the
# command to fail or discards its stderr. (GCC 12's libubsan writes its own
# reports to stderr whatever log_path says: ./run-tests builds build-asan
# with clang, whose runtime honours it.) The directory is world-writable:
# some tests run the programs as another user.
if [ "${SC_SANITIZED:-0}" = 1 ]; then
	mkdir -p "$T/sanitizer" && chmod 1777 "$T/sanitizer"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/sanitizer/report"
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/sanitizer/report"
	export ASAN_OPTIONS UBSAN_OPTIONS
fi
_sanitizer_reports() {
	local f
	for f in "$T"/sanitizer/report.*; do
		[ -f "$f" ] || continue
		_tap_n=$((_tap_n + 1))
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_n - a sanitizer report ($(basename "$f"), pid in the name)"
		sed 's/^/#   /' "$f" | head -60
	done
}

# Every test gets its own cache and config; stap's own state (~/.systemtap)
# is shared so that its per-kernel configuration header is built only once.
export XDG_CACHE_HOME="$T/xdg-cache" XDG_CONFIG_HOME="$T/xdg-config"
unset STAPCACHE_DIR STAPCACHE_CONFIG
# Nor does a test read the host's system-wide $(sysconfdir)/stapcache/config.yaml
# (issue 7, item 8: stapcache reads it first; STAPCACHE_SYSCONFDIR moves it).
export STAPCACHE_SYSCONFDIR="$T/etc"

# The kernel the compile tests build for: SC_TEST_KREL when set, else the
# release of Debian's linux-headers-amd64, else the newest /lib/modules/*/build
# (build-aux/kernel-release, which ./quickstart uses too).
sc_test_krel() {
	if [ -n "${SC_TEST_KREL:-}" ]; then
		echo "$SC_TEST_KREL"
		return
	fi
	sh "$top_srcdir/build-aux/kernel-release"
}

# The runtime the compile tests use for kernel KREL: SC_TEST_RUNTIME when set
# (./run-tests sets the one ./quickstart configured), else what the built
# stapcache-fix-runtime says: systemtap's own runtime when it compiles for
# KREL, or a fixed copy that it prepares once per build directory in
# $top_builddir/tests/stap-runtime (systemtap 4.8 against Debian kernels
# >= 6.1.103). A lock keeps parallel tests from preparing it twice at once.
sc_test_runtime() {  # sc_test_runtime [KREL]
	local krel=${1:-$(sc_test_krel)} dir=$top_builddir/tests
	if [ -n "${SC_TEST_RUNTIME:-}" ]; then
		echo "$SC_TEST_RUNTIME"
		return
	fi
	if [ ! -x "$STAPCACHE_FIX_RUNTIME" ]; then
		echo "# $STAPCACHE_FIX_RUNTIME is not built: using systemtap's runtime as it is" >&2
		echo /usr/share/systemtap/runtime
		return
	fi
	mkdir -p "$dir" &&
		flock "$dir/.stap-runtime.lock" \
			"$STAPCACHE_FIX_RUNTIME" -r "$krel" "$dir/stap-runtime" 2>&1 >"$T/runtime" |
			sed 's/^/# /' >&2
	tail -n 1 "$T/runtime"
}

# Skip unless real compiles can work here.
require_stap() {
	command -v stap >/dev/null 2>&1 || skip_all "stap is not installed (run ./run-tests, which installs it)"
	KREL=$(sc_test_krel)
	[ -n "$KREL" ] || skip_all "no kernel build tree in /lib/modules/*/build (apt-get install linux-headers-amd64)"
	RUNTIME=$(sc_test_runtime "$KREL")
	[ -n "$RUNTIME" ] && [ -d "$RUNTIME" ] ||
		skip_all "no systemtap runtime for $KREL${RUNTIME:+ ($RUNTIME is missing)}"
	export KREL RUNTIME
}

# Write a config.yaml for this test.
write_config() {
	mkdir -p "$XDG_CONFIG_HOME/stapcache"
	printf '%s\n' "$@" > "$XDG_CONFIG_HOME/stapcache/config.yaml"
}

# A stap wrapper that logs every compile (not the one-off `stap -V`) to
# $T/stap-runs, so tests can prove how often stap really ran.
make_stap_wrapper() {
	mkdir -p "$T/bin"
	cat > "$T/bin/stap" <<WRAP
#!/bin/sh
case " \$* " in *" -V "*) ;; *) printf '%s\\n' "\$\$ \$*" | tr '\\n' ' ' >> "$T/stap-runs"; echo >> "$T/stap-runs" ;; esac
exec /usr/bin/stap "\$@"
WRAP
	chmod +x "$T/bin/stap"
	: > "$T/stap-runs"
}

# A loopback TCP port nothing is bound to, for a server a test starts. Taken
# below the kernel's ephemeral range (ip_local_port_range), where no outgoing
# connection can hold it, and checked by binding it: a port probed by connect
# alone could be some connection's local end, and the server's bind then
# failed with "Address already in use" (seen in CI). Random, so that tests
# running in parallel rarely pick the same one between this and their bind.
free_port() {
	python3 - <<'PY'
import random, socket
lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
first, last = (10000, lo - 1) if lo > 11000 else (hi + 1, 65535)
while True:
    p = random.randint(first, last)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
PY
}

# Change the byte at OFFSET of FILE to another value (its complement).
# Fails, changing nothing, when FILE has no byte at OFFSET.
flip_byte() {  # flip_byte FILE OFFSET
	local b
	[ "$2" -lt "$(stat -c %s "$1")" ] || { echo "flip_byte: $1 has no byte at $2" >&2; return 1; }
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

stap_runs() { wc -l < "$T/stap-runs" | tr -d ' '; }

# Entries in a cache dir (complete ones only).
count_entries() {
	find "$1" -mindepth 2 -maxdepth 2 -type d -regextype posix-extended \
		-regex '.*/[0-9a-f]{2}/[0-9a-f]{64}' 2>/dev/null | wc -l | tr -d ' '
}
