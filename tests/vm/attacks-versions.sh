#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# staprun-auth's protocol choice (issue 21) attacked on a real kernel: the
# Debian 12 guest (systemtap 4.8's stapio, Linux 6.1), the installed setuid
# staprun-auth, the unprivileged scuser. Every module below is blessed, so
# that what refuses it is the version check and nothing else: the real
# systemtap 5.1 module (built in the Debian 13 build root, for 6.12), the
# guest's own 4.8 module with its .modinfo claiming 5.1, with its version
# string rewritten to 5.1 and to an unknown 6.0, with that string's end
# lost, and cut inside it. Each is refused with the versions named, nothing
# is loaded, and syslog records the refusal; the genuine module still runs.
# auth-protocols.sh does the same under the faked kernel, both runners.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
command -v python3 >/dev/null 2>&1 || skip_all "python3 is missing"
vm_test_setup

hello=$(vm_compile 'probe begin { printf("hello from 4.8\n") exit() }')
[ -s "$hello" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test module"; }
H=$(basename "$hello" .ko)

# The real 5.1 module, when the Debian 13 build root is there.
ROOT=${SC_TEST_BUILDROOT:-/var/lib/stapcache-test/buildroot/trixie}
mod51=
if [ -f "$ROOT/STAPCACHE-BUILDROOT" ]; then
	rel51=$(sed -n '/^kernel-release [0-9]*$/{n;p;q}' "$ROOT/STAPCACHE-BUILDROOT")
	mkdir -p "$XDG_CONFIG_HOME/stapcache"
	cat >"$XDG_CONFIG_HOME/stapcache/known_hosts" <<EOF
- name: trixie
  execute: ssh:scuser@127.0.0.1:22:auth
  kernel: $rel51
  arch: x86_64
  cpu: qemu64
  build-root: $ROOT
EOF
	mod51=$("$STAPCACHE" -p4 -T trixie -e 'probe begin { printf("hello from 5.1\n") exit() }' \
		2>"$T/build51.err") || { diag "$(tail -n 5 "$T/build51.err")"; mod51=; }
fi

# forge NAME PYTHON-EXPRESSION-ON-d: a copy of the 4.8 module, same name.
forge() {
	mkdir -p "$T/forged/$1"
	python3 - "$hello" "$T/forged/$1/$H.ko" "$2" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
d = eval(sys.argv[3])
open(sys.argv[2], 'wb').write(d)
PY
}
forge claims51 "d.replace(b'description=systemtap-generated probe\\0', b'systemtap=5.1'.ljust(38, b'\\0'))"
forge says51 "d.replace(b'\\x004.8/0.188\\x00', b'\\x005.1/0.192\\x00')"
forge says60 "d.replace(b'\\x004.8/0.188\\x00', b'\\x006.0/0.188\\x00')"
forge cut "d.replace(b'\\x004.8/0.188\\x00', b'\\x004.8/0.188x')"
forge truncated "d[:d.find(b'4.8/0.188') + 5]"
for n in claims51 says51 says60 cut truncated; do
	cmp -s "$hello" "$T/forged/$n/$H.ko"
	isnt "$?" 0 "forgery '$n' differs from the module"
done

vm_start || skip_all "the guest did not boot (see the console log above)"
syslog() { vm_ssh root "cat /var/log/messages" </dev/null; }
vm_scp_to scuser "$hello" "/tmp/$H.ko" </dev/null
bless "$hello"
for n in claims51 says51 says60 cut truncated; do
	vm_ssh scuser "mkdir -p /tmp/$n" </dev/null
	vm_scp_to scuser "$T/forged/$n/$H.ko" "/tmp/$n/$H.ko" </dev/null
	# by digest: stapcache bless refuses what is no module (truncated)
	vm_ssh root "echo 'sha256:$(sha256sum "$T/forged/$n/$H.ko" | cut -c1-64)  # forged: $n' \
		>> /etc/systemtap/authorized_probes" </dev/null
done

# refused DIR/NAME.ko REGEX DESCRIPTION: scuser's run refused, saying REGEX,
# nothing loaded, and a syslog refusal for that module.
refused() {
	local out rc
	out=$(vm_ssh scuser "staprun-auth $1" 2>&1 </dev/null)
	rc=$?
	isnt "$rc" 0 "$3: refused"
	like "$out" "$2" "  saying why, the versions named" || diag "$out"
	no_stap_modules 5 && ! syslog | grep -qF "allow load user=scuser(1000) module=$1 "
	ok $? "  nothing loaded (none live, no load allowed in syslog)"
	like "$(syslog | grep -F "refuse load user=scuser(1000) module=$1 " | tail -n 1)" "$2" \
		"  syslog: the refusal, for scuser"
}

if [ -n "$mod51" ]; then
	M51=$(basename "$mod51" .ko)
	vm_scp_to scuser "$mod51" "/tmp/$M51.ko" </dev/null
	bless "$mod51"
	refused "/tmp/$M51.ko" \
		"was built by systemtap 5\.1, but this host's stapio \(/usr/lib/systemtap/stapio\) is systemtap 4\.8" \
		"the real systemtap 5.1 module (for $rel51) on the 4.8 guest"
else
	skip "no 5.1 module: no Debian 13 build root at $ROOT, or its build failed"
fi
refused "/tmp/claims51/$H.ko" \
	"claims systemtap 5\.1 \(\.modinfo systemtap=\) but was built by systemtap 4\.8" \
	"the 4.8 module whose .modinfo claims 5.1"
refused "/tmp/says51/$H.ko" \
	"was built by systemtap 5\.1, but this host's stapio \(/usr/lib/systemtap/stapio\) is systemtap 4\.8" \
	"the 4.8 module whose version string was rewritten to 5.1"
refused "/tmp/says60/$H.ko" \
	"built by systemtap 6\.0, whose control protocol this staprun-auth does not know" \
	"the 4.8 module rewritten to say 6.0"
refused "/tmp/cut/$H.ko" "carries no systemtap version" "the 4.8 module whose version string lost its end"
refused "/tmp/truncated/$H.ko" "is not a valid kernel module" \
	"the 4.8 module cut inside its version string"

# After all of that, the genuine module runs and is unloaded.
out=$(vm_ssh scuser "staprun-auth /tmp/$H.ko" 2>&1 </dev/null)
is "$?" 0 "the genuine 4.8 module still runs as scuser"
like "$out" "^hello from 4\.8" "  and prints"
no_stap_modules
ok $? "  and is unloaded"

done_testing
