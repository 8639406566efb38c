#!/bin/bash
# stap's per-kernel caches through the shared store (issue 21, item 5): a
# real redis-server started here, real stap and this machine's kernel
# headers. Builder A (its own HOME, so its own ~/.systemtap) builds a
# tracepoint script with an empty stap cache: stap makes every tracequery
# object, and stapcache uploads them as signed parts. Builder B, with an
# empty stap cache and a warm store, builds a *different* tracepoint script
# for the same kernel: it must not make a single tracequery object. Then a
# part tampered with in the store is refused by builder C, whose stap makes
# its own. Each first build makes ~170 tracequery objects (minutes at load): the
# ceilings are generous (build-timeout 0) and nothing waits on a clock.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/lib/shared-lib.sh"
require_stap
[ -x "$top_builddir/stapcache/stapcache-store" ] || skip_all "stapcache-store is not built"
command -v redis-server >/dev/null 2>&1 ||
	skip_all "redis-server is not installed (apt-get install redis-server)"
start_redis || skip_all "redis-server did not start: $(tail -n 3 "$T/redis/log")"
SHARED_STAP=$(command -v stap)
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

for m in a b c; do machine "$m"; done
for m in a b c; do
	config "$m" "redis://127.0.0.1:$REDIS_PORT" a b
	conf "$m" "build-timeout: 0"
done

tp() {  # tp EVENT: a tracepoint script
	printf 'probe kernel.trace("sched:%s") { printf("%%s\\n", execname()) exit() }\n' "$1"
}
sdir() { echo "$T/$1/home/.systemtap/cache"; }
# tq MACHINE: its tracequery objects, "NAME SHA256" a line, sorted
tq() { (cd "$(sdir "$1")" && find . -name 'tracequery_*.o' -exec sha256sum {} + | awk '{print $2, $1}' | sort); }
# made MACHINE: how many of its tracequery objects stap made itself. stap
# writes NAME_hash.log when it computes a name, then (when the object is
# not there) makes the object: a made object is newer than its log, a
# fetched one (installed before stap ran) older.
made() {
	local n=0 o
	while read -r o; do
		[ "$(stat -c %.9Y "$o")" \> "$(stat -c %.9Y "${o%.o}_hash.log")" ] && n=$((n + 1))
	done < <(find "$(sdir "$1")" -name 'tracequery_*.o')
	echo "$n"
}

# ------------------------------------------------------------ A: the slow build
on a -v -p4 -r "$KREL" -e "$(tp sched_process_exec)" >"$T/a.out" 2>"$T/a.err"
ok $? "A builds a tracepoint module with an empty stap cache" || sed 's/^/# /' "$T/a.err" | tail -n 20
na=$(tq a | wc -l)
[ "$na" -gt 50 ]
ok $? "stap made A's tracequery objects ($na)"
is "$(made a)" "$na" "every one of them made by stap on A"
like "$(cat "$T/a.err")" "shared [0-9]+ of stap's per-kernel query files for $KREL \(([0-9]+) of \1 parts uploaded\)" \
	"A uploaded them, every part"
parts=$(rcli --scan --pattern 'stapcache:entry:*' | while read -r k; do
	rcli --raw GETRANGE "$k" 0 400 | grep -q '^stapcache_stapq$' && echo "$k"; done)
[ -n "$parts" ]
ok $? "the store holds stapcache_stapq parts: $(echo $parts | wc -w)"

# ------------------------------------------------------------ B: another script, warm store
[ ! -e "$(sdir b)" ]
ok $? "B's stap cache is empty"
on b -v -p4 -r "$KREL" -e "$(tp sched_process_fork)" >"$T/b.out" 2>"$T/b.err"
ok $? "B builds a different tracepoint module" || sed 's/^/# /' "$T/b.err" | tail -n 20
like "$(cat "$T/b.err")" "[0-9]+ of stap's per-kernel query files for $KREL from the shared store" \
	"B installed stap's files from the store"
! grep -q "shared cache hit" "$T/b.err"
ok $? "B's module itself was built, not fetched"
is "$(made b)" 0 "B's stap made no tracequery object"
is "$(tq b)" "$(tq a)" "B has exactly A's tracequery objects, byte for byte"
! grep -q "query files for $KREL (" "$T/b.err"
ok $? "B uploaded none of stap's files (it made none)"

# ------------------------------------------------------------ C: tampered parts
# One byte of a file's data flipped in every part, signature left as it was.
for k in $parts; do
	rcli --raw GET "$k" | head -c -1 > "$T/part"
	python3 - "$T/part" <<'PY'
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read())
i=b.index(b'\ndata ') + 200; b[i]^=1; open(p,'wb').write(b)
PY
	rcli -x SET "$k" < "$T/part" >/dev/null
done
# C builds a begin probe (no tracequery needed, so no long build): the
# fetch before stap is the same.
[ ! -e "$(sdir c)" ]
ok $? "C's stap cache is empty"
on c -v -p4 -r "$KREL" -e 'probe begin { printf("c\n") exit() }' >"$T/c.out" 2>"$T/c.err"
ok $? "C builds anyway" || sed 's/^/# /' "$T/c.err" | tail -n 20
like "$(cat "$T/c.err")" "rejected" "C's helper rejected the tampered parts"
like "$(cat "$T/c.err")" "per-kernel files for $KREL was refused; stap builds its own" \
	"C says it was refused"
is "$(tq c | wc -l)" 0 "no tracequery object from the tampered parts was installed"
done_testing
