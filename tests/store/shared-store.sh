#!/bin/bash
# The shared cache (issue 10) on a shared directory (file://) and on a real
# redis-server started here on a loopback port (the HTTP store:
# shared-http.sh). A fake stap (a script that writes a module-shaped file;
# shared-lib.sh) stands in for the compiler: these checks are about the
# protocol (who builds, what is served, what is refused), not about the
# module. It counts its runs in $T/stap-runs.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/lib/shared-lib.sh"
require_stap
HELPER=$top_builddir/stapcache/stapcache-store
[ -x "$HELPER" ] || skip_all "stapcache-store is not built"

fake_stap

for m in a b c; do machine "$m"; done
like "$(cat "$T/a/pub")" '^ed25519:[0-9a-f]{64}$' "stapcache key generate prints the public key"
is "$(stat -c %a "$T/a/config/stapcache/builder.key")" 600 "the builder key is 0600"
is "$(on a key show)" "$(cat "$T/a/pub")" "stapcache key show prints it again"

# ------------------------------------------------------------ file://
store=$T/store
config a "file://$store" a b
config b "file://$store" a b
config c "file://$store" c
script='probe begin { printf("shared\n") exit() }'

pa=$(on a -p4 -r "$KREL" -e "$script" 2>"$T/a.err")
ok $? "machine A builds"
is "$(runs)" 1 "stap ran once on A"
is "$(find "$store" -name '*.entry' | wc -l | tr -d ' ')" 1 "A uploaded one entry"
pb=$(on b -v -p4 -r "$KREL" -e "$script" 2>"$T/b.err")
ok $? "machine B answers the request"
like "$(cat "$T/b.err")" "shared cache hit" "B's answer is a shared hit"
is "$(runs)" 1 "B ran no stap"
is "$(sha256sum < "$pb")" "$(sha256sum < "$pa")" "B has A's module, byte for byte"
like "$(on b -v -p4 -r "$KREL" -e "$script" 2>&1 >/dev/null)" "cache hit" "B's next request is a local hit"
is "$(runs)" 1 "still no stap run"

# Not trusted: C trusts only itself.
cp "$(find "$store" -name '*.entry' | head -n 1)" "$T/good.entry"
on c -p4 -r "$KREL" -e "$script" >/dev/null 2>"$T/c.err"
ok $? "C answers anyway"
like "$(cat "$T/c.err")" "rejected.*untrusted" "C refuses A's entry: untrusted signer (one warning)"
is "$(grep -c "shared cache" "$T/c.err")" 1 "one warning line about the store"
is "$(runs)" 2 "C built it itself"
is "$(stat_of c 'shared uploads')" 1 "C's own entry replaced the one it refuses"
cp "$T/good.entry" "$(find "$store" -name '*.entry' | head -n 1)"   # A's again

entry=$(find "$store" -name '*.entry' | head -n 1)
tamper() {  # tamper WHAT: replace the stored entry, then ask a fresh machine
	local what=$1 d
	rm -rf "$T/d"; machine d; config d "file://$store" a b
	case $what in
	flip) python3 - "$entry" <<'PY'
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read())
i=b.index(b'fake module'); b[i]^=1; open(p,'wb').write(b)
PY
	;;
	unsigned) python3 - "$entry" <<'PY'
import sys; p=sys.argv[1]; b=open(p,'rb').read()
open(p,'wb').write(b[:b.index(b'\nsigner ')+1])
PY
	;;
	esac
}
cp "$entry" "$T/good.entry"
for what in flip unsigned; do
	cp "$T/good.entry" "$entry"
	tamper "$what"
	before=$(runs)
	pd=$(on d -p4 -r "$KREL" -e "$script" 2>"$T/d.err")
	ok $? "$what: the request still succeeds"
	like "$(cat "$T/d.err")" "rejected" "$what: the entry is rejected with a warning"
	is "$(runs)" $((before + 1)) "$what: rebuilt locally, never served"
	is "$(cat "$pd")" "fake module $(basename "$pd" .ko)" "$what: the module served is the local build"
	is "$(stat_of d 'shared rejects')" 1 "$what: counted in cache stats"
done
cp "$T/good.entry" "$entry"

