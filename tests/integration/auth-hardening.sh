#!/bin/bash
# staprun-auth is built hardened (PIE, full RELRO, _FORTIFY_SOURCE, stack
# protector) and never carries a sanitizer runtime.
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

done_testing
