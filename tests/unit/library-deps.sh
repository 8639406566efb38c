#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The library depends on no program (issue 18): every sc_ symbol that
# stapcache/libstapcache.a leaves undefined is defined by the library itself
# or by common/libcommon.a, never by main.c, cmd/ or a helper's own code.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"

lib=$top_builddir/stapcache/.libs/libstapcache.a
common=$top_builddir/common/.libs/libcommon.a
main=$top_builddir/stapcache/main.o
[ -f "$lib" ] && [ -f "$common" ] && [ -f "$main" ] ||
	skip_all "the library and the program are not built ($lib)"

defined() { nm -g --defined-only "$@" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u; }
undefined() { nm -g --undefined-only "$@" 2>/dev/null | awk '{ print $NF }' | grep '^sc_' | sort -u; }
# The sc_ symbols objects need that neither the library nor common/ defines.
outside() { comm -23 <(undefined "$@") <(defined "$lib" "$common"); }

is "$(outside "$lib" | tr '\n' ' ')" "" \
	"libstapcache needs no sc_ symbol from outside itself and common/"
# The same check, on main.o, does see what only the program defines.
like "$(outside "$main" | tr '\n' ' ')" "sc_cmd_compile" \
	"the check finds a program's symbol (main.o needs sc_cmd_compile from cmd/)"
is "$(defined "$lib" | grep -c '^sc_cmd_')" 0 "no command (sc_cmd_*) is in the library"
done_testing
