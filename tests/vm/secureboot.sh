#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Secure Boot guest (issue 20), booted once for everything here: OVMF
# with Secure Boot on and the test bed's module-signing key in db
# (tests/vm/build-sb), Debian's kernel locked down and enforcing module
# signatures; the plain guest booted beside it for the fleet.
#
# K. The kernel as it is, as root: its lockdown and Secure Boot lines; real
#    stap modules signed on the host by common/modsign.c (modsign-tool) or
#    not, loaded with insmod and with systemtap's staprun: only the one
#    signed by the enrolled key loads.
# Then the product, as the unprivileged scuser through staprun-auth, both
# guests added as known_hosts targets with `stapcache host add`:
#  1. host add records what each guest demands (lockdown, sig_enforce,
#     Secure Boot) and the certificates the Secure Boot guest's db holds.
#  2. doctor on both, with no signer, then with the enrolled one.
#  3. -T to the Secure Boot guest with no signed variant: refused before
#     connecting, naming the enforcement and the bless --sign command.
#  4. An unsigned module that reaches staprun-auth anyway: the kernel's
#     refusal in one clear line and in syslog, nothing left loaded.
#  5. bless --sign, then a run that prints; a hit needs neither stap nor the
#     key; the signature is byte for byte sign-file's.
#  6. Signed by a key not enrolled, a flipped signature byte, a renamed file:
#     refused, nothing left loaded.
#  7. Ctrl-C and a lost link (SIGKILL of stapcache) still unload; ps
#     (--list) and -d of an orphan work under lockdown.
#  8. A fleet -T testvm -T testvm-sb: one build for the one kernel, the plain
#     guest gets the unsigned module, the Secure Boot guest the signed one.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
make_stap_wrapper
tool=$top_builddir/tests/vm/modsign-tool
[ -x "$tool" ] || skip_all "$tool is not built (make)"
export VM_SECURE_BOOT=1 VM_MODSIGN_TOOL=$tool
vm_test_setup "stap: $T/bin/stap"

