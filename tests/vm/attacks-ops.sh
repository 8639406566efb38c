#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The registry layout sa-run-2 (the -x target and the -c command in
# `staprun-auth --list`) and the operator's commands built on it (stapcache
# ps / kill), attacked by the guest's unprivileged users scuser (1000) and
# scother (1001), in Debian's kernel under QEMU:
#  1. a -c command of control bytes, newlines, tabs, a forged record, invalid
#     UTF-8, and a very long one: --list and ps print one escaped field;
#  2. another user's run: its stapio, its watchdog and -d refuse scother
#     by the kernel and by staprun-auth itself, not only by stapcache;
#  3. a stapio that ended while the unload goes on (its .cmd held open):
#     --list no longer names its pid, and a kill does not reach the process
#     that took that pid next;
#  4. a record of the old layout (sa-run-1) and a damaged one: nothing
#     crashes, nothing is shown, -d refuses, the next run goes through.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
attack=$top_builddir/tests/vm/attack
[ -x "$attack" ] || skip_all "tests/vm/attack is not built (make check builds it)"
vm_test_setup

ticker=$(vm_compile 'probe begin { printf("ticker started\n") } probe timer.ms(200) { printf("tick\n") }')
[ -s "$ticker" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test module"; }
K=$(basename "$ticker" .ko)

vm_start || skip_all "the guest did not boot (see the console log above)"
vm_scp_to scuser "$ticker" "/tmp/$K.ko"
vm_scp_to root "$attack" /usr/local/bin/attack
vm_ssh root "chmod 755 /usr/local/bin/attack && chmod 644 /tmp/$K.ko" </dev/null
bless "$ticker"
# stapcache ps/kill from this host: testvm is scuser, testvm-other scother.
cp "$VM_KNOWN_HOSTS_YAML" "$XDG_CONFIG_HOME/stapcache/known_hosts"
sed -e 's/^- name: testvm$/- name: testvm-other/' -e 's/ssh:scuser@/ssh:scother@/' \
	"$VM_KNOWN_HOSTS_YAML" >> "$XDG_CONFIG_HOME/stapcache/known_hosts"
export HOME=$VM_HOME
unset SSH_AUTH_SOCK

# The ticker of scuser with -c "$1" (a string for the guest's printf: the
# bytes are made there), stdout in /tmp/evil.out. Waits until stapio runs.
start_with_cmd() {
	vm_ssh scuser "c=\$(printf '$1'); staprun-auth -c \"\$c\" /tmp/$K.ko > /tmp/evil.out 2>&1 &" </dev/null
	for _ in $(seq 100); do
		vm_ssh root "staprun-auth --list | grep -q '^$K	.*stapio=[1-9]'" </dev/null && return 0
		sleep 0.2
	done
	diag "not started: $(vm_ssh root "cat /tmp/evil.out; staprun-auth --list" </dev/null)"
	return 1
}
stop_ticker() {
	vm_ssh root "kill -INT \$(pidof stapio) 2>/dev/null" </dev/null
	no_stap_modules 20
}
# Bytes other than tab, newline and printable ASCII in $1: how many.
raw_bytes() { printf '%s' "$1" | LC_ALL=C tr -d '\t\n\040-\176' | wc -c; }
field() { printf '%s\n' "$1" | awk -F'\t' -v n="$2" "/^$K\t/ { print \$n }"; }

# ------------------------------------- 1. what -c can put into --list
# A command whose argument carries a terminal escape (clear screen, set
# title), BEL, a newline followed by a forged record of scother, tabs,
# backslashes, DEL and invalid UTF-8. The command itself runs (sh -c
# 'sleep 60' ignores its $0): the run goes on while we look.
evil="sh -c \\047sleep 60\\047 \\047A\\033[2J\\033]0;pwned\\007B\\nstap_forged\\tuser=scother(1001)\\tsha256:00\\tloaded=x\\tpid=1\\tstapio=1\\ttarget=0\\tcmd=\\trunning\\nC\\\\\\\\x41\\177\\377\\376D\\047"
start_with_cmd "$evil"
ok $? "a run of scuser with a hostile -c starts"
list=$(vm_ssh scother "staprun-auth --list" </dev/null)
printf '%s\n' "$list" | sed 's/^/# /'
is "$(raw_bytes "$list")" 0 "--list (as scother) prints no control byte, no byte over 0x7e"
is "$(printf '%s\n' "$list" | grep -c .)" 1 "  one line: the newline in -c forged no second record"
unlike() { ! printf '%s' "$1" | grep -q -- "$2"; ok $? "$3"; }
unlike "$list" "^stap_forged" "  no line starts with the forged record's name"
is "$(printf '%s\n' "$list" | awk -F'\t' '{ print NF }')" 9 "  nine tab-separated fields: the tabs in -c forged none"
is "$(field "$list" 2)" "user=scuser(1000)" "  the owner is scuser, from root"
is "$(field "$list" 8)" \
	"cmd=sh -c 'sleep 60' 'A\\x1b[2J\\x1b]0;pwned\\x07B\\x0astap_forged\\x09user=scother(1001)\\x09sha256:00\\x09loaded=x\\x09pid=1\\x09stapio=1\\x09target=0\\x09cmd=\\x09running\\x0aC\\x5c\\x5cx41\\x7f\\xff\\xfeD'" \
	"  the command, every such byte and backslash as \\xHH (unambiguous)"
ps=$("$STAPCACHE" ps -T testvm-other 2>&1)
printf '%s\n' "$ps" | sed 's/^/# /'
is "$(raw_bytes "$ps")" 0 "stapcache ps (scother) prints no raw control byte either"
is "$(printf '%s\n' "$ps" | grep -c "^testvm-other ")" 1 "  one run listed"
like "$ps" "^testvm-other +$K +scuser .* sh -c 'sleep 60' 'A\\\\x1b\\[2J" "  scuser's, with the escaped command"
unlike "$ps" "stap_forged +scother" "  no forged run of scother"
stop_ticker; ok $? "  stopped, unloaded"

# A very long -c (600 bytes of 0xff): the record keeps 256 of them, --list
# shows 1024 characters, the line stays whole, ps still parses it.
start_with_cmd "sh -c \\047sleep 60\\047 \\047$(printf '\\377%.0s' $(seq 600))\\047"
ok $? "a run with a 600-byte -c of 0xff starts"
list=$(vm_ssh scother "staprun-auth --list" </dev/null)
cmd=$(field "$list" 8)
is "${#cmd}" $((4 + 18 + (256 - 18) * 4)) "  --list: its first 256 bytes, escaped (cmd=, 18 printable, 238 as \\xff)" ||
	diag "cmd field: ${cmd:0:120}..."
is "$(field "$list" 9)" running "  the line ends in its state: nothing was cut"
ps=$("$STAPCACHE" ps -T testvm-other 2>&1)
like "$ps" "^testvm-other +$K +scuser .*(\\\\xff){200}" "  ps lists it"
stop_ticker; ok $? "  stopped, unloaded"

# ---------------------------- 2. another user's run: refused at the source
vm_ssh scuser "staprun-auth -c 'sleep 600' /tmp/$K.ko > /tmp/evil.out 2>&1 &" </dev/null
for _ in $(seq 100); do
	rec=$(vm_ssh scother "staprun-auth --list" </dev/null | grep "^$K	.*stapio=[1-9]") && break
	sleep 0.2
done
sio=$(sed -n 's/.*	stapio=\([0-9]*\)	.*/\1/p' <<<"$rec")
wd=$(sed -n 's/.*	pid=\([0-9]*\)	.*/\1/p' <<<"$rec")
like "$sio" "^[1-9][0-9]*$" "scuser's run: stapio $sio, watchdog $wd"
out=$(vm_ssh scother "kill -TERM $sio; echo rc=\$?" 2>&1 </dev/null)
like "$out" "rc=1" "scother: kill -TERM of scuser's stapio fails (the kernel: not its process)"
out=$(vm_ssh scother "kill -TERM $wd; kill -STOP $wd; echo rc=\$?" 2>&1 </dev/null)
like "$out" "rc=1" "scother: nor can it signal the root watchdog"
out=$(vm_ssh scother "staprun-auth -d $K; echo rc=\$?" 2>&1 </dev/null)
like "$out" "was loaded by scuser \(uid 1000\), not by you" "scother: staprun-auth -d refuses: $(head -1 <<<"$out")"
like "$out" "rc=[1-9]" "  with a failure status"
out=$("$STAPCACHE" kill -T testvm-other "$K" 2>&1); st=$?
is "$st" 4 "scother: stapcache kill refused too (status 4)"
sleep 0.5
live "$K"; ok $? "  the probe of scuser is still loaded"
vm_ssh root "kill -0 $sio" </dev/null; ok $? "  and its stapio still runs"
like "$(vm_ssh root "cat /var/log/messages" </dev/null)" \
	"refuse unload user=scother\(1001\) module=$K .*not by you" "  syslog: the refused -d"
out=$("$STAPCACHE" kill -T testvm "$K" 2>&1); st=$?
is "$st" 0 "scuser's own stapcache kill stops it: $out"
no_stap_modules; ok $? "  unloaded"

# --------------------- 3. the pid of a stapio that ended, while unloading
# scuser ends its run and holds .cmd open (attacks.sh §3): the watchdog keeps
# retrying the unload, the record stays. The ended stapio's pid is free:
# the next process may take it (here made certain with ns_last_pid). A
# listing naming that pid sent `stapcache kill` (and root's) to that process.
held=
for try in 1 2 3 4 5; do
	vm_ssh scuser "staprun-auth /tmp/$K.ko > /tmp/evil.out 2>&1 &" </dev/null
	for _ in $(seq 100); do
		rec=$(vm_ssh root "staprun-auth --list" </dev/null | grep "^$K	.*stapio=[1-9]") && break
		sleep 0.2
	done
	sio=$(sed -n 's/.*	stapio=\([0-9]*\)	.*/\1/p' <<<"$rec")
	vm_ssh scuser "attack hold-open /proc/systemtap/$K/.cmd $sio 2 14 > /tmp/hold.out 2>&1 &" </dev/null
	sleep 2
	if [ "$(vm_ssh scuser "cat /tmp/hold.out" </dev/null)" = held ] && live "$K" &&
		! vm_ssh root "kill -0 $sio" </dev/null 2>/dev/null; then
		held=1
		break
	fi
	no_stap_modules 25 >/dev/null
done
ok $((held != 1)) "stapio $sio ended, .cmd held: the module stays loaded (try $try)"
list=$(vm_ssh scuser "staprun-auth --list" </dev/null)
printf '%s\n' "$list" | sed 's/^/# /'
is "$(field "$list" 6)" "stapio=0" "  --list: stapio=0, not the ended stapio's pid $sio"
# A process of scuser takes that pid.
# (ns_last_pid last: nothing else may fork between it and the background job)
reuser=$(vm_ssh root "echo $((sio - 1)) > /proc/sys/kernel/ns_last_pid;
	attack runas 1000 1000 /bin/busybox sleep 60 >/dev/null 2>&1 & echo \$!" </dev/null)
is "$reuser" "$sio" "  a process of scuser takes the ended stapio's pid $sio"
out=$("$STAPCACHE" kill -T testvm "$K" 2>&1); st=$?
is "$st" 1 "scuser's stapcache kill: refused, nothing to TERM (status 1)"
like "$out" "has no stapio to stop right now" "  says why: $out"
vm_ssh root "kill -0 $reuser" </dev/null; ok $? "  the process at pid $reuser was not signalled"
out=$(vm_ssh scuser "staprun-auth -d $K" 2>&1 </dev/null)
like "$out" "is starting or ending \(no stapio now\)" "  -d by the owner names no pid either: $out"
unlike "$out" "kill 0" "  (no 'kill 0' advice)"
vm_ssh root "kill $reuser" </dev/null
no_stap_modules 30; ok $? "once .cmd is released, the watchdog unloads it"

# ----------------------------- 4. a record of the old layout, a damaged one
# Root's files: an upgrade leaves an sa-run-1 record (320 bytes); a broken
# disk or an old binary's write a damaged one.
plant() { # plant NAME MAGIC SIZE: a root-owned 0600 record of that size
	vm_ssh root "{ printf '%s' '$2'; head -c $(($3 - 8)) /dev/zero | tr '\\000' 'A'; } > /run/staprun-auth/$1.tmp &&
		chmod 600 /run/staprun-auth/$1.tmp && mv /run/staprun-auth/$1.tmp /run/staprun-auth/$1" </dev/null
}
plant "$K" sa-run-1 320
out=$(vm_ssh scother "staprun-auth --list; echo rc=\$?" 2>&1 </dev/null)
is "$out" "rc=0" "an old-layout record (module not loaded): --list shows nothing, status 0"
out=$(vm_ssh scuser "staprun-auth -d $K; echo rc=\$?" 2>&1 </dev/null)
like "$out" "is damaged: ask root to remove it" "  -d: refused, saying so"
vm_ssh scuser "staprun-auth -c 'sleep 600' /tmp/$K.ko > /tmp/evil.out 2>&1 &" </dev/null
for _ in $(seq 100); do
	rec=$(vm_ssh root "staprun-auth --list" </dev/null | grep "^$K	.*stapio=[1-9]") && break
	sleep 0.2
done
like "$rec" "user=scuser\(1000\).*cmd=sleep 600	running" "  the next run of it goes through (the stale record replaced)"
# Damage the live record in place (same inode): garbage of the right size.
for spec in "sa-run-2 584" "sa-run-1 320" "sa-run-2 10" "XXXXXXXX 584"; do
	set -- $spec
	vm_ssh root "{ printf '%s' '$1'; head -c $(($2 - 8)) /dev/zero | tr '\\000' 'A'; } > /tmp/junk; cat /tmp/junk > /run/staprun-auth/$K" </dev/null
	out=$(vm_ssh scother "staprun-auth --list; echo rc=\$?" 2>&1 </dev/null)
	is "$out" "rc=0" "the live record overwritten ($1, $2 bytes): --list shows nothing, no crash"
	out=$(vm_ssh scother "staprun-auth -d $K; echo rc=\$?" 2>&1 </dev/null)
	like "$out" "damaged" "  scother's -d: refused (damaged)"
	live "$K"; ok $? "  the module is still loaded"
done
out=$("$STAPCACHE" ps -T testvm 2>&1); st=$?
is "$st" 0 "stapcache ps with a damaged record: status 0"
vm_ssh root "kill -INT \$(pidof stapio)" </dev/null
no_stap_modules 20; ok $? "the run's watchdog still unloads it at the end (its record in memory)"
is "$(vm_ssh root "ls /run/staprun-auth | grep -c '^$K\$'" </dev/null)" 0 "  and removes the record"
is "$(vm_ssh root "dmesg | grep -c 'BUG\|Oops\|WARNING:\|segfault'" </dev/null)" 0 "the kernel saw no BUG, Oops or segfault"

done_testing
