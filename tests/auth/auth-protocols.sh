#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One staprun-auth for systemtap 4 and 5 (issue 21): it reads which systemtap
# built a module from the bytes it hashed (the translator's "VERSION/ELFUTILS"
# string), speaks that version's control protocol (5 renumbered the
# messages: 15/9/14 became 95/89/94, and wants module_kallsyms_on_each_symbol
# among the relocations), and refuses what this host's stapio cannot talk to
# or what it cannot tell, naming the versions. Attacked with forged, cut,
# ambiguous, unknown and self-contradicting version data, each blessed, so
# that the refusal is the version check's and no other.
#
# The kernel's side is faked (tests/fakes/fake-kmod.c, as auth-fake-kmod.sh):
# the build-tree copy of staprun-auth runs as root; a second copy is
# configured with the Debian 13 build root's stapio, so that it is a runner
# "told" to speak systemtap 5. The 5.1 module comes from that build root
# through stapcache -T (./quickstart --setup-only makes the root).
. "$top_srcdir/tests/lib/auth-lib.sh"

# unlike TEXT EXTENDED-REGEX DESCRIPTION
unlike() { ! printf '%s' "$1" | grep -Eq -- "$2"; ok $? "$3"; }

auth_require_root
command -v python3 >/dev/null 2>&1 || skip_all "python3 is missing"
ROOT=${SC_TEST_BUILDROOT:-/var/lib/stapcache-test/buildroot/trixie}
[ -f "$ROOT/STAPCACHE-BUILDROOT" ] ||
	skip_all "no Debian 13 build root at $ROOT (./quickstart --setup-only creates it)"
STAPIO51=$ROOT/usr/lib/systemtap/stapio
stamp_get() { sed -n "/^$1 [0-9]*\$/{n;p;q}" "$ROOT/STAPCACHE-BUILDROOT"; }
REL51=$(stamp_get kernel-release)

MOD48=$(auth_module sc_proto48 'probe begin { printf("hello 4.8\n") exit() }') ||
	skip_all "cannot build a stap module here (see tests/fakes/auth-module.sh)"
KREL=$(sc_test_krel)
mkdir -p "$XDG_CONFIG_HOME/stapcache"
cat >"$XDG_CONFIG_HOME/stapcache/known_hosts" <<EOF
- name: trixie
  execute: ssh:scuser@127.0.0.1:22:auth
  kernel: $REL51
  arch: x86_64
  cpu: qemu64
  build-root: $ROOT
EOF
built=$("$STAPCACHE" -p4 -m sc_proto51 -T trixie -e 'probe begin { printf("hello 5.1\n") exit() }' \
	2>"$T/build51.err") || { diag "$(tail -n 5 "$T/build51.err")"; skip_all "cannot build a 5.1 module in $ROOT"; }
MOD51=$T/mods/sc_proto51.ko
cp "$built" "$MOD51" && chmod 644 "$MOD51"

auth_build_copy
ok $? "configure and build a copy (stapio: this host's) (${AUTH_BUILD_SECONDS:-?} s)"
A=$AUTH_BUILD_BIN
# The copy told to speak systemtap 5: the same source, the build root's stapio.
src5=$top_srcdir
[ -f "$top_srcdir/config.status" ] && src5=$T/src # auth_build_copy made it
(unset MAKEFLAGS MFLAGS MAKELEVEL && mkdir -p "$T/build5" && cd "$T/build5" &&
	"$src5/configure" -q --prefix="$AUTH_PREFIX" --sysconfdir="$AUTH_PREFIX/etc" \
		--with-stapio="$STAPIO51" CFLAGS="-g -O2" LDFLAGS= &&
	make -j2 staprun-auth/staprun-auth) >"$T/build5.log" 2>&1
ok $? "a second copy whose stapio is the build root's (systemtap $(stamp_get systemtap))" ||
	diag "$(tail -n 20 "$T/build5.log")"
B=$T/build5/staprun-auth/staprun-auth
FAKES=$(auth_fakes) || skip_all "cannot build the test helpers in tests/fakes"
OUTD=$T/fake
mkdir -p "$OUTD"

like "$("$A" --version)" "control protocols: systemtap 4.x and 5.x" "--version names the protocols"
like "$("$A" --version)" "stapio: /usr/lib/systemtap/stapio, systemtap 4.8" "  and this host's stapio"
like "$("$B" --version)" "stapio: $STAPIO51, systemtap 5.1" "  the second copy's is systemtap 5.1"

