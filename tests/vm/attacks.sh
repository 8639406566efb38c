#!/bin/bash
# staprun-auth attacked by its own users, in Debian's kernel under QEMU: one
# test per way a user once could end or stall the root side, lock other users
# out, keep a module loaded or pin root memory. The attacks are made by
# tests/vm/attack (a small static program copied into the guest) and the
# guest's busybox, as the unprivileged users scuser (1000) and scother (1001).
# After each: no stap_ module left loaded, another user can load at once,
# and syslog tells the whole story.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
attack=$top_builddir/tests/vm/attack
[ -x "$attack" ] || skip_all "tests/vm/attack is not built (make check builds it)"
vm_test_setup

# The same scripts as e2e.sh: their modules come from the cache.
hello=$(vm_compile 'global greeting = "hello" probe begin { printf("%s from the guest\n", greeting) exit() }')
ticker=$(vm_compile 'probe begin { printf("ticker started\n") } probe timer.ms(200) { printf("tick\n") }')
for m in "$hello" "$ticker"; do
	[ -s "$m" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test modules"; }
done
H=$(basename "$hello" .ko) K=$(basename "$ticker" .ko)

vm_start || skip_all "the guest did not boot (see the console log above)"
for m in "$hello" "$ticker"; do vm_scp_to scuser "$m" "/tmp/$(basename "$m")"; done
vm_scp_to root "$attack" /usr/local/bin/attack
vm_ssh root "chmod 755 /usr/local/bin/attack && chmod 644 /tmp/$H.ko /tmp/$K.ko"
bless "$hello" "params=greeting"
bless "$ticker"

syslog() { vm_ssh root "cat /var/log/messages" </dev/null; }
# "At once": a lock-out would wait its full timeout or forever; 15 s leaves room
# for a loaded CI machine (the load itself took over 3 s once).
# The other user loads hello at once: nobody is locked out.
others_ok() {
	local out start=$SECONDS
	out=$(vm_ssh scother "staprun-auth /tmp/$H.ko" 2>&1 </dev/null)
	[ $? = 0 ] && [[ "$out" == "hello from the guest"* ]] && [ $((SECONDS - start)) -le 15 ] ||
		{ diag "scother: $out"; return 1; }
}
# start_ticker USER [PREFIX...]: the ticker in the background in the guest.
start_ticker() {
	local user=$1
	shift
	vm_ssh "$user" "$* staprun-auth /tmp/$K.ko > /tmp/ticker.$user.out 2>&1 &" </dev/null
	for _ in $(seq 100); do
		live "$K" && vm_ssh root "pidof stapio" </dev/null >/dev/null && return 0
		sleep 0.2
	done
	return 1
}
stapio_pid() { vm_ssh root "pidof stapio" </dev/null; }

# ---------------------------------------------------- 1. interval timers
# Armed before exec, they used to kill the root side at a chosen moment
# (module left loaded, no record, everyone locked out). Now they are reset
# first thing in main(): the run goes through. (A CPU-time timer shorter than
# the dynamic loader's own work, under TCG, can still end the process before
# main() runs, when it holds nothing: then nothing may have been loaded.)
for spec in "real 50000" "real 130000" "real 400000" "virtual 20000" "virtual 150000" \
	"prof 20000" "prof 150000"; do
	before=$(syslog | grep -c "allow load user=scuser(1000) .*: loaded")
	out=$(vm_ssh scuser "attack itimer $spec /usr/bin/staprun-auth /tmp/$H.ko" 2>&1 </dev/null)
	rc=$?
	after=$(syslog | grep -c "allow load user=scuser(1000) .*: loaded")
	if [ "$rc" = 0 ]; then
		like "$out" "^hello from the guest" "itimer $spec armed before exec: the run goes through"
	else
		is "$after" "$before" "itimer $spec armed before exec: ended before main() (status $rc), nothing loaded"
	fi
	no_stap_modules; ok $? "  and no module is left loaded"
done
others_ok; ok $? "after the timer attacks another user loads at once"
LOG=$(syslog)
is "$(grep -c "allow load user=scuser(1000) module=/tmp/$H.ko.*: loaded" <<<"$LOG")" \
	"$(grep -c "allow load user=scuser(1000) module=/tmp/$H.ko.*run ended (status 0), module unloaded" <<<"$LOG")" \
	"  syslog: every load by scuser has its end"

# ------------------------------------------------ 2. a delegated cgroup
# As systemd delegates user@1000.service: scuser owns a cgroup subtree; its
# session runs in it and it puts the run into a child cgroup of its own.
vm_ssh root 'd=/sys/fs/cgroup/user-1000 && mkdir -p $d &&
	chown 1000:1000 $d $d/cgroup.procs $d/cgroup.threads $d/cgroup.subtree_control' </dev/null
ok $? "a cgroup subtree delegated to scuser"
vm_ssh root "cat > /tmp/cg-run.sh" <<EOF
#!/bin/sh
# as root: into scuser's cgroup, then scuser's run in a child cgroup of its own
echo \$\$ > /sys/fs/cgroup/user-1000/cgroup.procs || exit 1
exec attack runas 1000 1000 /bin/sh -c 'mkdir -p /sys/fs/cgroup/user-1000/run &&
	echo \$\$ > /sys/fs/cgroup/user-1000/run/cgroup.procs && exec staprun-auth /tmp/$K.ko'
EOF
vm_ssh root "chmod 755 /tmp/cg-run.sh" </dev/null
cg_start() {
	vm_ssh root "/tmp/cg-run.sh > /tmp/cg.out 2>&1 &" </dev/null
	for _ in $(seq 100); do
		live "$K" && vm_ssh root "pidof stapio" </dev/null >/dev/null && return 0
		sleep 0.2
	done
	diag "$(vm_ssh root "cat /tmp/cg.out" </dev/null)"
	return 1
}
cg_start; ok $? "the ticker runs from scuser's own child cgroup"
WD=$(vm_ssh root "for p in \$(pidof staprun-auth); do grep -q '^Uid:.*0.*0.*0.*0' /proc/\$p/status && echo \$p; done" </dev/null | head -n 1)
is "$(vm_ssh root "cat /proc/$WD/cgroup" </dev/null)" "0::/staprun-auth" \
	"the root side left it for a cgroup only root controls"
is "$(vm_ssh root "cat /proc/\$(pidof stapio)/cgroup" </dev/null)" "0::/user-1000/run" \
	"stapio, the user's own, went back into the user's cgroup"
vm_ssh scuser "echo 1 > /sys/fs/cgroup/user-1000/run/cgroup.kill" </dev/null
ok $? "scuser kills everything in its cgroup (cgroup.kill)"
no_stap_modules; ok $? "  the watchdog survived it and unloaded the module"
others_ok; ok $? "  another user loads at once"
cg_start; ok $? "the ticker runs again in scuser's cgroup"
vm_ssh scuser 'c=/sys/fs/cgroup/user-1000/run/cgroup.freeze
	i=0; while [ $i -lt 25 ]; do echo 1 > $c; sleep 0.2; echo 0 > $c; i=$((i+1)); done > /dev/null 2>&1 &' </dev/null
sleep 1
others_ok; ok $? "while scuser freezes and thaws its cgroup, another user's load succeeds at once"
out=$(vm_ssh scother "staprun-auth -d $K" 2>&1 </dev/null)
like "$out" "was loaded by scuser \(uid 1000\), not by you" "  and another user's -d answers at once"
sleep 5 # the freeze loop ends thawed
vm_ssh scuser "kill -TERM \$(pidof stapio)" </dev/null
no_stap_modules; ok $? "  the run ends with the module unloaded"

# --------------------------------------- 3. the module's .cmd held open
# The user ends its run with Ctrl-C (SIGINT to stapio), and grabs .cmd (the
# caller's, by design) the moment stapio lets go of it, before stapio's own
# "-d" fences it: delete_module says EAGAIN. The watchdog keeps trying until
# the file is released. (A user who opens it while an unload is under way
# trips a systemtap 4.8 runtime bug, a kernel BUG: the fence prevents that.)
held=
for try in 1 2 3 4 5; do
	start_ticker scuser || break
	out=$(vm_ssh scuser "attack hold-open /proc/systemtap/$K/.cmd \$(pidof stapio) 2 8 &
		sleep 4; grep -q '^$K ' /proc/modules && echo still-loaded" 2>&1 </dev/null)
	if [[ "$out" == held*still-loaded* ]]; then held=1; break; fi
	no_stap_modules 25 >/dev/null
done
ok $((held != 1)) ".cmd held open by the user as stapio ends (try $try): the module stays meanwhile"
no_stap_modules 30; ok $? "  once it is released, the watchdog unloads it"
LOG=$(syslog)
like "$LOG" "fail unload user=scuser\(1000\) module=$K .*cannot unload it yet" "  syslog: the failed unload attempts"
like "$LOG" "allow load user=scuser\(1000\) module=/tmp/$K.ko .*run ended \(status [0-9]+\), module unloaded" \
	"  syslog: and the unload at the end"
is "$(vm_ssh root "dmesg | grep -c 'kernel BUG\|WARNING:'" </dev/null)" 0 "  the kernel saw no BUG and no warning"
others_ok; ok $? "  another user loads at once"

# ------------------------------------- 4. SIGSTOP of the init_module child
# The short-lived loader has the caller's real uid (the runtime gives the
# module's files to it), so the caller can stop it; the parent kills it.
stopped=
for try in 1 2 3 4 5 6; do
	out=$(vm_ssh scuser "attack stop-loader staprun-auth 30 > /tmp/stop.out & sleep 0.3
		timeout 60 staprun-auth /tmp/$H.ko; echo rc=\$?; sleep 0.3; cat /tmp/stop.out" 2>&1 </dev/null)
	if [[ "$out" == *stopped* ]]; then stopped=1; break; fi
	vm_ssh scuser "pkill -f 'attack stop-loader'" </dev/null
done
ok $((stopped != 1)) "the loading child stopped by the user (try $try)"
like "$out" "the process loading $H was stopped or killed" "  the run says so"
like "$out" "rc=1" "  and ends (status 1), not hanging"
no_stap_modules; ok $? "  the module it may have loaded is unloaded"
is "$(vm_ssh root "grep -l '^State:.*T' /proc/[0-9]*/status 2>/dev/null | wc -l" </dev/null)" 0 \
	"  no stopped process is left"

# ------------------------------------------------- 5. bounded cost per user
# Six runs at once of a 63 MB module, stderr into a pipe nobody reads, under
# ulimit -v: at most four root-side processes, each bounded, all ending.
vm_ssh scuser "head -c 66060288 /dev/zero > /tmp/big_mod.ko" </dev/null
vm_ssh root "cat > /tmp/sample.sh" <<'EOF'
#!/bin/sh
# Until the runs are done (at most 120 s), the most root-side staprun-auth
# processes seen at once and the most memory (VmRSS, kB) they held together.
n=0; rss=0; end=$(($(date +%s) + 120))
while [ "$(date +%s)" -lt $end ] && [ ! -e /tmp/runs.done ]; do
	c=0; r=0
	for p in $(pidof staprun-auth); do
		s=/proc/$p/status
		grep -q '^Uid:.0.0.0.0' $s 2>/dev/null || continue
		# A process may end between the two reads: an empty VmRSS is 0, not
		# an arithmetic error that would end the sampler with no result.
		v=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' $s 2>/dev/null)
		c=$((c + 1)); r=$((r + ${v:-0}))
	done
	[ $c -gt $n ] && n=$c; [ $r -gt $rss ] && rss=$r
	sleep 0.1
done
echo "$n $rss" > /tmp/sample.out
EOF
vm_ssh root "chmod 755 /tmp/sample.sh; rm -f /tmp/sample.out /tmp/runs.done" </dev/null
start=$SECONDS
# The sampler runs in the same session (/proc/PID/status is anyone's to read).
vm_ssh scuser '/tmp/sample.sh & sampler=$!; sleep 0.3
	( ulimit -v 300000; mkfifo /tmp/full; exec 3<>/tmp/full
	head -c 65536 /dev/zero >&3
	for i in 1 2 3 4 5 6; do staprun-auth /tmp/big_mod.ko 2>&3 & done; wait )
	echo "runs-done $(date +%s)" > /tmp/runs.done; wait $sampler' </dev/null
took=$((SECONDS - start))
[ "$took" -le 90 ]; ok $? "six refused runs of a 63 MB module into a full pipe all end, none hangs (${took} s under TCG)"
read -r maxn maxrss < <(vm_ssh root "cat /tmp/sample.out" </dev/null)
[ "${maxn:-9}" -le 4 ] && [ "${maxn:-0}" -ge 1 ]
ok $? "  at most 4 root-side processes at once (saw ${maxn:-?})"
[ "${maxrss:-999999}" -le $((4 * 70 * 1024)) ]; ok $? "  their memory together at most 4 x 70 MB (saw ${maxrss:-?} kB)"
like "$(syslog)" "refuse start user=scuser\(1000\).*you already have 4 staprun-auth processes running" \
	"  the ones over the limit are refused and logged"
vm_ssh scuser "rm -f /tmp/big_mod.ko /tmp/full" </dev/null

# ------------------------------------------------------- 6. audit trail
vm_ssh scuser "attack exec-empty /usr/bin/staprun-auth" </dev/null >/dev/null 2>&1
vm_ssh scuser "staprun-auth --bogus" </dev/null >/dev/null 2>&1
LOG=$(syslog)
like "$LOG" "refuse start user=scuser\(1000\) .*refusing to run with an empty argument list" "syslog: argc 0"
like "$LOG" "refuse usage user=scuser\(1000\) .*invalid option" "syslog: a usage error"
# The root side dies anyway (root kills it here; a user cannot): the next run
# of that module, by another allowed user, reclaims the orphan and logs it.
start_ticker scuser; ok $? "ticker running (for the orphan)"
vm_ssh root 'for p in $(pidof staprun-auth); do kill -KILL $p; done; kill -KILL $(pidof stapio)' </dev/null
sleep 0.5
live "$K"; ok $? "its root side killed by root: the module is left behind"
like "$(vm_ssh scother "staprun-auth --list" </dev/null)" "^$K	user=scuser\(1000\).*	orphan$" "  --list calls it an orphan"
start_ticker scother; ok $? "  scother's run of the same module reclaims it and runs"
like "$(syslog)" "allow reclaim user=scother\(1001\) module=$K .*orphan left by scuser \(pid [0-9]+\) unloaded" \
	"  syslog: the orphan reclaimed"
vm_ssh scother "kill -INT \$(pidof stapio)" </dev/null
no_stap_modules; ok $? "  and scother's run ends unloaded"

# ----------------------------------------------------- 7. UNAME26
out=$(vm_ssh scuser "attack uname26 /usr/bin/staprun-auth /tmp/$H.ko" 2>&1 </dev/null)
is "$?" 0 "personality(UNAME26) before exec changes nothing: the run goes ahead"
like "$out" "^hello from the guest" "  with its output"
no_stap_modules; ok $? "  and is unloaded"

# ----------------------------------- 8. --duration, the watchdog's clock
# A detached run's time limit (issue 22) is kept by the root watchdog: the
# user can stop, not extend it. Through: the ticker (it never ends by itself)
# with --duration 3 ends with status 124 and is unloaded.
out=$(vm_ssh scuser "staprun-auth --duration 3 /tmp/$K.ko; echo rc=\$?" 2>&1 </dev/null)
like "$out" "^ticker started" "--duration 3: the ticker runs"
like "$out" "the run's duration of 3 s is over: stopping it" "  until the watchdog stops it, saying why"
like "$out" "rc=124$" "  status 124"
no_stap_modules; ok $? "  and it is unloaded"
like "$(syslog)" "allow load user=scuser\(1000\) .*duration of 3 s over: SIGTERM to stapio" \
	"  syslog: the duration's end"
# The user freezes its own stapio (SIGSTOP: SIGTERM cannot be handled) and
# tries to freeze the watchdog, then logs out: SIGKILL after the grace period.
vm_ssh scuser "(staprun-auth --duration 3 /tmp/$K.ko; echo rc=\$?) >/tmp/dur.out 2>&1 &" </dev/null
for _ in $(seq 300); do live "$K" && stapio_pid >/dev/null && break; sleep 0.2; done
out=$(vm_ssh scuser 'kill -STOP $(pidof stapio); echo stapio=$?; kill -STOP $(pidof staprun-auth); echo watchdog=$?' 2>&1 </dev/null)
like "$out" "stapio=0" "scuser stops its own stapio"
like "$out" "watchdog=1" "  but not the root watchdog"
for _ in $(seq 600); do vm_ssh root "grep -q '^rc=' /tmp/dur.out" </dev/null && break; sleep 0.2; done
like "$(vm_ssh root "cat /tmp/dur.out" </dev/null)" "rc=137$" \
	"  a stopped stapio is killed after the grace period (status 137)"
no_stap_modules; ok $? "  and the module unloaded"
like "$(syslog)" "allow load user=scuser\(1000\) .*duration of 3 s over: SIGKILL to stapio" \
	"  syslog: the SIGKILL"
# A timer slack of 120 s set before a fork and exec (prctl's 0 would go back
# to it): the watchdog's slack is the kernel's default all the same.
vm_ssh scuser "(attack slack 120000000000 /usr/bin/staprun-auth --duration 3 /tmp/$K.ko;
	echo rc=\$?) >/tmp/slack.out 2>&1 &" </dev/null
for _ in $(seq 300); do live "$K" && stapio_pid >/dev/null && break; sleep 0.2; done
WD=$(vm_ssh root "for p in \$(pidof staprun-auth); do grep -q '^Uid:.*0.*0.*0.*0' /proc/\$p/status && echo \$p; done" </dev/null | head -n 1)
is "$(vm_ssh root "cat /proc/$WD/timerslack_ns /proc/\$(pidof stapio)/timerslack_ns" </dev/null | tr '\n' ' ')" \
	"50000 50000 " "a 120 s timer slack set before exec: the watchdog's and stapio's are 50 us"
for _ in $(seq 600); do vm_ssh root "grep -q '^rc=' /tmp/slack.out" </dev/null && break; sleep 0.2; done
like "$(vm_ssh root "cat /tmp/slack.out" </dev/null)" "rc=124$" "  the run ends by its duration (status 124)"
no_stap_modules; ok $? "  and is unloaded"
# The caller's cgroup frozen while the root side loads: stapio's child, back
# in it before its exec, freezes there. The clock runs from the fork, and
# SIGKILL ends a frozen process: the run ends, unloaded, while still frozen.
vm_ssh root "sed -i 's|exec staprun-auth |exec staprun-auth \$DUR |' /tmp/cg-run.sh" </dev/null
vm_ssh root "DUR='--duration 3' /tmp/cg-run.sh > /tmp/cg.out 2>&1; echo rc=\$? >> /tmp/cg.out" </dev/null &
froze=
for _ in $(seq 600); do
	WD=$(vm_ssh root "for p in \$(pidof staprun-auth); do grep -q '^0::/staprun-auth\$' /proc/\$p/cgroup && echo \$p; done" </dev/null | head -n 1)
	if [ -n "$WD" ]; then
		vm_ssh scuser "echo 1 > /sys/fs/cgroup/user-1000/run/cgroup.freeze" </dev/null && froze=1
		break
	fi
	sleep 0.1
done
ok $((froze != 1)) "scuser freezes its cgroup once the root side has left it"
for _ in $(seq 900); do vm_ssh root "grep -q '^rc=' /tmp/cg.out" </dev/null && break; sleep 0.2; done
like "$(vm_ssh root "cat /tmp/cg.out" </dev/null)" "rc=137$" "  the run is killed at its duration and grace (status 137), frozen or not"
no_stap_modules; ok $? "  and unloaded while the cgroup is still frozen"
vm_ssh scuser "echo 0 > /sys/fs/cgroup/user-1000/run/cgroup.freeze" </dev/null
wait
others_ok; ok $? "after the duration attacks another user loads at once"

done_testing
