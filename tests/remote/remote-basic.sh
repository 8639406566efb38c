#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# stapcache -T against real OpenSSH sshd targets on loopback: host keys
# (unknown, changed, a user ssh config that tries to disable checking), key
# auth, ~/.ssh/config aliases, upload + digest check, output and exit codes,
# the kernel check, and the host subcommands. The runner on the targets is a
# stand-in (see remote-lib.sh): this kernel cannot load modules.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"
require_stap
. "$top_srcdir/tests/lib/remote-lib.sh"
# One real module build, shared by the remote tests (stap builds are reproducible).
export STAPCACHE_DIR=$top_builddir/tests/remote-cache
write_config "runtime: $RUNTIME"
# has FILE FIXED-STRING DESC (fingerprints hold '+' and '/': no regex)
has() { grep -qF -- "$2" "$1"; ok $? "$3"; }

PA=$(free_port); start_sshd a "$PA" || skip_all "cannot start sshd"
PB=$(free_port); PC=$(free_port); start_sshd b "$PB" "$PC" || skip_all "cannot start sshd"
trust a "$PA"
# known_hosts says port PC has a's key, but b answers there: a changed key.
trust a "$PC"
target a "ssh:root@127.0.0.1:$PA:auth"
target unknown "ssh:root@127.0.0.1:$PB:auth"
target changed "ssh:root@127.0.0.1:$PC:direct"
target stale "ssh:root@127.0.0.1:$PA:auth" 6.1.0-1-amd64
target nologin "ssh:nosuchuser@127.0.0.1:$PA:auth"
target alias "ssh:aliasA:auth"

# -p4 -T: build for the target's kernel and print the path, nothing else.
out=$($STAPCACHE -p4 -T a -e "$SCRIPT" 2>"$T/err"); st=$?
is "$st" 0 "-p4 -T builds for the target"
like "$out" '^/.*/stap_[0-9a-f]+\.ko$' "-p4 -T prints the module path"
MOD=$out
SUM=$(sha256sum "$MOD" | cut -c1-64)
is "$(ls "$R/log")" "" "-p4 -T ran nothing remotely"

# sysroot: with no build-tree, the target is built against the sysroot's
# lib/modules/KERNEL/build (here a link to this machine's tree).
mkdir -p "$T/root/lib/modules/$KREL" "$T/noroot"
ln -s "$(readlink -f "/lib/modules/$KREL/build")" "$T/root/lib/modules/$KREL/build"
target rooted "ssh:root@127.0.0.1:$PA:auth"
printf '  sysroot: %s\n' "$T/root" >> "$KH"
target unrooted "ssh:root@127.0.0.1:$PA:auth"
printf '  sysroot: %s\n' "$T/noroot" >> "$KH"
out=$($STAPCACHE -p4 -T rooted -e "$SCRIPT" 2>"$T/err"); st=$?
is "$st" 0 "-p4 -T a target with a sysroot builds against the sysroot's tree"
like "$out" '^/.*/stap_[0-9a-f]+\.ko$' "  and prints the module path"
$STAPCACHE -p4 -T unrooted -e "$SCRIPT" >"$T/out" 2>"$T/err"; st=$?
isnt "$st" 0 "a sysroot without the kernel's tree: the build fails"
like "$(cat "$T/err")" "$T/noroot/lib/modules/$KREL/build" "  naming the tree it looked for"

# A target whose kernel this machine has no build tree for: its build fails,
# stapcache names the target and exits 1, and nothing runs there.
$STAPCACHE -T stale -e "$SCRIPT" >"$T/out" 2>"$T/err"; st=$?
is "$st" 1 "a build that fails for a target: exit 1"
like "$(cat "$T/err")" "^stapcache: 6\.1\.0-1-amd64 \(for target stale\): ." \
	"the error names the target and says why"
is "$(ls "$R/log"; cat "$T/out")" "" "nothing ran for a target whose build failed"

# A run: uploaded, renamed, digest checked, runner given exactly the arguments.
out=$($STAPCACHE -T a -e "$SCRIPT" -G greeting=bonjour -c "echo 'it''s' \$HOME; rm x" \
	2>"$T/err"); st=$?
