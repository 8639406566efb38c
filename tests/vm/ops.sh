#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The operator's commands against a real kernel, the QEMU guest as the
# target testvm (scuser through the setuid staprun-auth) and testvm-other
# (the same guest as scother): stapcache doctor -T (the guest can load
# modules), --duration and max-duration (stopped cleanly, module unloaded),
# stapcache ps and kill (another user's kill refused, the owner's stops it).
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
make_stap_wrapper
vm_test_setup "stap: $T/bin/stap"
CFG=$XDG_CONFIG_HOME/stapcache/config.yaml
unlike() { # unlike TEXT EXTENDED-REGEX DESCRIPTION
	! printf '%s' "$1" | grep -Eq -- "$2"
	ok $? "$3"
}

# The end probe says how long the script ran: the stop's overshoot, measured
# inside the guest's kernel, free of SSH and upload time.
TIMED='global t0 probe begin { t0 = gettimeofday_ms() printf("started\n") }
probe timer.ms(100) { } probe end { printf("ran %d ms\n", gettimeofday_ms() - t0) }'
LONG='probe begin { printf("long started\n") } probe timer.s(1) { printf("tick\n") }'
timed=$(vm_compile "$TIMED") && long=$(vm_compile "$LONG") ||
	{ diag "$(cat "$T/compile.err")"; skip_all "could not compile the test modules"; }

vm_start || skip_all "the guest did not boot (see the console log above)"
cp "$VM_KNOWN_HOSTS_YAML" "$XDG_CONFIG_HOME/stapcache/known_hosts"
# scother on the same guest: the second user for kill.
sed -e 's/^- name: testvm$/- name: testvm-other/' -e 's/ssh:scuser@/ssh:scother@/' \
	"$VM_KNOWN_HOSTS_YAML" >> "$XDG_CONFIG_HOME/stapcache/known_hosts"
export HOME=$VM_HOME
unset SSH_AUTH_SOCK
grep -q 'scother@' "$XDG_CONFIG_HOME/stapcache/known_hosts"
ok $? "known_hosts has testvm (scuser) and testvm-other (scother)"

# 1. doctor -T testvm: the guest can run probes.
out=$("$STAPCACHE" doctor -T testvm 2>&1); st=$?
printf '%s\n' "$out" | sed 's/^/# /'
is "$st" 0 "doctor -T testvm: status 0 (the guest can run probes)"
like "$out" "^testvm:" "a section for the target"
like "$out" "✓ ssh: .*reachable, host key known SHA256:" "ssh reachable, host key known"
like "$out" "✓ kernel: runs $rel, as known_hosts says" "its kernel is the one known_hosts records"
like "$out" "✓ build tree: .* for $rel" "a build tree here for the target's release"
like "$out" "✓ runtime: " "the runtime compiles for it"
like "$out" "✓ runner: /[a-z/]*/staprun-auth, setuid root" "the runner: staprun-auth, setuid root"
like "$out" "✓ modules: loadable \(lockdown" "the guest's kernel loads modules, and says what it looked at"
like "$out" "✓ authorized_probes: /etc/systemtap/authorized_probes trusted" "authorized_probes trusted"
unlike "$out" "✗" "no check fails"
json=$("$STAPCACHE" doctor -T testvm --json 2>/dev/null); st=$?
is "$st" 0 "doctor -T testvm --json: status 0"
is "$(python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); h=[x for x in d["hosts"] if x["name"]=="testvm"][0]; print(d["ok"], h["ok"], sorted(c["check"] for c in h["checks"]))' <<<"$json")" \
	"True True ['authorized_probes', 'build tree', 'kernel', 'modules', 'runner', 'runtime', 'ssh']" \
	"the JSON parses (json.loads): the target is ok, with every check"
# A policy that staprun-auth would refuse, and doctor says which file.
vm_ssh root 'chmod g+w /etc/systemtap/authorized_probes' </dev/null
out=$("$STAPCACHE" doctor -T testvm 2>&1); st=$?
isnt "$st" 0 "a group-writable authorized_probes: doctor fails"
like "$out" "✗ authorized_probes: staprun-auth would refuse it: /etc/systemtap/authorized_probes: writable by group or others \(mode 0664\)" \
	"  naming the file and why"
like "$out" "fix: as root: .*chown root:root.*chmod go-w" "  with the fix"
vm_ssh root 'chmod g-w /etc/systemtap/authorized_probes' </dev/null

bless "$timed" && bless "$long"
ok $? "the test modules are blessed in the guest"

