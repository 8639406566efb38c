#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Files that are not what they should be, in Debian's kernel under QEMU
# (issue 19), and the bugs found with them:
#  1. the policy (authorized_probes, a drop-in, their directories) as a
#     symlink, a dangling symlink, a hardlink, a FIFO, a device, a directory,
#     group-writable, not root's: `stapcache bless -T --admin root` and
#     staprun-auth (scuser's --verify) decide alike, with the same words, and
#     a refused bless changes nothing (the issue's case: root made
#     authorized_probes a symlink; the bless made it a 0777 regular file);
#  2. the module staprun-auth is handed, as scuser: a symlink, a hardlink, a
#     FIFO (with and without a writer of the blessed bytes), a device, a
#     directory: refused at once (a hardlink is the file: it loads);
#  3. the target's /tmp, where stapcache stages: another user's
#     stapcache.* symlinks, FIFOs and directories: untouched, never blocking;
#  4. 4 concurrent runs of one user: stapio's own -d at each end needs no
#     fifth slot (3 of them used to fail);
#  5. `ulimit -n` too low: said so, with how much is enough;
#  6. a target whose kernel is not the one known_hosts says: the `host
#     refresh` hint, not "upload failed: Remote channel is closed" (3 of 3).
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
vm_test_setup

hello=$(vm_compile 'probe begin { printf("hello from the guest\n") exit() }')
other=$(vm_compile 'probe begin { printf("never blessed\n") exit() }')
runs=()
for i in 1 2 3 4; do
	runs+=("$(vm_compile "probe begin { printf(\"run $i started\\n\") } probe end { printf(\"run $i ended\\n\") }")")
done
for m in "$hello" "$other" "${runs[@]}"; do
	[ -s "$m" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test modules"; }
done
H=$(basename "$hello" .ko)

vm_start || skip_all "the guest did not boot (see the console log above)"
cp "$VM_KNOWN_HOSTS_YAML" "$XDG_CONFIG_HOME/stapcache/known_hosts"
export HOME=$VM_HOME
unset SSH_AUTH_SOCK
for m in "$hello" "$other" "${runs[@]}"; do vm_scp_to scuser "$m" "/tmp/$(basename "$m")"; done
vm_ssh root "chmod 644 /tmp/stap_*.ko" </dev/null
# A command in the guest that must end: stuck is a failure, not a hung test.
gssh() { timeout -s KILL 120 ssh -F "$VM_RUNDIR/ssh_config" -l "$1" testvm "${@:2}" </dev/null; }

# -------------------------------------------- 1. the policy, bless vs staprun-auth
# The policy as the tests start it: hello and the four runs blessed.
base=
for m in "$hello" "${runs[@]}"; do
	base+="sha256:$(sha256sum "$m" | cut -c1-64)  # $(basename "$m" .ko)\\n"
done
reset_policy() {
	gssh root "rm -rf /etc/systemtap /etc/systemtap.real /etc/ap.*; \
		mkdir -p /etc/systemtap/authorized_probes.d && \
		printf '$base' > /etc/systemtap/authorized_probes && \
		printf '# a drop-in\\n' > /etc/systemtap/authorized_probes.d/10-x && \
		chmod 755 /etc/systemtap /etc/systemtap/authorized_probes.d && \
		chmod 644 /etc/systemtap/authorized_probes /etc/systemtap/authorized_probes.d/10-x && \
		chown -R root:root /etc/systemtap"
}
# Every entry under /etc that the cases touch, as lstat sees it, and the
# bytes of the regular ones: what a refused bless must leave as it was.
policy_state() {
	gssh root 'for f in /etc/systemtap /etc/systemtap/* /etc/systemtap/.[!.]* \
		/etc/systemtap/authorized_probes.d/* /etc/systemtap.real /etc/ap.*; do \
		[ -e "$f" ] || [ -L "$f" ] || continue; \
		stat -c "%n %F %a %u:%g %s %i %h %Y" "$f"; \
		[ -f "$f" ] && [ ! -L "$f" ] && sha256sum "$f"; done 2>/dev/null'
}
# The reason staprun-auth gives (as scuser), and the one the bless gives.
auth_why() {
	gssh scuser "staprun-auth --verify /tmp/$H.ko" 2>&1 |
		sed -n 's/^staprun-auth: refusing /refusing /p' | head -n 1
}
bless_other() {  # bless_other [--policy P]: $bst, $bout, and $bwhy its reason for refusing
	bout=$(timeout -s KILL 120 "$STAPCACHE" bless -T testvm --admin root "$@" "$other" 2>&1)
	bst=$?
	bwhy=$(sed -n 's/^stapcache: testvm: not blessed: \(.*\) (nothing was changed)$/\1/p' <<<"$bout")
}
# policy_case NAME SETUP [--policy P]: root changes the tree (SETUP, in the
# guest); staprun-auth and the bless then refuse alike, and nothing changes.
policy_case() {
	local name=$1 setup=$2 a b before after
	shift 2
	reset_policy
	gssh root "$setup"
	a=$(auth_why)
	before=$(policy_state)
	bless_other "$@"
	b=$bwhy
	after=$(policy_state)
	like "$a" "^refusing /etc/systemtap" "$name: staprun-auth refuses it ($a)"
	is "$b" "$a" "  the bless refuses it with the same words (status $bst)"
	is "$after" "$before" "  and changed nothing in /etc"
}
P=/etc/systemtap/authorized_probes
D=/etc/systemtap/authorized_probes.d/10-x
policy_case "the policy is a symlink to another root file (the issue's case)" \
	"cp $P /etc/ap.managed && rm $P && ln -s /etc/ap.managed $P"
like "$bout" "refusing $P: a symlink, not a regular file" "  saying so"
is "$(gssh root "stat -c '%F %a' /etc/ap.managed $P")" "$(printf 'regular file 644\nsymbolic link 777')" \
	"  the link is still a link, its target still 0644"
gssh scuser "echo 'sha256:$(printf 'e%.0s' $(seq 64))' >> $P" >/dev/null 2>&1
isnt $? 0 "  and scuser still cannot append to what it points to"
policy_case "the policy is a dangling symlink" "rm $P && ln -s /nonexistent $P"
policy_case "the policy is a FIFO (neither blocks)" "rm $P && mkfifo -m 644 $P"
policy_case "the policy is a character device" "rm $P && mknod -m 644 $P c 1 3"
policy_case "the policy is a directory" "rm $P && mkdir $P"
policy_case "the policy is group-writable" "chmod 664 $P"
policy_case "the policy is scuser's" "chown scuser $P"
policy_case "/etc/systemtap is a symlink" "mv /etc/systemtap /etc/systemtap.real && ln -s /etc/systemtap.real /etc/systemtap"
policy_case "/etc/systemtap is group-writable" "chmod 775 /etc/systemtap"
policy_case "a drop-in is a symlink (bless --policy it)" "rm $D && ln -s $P $D" --policy "$D"
policy_case "a drop-in is a FIFO (bless --policy it)" "rm $D && mkfifo -m 644 $D" --policy "$D"
policy_case "authorized_probes.d is world-writable (bless --policy a drop-in)" \
	"chmod 777 /etc/systemtap/authorized_probes.d" --policy "$D"
# A hardlink is the same regular file: both accept it. The bless renames a
# new file over its name: the other name keeps the old bytes.
reset_policy
gssh root "ln $P /etc/ap.hard"
out=$(gssh scuser "staprun-auth --verify /tmp/$H.ko" 2>&1)
is "$?" 0 "a hardlinked policy: staprun-auth reads it ($out)"
"$STAPCACHE" bless -T testvm --admin root "$other" >/dev/null 2>&1
ok $? "  and the bless appends to it"
is "$(gssh root "grep -c sha256: /etc/ap.hard; grep -c sha256: $P")" "$(printf '5\n6')" \
	"  its other name is not written through"
# A good policy: blessed, the owner and mode of the file it replaced kept.
reset_policy
gssh root "chmod 640 $P && chgrp 4 $P"
"$STAPCACHE" bless -T testvm --admin root "$other" >/dev/null 2>&1
ok $? "a trusted policy: blessed"
is "$(gssh root "stat -c '%F %a %u:%g' $P")" "regular file 640 0:4" "  its owner and mode kept"
is "$(gssh root "ls -a /etc/systemtap | grep -c '^\\.authorized_probes\\.\\|\\.lock\$'")" 0 \
	"  no temporary file or lock left next to it"
reset_policy

# -------------------------------------------- 2. the module handed to staprun-auth
# In scuser's home: the guest's /tmp is mounted nodev (no device opens there).
M=/tmp/$H.ko X=/home/scuser/x.ko
module_case() {  # module_case NAME USER SETUP WANT: staprun-auth $X as scuser
	local out st
	gssh root "rm -rf $X"
	gssh "$2" "$3"
	out=$(gssh scuser "staprun-auth $X" 2>&1)
	st=$?
	isnt "$st" 0 "$1: refused, at once (status $st)"
	like "$out" "$4" "  saying why: $(head -n 1 <<<"$out")"
	no_stap_modules; ok $? "  nothing loaded"
}
module_case "the module is a symlink to a blessed one" scuser "ln -s $M $X" \
	"is a symbolic link"
module_case "the module is a FIFO" scuser "mkfifo $X" "is a FIFO, not a module file"
module_case "the module is a FIFO a writer feeds the blessed bytes into" scuser \
	"mkfifo $X && { cat $M > $X 2>/dev/null </dev/null & echo \$! > /tmp/writer.pid; }" \
	"is a FIFO, not a module file"
gssh scuser 'kill $(cat /tmp/writer.pid) 2>/dev/null; rm -f /tmp/writer.pid'
module_case "the module is a character device" root "mknod -m 644 $X c 1 5" \
	"is a character device, not a module file"
module_case "the module is a directory" scuser "mkdir $X" "is a directory, not a module file"
gssh root "rm -rf $X"
out=$(gssh scuser "mkdir -p /tmp/h && ln -f $M /tmp/h/$H.ko && staprun-auth /tmp/h/$H.ko" 2>&1)
is "$?" 0 "a hardlink of a blessed module is that file: it loads"
is "$out" "hello from the guest" "  and runs"
gssh root "rm -rf /tmp/h"

# -------------------------------------------- 3. another user's things in the target's /tmp
gssh root "mkdir -p /home/scuser/d && echo 999999 > /home/scuser/d/pid && chown -R scuser /home/scuser/d"
gssh scother "cd /tmp && ln -s /home/scuser/d stapcache.link && mkfifo stapcache.fifo && \
	mkdir stapcache.dir && mkfifo stapcache.dir/pid && ln -s /nonexistent stapcache.dangling"
before=$(gssh root "ls -la /tmp /home/scuser/d | grep -v ' \\.\\.\\?\$'")
out=$(timeout -s KILL 120 "$STAPCACHE" -T testvm -e 'probe begin { printf("hello from the guest\n") exit() }' 2>&1)
is "$?" 0 "with another user's stapcache.* links, FIFOs and dirs in /tmp: a -T run goes through ($out)"
is "$(gssh root "ls -la /tmp /home/scuser/d | grep -v ' \\.\\.\\?\$'" | grep -v ' stapcache\.[A-Za-z0-9]\{8\}$')" \
	"$(grep -v ' stapcache\.[A-Za-z0-9]\{8\}$' <<<"$before")" \
	"  and the sweep of old dirs touched none of them, nor what a link points to"
gssh root "rm -rf /tmp/stapcache.link /tmp/stapcache.fifo /tmp/stapcache.dir /tmp/stapcache.dangling /home/scuser/d"

# -------------------------------------------- 4. four runs at once
before=$(gssh root "grep -c \"stapio's end of run\" /var/log/messages")
gssh scuser "cd /tmp; for m in $(for m in "${runs[@]}"; do printf '%s ' "$(basename "$m")"; done); do \
	( staprun-auth -c 'sleep 3' \$m > \$m.out 2>&1; echo \"status \$?\" >> \$m.out ) & done; wait"
for m in "${runs[@]}"; do
	out=$(gssh scuser "cat /tmp/$(basename "$m").out")
	like "$out" "status 0\$" "4 runs at once: $(basename "$m") ends with status 0"
	like "$out" "ended" "  after its end probe ran"
done
unlike_slots=$(gssh scuser "cat /tmp/stap_*.ko.out" | grep -c "processes running")
is "$unlike_slots" 0 "  none was refused a slot"
after=$(gssh root "grep -c \"stapio's end of run\" /var/log/messages")
is "$((after - before))" 4 "  syslog: each stapio's own -d left the unload to its run's watchdog"
no_stap_modules; ok $? "  and all four are unloaded"

# -------------------------------------------- 5. ulimit -n
# A run needs 16 descriptors and one a CPU (stapio's relay files); below
# that: refused, saying so. (At 3, the guest's ld.so cannot even open libc.)
need=$((16 + $(gssh root 'nproc --all 2>/dev/null || grep -c ^processor /proc/cpuinfo')))
for n in 4 5 $((need - 1)); do
	out=$(gssh scuser "ulimit -n $n; staprun-auth /tmp/$H.ko" 2>&1)
	isnt "$?" 0 "ulimit -n $n: refused"
	like "$out" "your limit on open files \\(ulimit -n\\) is $n, too low: a run needs at least $need .*\\(ulimit -n $need\\)" \
		"  saying so, and how much is enough"
done
for n in 4 5; do
	out=$(gssh scuser "ulimit -n $n; staprun-auth --verify /tmp/$H.ko" 2>&1)
	is "$?" 0 "ulimit -n $n: --verify (no stapio) still works: its own limit is raised"
done
no_stap_modules; ok $? "nothing was loaded by the refused runs"
out=$(gssh scuser "ulimit -n $need; staprun-auth /tmp/$H.ko" 2>&1)
is "$?" 0 "ulimit -n $need: enough"
is "$out" "hello from the guest" "  the module runs"

# -------------------------------------------- 6. a target whose kernel changed
cloud=${rel%-amd64}-cloud-amd64
if [ "$cloud" != "$rel" ] && [ -e "/lib/modules/$cloud/build/Makefile" ]; then
	sed -e 's/^- name: testvm$/- name: changed/' -e "s/^  kernel: .*/  kernel: $cloud/" \
		"$VM_KNOWN_HOSTS_YAML" >> "$XDG_CONFIG_HOME/stapcache/known_hosts"
	for i in 1 2 3; do
		out=$(timeout -s KILL 600 "$STAPCACHE" -T changed -e 'probe begin { printf("changed\n") exit() }' 2>&1)
		st=$?
		is "$st" 255 "a kernel other than known_hosts says ($i of 3): refused (255)"
		like "$out" "runs kernel $rel now, but known_hosts .* says $cloud.*stapcache host refresh changed" \
			"  with the host refresh hint"
		! grep -q "Remote channel is closed" <<<"$out"
		ok $? "  not 'upload failed: Remote channel is closed'"
	done
else
	skip "no build tree for $cloud here (quickstart installs linux-headers-$cloud)"
fi
is "$(gssh root 'ls -d /tmp/stapcache.* 2>/dev/null | wc -l')" 0 "no staging dir left in the guest"
done_testing
