#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A mixed fleet (issue 21): the Debian 12 guest (systemtap 4.8, kernel 6.1:
# testvm) and the Debian 13 guest (systemtap 5.1, kernel 6.12: testvm13,
# whose modules are built in the Debian 13 build root) booted at once, served
# from this Debian 12 client in one command. For a begin probe, a syscall
# probe and a tracepoint probe, `stapcache -T testvm -T testvm13` builds once
# per release (cache stats counts it; the second time nothing), each module
# with its own release's stap, blessed with bless -T on each, run by the
# unprivileged scuser through staprun-auth, both outputs printed, nothing
# left loaded. Each guest's staprun-auth refuses the other release's module,
# naming both versions; doctor checks both, the build root included.
#
# The modules go into a cache kept outside the clone, beside the build root
# and the Debian 13 guest (SC_TEST_FLEET13_CACHE, default
# /var/lib/stapcache-test/fleet13-cache; stapcache's keys make it safe to
# share between clones): the first tracepoint script for a kernel costs
# stap minutes (its tracequeries, kept in stap's home in the build root,
# ~/.systemtap/stapcache-buildroots), and a second run of this test builds
# nothing. The build root comes from ./quickstart --setup-only.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
ROOT=${SC_TEST_BUILDROOT:-/var/lib/stapcache-test/buildroot/trixie}
[ -f "$ROOT/STAPCACHE-BUILDROOT" ] ||
	skip_all "no Debian 13 build root at $ROOT (./quickstart --setup-only creates it)"
CACHE=${SC_TEST_FLEET13_CACHE:-/var/lib/stapcache-test/fleet13-cache}
vm_test_setup "cache-dir: $CACHE" "build-timeout: 3000"

# The Debian 13 guest: lib.sh's VM_DEBIAN=13 build, in a subshell (this
# shell's lib.sh runs the Debian 12 one).
OUT13=${VM_OUT13:-/var/lib/stapcache-test/guest/trixie}
(VM_DEBIAN=13 VM_BUILDROOT=$ROOT VM_OUT13=$OUT13 && . "$top_srcdir/tests/vm/lib.sh" &&
	vm_build) >&2 || skip_all "could not build the Debian 13 guest (see the messages above)"
REL13=$(. "$OUT13/guest.env" && echo "$VM_REL")
RE13=$(sed 's/[.+]/\\&/g' <<<"$REL13") # "6.12.118+deb13-amd64" as a regex: its + is literal

# Both boot at once.
RD13=$T/vm13
"$VM_DIR/run-guest" start --out "$OUT13" --rundir "$RD13" --watch-pid $$ >/dev/null 2>"$T/boot13" &
boot13=$!
at_exit "\"$VM_DIR/run-guest\" stop \"$RD13\" >/dev/null 2>&1"
vm_start || skip_all "the Debian 12 guest did not boot (see the console log above)"
wait "$boot13" || { diag "$(cat "$T/boot13")"; skip_all "the Debian 13 guest did not boot"; }
ssh13() { ssh -F "$RD13/ssh_config" -l "$1" testvm "${@:2}" </dev/null; }
is "$(vm_ssh root uname -r </dev/null)" "$rel" "testvm runs Debian 12's $rel"
is "$(ssh13 root uname -r)" "$REL13" "testvm13 runs Debian 13's $REL13, at the same time"
like "$(ssh13 root staprun-auth --version)" "stapio: /usr/lib/systemtap/stapio, systemtap 5\.1" \
	"testvm13's staprun-auth (this build's) sees systemtap 5.1's stapio"

# The operator: one HOME that knows both guests (each has its own keys), one
# known_hosts made by concatenating the two guests' entries.
export HOME=$T/home
unset SSH_AUTH_SOCK
mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh"
cp "$VM_OUT/id_ed25519" "$HOME/.ssh/id_ed25519"
cp "$OUT13/id_ed25519" "$HOME/.ssh/id_testvm13"
printf 'IdentityFile %s\nIdentityFile %s\n' "$HOME/.ssh/id_ed25519" "$HOME/.ssh/id_testvm13" \
	>"$HOME/.ssh/config"
