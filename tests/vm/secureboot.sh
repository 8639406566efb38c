#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Secure Boot guest (issue 20): OVMF with Secure Boot on and the test
# bed's module-signing key in db (tests/vm/build-sb), Debian's kernel locked
# down and enforcing module signatures. Real stap modules, signed on the host
# by common/modsign.c (tests/vm/modsign-tool) or not, loaded as root with
# insmod and with systemtap's staprun (staprun-auth's path comes later).
# Every case must leave no module loaded.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
tool=$top_builddir/tests/vm/modsign-tool
[ -x "$tool" ] || skip_all "$tool is not built (make)"
command -v openssl >/dev/null || skip_all "openssl is not installed"
export VM_SECURE_BOOT=1 VM_MODSIGN_TOOL=$tool
vm_test_setup

# A real module, compiled on the host for the guest's kernel (shared with the
# other tests that build it: tests/fakes/auth-module.sh).
name=sc_sb_hello
mod=$("$top_srcdir/tests/fakes/auth-module.sh" "$name" \
	'probe begin { println("hello from a signed module") exit() }') ||
	skip_all "could not compile the test module"

vm_start || skip_all "the Secure Boot guest did not boot (see the console log above)"
diag "boot to SSH: ${VM_BOOT_SECONDS:-?} s"

# 1. The guest as the interface promises it.
grep -qx -- '- name: testvm-sb' "$VM_KNOWN_HOSTS_YAML"
ok $? "VM_KNOWN_HOSTS_YAML names the target testvm-sb"
key=$VM_SIGNING_KEY
is "$(stat -c %a "$key/module-signing-key.pem" 2>&1)" 600 \
	"VM_SIGNING_KEY ($key) holds the private key, mode 0600"
[ -s "$key/module-signing-cert.pem" ] && [ -s "$key/module-signing-cert.der" ]
ok $? "and its certificate, PEM and DER"

# 2. What the kernel says about itself.
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

# 3. The modules: unsigned, signed with the enrolled key, signed with another
# key, a byte flipped in the signature, a byte flipped in the module, the
# trailer cut off. Each one in its own directory under the module's own
# name (a module whose file name is not its name loads, but staprun cannot
# attach to it and leaves it loaded).
"$tool" keygen "$T/other-key" "not enrolled anywhere" >/dev/null
ok $? "make another module-signing key"
mkdir -p "$T/m/unsigned" "$T/m/signed" "$T/m/other" "$T/m/flipsig" "$T/m/flipmod" "$T/m/cut"
cp "$mod" "$T/m/unsigned/$name.ko"
"$tool" sign "$key" "$mod" "$T/m/signed/$name.ko"
ok $? "sign it with the enrolled key (common/modsign.c)"
"$tool" verify "$key/module-signing-cert.der" "$T/m/signed/$name.ko"
ok $? "  and the signature checks out against the enrolled certificate"
"$tool" sign "$T/other-key" "$mod" "$T/m/other/$name.ko"
ok $? "sign it with the other key"
size=$(stat -c %s "$T/m/signed/$name.ko")
cp "$T/m/signed/$name.ko" "$T/m/flipsig/$name.ko"
flip_byte "$T/m/flipsig/$name.ko" $((size - 40 - 1)) # the RSA signature's last byte
cp "$T/m/signed/$name.ko" "$T/m/flipmod/$name.ko"
flip_byte "$T/m/flipmod/$name.ko" 4096
head -c $((size - 1)) "$T/m/signed/$name.ko" >"$T/m/cut/$name.ko"
for d in unsigned signed other flipsig flipmod cut; do
	vm_ssh root "mkdir -p /tmp/m/$d" </dev/null
	vm_scp_to root "$T/m/$d/$name.ko" "/tmp/m/$d/$name.ko"
done

# try CASE: insmod, then staprun, as root; sets $ins (insmod's output),
# $ins_rc, $run, $run_rc, $msgs (what the kernel logged meanwhile).
try() {
	vm_ssh root "dmesg -c >/dev/null" </dev/null
	ins=$(vm_ssh root "insmod /tmp/m/$1/$name.ko" </dev/null 2>&1)
	ins_rc=$?
	vm_ssh root "rmmod $name" </dev/null >/dev/null 2>&1
	run=$(vm_ssh root "staprun /tmp/m/$1/$name.ko" </dev/null 2>&1)
	run_rc=$?
	msgs=$(vm_ssh root "dmesg -c" </dev/null)
}
loaded() { vm_ssh root "grep -c '^$name ' /proc/modules" </dev/null; }

refused() { # refused CASE DESCRIPTION [KERNEL-MESSAGE]
	try "$1"
	isnt "$ins_rc" 0 "$2: insmod refuses it"
	like "$ins" 'Key was rejected by service' "  with EKEYREJECTED"
	isnt "$run_rc" 0 "  staprun (root) refuses it"
	like "$run" "Couldn't insert module.*Key was rejected by service" "  saying why"
	if [ -n "${3:-}" ]; then
		like "$msgs" "$3" "  the kernel logs: $3"
	fi
	is "$(loaded)" 0 "  nothing is left loaded"
}

refused unsigned "an unsigned module" 'Loading of unsigned module is rejected'
try signed
is "$run_rc" 0 "signed with the enrolled key: staprun (root) runs it"
like "$run" '^hello from a signed module$' "  and its probe prints"
is "$ins_rc" 0 "  insmod loads it too"
is "$(loaded)" 0 "  nothing is left loaded"
like "$msgs" 'staprun: debugfs access is restricted' \
	"  (under lockdown staprun is told debugfs is restricted, and uses procfs)"
refused other "signed with a key not enrolled" 'Loading of module with unavailable key is rejected'
refused flipsig "a byte flipped in the signature"
refused flipmod "a byte flipped in the module"
refused cut "the trailer's last byte cut off" 'Loading of unsigned module is rejected'

done_testing
