#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# auth-module.sh NAME SCRIPT: print the path of a real stap module NAME.ko
# compiled from SCRIPT for the test kernel ($(sc_test_krel) of tests/lib/testlib.sh).
#
# The staprun-auth tests need a few real modules. A compile costs 2-7 s and
# stap builds byte-identical modules from the same inputs, so modules are kept
# in $SC_AUTH_MODULES (default $top_builddir/tests/auth-modules), keyed by the
# inputs, and shared by the test files. The runtime is $(sc_test_runtime);
# when that cannot compile for the test kernel (systemtap 4.8 against Debian
# kernels >= 6.1.103), the fixed copy from stapcache-fix-runtime is used.
# Exits 2 (and says why on stderr) when no module can be built here.
set -u
name=$1 script=$2
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
. "$top_srcdir/tests/lib/testlib.sh"

command -v stap >/dev/null 2>&1 || { echo "stap is not installed" >&2; exit 2; }
krel=$(sc_test_krel)
[ -n "$krel" ] || { echo "no kernel build tree in /lib/modules/*/build" >&2; exit 2; }

cache=${SC_AUTH_MODULES:-$top_builddir/tests/auth-modules}
mkdir -p "$cache" || exit 2
key=$( { stap -V 2>&1 | head -1; echo "$krel"; echo "$name"; echo "$script"; } |
	sha256sum | cut -c1-16)
out=$cache/$key/$name.ko
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi

compile() {  # compile RUNTIME: builds $T/build/$name.ko
	rm -rf "$T/build" && mkdir -p "$T/build" &&
		(cd "$T/build" && stap -p4 -R "$1" -r "$krel" -m "$name" -e "$script") \
			>"$T/stap.log" 2>&1 && [ -s "$T/build/$name.ko" ]
}

runtime=$(sc_test_runtime)
if ! compile "$runtime"; then
	fix=${STAPCACHE_FIX_RUNTIME:-$top_builddir/stapcache/stapcache-fix-runtime}
	fixed=
	[ -x "$fix" ] && fixed=$("$fix" -r "$krel" 2>/dev/null | tail -n 1)
	if [ -z "$fixed" ] || [ "$fixed" = "$runtime" ] || ! compile "$fixed"; then
		echo "cannot compile a stap module for $krel here:" >&2
		tail -n 5 "$T/stap.log" >&2
		exit 2
	fi
fi
mkdir -p "$cache/$key" && cp "$T/build/$name.ko" "$out.tmp.$$" && mv -f "$out.tmp.$$" "$out" ||
	exit 2
echo "$out"
