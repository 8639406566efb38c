# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers shared by the staprun-auth tests (tests/auth/auth-*.sh).
# Source after setting nothing; it sources tests/lib/testlib.sh itself.
#
# SYSCONFDIR and RUNSTATEDIR are compiled into staprun-auth, so each test
# configures its own copy of the tree with --prefix=$T/prefix and
# --sysconfdir=$T/prefix/etc, builds only staprun-auth there, and (for the
# setuid test) installs it: the policy then lives in $T/prefix/etc/systemtap
# and the registry in $T/prefix/var/run/staprun-auth, all root-owned. The copy
# gets plain CFLAGS/LDFLAGS whatever the environment says: a setuid binary is
# never built with a sanitizer.

. "$top_srcdir/tests/lib/testlib.sh"

# An unprivileged account and a group every Debian system has (base-passwd):
# the tests create no user and write nothing under /etc. (nobody is the
# "other user" of the fake tests, so it is not this one.)
AUTH_USER=games
AUTH_GROUP=users

auth_require_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (installs a setuid-root binary)"
	command -v setpriv >/dev/null 2>&1 || skip_all "setpriv (util-linux) is missing"
}

# Build the staprun-auth program of $top_srcdir in $T/build, configured for
# $T/prefix; with "install", also make install-exec it (setuid root).
# Sets AUTH_PREFIX, AUTH_BUILD_BIN, AUTH_BIN, AUTH_POLICY_DIR, AUTH_POLICY,
# AUTH_REGISTRY and AUTH_BUILD_SECONDS.
auth_build_copy() {
	local start=$SECONDS src=$top_srcdir
	AUTH_PREFIX=$T/prefix
	mkdir -p "$T/build" "$AUTH_PREFIX" && chmod 755 "$T/build" "$AUTH_PREFIX" || return 1
	(
		unset MAKEFLAGS MFLAGS MAKELEVEL
		# A source tree configured in place cannot host a second build:
		# configure the distributed files, copied, instead.
		if [ -f "$top_srcdir/config.status" ]; then
			src=$T/src
			make -C "$top_builddir" distdir distdir="$src" || exit 1
		fi
		cd "$T/build" &&
		"$src/configure" -q --prefix="$AUTH_PREFIX" \
			--sysconfdir="$AUTH_PREFIX/etc" CFLAGS="-g -O2" LDFLAGS= &&
		make -j2 staprun-auth/staprun-auth &&
		if [ "${1:-}" = install ]; then
			make install-exec bin_PROGRAMS=staprun-auth/staprun-auth bin_SCRIPTS=
		fi
	) >"$T/build.log" 2>&1 || { tail -n 30 "$T/build.log" | sed 's/^/# /'; return 1; }
	AUTH_BUILD_SECONDS=$((SECONDS - start))
	AUTH_BUILD_BIN=$T/build/staprun-auth/staprun-auth
	AUTH_BIN=$AUTH_PREFIX/bin/staprun-auth
	AUTH_POLICY_DIR=$AUTH_PREFIX/etc/systemtap
	AUTH_POLICY=$AUTH_POLICY_DIR/authorized_probes
	AUTH_REGISTRY=$AUTH_PREFIX/var/run/staprun-auth
	mkdir -p "$AUTH_POLICY_DIR/authorized_probes.d" "$AUTH_PREFIX/var/run" &&
		chmod 755 "$AUTH_PREFIX/etc" "$AUTH_POLICY_DIR" \
			"$AUTH_POLICY_DIR/authorized_probes.d" "$AUTH_PREFIX/var/run" &&
		: >"$AUTH_POLICY" && chmod 644 "$AUTH_POLICY"
}