is "$st" 0 "run on a: the runner's status"
like "$out" "sha256 $SUM" "the runner saw the same bytes (sha256)"
like "$out" "arg\\[echo 'it''s' \\\$HOME; rm x\\]" "-c CMD reaches the runner as one word, unexpanded"
like "$out" "arg\\[greeting=bonjour\\]" "-G reaches the runner as a module parameter"
like "$out" "arg\\[/.*/stapcache\\.[A-Za-z0-9]+/$(basename "$MOD")\\]" \
	"the module is named as its internal name in a private dir"
like "$out" "mode drwx------" "the remote temp dir is 0700"
is "$(remote_leftovers)" 0 "the remote temp dir is removed after the run"

# A -G value no runner can pass (init_module's parameters are not quoted):
# refused before anything connects (issue 23).
$STAPCACHE -T a -e "$SCRIPT" -G 'greeting=a b' >"$T/out" 2>"$T/err"; st=$?
is "$st" 1 "-G with a space in its value: refused (status 1)"
like "$(cat "$T/err")" "-G 'greeting=a b': the value contains whitespace, which no runner can pass" \
	"  saying why, before anything ran there"
is "$(cat "$T/out")" "" "  the runner never ran"
# A -G naming a global the script lacks: refused with the script's globals,
# before anything connects (the runner would blame the target's policy).
$STAPCACHE -T a -e "$SCRIPT" -G gretting=x >"$T/out" 2>"$T/err"; st=$?
is "$st" 1 "-G with a global the script lacks: refused (status 1)"
like "$(cat "$T/err")" "^stapcache: -G gretting: the script has no global gretting; did you mean -G greeting=\.\.\.\? \(stap_[0-9a-f]+ declares .*greeting" \
	"  naming the nearest of the script's globals, and all of them"
is "$(cat "$T/out")" "" "  the runner never ran"

# Exit status and stderr pass through; stdout and stderr stay apart.
$STAPCACHE -T a -e "$SCRIPT" -G fake_stderr=oops -G fake_exit=7 >"$T/out" 2>"$T/err"; st=$?
is "$st" 7 "the remote exit status is stapcache's"
like "$(cat "$T/err")" "^to stderr: oops" "remote stderr arrives on stderr"
if grep -q "to stderr" "$T/out"; then ok 1 "stderr not mixed into stdout"; else ok 0 "stderr not mixed into stdout"; fi
is "$(remote_leftovers)" 0 "temp dir removed after a failing run too"

# Unknown host key: refused before anything is sent, with the fingerprint and the fix.
$STAPCACHE -T unknown -e "$SCRIPT" >"$T/out" 2>"$T/err"; st=$?
is "$st" 255 "unknown host key: refused (255)"
like "$(cat "$T/err")" "not in .*known_hosts.*fingerprint SHA256:" "unknown host key: says so"
has "$T/err" "fingerprint $(fp b)" "unknown host key: prints its SHA256 fingerprint"
has "$T/err" "stapcache host accept unknown $(fp b)" "unknown host key: the command that accepts it"
like "$(cat "$T/err")" "ssh-keyscan -p $PB 127.0.0.1" "unknown host key: the ssh-keyscan alternative"
is "$(cat "$R/log/"* 2>/dev/null; cat "$T/out")" "" "unknown host key: nothing ran"

# Changed host key: refused loudly.
$STAPCACHE -T changed -e "$SCRIPT" >"$T/out" 2>"$T/err"; st=$?
is "$st" 255 "changed host key: refused"
like "$(cat "$T/err")" "HOST KEY OF 127.0.0.1:$PC HAS CHANGED" "changed host key: said loudly"
has "$T/err" "$(fp b)" "changed host key: the new fingerprint is shown"

# A user ssh config that turns checking off changes nothing.
cat > "$HOME/.ssh/config" <<CFG
Host *
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
CFG
$STAPCACHE -T unknown -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
is "$st" 255 "StrictHostKeyChecking no in ~/.ssh/config: unknown key still refused"
$STAPCACHE -T changed -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
like "$(cat "$T/err")" "HAS CHANGED" "StrictHostKeyChecking no: changed key still refused"
out=$($STAPCACHE -T a -e "$SCRIPT" 2>"$T/err"); st=$?
is "$st" 0 "UserKnownHostsFile /dev/null: ~/.ssh/known_hosts is still the one used"
is "$(wc -l < "$HOME/.ssh/known_hosts" | tr -d ' ')" 2 "known_hosts was not written to"

