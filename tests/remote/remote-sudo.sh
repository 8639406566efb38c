#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The sudo runner against real sudo on real sshd targets: the password is
# asked once on the local terminal (driven through script(1)), answered on
# each target's sudo prompt over a PTY; a wrong password fails that target
# only; without a terminal the target fails with what to do instead; the
# password shows up in no output, no process's argv and no log.
#
# The test user "scsudo" (with a password) exists only inside the targets'
# mount namespaces: each sudo target's sshd runs under `unshare --mount` with
# private copies of /etc/passwd, /etc/group, /etc/shadow and /etc/sudoers.d
# bind-mounted over the host's (sshd and sudo both read those), so the host's
# /etc is never changed. Each target gives scsudo another password.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"
require_stap
[ "$(id -u)" = 0 ] || skip_all "needs root (private /etc in a mount namespace)"
command -v sudo >/dev/null 2>&1 || skip_all "no sudo (apt-get install sudo)"
command -v script >/dev/null 2>&1 || skip_all "no script (apt-get install bsdutils)"
command -v openssl >/dev/null 2>&1 || skip_all "no openssl (to hash the test password)"
unshare --mount true 2>/dev/null || skip_all "cannot make a mount namespace"
. "$top_srcdir/tests/lib/remote-lib.sh"
export STAPCACHE_DIR=$top_builddir/tests/remote-cache
write_config "runtime: $RUNTIME"
unlike() { if printf '%s' "$1" | grep -Eq -- "$2"; then ok 1 "$3"; diag "matches: $2"; else ok 0 "$3"; fi; }
U=scsudo
UID_=47901
PW1="right-$RANDOM-horse"
PW2="other-$RANDOM-staple"
chmod 1777 "$R/tmp"
mkdir -p "$R/home-$U"
chown "$UID_:$UID_" "$R/home-$U"

# private_etc N PASSWORD: $R/etc-N with scsudo added, and the script that
# binds it over /etc inside the namespace, then execs its arguments.
private_etc() {
	local e=$R/etc-$1 hash
	mkdir -p "$e/sudoers.d"
	hash=$(openssl passwd -6 "$2")
	cp /etc/passwd /etc/group /etc/shadow "$e/"
	echo "$U:x:$UID_:$UID_:stapcache sudo test:$R/home-$U:/bin/sh" >> "$e/passwd"
	echo "$U:x:$UID_:" >> "$e/group"
	echo "$U:$hash:19000:0:99999:7:::" >> "$e/shadow"
	chmod 640 "$e/shadow"
	cp -a /etc/sudoers.d/. "$e/sudoers.d/"
	cat > "$e/sudoers.d/$U" <<SUDO
Defaults:$U lecture=never, timestamp_timeout=0, passwd_tries=3
Defaults:$U secure_path="$R/bin:/usr/bin:/bin", env_keep += "FAKE_LOG"
$U ALL=(root) $R/bin/staprun
SUDO
	chmod 440 "$e/sudoers.d/$U"
	cat > "$e/enter" <<ENTER
#!/bin/sh
set -e
for f in passwd group shadow sudoers.d; do mount --bind "$e/\$f" "/etc/\$f"; done
exec "\$@"
ENTER
	chmod +x "$e/enter"
}
private_etc 1 "$PW1"
private_etc 2 "$PW2"

P1=$(free_port); SSHD_WRAP="unshare --mount -- $R/etc-1/enter" start_sshd s1 "$P1" ||
	skip_all "cannot start sshd in a mount namespace"
P2=$(free_port); SSHD_WRAP="unshare --mount -- $R/etc-2/enter" start_sshd s2 "$P2" ||
	skip_all "cannot start sshd in a mount namespace"
PA=$(free_port); start_sshd a "$PA" || skip_all "cannot start sshd"
trust s1 "$P1"; trust s2 "$P2"; trust a "$PA"
target s1 "ssh:$U@127.0.0.1:$P1:sudo"
target s2 "ssh:$U@127.0.0.1:$P2:sudo"
target a "ssh:root@127.0.0.1:$PA:auth"
is "$(grep -c "^$U:" /etc/passwd)" 0 "the host's /etc/passwd has no $U"

# Build first, so that the terminal runs below only connect and run.
$STAPCACHE -p4 -T s1 -e "$SCRIPT" >/dev/null 2>"$T/err" ||
	{ sed 's/^/# /' "$T/err"; echo "Bail out! no module build"; exit 1; }