HELLO='probe begin { println("hello from a locked-down kernel") exit() }'
HELLO2='probe begin { println("signed by a stranger") exit() }'
TICKER='probe begin { println("ticker started") } probe timer.ms(200) { println("tick") }'
FLEET='probe begin { println("hello from the fleet") exit() }'
hello=$("$STAPCACHE" -p4 -r "$rel" -e "$HELLO" 2>>"$T/compile.err")
[ -s "$hello" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test module"; }
ticker=$("$STAPCACHE" -p4 -r "$rel" -e "$TICKER" 2>>"$T/compile.err")
hello2=$("$STAPCACHE" -p4 -r "$rel" -e "$HELLO2" 2>>"$T/compile.err")
[ -s "$ticker" ] && [ -s "$hello2" ] ||
	{ diag "$(cat "$T/compile.err")"; skip_all "could not compile the test modules"; }
kname=sc_sb_hello
kmod=$("$top_srcdir/tests/fakes/auth-module.sh" "$kname" \
	'probe begin { println("hello from a signed module") exit() }') ||
	skip_all "could not compile the test module"
builds=$(stap_runs)

# The plain guest boots beside the Secure Boot one (the same keys, its own run dir).
RD_P=$T/vm-plain
"$VM_DIR/run-guest" start --out "$VM_OUT" --rundir "$RD_P" --watch-pid $$ >/dev/null 2>"$T/boot-plain" &
boot_plain=$!
at_exit "\"$VM_DIR/run-guest\" stop \"$RD_P\" >/dev/null 2>&1"
t0=$(date +%s)
vm_start || skip_all "the Secure Boot guest did not boot (see the console log above)"
diag "Secure Boot guest: boot to SSH ${VM_BOOT_SECONDS:-?} s"
wait "$boot_plain" || { diag "$(cat "$T/boot-plain")"; skip_all "the plain guest did not boot"; }
PORT_SB=$VM_PORT PORT_P=$(cat "$RD_P/port")
key=$VM_SIGNING_KEY
fp=sha256:$(openssl x509 -in "$key/module-signing-cert.pem" -outform DER | sha256sum | cut -c1-64)
ssh_p() { ssh -F "$RD_P/ssh_config" -l "$1" testvm "${@:2}" </dev/null; }
loaded() { vm_ssh root "grep -c '^$1 ' /proc/modules" </dev/null; }
syslog() { vm_ssh root "cat /var/log/messages" </dev/null; }

# K1. The guest as the interface promises it.
grep -qx -- '- name: testvm-sb' "$VM_KNOWN_HOSTS_YAML"
ok $? "VM_KNOWN_HOSTS_YAML names the target testvm-sb"
is "$(stat -c %a "$key/module-signing-key.pem" 2>&1)" 600 \
	"VM_SIGNING_KEY ($key) holds the private key, mode 0600"
[ -s "$key/module-signing-cert.pem" ] && [ -s "$key/module-signing-cert.der" ]
ok $? "and its certificate, PEM and DER"

# K2. What the kernel says about itself.
like "$(vm_ssh root cat /sys/kernel/security/lockdown </dev/null)" '\[integrity\]' \
	"the kernel is locked down: [integrity]"
is "$(vm_ssh root cat /sys/module/module/parameters/sig_enforce </dev/null)" Y \
	"module signatures are enforced (sig_enforce = Y)"
dmesg=$(vm_ssh root dmesg </dev/null)
like "$dmesg" 'secureboot: Secure boot enabled' "the kernel saw Secure Boot on"
like "$dmesg" 'Kernel is locked down from EFI Secure Boot' "and locked itself down for it"
skid=$(openssl x509 -in "$key/module-signing-cert.pem" -noout -ext subjectKeyIdentifier |
	tail -n 1 | tr -d ' :' | tr 'A-F' 'a-f')
like "$dmesg" "integrity: Loaded X\\.509 cert '.*: $skid'" \
	"it loaded the signing key's certificate from db (key id $skid)"

# K3. The modules, as root with insmod and systemtap's staprun: unsigned,
# signed with the enrolled key, signed with another key, a byte flipped in
# the signature, a byte flipped in the module, the trailer cut off. Each one
# in its own directory under the module's own name (a module whose file
# name is not its name loads, but staprun cannot attach to it and leaves it
# loaded; staprun-auth refuses such a file, case 6).
"$tool" keygen "$T/other-key" "not enrolled anywhere" >/dev/null
ok $? "make another module-signing key"
mkdir -p "$T/k/unsigned" "$T/k/signed" "$T/k/other" "$T/k/flipsig" "$T/k/flipmod" "$T/k/cut"
cp "$kmod" "$T/k/unsigned/$kname.ko"
"$tool" sign "$key" "$kmod" "$T/k/signed/$kname.ko"
ok $? "sign it with the enrolled key (common/modsign.c)"
"$tool" verify "$key/module-signing-cert.der" "$T/k/signed/$kname.ko"
ok $? "  and the signature checks out against the enrolled certificate"
"$tool" sign "$T/other-key" "$kmod" "$T/k/other/$kname.ko"
ok $? "sign it with the other key"
size=$(stat -c %s "$T/k/signed/$kname.ko")
cp "$T/k/signed/$kname.ko" "$T/k/flipsig/$kname.ko"
flip_byte "$T/k/flipsig/$kname.ko" $((size - 40 - 1)) # the RSA signature's last byte
cp "$T/k/signed/$kname.ko" "$T/k/flipmod/$kname.ko"
flip_byte "$T/k/flipmod/$kname.ko" 4096
head -c $((size - 1)) "$T/k/signed/$kname.ko" >"$T/k/cut/$kname.ko"
for d in unsigned signed other flipsig flipmod cut; do
	vm_ssh root "mkdir -p /tmp/k/$d" </dev/null
	vm_scp_to root "$T/k/$d/$kname.ko" "/tmp/k/$d/$kname.ko"
done

# try CASE: insmod, then staprun, as root; sets $ins (insmod's output),
# $ins_rc, $run, $run_rc, $msgs (what the kernel logged meanwhile).
try() {
	vm_ssh root "dmesg -c >/dev/null" </dev/null
	ins=$(vm_ssh root "insmod /tmp/k/$1/$kname.ko" </dev/null 2>&1)
	ins_rc=$?
	vm_ssh root "rmmod $kname" </dev/null >/dev/null 2>&1
	run=$(vm_ssh root "staprun /tmp/k/$1/$kname.ko" </dev/null 2>&1)
	run_rc=$?
	msgs=$(vm_ssh root "dmesg -c" </dev/null)
}
kloaded() { vm_ssh root "grep -c '^$kname ' /proc/modules" </dev/null; }

krefused() { # krefused CASE DESCRIPTION [KERNEL-MESSAGE]
	try "$1"
	isnt "$ins_rc" 0 "$2: insmod refuses it"
	like "$ins" 'Key was rejected by service' "  with EKEYREJECTED"
	isnt "$run_rc" 0 "  staprun (root) refuses it"
	like "$run" "Couldn't insert module.*Key was rejected by service" "  saying why"
	if [ -n "${3:-}" ]; then
		like "$msgs" "$3" "  the kernel logs: $3"
	fi
	is "$(kloaded)" 0 "  nothing is left loaded"
}

krefused unsigned "an unsigned module" 'Loading of unsigned module is rejected'
try signed
is "$run_rc" 0 "signed with the enrolled key: staprun (root) runs it"
like "$run" '^hello from a signed module$' "  and its probe prints"
is "$ins_rc" 0 "  insmod loads it too"
is "$(kloaded)" 0 "  nothing is left loaded"
like "$msgs" 'staprun: debugfs access is restricted' \
	"  (under lockdown staprun is told debugfs is restricted, and uses procfs)"
krefused other "signed with a key not enrolled" 'Loading of module with unavailable key is rejected'
krefused flipsig "a byte flipped in the signature"
krefused flipmod "a byte flipped in the module"
krefused cut "the trailer's last byte cut off" 'Loading of unsigned module is rejected'

# The operator: a HOME whose ~/.ssh knows both guests (one host key), no
# known_hosts entries yet, no signing key configured.
export HOME=$VM_HOME
unset SSH_AUTH_SOCK
hostkey=$(cut -d' ' -f2- "$VM_OUT/known_hosts")
printf '[127.0.0.1]:%s %s\n' "$PORT_P" "$hostkey" >>"$HOME/.ssh/known_hosts"
KH=$XDG_CONFIG_HOME/stapcache/known_hosts
rm -f "$KH"

# 1. host add, as scuser: what each kernel demands, and whom the SB guest trusts.
out=$("$STAPCACHE" host add testvm-sb "ssh:scuser@127.0.0.1:$PORT_SB:auth" 2>&1); st=$?
is "$st" 0 "host add testvm-sb (as the unprivileged scuser)"
like "$out" "lockdown: integrity" "  records lockdown: integrity"
like "$out" "sig-enforce: yes" "  records sig-enforce: yes"
like "$out" "secure-boot: on" "  records secure-boot: on"
like "$out" "module-signers:" "  reads the certificates of its UEFI db"
grep -q -- "- $fp" "$KH"
ok $? "  among them the test bed's key ($fp)"
out=$("$STAPCACHE" host add testvm "ssh:scuser@127.0.0.1:$PORT_P:auth" 2>&1); st=$?
is "$st" 0 "host add testvm (the plain guest)"
like "$out" "lockdown: none" "  records lockdown: none"
like "$out" "sig-enforce: no" "  records sig-enforce: no"
like "$("$STAPCACHE" host list)" "testvm-sb .* required " "host list: testvm-sb loads only signed modules"
like "$("$STAPCACHE" host list)" "testvm .* - " "host list: testvm does not"

# 2. doctor on both: without a signing key, the Secure Boot guest's fix says
# how to make and enroll one; with the enrolled key it is trusted there.
out=$("$STAPCACHE" doctor -T testvm-sb -T testvm 2>&1); st=$?
isnt "$st" 0 "doctor with no signing key: the Secure Boot guest fails"
like "$out" "secure boot: Secure Boot on, lockdown integrity, module.sig_enforce yes: only signed modules load" \
	"  doctor shows its Secure Boot and lockdown state"
like "$out" "signer: testvm-sb loads only signed modules .*no module-signing key is configured" \
	"  and that no signer is configured"
like "$out" "fix: stapcache signing-key generate; enroll" "  with a fix: line"
like "$out" "secure boot: Secure Boot off, lockdown none" "  the plain guest: Secure Boot off, lockdown none"
write_config "runtime: $RUNTIME" "stap: $T/bin/stap" "signing-key: $key"
out=$("$STAPCACHE" doctor -T testvm-sb -T testvm 2>&1); st=$?
is "$st" 0 "doctor with the enrolled key: both guests pass"
like "$out" "signer: the configured signer ${fp:0:23}… .* is in its UEFI db or MOK list" \
	"  the Secure Boot guest trusts the configured signer"
"$STAPCACHE" signing-key generate --cn "not enrolled anywhere" "$T/other" >/dev/null 2>&1
ok $? "signing-key generate makes another key"
write_config "runtime: $RUNTIME" "stap: $T/bin/stap" "signing-key: $T/other"
out=$("$STAPCACHE" doctor -T testvm-sb 2>&1); st=$?
isnt "$st" 0 "doctor with a key testvm-sb does not trust: fails"
like "$out" "is not among the [0-9]+ certificates its UEFI db and MOK list hold" "  saying so"
like "$out" "fix: enroll it: as root on testvm-sb, mokutil --import $T/other/module-signing-cert.der" \
	"  and the fix names mokutil --import and the certificate"
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"

# 3. No signed variant: refused before connecting, with the command that fixes it.
out=$("$STAPCACHE" -T testvm-sb -e "$HELLO" 2>&1); st=$?
is "$st" 1 "-T testvm-sb with no signed variant: status 1"
like "$out" "^stapcache: testvm-sb loads only signed modules \(lockdown integrity, sig_enforce, Secure Boot on\)" \
	"  one line naming the target's enforcement"
like "$out" "stapcache bless -T testvm-sb --sign KEY $hello" "  and the exact bless --sign command"
is "$(printf '%s\n' "$out" | wc -l)" 1 "  in one line"
# Proof that nothing connected: the same entry pointing at a closed port says the same.
dead=$(free_port)
sed "s/127.0.0.1:$PORT_SB:auth/127.0.0.1:$dead:auth/; s/name: testvm-sb/name: sb-dead/" "$KH" |
	awk '/^- name: sb-dead/{p=1} /^- name: testvm$/{p=0} p' >>"$KH"
out=$("$STAPCACHE" -T sb-dead -e "$HELLO" 2>&1)
like "$out" "^stapcache: sb-dead loads only signed modules" "  (a copy of the entry at a closed port says the same: no connection was tried)"
is "$(stap_runs)" "$builds" "  and no stap ran: the module was cached"

# 4. An unsigned module that reaches staprun-auth anyway (blessed by root):
# the kernel refuses it, staprun-auth says why in one line and in syslog.
vm_ssh root "mkdir -p /tmp/m/unsigned" </dev/null
name=$(basename "$hello" .ko)
vm_scp_to root "$hello" "/tmp/m/unsigned/$name.ko"
bless "$hello"
out=$(vm_ssh scuser "staprun-auth /tmp/m/unsigned/$name.ko" </dev/null 2>&1); st=$?
isnt "$st" 0 "an unsigned (blessed) module through staprun-auth: refused"
like "$out" "not signed: bless its signed variant \(stapcache bless --sign KEY\)" \
	"  staprun-auth says it is not signed by a key this host trusts"
is "$(printf '%s\n' "$out" | grep -c .)" 1 "  in one line"
like "$(syslog | grep 'refuse load user=scuser' | tail -n 1)" "not signed" "  syslog (LOG_AUTHPRIV) says the same"
is "$(loaded "$name")" 0 "  nothing is left loaded"
vm_ssh scuser 'staprun-auth --list' </dev/null 2>&1 | grep -q "$name"
ok $((!$?)) "  staprun-auth --list shows no run of it"

# 5. bless --sign: signed, checked, cached; the signed bytes blessed; a run prints.
out=$("$STAPCACHE" bless -T testvm-sb -T testvm --admin root --sign "$key" "$hello" 2>&1); st=$?
is "$st" 0 "bless -T testvm-sb -T testvm --sign KEY"
like "$out" "signed $name\\.ko with $key" "  signs the cached module"
like "$out" "testvm-sb: blessed [0-9a-f]{64} .*\(the signed variant\)" "  testvm-sb gets the signed variant's digest"
like "$out" "testvm: blessed [0-9a-f]{64} in /etc/systemtap/authorized_probes$" "  testvm the unsigned module's"
signed=$(printf '%s\n' "$out" | sed -n 's/^stapcache: signed .*: \(\/.*\.ko\)$/\1/p')
[ -s "$signed" ]; ok $? "  the signed variant is in the cache ($signed)"
is "$(basename "$signed")" "$name.ko" "  under the module's own name"
vm_ssh root "grep -q $(sha256sum "$signed" | cut -c1-64) /etc/systemtap/authorized_probes" </dev/null
ok $? "  its SHA-256 is in testvm-sb's authorized_probes"
cp "$hello" "$T/theirs.ko"
if /usr/lib/linux-kbuild-6.1/scripts/sign-file sha256 "$key/module-signing-key.pem" \
	"$key/module-signing-cert.der" "$T/theirs.ko" 2>/dev/null; then
	cmp -s "$signed" "$T/theirs.ko"
	ok $? "  byte for byte what the kernel's sign-file writes"
else
	skip "no scripts/sign-file (apt-get install linux-kbuild-6.1)"
fi
n=$(syslog | wc -l)
out=$("$STAPCACHE" -T testvm-sb -e "$HELLO" 2>"$T/err"); st=$?
is "$st" 0 "-T testvm-sb runs the signed variant (status 0)"
is "$out" "hello from a locked-down kernel" "  its probe prints"
is "$(loaded "$name")" 0 "  and it is unloaded afterwards"
like "$(syslog | tail -n +$((n + 1)))" "allow load user=scuser\(1000\) module=[^ ]*/$name\.ko .*: loaded" \
	"  loaded by scuser through staprun-auth"
like "$(vm_ssh root cat /sys/kernel/security/lockdown </dev/null)" '\[integrity\]' \
	"  in a kernel locked down ([integrity])"
# A hit for the signed variant: no stap, and no signer (the key is gone now).
mv "$key" "$T/key.away"
at_exit "[ -e \"$key\" ] || mv \"$T/key.away\" \"$key\""
out=$("$STAPCACHE" -T testvm-sb -e "$HELLO" 2>&1); st=$?
is "$st:$out" "0:hello from a locked-down kernel" \
	"a second run: the signed variant from the cache, with the signing key gone"
is "$(stap_runs)" "$builds" "  no run built anything"
mv "$T/key.away" "$key"

# 6. What the kernel refuses, each through staprun-auth as scuser, each
# blessed first (the policy is not what stops them): signed by a key not
# enrolled, a byte of the signature flipped, and a signed module under
# another file name.
mkdir -p "$T/m/other" "$T/m/flipsig" "$T/m/renamed"
"$STAPCACHE" bless --sign "$T/other" "$hello" >/dev/null 2>"$T/other.err"
other=$(sed -n 's/^stapcache: signed .*: \(\/.*\.ko\)$/\1/p' "$T/other.err")
[ -s "$other" ]; ok $? "bless --sign with the other key: a second signed variant"
cp "$other" "$T/m/other/$name.ko"
size=$(stat -c %s "$signed")
cp "$signed" "$T/m/flipsig/$name.ko"
flip_byte "$T/m/flipsig/$name.ko" $((size - 40 - 1))
cp "$signed" "$T/m/renamed/renamed.ko"
for d in other flipsig renamed; do
	f=$(ls "$T/m/$d")
	vm_ssh root "mkdir -p /tmp/m/$d" </dev/null
	vm_scp_to root "$T/m/$d/$f" "/tmp/m/$d/$f"
	bless "$T/m/$d/$f" 2>/dev/null
done
refused() { # refused DIR FILE DESCRIPTION REGEX
	local o s
	o=$(vm_ssh scuser "staprun-auth /tmp/m/$1/$2" </dev/null 2>&1); s=$?
	isnt "$s" 0 "$3: staprun-auth refuses it"
	like "$o" "$4" "  saying: $4"
	is "$(loaded "$name")" 0 "  nothing is left loaded"
}
refused other "$name.ko" "signed by a key not enrolled" "refused this one's signature"
refused flipsig "$name.ko" "a byte of the signature flipped" "refused this one's signature"
refused renamed renamed.ko "a signed module under another file name (the pitfall)" \
	"calls itself '$name'; the file must be named $name\\.ko"
# stapcache itself does not ship a variant the target is known not to trust.
write_config "runtime: $RUNTIME" "stap: $T/bin/stap" "signing-key: $T/other"
"$STAPCACHE" bless --sign "$T/other" "$hello2" >/dev/null 2>&1
out=$("$STAPCACHE" -T testvm-sb -e "$HELLO2" 2>&1); st=$?
is "$st" 1 "-T with only a variant by a key testvm-sb does not trust: refused before connecting"
like "$out" "the configured signer $T/other \\(sha256:[0-9a-f]{16}…\\) is not among the [0-9]+ certificates" \
	"  saying so, and how to enroll it"
out=$("$STAPCACHE" -T testvm-sb -e "$HELLO" 2>&1); st=$?
is "$st:$out" "0:hello from a locked-down kernel" \
	"  while a module with a variant by a signer it trusts still runs (found by its db)"
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"

# 7. Ctrl-C and a lost link unload the signed module too.
"$STAPCACHE" bless -T testvm-sb --admin root --sign "$key" "$ticker" >/dev/null 2>&1
ok $? "bless --sign the ticker"
tname=$(basename "$ticker" .ko)
start_ticker() { # start_ticker OUTFILE: stapcache -T in the background, until it ticks
	"$STAPCACHE" -T testvm-sb -e "$TICKER" >"$1" 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		grep -q '^tick' "$1" && return 0
		sleep 0.2
	done
	diag "no tick: $(cat "$1")"
	return 1
}
gone() { # gone NAME: not loaded within 20 s
	for _ in $(seq 100); do
		[ "$(loaded "$1")" = 0 ] && return 0
		sleep 0.2
	done
	return 1
}
start_ticker "$T/int.out"; ok $? "the signed ticker runs in the Secure Boot guest"
kill -INT "$pid"
wait "$pid"; st=$?
is "$st" 130 "  Ctrl-C: stapcache ends with status 130"
gone "$tname"; ok $? "  and the module is unloaded"
start_ticker "$T/kill.out"; ok $? "the signed ticker runs again"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
gone "$tname"; ok $? "  the link lost (stapcache SIGKILLed): the module is unloaded"
# Under lockdown --list (stapcache ps) and -d work as anywhere: an orphan
# (its root side killed by root; a user cannot) is unloaded by its owner.
start_ticker "$T/ps.out"; ok $? "the signed ticker runs (for ps and -d)"
like "$("$STAPCACHE" ps -T testvm-sb 2>&1)" "$tname" "  stapcache ps -T testvm-sb lists it (staprun-auth --list)"
vm_ssh root 'for p in $(pidof staprun-auth); do kill -KILL $p; done; kill -KILL $(pidof stapio)' </dev/null
wait "$pid" 2>/dev/null
like "$(vm_ssh scuser 'staprun-auth --list' </dev/null)" "^$tname	.*	orphan$" \
	"  its root side killed by root: an orphan in --list"
vm_ssh scuser "staprun-auth -d $tname" </dev/null >/dev/null 2>&1
ok $? "  staprun-auth -d, as scuser, unloads it"
gone "$tname"; ok $? "  and it is gone"

# 8. The fleet: one kernel, one build; each guest its variant.
before=$(stap_runs)
out=$("$STAPCACHE" -T testvm -T testvm-sb -e "$FLEET" 2>&1); st=$?
is "$st" 1 "-T testvm -T testvm-sb, nothing signed yet: refused before connecting"
like "$out" "testvm-sb loads only signed modules" "  naming the Secure Boot guest"
is "$(stap_runs)" $((before + 1)) "  after one build"
fleet=$("$STAPCACHE" -p4 -r "$rel" -e "$FLEET")
"$STAPCACHE" bless -T testvm -T testvm-sb --admin root --sign "$key" "$fleet" >/dev/null 2>&1
ok $? "bless -T testvm -T testvm-sb --sign: each its variant"
out=$("$STAPCACHE" -T testvm -T testvm-sb -e "$FLEET" 2>"$T/fleet.err"); st=$?
is "$st" 0 "-T testvm -T testvm-sb: both run (status 0)"
like "$out" "^testvm: hello from the fleet$" "  the plain guest prints"
like "$out" "^testvm-sb: hello from the fleet$" "  the Secure Boot guest prints"
is "$(stap_runs)" $((before + 1)) "  one build for the one kernel, all along"
is "$("$STAPCACHE" -p4 -T testvm -T testvm-sb -e "$FLEET" | wc -l)" 2 \
	"  -p4 -T names two modules: the unsigned and the signed variant"
fname=$(basename "$fleet" .ko)
is "$(loaded "$fname"):$(ssh_p root "grep -c '^$fname ' /proc/modules")" "0:0" \
	"  nothing is left loaded on either"

diag "secureboot.sh: $(($(date +%s) - t0)) s from the boots to here"
done_testing
