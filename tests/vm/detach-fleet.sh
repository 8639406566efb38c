#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A detached run on a fleet (issue 22): two instances of the guest booted at
# once as testvm and testvm2 (the same kernel, so one module and one run id),
# scuser through staprun-auth on both. One --detach starts both; the run ends
# by its duration on each with no client; one `stapcache logs` over both
# prints each target's lines, prefixed with its name, exactly 1..N each.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
make_stap_wrapper
vm_test_setup "stap: $T/bin/stap"

NUMBERED='global n probe timer.ms(50) { n++; printf("%d\n", n) }'
numbered=$(vm_compile "$NUMBERED") ||
	{ diag "$(cat "$T/compile.err")"; skip_all "could not compile the test module"; }

# The second instance: the same image, its own run dir and port.
RD_B=$T/vm-b
"$VM_DIR/run-guest" start --out "$VM_OUT" --rundir "$RD_B" --watch-pid $$ >/dev/null \
	2>"$T/boot-b" &
boot_b=$!
at_exit "\"$VM_DIR/run-guest\" stop \"$RD_B\" >/dev/null 2>&1"
vm_start || skip_all "the guest did not boot (see the console log above)"
wait "$boot_b" || { diag "$(cat "$T/boot-b")"; skip_all "the second guest did not boot"; }
ssh_b() { ssh -F "$RD_B/ssh_config" -l "$1" testvm "${@:2}" </dev/null; }
cp "$VM_KNOWN_HOSTS_YAML" "$XDG_CONFIG_HOME/stapcache/known_hosts"
sed -e 's/^- name: testvm$/- name: testvm2/' "$RD_B/known_hosts.yaml" \
	>>"$XDG_CONFIG_HOME/stapcache/known_hosts"
export HOME=$VM_HOME
unset SSH_AUTH_SOCK
cat "$RD_B/known_hosts" >>"$HOME/.ssh/known_hosts"
bless "$numbered" && line=$("$STAPCACHE" bless "$numbered") &&
	ssh_b root "echo '$line' >> /etc/systemtap/authorized_probes"
ok $? "the module is blessed in both guests"
name=$(basename "$numbered" .ko)
runs=/home/scuser/.cache/stapcache/runs

out=$("$STAPCACHE" -T testvm -T testvm2 --detach --duration 8 -e "$NUMBERED" \
	2>"$T/detach.err"); st=$?
printf '%s\n' "$out" "$(cat "$T/detach.err")" | sed 's/^/# /'
is "$st" 0 "one --detach on two targets: status 0"
id=$(sed -n 's/^testvm: detached //p' <<<"$out")
like "$id" "^${name}@[0-9]+\$" "testvm's line ends with the run id"
is "$(sed -n 's/^testvm2: detached //p' <<<"$out")" "$id" "testvm2's line: the same id"
for _ in $(seq 300); do
	vm_ssh scuser "test -e $runs/$id/end" </dev/null && ssh_b scuser "test -e $runs/$id/end" &&
		break
	sleep 1
done
like "$(vm_ssh scuser "cat $runs/$id/end" </dev/null)" "how=duration" "testvm: ended by its duration"
like "$(ssh_b scuser "cat $runs/$id/end")" "how=duration" "testvm2: ended by its duration"
no_stap_modules 30; ok $? "testvm: nothing loaded afterwards"
is "$(ssh_b root "grep -c '^stap_' /proc/modules")" 0 "testvm2: nothing loaded afterwards"

"$STAPCACHE" logs -T testvm -T testvm2 "$id" >"$T/logs.out" 2>"$T/logs.err"; st=$?
is "$st" 0 "one logs over both: status 0"
for t in testvm testvm2; do
	sed -n "s/^$t: //p" "$T/logs.out" >"$T/$t.lines"
	n=$(wc -l <"$T/$t.lines")
	[ "$n" -ge 20 ]
	ok $? "$t: $n lines, each prefixed with its name"
	cmp -s "$T/$t.lines" <(seq 1 "$n")
	ok $? "  exactly 1..$n, in order"
	like "$(cat "$T/logs.err")" "logs: $t: run $id ended: its duration was reached" \
		"  its end on stderr"
done
is "$(grep -Evc '^testvm2?: ' "$T/logs.out")" 0 "no line without a target's name"

done_testing