# Copied under another key: a different script's key gets A's entry.
other='probe begin { printf("other\n") exit() }'
okey=$(on b --explain -p4 -r "$KREL" -e "$other" | sed -n 's/^# key: //p')
mkdir -p "$store/${okey:0:2}" && cp "$entry" "$store/${okey:0:2}/$okey.entry"
before=$(runs)
on b -p4 -r "$KREL" -e "$other" >/dev/null 2>"$T/o.err"
like "$(cat "$T/o.err")" "rejected.*another key" "an entry copied under another key is rejected"
is "$(runs)" $((before + 1)) "and rebuilt"

# ------------------------------------------------------------ failures
machine e; config e "redis://127.0.0.1:1" a
start=$(date +%s%N)
on e -p4 -r "$KREL" -e "$script" >/dev/null 2>"$T/e.err"
ok $? "store down: a local build"
like "$(cat "$T/e.err")" "shared cache redis://127.0.0.1:1: cannot connect" "one warning names the store"
# A store that accepts connections and never answers.
hang=$(start_listener hang)
config e "redis://127.0.0.1:$hang" a
echo "shared-timeout: 500" >> "$T/e/config/stapcache/config.yaml"
start=$(date +%s%N)
on e -p4 -r "$KREL" -e 'probe begin { printf("hang\n") exit() }' >/dev/null 2>"$T/h.err"
ok $? "store hanging: a local build"
el=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$el" -lt 60000 ]; ok $? "bounded by the timeout, not held by the hanging store (${el} ms)"
is "$(grep -c 'shared cache' "$T/h.err")" 1 "one warning line: $(head -n 1 "$T/h.err")"
# A store that answers neither RESP nor anything else, then hangs up.
garbage=$(start_listener garbage)
config e "redis://127.0.0.1:$garbage" a
echo "shared-timeout: 500" >> "$T/e/config/stapcache/config.yaml"
errs=$(stat_of e 'shared errors')
pf=$(on e -p4 -r "$KREL" -e 'probe begin { printf("garbage\n") exit() }' 2>"$T/g.err")
ok $? "store answering garbage: a local build"
is "$(cat "$pf")" "fake module $(basename "$pf" .ko)" "the module served is the local build"
is "$(grep -c 'shared cache' "$T/g.err")" 1 "one warning line: $(head -n 1 "$T/g.err")"
is "$(stat_of e 'shared errors')" $((errs + 1)) "counted as a shared error"

# A store that drips its answer a byte at a time, each under the read
# timeout: the operation's deadline ends it (issue 19), not the last byte.
drip=$(start_listener drip)
config e "redis://127.0.0.1:$drip" a
echo "shared-timeout: 500" >> "$T/e/config/stapcache/config.yaml"
errs=$(stat_of e 'shared errors')
pf=$(timeout -s KILL 120 env HOME="$T/e/home" XDG_CACHE_HOME="$T/e/cache" \
	XDG_CONFIG_HOME="$T/e/config" STAPCACHE_CONFIG="$T/e/config/stapcache/config.yaml" \
	"$STAPCACHE" -p4 -r "$KREL" -e 'probe begin { printf("drip\n") exit() }' 2>"$T/dr.err")
ok $? "store dripping its reply: a local build"
is "$(cat "$pf")" "fake module $(basename "$pf" .ko)" "the module served is the local build"
like "$(cat "$T/dr.err")" "reading the entry: no end within 2800 ms" \
	"one warning: the operation's deadline (connect + 3 x timeout + 1 s) ended it"
is "$(grep -c 'shared cache' "$T/dr.err")" 1 "one warning line"
is "$(stat_of e 'shared errors')" $((errs + 1)) "counted as a shared error"

# ------------------------------------------------------------ redis
if ! command -v redis-server >/dev/null 2>&1; then
	skip "redis-server is not installed (apt-get install redis-server)"
	done_testing
	exit 0
fi
start_redis || skip_all "redis-server did not start: $(tail -n 3 "$T/redis/log")"
port=$REDIS_PORT
is "$(redis-cli -p "$port" ping)" PONG "a private redis-server answers on 127.0.0.1:$port"

