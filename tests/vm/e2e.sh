#!/bin/bash
# End to end in a real kernel: modules precompiled on the host with stapcache,
# copied into the QEMU guest, blessed by root, and run by an unprivileged user
# through the setuid staprun-auth. Every run must leave no stap_ module loaded.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
vm_test_setup
is "$rel" "$KREL" "the guest runs the kernel the headers are for ($KREL)"

# Precompile on the host (stapcache -p4 -r RELEASE).
hello=$(vm_compile 'global greeting = "hello" probe begin { printf("%s from the guest\n", greeting) exit() }')
ticker=$(vm_compile 'probe begin { printf("ticker started\n") } probe timer.ms(200) { printf("tick\n") }')
cmd=$(vm_compile 'probe begin { printf("target %d\n", target()) } probe end { printf("end\n") }')
other=$(vm_compile 'probe begin { printf("never blessed\n") exit() }')
for m in "$hello" "$ticker" "$cmd" "$other"; do
	[ -s "$m" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test modules"; }
done
H=$(basename "$hello" .ko) K=$(basename "$ticker" .ko) C=$(basename "$cmd" .ko) O=$(basename "$other" .ko)

vm_start || skip_all "the guest did not boot (see the console log above)"
for m in "$hello" "$ticker" "$cmd" "$other"; do
	vm_scp_to scuser "$m" "/tmp/$(basename "$m")"
done
bless "$hello" "params=greeting"
bless "$ticker"
bless "$cmd"


# 1. A blessed module: output, exit 0, unloaded afterwards.
out=$(vm_ssh scuser "staprun-auth /tmp/$H.ko" 2>&1); rc=$?
is "$rc" 0 "a blessed module runs as the unprivileged user"
like "$out" "^hello from the guest" "its probe output arrives"
no_stap_modules; ok $? "and it is unloaded afterwards"
like "$(vm_ssh root "grep staprun-auth /var/log/messages" </dev/null)" "$H" "the load was logged to syslog"

# 2. Unblessed and modified modules are refused, nothing loaded.
out=$(vm_ssh scuser "staprun-auth /tmp/$O.ko" 2>&1); rc=$?
isnt "$rc" 0 "an unblessed module is refused"
like "$out" "is not an authorized module" "with the reason"
no_stap_modules; ok $? "and nothing was loaded"
vm_ssh scuser "mkdir -p /tmp/mod && cp /tmp/$H.ko /tmp/mod/$H.ko && printf x >> /tmp/mod/$H.ko"
out=$(vm_ssh scuser "staprun-auth /tmp/mod/$H.ko" 2>&1); rc=$?
isnt "$rc" 0 "a module modified after blessing is refused"
like "$out" "is not an authorized module" "because its digest is not blessed"
no_stap_modules; ok $? "and nothing was loaded"

# 3. A run-time global reaches the script.
out=$(vm_ssh scuser "staprun-auth /tmp/$H.ko greeting=bonjour" 2>&1); rc=$?
is "$rc" 0 "a run-time global is accepted"
like "$out" "^bonjour from the guest" "and shows up in the output"

# 4. -c runs the command as the user.
out=$(vm_ssh scuser "staprun-auth -c 'id -u' /tmp/$C.ko" 2>&1); rc=$?
is "$rc" 0 "-c CMD runs"
like "$out" "^1000\$" "CMD runs under the user's own uid"
like "$out" "^target [1-9][0-9]*\$" "and the probe sees it as its target"
no_stap_modules; ok $? "unloaded after -c"

# 5. However the run ends, the module is unloaded.
start_ticker() {  # in the background in the guest; waits until it runs
	vm_ssh scuser "staprun-auth /tmp/$K.ko > /tmp/ticker.out 2>&1 &" </dev/null
	for _ in $(seq 50); do live "$K" && vm_ssh root "pidof stapio" </dev/null >/dev/null && return 0; sleep 0.2; done
	return 1
}
for sig in INT TERM KILL; do
	start_ticker; ok $? "ticker running (for SIG$sig to stapio)"
	vm_ssh root "kill -$sig \$(pidof stapio)" </dev/null
	no_stap_modules; ok $? "SIG$sig to stapio: the module is unloaded"
done
like "$(vm_ssh scuser "cat /tmp/ticker.out" </dev/null)" "tick" "the ticker did tick"

# The SSH connection drops (the client dies): the session's terminal hangs up.
ssh -tt -F "$VM_RUNDIR/ssh_config" -l scuser testvm "staprun-auth /tmp/$K.ko" > "$T/drop.out" 2>&1 </dev/null &
sshpid=$!
for _ in $(seq 50); do live "$K" && break; sleep 0.2; done
live "$K"; ok $? "ticker running over an interactive SSH session"
kill -KILL "$sshpid"; wait "$sshpid" 2>/dev/null
no_stap_modules; ok $? "dropped SSH connection: the module is unloaded"

# 6. -d: another user cannot unload it; a non-stap module cannot be unloaded.
start_ticker; ok $? "ticker running (for -d)"
out=$(vm_ssh scother "staprun-auth -d $K" 2>&1); rc=$?
isnt "$rc" 0 "another user's -d is refused"
like "$out" "$K" "and names the module"
live "$K"; ok $? "the module is still loaded"
# The watchdog that will unload it is root through and through: its user cannot stop or kill it.
out=$(vm_ssh scuser 'for p in $(pidof staprun-auth); do kill -STOP $p || kill -KILL $p; done' 2>&1)
like "$out" "[Oo]peration not permitted|not permitted" "the user cannot signal the watchdog"
like "$(vm_ssh root 'grep ^Uid: /proc/$(pidof staprun-auth)/status' </dev/null)" "^Uid:\s+0\s+0\s+0\s+0" \
	"the watchdog runs with every uid 0"
vm_ssh root "kill -TERM \$(pidof stapio)" </dev/null
no_stap_modules; ok $? "and is unloaded when its run ends"
out=$(vm_ssh scuser "staprun-auth -d virtio_net" 2>&1); rc=$?
isnt "$rc" 0 "-d of a module staprun-auth did not load is refused"
live virtio_net; ok $? "virtio_net is still loaded"

# A relay buffer above the entry's bufsize= (default 64 MiB) is refused.
out=$(vm_ssh scuser "staprun-auth -b 65 /tmp/$H.ko" 2>&1); rc=$?
isnt "$rc" 0 "-b beyond the allowed buffer size is refused"
like "$out" "bufsize|buffer" "and says why"
no_stap_modules; ok $? "and nothing was loaded"

# 7. Baseline: root runs systemtap's own staprun on the same module.
out=$(vm_ssh root "staprun /tmp/$H.ko" 2>&1); rc=$?
is "$rc" 0 "root's staprun runs the same module"
like "$out" "^hello from the guest" "with the same output"
no_stap_modules; ok $? "and unloads it"

done_testing