cat "$VM_RUNDIR/known_hosts" "$RD13/known_hosts" >"$HOME/.ssh/known_hosts"
cat "$VM_KNOWN_HOSTS_YAML" "$RD13/known_hosts.yaml" >"$XDG_CONFIG_HOME/stapcache/known_hosts"
like "$(cat "$XDG_CONFIG_HOME/stapcache/known_hosts")" "build-root: $ROOT" \
	"the fleet file names testvm13's build root"

builds() { "$STAPCACHE" cache stats | awk '$1 == "builds" { print $2 }'; }
# uncached FILE...: how many distinct builds of `-T testvm -T testvm13` are not in the cache yet.
uncached() { "$STAPCACHE" --explain -T testvm -T testvm13 "$@" | grep -c '^# cached: no$'; }
live12() { vm_ssh root "grep -c '^stap_' /proc/modules" </dev/null; }
live13() { ssh13 root "grep -c '^stap_' /proc/modules"; }

cat >"$T/begin.stp" <<'EOF'
probe begin { printf("hello from the mixed fleet\n") exit() }
EOF
cat >"$T/syscall.stp" <<'EOF'
probe syscall.openat { if (pid() == target()) printf("openat %s\n", filename) }
EOF
cat >"$T/tracepoint.stp" <<'EOF'
probe kernel.trace("sched:sched_process_exec") { if (pid() == target()) printf("exec %s\n", execname()) }
EOF

# ------------------------------------------------ the key: one per release
X=$("$STAPCACHE" --explain -T testvm -T testvm13 "$T/begin.stp")
is "$(grep -c '^# target: ' <<<"$X")" 2 "--explain -T testvm -T testvm13: a record for each target"
K12=$(sed -n '/^# target: testvm$/,/^# target:/p' <<<"$X")
K13=$(sed -n '/^# target: testvm13, build root /,$p' <<<"$X")
like "$K12" "version 4\.8/0\.188" "  testvm's: this host's systemtap 4.8"
like "$K13" "version 5\.1/0\.192" "  testvm13's: the build root's systemtap 5.1"
like "$K13" "^/usr/src/linux-headers-$RE13\$" "  and its kernel tree, named inside the root"
like "$K13" "^/var/lib/dpkg/status sha256:" "  and its package database"
like "$K13" "^/usr/bin/x86_64-linux-gnu-gcc-14 sha256:" "  and its compiler"
isnt "$(sed -n 's/^# key: //p' <<<"$K12")" "$(sed -n 's/^# key: //p' <<<"$K13")" "  two keys"

# ------------------------------------------- build once per release, bless
for s in begin syscall tracepoint; do
	before=$(builds) want=$(uncached "$T/$s.stp")
	t0=$SECONDS
	mapfile -t mods < <("$STAPCACHE" -p4 -T testvm -T testvm13 "$T/$s.stp" 2>>"$T/build.err")
	is "${#mods[@]}" 2 "$s: -p4 -T testvm -T testvm13 gives two modules ($((SECONDS - t0)) s)" ||
		diag "$(tail -n 20 "$T/build.err")"
	is "$(($(builds) - before))" "$want" "  built exactly the $want of them that were not cached"
	like "$(strings -a "${mods[0]}" 2>/dev/null | grep -x '4\.8/0\.188')" "4\.8" "  testvm's by systemtap 4.8"
	like "$(strings -a "${mods[1]:-/dev/null}" 2>/dev/null | grep -x '5\.1/0\.192')" "5\.1" \
		"  testvm13's by systemtap 5.1"
	eval "M12_$s=\${mods[0]} M13_$s=\${mods[1]:-}"
	"$STAPCACHE" bless -T testvm --admin root "${mods[0]}" >/dev/null 2>>"$T/bless.err" &&
		"$STAPCACHE" bless -T testvm13 --admin root "${mods[1]}" >/dev/null 2>>"$T/bless.err"
	ok $? "  blessed on each target with bless -T" || diag "$(cat "$T/bless.err")"
	is "$(uncached "$T/$s.stp")" 0 "  nothing left to build for it"
