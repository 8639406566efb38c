#!/bin/bash
# Issue 13: real builds with the new key inputs: each builds, a repeat is a
# hit, and -d / --ldd objects enter the key by content.
. "$top_srcdir/tests/lib/testlib.sh"
require_stap
make_stap_wrapper
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"

script='probe begin { printf("dropin\n") exit() }'
build() { "$STAPCACHE" -p4 -r "$KREL" "$@" 2>"$T/err"; }
key() { "$STAPCACHE" --explain -p4 -r "$KREL" "$@" | sed -n 's/^# key: //p'; }

base=$(build -e "$script"); ok $? "the base request builds"
# For each option: a build with it is another module, and a repeat is a hit.
for opts in "-d /bin/ls" "-d /bin/ls --ldd" "-E 'probe end { exit() }'" "-T 5" "-w"; do
	eval "set -- $opts" || { ok 1 "$opts: a list entry the shell can split"; continue; }
	runs=$(stap_runs)
	m=$(build "$@" -e "$script"); rc=$?
	is "$rc" 0 "$opts builds"
	[ "$rc" = 0 ] || sed 's/^/#   /' "$T/err"
	isnt "$m" "$base" "$opts: another module than without it"
	is "$(stap_runs)" $((runs + 1)) "$opts: stap ran once" || sed 's/^/#   /' "$T/stap-runs"
	is "$(build "$@" -e "$script")" "$m" "$opts again: the same module"
	is "$(stap_runs)" $((runs + 1)) "$opts again: a hit (stap did not run)"
done
like "$(sed -n '$p' "$T/stap-runs")" " -w " "-w reached stap"

# -d OBJECT by content: a private copy of ls, then one byte changed.
cp /bin/ls "$T/ls"
k1=$(key -d "$T/ls" -e "$script")
m1=$(build -d "$T/ls" -e "$script"); ok $? "-d on a private copy builds"
flip_byte "$T/ls" $(( $(stat -c %s "$T/ls") - 1 ))
k2=$(key -d "$T/ls" -e "$script")
isnt "$k2" "$k1" "one byte changed in the -d object changes the key"
cp /bin/ls "$T/ls"
touch -d '2001-01-01' "$T/ls"
is "$(key -d "$T/ls" -e "$script")" "$k1" "the same content with another mtime has the same key"
is "$(cd "$T" && key -d ls -e "$script")" "$k1" "a relative -d path names the same object"

# --ldd: a library of the -d object with one byte changed, via --sysroot.
ldd /bin/ls | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' > "$T/libs"
ok $([ -s "$T/libs" ]; echo $?) "ldd lists the libraries of /bin/ls ($(wc -l < "$T/libs"))"
mkdir -p "$T/root/bin"
cp /bin/ls "$T/root/bin/ls"
while read -r lib; do
	mkdir -p "$T/root$(dirname "$lib")" && cp -L "$lib" "$T/root$lib"
done < "$T/libs"
s1=$(key --sysroot="$T/root" -d /bin/ls --ldd -e "$script")
is "$(key --sysroot="$T/root" -d /bin/ls --ldd -e "$script")" "$s1" "--sysroot -d --ldd: a stable key"
is "$(key --sysroot="$T/root" -d /bin/ls -e "$script")" "$(key --sysroot="$T/root" -d /bin/ls -e "$script")" \
	"and without --ldd"
isnt "$(key --sysroot="$T/root" -d /bin/ls -e "$script")" "$s1" "--ldd changes it"
lib=$(grep libc.so "$T/libs" | head -1)
flip_byte "$T/root$lib" 1000
isnt "$(key --sysroot="$T/root" -d /bin/ls --ldd -e "$script")" "$s1" \
	"one byte changed in a library --ldd resolves (the sysroot's $lib) changes the key"
like "$("$STAPCACHE" --explain -p4 -r "$KREL" -d /bin/ls --ldd -e "$script")" "^$lib sha256:[0-9a-f]{64}\$" \
	"the record names each library with its content digest"

done_testing
