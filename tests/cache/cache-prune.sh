#!/bin/bash
# Size limits: prune evicts the least recently used entries; a configured limit
# is enforced after each build.
. "$top_srcdir/tests/lib/testlib.sh"
# Hermetic: the system-wide config.yaml is one of ours (empty), not /etc's.
export STAPCACHE_SYSCONFDIR="$T/etc"
require_stap
write_config "runtime: $RUNTIME" "max-size: 0"
cache=$XDG_CACHE_HOME/stapcache

build() { "$STAPCACHE" -p4 -r "$KREL" -e "probe begin { printf(\"$1\\n\") exit() }" 2>/dev/null; }
a=$(build a); b=$(build b); c=$(build c)
is "$(count_entries "$cache")" 3 "three entries"
size=$(( $(stat -c %s "$a") + 4096 ))

# Use order: b (oldest), c, a (newest). A hit refreshes last use.
touch -d '3 minutes ago' "$(dirname "$b")/used"
touch -d '2 minutes ago' "$(dirname "$c")/used"
touch -d '1 minutes ago' "$(dirname "$a")/used"
is "$(build a)" "$a" "a hit on a"
# A prune spares what was handed out within the last 60 s (stapcache(1));
# a is pruned below, after it has aged that much.
touch -d '90 seconds ago' "$(dirname "$a")/used"
out=$("$STAPCACHE" cache prune --max-size $((size * 2)))
like "$out" "evicted 1 entries" "prune to two entries evicts one"
ok "$(test ! -e "$b"; echo $?)" "the least recently used (b) is gone"
ok "$(test -e "$a" && test -e "$c"; echo $?)" "a and c stay"
list=$("$STAPCACHE" cache list | sed 1d | awk '{print $2}')
is "$(echo "$list" | head -n 1)" "$(basename "$a" .ko)" "list shows the most recent first"

# A verify killed mid-rebuild leaves its scratch dir (tmp/scratch.PID.WHAT.*):
# a prune removes it once PID is gone (pid_max is at most 4194304), never a
# live process's.
mkdir -p "$cache/tmp/scratch.99999999.verify.dead01/sub" "$cache/tmp/scratch.$$.verify.live01"
out=$("$STAPCACHE" cache prune --max-size $((size * 2)))
like "$out" "evicted 0 entries" "pruning again under the limit evicts nothing"
ok "$(test ! -e "$cache/tmp/scratch.99999999.verify.dead01"; echo $?)" "a dead process's scratch dir is swept"
ok "$(test -d "$cache/tmp/scratch.$$.verify.live01"; echo $?)" "a live process's scratch dir stays"
rmdir "$cache/tmp/scratch.$$.verify.live01"

# A configured limit is applied after a build, never evicting the new entry.
write_config "runtime: $RUNTIME" "max-size: $size"
d=$(build d)
ok "$(test -e "$d"; echo $?)" "the new entry stays"
is "$(count_entries "$cache")" 1 "older entries were evicted to fit the limit"
like "$("$STAPCACHE" cache stats)" "evictions +3\$" "stats count evictions"

out=$("$STAPCACHE" cache clear)
like "$out" "removed 1 entries" "clear removes everything"
is "$(count_entries "$cache")" 0 "the cache is empty"
is "$(find "$cache/tmp" -mindepth 1 | wc -l)" 0 "no staging left"

done_testing