done

# ---------------------------------------------------------- the runs
before=$(builds)
"$STAPCACHE" -T testvm -T testvm13 "$T/begin.stp" >"$T/out" 2>"$T/err"
is "$?" 0 "begin: stapcache -T testvm -T testvm13: status 0"
is "$(sort "$T/out")" "testvm13: hello from the mixed fleet
testvm: hello from the mixed fleet" "  both print, prefixed with their names"
like "$(cat "$T/err")" "^testvm13 +$RE13 +0 " "  the summary: testvm13 ran $REL13, status 0"

"$STAPCACHE" -T testvm -T testvm13 -c 'cat /etc/hostname' "$T/syscall.stp" >"$T/out" 2>"$T/err"
is "$?" 0 "syscall: status 0"
like "$(cat "$T/out")" '^testvm: openat "/etc/hostname"' "  testvm saw cat open /etc/hostname"
like "$(cat "$T/out")" '^testvm13: openat "/etc/hostname"' "  and testvm13"

"$STAPCACHE" -T testvm -T testvm13 -c true "$T/tracepoint.stp" >"$T/out" 2>"$T/err"
is "$?" 0 "tracepoint: status 0"
like "$(cat "$T/out")" '^testvm: exec true$' "  testvm printed the exec of true"
like "$(cat "$T/out")" '^testvm13: exec true$' "  and testvm13"
is "$(builds)" "$before" "the runs built nothing: every module came from the cache"
is "$(live12)$(live13)" 00 "no module is left loaded on either"
n=$(ssh13 root "grep -c 'allow load user=scuser(1000).*run ended (status 0), module unloaded' /var/log/messages")
[ "${n:-0}" -ge 3 ]
ok $? "testvm13's syslog: staprun-auth loaded and unloaded the three for scuser ($n)"

# --------------------------------- each refuses the other release's module
vm_scp_to scuser "$M13_begin" /tmp/m13.ko </dev/null
scp -q -F "$RD13/ssh_config" "$M12_begin" scuser@testvm:/tmp/m12.ko </dev/null
n13=$(basename "$M13_begin" .ko) n12=$(basename "$M12_begin" .ko)
vm_ssh scuser "mv /tmp/m13.ko /tmp/$n13.ko" </dev/null
ssh13 scuser "mv /tmp/m12.ko /tmp/$n12.ko"
bless "$M13_begin" # on testvm: the digest is not what refuses it
ssh13 root "echo 'sha256:$(sha256sum "$M12_begin" | cut -c1-64)  # the 4.8 module' >> /etc/systemtap/authorized_probes"
out=$(vm_ssh scuser "staprun-auth /tmp/$n13.ko" 2>&1 </dev/null)
isnt "$?" 0 "the 5.1 module on the Debian 12 guest: refused"
like "$out" "built by systemtap 5\.1, but this host's stapio \(/usr/lib/systemtap/stapio\) is systemtap 4\.8" \
	"  naming both versions"
out=$(ssh13 scuser "staprun-auth /tmp/$n12.ko" 2>&1)
isnt "$?" 0 "the 4.8 module on the Debian 13 guest: refused"
like "$out" "built by systemtap 4\.8, but this host's stapio \(/usr/lib/systemtap/stapio\) is systemtap 5\.1" \
	"  naming both versions"
is "$(live12)$(live13)" 00 "  and nothing was loaded"

# --------------------------------------------------------- doctor on both
"$STAPCACHE" doctor -T testvm -T testvm13 >"$T/doctor" 2>&1
st=$?
like "$(cat "$T/doctor")" "build root.*$ROOT: trixie, systemtap 5\.1-5, headers for $RE13" \
	"doctor: testvm13's build root"
