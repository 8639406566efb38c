#!/bin/bash
# staprun-auth is built hardened (PIE, full RELRO, _FORTIFY_SOURCE, stack
# protector) and never carries a sanitizer runtime. stapcache keeps PIE and
# full RELRO as a static PIE too (configure's default where it links one).
. "$top_srcdir/tests/lib/testlib.sh"
bin=$top_builddir/staprun-auth/staprun-auth
[ -x "$bin" ] || skip_all "staprun-auth is not built"
command -v readelf >/dev/null || skip_all "readelf (binutils) is missing"

# pie_relro_now BINARY WHO: PIE, a RELRO segment, bound now.
pie_relro_now() {
	like "$(readelf -h "$1")" "Type: +DYN \(Position-Independent Executable" "${2}PIE"
	like "$(readelf -l "$1")" "GNU_RELRO" "${2}RELRO segment"
	like "$(readelf -d "$1")" "FLAGS_1\).*NOW" "${2}bound now (full RELRO)"
}
needed() { readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' '; }

pie_relro_now "$bin" ""
syms=$(readelf --dyn-syms -W "$bin")
like "$syms" "__stack_chk_fail" "stack protector"
like "$syms" "__[a-z]+_chk" "_FORTIFY_SOURCE checked calls"
deps=$(needed "$bin")
if printf '%s' "$deps $syms" | grep -Eq 'asan|ubsan|__sanitizer'; then
	ok 1 "no sanitizer runtime (found one in: $deps)"
else
	ok 0 "no sanitizer runtime"
fi
# An allow-list, not a deny-list: a setuid-root program carries libc and
# nothing else at run time (libcrypto is linked statically).
is "$deps" "libc.so.6 " "NEEDED is exactly libc.so.6 (found: $deps)"

sc=$STAPCACHE
pie_relro_now "$sc" "stapcache: "
deps=$(needed "$sc")
if [ "${SC_STATIC_PIE:-}" = 1 ]; then
	# No loader at start: nothing NEEDED and no interpreter.
	is "$deps" "" "stapcache: a static PIE, nothing NEEDED (found: $deps)"
	if readelf -l "$sc" | grep -q INTERP; then ok 1 "stapcache: no program interpreter"; else ok 0 "stapcache: no program interpreter"; fi
	# Nothing may reach for NSS, a locale or dlopen at run time: a static
	# binary can load those only with the shared libraries of the glibc it
	# was linked with. The linker's cross-reference table (Makefile.am) names,
	# for every symbol, the objects that call it; outside libc.a (stapcache's
	# code, libcrypto, json-c, libyaml), none may call one of these. json-c's
	# newlocale is for "C", which glibc has built in.
	map=$top_builddir/stapcache/stapcache.map
	calls=$(awk '/^Cross Reference Table/ {f = 1; next} !f {next}
		/^[^ ]/ {sym = $1; next} /^ +[^ ]/ && $1 !~ /libc\.a\(/ {print sym, $1}' "$map" 2>/dev/null)
	ok "$([ "$(printf '%s\n' "$calls" | grep -c .)" -gt 100 ]; echo $?)" \
		"stapcache's link map lists the calls out of its own objects ($map)"
	like "$calls" "^getopt_long .*options" "(it does list stapcache's own calls: getopt_long from options.c)"
	bad=$(printf '%s\n' "$calls" | grep -E '^(getpw|getgr|getlogin|getaddrinfo|gethostby|getservby|getnameinfo|initgroups|wordexp|dlopen|dlmopen|setlocale|iconv_open|catopen|bindtextdomain|textdomain)[a-z_0-9]* ' |
		tr '\n' ';')
	is "$bad" "" "nothing but libc calls an NSS, locale or dlopen function (found: $bad)"
	bad=$(printf '%s\n' "$calls" | grep -E '^newlocale ' | grep -v 'libjson-c\.a' | tr '\n' ';')
	is "$bad" "" "newlocale only from json-c (for \"C\")"
	# glob(3) looks users up only for GLOB_TILDE.
	bad=$(grep -rlE 'GLOB_TILDE|wordexp' "$top_srcdir"/stapcache "$top_srcdir"/common)
	is "$bad" "" "no glob with GLOB_TILDE, no wordexp in stapcache's sources"
elif [ "${SC_SANITIZED:-}" = 1 ]; then
	# The sanitizer runtime brings libm, libdl and the like; the libraries
	# stapcache links statically must still not appear.
	if printf '%s' "$deps" | grep -Eq 'yaml|crypto|json|ssh|kmod'; then
		ok 1 "stapcache (sanitized): libyaml, json-c and libcrypto linked statically (found: $deps)"
	else
		ok 0 "stapcache (sanitized): libyaml, json-c and libcrypto linked statically"
	fi
else
	# Dynamic (--disable-static-pie): libc, and the loader itself, which
	# json-c's thread-local storage needs (__tls_get_addr).
	is "$(printf '%s' "$deps" | sed 's/libc\.so\.6 //; s/ld-linux[^ ]* //')" "" \
		"stapcache: NEEDED is libc.so.6 and the loader only (found: $deps)"
fi

done_testing
