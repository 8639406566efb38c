#!/bin/bash
# 8 concurrent identical cold requests: stap runs once, all print the same path.
. "$top_srcdir/tests/lib/testlib.sh"
# Hermetic: the system-wide config.yaml is one of ours (empty), not /etc's.
export STAPCACHE_SYSCONFDIR="$T/etc"
require_stap
make_stap_wrapper
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"
script='probe begin { printf("concurrent\n") exit() }'

for i in 1 2 3 4 5 6 7 8; do
	"$STAPCACHE" -p4 -r "$KREL" -e "$script" > "$T/out.$i" 2> "$T/err.$i" &
done
fails=0
for i in 1 2 3 4 5 6 7 8; do
	wait -n || fails=$((fails + 1))
done
is "$fails" 0 "all eight requests succeed"
is "$(stap_runs)" 1 "stap ran exactly once"
is "$(sort -u "$T"/out.* | wc -l)" 1 "all eight printed the same path"
path=$(cat "$T/out.1")
ok "$(test -s "$path"; echo $?)" "and that module exists"
is "$(count_entries "$XDG_CACHE_HOME/stapcache")" 1 "one entry"
is "$(find "$XDG_CACHE_HOME/stapcache/tmp" -mindepth 1 | wc -l)" 0 "no staging left behind"
stats=$("$STAPCACHE" cache stats)
like "$stats" "builds +1\$" "stats: one build"
like "$stats" "hits +7\$" "stats: seven answered from the cache"

# 1,000 hits, 50 at a time, while cache stats folds the log now and then:
# every one is counted, once.
seq 1000 | xargs -P 50 -I{} "$STAPCACHE" -p4 -r "$KREL" -e "$script" > "$T/hits.out" 2>&1 &
hits=$!
for _ in 1 2 3 4 5; do sleep 0.3; "$STAPCACHE" cache stats > /dev/null; done
wait "$hits"
is "$(sort -u "$T/hits.out")" "$path" "1,000 parallel hits all answer the same path"
like "$("$STAPCACHE" cache stats)" "hits +1007\$" "and are counted exactly (7 + 1,000)"
is "$(stap_runs)" 1 "without running stap again"

done_testing
