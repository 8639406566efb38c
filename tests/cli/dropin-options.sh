#!/bin/bash
# Issue 13: every option of the installed stap has a row in the option table,
# every key-input row changes the key, and what has nothing to cache is the
# real stap's: the same output and exit status as running it directly.
. "$top_srcdir/tests/lib/testlib.sh"
require_stap
write_config "runtime: $RUNTIME"
STAP=$(command -v stap)

# The spellings stap --help lists: the first word of an option line ("-p NUM",
# "--vp {N}+", "--runtime=MODE", "--use-server[=SPEC]"), a long spelling after
# a short one ("-h --help"), and the modes in the usage lines ("stap [options]
# -l PROBE"). Arguments, "=..." and "[=...]" are cut off; "--" alone is not an option.
help=$("$STAP" --help 2>&1)
spellings=$(printf '%s\n' "$help" | sed -nE '
	s/^.*stap \[options\] (--?[A-Za-z][A-Za-z0-9-]*).*$/\1/p
	/^[[:space:]]+-[A-Za-z][[:space:]]+--[A-Za-z]/{
		s/^[[:space:]]+-([A-Za-z])[[:space:]]+(--[A-Za-z][A-Za-z0-9-]*).*$/-\1\n\2/p
		d
	}
	s/^[[:space:]]+(--?[A-Za-z][A-Za-z0-9-]*).*$/\1/p' | sort -u)
n=$(printf '%s\n' "$spellings" | grep -c .)
diag "stap --help lists $n options: $(echo $spellings)"
ok $([ "$n" -ge 50 ]; echo $?) "the help text of $("$STAP" -V 2>&1 | head -1 | sed 's/ (.*//') parses into options ($n)"

# The table, as stapcache prints it: NAME LONG ARG ROLE KEY STAP RUNNER WHY.
table=$("$STAPCACHE" --dump-options)
rows=$(printf '%s\n' "$table" | awk -F'\t' '{ print $1; if ($2 != "-") print "--" $2 }' | sort -u)
missing=""
for s in $spellings; do
	printf '%s\n' "$rows" | grep -qxF -- "$s" || missing="$missing $s"
done
is "${missing:-none}" none "every option of the installed stap has a row"
for role in key run pass own exec refuse; do
	diag "$role: $(printf '%s\n' "$table" | awk -F'\t' -v r=$role '$4 == r { printf "%s ", $1 }')"
done
bad=$(printf '%s\n' "$table" | awk -F'\t' '($4 == "exec" || $4 == "refuse" || $4 == "pass") && $8 == "-" { print $1 }')
is "${bad:-none}" none "every exec, refuse and pass row says why"

# The man page documents every row.
undoc=""
for s in $(printf '%s\n' "$table" | cut -f1); do
	grep -qF -- "${s//-/\\-}" "$top_srcdir/man/stapcache.1" || undoc="$undoc $s"
done
is "${undoc:-none}" none "man/stapcache.1 names every row"

# Every key input changes the key (--explain: no build). @DIR@-like
# arguments are real here.
key() { "$STAPCACHE" --explain -p4 -r "$KREL" "$@" | sed -n 's/^# key: //p'; }
script='probe begin { exit() }'
base=$(key -e "$script")
like "$base" '^[0-9a-f]{64}$' "the base request has a key"
while IFS= read -r line; do
	set -- $line
	k=$(key "$@" -e "$script")
	like "$k" '^[0-9a-f]{64}$' "$* has a key"
	isnt "$k" "$base" "$* changes the key"
	is "$(key "$@" -e "$script")" "$k" "$* again: the same key"
done <<LIST
-E probe.end{}
-d /bin/ls
--ldd
-d /bin/ls --ldd
--sysroot=/
--sysenv=PATH=/usr/bin
--modinfo author=me
-w
-W
-P
--prologue-searching
--prologue-searching=always
-T 5
-D MAXACTION=100
-g
-b
-t
-u
--privilege=stapusr
--compatible=4.0
--suppress-handler-errors
--suppress-time-limits
--skip-badvars
LIST
isnt "$(key -T 5 -e "$script")" "$(key -T 6 -e "$script")" "-T 5 and -T 6 differ"
is "$(key -v -e "$script")" "$base" "-v does not change the key"
is "$(key --vp 00200 -e "$script")" "$base" "--vp does not change the key"
is "$(key -F -S 1,2 -e "$script")" "$base" "-F and -S (run time) do not change the key"
is "$(key --runtime=kernel -e "$script")" "$base" "--runtime=kernel (the default) does not"
out=$("$STAPCACHE" --explain -p4 -r "$KREL" -T 5 -e "$script" 2>&1 >/dev/null)
like "$out" "-T 5: stap's meaning, end the script after 5 seconds" "-T 5 says once which meaning it took"
is "$(printf '%s\n' "$out" | grep -c 'stap.s meaning')" 1 "once"
mkdir -p "$XDG_CONFIG_HOME/stapcache"
printf -- '- name: "5"\n  execute: ssh:root@127.0.0.1:2:auth\n  kernel: %s\n  arch: x86_64\n  cpu: x\n' \
	"$KREL" > "$XDG_CONFIG_HOME/stapcache/known_hosts"
out=$("$STAPCACHE" -p4 -T 5 -e "$script" 2>&1 >/dev/null)
like "$out" "-T 5: the known_hosts target '5'" "a known_hosts target named 5 is taken as the target"
rm -f "$XDG_CONFIG_HOME/stapcache/known_hosts"

# Nothing to cache: stapcache execs the real stap with the same argv, so the
# output and the exit status are stap's own.
same() {  # same DESCRIPTION ARGS...: stapcache ARGS against $STAP ARGS
	local d=$1; shift
	"$STAP" "$@" > "$T/want.out" 2> "$T/want.err"; want=$?
	"$STAPCACHE" "$@" > "$T/got.out" 2> "$T/got.err"; got=$?
	is "$got" "$want" "$d: stap's exit status ($want)"
	cmp -s "$T/want.out" "$T/got.out" && cmp -s "$T/want.err" "$T/got.err"
	ok $? "$d: exactly stap's output"
}
same "-p1" -r "$KREL" -p1 -e 'probe begin { printf("hi\n") exit() }'
same "-p2" -r "$KREL" -p2 -e 'probe begin { exit() }'
same "-p2 with a semantic error" -r "$KREL" -p2 -e 'probe nosuch.probe { exit() }'
same "-p3" -r "$KREL" -p3 -e 'probe begin { exit() }'
same "--dump-probe-types" -r "$KREL" --dump-probe-types
same "--check-version" -r "$KREL" -p2 --check-version -e 'probe begin { exit() }'
same "--runtime=bpf -p1" -r "$KREL" --runtime=bpf -p1 -e 'probe begin { exit() }'
same "-L 'syscall.open*'" -r "$KREL" -L 'syscall.open*'
same "-l 'syscall.open*'" -r "$KREL" -l 'syscall.open*'
"$STAPCACHE" -k -p2 -r "$KREL" -e 'probe begin { exit() }' > "$T/k.out" 2>&1; rc=$?
is "$rc" 0 "-k -p2 runs stap"
like "$(cat "$T/k.out")" "Keeping temporary directory" "and stap keeps its temporary directory"
rm -rf $(sed -n 's/^Keeping temporary directory "\(.*\)"$/\1/p' "$T/k.out")

done_testing
