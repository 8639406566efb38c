#!/bin/bash
# The operator's commands on this host: stapcache doctor (this kernel cannot
# load modules: it says so and exits non-zero; --json parses), --duration
# and max-duration for a local run, and ps/kill without staprun-auth.
#
# The local run's runner is a stand-in here (a fake staprun and stapio on
# PATH), because this kernel has no loadable-module support: the test proves
# what stapcache does with the runner (started, stopped with SIGINT to stapio
# after the time, counted from when stapio runs, its status passed on). The
# real runners are stopped in the QEMU guest (tests/vm/ops.sh).
. "$top_srcdir/tests/lib/testlib.sh"
require_stap
export STAPCACHE_SYSCONFDIR="$T/etc"
KREL=$(sc_test_krel)
write_config "runtime: $(sc_test_runtime "$KREL")"
CFG=$XDG_CONFIG_HOME/stapcache/config.yaml

# 1. doctor on this host.
out=$("$STAPCACHE" doctor 2>&1); st=$?
printf '%s\n' "$out" | sed 's/^/# /'
like "$out" "^this host \(" "doctor: a section for this host"
like "$out" "✓ stap: .*version [0-9]" "stap and its version"
like "$out" "✓ cache: $XDG_CACHE_HOME/stapcache writable, [0-9]+ entries, .* of 1.0 GiB" \
	"the cache: writable, its size against the limit"
if [ -e /proc/modules ]; then
	skip "this kernel has loadable-module support: the refusal cannot be checked here"
else
	isnt "$st" 0 "doctor: non-zero, since this host cannot load modules"
	like "$out" "✗ modules: this kernel has no loadable-module support" "  and says why"
	like "$out" "fix: build here \(-p4\) and run on a target" "  with what to do instead"
fi
json=$("$STAPCACHE" doctor --json 2>/dev/null)
is "$(python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); h=d["hosts"][0]; n={c["check"] for c in h["checks"]}; print(h["local"], sorted(n & {"build tree", "cache", "modules", "runner", "stap"}), all(c["fix"] for c in h["checks"] if not c["ok"]))' <<<"$json")" \
	"True ['build tree', 'cache', 'modules', 'runner', 'stap'] True" \
	"doctor --json parses (json.loads): this host's checks, a fix for every failed one"
[ -e /proc/modules ] || is "$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ok"])' <<<"$json")" \
	False "  and its ok is false"
# A login outside stapusr: Debian's staprun is 4754 root:stapusr, so it is not
# on that login's PATH; doctor says it is there and what to do (issue 23).
sr=$(command -v staprun)
if [ "$(id -u)" != 0 ] || [ -z "$sr" ] || [ "$(stat -c %a:%U:%G "$sr")" != 4754:root:stapusr ]; then
	skip "needs root and Debian's staprun (4754 root:stapusr) to run doctor as nobody"
	skip "needs root and Debian's staprun (4754 root:stapusr) to run doctor as nobody"
else
	nb=$T/nobody-home
	mkdir -p "$nb" && chown 65534 "$nb" && chmod 711 "$T"
	out=$(cd "$nb" && setpriv --reuid=65534 --regid=65534 --clear-groups \
		env -i PATH=/usr/bin:/bin HOME="$nb" "$STAPCACHE" doctor 2>&1)
	like "$out" "✗ runner: $sr \(-rwsr-xr--, group stapusr\) is there, but nobody may not run it: not in the group stapusr" \
		"doctor as a login outside stapusr: staprun is there, but not for it"
	like "$out" "fix: as root: adduser nobody stapusr, then log in again; or install staprun-auth" \
		"  with the fix: join stapusr, or staprun-auth"
fi
echo "max-duration: soon" >> "$CFG"
out=$("$STAPCACHE" doctor 2>&1)
like "$out" "✗ config: .*config.yaml:2: 'max-duration' must be a whole number" \
	"a bad max-duration: doctor names the file and line"
sed -i '/^max-duration:/d' "$CFG"