# Forgeries of the 4.8 module, each a file of its own (blessed below).
forge() { # forge OUT PYTHON-EXPRESSION-ON-d
	python3 - "$MOD48" "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
d = eval(sys.argv[3])
open(sys.argv[2], 'wb').write(d)
PY
}
mkdir -p "$T/forged"
for n in claims51 says51 says60 cut truncated; do mkdir -p "$T/forged/$n"; done
F=$T/forged
# Every forgery keeps the module's name: the file is sc_proto48.ko in its own directory.
forge "$F/claims51/sc_proto48.ko" \
	"d.replace(b'description=systemtap-generated probe\\0', b'systemtap=5.1'.ljust(38, b'\\0'))"
forge "$F/says51/sc_proto48.ko" "d.replace(b'\\x004.8/0.188\\x00', b'\\x005.1/0.192\\x00')"
forge "$F/says60/sc_proto48.ko" "d.replace(b'\\x004.8/0.188\\x00', b'\\x006.0/0.188\\x00')"
forge "$F/cut/sc_proto48.ko" "d.replace(b'\\x004.8/0.188\\x00', b'\\x004.8/0.188x')"
forge "$F/truncated/sc_proto48.ko" "d[:d.find(b'4.8/0.188') + 5]"
for n in claims51 says51 says60 cut; do
	cmp -s "$MOD48" "$F/$n/sc_proto48.ko"
	isnt "$?" 0 "forgery '$n' differs from the module"
done
# Real modules whose scripts hold a string of another version's shape: a
# literal compared with lands in the same string section as the
# translator's; a global's initial value is data, not a string section.
MODTWO=$(auth_module sc_prototwo 'probe begin { if (execname() == "5.1/0.192") println("same") exit() }')
MODGLOB=$(auth_module sc_protoglob 'global v = "5.1/0.192" probe begin { printf("built by %s\n", v) exit() }')

