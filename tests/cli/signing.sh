#!/bin/bash
# Module signing without a guest (issue 20): signing-key generate/show, bless
# --sign on a real cached module (byte for byte the kernel's sign-file, kept
# as a signed variant), -p4 -T choosing the variant by known_hosts' facts and
# refusing before connecting, --explain's signer, a key others can read.
# The Secure Boot guest runs the same modules: tests/vm/secureboot.sh.
. "$top_srcdir/tests/lib/testlib.sh"
require_stap
export STAPCACHE_SYSCONFDIR="$T/etc"
write_config "runtime: $RUNTIME"
S=$STAPCACHE
SCRIPT='probe begin { println("signed hello") exit() }'

# 1. The key.
out=$("$S" signing-key generate --cn "cli test key" "$T/key" 2>&1); st=$?
is "$st" 0 "signing-key generate DIR"
like "$out" "fingerprint  sha256:[0-9a-f]{64}" "  prints the certificate's fingerprint"
like "$out" "mokutil --import $T/key/module-signing-cert.der" "  and how to enroll it (MOK)"
is "$(stat -c %a "$T/key/module-signing-key.pem")" 600 "  the private key is 0600"
is "$(stat -c %a "$T/key")" 700 "  in a 0700 directory"
fp=sha256:$(openssl x509 -in "$T/key/module-signing-cert.pem" -outform DER | sha256sum | cut -c1-64)
like "$out" "fingerprint  $fp" "  the fingerprint is openssl's SHA-256 of the certificate"
[ "$(openssl x509 -in "$T/key/module-signing-cert.der" -inform DER -noout -fingerprint -sha256 |
	tr -d ':' | tr 'A-F' 'a-f' | sed 's/.*=//')" = "${fp#sha256:}" ]
ok $? "  and the DER file is the same certificate"
like "$(openssl x509 -in "$T/key/module-signing-cert.pem" -noout -text)" "Code Signing" \
	"  its extended key usage is code signing"
out=$("$S" signing-key generate "$T/key" 2>&1); st=$?
is "$st" 1 "generate over an existing key: refused"
like "$out" "exists; it is never replaced" "  saying so"
out=$("$S" signing-key show "$T/key" 2>&1); st=$?
is "$st" 0 "signing-key show"
like "$out" "private key  $T/key/module-signing-key.pem \(mode 0600, belongs to the certificate\)" \
	"  the private key is usable"
out=$("$S" signing-key show 2>&1); st=$?
is "$st" 1 "signing-key show with none configured: status 1"
like "$out" "no module-signing key yet .*signing-key generate" "  saying how to make one"

# 2. bless --sign: a cached module, signed, checked, kept as a signed variant.
module=$("$S" -p4 -r "$KREL" -e "$SCRIPT" 2>"$T/compile.err")
[ -s "$module" ] || { diag "$(cat "$T/compile.err")"; skip_all "could not compile the test module"; }
out=$("$S" bless --sign "$T/key" "$module" 2>"$T/err"); st=$?
is "$st" 0 "bless --sign KEY MODULE.ko"
signed=$(sed -n 's/^stapcache: signed .*: \(\/.*\.ko\)$/\1/p' "$T/err")
[ -s "$signed" ]; ok $? "  the signed variant is in the cache"
is "$(basename "$signed")" "$(basename "$module")" "  under the module's name"
like "$out" "^sha256:$(sha256sum "$signed" | cut -c1-64)  # .*, signed by ${fp:0:23}" \
	"  the printed line is the signed bytes', naming the signer"
cp "$module" "$T/theirs.ko"
sf=/usr/lib/linux-kbuild-$(printf '%s' "$KREL" | cut -d. -f1-2)/scripts/sign-file
if [ -x "$sf" ]; then
	"$sf" sha256 "$T/key/module-signing-key.pem" "$T/key/module-signing-cert.der" "$T/theirs.ko"
	cmp -s "$signed" "$T/theirs.ko"
	ok $? "  byte for byte what the kernel's sign-file writes"
else
	skip "no $sf (apt-get install linux-kbuild-6.1)"
fi
is "$(head -c "$(stat -c %s "$module")" "$signed" | sha256sum | cut -c1-64)" \
	"$(sha256sum "$module" | cut -c1-64)" "  the unsigned module's bytes come first"
is "$(count_entries "$XDG_CACHE_HOME/stapcache")" 2 "  two entries: the build and its signed variant"
out=$("$S" bless --sign "$T/key" "$module" 2>&1)
like "$out" "already signed" "bless --sign again: answered from the cache"
cp "$module" "$T/elsewhere.ko"
out=$("$S" bless --sign "$T/key" "$T/elsewhere.ko" 2>&1); st=$?
is "$st" 1 "bless --sign of a module outside the cache: refused"
like "$out" "signs a module of the cache" "  saying why"
out=$("$S" bless --sign-cert "$T/key/module-signing-cert.pem" "$module" 2>&1); st=$?
is "$st" 2 "--sign-cert without --sign: a usage error"
# An existing PEM key with its certificate given apart (an organisation's MOK).
sum=$(sha256sum <"$signed")
rm -rf "$(dirname "$signed")"
out=$("$S" bless --sign "$T/key/module-signing-key.pem" \
	--sign-cert "$T/key/module-signing-cert.der" "$module" 2>&1); st=$?
is "$st" 0 "bless --sign KEY.pem --sign-cert CERT.der (a key stapcache did not lay out)"
is "$(sha256sum <"$signed")" "$sum" "  the same signed variant, the same bytes"
cp -a "$T/key" "$T/loose"
chmod 640 "$T/loose/module-signing-key.pem"
rm -rf "$(dirname "$signed")" # the signed variant: signing must run again
out=$("$S" bless --sign "$T/loose" "$module" 2>&1); st=$?
is "$st" 1 "a private key group-readable: refused"
like "$out" "chmod 600" "  saying chmod 600"
is "$(count_entries "$XDG_CACHE_HOME/stapcache")" 1 "  and nothing was published"
"$S" bless --sign "$T/key" "$module" >/dev/null 2>&1

# 3. -p4 -T: the variant each target's facts call for, nothing connected to.
cat >"$XDG_CONFIG_HOME/stapcache/known_hosts" <<EOF
- name: plain
  execute: ssh:nobody@127.0.0.1:9:auth
  kernel: $KREL
  arch: $(uname -m)
  cpu: test
  lockdown: none
  sig-enforce: no
- name: sb
  execute: ssh:nobody@127.0.0.1:9:auth
  kernel: $KREL
  arch: $(uname -m)
  cpu: test
  lockdown: integrity
  sig-enforce: yes
  secure-boot: on
  module-signers:
    - $fp
EOF
like "$("$S" host list)" "^sb .* required " "host list: sb loads only signed modules"
is "$("$S" -p4 -T plain -e "$SCRIPT")" "$module" "-p4 -T plain: the unsigned module"
out=$("$S" -p4 -T sb -e "$SCRIPT" 2>"$T/err"); st=$?
is "$st:$(basename "$(dirname "$out")")" "0:$(basename "$(dirname "$signed")")" \
	"-p4 -T sb: the signed variant, found by the signer its db holds"
is "$(wc -c <"$T/err")" 0 "  quietly"
OTHER='probe begin { println("not signed yet") exit() }'
"$S" -p4 -r "$KREL" -e "$OTHER" >/dev/null 2>&1
out=$("$S" -T sb -e "$OTHER" 2>&1); st=$?
is "$st" 1 "-T sb with no signed variant: status 1 (no connection: port 9)"
like "$out" "^stapcache: sb loads only signed modules \(lockdown integrity, sig_enforce, Secure Boot on\), and no signed variant of stap_[0-9a-f]+\.ko is cached; sign and bless it: stapcache bless -T sb --sign KEY /" \
	"  one line: the enforcement and the bless --sign command"
is "$(printf '%s\n' "$out" | wc -l)" 1 "  just one"
out=$("$S" -p4 -T sb -e "$OTHER" 2>&1 >/dev/null)
like "$out" "note: sb loads only signed modules .* this is the unsigned module" \
	"-p4 -T sb with no signed variant: the unsigned module, and a note"

# 4. --explain and doctor name the configured signer.
write_config "runtime: $RUNTIME" "signing-key: $T/key"
out=$("$S" --explain -p4 -r "$KREL" -e "$SCRIPT")
like "$out" "^# signer: $fp \($T/key\)$" "--explain shows the signer"
like "$out" "^# signed variant cached: $signed$" "  and its cached signed variant"
out=$("$S" doctor 2>&1)
like "$out" "signing key: $T/key, certificate $fp" "doctor: the configured signing key"
write_config "runtime: $RUNTIME" "signing-key: $T/nosuch"
out=$("$S" doctor 2>&1)
like "$out" "✗ signing key: no module-signing key $T/nosuch" "doctor: a configured key that is not there"

done_testing
