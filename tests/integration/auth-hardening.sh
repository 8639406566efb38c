#!/bin/bash
# staprun-auth is built hardened (PIE, full RELRO, _FORTIFY_SOURCE, stack
# protector) and never carries a sanitizer runtime. stapcache keeps PIE and
# full RELRO as a static PIE too (configure's default where it links one).
. "$top_srcdir/tests/lib.sh"
bin=$top_builddir/staprun-auth/staprun-auth
[ -x "$bin" ] || skip_all "staprun-auth is not built"
command -v readelf >/dev/null || skip_all "readelf (binutils) is missing"

like "$(readelf -h "$bin")" "Type: +DYN \(Position-Independent Executable" "PIE"
like "$(readelf -l "$bin")" "GNU_RELRO" "RELRO segment"
like "$(readelf -d "$bin")" "FLAGS_1\).*NOW" "bound now (full RELRO)"
syms=$(readelf --dyn-syms -W "$bin")
like "$syms" "__stack_chk_fail" "stack protector"
like "$syms" "__[a-z]+_chk" "_FORTIFY_SOURCE checked calls"
deps=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
if printf '%s' "$deps $syms" | grep -Eq 'asan|ubsan|__sanitizer'; then
	ok 1 "no sanitizer runtime (found one in: $deps)"
else
	ok 0 "no sanitizer runtime"
fi
# An allow-list, not a deny-list: a setuid-root program carries libc and
# nothing else at run time (libcrypto is linked statically).
is "$deps" "libc.so.6 " "NEEDED is exactly libc.so.6 (found: $deps)"

sc=$STAPCACHE
like "$(readelf -h "$sc")" "Type: +DYN \(Position-Independent Executable" "stapcache: PIE"
like "$(readelf -l "$sc")" "GNU_RELRO" "stapcache: RELRO segment"
like "$(readelf -d "$sc")" "FLAGS_1\).*NOW" "stapcache: bound now (full RELRO)"
deps=$(readelf -d "$sc" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
if [ "${SC_STATIC_PIE:-}" = 1 ]; then
	# No loader at start: nothing NEEDED and no interpreter.
	is "$deps" "" "stapcache: a static PIE, nothing NEEDED (found: $deps)"
	if readelf -l "$sc" | grep -q INTERP; then ok 1 "stapcache: no program interpreter"; else ok 0 "stapcache: no program interpreter"; fi
	# It must not reach for NSS or dlopen at run time, which a static binary
	# can do only with the shared libraries of the glibc it was linked with.
	bad=$(nm -u "$top_builddir"/stapcache/stapcache-*.o "$top_builddir"/stapcache/remote/stapcache-*.o \
		"$top_builddir"/stapcache/.libs/libstapcache.a "$top_builddir"/common/.libs/libcommon.a 2>/dev/null |
		grep -Eo ' U (getpw|getgr|getaddrinfo|gethostby|getservby|dlopen|setlocale|iconv_open)[a-z_]*' | sort -u | tr '\n' ' ')
	is "$bad" "" "stapcache's own code calls no NSS, locale or dlopen function (found: $bad)"
elif [ "${SC_SANITIZED:-}" = 1 ]; then
	# The sanitizer runtime brings libm, libdl and the like; the libraries
	# stapcache links statically must still not appear.
	if printf '%s' "$deps" | grep -Eq 'yaml|crypto|json|ssh|kmod'; then
		ok 1 "stapcache (sanitized): libyaml, json-c and libcrypto linked statically (found: $deps)"
	else
		ok 0 "stapcache (sanitized): libyaml, json-c and libcrypto linked statically"
	fi
else
	is "$deps" "libc.so.6 " "stapcache: NEEDED is exactly libc.so.6 (found: $deps)"
fi

done_testing