# 2. --duration with a stand-in runner (see the top), alone and with
# --output json (stapcache then reads the output and applies the duration).
mkdir -p "$T/fake"
cat > "$T/fake/staprun" <<'EOF'
#!/bin/sh
# As staprun: load (a pause here), then exec stapio in the same process.
sleep 1
STAPIO_EXEC_NS=$(date +%s%N)
export STAPIO_EXEC_NS
exec "$(dirname "$0")/stapio" "$@"
EOF
# python3, not bash: a shell cannot trap a signal that was ignored when it
# started (a test run in the background of a non-interactive shell inherits
# SIGINT ignored); stapio, like python here, installs its own handler.
cat > "$T/fake/stapio" <<'EOF'
#!/usr/bin/python3
import os, signal, sys, time
# From the exec of stapio (the stand-in staprun's clock just before it): the
# moment stapcache starts the duration from, whatever python's start-up costs.
start = int(os.environ["STAPIO_EXEC_NS"])
def stop(sig, frame):
    print("stapio: SIGINT after %d ms" % ((time.time_ns() - start) // 1000000), flush=True)
    sys.exit(0)
signal.signal(signal.SIGINT, stop)
print("stapio: running " + " ".join(sys.argv[1:]), flush=True)
while True:
    time.sleep(0.05)
EOF
chmod +x "$T/fake/staprun" "$T/fake/stapio"
# Both clocks start at stapio's exec (the stand-in's just before it, so it can
# only read more): a duration that ended early reads below it. The upper
# bounds are generous: on a loaded machine stapcache notices stapio late.
m=$("$STAPCACHE" -p4 -r "$KREL" -e 'probe begin { printf("hi\n") }' 2>"$T/build.err")
[ -s "$m" ] || { diag "$(cat "$T/build.err")"; skip_all "could not compile the test module"; }
t0=$(date +%s%N)
out=$(PATH=$T/fake:$PATH "$STAPCACHE" -r "$KREL" --duration 2 -e 'probe begin { printf("hi\n") }' 2>&1); st=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
diag "--duration 2 (stand-in runner, 1 s load): $out; whole command $ms ms"
is "$st" 0 "--duration 2: the runner's status (0) is stapcache's"
like "$out" "stapio: running .*$(basename "$m")" "the runner got the module"
got=$(sed -n 's/^stapio: SIGINT after \([0-9]*\) ms$/\1/p' <<<"$out")
like "$got" "^[0-9]+$" "stapio got SIGINT (as from a Ctrl-C)"
[ -n "$got" ] && [ "$got" -ge 2000 ] && [ "$got" -le 60000 ]
ok $? "  2 s after stapio started or a little more, not after the load (${got:-?} ms)"
echo "max-duration: 1" >> "$CFG"
out=$(PATH=$T/fake:$PATH "$STAPCACHE" -r "$KREL" --duration 30 -e 'probe begin { printf("hi\n") }' 2>&1)
got=$(sed -n 's/^stapio: SIGINT after \([0-9]*\) ms$/\1/p' <<<"$out")
[ -n "$got" ] && [ "$got" -ge 1000 ] && [ "$got" -le 25000 ]
ok $? "max-duration: 1 caps --duration 30: the smaller wins (${got:-?} ms)"
sed -i '/^max-duration:/d' "$CFG"
# --duration with the output read by stapcache (capture.c): JSON, max-duration.
# $1: the JSON lines; prints "<SIGINT ms> <summary status> <summary state>"
# after json.loads of every line (a line that does not parse fails it).
json_stop() {
	python3 -c '
import json, re, sys
ms, summ = "", None
for line in sys.stdin.read().splitlines():
    d = json.loads(line)
    m = re.match(r"stapio: SIGINT after (\d+) ms$", str(d.get("line", "")))
    ms = m.group(1) if m else ms
    summ = d if d.get("type") == "summary" else summ
print(ms or "-", summ["status"] if summ else "-", summ["state"] if summ else "-")' <<<"$1"
}
out=$(PATH=$T/fake:$PATH "$STAPCACHE" -r "$KREL" --duration 2 --output json -e 'probe begin { printf("hi\n") }' 2>"$T/json.err"); st=$?
diag "--duration 2 --output json: $(tr '\n' ' ' <<<"$out") $(cat "$T/json.err")"
is "$st" 0 "--duration 2 --output json: runs (no refusal), status 0"
r=$(json_stop "$out" 2>&1); set -- $r
ok $? "  every line parses (json.loads): $r"
[ "${1:-}" -ge 2000 ] 2>/dev/null && [ "$1" -le 60000 ]
ok $? "  stapio got SIGINT 2 s after it started or a little more (${1:-?} ms)"
is "${2:-}-${3:-}" "0-ok" "  and a final summary object (status 0, ok)"
like "$(tail -n1 <<<"$out")" '"type": ?"summary"' "  printed last"
echo "max-duration: 1" >> "$CFG"
out=$(PATH=$T/fake:$PATH "$STAPCACHE" -r "$KREL" --output json -e 'probe begin { printf("hi\n") }' 2>"$T/json.err")
r=$(json_stop "$out" 2>&1); set -- $r
[ "${1:-}" -ge 1000 ] 2>/dev/null && [ "$1" -le 25000 ]
ok $? "max-duration: 1 applies to a JSON run without --duration (${1:-?} ms; $r)"
sed -i '/^max-duration:/d' "$CFG"
out=$(PATH=$T/fake:$PATH "$STAPCACHE" trace -r "$KREL" --duration 2 'syscall.openat (pid == 1234) "open %s", filename' 2>&1); st=$?
got=$(sed -n 's/^.*stapio: SIGINT after \([0-9]*\) ms$/\1/p' <<<"$out")
diag "trace --duration 2: $(tr '\n' ' ' <<<"$out")"
[ "$st" = 0 ] && [ -n "$got" ] && [ "$got" -ge 2000 ] && [ "$got" -le 60000 ]
ok $? "a one-liner (stapcache trace) with --duration 2: SIGINT 2 s after stapio started or a little more (${got:-?} ms), status $st"
out=$("$STAPCACHE" --duration 0 -e 'probe begin {}' 2>&1); st=$?
is "$st" 2 "--duration 0 is refused"
like "$out" "--duration '0': expected a number 1-2592000" "  with the range"

# 3. ps and kill without an installed staprun-auth: says what is missing.
out=$("$STAPCACHE" ps 2>&1); st=$?
if printf '%s' "$out" | grep -q 'staprun-auth here'; then
	is "$st" 1 "ps without staprun-auth here: status 1"
	like "$out" "stapcache: ps: local: no /.*/staprun-auth here: it lists what it runs" "  and says why"
else # installed here (make install): nothing runs on this kernel, so an empty table
	is "$st" 0 "ps with staprun-auth installed here: status 0"
	like "$out" "^TARGET +MODULE +USER" "  the table's header, and no run (this kernel loads none)"
fi
out=$("$STAPCACHE" kill 'bad;name' 2>&1); st=$?
is "$st" 2 "kill of a name that is no module name: refused (2)"
out=$("$STAPCACHE" kill -T a -T b m 2>&1); st=$?
is "$st" 2 "kill takes one target at most"

done_testing
