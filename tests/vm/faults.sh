#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SSH faults against a real kernel (issue 12): the QEMU guest's dropbear
# behind tests/fault-proxy, the module run by the unprivileged scuser through
# the setuid staprun-auth. A connection killed (reset) or stalled mid-upload
# runs nothing: no module is ever loaded, and the next connection leaves no
# temp dir. A connection reset, stalled or corrupted mid-run leaves no module
# loaded: the wrapper sees the connection go and TERMs staprun-auth, which
# unloads it. A stalled upload whose connection stays open on the target's
# side is ended there too. And a probe that prints nothing for longer than
# --io-timeout is not mistaken for a hung target (dropbear answers the
# liveness probe).
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
command -v python3 >/dev/null 2>&1 || skip_all "no python3 (the fault proxy)"
vm_test_setup

TICKER='probe begin { printf("ticker started\n") } probe timer.ms(200) { printf("tick\n") }'
QUIET='probe timer.s(7) { printf("quiet for 7 s\n") exit() }'
ticker=$(vm_compile "$TICKER") && [ -s "$ticker" ] && quiet=$(vm_compile "$QUIET") &&
	[ -s "$quiet" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test modules"; }

vm_start || skip_all "the guest did not boot (see the console log above)"
bless "$ticker" && bless "$quiet"
ok $? "the two modules are blessed in the guest"
cp "$VM_KNOWN_HOSTS_YAML" "$XDG_CONFIG_HOME/stapcache/known_hosts"
export HOME=$VM_HOME
unset SSH_AUTH_SOCK
hostkey=$(cut -d' ' -f2- "$VM_OUT/known_hosts")
PROXY=$top_srcdir/tests/lib/fault-proxy
TMO=(--connect-timeout 10 --io-timeout 5)

# proxy NAME [FAULT...]: fault-proxy in front of the guest's SSH port; target NAME
# through it, as scuser with staprun-auth ($PPX: the proxy's pid).
proxy() {
	local name=$1 i
	shift
	"$PROXY" --to "127.0.0.1:$VM_PORT" --port-file "$T/port.$name" --log "$T/plog.$name" "$@" &
	PPX=$!
	at_exit "kill $PPX 2>/dev/null"
	for i in $(seq 3000); do [ -s "$T/port.$name" ] && break; sleep 0.1; done
	printf '[127.0.0.1]:%s %s\n' "$(cat "$T/port.$name")" "$hostkey" >>"$HOME/.ssh/known_hosts"
	printf -- '- name: %s\n  execute: ssh:scuser@127.0.0.1:%s:auth\n  kernel: %s\n  arch: x86_64\n  cpu: qemu64\n' \
		"$name" "$(cat "$T/port.$name")" "$rel" >>"$XDG_CONFIG_HOME/stapcache/known_hosts"
}
fired() { grep -q fault "$T/plog.$1"; ok $? "$1: the fault was injected"; }
leftovers() { vm_ssh root 'ls -d /tmp/stapcache.* 2>/dev/null | wc -l' </dev/null | tr -d ' '; }
# What ran in the guest: stap modules loaded now, staprun-auth processes.
loaded() { vm_ssh root "grep -c '^stap_' /proc/modules" </dev/null; }
runners() { vm_ssh root 'ps | grep -c "[s]taprun-auth"' </dev/null; }
# stapcache -T NAME ... in the background, killed if it hangs (90 s); $cpid.
launch() {
	local name=$1
	shift
	timeout -s KILL 90 "$STAPCACHE" -T "$name" "${TMO[@]}" "$@" >"$T/out.$name" 2>"$T/err.$name" &
	cpid=$!
}
finish() { # finish NAME: wait for it; $st, and the error shown
	wait "$cpid"
	st=$?
	diag "$1: status $st: $(head -c 300 "$T/err.$1")"
}
# Healthy: the next connection, a whole run of the quiet probe (7 s without
# output under --io-timeout 5: the liveness probe is answered by dropbear).
next_connection() {
	"$STAPCACHE" -T testvm "${TMO[@]}" -e "$QUIET" >"$T/next.out" 2>"$T/next.err"
}

# A healthy run through the proxy first: the byte counts the faults aim at.
proxy plain
launch plain -e "$QUIET"
finish plain
is "$st" 0 "through the proxy, no fault: the quiet probe runs"
is "$(cat "$T/out.plain")" "quiet for 7 s" \
	"7 s without output under --io-timeout 5: not taken for a hung target"
up=$(sed -n 's/.* up=\([0-9]*\) .*/\1/p' "$T/plog.plain")
size=$(stat -c %s "$quiet")
diag "a healthy session to the guest sends $up bytes up for a $size-byte module"
MID=$((up - size + size / 2))

# Killed (reset) and stalled mid-upload: nothing is loaded, nothing left.
for f in reset stall; do
	name=${f}up
	proxy "$name" --"$f" "$MID" up
	launch "$name" -e "$TICKER"
	finish "$name"
	is "$st" 255 "$name: stapcache fails (255), it does not hang"
	like "$(cat "$T/err.$name")" "^stapcache: $name: " "$name: the error names the target"
	fired "$name"
	is "$(loaded)" 0 "$name: no module is loaded in the guest"
	is "$(runners)" 0 "$name: staprun-auth never ran"
	is "$(grep -c tick "$T/out.$name")" 0 "$name: no probe output"
	next_connection
	ok $? "$name: the next connection runs"
	is "$(leftovers)" 0 "$name: no temp dir left in the guest after it"
done

# Stalled mid-upload, and the target's side held open after stapcache gave
# up (a client that vanished: its FIN never reaches the target; issue 19):
# the stage script's own bound (no byte for 2 x --io-timeout) ends head -c
# and removes the private dir, while the connection is still open.
heads() { vm_ssh root 'ps | grep -c "[h]ead -c"' </dev/null | tr -d ' '; }
proxy heldup --stall "$MID" up --hold
launch heldup -e "$TICKER"
finish heldup
is "$st" 255 "heldup: stapcache fails (255), it does not hang"
fired heldup
for i in $(seq 300); do grep -q "server held" "$T/plog.heldup" && break; sleep 0.2; done
grep -q "server held" "$T/plog.heldup"; ok $? "heldup: the proxy holds the target's side open"
for i in $(seq 300); do [ "$(leftovers)" = 0 ] && [ "$(heads)" = 0 ] && break; sleep 0.2; done
is "$(leftovers)" 0 "heldup: the target removed its private dir (and its .part) on its own"
is "$(heads)" 0 "heldup: no head -c left blocked"
! grep -q "conn 1 closed" "$T/plog.heldup"; ok $? "heldup: while the connection was still open"
is "$(runners)" 0 "heldup: staprun-auth never ran"
kill "$PPX" 2>/dev/null

# Killed (reset), stalled or corrupted mid-run, while the module ticks:
# staprun-auth is TERMed by the wrapper and unloads it.
for f in reset:USR1 stall:USR2 garbage:HUP; do
	kind=${f%%:*} sig=${f#*:}
	name=${kind}run
	proxy "$name"
	launch "$name" -e "$TICKER"
	for i in $(seq 150); do grep -q '^tick' "$T/out.$name" && break; sleep 0.2; done
	like "$(loaded)" "^[1-9]" "$name: the module is loaded and ticking"
	kill -"$sig" "$PPX"
	finish "$name"
	is "$st" 255 "$name: stapcache fails (255), it does not hang"
	like "$(cat "$T/err.$name")" "^stapcache: $name: (connection lost|.*answered nothing)" \
		"$name: the error names the target and says why"
	fired "$name"
	no_stap_modules 30; ok $? "$name: the module is unloaded in the guest"
	is "$(runners)" 0 "$name: no staprun-auth left running"
	for i in $(seq 50); do [ "$(leftovers)" = 0 ] && break; sleep 0.2; done
	is "$(leftovers)" 0 "$name: the wrapper removed its temp dir"
done

next_connection
ok $? "after all that the guest still runs probes"
done_testing