# 2. --duration 2 on a timer probe: stopped cleanly after its time.
t0=$(date +%s.%N)
out=$("$STAPCACHE" -T testvm --duration 2 -e "$TIMED" 2>"$T/dur.err"); st=$?
t1=$(date +%s.%N)
diag "--duration 2: $(echo "$out" | tr '\n' ' ')(whole command $(echo "$t1 - $t0" | bc) s)"
is "$st" 0 "--duration 2: status 0 (a clean stop)"
like "$out" "^started" "the probe started"
ran=$(sed -n 's/^ran \([0-9]*\) ms$/\1/p' <<<"$out")
like "$ran" "^[0-9]+$" "its end probe ran (a clean stop runs end probes): ${ran:-none} ms"
# Generous bounds: the stop comes after the time, within seconds (CI is loaded).
[ -n "$ran" ] && [ "$ran" -ge 1900 ] && [ "$ran" -le 6000 ]
ok $? "it ran about 2 s (${ran:-?} ms; overshoot $(( ${ran:-0} - 2000 )) ms)"
no_stap_modules; ok $? "no stap_ module in the guest's /proc/modules afterwards"

# 3. max-duration: in config.yaml caps a run without --duration, and a longer --duration.
echo "max-duration: 2" >> "$CFG"
out=$("$STAPCACHE" -T testvm -e "$TIMED" 2>>"$T/dur.err"); st=$?
ran=$(sed -n 's/^ran \([0-9]*\) ms$/\1/p' <<<"$out")
is "$st" 0 "max-duration: 2 without --duration: status 0"
[ -n "$ran" ] && [ "$ran" -ge 1900 ] && [ "$ran" -le 6000 ]
ok $? "  stopped after about 2 s (${ran:-?} ms)"
out=$("$STAPCACHE" -T testvm --duration 30 -e "$TIMED" 2>>"$T/dur.err"); st=$?
ran=$(sed -n 's/^ran \([0-9]*\) ms$/\1/p' <<<"$out")
[ -n "$ran" ] && [ "$ran" -ge 1900 ] && [ "$ran" -le 6000 ]
ok $? "  --duration 30 with max-duration: 2: the smaller wins (${ran:-?} ms)"
sed -i '/^max-duration:/d' "$CFG"
no_stap_modules; ok $? "unloaded after the capped runs"

# 4. ps and kill.
name=$(basename "$long" .ko)
"$STAPCACHE" -T testvm -c 'sleep 600' -e "$LONG" >"$T/long.out" 2>&1 &
bg=$!
for _ in $(seq 150); do grep -q '^tick' "$T/long.out" && break; sleep 0.2; done
like "$(cat "$T/long.out")" "tick" "a long probe of scuser runs in the guest"
out=$("$STAPCACHE" ps -T testvm 2>&1); st=$?
printf '%s\n' "$out" | sed 's/^/# /'
is "$st" 0 "ps -T testvm: status 0"
like "$out" "^TARGET +MODULE +USER +STARTED +PID +STATE +DIGEST +COMMAND" "a header"
like "$out" "^testvm +$name +scuser +[0-9T:-]+Z +- +running +$(sha256sum "$long" | cut -c1-12) +sleep 600\$" \
	"ps shows scuser's run: module, user, start, state, digest, command"
out=$("$STAPCACHE" ps -T testvm-other 2>&1)
like "$out" "^testvm-other +$name +scuser " "another user sees it too (the registry is not secret)"
out=$("$STAPCACHE" kill -T testvm-other "$name" 2>&1); st=$?
is "$st" 4 "scother's kill: refused (status 4)"
like "$out" "refused: $name is run by scuser \(uid 1000\), not by you \(uid 1001\)" "  saying whose run it is"
sleep 1
live "$name"; ok $? "  the probe is still loaded"
kill -0 "$bg" 2>/dev/null; ok $? "  and its stapcache still runs"
out=$("$STAPCACHE" kill -T testvm "$name" 2>&1); st=$?
is "$st" 0 "scuser's kill: status 0"
like "$out" "^testvm: stopped $name \(its stapio TERMed\), module unloaded" "  says so"
live "$name"; isnt $? 0 "  the module is gone from /proc/modules"
for _ in $(seq 100); do kill -0 "$bg" 2>/dev/null || break; sleep 0.2; done
kill -0 "$bg" 2>/dev/null; isnt $? 0 "  and the stapcache -T run ended"
wait "$bg"
out=$("$STAPCACHE" ps -T testvm 2>&1)
unlike "$out" "$name" "ps no longer lists it"
out=$("$STAPCACHE" kill -T testvm "$name" 2>&1); st=$?
is "$st" 1 "kill of a module that is not running: status 1"
like "$out" "runs no module $name there" "  says so"
no_stap_modules; ok $? "nothing left loaded"

done_testing
