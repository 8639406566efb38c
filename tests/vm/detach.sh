#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Detached runs (issue 22) against a real kernel, the QEMU guest as testvm
# (scuser through the setuid staprun-auth) and testvm-other (the same guest
# as scother): --detach --duration of a probe printing numbered lines, the
# client gone; the run ends on its own (its end record, the module gone);
# stapcache logs returns exactly 1..N in order, over several rotated files;
# a second logs prints nothing new; --follow; ps and kill of a second run;
# a second --detach of a running module refused; scother's logs and kill
# refused; the output dir only scuser's; stapio SIGKILLed (unloaded, 'error');
# a Ctrl-C while it starts (it started, or nothing is left); a filesystem
# that fills (stopped before it is full: 'disk-full'); kill of a stale id
# and logs --remove of an id that is not there touch no other run; the
# login's processes stopped, the root watchdog keeps the duration.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
make_stap_wrapper
vm_test_setup "stap: $T/bin/stap"
unlike() { # unlike TEXT EXTENDED-REGEX DESCRIPTION
	! printf '%s' "$1" | grep -Eq -- "$2"
	ok $? "$3"
}

# Numbered lines, 100 a second, each 4 KiB (eight 500-byte pads: stap's
# strings hold 512), so that 10 s of it fills several 1 MiB files.
PAD=$(printf '%0500d' 0)
NUMBERED="global n probe timer.ms(10) { n++; printf(\"%d %s%s%s%s%s%s%s%s\\n\", n,
 \"$PAD\", \"$PAD\", \"$PAD\", \"$PAD\", \"$PAD\", \"$PAD\", \"$PAD\", \"$PAD\") }"
LONG='probe timer.s(1) { printf("tick\n") }'
numbered=$(vm_compile "$NUMBERED") && long=$(vm_compile "$LONG") ||
	{ diag "$(cat "$T/compile.err")"; skip_all "could not compile the test modules"; }

vm_start || skip_all "the guest did not boot (see the console log above)"
cp "$VM_KNOWN_HOSTS_YAML" "$XDG_CONFIG_HOME/stapcache/known_hosts"
sed -e 's/^- name: testvm$/- name: testvm-other/' -e 's/ssh:scuser@/ssh:scother@/' \
	"$VM_KNOWN_HOSTS_YAML" >> "$XDG_CONFIG_HOME/stapcache/known_hosts"
export HOME=$VM_HOME
unset SSH_AUTH_SOCK
bless "$numbered" && bless "$long"
ok $? "the test modules are blessed in the guest"
name=$(basename "$numbered" .ko)
runs=/home/scuser/.cache/stapcache/runs

# 1. Usage: a duration is required.
out=$("$STAPCACHE" -T testvm --detach -e "$NUMBERED" 2>&1); st=$?
is "$st" 2 "--detach without --duration: a usage error"
like "$out" "needs --duration" "  saying a duration is required"

# 2. Detach: the command returns once the run runs, with its id.
out=$("$STAPCACHE" -T testvm --detach --duration 10 --rotate 1,64 -e "$NUMBERED" \
	2>"$T/detach.err"); st=$?