for i in 1 2 3 4 5 6 7 8; do machine "m$i"; done
for i in 1 2 3 4 5 6 7 8; do config "m$i" "redis://127.0.0.1:$port" m1 m2 m3 m4 m5 m6 m7 m8; done
distinct=$(stampede 'probe begin { printf("stampede\n") exit() }' m1 m2 m3 m4 m5 m6 m7 m8)
is "$(runs)" 1 "8 machines missing one cold key at once: stap ran once"
is "$distinct" 1 "all 8 got the same module"

# The builder dies mid-lease: another machine takes over after the lease expires.
dead='probe begin { printf("dead builder\n") exit() }'
: > "$T/stap-runs"
FAKE_STAP_SLEEP=30 on_bg m1 -p4 -r "$KREL" -e "$dead" >/dev/null 2>&1 &
victim=$!
for _ in $(seq 3000); do [ "$(runs)" = 1 ] && break; sleep 0.1; done
is "$(redis-cli -p "$port" --scan --pattern 'stapcache:lease:*' | wc -l | tr -d ' ')" 1 "the builder holds a lease"
kill -KILL "$victim"; wait "$victim" 2>/dev/null
start=$(date +%s)
on m2 -p4 -r "$KREL" -e "$dead" >/dev/null 2>"$T/m2.err"
ok $? "another machine gets the module"
is "$(runs)" 2 "it built it after the dead builder's lease expired"
[ $(( $(date +%s) - start )) -lt 100 ]; ok $? "after the lease's lifetime, well before the 120 s wait limit"

# The builder is stopped (SIGSTOP) mid-lease: its helper stops renewing the
# lease, which lapses, and another machine takes over instead of waiting for
# shared-wait (issue 19: a stopped builder's lease was renewed for ever).
stopped='probe begin { printf("stopped builder\n") exit() }'
: > "$T/stap-runs"
FAKE_STAP_SLEEP=60 on_bg m1 -p4 -r "$KREL" -e "$stopped" >/dev/null 2>"$T/m1.err" &
victim=$!
for _ in $(seq 100); do [ "$(runs)" = 1 ] && break; sleep 0.1; done
is "$(redis-cli -p "$port" --scan --pattern 'stapcache:lease:*' | wc -l | tr -d ' ')" 1 "a builder holds a lease"
kill -STOP "$victim"
on m2 -p4 -r "$KREL" -e "$stopped" >/dev/null 2>"$T/m2.err"
ok $? "with the builder stopped, another machine gets the module"
is "$(runs)" 2 "it built it itself"
! grep -q "gave up waiting" "$T/m2.err"
ok $? "after the stopped builder's lease lapsed, not after shared-wait"
like "$(cat "$T/m1.err")" "the build \(pid $victim\) is stopped: not renewing its build lease" \
	"the stopped builder's helper says it let the lease lapse"
kill -CONT "$victim"; kill -KILL "$victim"; wait "$victim" 2>/dev/null

# A password in the store's URL reaches the helper through its environment
# (readable by the user and root only), never its argv (ps shows argv to all),
# and no warning prints it.
machine p; config p "redis://:sekret-pw@127.0.0.1:$port/0" p
# (LeakSanitizer cannot run under ptrace: off for this one command in build-asan.)
strace -f -qq -s 4096 -e trace=execve -o "$T/p.strace" \
	env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" HOME="$T/p/home" XDG_CACHE_HOME="$T/p/cache" XDG_CONFIG_HOME="$T/p/config" \
	STAPCACHE_CONFIG="$T/p/config/stapcache/config.yaml" \
	"$STAPCACHE" -p4 -r "$KREL" -e 'probe begin { printf("pw\n") exit() }' >/dev/null 2>"$T/p.err"
ok $? "a store that refuses the password: a local build"
grep -q 'stapcache-store' "$T/p.strace"; ok $? "the helper ran (strace saw its execve)"
! grep 'stapcache-store' "$T/p.strace" | grep -q sekret-pw
ok $? "the password is not in the helper's argv"
! grep -q sekret-pw "$T/p.err"; ok $? "the warning does not print the password"
like "$(cat "$T/p.err")" "shared cache redis://\.\.\.@127\.0\.0\.1:$port/0: " "the warning names the store without it"

redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
done_testing