# The helpers of tests/fakes, copied where the test user can run them.
auth_fakes() {  # -> prints the directory
	local f
	mkdir -p -m 755 "$T/fakes" || return 1
	for f in exec-empty-argv announce-preload fake-kmod-preload; do
		if [ ! -e "$top_builddir/tests/fakes/$f" ]; then
			(cd "$T/build" && unset MAKEFLAGS MFLAGS MAKELEVEL &&
				make "tests/fakes/$f") >>"$T/build.log" 2>&1 &&
				cp "$T/build/tests/fakes/$f" "$T/fakes/" || return 1
		else
			cp "$top_builddir/tests/fakes/$f" "$T/fakes/" || return 1
		fi
	done
	chmod 755 "$T/fakes"/* && echo "$T/fakes"
}

# A real module NAME.ko from SCRIPT, copied to $T/mods (readable by the test user).
auth_module() {  # auth_module NAME SCRIPT -> prints the path
	local built
	built=$("$top_srcdir/tests/fakes/auth-module.sh" "$1" "$2") || return 1
	mkdir -p "$T/mods" && chmod 755 "$T/mods" &&
		cp "$built" "$T/mods/$1.ko" && chmod 644 "$T/mods/$1.ko" &&
		echo "$T/mods/$1.ko"
}

# Copy module IN to OUT with its vermagic's release replaced by RELEASE (padded
# with spaces to the same length), so that its vermagic matches a kernel it
# was not built for. The internal name and everything else stay as they were.
auth_retarget() {  # auth_retarget IN OUT RELEASE
	python3 - "$@" <<'EOF'
import re, sys
src, dst, rel = sys.argv[1], sys.argv[2], sys.argv[3].encode()
data = open(src, 'rb').read()
m = re.search(rb'vermagic=([^\0]*)\0', data)
if not m or len(rel) > len(m.group(1)):
    sys.exit("no vermagic, or the release is longer than the old vermagic")
new = rel + b' ' * (len(m.group(1)) - len(rel))
open(dst, 'wb').write(data[:m.start(1)] + new + data[m.end(1):])
EOF
}

sha256_of() { sha256sum "$1" | cut -c1-64; }

# The unprivileged test user and an extra group it is not a member of.
auth_user_setup() {
	AUTH_UID=$(id -u "$AUTH_USER" 2>/dev/null) || return 1
	AUTH_GID=$(id -g "$AUTH_USER") || return 1
	AUTH_HOME=$(getent passwd "$AUTH_USER" | cut -d: -f6)
	AUTH_GRP_GID=$(getent group "$AUTH_GROUP" | cut -d: -f3)
	[ -n "$AUTH_GRP_GID" ] && [ "$AUTH_UID" != 0 ] && [ "$AUTH_UID" != 65534 ]
}

# Run a command as the test user (no supplementary groups), or with the extra group.
as_user() { setpriv --reuid="$AUTH_UID" --regid="$AUTH_GID" --clear-groups -- "$@"; }
as_user_in_group() {
	setpriv --reuid="$AUTH_UID" --regid="$AUTH_GID" --groups="$AUTH_GRP_GID" -- "$@"
}

# Replace the policy file's contents.
policy() { printf '%s\n' "$@" >"$AUTH_POLICY"; }

# The registry holds no record (nothing was left loaded, or claimed); the
# per-user slot files (.slot-UID-N, locked while a process lives) do not count.
registry_empty() {
	[ ! -d "$AUTH_REGISTRY" ] || [ -z "$(ls "$AUTH_REGISTRY")" ]
}

# auth_record NAME UID USER SHA256 [INSTANCE [WATCHDOG [STAPIO]]]: a registry
# record as staprun-auth writes it (registry.c, struct sa_run: a fixed layout,
# x86-64 alignment), root's, mode 0600.
auth_record() {
	mkdir -p -m 700 "$AUTH_REGISTRY"
	python3 -c '
import struct, sys
path, uid, user, sha, name, inst, wd, stapio = sys.argv[1:]
rec = struct.pack("<8sIii4xq64s56s65s96s3xi257s7x", b"sa-run-2", int(uid), int(wd),
                  int(stapio), 1, user.encode(), name.encode(), sha.encode(), inst.encode(),
                  0, b"")
open(path, "wb").write(rec)
' "$AUTH_REGISTRY/$1" "$2" "$3" "$4" "$1" "${5:-}" "${6:-1}" "${7:-0}" &&
		chmod 600 "$AUTH_REGISTRY/$1"
}

# ------------------------------------------------------------------ syslog
# A datagram listener stands in for syslogd; logged CMD runs CMD in a private
# mount namespace whose /dev/log points to it (the host's /dev is untouched).
syslog_start() {
	AUTH_LOG=$T/syslog.txt
	: >"$AUTH_LOG" && touch "$T/null" || return 1
	python3 - "$T/log.sock" "$AUTH_LOG" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], 'ab', buffering=0) as f:
    while True:
        f.write(s.recv(65536).replace(b'\n', b' ') + b'\n')
EOF
	AUTH_LOG_PID=$!
	at_exit "kill $AUTH_LOG_PID 2>/dev/null"
	for _ in $(seq 3000); do [ -S "$T/log.sock" ] && return 0; sleep 0.1; done
	return 1
}

logged() {
	unshare --mount --propagation private -- sh -c '
		mount --bind /dev/null "$1" && mount -t tmpfs -o mode=755 tmpfs /dev &&
		touch /dev/null && mount --bind "$1" /dev/null && ln -s "$2" /dev/log || exit 99
		shift 2
		exec "$@"' sh "$T/null" "$T/log.sock" "$@"
}
