#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# README.md's tour, run as written (issue 23, item 2): the commands of the sh
# block under "## A tour", read from the README itself, each run by bash in a
# copy of etc/samples/ against the QEMU guest, named web1 as in the README
# (scuser through the setuid staprun-auth; root is the admin). What a reader
# would do by hand is all the test does between the lines:
# - stap_3f2a….ko is the name the last -p4 printed, stap_3f2a… the module
#   the last `ps` listed;
# - a line ending in & runs in the background, and the next line waits until
#   ps lists its run (a reader waits for the first tick);
# - a run refused because its module is not blessed must say "an admin there
#   can bless it with: stapcache bless -T …"; that line is run as printed,
#   then the refused line again (the README says to).
# Each line's output is then checked for what its comment promises.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
command -v python3 >/dev/null || skip_all "python3 is not installed (it checks the JSON)"
vm_test_setup

# The block: commands without their comments, comment-only lines dropped.
awk '/^## A tour$/ { t = 1 } t && /^```sh$/ { b = 1; next } b && /^```$/ { exit } b' \
	"$top_srcdir/README.md" | sed -E -e '/^ *#/d' -e 's/ {2,}#.*$//' >"$T/tour"
mapfile -t lines <"$T/tour"
is "${#lines[@]}" 11 "README.md's tour has its 11 commands"
for l in "${lines[@]}"; do diag "tour: $l"; done

vm_start || skip_all "the guest did not boot (see the console log above)"
sed -e 's/^- name: testvm$/- name: web1/' "$VM_KNOWN_HOSTS_YAML" \
	>"$XDG_CONFIG_HOME/stapcache/known_hosts"
grep -q '^- name: web1$' "$XDG_CONFIG_HOME/stapcache/known_hosts"
ok $? "the guest is the target web1"
# stap's per-kernel tracepoint data (~/.systemtap) stays the suite's shared
# one under the guest's HOME: the one-liners' first build is not this test's.
mkdir -p "$HOME/.systemtap"
[ -e "$VM_HOME/.systemtap" ] || ln -s "$HOME/.systemtap" "$VM_HOME/.systemtap"
export HOME=$VM_HOME PATH=$(dirname "$STAPCACHE"):$PATH
unset SSH_AUTH_SOCK
S=$T/samples
mkdir -p "$S" && cp "$top_srcdir"/etc/samples/*.stp "$S/"

HINT='an admin there can bless it with: '
last_ko='' last_module='' last_id='' refusals=0 n=0
# blessed ERRFILE: when ERRFILE says the run was refused for want of a
# blessing, run the bless line it prints (as the admin would) and succeed.
blessed() {
	local hint
	hint=$(sed -n "s/^.*$HINT//p" "$1" | head -n 1)
	[ -n "$hint" ] || return 1
	refusals=$((refusals + 1))
	diag "refused, as the README says: $(grep -v -e "$HINT" -e 'cache miss' "$1" | tail -n 1)"
	(cd "$S" && bash -c "$hint") >"$1.bless" 2>&1 </dev/null ||
		diag "the printed bless line failed: $(cat "$1.bless")"
}
# run LINE OUT: LINE by bash in $S, stdout to OUT, stderr to OUT.err; st its
# status. A refusal for want of a blessing is followed as the README says.
run() {
	(cd "$S" && bash -c "$1") >"$2" 2>"$2.err" </dev/null
	st=$?
	if [ "$st" != 0 ] && blessed "$2.err"; then
		(cd "$S" && bash -c "$1") >"$2" 2>"$2.err" </dev/null
		st=$?
	fi
	[ "$st" = 0 ] || diag "$(tail -n 5 "$2.err")"
}
# start LINE OUT: LINE in the background (bg its pid).
start() {
	(cd "$S" && bash -c "$1") >"$2" 2>"$2.err" </dev/null &
	bg=$!
}
# The run ps lists on web1 (module name), waiting up to 300 s for one, or
# until the background job $1 ends.
wait_listed() {
	local i
	for i in $(seq 600); do
		last_module=$(stapcache ps -T web1 2>/dev/null | awk '$1 == "web1" { print $2; exit }')
		[ -n "$last_module" ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

bg=''
for line in "${lines[@]}"; do
	n=$((n + 1))
	o=$T/line.$n
	line=${line//stap_3f2a….ko/$last_ko}
	line=${line//stap_3f2a…@1765000000/$last_id}
	line=${line//stap_3f2a…/$last_module}
	case $line in
	*' &')
		# A long run in the background; once refused, blessed and started again.
		start "${line% &}" "$o"
		if ! wait_listed "$bg"; then
			wait "$bg"
			blessed "$o.err" && start "${line% &}" "$o" && wait_listed "$bg"
		fi
		ok $? "$n: $line: ps lists the run (${last_module:-none})"
		ticker_out=$o
		continue
		;;
	esac
	run "$line" "$o"
	is "$st" 0 "$n: $line: status 0"
	case $line in
	*' -p4 '*)
		last_ko=$(basename "$(cat "$o")")
		like "$last_ko" '^stap_[0-9a-f]+\.ko$' "  prints the module's path"
		;;
	*'bless '*)
		sum=$(sha256sum <"$(cat "$T/line.1")" | cut -c1-64)
		vm_ssh root "grep -c '$sum' /etc/systemtap/authorized_probes" </dev/null >"$o.n"
		is "$(cat "$o.n")" 1 "  the module is blessed once in the guest's authorized_probes"
		;;
	*'-G greeting=bonjour'*)
		like "$(cat "$o")" '^bonjour from the kernel: [0-9]+ timer ticks in one second$' \
			"  the output streamed back, with the -G value"
		;;
	*' ps '*)
		like "$(cat "$o")" "^web1 +$last_module +scuser +[0-9T:-]+Z .* running " \
			"  lists scuser's running ticker"
		;;
	*' kill '*)
		wait "$bg"
		is "$?" 0 "  the background run ends with status 0"
		like "$(cat "$ticker_out")" '^ticker: [0-9]+ ticks$' \
			"  its end probe's line arrived"
		;;
	*'--detach '*)
		like "$(cat "$o")" '^web1: detached stap_[0-9a-f]+@[0-9]+$' \
			"  one line, the run id last"
		last_id=$(awk '{ print $NF; exit }' "$o")
		;;
	*' logs '*)
		like "$(head -n 1 "$o")" '^tick 1$' "  the run's output from its first line"
		like "$(cat "$o")" '^ticker: [0-9]+ ticks$' "  to its end probe's line"
		like "$(cat "$o.err")" 'its duration was reached' "  and how it ended, on stderr"
		;;
	*' doctor '*)
		like "$(cat "$o")" '✓' "  with ✓ lines"
		;;
	*'--output json'*)
		python3 - "$o" >"$o.py" 2>&1 <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
ev = [o for o in objs if o["type"] == "event"]
assert ev and all("read" in e["probe"] for e in ev), objs
assert [o for o in objs if o["type"] == "summary"], objs
EOF
		ok $? "  one JSON object a line: events and a summary"
		[ -s "$o.py" ] && diag "$(cat "$o.py")"
		;;
	*' trace '*)
		like "$(cat "$o")" ' cat +syscall\.openat +open "/etc/hostname"$' "  the event of -c's cat"
		;;
	esac
done
is "$refusals" 3 "the three new probes (ticker.stp, each one-liner) were refused with the bless line"
no_stap_modules
ok $? "nothing is left loaded in the guest"
done_testing