like "$(cat "$T/doctor")" "stap in the build root.*version 5\.1/0\.192" "doctor: stap runs in it"
is "$st" 0 "doctor -T testvm -T testvm13: every check passes" || diag "$(cat "$T/doctor")"

# ------------------------------- a second client through the shared store
# The modules above reach a real redis-server (started here) as a build
# uploads them: by stapcache-store put, the helper stapcache runs after a
# build, signed with this client's builder key (they may have come from the
# persistent cache, where nothing was built this time). A second client with
# an empty cache that trusts that key gets a shared hit for each release and
# runs each script on both guests without building anything.
. "$top_srcdir/tests/lib/shared-lib.sh"
if start_redis; then
	url=redis://127.0.0.1:$REDIS_PORT
	"$STAPCACHE" key generate >"$T/pub1" 2>/dev/null
	for m in "$M12_begin" "$M13_begin" "$M12_syscall" "$M13_syscall" "$M12_tracepoint" \
		"$M13_tracepoint"; do
		d=$(dirname "$m")
		"$top_builddir/stapcache/stapcache-store" put --key "$(basename "$d")" \
			--module "$(basename "$m" .ko)" --entry "$d" --store "$url" \
			--builder-key "$XDG_CONFIG_HOME/stapcache/builder.key" || echo "upload of $m failed"
	done >"$T/put.err" 2>&1
	is "$(cat "$T/put.err")" "" "the first client's six modules are in the store"
	C2=$T/client2
	mkdir -p "$C2/config/stapcache"
	cp "$XDG_CONFIG_HOME/stapcache/known_hosts" "$C2/config/stapcache/"
	{
		grep -v '^cache-dir:' "$XDG_CONFIG_HOME/stapcache/config.yaml"
		echo "cache-dir: $C2/cache"
		echo "shared-cache: $url"
		echo "trusted-builders:"
		echo "  - $(cat "$T/pub1")"
	} >"$C2/config/stapcache/config.yaml"
	on2() { XDG_CONFIG_HOME=$C2/config STAPCACHE_CONFIG=$C2/config/stapcache/config.yaml "$STAPCACHE" "$@"; }
	on2 -T testvm -T testvm13 "$T/begin.stp" >"$T/out" 2>"$T/err"
	is "$?" 0 "second client, begin: status 0" || diag "$(tail -n 5 "$T/err")"
	is "$(sort "$T/out")" "testvm13: hello from the mixed fleet
testvm: hello from the mixed fleet" "  both print"
	on2 -T testvm -T testvm13 -c 'cat /etc/hostname' "$T/syscall.stp" >"$T/out" 2>"$T/err"
	like "$(cat "$T/out")" '^testvm13: openat "/etc/hostname"' "second client, syscall: testvm13 saw it" ||
		diag "$(tail -n 5 "$T/err")"
	on2 -T testvm -T testvm13 -c true "$T/tracepoint.stp" >"$T/out" 2>"$T/err"
	like "$(cat "$T/out")" '^testvm: exec true$' "second client, tracepoint: testvm printed the exec"
	like "$(cat "$T/out")" '^testvm13: exec true$' "  and testvm13"
	st=$(on2 cache stats)
	is "$(awk '$1 == "builds" { print $2 }' <<<"$st")" 0 "the second client built nothing"
	is "$(sed -n 's/^shared hits  *//p' <<<"$st")" 6 "  six shared hits: one a script and release"
	is "$(live12)$(live13)" 00 "  nothing left loaded"
else
	skip "redis-server did not start: no second client through the shared store"
fi

# ------------------------------------------------------------ once more
before=$(builds)
"$STAPCACHE" -T testvm -T testvm13 "$T/begin.stp" >"$T/out" 2>&1
is "$?$(($(builds) - before))" 00 "again: status 0, nothing built"

done_testing
