#!/bin/bash
# A cold build, then a hit: same path, and stap is not run on the hit.
. "$top_srcdir/tests/lib/testlib.sh"
# Hermetic: the system-wide config.yaml is one of ours (empty), not /etc's.
export STAPCACHE_SYSCONFDIR="$T/etc"
require_stap
make_stap_wrapper
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"
cache=$XDG_CACHE_HOME/stapcache
script='global greeting = "hi" probe begin { printf("%s %s\n", greeting, @1) exit() }'

path=$("$STAPCACHE" -p4 -r "$KREL" -e "$script" world 2>"$T/err"); rc=$?
is "$rc" 0 "a cold build succeeds"
like "$path" "^$cache/[0-9a-f]{2}/[0-9a-f]{64}/stap_[0-9a-f]{32}\.ko\$" \
	"-p4 prints the absolute module path on stdout and nothing else"
is "$(echo "$path" | wc -l)" 1 "exactly one line on stdout"
ok "$(test -s "$path"; echo $?)" "the module exists"
is "$(stap_runs)" 1 "stap ran once"
like "$(cat "$T/err")" "compiling stap_[0-9a-f]+ for $KREL \(cache miss\)" "progress goes to stderr"
name=$(basename "$path" .ko)
like "$(tr '\0' '\n' < "$path" | grep -a "^name=$name\$")" "^name=$name\$" \
	"the module's internal name equals its file name"

again=$("$STAPCACHE" -p4 -r "$KREL" -e "$script" world 2>"$T/err2"); rc=$?
is "$rc" 0 "the second request succeeds"
is "$again" "$path" "and answers the same path"
is "$(stap_runs)" 1 "without running stap"
is "$(cat "$T/err2")" "" "silently"
is "$("$STAPCACHE" -p4 -r "$KREL" -G greeting=hello -e "$script" world)" "$path" \
	"a run-time global (-G) hits the same entry"

entry=$(dirname "$path")
for f in inputs meta used; do
	ok "$(test -f "$entry/$f"; echo $?)" "the entry holds '$f'"
done
like "$(head -n 1 "$entry/inputs")" "^stapcache-record 1\$" "inputs is the key record"
like "$(head -n 1 "$entry/meta")" "^stapcache-record 1\$" "meta is a record too"
like "$(grep -A1 '^sha256 64$' "$entry/meta" | tail -n 1)" "^$(sha256sum "$path" | cut -d' ' -f1)\$" \
	"meta records the module's digest"
explained=$("$STAPCACHE" --explain -p4 -r "$KREL" -e "$script" world)
like "$explained" "^# cached: $path\$" "--explain shows the cached path"
is "$(echo "$explained" | sed 1,3d)" "$(cat "$entry/inputs")" \
	"--explain prints the record stored with the entry"
is "$(stap_runs)" 1 "--explain does not run stap"

stats=$("$STAPCACHE" cache stats)
like "$stats" "entries +1\$" "stats: one entry"
like "$stats" "hits +2\$" "stats: two hits"
like "$stats" "misses +1\$" "stats: one miss"
like "$stats" "builds +1\$" "stats: one build"
list=$("$STAPCACHE" cache list)
like "$list" "^[0-9a-f]{16} +$name +$KREL +[0-9.]+ KiB" "list shows key, module, kernel, size"

is "$("$STAPCACHE" bless "$path")" "sha256:$(sha256sum "$path" | cut -d' ' -f1)  # $name" \
	"bless prints the module's authorized_probes line"
# by the module's name (as -p4's path ends, or cache list shows it), with or
# without .ko: the cached module of that name (issue 23)
is "$(cd "$T" && "$STAPCACHE" bless "$name")" "sha256:$(sha256sum "$path" | cut -d' ' -f1)  # $name" \
	"bless NAME: the cached module of that name"
is "$(cd "$T" && "$STAPCACHE" bless "$name.ko")" "sha256:$(sha256sum "$path" | cut -d' ' -f1)  # $name" \
	"bless NAME.ko too"
out=$(cd "$T" && "$STAPCACHE" bless stap_nosuch 2>&1); rc=$?
is "$rc" 1 "bless of a name neither here nor cached exits 1"
like "$out" "no file stap_nosuch here, and no module stap_nosuch in the cache \(stapcache cache list shows them\)" \
	"  saying where it looked"

# A named module and a script file.
printf '%s\n' 'probe begin { exit() }' > "$T/named.stp"
named=$("$STAPCACHE" -p4 -r "$KREL" -m sc_named "$T/named.stp")
like "$named" "/sc_named\.ko\$" "-m NAME names the module file"
is "$(stap_runs)" 2 "a different request builds"
is "$("$STAPCACHE" -p4 -r "$KREL" -m sc_named "$T/named.stp")" "$named" "and hits afterwards"
cp "$named" "$T/renamed.ko"
out=$("$STAPCACHE" bless "$T/renamed.ko" 2>&1)
like "$out" "^sha256:[0-9a-f]{64}  # sc_named\$" "bless names the module by its internal name"
like "$out" "warning: .*renamed.ko is module sc_named; it can be loaded only as a file named sc_named.ko" \
	"and warns when the file name differs"
is "$(stap_runs)" 2 "without stap"

# Without -p4 the module is run: through staprun-auth when it is installed
# setuid root, else systemtap's staprun. (This host's kernel cannot load
# modules, so the runner's answer is the kernel's refusal; the QEMU tests in
# tests/vm run modules for real.)
out=$("$STAPCACHE" -v -r "$KREL" -G greeting=hey -c true -e "$script" world 2>&1)
like "$out" "running (staprun|.*/staprun-auth)( -v)? -c true $path greeting=hey" \
	"without -p4 the cached module goes to the runner with -c and -G NAME=VALUE"
is "$(stap_runs)" 2 "still without compiling"

# Passes 1-3 are stap's own business: passed through, not cached.
out=$("$STAPCACHE" -p1 -r "$KREL" -e 'probe begin { exit() }' 2>&1)
like "$out" "probe begin" "-p1 is passed through to stap"

# The memos a hit needs are copied into one file, which a hit reads and
# leaves alone.
hot_id() { stat -c '%i %y' "$cache/memo/hot" 2>/dev/null; }
before=$(hot_id)
[ -n "$before" ]; ok $? "the key left memo/hot behind"
"$STAPCACHE" -p4 -r "$KREL" -e "$script" world >/dev/null
is "$(hot_id)" "$before" "a hit does not rewrite memo/hot"
rm -f "$cache/memo/hot"
is "$("$STAPCACHE" -p4 -r "$KREL" -e "$script" world)" "$path" \
	"without memo/hot the same request finds the same entry"
[ -n "$(hot_id)" ]; ok $? "and memo/hot is written again"

done_testing