# on_tty NAME PASSWORD CMD...: run CMD on a terminal (script(1)); type
# PASSWORD once the password prompt shows. Output in $T/NAME.out; every
# process's argv sampled meanwhile in $T/NAME.ps.
on_tty() {
	local name=$1 pw=$2 i
	shift 2
	rm -f "$T/in"; mkfifo "$T/in"
	SHELL=/bin/bash script -qfec "$*; echo \"exit=\$?\"" /dev/null <"$T/in" >"$T/$name.out" 2>&1 &
	local sp=$!
	exec 7>"$T/in"
	( while kill -0 $sp 2>/dev/null; do ps -eo args >> "$T/$name.ps"; sleep 0.1; done ) &
	local pp=$!
	for i in $(seq 3000); do
		grep -q "sudo password on the targets" "$T/$name.out" && break
		kill -0 $sp 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$pw" ] && printf '%s\r' "$pw" >&7
	for i in $(seq 3000); do kill -0 $sp 2>/dev/null || break; sleep 0.1; done
	kill $sp 2>/dev/null
	wait $sp
	exec 7>&-
	wait $pp
	tr -d '\r' < "$T/$name.out" > "$T/$name.txt"
}
# never NAME DESC: the passwords are nowhere in that run's output, argv or logs.
never() {
	local hits
	hits=$(cat "$T/$1.txt" "$T/$1.ps" "$T/err" "$R"/sshd-*/log 2>/dev/null |
		grep -cF -e "$PW1" -e "$PW2")
	is "$hits" 0 "$2"
}

# Right password for s1, wrong for s2 (it has another), a needs none.
on_tty mixed "$PW1" "$STAPCACHE -T s1 -T s2 -T a -e '$SCRIPT' -G greeting=salut"
out=$(cat "$T/mixed.txt")
is "$(grep -c "sudo password on the targets" "$T/mixed.txt")" 1 "the password is asked once"
like "$out" "s1: runner staprun pid [0-9]+ uid 0" "s1: staprun ran through sudo, as root"
like "$out" "s1: arg\\[greeting=salut\\]" "s1: with the module's parameters"
like "$out" "s2: sudo there did not accept the password" "s2: the wrong password fails s2"
unlike "$out" "s2: runner" "s2: nothing ran there"
like "$out" "a: runner staprun-auth" "a: the other target still runs"
like "$out" "exit=1" "a failed target makes the exit status 1"
unlike "$out" "\\[stapcache sudo" "sudo's prompt is taken out of the output"
unlike "$out" "s1: \$" "and so is the empty line sudo prints after it"
never mixed "no password in the output, any process's argv or the sshd logs"
ok "$( [ -s "$T/mixed.ps" ] && grep -q "stapcache-remote" "$T/mixed.ps"; echo $?)" \
	"(the argv samples did see the run)"
is "$(remote_leftovers)" 0 "no temp dirs left on the targets"

# Wrong password on the only target.
on_tty wrong "not-$PW1" "$STAPCACHE -T s1 -e '$SCRIPT'"
out=$(cat "$T/wrong.txt")
like "$out" "did not accept the password" "a wrong password: the target fails, saying why"
like "$out" "exit=255" "with status 255 (nothing ran)"
never wrong "a wrong password shows up nowhere either"

# No terminal: not asked; the target fails with what to do instead.
$STAPCACHE -T s1 -e "$SCRIPT" </dev/null >"$T/out" 2>"$T/err"; st=$?
is "$st" 255 "no terminal: the sudo target fails"
like "$(cat "$T/err")" "needs a password, and there is no terminal" "saying so"
like "$(cat "$T/err")" "NOPASSWD" "with how to allow staprun without a password"
like "$(cat "$T/err")" "auth runner" "or to use the auth runner"
unlike "$(cat "$T/out")" "runner" "and nothing ran"
is "$(remote_leftovers)" 0 "no temp dirs left after the failures"

# The runner's Ctrl-C path on a PTY: the run stops, the temp dir goes.
: > "$R/log/started"; : > "$R/log/stopped"
on_tty_bg() {
	rm -f "$T/in"; mkfifo "$T/in"
	SHELL=/bin/bash script -qfec "$*" /dev/null <"$T/in" >"$T/bg.out" 2>&1 &
	BG=$!
	exec 7>"$T/in"
}
on_tty_bg "$STAPCACHE -T s1 -e '$SCRIPT' -G fake_sleep=60"
for i in $(seq 3000); do grep -q "sudo password" "$T/bg.out" && break; sleep 0.1; done
printf '%s\r' "$PW1" >&7
for i in $(seq 3000); do [ -s "$R/log/started" ] && break; sleep 0.1; done
ok "$( [ -s "$R/log/started" ]; echo $?)" "a long run started through sudo"
printf '\003' >&7
for i in $(seq 3000); do kill -0 $BG 2>/dev/null || break; sleep 0.1; done
kill -0 $BG 2>/dev/null; isnt "$?" 0 "Ctrl-C on the terminal ends stapcache"
kill $BG 2>/dev/null; wait $BG; exec 7>&-
for i in $(seq 3000); do [ "$(remote_leftovers)" = 0 ] && break; sleep 0.1; done
like "$(cat "$R/log/stopped")" "stopped by TERM" "the runner under sudo was stopped"
left=$(remote_leftovers)
is "$left" 0 "and its temp dir removed"
# Seen twice under load (1 left after 30 s), not reproduced alone: say what stays.
[ "$left" = 0 ] || diag "left: $(find "$R/tmp" -mindepth 1 -maxdepth 2 -printf '%p ' 2>/dev/null)" \
		"pid files: $(cat "$R"/tmp/*/pid 2>/dev/null | tr '\n' ' ')" \
		"their processes: $(for q in $(cat "$R"/tmp/*/pid 2>/dev/null); do ps -o pid=,stat=,args= -p "$q"; done | tr '\n' ';')"

done_testing