lines=()
for m in "$MOD48" "$MOD51" "$MODTWO" "$MODGLOB" "$F"/*/sc_proto48.ko; do
	lines+=("sha256:$(sha256_of "$m")  # $m")
done
policy "${lines[@]}"

# verify BIN RELEASE MODULE: --verify under the fake; OUT and RC.
verify() {
	OUT=$(env LD_PRELOAD="$FAKES/fake-kmod-preload" FAKE_KMOD_OUT="$OUTD" \
		FAKE_UNAME_RELEASE="$2" timeout 20 "$1" --verify "$3" 2>&1)
	RC=$?
}

# ------------------------------------------------ the pair, both ways
verify "$A" "$KREL" "$MOD48"
is "$RC" 0 "4.8 module, runner with a 4.8 stapio: allowed"
like "$OUT" "built by systemtap 4\.8/0\.188: systemtap 4's control protocol" "  speaking systemtap 4's protocol"
verify "$B" "$REL51" "$MOD51"
is "$RC" 0 "5.1 module, runner with a 5.1 stapio: allowed"
like "$OUT" "built by systemtap 5\.1/0\.192: systemtap 5's control protocol" "  speaking systemtap 5's protocol"
verify "$A" "$REL51" "$MOD51"
is "$RC" 1 "5.1 module, runner with a 4.8 stapio: refused"
like "$OUT" "was built by systemtap 5\.1, but this host's stapio \(/usr/lib/systemtap/stapio\) is systemtap 4\.8" \
	"  naming both versions"
like "$OUT" "hint: build the module with systemtap 4.8" "  and what to do"
verify "$B" "$KREL" "$MOD48"
is "$RC" 1 "4.8 module, runner with a 5.1 stapio: refused"
like "$OUT" "was built by systemtap 4\.8, but this host's stapio \($STAPIO51\) is systemtap 5\.1" \
	"  naming both versions"
# The version is checked before the kernel: the other kernel's module says why.
verify "$A" "$KREL" "$MOD51"
like "$OUT" "built by systemtap 5\.1" "5.1 module on the 4.8 host's kernel: the version is the reason given"

# ------------------------------------------------ forged version data
verify "$A" "$KREL" "$F/claims51/sc_proto48.ko"
is "$RC" 1 "a 4.8 module whose .modinfo claims systemtap 5.1: refused"
like "$OUT" "claims systemtap 5\.1 \(\.modinfo systemtap=\) but was built by systemtap 4\.8" "  saying both"
verify "$B" "$KREL" "$F/says51/sc_proto48.ko"
is "$RC" 0 "a 4.8 module whose version string was rewritten to 5.1 passes --verify (the bytes say 5.1)"
verify "$A" "$KREL" "$F/says51/sc_proto48.ko"
is "$RC" 1 "  and is refused by the 4.8 runner"
verify "$A" "$KREL" "$F/says60/sc_proto48.ko"
is "$RC" 1 "a module claiming systemtap 6.0: refused"
like "$OUT" "built by systemtap 6\.0, whose control protocol this staprun-auth does not know \(it speaks systemtap 4\.x and 5\.x\)" \
	"  naming its version and the ones it speaks"
verify "$A" "$KREL" "$F/cut/sc_proto48.ko"
is "$RC" 1 "a module whose version string lost its end: refused"
like "$OUT" "carries no systemtap version" "  as carrying none"
verify "$A" "$KREL" "$F/truncated/sc_proto48.ko"
is "$RC" 1 "a module cut inside its version string: refused"
like "$OUT" "is not a valid kernel module" "  as no module at all"
verify "$A" "$KREL" "$MODTWO"
is "$RC" 1 "a module whose script holds another version's string: refused"
like "$OUT" "holds two different systemtap version strings" "  which cannot be told apart"
verify "$A" "$KREL" "$MODGLOB"
is "$RC" 0 "a module whose global's initial value has that shape: allowed (it is data)"

# ------------------------------------------- whole runs: what reaches .cmd
# As auth-fake-kmod.sh: /proc/systemtap/NAME and /sys/module/NAME are
# directories made here, .cmd a regular file that collects the messages, the
# caller the test user, stapio's exec recorded instead of run.
auth_user_setup || skip_all "no unprivileged account $AUTH_USER / group $AUTH_GROUP here"
chmod 1777 "$OUTD"
# A kernel's symbols as root reads them (this host's kernel has no modules,
# so none of the module ones): the four kernel relocations and others.
printf '%s\n' "ffffffff81000000 T _stext" "ffffffff81100000 T kallsyms_lookup_name" \
	"ffffffff81100100 T kallsyms_on_each_symbol" "ffffffff81100200 T printk" \
	"ffffffff81100300 T module_kallsyms_on_each_symbol" >"$T/kallsyms"
run_whole() { # run_whole BIN RELEASE MODULE STAPIO [FAKE_CMD_PROTOCOL]
	local name
	name=$(basename "$3" .ko)
	rm -rf "$T/procfs" "$T/sysmod" "$T/sysmod.off" "$OUTD"/*
	mkdir -p "$T/procfs/$name" "$T/sysmod.off/sections"
	echo live >"$T/sysmod.off/initstate"
	echo 0xffffffffc0a00000 >"$T/sysmod.off/sections/.gnu.linkonce.this_module"
	: >"$T/procfs/$name/.cmd"
	chown "$AUTH_UID:$AUTH_GID" "$T/procfs/$name/.cmd"
	policy "sha256:$(sha256_of "$3") users=$AUTH_USER"
	OUT=$(env LD_PRELOAD="$FAKES/fake-kmod-preload" FAKE_KMOD_OUT="$OUTD" FAKE_KMOD_ERRNO=0 \
		FAKE_UNAME_RELEASE="$2" FAKE_UID="$AUTH_UID" FAKE_GID="$AUTH_GID" \
		FAKE_REDIRECT="/proc/systemtap/=$T/procfs/:/sys/module/$name=$T/sysmod:/proc/kallsyms=$T/kallsyms" \
		FAKE_LIVE_DIR="$T/sysmod" FAKE_EXEC="$4" FAKE_EXEC_STATUS=0 \
		${5:+FAKE_CMD_PROTOCOL=$5} timeout 20 "$1" "$3" 2>&1)
	RC=$?
	CMD=$T/procfs/$name/.cmd
}
# The message types on .cmd, in order, one a line (credentials, relocation
# and tzinfo payloads of both numberings), and the kernel relocations' names.
msgs() {
	python3 - "$CMD" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
sizes = {15: 4, 9: 264, 14: 72, 95: 4, 89: 264, 94: 72}
off = 0
while off + 4 <= len(data):
    (t,) = struct.unpack_from('<I', data, off)
    n = sizes.get(t)
    if n is None:
        print('unknown', t)
        break
    p = data[off + 4:off + 4 + n]
    off += 4 + n
    if n == 264:
        mod, rel = (s.split(b'\0')[0].decode() for s in (p[:128], p[128:256]))
        print(t, mod, rel)
    else:
        print(t)
PY
}
run_whole "$A" "$KREL" "$MOD48" /usr/lib/systemtap/stapio
is "$RC" 0 "a whole run of the 4.8 module with the 4.8 runner"
M=$(msgs)
is "$(head -n 1 <<<"$M")" 15 "  first message: STP_PRIVILEGE_CREDENTIALS as systemtap 4 numbers it (15)"
like "$M" "^9 kernel _stext$" "  relocations as 9"
is "$(tail -n 1 <<<"$M")" 14 "  last: STP_TZINFO (14)"
unlike "$M" "module_kallsyms_on_each_symbol" "  no module_kallsyms_on_each_symbol for systemtap 4"
unlike "$M" "^(95|89|94)( |$)" "  nothing in systemtap 5's numbers"

run_whole "$B" "$REL51" "$MOD51" "$STAPIO51"
is "$RC" 0 "a whole run of the 5.1 module with the runner told to speak 5"
M=$(msgs)
is "$(head -n 1 <<<"$M")" 95 "  first message: STP_PRIVILEGE_CREDENTIALS as systemtap 5 numbers it (95)"
like "$M" "^89 kernel _stext$" "  relocations as 89"
like "$M" "^89 kernel module_kallsyms_on_each_symbol$" \
	"  with module_kallsyms_on_each_symbol, which systemtap 5's runtime needs"
is "$(tail -n 1 <<<"$M")" 94 "  last: STP_TZINFO (94)"
unlike "$M" "^(15|9|14)( |$)" "  nothing in systemtap 4's numbers"

# Whole runs refused before the kernel: the pair swapped on both kernels
# (the release faked), a module claiming one version and built by the
# other, forged, cut and truncated version data. Each is blessed for the
# caller; each is refused with the versions named, and nothing reaches
# init_module or stapio.
refused_whole() { # refused_whole BIN RELEASE MODULE STAPIO REGEX DESCRIPTION
	run_whole "$1" "$2" "$3" "$4"
	is "$RC" 1 "$6: refused"
	like "$OUT" "$5" "  saying why, the versions named" || diag "$OUT"
	[ ! -e "$OUTD/module.bin" ] && [ ! -e "$OUTD/finit" ] && [ ! -e "$OUTD/exec.argv" ]
	ok $? "  nothing loaded, no stapio"
}
v48to51="was built by systemtap 4\.8, but this host's stapio \($STAPIO51\) is systemtap 5\.1"
v51to48="was built by systemtap 5\.1, but this host's stapio \(/usr/lib/systemtap/stapio\) is systemtap 4\.8"
refused_whole "$A" "$REL51" "$MOD51" /usr/lib/systemtap/stapio "$v51to48" \
	"run: 5.1 module, 4.8 runner, on $REL51"
refused_whole "$A" "$KREL" "$MOD51" /usr/lib/systemtap/stapio "$v51to48" \
	"run: 5.1 module, 4.8 runner, on $KREL"
refused_whole "$B" "$KREL" "$MOD48" "$STAPIO51" "$v48to51" "run: 4.8 module, 5.1 runner, on $KREL"
refused_whole "$B" "$REL51" "$MOD48" "$STAPIO51" "$v48to51" "run: 4.8 module, 5.1 runner, on $REL51"
claim="claims systemtap 5\.1 \(\.modinfo systemtap=\) but was built by systemtap 4\.8"
refused_whole "$A" "$KREL" "$F/claims51/sc_proto48.ko" /usr/lib/systemtap/stapio "$claim" \
	"run: a 4.8 module claiming 5.1, 4.8 runner"
refused_whole "$B" "$REL51" "$F/claims51/sc_proto48.ko" "$STAPIO51" "$claim" \
	"run: a 4.8 module claiming 5.1, 5.1 runner"
refused_whole "$A" "$KREL" "$F/says51/sc_proto48.ko" /usr/lib/systemtap/stapio \
	"was built by systemtap 5\.1, but this host's stapio .* is systemtap 4\.8" \
	"run: a 4.8 module rewritten to say 5.1, 4.8 runner"
refused_whole "$A" "$KREL" "$F/says60/sc_proto48.ko" /usr/lib/systemtap/stapio \
	"built by systemtap 6\.0, whose control protocol this staprun-auth does not know" \
	"run: a module saying systemtap 6.0"
refused_whole "$A" "$KREL" "$F/cut/sc_proto48.ko" /usr/lib/systemtap/stapio \
	"carries no systemtap version" "run: a module whose version string lost its end"
refused_whole "$A" "$KREL" "$F/truncated/sc_proto48.ko" /usr/lib/systemtap/stapio \
	"is not a valid kernel module" "run: a module cut inside its version string"

# The last line of defence: bytes that say 5.1 in a module whose runtime is
# systemtap 4's (the fake answers as 4.x's runtime does: EINVAL).
run_whole "$B" "$KREL" "$F/says51/sc_proto48.ko" "$STAPIO51" 4
is "$RC" 1 "a 4.8 module rewritten to say 5.1, its runtime answering EINVAL: refused"
like "$OUT" "sc_proto48 refused systemtap 5's control protocol \(its systemtap version string says 5\.1/0\.192\)" \
	"  saying so"
like "$OUT" "unloading it" "  and unloading it"
like "$(cat "$OUTD/delete" 2>/dev/null)" "^sc_proto48 " "  delete_module was called"
[ ! -e "$OUTD/exec.argv" ]
ok $? "  stapio never ran"

done_testing
