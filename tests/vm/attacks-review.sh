#!/bin/bash
# staprun-auth attacked by its own users (an independent review, beyond
# tests/vm/attacks.sh), in Debian's kernel under QEMU. The attacks are made by
# tests/vm/attack-review (a small static program copied into the guest) and
# the guest's busybox, as the unprivileged users scuser (1000) and scother
# (1001). Each test asserts the behaviour SECURITY.md promises.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
attack=$top_builddir/tests/vm/attack-review
[ -x "$attack" ] || skip_all "tests/vm/attack-review is not built (make check builds it)"
vm_test_setup

ticker=$(vm_compile 'probe begin { printf("ticker started\n") } probe timer.ms(200) { printf("tick\n") }')
[ -s "$ticker" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test module"; }
K=$(basename "$ticker" .ko)

vm_start || skip_all "the guest did not boot (see the console log above)"
vm_scp_to scuser "$ticker" "/tmp/$K.ko"
vm_scp_to root "$attack" /usr/local/bin/attack-review
vm_ssh root "chmod 755 /usr/local/bin/attack-review && chmod 644 /tmp/$K.ko && dmesg -c >/dev/null"
bless "$ticker"

kernel_clean() { is "$(vm_ssh root "dmesg | grep -c 'BUG\|Oops\|WARNING:'" </dev/null)" 0 "$1"; }
# start_ticker USER: the ticker in the background in the guest.
start_ticker() {
	vm_ssh "$1" "staprun-auth /tmp/$K.ko > /tmp/ticker.$1.out 2>&1 &" </dev/null
	for _ in $(seq 100); do
		live "$K" && vm_ssh root "pidof stapio" </dev/null >/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# ------------------------------------------ 1. the fence on .cmd undone
# The unload fences /proc/systemtap/MOD/.cmd (chmod 0) because an open that
# races delete_module is a kernel BUG (systemtap 4.8). But .cmd is the
# caller's: the caller keeps an O_PATH descriptor of it (which opens nothing
# and keeps nothing busy), and once the fence is up, chmods it back through
# /proc/self/fd/N (a magic link: the fenced directory is never searched) and
# reopens it while the module goes. Stapio SIGKILLed, so that the module's
# exit does the long clean-up with .cmd still there. The fence must hold:
# no reopen gets through, and the kernel stays clean.
for try in 1 2 3; do
	start_ticker scuser || break
	out=$(vm_ssh scuser "attack-review fence-beat $K 30 > /tmp/fb.out 2>&1 & sleep 0.5
		kill -KILL \$(pidof stapio); wait; cat /tmp/fb.out" 2>&1 </dev/null)
	[[ "$out" == fenced* ]] && break
done
like "$out" "^fenced" "the user saw the fence go up on .cmd (try $try)"
like "$out" "reopened 0" "  and could not undo it: .cmd was not reopened while the module went" ||
	diag "$out"
no_stap_modules; ok $? "  the module is unloaded"
kernel_clean "  the kernel saw no BUG, Oops or warning"

# --------------------- 2. --list into a full pipe holds an orphan's record
# An orphan (its root side died: root kills it here, a user cannot) is for
# the next allowed run to reclaim. --list takes a shared lock on each record
# to tell an orphan from a live run, and keeps it while it writes the line to
# the caller's stdout: a pipe nobody reads holds it for 2 s, and four of them
# back to back (the caller's four slots) hold it for as long as the caller
# likes. Another user, allowed to run the module, must still get it at once.
start_ticker scuser; ok $? "ticker running (for the orphan)"
vm_ssh root 'for p in $(pidof staprun-auth); do kill -KILL $p; done; kill -KILL $(pidof stapio)' </dev/null
sleep 0.5
like "$(vm_ssh scother "staprun-auth --list" </dev/null)" "^$K	user=scuser\(1000\).*	orphan$" "  --list calls it an orphan"
vm_ssh scuser "rm -f /tmp/full /tmp/lh.pids; mkfifo /tmp/full
	(exec 3<>/tmp/full; head -c 65536 /dev/zero >&3; exec sleep 60) >/dev/null 2>&1 & echo \$! >> /tmp/lh.pids
	sleep 0.5; for i in 1 2 3 4; do attack-review list-hold /tmp/full 12 >/dev/null 2>&1 & echo \$! >> /tmp/lh.pids; sleep 0.5; done" </dev/null
sleep 1
out=$(vm_ssh scother "staprun-auth /tmp/$K.ko > /tmp/reclaim.out 2>&1 & sleep 8; cat /tmp/reclaim.out; kill -INT \$(pidof stapio)" 2>&1 </dev/null)
[[ "$out" != *"is in use by"* ]]
ok $? "while scuser lists into a pipe nobody reads, scother still reclaims the orphan" || diag "$out"
like "$out" "ticker started" "  and runs it"
vm_ssh scuser 'kill $(cat /tmp/lh.pids); rm -f /tmp/full /tmp/lh.pids' </dev/null
vm_ssh root "sleep 2; for n in \$(grep -o '^stap_[^ ]*' /proc/modules); do staprun-auth -d \$n; done" </dev/null >/dev/null 2>&1
no_stap_modules 20; ok $? "  no module is left loaded"

# ------------------------------------------- 3. a user namespace of one's own
# In a user namespace the setuid bit is not honoured, but "unshare -r" maps
# the caller to uid 0 there: geteuid() says 0, so the effective uid check
# lets it through; only setgroups(2), denied in that namespace, stops it (a
# system with newuidmap/newgidmap allows setgroups there too). And syslog
# names the caller root(0). It must be refused as not setuid (or as a user
# namespace) before it acts as root, and logged as the real user.
if vm_ssh scuser "unshare -Ur true" </dev/null 2>/dev/null; then
	out=$(vm_ssh scuser "unshare -Ur staprun-auth --verify /tmp/$K.ko; echo rc=\$?" 2>&1 </dev/null)
	like "$out" "rc=1" "unshare -Ur: refused"
	like "$out" "not installed setuid root|user namespace" "  as not setuid (or as a user namespace), not half-way as root" ||
		diag "$out"
	[[ "$(vm_ssh root "tail -n 5 /var/log/messages" </dev/null)" != *"user=root(0)"* ]]
	ok $? "  and syslog does not name root as the caller"
else
	skip "unprivileged user namespaces are off in the guest"
fi

done_testing