# ~/.ssh/config aliases, User, Port and IdentityFile are honoured.
mv "$HOME/.ssh/id_ed25519" "$HOME/.ssh/other_key"
mv "$HOME/.ssh/id_ed25519.pub" "$HOME/.ssh/other_key.pub"
cat > "$HOME/.ssh/config" <<CFG
Host aliasA
	HostName 127.0.0.1
	Port $PA
	User root
	IdentityFile $HOME/.ssh/other_key
CFG
# (an absolute path: libssh expands ~ in ssh config from the passwd entry, not $HOME)
out=$($STAPCACHE -T alias -e "$SCRIPT" 2>"$T/err"); st=$?
is "$st" 0 "an ~/.ssh/config alias with HostName, Port, User, IdentityFile works"
like "$out" "sha256 $SUM" "the alias ran the module"
rm "$HOME/.ssh/config"
$STAPCACHE -T a -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
is "$st" 255 "without that IdentityFile the key is not found: refused"
like "$(cat "$T/err")" "a: cannot log in to 127.0.0.1:$PA" "authentication failure is named"
mv "$HOME/.ssh/other_key" "$HOME/.ssh/id_ed25519"
mv "$HOME/.ssh/other_key.pub" "$HOME/.ssh/id_ed25519.pub"
$STAPCACHE -T nologin -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
like "$(cat "$T/err")" "cannot log in" "a user the target does not know: refused"

# A target whose live kernel differs from its entry is refused with the hint.
echo 6.1.0-2-amd64 > "$R/krel.$PA"
$STAPCACHE -T a -e "$SCRIPT" >"$T/out" 2>"$T/err"; st=$?
is "$st" 255 "live kernel differs from known_hosts: refused"
like "$(cat "$T/err")" "runs kernel 6.1.0-2-amd64 now.*says $KREL.*stapcache host refresh a" \
	"the refusal says to host refresh"
is "$(cat "$T/out")" "" "nothing ran on a target with another kernel"
is "$(remote_leftovers)" 0 "the refused target keeps no temp dir"
rm "$R/krel.$PA"

