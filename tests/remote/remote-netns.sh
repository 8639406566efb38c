#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Three targets that are three hosts on a network (issue 9): each real OpenSSH
# sshd in its own network namespace, reached over a veth pair through a bridge
# in a client namespace, 10.77.0.0/24, where `stapcache -T a -T b -T c` runs.
# Nothing touches the host's own network: every address and route lives in
# namespaces this test makes and deletes. One build for the three (one
# kernel), three runs at once, prefixed output, per-host temp dirs; then b's
# link goes down mid-run (a network black hole, no RST): b fails after
# --io-timeout, a and c finish, and when the link comes back (while b's runner
# still runs) b's runner is stopped and its dir removed. The runner is the stand-in of remote-lib.sh.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"
require_stap
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "no ip (apt-get install iproute2)"
. "$top_srcdir/tests/lib/remote-lib.sh"
export STAPCACHE_DIR=$top_builddir/tests/remote-cache
write_config "runtime: $RUNTIME"

# Names unique to this run (interface names: at most 15 characters).
P=sc$$
NS_C=${P}cl
HOSTS="a b c"
at_exit "for n in $NS_C ${P}ha ${P}hb ${P}hc; do ip netns del \$n 2>/dev/null; done"
ip netns add "$NS_C" 2>"$T/err" || skip_all "cannot create a network namespace: $(cat "$T/err")"
inc() { ip netns exec "$NS_C" "$@"; }
inc ip link set lo up &&
	inc ip link add br0 type bridge &&
	inc ip addr add 10.77.0.1/24 dev br0 &&
	inc ip link set br0 up || skip_all "cannot set up a bridge in a namespace"
i=10
for h in $HOSTS; do
	i=$((i + 1))
	ns=${P}h$h
	ip netns add "$ns" &&
		ip link add "${P}v$h" netns "$NS_C" type veth peer name eth0 netns "$ns" &&
		inc ip link set "${P}v$h" master br0 up &&
		ip netns exec "$ns" ip link set lo up &&
		ip netns exec "$ns" ip addr add "10.77.0.$i/24" dev eth0 &&
		ip netns exec "$ns" ip link set eth0 up ||
		skip_all "cannot connect namespace $ns by a veth pair"
	mkdir -p "$R/tmp-$h"
	SSHD_NETNS=$ns SSHD_ADDR=10.77.0.$i SSHD_TMPDIR=$R/tmp-$h start_sshd "$h" 22 ||
		skip_all "cannot start sshd in namespace $ns"
	printf '10.77.0.%s %s\n' "$i" "$(cut -d' ' -f1-2 "$R/sshd-$h/host_key.pub")" \
		>> "$HOME/.ssh/known_hosts"
	target "$h" "ssh:root@10.77.0.$i:22:auth"
done
ok 0 "three sshds in three network namespaces, bridged to a client namespace"
inc timeout 5 bash -c 'exec 3<>/dev/tcp/10.77.0.12/22' 2>/dev/null
ok $? "the client namespace reaches host b's sshd (10.77.0.12:22)"
is "$(ip -o addr show | grep -c ' 10\.77\.0\.')" 0 \
	"the host's own namespace has none of the test network's addresses"

left() { find "$R/tmp-$1" -mindepth 1 -maxdepth 1 | wc -l | tr -d ' '; }

# -p4 for the three: one kernel, one build, one path (stap runs at most once).
out=$($STAPCACHE -p4 -T a -T b -T c -e "$SCRIPT" 2>"$T/err"); st=$?
is "$st" 0 "-p4 -T a -T b -T c builds"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 1 "one path for three targets with one kernel"
SUM=$(sha256sum "$out" | cut -c1-64)

# The three at once, from the client namespace.
inc "$STAPCACHE" -T a -T b -T c --connect-timeout 10 -e "$SCRIPT" -G fake_sleep=2 \
	>"$T/out" 2>"$T/err"; st=$?
is "$st" 0 "stapcache -T a -T b -T c across the namespaces: all ran"
for h in $HOSTS; do
	like "$(cat "$T/out")" "^$h: sha256 $SUM" "$h: ran the module (same bytes), output prefixed"
	like "$(cat "$T/out")" "^$h: dir $R/tmp-$h/stapcache\\." "$h: ran on its own host (its own temp dir)"
	like "$(cat "$T/out")" "^$h: tick 1$" "$h: streamed its output"
	is "$(left "$h")" 0 "$h: its temp dir is removed"
done
is "$(grep -Ec '^[abc] +[^ ]+ +0 +[0-9.]+ +[0-9]+ +ok$' "$T/err")" 3 "summary: three ok rows"

# b's link goes down mid-run: no RST, no FIN, nothing. b fails after its
# --io-timeout; a and c are not held; when the link is back, b stops its run.
rm -f "$R/log/"*
(for i in $(seq 3000); do [ "$(cat "$R/log/started" 2>/dev/null | wc -l)" -ge 3 ] && break; sleep 0.1; done
	ip netns exec "${P}hb" ip link set eth0 down
	# Back once stapcache has given up on b, while b's runner still runs.
	for i in $(seq 3000); do grep -q '^stapcache: b: ' "$T/err" && break; sleep 0.1; done
	ip netns exec "${P}hb" ip link set eth0 up) &
cutter=$!
inc "$STAPCACHE" -T a -T b -T c --io-timeout 3 -e "$SCRIPT" -G fake_sleep=25 \
	>"$T/out" 2>"$T/err"; st=$?
is "$st" 1 "b cut off mid-run: stapcache exits 1 (one target failed)"
like "$(cat "$T/err")" "^stapcache: b: 10\\.77\\.0\\.12:22 answered nothing for 3 s" \
	"b: the error names it and says it hung"
like "$(cat "$T/err")" "^b +[^ ]+ +255 .* run$" "summary: b failed during the run"
is "$(grep -Ec '^[ac] +[^ ]+ +0 +[0-9.]+ +[0-9]+ +ok$' "$T/err")" 2 "summary: a and c ran to the end"
b_secs=$(awk '$1 == "b" { print $4 }' "$T/err")
a_secs=$(awk '$1 == "a" { print $4 }' "$T/err")
diag "b gave up after $b_secs s, a finished after $a_secs s"
awk -v b="$b_secs" -v a="$a_secs" 'BEGIN { exit !(b < a) }'
ok $? "b was given up on before a's run ended (25 s): it held nobody"
wait "$cutter"
for i in $(seq 3000); do [ "$(left b)" = 0 ] && grep -q "stopped by TERM" "$R/log/stopped" 2>/dev/null && break; sleep 0.1; done
like "$(cat "$R/log/stopped" 2>/dev/null)" "stopped by TERM" "b: link back: its runner was stopped"
is "$(left b)" 0 "b: link back: its temp dir is removed"
for h in a c; do is "$(left "$h")" 0 "$h: no temp dir left"; done

# Teardown: nothing of ours remains in the namespaces' place.
for p in $_sshd_pids; do kill "$p" 2>/dev/null; done
_sshd_pids=""
for n in "$NS_C" "${P}ha" "${P}hb" "${P}hc"; do ip netns del "$n"; done
is "$(ip netns list | grep -c "^$P")" 0 "teardown: the namespaces are deleted"
is "$(ip -o link show | grep -c "${P}v")" 0 "teardown: no veth of ours in the host's namespace"
done_testing
