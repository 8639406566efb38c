#!/bin/bash
# Fault injection on the cache protocol (issue 12): a full disk mid-publish,
# a read-only cache, SIGKILL at random moments of 50 builds, a corrupted
# entry, a hung stap. stap is a fake here (a script that sleeps, then writes
# a plausible .ko of random bytes): these tests are about the cache's
# staging, locking and publishing, not about compiling; cache-failures.sh
# does the same with the real stap. Needs root (mount) for the tmpfs part.
. "$top_srcdir/tests/lib.sh"
export STAPCACHE_SYSCONFDIR="$T/etc"
require_stap
cache=$XDG_CACHE_HOME/stapcache
mkdir -p "$T/bin"
# FAKE_STAP_SLEEP: seconds before writing; FAKE_STAP_SIZE: bytes of the .ko.
cat > "$T/bin/stap" <<'FAKE'
#!/bin/bash
case " $* " in *" -V "*) exec /usr/bin/stap -V ;; esac
m=stap_fake
while [ $# -gt 0 ]; do [ "$1" = -m ] && m=$2; shift; done
sleep "${FAKE_STAP_SLEEP:-0.2}"
head -c "${FAKE_STAP_SIZE:-20000}" /dev/urandom > "$m.ko.part" && mv "$m.ko.part" "$m.ko"
FAKE
chmod +x "$T/bin/stap"
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"

req() { timeout 60 "$STAPCACHE" -p4 -r "$KREL" -e "probe begin { printf(\"$1\\n\") exit() }"; }
# A known gap, written as TAP TODO (the driver counts it XFAIL, or XPASS once fixed).
todo() {  # todo STATUS DESCRIPTION WHY
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2 # TODO $3"
	else echo "not ok $_tap_n - $2 # TODO $3"; fi
}
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

# 5. Concurrent prune and hits, bounded in time.
pc=$T/prune
for i in $(seq 0 4); do STAPCACHE_DIR=$pc req "p$i" >/dev/null 2>&1; done
failed=0 half=0 gone=0 rounds=0 end=$((SECONDS + 30))
while [ "$rounds" -lt 1000 ] && [ "$SECONDS" -lt "$end" ]; do
	STAPCACHE_DIR=$pc "$STAPCACHE" cache prune --max-size 1 >/dev/null 2>&1 &
	if p=$(STAPCACHE_DIR=$pc req "p$((rounds % 5))" 2>/dev/null) && [ -n "$p" ]; then
		# Evicted again right after it was handed out: a prune may do that
		# (a known gap: no grace period yet); half-written it never is.
		# (Checked twice: an eviction between reading meta and the module
		# looks like a mismatch, and is a path gone.)
		if path_ok "$p"; then :; elif [ ! -e "$p" ]; then gone=$((gone + 1)); elif path_ok "$p"; then :; else half=$((half + 1)); fi
	else
		failed=$((failed + 1))
	fi
	wait
	rounds=$((rounds + 1))
done
diag "$rounds rounds of prune against a hit; $gone paths evicted right after they were handed out"
is "$failed" 0 "no request failed during concurrent prunes"
is "$half" 0 "no path handed out was ever an incomplete module"
is "$(entries_ok "$pc")" 0 "and every remaining entry is complete"

# 6. A truncated or corrupted entry is detected and rebuilt, never served.
p=$(req corrupt 2>/dev/null)
truncate -s 100 "$p"
p2=$(req corrupt 2>/dev/null)
path_ok "$p2"; todo $? "a truncated module is not served (rebuilt or refused)" \
	"a hit checks no digest (stapcache/cache.c; reported in issue 12)"
p=$(req corrupt 2>/dev/null)
printf 'X' | dd of="$p" bs=1 seek=50 conv=notrunc 2>/dev/null
p2=$(req corrupt 2>/dev/null)
path_ok "$p2"; todo $? "a corrupted module is not served (rebuilt or refused)" \
	"a hit checks no digest (stapcache/cache.c; reported in issue 12)"

# 7. A hung stap: stapcache has no build-timeout option today (reported).
if "$STAPCACHE" --help 2>&1 | grep -q -- '--build-timeout'; then
	out=$(FAKE_STAP_SLEEP=600 timeout 60 "$STAPCACHE" --build-timeout 2 -p4 -r "$KREL" \
		-e 'probe begin { exit() }' 2>&1); rc=$?
	isnt "$rc" 0 "a hung stap is stopped by --build-timeout"
	like "$out" "timed out|timeout" "with a clear error"
else
	todo 1 "a hung stap is stopped by a timeout option" \
		"stapcache has no build-timeout option (reported in issue 12)"
fi
done_testing
