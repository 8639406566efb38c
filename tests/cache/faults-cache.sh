#!/bin/bash
# Fault injection on the cache protocol (issue 12): a full disk mid-publish,
# a read-only cache, SIGKILL at random moments of 50 builds, a corrupted
# entry, a hung stap, prune racing hits. stap is a fake here (a script that sleeps, then writes
# a plausible .ko of random bytes): these tests are about the cache's
# staging, locking and publishing, not about compiling; cache-failures.sh
# does the same with the real stap. Needs root (mount) for the tmpfs part.
. "$top_srcdir/tests/lib/testlib.sh"
export STAPCACHE_SYSCONFDIR="$T/etc"
require_stap
cache=$XDG_CACHE_HOME/stapcache
mkdir -p "$T/bin"
# FAKE_STAP_SLEEP: seconds before writing; FAKE_STAP_SIZE: bytes of the .ko;
# FAKE_STAP_HANG=DIR: write DIR/pid and DIR/child (a process in its group), ignore
# SIGTERM when FAKE_STAP_HANG_TERM=ignore, and never finish.
cat > "$T/bin/stap" <<'FAKE'
#!/bin/bash
case " $* " in *" -V "*) exec /usr/bin/stap -V ;; esac
m=stap_fake
while [ $# -gt 0 ]; do [ "$1" = -m ] && m=$2; shift; done
if [ -n "$FAKE_STAP_HANG" ]; then
	[ "$FAKE_STAP_HANG_TERM" = ignore ] && trap '' TERM
	sleep 600 & echo $! > "$FAKE_STAP_HANG/child"
	echo $$ > "$FAKE_STAP_HANG/pid"
	head -c 5000 /dev/urandom > "$m.ko.part"   # half-written work
	while :; do wait; done
fi
sleep "${FAKE_STAP_SLEEP:-0.2}"
head -c "${FAKE_STAP_SIZE:-20000}" /dev/urandom > "$m.ko.part" && mv "$m.ko.part" "$m.ko"
FAKE
chmod +x "$T/bin/stap"
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"

req() { timeout 60 "$STAPCACHE" -p4 -r "$KREL" -e "probe begin { printf(\"$1\\n\") exit() }"; }
leftovers() { find "$1/tmp" -mindepth 1 2>/dev/null | wc -l | tr -d ' '; }
# Every entry complete: its module's SHA-256 is the one its meta records.
entries_ok() {  # entries_ok DIR -> prints the number of bad entries
	local bad=0 d ko want got
	for d in $(find "$1" -mindepth 2 -maxdepth 2 -type d -regextype posix-extended \
		-regex '.*/[0-9a-f]{2}/[0-9a-f]{64}'); do
		ko=$(ls "$d"/*.ko 2>/dev/null | head -n 1)
		want=$(sed -n '/^sha256 64$/{n;p;q}' "$d/meta" 2>/dev/null)
		got=$( [ -n "$ko" ] && sha256sum < "$ko" | cut -d' ' -f1)
		[ -n "$want" ] && [ "$want" = "$got" ] || bad=$((bad + 1))
	done
	echo "$bad"
}
path_ok() {  # path_ok PATH: a complete module whose digest matches its entry's meta
	local want
	want=$(sed -n '/^sha256 64$/{n;p;q}' "$(dirname "$1")/meta" 2>/dev/null)
	[ -s "$1" ] && [ -n "$want" ] && [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$want" ]
}

# 1. A sane start.
p=$(req warm 2>"$T/err"); ok $? "a build with the fake stap succeeds"
path_ok "$p"; ok $? "the path is a complete module matching its meta"

# 2. ENOSPC mid-publish: the cache on a 4 MB tmpfs, a 6 MB module. (Room for
# the key's memos: one small record per runtime and tapset file it digested.)
small=$T/small
mkdir -p "$small"
if mount -t tmpfs -o size=4m tmpfs "$small" 2>/dev/null; then
	at_exit "umount '$small' 2>/dev/null"
	out=$(FAKE_STAP_SIZE=6000000 STAPCACHE_DIR=$small req enospc 2>"$T/err"); rc=$?
	isnt "$rc" 0 "a full disk: the request fails"
	is "$out" "" "and prints no path"
	like "$(cat "$T/err")" "[Nn]o space|ENOSPC|space left" "with a clear error"
	is "$(count_entries "$small")" 0 "no entry is published"
	is "$(leftovers "$small")" 0 "no staging is left"
	out=$(FAKE_STAP_SIZE=2000 STAPCACHE_DIR=$small req enospc 2>"$T/err"); rc=$?
	is "$rc" 0 "once it fits, the same request succeeds (no lock left)"
	path_ok "$out"; ok $? "and hands out a complete module"
	# ENOSPC in the publish itself: the module fits, the entry's records
	# (inputs, meta, used) may not. Free space is set to the module's pages
	# plus 0..3, so the failure lands at each of those writes in turn.
	msize=$((40 * 4096 - 100)) fails=0 publish_fails=0 bad=0
	for k in 0 1 2 3; do
		rm -f "$small/filler"
		avail=$(stat -f -c '%a' "$small")
		head -c $(( (avail - 40 - k) * 4096 )) /dev/zero > "$small/filler" 2>/dev/null
		out=$(FAKE_STAP_SLEEP=0 FAKE_STAP_SIZE=$msize STAPCACHE_DIR=$small \
			req "mid$k" 2>"$T/err"); rc=$?
		if [ "$rc" -ne 0 ]; then
			fails=$((fails + 1))
			grep -q 'cannot write the cache entry.*No space' "$T/err" && publish_fails=$((publish_fails + 1))
			[ -z "$out" ] || bad=$((bad + 1))
		else
			path_ok "$out" || bad=$((bad + 1))
		fi
		[ "$(leftovers "$small")" = 0 ] || bad=$((bad + 1))
		[ "$(entries_ok "$small")" = 0 ] || bad=$((bad + 1))
	done
	rm -f "$small/filler"
	diag "ENOSPC at publish: $fails of 4 requests failed, $publish_fails while writing the entry"
	ok "$([ "$publish_fails" -ge 1 ]; echo $?)" "a full disk while the entry's records are written fails the request with 'No space'"
	is "$bad" 0 "each time: no path printed on failure, every published entry complete, no staging left"
	out=$(FAKE_STAP_SLEEP=0 FAKE_STAP_SIZE=$msize STAPCACHE_DIR=$small req mid0 2>"$T/err")
	path_ok "$out"; ok $? "with room again, the same request succeeds (no lock, nothing in the way)"
	umount "$small"
else
	skip "cannot mount a tmpfs (not root?)"
fi

# 3. A read-only cache directory (a bind mount: root ignores mode bits).
ro=$T/ro
mkdir -p "$ro"
STAPCACHE_DIR=$ro req rofill >/dev/null 2>&1
if mount --bind "$ro" "$ro" 2>/dev/null && mount -o remount,bind,ro "$ro" 2>/dev/null; then
	at_exit "umount '$ro' 2>/dev/null"
	out=$(STAPCACHE_DIR=$ro req romiss 2>"$T/err"); rc=$?
	isnt "$rc" 0 "a read-only cache: a miss fails"
	like "$(cat "$T/err")" "[Rr]ead-only" "with a clear error"
	out=$(STAPCACHE_DIR=$ro req rofill 2>"$T/err")
	path_ok "$out"; ok $? "a read-only cache: a hit is served"
	umount "$ro"
	: > "$(dirname "$out")/used"   # an entry from before stamps, then read-only
	mount --bind "$ro" "$ro" && mount -o remount,bind,ro "$ro"
	out2=$(STAPCACHE_DIR=$ro req rofill 2>"$T/err")
	is "$out2" "$out" "a read-only cache: an entry without a stamp is served after the full check"
	umount "$ro"
	is "$(leftovers "$ro")" 0 "and nothing half-written is left"
else
	skip "cannot make a read-only bind mount"
fi

# 4. SIGKILL at random moments of 50 builds (kills land before, during and
# after the fake stap's run and the publish), then the same requests again.
kc=$T/kill
for i in $(seq 50); do
	FAKE_STAP_SLEEP=0.1 STAPCACHE_DIR=$kc req "k$((i % 10))" >/dev/null 2>&1 &
	pid=$!
	sleep "0.$(printf '%03d' $((RANDOM % 300)))"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
sleep 1 # orphaned fake stap processes finish (they die with their parent)
is "$(entries_ok "$kc")" 0 "after 50 SIGKILLs every entry is complete and matches its digest"
bad=0
for i in $(seq 0 9); do
	p=$(STAPCACHE_DIR=$kc req "k$i" 2>/dev/null) && path_ok "$p" || bad=$((bad + 1))
done
is "$bad" 0 "and every one of the 10 requests then hands out a complete module (no lock left)"
is "$(leftovers "$kc")" 0 "no staging left"

# 5. Concurrent prune and hits: 1,000 rounds. Before each round the entry is
# made old (its last use ten minutes ago), so the prune would evict it; a
# request for it races the prune. Either the hit checks the entry first (the
# prune must then spare it: a hit holds it while checking, and what was
# handed out within 60 s stays) or the prune evicts it first (the request
# then builds it again). Either way the path handed out must stay a complete
# module matching its record, and nothing half-written is left once both are
# done.
pc=$T/prune
FAKE_STAP_SLEEP=0 STAPCACHE_DIR=$pc req p0 >/dev/null 2>&1
failed=0 half=0 gone=0 left=0 rounds=0 hits=0 rebuilt=0
while [ "$rounds" -lt 1000 ]; do
	touch -d '10 minutes ago' "$pc"/??/*/used 2>/dev/null
	# A random head start of 0-14 ms for the request, so that both orders occur.
	(sleep "0.0$((RANDOM % 15 + 10))"; STAPCACHE_DIR=$pc "$STAPCACHE" cache prune --max-size 1 >/dev/null 2>&1) &
	if p=$(FAKE_STAP_SLEEP=0 STAPCACHE_DIR=$pc req p0 2>"$T/err") && [ -n "$p" ]; then
		wait
		if [ ! -e "$p" ]; then gone=$((gone + 1)); elif ! path_ok "$p"; then half=$((half + 1)); fi
		if grep -q compiling "$T/err"; then rebuilt=$((rebuilt + 1)); else hits=$((hits + 1)); fi
	else
		wait
		failed=$((failed + 1))
		[ "$failed" -gt 3 ] || diag "request failed: $(tr '\n' ' ' <"$T/err")"
	fi
	[ "$(leftovers "$pc")" = 0 ] || left=$((left + 1))
	rounds=$((rounds + 1))
done
diag "$rounds rounds of prune against a request: $hits hits (the prune spared the entry), $rebuilt rebuilt (the prune evicted it first)"
is "$failed" 0 "no request failed during concurrent prunes"
is "$gone" 0 "no path handed out was evicted after it was handed out"
is "$half" 0 "every path handed out was a complete module matching its record"
is "$left" 0 "after every round, nothing half-written is left"
# Which order wins depends on the machine's load: under a loaded distcheck
# run all 1,000 rounds once went one way. The race itself is the point, so
# report a one-sided run rather than fail it; the checks above hold either way.
[ "$hits" -ge 1 ] && [ "$rebuilt" -ge 1 ] || diag "only one order occurred this run ($hits hits, $rebuilt rebuilt)"
is "$(entries_ok "$pc")" 0 "and every remaining entry is complete"
# Without the race: an entry handed out a moment ago stays over the limit;
# cache clear (explicit) still removes it.
p=$(STAPCACHE_DIR=$pc req p0 2>/dev/null)
STAPCACHE_DIR=$pc "$STAPCACHE" cache prune --max-size 1 >/dev/null
path_ok "$p"; ok $? "prune spares an entry handed out within the last 60 s"
STAPCACHE_DIR=$pc "$STAPCACHE" cache clear >/dev/null
ok "$([ ! -e "$p" ]; echo $?)" "cache clear removes it"

# 6. A truncated or corrupted entry is detected and rebuilt, never served.
damaged() { "$STAPCACHE" cache stats | awk '/^damaged entries/ {print $3}'; }
p=$(req corrupt 2>/dev/null)
truncate -s 100 "$p"
p2=$(req corrupt 2>"$T/err")
path_ok "$p2"; ok $? "a truncated module is not served: rebuilt, complete, matching its record"
like "$(cat "$T/err")" "damaged.*100 bytes.*truncated" "with a warning that says what was wrong"
is "$(damaged)" 1 "and counted in cache stats"
flip_byte "$p2" 50
p3=$(req corrupt 2>"$T/err")
path_ok "$p3"; ok $? "a module corrupted in place (same size) is not served: rebuilt"
like "$(cat "$T/err")" "damaged.*SHA-256.*corrupted" "with a warning naming the digest"
cp "$p3" "$T/other.ko"; flip_byte "$T/other.ko" 70
mv "$T/other.ko" "$p3"
p4=$(req corrupt 2>/dev/null)
path_ok "$p4"; ok $? "a module replaced by another file (new inode) is not served: rebuilt"
# Metadata changes only (ctime moves, bytes stay): the full check passes and
# the entry is stamped again; no rebuild.
chmod 0600 "$p4"; chmod 0644 "$p4"
before=$(damaged)
out=$(req corrupt 2>"$T/err")
is "$out" "$p4" "a module whose ctime moved but whose bytes did not is served after the full check"
is "$(grep -c 'compiling' "$T/err")" 0 "without a rebuild"
is "$(damaged)" "$before" "and not counted as damaged"
stamp=$(cat "$(dirname "$p4")/used")
like "$stamp" "ctime" "its used file holds the new stamp"
# An entry from before stamps (an empty used file) is checked once and stamped.
: > "$(dirname "$p4")/used"
is "$(req corrupt 2>/dev/null)" "$p4" "an entry without a stamp is served after the full check"
like "$(cat "$(dirname "$p4")/used")" "ino" "and stamped"
# What a hit cannot see: bytes changed under an unchanged stamp (bit rot on
# the medium). Simulated by forging the stamp of the damaged file; a hit
# serves it (documented in stapcache(1)), cache check finds and removes it.
flip_byte "$p4" 90
field() { printf '%s %s\n%s\n' "$1" "${#2}" "$2"; }
rec=$(printf 'stapcache-record 1\n'; field size "$(stat -c %s "$p4")"; field ino "$(stat -c %i "$p4")"
	field ctime "$(stat -c %.9Z "$p4")")
printf '%s\n' "$rec" > "$(dirname "$p4")/used"
if [ "$(req corrupt 2>/dev/null)" = "$p4" ] && ! path_ok "$p4"; then
	ok 0 "bit rot under an unchanged stamp is served by a hit (the documented limit)"
	out=$("$STAPCACHE" cache check); rc=$?
	is "$rc" 1 "cache check exits 1"
	like "$out" "damaged .*SHA-256.*removed" "and names the damaged entry"
	ok "$([ ! -e "$p4" ]; echo $?)" "which it removed"
	path_ok "$(req corrupt 2>/dev/null)"; ok $? "the next request builds it again"
else
	ok 1 "could not forge a matching stamp (format changed?): $(cat "$(dirname "$p4")/used" | tr '\n' ' ')"
fi
out=$("$STAPCACHE" cache check); rc=$?
is "$rc" 0 "cache check on a sound cache exits 0"
like "$out" "checked [0-9]+ entries: 0 damaged" "and says so"

# 7. A hung stap: --build-timeout (and build-timeout: in config.yaml) stops
# it, its process group is killed, nothing is cached or left half-written.
alive() { kill -0 "$(cat "$1/pid")" 2>/dev/null || kill -0 "$(cat "$1/child")" 2>/dev/null; }
gone_within() { for _ in $(seq 3000); do alive "$1" || return 0; sleep 0.1; done; return 1; }
n_before=$(count_entries "$cache")
for mode in plain ignore; do
	h=$T/hang-$mode; mkdir -p "$h"
	t0=$SECONDS
	out=$(FAKE_STAP_HANG=$h FAKE_STAP_HANG_TERM=$mode timeout 60 "$STAPCACHE" --build-timeout 2 \
		-p4 -r "$KREL" -e 'probe begin { printf("hang\n") exit() }' 2>"$T/err"); rc=$?
	el=$((SECONDS - t0))
	is "$rc" 1 "a hung stap ($mode SIGTERM) is stopped by --build-timeout 2: exit status 1"
	is "$out" "" "no path printed"
	like "$(cat "$T/err")" "did not finish within 2 s.*--build-timeout SECONDS.*build-timeout:" "a clear error naming the option and the config key"
	ok "$([ "$rc" != 124 ] && [ "$el" -le 55 ]; echo $?)" "by the limit, not by timeout(1)'s 60 s (took ${el} s)"
	gone_within "$h"; ok $? "stap and the process in its group are gone"
	is "$(leftovers "$cache")" 0 "no staging left"
done
is "$(count_entries "$cache")" "$n_before" "and no entry was published"
# Waiting behind someone else's hung build is bounded by the same limit.
h=$T/hang-other; mkdir -p "$h"
FAKE_STAP_HANG=$h timeout 120 "$STAPCACHE" -p4 -r "$KREL" -e 'probe begin { printf("held\n") exit() }' \
	>/dev/null 2>&1 &
holder=$!
for _ in $(seq 3000); do [ -s "$h/pid" ] && break; sleep 0.1; done
t0=$SECONDS
out=$(timeout 60 "$STAPCACHE" --build-timeout 2 -p4 -r "$KREL" \
	-e 'probe begin { printf("held\n") exit() }' 2>"$T/err"); rc=$?
el=$((SECONDS - t0))
is "$rc" 1 "a request waiting for another's hung build gives up after --build-timeout"
like "$(cat "$T/err")" "another stapcache has been building .* for over 2 s.*--build-timeout.*fuser" \
	"saying so, with the option and how to find the holder"
ok "$([ "$rc" != 124 ] && [ "$el" -le 55 ]; echo $?)" "by the limit, not by timeout(1)'s 60 s (took ${el} s)"
kill -TERM "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
gone_within "$h"; ok $? "the holder, stopped, leaves no stap behind"
[ "$(leftovers "$cache")" = 0 ] || diag "left in $cache/tmp: $(ls -la "$cache/tmp" | tr '\n' ' ')"
is "$(leftovers "$cache")" 0 "and no staging"
write_config "runtime: $RUNTIME" "stap: $T/bin/stap" "build-timeout: 1"
h=$T/hang-cfg; mkdir -p "$h"
FAKE_STAP_HANG=$h timeout 60 "$STAPCACHE" -p4 -r "$KREL" -e 'probe begin { printf("hang\n") exit() }' \
	>/dev/null 2>"$T/err"; rc=$?
is "$rc" 1 "build-timeout: 1 in config.yaml stops it too"
like "$(cat "$T/err")" "within 1 s" "and says which limit"
gone_within "$h"; ok $? "its group is gone"
out=$(FAKE_STAP_SLEEP=2 "$STAPCACHE" --build-timeout 0 -p4 -r "$KREL" \
	-e 'probe begin { printf("hang\n") exit() }' 2>/dev/null)
path_ok "$out"; ok $? "--build-timeout 0 lifts the configured limit; the same key then builds (no lock left)"
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"
like "$("$STAPCACHE" --build-timeout x -p4 -e 'probe begin {}' 2>&1)" "--build-timeout 'x'" "a bad value is refused with the option's name"
done_testing