# A copy that did not arrive whole is never run: a target whose dd stops
# short, as at a cut connection (SSH's MAC proves the bytes that do arrive;
# dd's record count, that all of them did).
cat > "$R/bin/dd" <<'SHORT'
#!/bin/sh
for a in "$@"; do case $a in of=*) o=${a#of=} ;; bs=*) n=${a#bs=} ;; esac; done
head -c 1000 > "$o"; head -c $((n - 1000)) > /dev/null
printf '0+1 records in\n0+1 records out\n1000 bytes copied\n' >&2
SHORT
chmod +x "$R/bin/dd"
$STAPCACHE -T a -e "$SCRIPT" >"$T/out" 2>"$T/err"; st=$?
is "$st" 255 "an upload that did not arrive whole: refused"
like "$(cat "$T/err")" "did not arrive whole or could not be stored \\(dd: 0\\+1 records in" "the short upload is explained"
is "$(cat "$T/out")" "" "nothing ran"
is "$(remote_leftovers)" 0 "the short copy's dir is removed"
rm "$R/bin/dd"

# host accept: only the fingerprint the user checked.
$STAPCACHE host accept unknown SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA >/dev/null 2>"$T/err"; st=$?
isnt "$st" 0 "host accept with a wrong fingerprint: refused"
$STAPCACHE host accept unknown "$(fp b)" >"$T/out" 2>"$T/err"; st=$?
is "$st" 0 "host accept with the right fingerprint"
out=$($STAPCACHE -T unknown -e "$SCRIPT" 2>"$T/err"); st=$?
is "$st" 0 "the accepted host now runs"

# host list, add, refresh, remove.
out=$($STAPCACHE host list); like "$out" "^alias +ssh:aliasA:auth" "host list: a table"
$STAPCACHE host list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), d[0]["name"], d[0]["groups"])' > "$T/out"
is "$(cat "$T/out")" "8 a []" "host list --json is JSON"
out=$($STAPCACHE host add new "ssh:root@127.0.0.1:$PA:auth" --group lab 2>"$T/err"); st=$?
is "$st" 0 "host add asks the target over SSH"
like "$out" "kernel: $KREL" "host add: the target's kernel"
like "$out" "arch: $(uname -m)" "host add: the target's arch"
like "$(cat "$KH")" "- name: new" "host add appended the entry"
out=$($STAPCACHE -T @lab -e "$SCRIPT" 2>"$T/err"); st=$?
is "$st" 0 "-T @GROUP runs on the group"
$STAPCACHE host add new "ssh:root@127.0.0.1:$PA:auth" >/dev/null 2>"$T/err"; st=$?
like "$(cat "$T/err")" "already in" "host add refuses a name twice"
echo 6.1.0-2-amd64 > "$R/krel.$PA"
out=$($STAPCACHE host refresh new); like "$out" "new: kernel $KREL -> 6.1.0-2-amd64" "host refresh notices a new kernel"
like "$($STAPCACHE host list)" "^new .*6\\.1\\.0-2-amd64" "host refresh saved it"
rm "$R/krel.$PA"
# What a target reports is checked before it is saved or used (issue 19): an
# arch that would reach stap's command line, a release that names a path.
cp "$KH" "$T/kh.before"
for bad in "arch:x86_64\$(touch $T/pwned)" "arch:x86_64 -B evil" "krel:../../../tmp" \
	"krel:6.1.0-2-amd64 --x" "krel:-r"; do
	echo "${bad#*:}" > "$R/${bad%%:*}.$PA"
	$STAPCACHE host add evil "ssh:root@127.0.0.1:$PA:auth" >/dev/null 2>"$T/err"; st=$?
	is "$st" 1 "host add, the target reporting ${bad%%:*} '${bad#*:}': refused"
	like "$(cat "$T/err")" "evil: refusing what it reports as its (architecture|kernel release).*nothing was saved" \
		"  saying what and why"
	$STAPCACHE host refresh new >/dev/null 2>"$T/err"; st=$?
	is "$st" 1 "  host refresh too"
	cmp -s "$KH" "$T/kh.before"; ok $? "  known_hosts unchanged"
	rm "$R/${bad%%:*}.$PA"
done
[ ! -e "$T/pwned" ]; ok $? "nothing the target reported ran anywhere"
$STAPCACHE host remove new; st=$?
is "$st" 0 "host remove"
if grep -q 'name: new' "$KH"; then ok 1 "host remove took it out"; else ok 0 "host remove took it out"; fi
# The first contact (issue 23): a HOME whose ~/.ssh holds only the login's
# key. host add refuses the unknown host, and each hint runs as printed.
H2=$T/firsthome; mkdir -p "$H2/.ssh"; chmod 700 "$H2/.ssh"
cp "$HOME/.ssh/id_ed25519" "$HOME/.ssh/id_ed25519.pub" "$H2/.ssh/"
cp "$KH" "$T/kh.before"
HOME=$H2 $STAPCACHE host add first "ssh:root@127.0.0.1:$PA:auth" >/dev/null 2>"$T/err"; st=$?
is "$st" 1 "first contact: host add refuses a host key not in ~/.ssh/known_hosts"
hint=$(sed -n 's/.*accept it with: \(stapcache host add .* --accept SHA256:[^ ]*\) .*/\1/p' "$T/err")
like "$hint" "^stapcache host add first .*ssh:root@127.0.0.1:$PA:auth.* --accept SHA256:" \
	"  its hint is the host add that accepts it: ${hint:-none}"
like "$(cat "$T/err")" "or: mkdir -p -m 700 $H2/.ssh && ssh-keyscan -p $PA 127.0.0.1 >> $H2/.ssh/known_hosts" \
	"  and the ssh-keyscan hint makes ~/.ssh first"
