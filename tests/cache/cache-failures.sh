#!/bin/bash
# Failed, interrupted, killed and out-of-space builds leave nothing behind.
. "$top_srcdir/tests/lib/testlib.sh"
# Hermetic: the system-wide config.yaml is one of ours (empty), not /etc's.
export STAPCACHE_SYSCONFDIR="$T/etc"
require_stap
make_stap_wrapper
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"
cache=$XDG_CACHE_HOME/stapcache

leftovers() { find "$cache/tmp" -mindepth 1 2>/dev/null | wc -l | tr -d ' '; }

# A script with a semantic error: stap's diagnostics, non-zero exit, nothing cached.
out=$("$STAPCACHE" -p4 -r "$KREL" -e 'probe begin { printf("%d\n", no_such_fn()) }' 2>"$T/err")
rc=$?
isnt "$rc" 0 "a failing build exits non-zero"
is "$out" "" "and prints no path"
like "$(cat "$T/err")" "unresolved function" "stap's diagnostics are shown"
like "$(cat "$T/err")" "stap failed \(exit status [0-9]+; its messages are above\); nothing was cached" \
	"and stapcache says nothing was cached"
is "$(count_entries "$cache")" 0 "no entry"
is "$(leftovers)" 0 "no staging left"
like "$("$STAPCACHE" cache stats)" "failed builds +1\$" "stats count the failure"

# A build killed with SIGKILL: no entry, no stuck lock; the next request succeeds.
script='probe begin { printf("killed\n") exit() }'
"$STAPCACHE" -p4 -r "$KREL" -e "$script" > "$T/k.out" 2>&1 &
pid=$!
for _ in $(seq 3000); do [ -s "$T/stap-runs" ] && break; sleep 0.1; done
sleep 0.5
kill -KILL "$pid"
wait "$pid" 2>/dev/null
is "$(count_entries "$cache")" 0 "a killed build leaves no entry"
# The killed build's compilers may run on for a moment; its staging goes once they are done.
for _ in $(seq 3000); do pgrep -f "$cache/tmp" >/dev/null || break; sleep 0.1; done
path=$(timeout 120 "$STAPCACHE" -p4 -r "$KREL" -e "$script" 2>"$T/err"); rc=$?
is "$rc" 0 "the next request succeeds (no stuck lock)"
ok "$(test -s "$path"; echo $?)" "and builds the module"
is "$(leftovers)" 0 "the killed build's staging was cleaned"

# Ctrl-C during a build: stap is told, stapcache exits 130, nothing is cached.
script2='probe begin { printf("interrupted\n") exit() }'
"$STAPCACHE" -p4 -r "$KREL" -e "$script2" > /dev/null 2>"$T/int.err" &
pid=$!
: > "$T/stap-runs"
for _ in $(seq 3000); do [ -s "$T/stap-runs" ] && break; sleep 0.1; done
sleep 0.5
kill -INT "$pid"
wait "$pid"; rc=$?
is "$rc" 130 "SIGINT during a build exits 130"
like "$(cat "$T/int.err")" "interrupted by signal 2; nothing was cached" "and says so"
is "$(count_entries "$cache")" 1 "no entry for the interrupted build"
is "$(leftovers)" 0 "no staging left"

# A full disk: the build fails cleanly and nothing half-written stays.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/small" && mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
	at_exit "umount '$T/small'"
	out=$(STAPCACHE_DIR="$T/small/cache" "$STAPCACHE" -p4 -r "$KREL" -e "$script" 2>"$T/full.err")
	rc=$?
	isnt "$rc" 0 "a build on a full disk fails"
	like "$(tail -n 1 "$T/full.err")" "nothing was cached|No space left" "with a clear reason"
	is "$(count_entries "$T/small/cache")" 0 "and no partial entry"
	is "$(find "$T/small/cache/tmp" -mindepth 1 2>/dev/null | wc -l)" 0 "and no staging"
else
	skip_all "cannot mount a small tmpfs (needs root) for the full-disk case"
fi

done_testing
