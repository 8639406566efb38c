# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the remote-*.sh tests: real OpenSSH sshd targets on 127.0.0.1
# high ports, a client HOME with its own key and known_hosts, and a stand-in
# runner. Source after tests/lib/testlib.sh.
#
# The runner on these targets is a stand-in (fake_runner below), because this
# kernel cannot load modules (no CONFIG_MODULES): it prints the arguments it
# was given and the sha256 of the module file, and can exit with a chosen
# status, write to stderr, or run until it is stopped. The real staprun-auth
# runs in the QEMU guest (tests/vm/remote.sh).

command -v /usr/sbin/sshd >/dev/null 2>&1 || skip_all "no sshd (apt-get install openssh-server)"
command -v ssh-keygen >/dev/null 2>&1 || skip_all "no ssh-keygen (apt-get install openssh-client)"
mkdir -p /run/sshd

R=$T/remote
mkdir -p "$R/bin" "$R/tmp" "$R/log" "$R/home/.ssh"
chmod 700 "$R/home/.ssh"
export HOME=$R/home
unset SSH_AUTH_SOCK SSH_AGENT_PID
ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519" -C stapcache-test || skip_all "ssh-keygen failed"
cp "$HOME/.ssh/id_ed25519.pub" "$R/authorized_keys"
: > "$HOME/.ssh/known_hosts"
KH=$XDG_CONFIG_HOME/stapcache/known_hosts
mkdir -p "$XDG_CONFIG_HOME/stapcache"

# The stand-in's instructions travel as -G fake_NAME=VALUE module parameters
# (fake_stderr=TEXT, fake_exit=STATUS, fake_quiet=SECS, fake_sleep=SECS), and
# stapcache refuses a -G the module does not declare before anything connects
# (issue 23): a script run on these targets declares them as globals, used so
# that stap keeps them. SCRIPT is such a script (greeting too, "hi").
FAKE_GLOBALS='global greeting = "hi", fake_sleep, fake_quiet, fake_exit, fake_stderr = ""'
FAKE_USES='if (fake_sleep + fake_quiet + fake_exit) printf("%s", fake_stderr)'
SCRIPT="$FAKE_GLOBALS probe begin { printf(\"%s\\n\", greeting) $FAKE_USES exit() }"

# The stand-in runner, installed for every runner name on the targets' PATH.
cat > "$R/bin/staprun-auth" <<'RUNNER'
#!/bin/sh
# Stand-in for staprun-auth / staprun: this kernel cannot load modules.
echo "runner $(basename "$0") pid $$ uid $(id -u)"
for a in "$@"; do printf 'arg[%s]\n' "$a"; done
for a in "$@"; do
	case $a in
	*.ko) echo "sha256 $(sha256sum "$a" | cut -c1-64)"; echo "dir $(dirname "$a")"
	      ls -ld "$(dirname "$a")" | cut -c1-10 | sed 's/^/mode /' ;;
	esac
done
for a in "$@"; do
	case $a in
	fake_stderr=*) echo "to stderr: ${a#fake_stderr=}" >&2 ;;
	fake_exit=*) exit "${a#fake_exit=}" ;;
	fake_quiet=*) sleep "${a#fake_quiet=}"; echo "quiet for ${a#fake_quiet=} s" ;;
	fake_sleep=*)
		trap 'echo "stopped by TERM" >> "$FAKE_LOG/stopped"; exit 0' TERM
		echo started >> "$FAKE_LOG/started"
		i=0; while [ $i -lt "${a#fake_sleep=}" ]; do sleep 1; echo "tick $i"; i=$((i + 1)); done
		echo "ran to the end" >> "$FAKE_LOG/stopped"
		;;
	esac
done
exit 0
RUNNER
chmod +x "$R/bin/staprun-auth"
ln -s staprun-auth "$R/bin/staprun"
# The targets report the test kernel as theirs (module builds need its headers);
# $R/krel.PORT overrides it for the sshd on PORT (SSH_CONNECTION's 4th field),
# and $R/arch.PORT what uname -m says there.
cat > "$R/bin/uname" <<UNAME
#!/bin/sh
opt=\${1:-}
set -- \$SSH_CONNECTION
if [ "\$opt" = -r ]; then
	if [ -f "$R/krel.\$4" ]; then cat "$R/krel.\$4"; else echo "\$FAKE_KREL"; fi
	exit 0
fi
if [ "\$opt" = -m ] && [ -f "$R/arch.\$4" ]; then cat "$R/arch.\$4"; exit 0; fi
exec /bin/uname \$opt
UNAME
chmod +x "$R/bin/uname"

_sshd_pids=""
at_exit 'for p in $_sshd_pids; do kill $p 2>/dev/null; done'

# start_sshd NAME PORT...: an sshd with its own host key on those ports, on
# $SSHD_ADDR (default 127.0.0.1), in network namespace $SSHD_NETNS (default:
# this one), run through $SSHD_WRAP, its commands' TMPDIR $SSHD_TMPDIR
# (default $R/tmp).
start_sshd() {
	local name=$1 d=$R/sshd-$1 p args="" i
	shift
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" -C "$name" || return 1
	cat > "$d/config" <<CFG
HostKey $d/host_key
ListenAddress ${SSHD_ADDR:-127.0.0.1}
AuthorizedKeysFile $R/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin yes
StrictModes no
UsePAM no
PidFile none
Subsystem sftp /usr/lib/openssh/sftp-server
SetEnv PATH=$R/bin:/usr/bin:/bin TMPDIR=${SSHD_TMPDIR:-$R/tmp} FAKE_LOG=$R/log FAKE_KREL=${KREL:-unknown}
LogLevel ERROR
MaxStartups 100
CFG
	for p in "$@"; do args="$args -p $p"; done
	# shellcheck disable=SC2086
	# shellcheck disable=SC2086
	${SSHD_NETNS:+ip netns exec "$SSHD_NETNS"} ${SSHD_WRAP:-} /usr/sbin/sshd -D -e -f "$d/config" $args 2>>"$d/log" &
	_sshd_pids="$_sshd_pids $!"
	for i in $(seq 3000); do
		${SSHD_NETNS:+ip netns exec "$SSHD_NETNS"} \
			bash -c "exec 3<>/dev/tcp/${SSHD_ADDR:-127.0.0.1}/$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# sshd $name did not start: $(cat "$d/log")"
	return 1
}

# trust NAME PORT: put sshd NAME's host key into known_hosts for that port.
trust() {
	printf '[127.0.0.1]:%s %s\n' "$2" "$(cut -d' ' -f1-2 "$R/sshd-$1/host_key.pub")" \
		>> "$HOME/.ssh/known_hosts"
}

# fp NAME: the SHA256 fingerprint of sshd NAME's host key.
fp() { ssh-keygen -lf "$R/sshd-$1/host_key.pub" | awk '{print $2}'; }

# target NAME EXECUTE [KERNEL]: add an entry to known_hosts.
target() {
	printf -- '- name: %s\n  execute: %s\n  kernel: %s\n  arch: x86_64\n  cpu: test\n' \
		"$1" "$2" "${3:-$KREL}" >> "$KH"
}

# Files left in the targets' TMPDIR (stapcache's temp dirs there).
remote_leftovers() { find "$R/tmp" -mindepth 1 -maxdepth 1 | wc -l | tr -d ' '; }
