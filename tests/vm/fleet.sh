#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A heterogeneous fleet: two QEMU guests booted at once, one running Debian's
# KREL (e.g. 6.1.0-57-amd64), the other the same ABI's cloud flavour
# (6.1.0-57-cloud-amd64). `stapcache -T a -T b` must build exactly twice (one
# module per distinct kernel, counted through a stap wrapper and cache stats),
# ship each target its own, and print both targets' output, prefixed with
# their names. Needs linux-headers for both kernels (./quickstart installs them).
. "$top_srcdir/tests/lib/testlib.sh"
require_stap
[ "$(id -u)" = 0 ] || skip_all "the guest build needs root (apt-get download, setuid files in the initramfs)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86 is not installed (run ./run-tests)"
auth=$top_builddir/staprun-auth/staprun-auth
[ -x "$auth" ] || skip_all "staprun-auth is not built"
KREL_B=${KREL%-amd64}-cloud-amd64
[ "$KREL_B" != "$KREL" ] || skip_all "$KREL is not an -amd64 kernel: no cloud flavour to pair it with"
[ -e "/lib/modules/$KREL_B/build/Makefile" ] ||
	skip_all "no headers for $KREL_B (apt-get install linux-headers-$KREL_B; ./quickstart does)"
make_stap_wrapper
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"

export VM_STAPRUN_AUTH=$auth VM_KERNEL_RELEASE=$KREL
. "$top_srcdir/tests/vm/lib.sh"
vm_build >&2 || skip_all "could not build guest a (see the messages above)"
# Guest b: its own output dir (its own kernel), the same keys as guest a, so
# one client key and one host key serve both.
OUT_B=$VM_OUT/fleet-cloud
mkdir -p "$OUT_B/keys"
cp -p "$VM_OUT/keys/dropbear_ed25519_host_key" "$OUT_B/keys/"
cp -p "$VM_OUT/id_ed25519" "$VM_OUT/id_ed25519.pub" "$OUT_B/"
VM_KERNEL_RELEASE=$KREL_B VM_OUT=$OUT_B vm_build >&2 ||
	skip_all "could not build guest b with $KREL_B (see the messages above)"
(. "$OUT_B/guest.env" && [ "$VM_REL" = "$KREL_B" ]); ok $? "guest b is built with $KREL_B"

# Both boot at once.
RD_B=$T/vm-b
"$VM_DIR/run-guest" start --out "$OUT_B" --rundir "$RD_B" --watch-pid $$ >/dev/null 2>"$T/boot-b" &
boot_b=$!
at_exit "\"$VM_DIR/run-guest\" stop \"$RD_B\" >/dev/null 2>&1"
vm_start || skip_all "guest a did not boot (see the console log above)"
wait "$boot_b" || { diag "$(cat "$T/boot-b")"; skip_all "guest b did not boot"; }
PORT_A=$VM_PORT PORT_B=$(cat "$RD_B/port") # (b's env file would overwrite a's VM_*)
ssh_b() { ssh -F "$RD_B/ssh_config" -l "$1" testvm "${@:2}" </dev/null; }
is "$(vm_ssh root uname -r </dev/null)" "$KREL" "guest a runs $KREL"
is "$(ssh_b root uname -r)" "$KREL_B" "guest b runs $KREL_B, at the same time"

# The operator's side: a fleet file, a HOME that knows both guests' key.
export HOME=$T/home
unset SSH_AUTH_SOCK
mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh"
cp "$VM_OUT/id_ed25519" "$HOME/.ssh/id_ed25519"
hostkey=$(cut -d' ' -f2- "$VM_OUT/known_hosts")
printf '[127.0.0.1]:%s %s\n' "$PORT_A" "$hostkey" "$PORT_B" "$hostkey" >"$HOME/.ssh/known_hosts"
cat >"$XDG_CONFIG_HOME/stapcache/known_hosts" <<EOF
- name: a
  execute: ssh:scuser@127.0.0.1:$PORT_A:auth
  kernel: $KREL
  arch: x86_64
  cpu: qemu64
  groups: [fleet]
- name: b
  execute: ssh:scuser@127.0.0.1:$PORT_B:auth
  kernel: $KREL_B
  arch: x86_64
  cpu: qemu64
  groups: [fleet]
EOF

SCRIPT='probe begin { printf("hello from the fleet\n") exit() }'
builds() { "$STAPCACHE" cache stats | awk '$1 == "builds" { print $2 }'; }

# 1. An empty cache: one build per kernel, then both targets refuse (not blessed yet).
"$STAPCACHE" -T a -T b -e "$SCRIPT" >"$T/out1" 2>"$T/err1"; st=$?
is "$(stap_runs)" 2 "stapcache -T a -T b ran stap exactly twice (one per kernel)"
is "$(builds)" 2 "cache stats says 2 builds"
isnt "$st" 0 "unblessed on both: non-zero status"
like "$(cat "$T/out1" "$T/err1")" "^a: .*not an authorized module" "a refuses it, prefixed a:"
like "$(cat "$T/out1" "$T/err1")" "^b: .*not an authorized module" "b refuses it, prefixed b:"

# 2. The two modules: -p4 -T prints one path per distinct build, in target order.
mapfile -t mods < <("$STAPCACHE" -p4 -T a -T b -e "$SCRIPT" 2>>"$T/err")
is "${#mods[@]}" 2 "-p4 -T a -T b prints two module paths"
is "$(stap_runs)" 2 "and builds nothing more"
isnt "$(sha256sum "${mods[0]}" | cut -c1-64)" "$(sha256sum "${mods[1]}" | cut -c1-64)" \
	"the two modules differ"
like "$(modinfo -F vermagic "${mods[0]}")" "^$KREL " "the first is for $KREL"
like "$(modinfo -F vermagic "${mods[1]}")" "^$KREL_B " "the second for $KREL_B"
"$STAPCACHE" bless -T a --admin root "${mods[0]}" >/dev/null 2>>"$T/err" &&
	"$STAPCACHE" bless -T b --admin root "${mods[1]}" >/dev/null 2>>"$T/err"
ok $? "each blessed on its own target (bless -T as root)"

# 3. The run: both print their output, prefixed; still two builds in all.
"$STAPCACHE" -T @fleet -e "$SCRIPT" >"$T/out" 2>"$T/err"; st=$?
is "$st" 0 "stapcache -T @fleet: status 0"
is "$(sort "$T/out")" "a: hello from the fleet
b: hello from the fleet" "both targets print their output, prefixed with their names"
like "$(cat "$T/err")" "^a +$KREL +0 " "the summary lists a, its kernel, status 0"
like "$(cat "$T/err")" "^b +$KREL_B +0 " "and b"
is "$(stap_runs)" 2 "stap ran twice in all"
is "$(builds)" 2 "cache stats still says 2 builds"
is "$(vm_ssh root "grep -c '^stap_' /proc/modules" </dev/null)$(ssh_b root "grep -c '^stap_' /proc/modules")" \
	00 "no module is left loaded on either"

# 4. Why one build is not enough: b's kernel refuses a's module (root's insmod;
# stapcache never ships it there).
scp -q -F "$RD_B/ssh_config" "${mods[0]}" root@testvm:/tmp/x.ko </dev/null
like "$(ssh_b root "insmod /tmp/x.ko" 2>&1)" "[Ii]nvalid module format|Exec format error" \
	"b's kernel refuses the module built for a"

done_testing
