#!/bin/bash
# Signed variants through the shared cache (issue 20): an admin's machine
# builds a real module, signs it with bless --sign and uploads both entries;
# a developer's machine, with no signing key and nothing built, gets the
# signed variant for a Secure Boot target from the store (no stap, no
# signer), byte for byte; a tampered signed entry is never served.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/lib/shared-lib.sh"
require_stap
[ -x "$top_builddir/stapcache/stapcache-store" ] || skip_all "stapcache-store is not built"
[ -x "$top_builddir/stapcache/stapcache-sign" ] || skip_all "stapcache-sign is not built"
make_stap_wrapper # the real stap, its runs counted
export SHARED_STAP=$T/bin/stap STAPCACHE_SYSCONFDIR=$T/etc

for m in admin dev; do machine "$m"; done
store=$T/store
config admin "file://$store" admin
config dev "file://$store" admin
on admin signing-key generate "$T/admin/key" >/dev/null 2>&1
ok $? "the admin makes a module-signing key"
fp=sha256:$(openssl x509 -in "$T/admin/key/module-signing-cert.pem" -outform DER | sha256sum | cut -c1-64)
for m in admin dev; do
	cat >"$T/$m/config/stapcache/known_hosts" <<EOF
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
done
script='probe begin { println("signed and shared") exit() }'

module=$(on admin -p4 -r "$KREL" -e "$script" 2>"$T/admin.err")
[ -s "$module" ] || { diag "$(cat "$T/admin.err")"; skip_all "could not compile the test module"; }
is "$(stap_runs)" 1 "the admin builds the module (one stap run)"
on admin bless --sign "$T/admin/key" "$module" >/dev/null 2>"$T/bless.err"
ok $? "and signs it: bless --sign"
signed=$(sed -n 's/^stapcache: signed .*: \(\/.*\.ko\)$/\1/p' "$T/bless.err")
is "$(find "$store" -name '*.entry' | wc -l | tr -d ' ')" 2 \
	"both entries are in the store: the build and its signed variant"

got=$(on dev -v -p4 -T sb -e "$script" 2>"$T/dev.err"); st=$?
is "$st" 0 "the developer asks for the module for sb (Secure Boot)"
like "$(cat "$T/dev.err")" "signed variant for sb" "  and gets its signed variant"
is "$(sha256sum <"$got")" "$(sha256sum <"$signed")" "  the admin's signed bytes, byte for byte"
is "$(stap_runs)" 1 "  no stap ran on the developer's machine"
[ ! -e "$T/dev/config/stapcache/module-signing" ] && ! grep -q signing-key "$T/dev/config/stapcache/config.yaml"
ok $? "  which has no signing key at all"
is "$(stat_of dev 'shared hits')" 1 "  one shared hit"
is "$(count_entries "$T/dev/cache/stapcache")" 1 "  its cache holds the signed variant alone"

# A tampered signed entry: refused, and -T then has no signed variant.
machine fresh
config fresh "file://$store" admin
cp "$T/dev/config/stapcache/known_hosts" "$T/fresh/config/stapcache/known_hosts"
for e in $(find "$store" -name '*.entry'); do
	grep -q "signed-variant" "$e" && sentry=$e
done
python3 - "$sentry" <<'PY'
import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
i = b.index(b'~Module signature appended~') - 20; b[i] ^= 1; open(p, 'wb').write(b)
PY
out=$(on fresh -p4 -T sb -e "$script" 2>&1 >/dev/null)
like "$out" "shared cache.*(reject|signature|does not match)" "a signed entry with a byte flipped: rejected"
like "$out" "note: sb loads only signed modules" "  and not served: the unsigned module only, with the note"

done_testing