diag "detach: $out $(cat "$T/detach.err")"
is "$st" 0 "--detach --duration 10: status 0"
like "$out" "^testvm: detached ${name}@[0-9]+\$" "one line: the target, and the run id last"
id=${out##* }
live "$name"; ok $? "the module is loaded in the guest, with no client connected"
# The SSH server restarted while it runs (dropbear's listener, as /init runs it).
vm_ssh root 'kill $(cat /run/dropbear.pid); sleep 1; dropbear -E -s -j -k -p 22 \
	-r /etc/dropbear/dropbear_ed25519_host_key -P /run/dropbear.pid 2>/dev/null' </dev/null
for _ in $(seq 60); do vm_ssh root true </dev/null 2>/dev/null && break; sleep 1; done
live "$name"; ok $? "the SSH server restarted: the run goes on"
perms=$(vm_ssh root "stat -c '%a %U' $runs $runs/$id" </dev/null)
is "$(echo $perms)" "700 scuser 700 scuser" "its run dir and the runs dir: scuser's, mode 0700"

# 3. It ends on its own: wait on its end record (a generous ceiling).
for _ in $(seq 300); do
	vm_ssh scuser "test -e $runs/$id/end" </dev/null && break
	sleep 1
done
end=$(vm_ssh scuser "cat $runs/$id/end" </dev/null)
like "$end" "how=duration" "the run ended by its duration (end record: $(echo $end))"
# 0: the login's timer stopped it; 124: staprun-auth's --duration, a few
# seconds later, did (the timer was late, under load). Both are its duration.
like "$end" "status=(0|124)" "  with status 0 (or 124: staprun-auth's --duration stopped it)"
t0=$(vm_ssh scuser "cat $runs/$id/started" </dev/null)
t1=$(sed -n 's/^ended=//p' <<<"$end")
diag "stapio started at $t0, the run ended (module unloaded) at $t1: $((t1 - t0)) s"
[ $((t1 - t0)) -ge 9 ] && [ $((t1 - t0)) -le 14 ]
ok $? "  10 s after stapio started, to the second ($((t1 - t0)) s; generous ceiling 14 s)"
no_stap_modules 30; ok $? "nothing loaded afterwards"
files=$(vm_ssh scuser "cd $runs/$id && ls out.*" </dev/null | wc -l)
[ "$files" -ge 2 ]
ok $? "rotation (-S 1,64) wrote several files ($files)"
owners=$(vm_ssh root "stat -c '%U %a' $runs/$id/out.*" </dev/null | sort -u)
is "$owners" "scuser 600" "  each scuser's, mode 0600"

# 4. logs: exactly 1..N, in order; a second call: nothing new.
"$STAPCACHE" logs -T testvm "$id" >"$T/logs.out" 2>"$T/logs.err"; st=$?
is "$st" 0 "logs of the finished run: status 0"
n=$(wc -l <"$T/logs.out")
[ "$n" -ge 100 ]
ok $? "  it printed $n lines"
cut -d' ' -f1 "$T/logs.out" | cmp -s - <(seq 1 "$n")
ok $? "  exactly 1..$n, in order"
is "$(awk 'length($2) != 4000 { bad++ } END { print bad + 0 }' "$T/logs.out")" 0 \
	"  every line whole (its 4000-byte pad)"
like "$(cat "$T/logs.err")" "ended: its duration was reached, status (0|124)" "  and the end on stderr"
"$STAPCACHE" logs -T testvm "$id" >"$T/logs2.out" 2>/dev/null; st=$?
is "$st:$(wc -c <"$T/logs2.out")" "0:0" "a second logs: status 0, nothing new"
"$STAPCACHE" logs -T testvm --since 0 "$id" >"$T/logs3.out" 2>/dev/null
cmp -s "$T/logs.out" "$T/logs3.out"
ok $? "--since 0: all of it again, the same bytes"
"$STAPCACHE" logs --since 0 "$id" >"$T/logs4.out" 2>/dev/null
cmp -s "$T/logs.out" "$T/logs4.out"
ok $? "without -T: the targets --detach noted for the id"
# --remove of an id that is not there: logs finds the run of that start
# time (for a fleet, whose modules differ), but removes only the run asked for.
typo=stap_typo@${id#*@}
out=$("$STAPCACHE" logs -T testvm --remove "$typo" 2>&1 >/dev/null); st=$?
is "$st" 1 "logs --remove $typo (no such run; $id has its start time): status 1"
like "$out" "not removed: the run there is $id, not $typo" "  saying which run it found"
vm_ssh scuser "test -d $runs/$id" </dev/null
ok $? "  $id is still there"

# 5. A second detached run: ps, logs --follow from another client, kill.
out=$("$STAPCACHE" -T testvm --detach --duration 300 -e "$LONG" 2>&1); st=$?
is "$st" 0 "a second detached run (300 s): status 0"
id2=${out##* }
name2=$(basename "$long" .ko)
out=$("$STAPCACHE" ps -T testvm 2>&1)
printf '%s\n' "$out" | sed 's/^/# /'
like "$out" "^testvm +$name2 +scuser " "ps: the registry lists it"
like "$out" "^testvm +$id2 +running " "ps: and the detached runs list it, running"
like "$out" "^testvm +$id +ended:duration " "  the first one: ended by its duration"
"$STAPCACHE" logs -T testvm --follow "$id2" >"$T/follow.out" 2>"$T/follow.err" &
fpid=$!
for _ in $(seq 120); do grep -q tick "$T/follow.out" && break; sleep 0.5; done
like "$(cat "$T/follow.out")" "tick" "logs --follow streams the second run's lines"
out=$("$STAPCACHE" logs -T testvm-other "$id2" 2>&1); st=$?
is "$st" 1 "scother's logs of scuser's run: refused (status 1)"
like "$out" "no run $id2 of scother there" "  saying it has no such run"
unlike "$out" "tick" "  and printing none of its output"
out=$(vm_ssh scother "cat $runs/$id/out.0 2>&1 | head -c 200" </dev/null)
like "$out" "Permission denied" "scother cannot read scuser's output files in the guest"
out=$("$STAPCACHE" -T testvm --detach --duration 300 -e "$LONG" 2>&1); st=$?
isnt "$st" 0 "a second --detach of the module while it runs: refused"
like "$out" "$name2 is in use by a run of scuser" "  saying whose run holds it"
like "$out" "that module runs there already: stop that run first \\(stapcache ps -T testvm lists it" \
	"  and what to do (stop that run, or change the script)"
live "$name2"; ok $? "  the first run goes on"
out=$("$STAPCACHE" kill -T testvm-other "$id2" 2>&1); st=$?
is "$st" 4 "scother's kill of scuser's run: refused (status 4)"
live "$name2"; ok $? "  it still runs"
out=$("$STAPCACHE" kill -T testvm "$id2" 2>&1); st=$?
is "$st" 0 "scuser's kill of the run id: status 0"
like "$out" "^testvm: stopped $id2 " "  says so"
live "$name2"; isnt $? 0 "  the module is gone"
for _ in $(seq 120); do kill -0 "$fpid" 2>/dev/null || break; sleep 0.5; done
kill -0 "$fpid" 2>/dev/null; isnt $? 0 "logs --follow ended with the run"
wait "$fpid"; st=$?
is "$st" 0 "  status 0"
like "$(cat "$T/follow.err")" "ended: stopped \(stapcache kill\)" "  its end: killed"
no_stap_modules; ok $? "nothing left loaded"

# A stale id of the module (a run dir whose shell is gone without an end
# record, as after a reboot of the target) while a new run of it goes on:
# kill of the stale id stops nothing.
stale=$name2@1000000000
vm_ssh scuser "mkdir $runs/$stale && echo 999999 > $runs/$stale/pid" </dev/null
out=$("$STAPCACHE" -T testvm --detach --duration 300 -e "$LONG" 2>&1); st=$?
is "$st" 0 "a new detached run of $name2: status 0"
id6=${out##* }
out=$("$STAPCACHE" kill -T testvm "$stale" 2>&1); st=$?
is "$st" 1 "kill of a stale id of that module: status 1"
like "$out" "run $stale is not the run of $name2 there now .*nothing stopped" "  saying why"
live "$name2"; ok $? "  the current run goes on"
vm_ssh scuser "test -e $runs/$id6/how" </dev/null
isnt $? 0 "  and is not marked killed"
out=$("$STAPCACHE" kill -T testvm "$id6" 2>&1); st=$?
is "$st" 0 "kill of the current id: status 0"
vm_ssh scuser "rm -rf $runs/$stale" </dev/null
no_stap_modules 30; ok $? "nothing left loaded"

# wait_end ID: its end record, within a generous ceiling; prints it.
wait_end() {
	local _
	for _ in $(seq 300); do
		vm_ssh scuser "test -e $runs/$1/end" </dev/null && break
		sleep 1
	done
	vm_ssh scuser "head -n 3 $runs/$1/end" </dev/null
}

# 6. stapio SIGKILLed: the watchdog unloads, the record says so.
out=$("$STAPCACHE" -T testvm --detach --duration 300 -e "$LONG" 2>&1); st=$?
is "$st" 0 "a third detached run: status 0"
id3=${out##* }
vm_ssh scuser 'kill -KILL $(pidof stapio)' </dev/null
end=$(wait_end "$id3")
like "$end" "how=error" "stapio SIGKILLed: the run ended, 'error' ($(echo $end))"
like "$end" "status=137" "  status 137 (KILL)"
no_stap_modules 30; ok $? "  the module was unloaded"

# 7. Ctrl-C while it starts: either it had started (the id was printed, and
# it runs) or nothing is left (its end record says interrupted, nothing
# loaded). The Ctrl-C comes once the target made the run's dir.
before=$(vm_ssh scuser "ls $runs | grep -c '^$name2@'" </dev/null)
"$STAPCACHE" -T testvm --detach --duration 300 -e "$LONG" >"$T/int.out" 2>"$T/int.err" &
cpid=$!
for _ in $(seq 600); do
	[ "$(vm_ssh scuser "ls $runs | grep -c '^$name2@'" </dev/null)" -gt "$before" ] && break
	kill -0 "$cpid" 2>/dev/null || break
	sleep 0.2
done
kill -INT "$cpid" 2>/dev/null
wait "$cpid"; st=$?
id5=$(vm_ssh scuser "ls -t $runs | grep '^$name2@' | head -n 1" </dev/null)
if grep -q detached "$T/int.out"; then
	diag "the Ctrl-C came after the target confirmed the start: the run goes on"
	live "$name2"; ok $? "Ctrl-C after the start was confirmed: the run goes on (status $st)"
	"$STAPCACHE" kill -T testvm "$id5" >/dev/null 2>&1
else
	end=$(wait_end "$id5")
	like "$end" "how=interrupted" "Ctrl-C before the start was confirmed: interrupted ($(echo $end))"
fi
no_stap_modules 30; ok $? "  nothing left loaded"

# 8. A filesystem that fills: a 4 MiB tmpfs as scuser's runs dir. The run is
# stopped cleanly before it is full, with a record of why; nothing is lost.
vm_ssh root "mount -t tmpfs -o size=4m,mode=700,uid=1000,gid=1000 tmpfs $runs" </dev/null
ok $? "a 4 MiB filesystem mounted as scuser's runs dir"
out=$("$STAPCACHE" -T testvm --detach --duration 300 --rotate 1,64 -e "$NUMBERED" 2>&1); st=$?
is "$st" 0 "a detached run into it (300 s, 400 KiB/s): status 0"
id4=${out##* }
end=$(wait_end "$id4")
like "$end" "how=disk-full" "it was stopped because the disk was nearly full ($(echo $end))"
like "$end" "status=0" "  cleanly (status 0)"
no_stap_modules 30; ok $? "  the module was unloaded"
"$STAPCACHE" logs -T testvm "$id4" >"$T/full.out" 2>"$T/full.err"; st=$?
is "$st" 0 "logs of it: status 0"
n=$(wc -l <"$T/full.out")
cut -d' ' -f1 "$T/full.out" | cmp -s - <(seq 1 "$n")
ok $? "  exactly 1..$n, in order"
like "$(cat "$T/full.err")" "ended: stopped: its filesystem there was nearly full" "  and why it ended"
out=$("$STAPCACHE" logs -T testvm --remove "$id4" 2>&1 >/dev/null); st=$?
is "$st" 0 "logs --remove of the ended run: status 0"
vm_ssh scuser "test -e $runs/$id4" </dev/null
isnt $? 0 "  its dir is gone from the target"
vm_ssh root "umount $runs" </dev/null

# 9. Everything of scuser's stopped but stapio (the run's shell, its timer,
# their sleeps): the duration is kept anyway, by staprun-auth --duration, the
# root watchdog's own clock (the login cannot extend a run, only end it).
out=$("$STAPCACHE" -T testvm --detach --duration 5 -e "$LONG" 2>&1); st=$?
is "$st" 0 "a detached run of 5 s: status 0"
id6=${out##* }
out=$(vm_ssh scuser 'n=0; for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = $$ ] && continue
	[ "$(stat -c %u "$d" 2>/dev/null)" = "$(id -u)" ] || continue
	[ "$(cat "$d/comm" 2>/dev/null)" = stapio ] && continue
	kill -STOP "$p" 2>/dev/null && n=$((n + 1)); done; echo "stopped=$n"' </dev/null)
like "$out" "stopped=[1-9]" "scuser stops all of its processes but stapio ($out)"
no_stap_modules 60; ok $? "  the root watchdog ended the run at its duration all the same: unloaded"
vm_ssh scuser 'for d in /proc/[0-9]*; do kill -CONT "${d#/proc/}" 2>/dev/null; done' </dev/null
end=$(wait_end "$id6")
like "$end" "how=duration" "  continued, the run's shell records the duration's end ($(echo $end))"

done_testing
