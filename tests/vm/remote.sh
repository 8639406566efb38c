#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# stapcache -T against a real kernel: the QEMU guest as a known_hosts target
# (testvm, ssh:scuser@127.0.0.1:PORT:auth), reached through libssh, the module
# built on the host for the guest's kernel, shipped and run by the
# unprivileged scuser through the setuid staprun-auth. Also: stapcache bless -T
# (as root in the guest), -G, -c, exit status, Ctrl-C and SIGKILL of the local
# stapcache (module unloaded, remote temp dir removed).
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
make_stap_wrapper
vm_test_setup "stap: $T/bin/stap"

HELLO='global greeting = "hello" probe begin { printf("%s from the guest\n", greeting) exit() }'
TICKER='probe begin { printf("ticker started\n") } probe timer.ms(200) { printf("tick\n") }'
CMD='probe begin { printf("target %d\n", target()) } probe end { printf("end\n") }'
TEND='probe begin { printf("ticker started\n") } probe timer.ms(200) { printf("tick\n") } probe end { printf("the end: %d\n", 42) }'
# Precompile on the host, as an operator would before a run: -T then finds them.
for s in "$HELLO" "$TICKER" "$CMD" "$TEND"; do
	m=$("$STAPCACHE" -p4 -r "$KREL" -e "$s" 2>>"$T/compile.err")
	[ -s "$m" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test modules"; }
	mods+=("$m")
done
hello=${mods[0]} ticker=${mods[1]} cmd=${mods[2]} tend=${mods[3]}
builds=$(stap_runs)

vm_start || skip_all "the guest did not boot (see the console log above)"
# The operator's side: the guest's entry as the known_hosts file, and a HOME
# whose ~/.ssh knows the guest's key (libssh reads it).
cp "$VM_KNOWN_HOSTS_YAML" "$XDG_CONFIG_HOME/stapcache/known_hosts"
export HOME=$VM_HOME
unset SSH_AUTH_SOCK

# stapcache's temp dirs in the guest (scuser's TMPDIR is /tmp).
leftovers() { vm_ssh root 'ls -d /tmp/stapcache.* 2>/dev/null | wc -l' </dev/null | tr -d ' '; }
no_leftovers() {
	for _ in $(seq 50); do
		[ "$(leftovers)" = 0 ] && return 0
		sleep 0.2
	done
	diag "left in the guest: $(vm_ssh root 'ls -la /tmp/stapcache.*' </dev/null 2>&1)"
	return 1
}
policy_lines() { vm_ssh root 'grep -c sha256: /etc/systemtap/authorized_probes' </dev/null; }

# 1. Not blessed yet: staprun-auth refuses it, and the refusal is stapcache's status.
out=$("$STAPCACHE" -T testvm -e "$HELLO" 2>&1); st=$?
isnt "$st" 0 "an unblessed module: stapcache -T testvm fails (status $st)"
like "$out" "is not an authorized module" "with staprun-auth's reason from the guest"
like "$out" "stapcache: testvm: an admin there can bless it with: stapcache bless -T testvm --admin root '?$hello'?" \
	"  and the bless -T that fixes it, runnable as printed"
is "$(stap_runs)" "$builds" "-T testvm used the module precompiled with -r $KREL (no stap run)"
no_leftovers; ok $? "the remote temp dir is removed after a refused run"

# 2. bless -T as root in the guest: appended once, atomically, owner and mode kept.
before=$(vm_ssh root 'ls -ln /etc/systemtap/authorized_probes' </dev/null | cut -d' ' -f1-4)
out=$("$STAPCACHE" bless -T testvm --admin root --params greeting "$hello" 2>&1); st=$?
is "$st" 0 "bless -T testvm --admin root succeeds"
like "$out" "^testvm: blessed [0-9a-f]{64} in /etc/systemtap/authorized_probes" "and says so"
line=$(vm_ssh root "grep $(sha256sum "$hello" | cut -c1-64) /etc/systemtap/authorized_probes" </dev/null)
like "$line" "^sha256:[0-9a-f]{64} params=greeting  # $(basename "$hello" .ko)\$" \
	"the guest's authorized_probes has the module's line with params="
after=$(vm_ssh root 'ls -ln /etc/systemtap/authorized_probes' </dev/null | cut -d' ' -f1-4)
is "$after" "$before" "its owner and mode are kept ($after)"
n=$(policy_lines)
out=$("$STAPCACHE" bless -T testvm --admin root --params greeting "$hello" 2>&1); st=$?
is "$st" 0 "blessing it again succeeds"
like "$out" "already blessed" "and says it already was"
is "$(policy_lines)" "$n" "nothing is appended twice"
is "$(vm_ssh root 'ls -a /etc/systemtap' </dev/null | grep -c '^\.authorized_probes\.\|\.lock$')" 0 \
	"no temp file or lock left next to it"
out=$("$STAPCACHE" bless -T testvm "$hello" 2>&1); st=$?
isnt "$st" 0 "bless -T as the target's own login (scuser, no sudo) fails"
like "$out" "sudo|--admin" "with the hint to use an admin login"
"$STAPCACHE" bless -T testvm --admin root "$ticker" >/dev/null 2>&1 &&
	"$STAPCACHE" bless -T testvm --admin root "$cmd" >/dev/null 2>&1 &&
	"$STAPCACHE" bless -T testvm --admin root "$tend" >/dev/null 2>&1
ok $? "the ticker and -c modules are blessed too"

# 3. Run it: the unprivileged scuser through staprun-auth, output streamed back.
out=$("$STAPCACHE" -T testvm -e "$HELLO" 2>"$T/err"); st=$?
is "$st" 0 "blessed: stapcache -T testvm runs it (status 0)"
is "$out" "hello from the guest" "its output arrives (one target: no prefix)"
no_stap_modules; ok $? "the module is unloaded afterwards"
no_leftovers; ok $? "the remote temp dir is removed"
out=$("$STAPCACHE" -T testvm -G greeting=bonjour -e "$HELLO" 2>>"$T/err"); st=$?
is "$st" 0 "-G greeting=bonjour: allowed by params= (status 0)"
is "$out" "bonjour from the guest" "the run-time global reaches the script in the guest"
out=$("$STAPCACHE" -T testvm -G bufsize=1 -e "$HELLO" 2>&1); st=$?
isnt "$st" 0 "-G of a global the script lacks fails before the upload (status $st)"
out=$("$STAPCACHE" -T testvm -c 'id -u; whoami' -e "$CMD" 2>>"$T/err"); st=$?
is "$st" 0 "-c CMD: status 0"
like "$out" "^1000\$" "CMD runs in the guest under scuser's own uid"
like "$out" "^target [1-9][0-9]*\$" "the probe sees CMD as its target"
like "$out" "^end\$" "the module ends when CMD does"
no_stap_modules; ok $? "unloaded after -c"
is "$(stap_runs)" "$builds" "no run built anything (stap ran only for the precompiles)"

# 4. Ctrl-C (SIGINT to the local stapcache): the module is unloaded, the dir removed.
start_ticker() { # start_ticker OUTFILE: stapcache -T in the background, until it ticks
	"$STAPCACHE" -T testvm -e "$TICKER" >"$1" 2>&1 &
	pid=$!
	for _ in $(seq 150); do
		grep -q '^tick' "$1" && return 0
		sleep 0.2
	done
	diag "no tick: $(cat "$1")"
	return 1
}
start_ticker "$T/int.out"; ok $? "ticker running in the guest"
like "$(vm_ssh root "grep '^stap_' /proc/modules" </dev/null)" "^stap_" "its module is loaded"
kill -INT "$pid"
wait "$pid"; st=$?
is "$st" 130 "Ctrl-C: stapcache ends with status 130"
no_stap_modules; ok $? "Ctrl-C: the module is unloaded in the guest"
no_leftovers; ok $? "Ctrl-C: the remote temp dir is removed"

# 4b. Ctrl-C of a script with an end probe (issue 23): the first Ctrl-C stops
# the probe as stap's does; the end probe's output comes back before stapcache
# exits, plain and as JSON; a re-run right after works (no "in use").
for fmt in text json; do
	opt=(); [ "$fmt" = json ] && opt=(--output json)
	"$STAPCACHE" -T testvm "${opt[@]}" -e "$TEND" >"$T/end.$fmt" 2>"$T/end.err" &
	pid=$!
	for _ in $(seq 1500); do grep -q 'tick' "$T/end.$fmt" && break; sleep 0.2; done
	kill -INT "$pid"
	wait "$pid"; st=$?
	is "$st" 130 "$fmt: Ctrl-C with an end probe: status 130"
	like "$(cat "$T/end.$fmt")" "the end: 42" "  the end probe's output came back"
	like "$(cat "$T/end.err")" "stopping the remote runs" "  one stop, not abandoned"
	! grep -q "abandoning the remote runs" "$T/end.err"; ok $? "  nothing abandoned"
	no_stap_modules; ok $? "  the module is unloaded"
done
out=$("$STAPCACHE" -T testvm --duration 1 -e "$TEND" 2>&1); st=$?
is "$st" 0 "a re-run right after the Ctrl-C works"
like "$out" "the end: 42" "  with its end probe"
no_leftovers; ok $? "  and no remote temp dir is left"

# 5. SIGKILL of the local stapcache: the connection drops, the wrapper stops
# the runner; at the latest the next connection removes what is left.
start_ticker "$T/kill.out"; ok $? "ticker running again"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
no_stap_modules; ok $? "SIGKILL: the module is unloaded in the guest"
"$STAPCACHE" -T testvm -e "$HELLO" >/dev/null 2>&1
ok $? "the next run works"
no_leftovers; ok $? "SIGKILL: no remote temp dir is left after the next connection"
like "$(cat "$T/kill.out")" "tick" "the killed run had been ticking"

done_testing