cmp -s "$KH" "$T/kh.before"; ok $? "  nothing was added to stapcache's known_hosts"
HOME=$H2 $STAPCACHE host add other "ssh:root@127.0.0.1:$PA:auth" --accept SHA256:AAAA >/dev/null 2>"$T/err2"; st=$?
is "$st" 1 "  host add --accept with another fingerprint: refused"
[ ! -e "$H2/.ssh/known_hosts" ] || [ ! -s "$H2/.ssh/known_hosts" ]; ok $? "  and accepted nothing"
(HOME=$H2; export HOME; eval "${hint/stapcache/\$STAPCACHE}") >/dev/null 2>"$T/err"; st=$?
is "$st" 0 "  the hint, run as printed, adds the target"
[ -s "$H2/.ssh/known_hosts" ]; ok $? "  and the host key is in ~/.ssh/known_hosts"
HOME=$H2 $STAPCACHE -T first -e "$SCRIPT" >"$T/out" 2>"$T/err"; st=$?
is "$st" 0 "  and the first run there works"
$STAPCACHE host remove first >/dev/null

$STAPCACHE host self > "$T/self"; st=$?
is "$st" 0 "host self"
like "$(cat "$T/self")" "kernel: $(uname -r)" "host self: this kernel"
: > "$T/kh2"; cp "$KH" "$T/kh.bak"; cat "$T/self" >> "$KH"
like "$($STAPCACHE host list)" "^$(hostname) " "host self's output concatenates into known_hosts"
cp "$T/kh.bak" "$KH"

# --remote: stap's spelling, an ad-hoc target with no known_hosts entry.
cp "$KH" "$T/kh.before"
out=$($STAPCACHE --remote "ssh://root@127.0.0.1:$PA" -e "$SCRIPT" -G greeting=hola 2>"$T/err"); st=$?
is "$st" 0 "--remote ssh://USER@HOST:PORT runs"
like "$out" "runner staprun pid" "with the direct runner (staprun) by default"
like "$out" "sha256 $SUM" "the same module, built for the kernel the host reported"
like "$out" "arg\\[greeting=hola\\]" "-G reaches it"
cmp -s "$KH" "$T/kh.before"; ok $? "--remote adds nothing to known_hosts"
out=$($STAPCACHE --remote "root@127.0.0.1:$PA" --remote-runner auth -T a -e "$SCRIPT" 2>"$T/err"); st=$?
is "$st" 0 "--remote USER@HOST:PORT with -T together"
like "$out" "(^|.*\n)127\\.0\\.0\\.1-$PA: runner staprun-auth" "--remote-runner auth; prefixed with HOST-PORT"
like "$out" "(^|.*\n)a: runner staprun-auth" "and the -T target ran too"
echo 6.1.0-9-amd64 > "$R/krel.$PA"
$STAPCACHE -v --remote "root@127.0.0.1:$PA" -p4 -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
like "$(cat "$T/err")" "6\\.1\\.0-9-amd64" "--remote builds for the release the host reports (uname -r)"
rm "$R/krel.$PA"
$STAPCACHE --remote "root@127.0.0.1:$PC" -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
isnt "$st" 0 "--remote: a changed host key is refused (the same checks as -T)"
like "$(cat "$T/err")" "HOST KEY .* HAS CHANGED" "--remote: saying so loudly"
$STAPCACHE --remote "libvirt://dom" -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
isnt "$st" 0 "--remote libvirt:// is refused"
like "$(cat "$T/err")" "only ssh://" "saying which forms work"
$STAPCACHE --remote-runner bogus --remote "root@127.0.0.1:$PA" -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
is "$st" 2 "--remote-runner checks its argument"
is "$(remote_leftovers)" 0 "no temp dirs left after --remote runs"

# Malformed known_hosts: file:line, and nothing runs.
printf -- '- name: bad\n  execute: ssh:h:root\n  kernel: k\n  arch: a\n  cpu: c\n' >> "$KH"
$STAPCACHE -T a -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
isnt "$st" 0 "a malformed known_hosts stops the run"
like "$(cat "$T/err")" "known_hosts:[0-9]+: execute 'ssh:h:root': unknown runner" "with file:line"

# -r with -T is a contradiction.
$STAPCACHE -r "$KREL" -T a -e "$SCRIPT" >/dev/null 2>"$T/err"; st=$?
is "$st" 2 "-r with -T is refused"
done_testing
