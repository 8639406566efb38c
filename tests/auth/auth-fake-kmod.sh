#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What staprun-auth hands the kernel, seen through a preloaded fake of
# init_module/delete_module (tests/fakes/fake-kmod.c), as kmod's testsuite
# does. LD_PRELOAD cannot reach a real setuid binary, so this runs the
# non-setuid build-tree copy (configured for $T/prefix) as root.
#
# The fake also overrides uname(2)'s release: a module built for the test
# kernel passes the vermagic check only when the "running" kernel has that
# release, and staprun-auth compares with uname(2), never with a file. So the
# check really happens (see the last cases, without the fake release) and
# the allowed path is still reachable on a kernel without module support.
. "$top_srcdir/tests/lib/auth-lib.sh"

auth_require_root
command -v python3 >/dev/null 2>&1 || skip_all "python3 is missing"
MOD=$(auth_module sc_auth_f 'global greeting = "hi" global count = 3
probe begin { printf("%s %d\n", greeting, count) exit() }') ||
	skip_all "cannot build a stap module here (see tests/fakes/auth-module.sh)"
KREL=$(sc_test_krel)
DIG=$(sha256_of "$MOD")
auth_build_copy
ok $? "configure and build a copy for \$T/prefix (${AUTH_BUILD_SECONDS:-?} s)"
FAKES=$(auth_fakes) || skip_all "cannot build the test helpers in tests/fakes"
BIN=$AUTH_BUILD_BIN
OUTD=$T/fake
mkdir -p "$OUTD"
policy "sha256:$DIG users=root params=greeting,count  # sc_auth_f"

# fake ERRNO ARGS...: run the build copy with the fake; OUT, RC as usual.
# Hostile variables ride along: they must not reach the recorded environment.
fake() {
	local e=$1
	shift
	rm -f "$OUTD"/*
	OUT=$(env LD_PRELOAD="$FAKES/fake-kmod-preload" FAKE_KMOD_OUT="$OUTD" \
		FAKE_KMOD_ERRNO="$e" FAKE_UNAME_RELEASE="${FAKE_REL-$KREL}" \
		OPENSSL_CONF=/nonexistent SYSTEMTAP_STAPIO=/bin/false PATH="/tmp:$PATH" \
		LD_LIBRARY_PATH=/tmp TERM=xterm LANG=C.UTF-8 \
		timeout 20 "$BIN" "$@" 2>&1 9<"$AUTH_POLICY")
	RC=$?
}

# ------------------------------------------------- ENOSYS, as on this host
fake 38 -b 4 "$MOD" greeting=hello count=7
is "$RC" 1 "init_module failing with ENOSYS: status 1"
like "$OUT" "cannot load sc_auth_f: this kernel cannot load modules \(CONFIG_MODULES is off\)" \
	"  the plain message"
[ -f "$OUTD/module.bin" ]
ok $? "  init_module was called"
is "$(sha256_of "$OUTD/module.bin")" "$DIG" "  with exactly the bytes that were hashed and blessed"
cmp -s "$OUTD/module.bin" "$MOD"
ok $? "  byte for byte the module file"
is "$(cat "$OUTD/params")" "_stp_bufsize=4 greeting=hello count=7" \
	"  and the parameter string staprun would build"
[ ! -e "$OUTD/finit" ]
ok $? "  never finit_module (that would re-read a path)"
is "$(grep -c . "$OUTD/env")" "$(grep -Ec '^(PATH|TERM|LANG|HOME|USER|LOGNAME|SHELL)=' "$OUTD/env")" \
	"  the environment holds only allow-listed variables"
like "$(cat "$OUTD/env")" "^PATH=/usr/local/bin:/usr/bin:/bin$" "  PATH is the fixed one"
like "$(cat "$OUTD/env")" "TERM=xterm" "  TERM and LANG are kept"
grep -Eq 'LD_PRELOAD|OPENSSL_CONF|SYSTEMTAP|FAKE_|LD_LIBRARY_PATH' "$OUTD/env"
isnt "$?" 0 "  LD_PRELOAD, OPENSSL_CONF, SYSTEMTAP_*, LD_LIBRARY_PATH are gone"
grep -q "authorized_probes" "$OUTD/fds"
isnt "$?" 0 "  a descriptor inherited from the caller (9) was closed"
like "$(cut -d' ' -f1 "$OUTD/fds" | tr '\n' ' ')" "^0 1 2 " "  0-2 are open"
registry_empty
ok $? "  the registry record was removed again"

fake 38 "$MOD"
is "$(cat "$OUTD/params")" "_stp_bufsize=0" "no parameters: just _stp_bufsize=0, as staprun"

# ------------- success, then the loaded instance cannot be told (no sysfs)
fake 0 "$MOD" greeting=hello
is "$RC" 1 "init_module succeeding, but no /sys/module/sc_auth_f to name the instance: status 1"
like "$OUT" "cannot tell which instance of sc_auth_f was loaded.*\(unloading it\)" \
	"  says so (an instance is never half known)"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" \
	"  and unloads it at once: delete_module(sc_auth_f, O_NONBLOCK)"
registry_empty
ok $? "  and removes its record"

# ------------------------------------------------ refusals load nothing
refused_fake() {  # refused_fake DESC REGEX ARGS...
	local desc=$1 re=$2
	shift 2
	fake 0 "$@"
	is "$RC" 1 "$desc: refused"
	like "$OUT" "$re" "$desc: says why"
	[ ! -e "$OUTD/module.bin" ] && [ ! -e "$OUTD/delete" ]
	ok $? "$desc: init_module was never called"
}
refused_fake "a disallowed parameter" "parameter nosuch is not allowed" "$MOD" nosuch=1
refused_fake "an injection attempt" "the value contains whitespace" "$MOD" "greeting=a count=9"
policy "sha256:$DIG users=root params=greeting,count,nosuch"
refused_fake "an undeclared parameter" "declares no parameter nosuch" "$MOD" nosuch=1
policy "# empty"
refused_fake "an unlisted digest" "is not an authorized module" "$MOD"
policy "sha256:$DIG users=root"
FAKE_REL=$(uname -r)
refused_fake "the real release (the vermagic check)" \
	"was built for kernel $KREL, this kernel is $(uname -r)" "$MOD"
FAKE_REL=9.9.9-other
refused_fake "another faked release" "was built for kernel $KREL, this kernel is 9.9.9-other" "$MOD"
unset FAKE_REL
fake 0 --verify "$MOD"
is "$RC" 0 "--verify with the module's release: allowed"
[ ! -e "$OUTD/module.bin" ]
ok $? "  and nothing loaded"

# ------------------------- a whole run, with the kernel's side faked too
# /proc/systemtap/sc_auth_f and /sys/module/sc_auth_f are redirected to
# directories made here (a regular .cmd file collects the control messages),
# the caller is the test user (real uid faked, euid root, as under setuid),
# and the exec of stapio is recorded in the child instead of run.
auth_user_setup || skip_all "no unprivileged account $AUTH_USER / group $AUTH_GROUP here"
STAPIO=$(sed -n 's/^#define SC_STAPIO "\(.*\)"$/\1/p' "$T/build/build-config.h")
PROCFS=$T/procfs SYSMOD=$T/sysmod
# The fake's init_module renames sysmod.off to sysmod (the module is "live")
# and its delete_module renames it back.
mkdir -p "$PROCFS/sc_auth_f" "$SYSMOD.off/sections"
echo live >"$SYSMOD.off/initstate"
echo 0xffffffffc0a00000 >"$SYSMOD.off/sections/.gnu.linkonce.this_module"
policy "sha256:$DIG users=$AUTH_USER params=greeting,count"
chmod 1777 "$OUTD"  # the child records its exec after dropping to the test user
FULL_ENV=(LD_PRELOAD="$FAKES/fake-kmod-preload" FAKE_KMOD_OUT="$OUTD" FAKE_KMOD_ERRNO=0
	FAKE_UNAME_RELEASE="$KREL" FAKE_UID="$AUTH_UID" FAKE_GID="$AUTH_GID"
	FAKE_REDIRECT="/proc/systemtap/=$PROCFS/:/sys/module/sc_auth_f=$SYSMOD"
	FAKE_LIVE_DIR="$SYSMOD" FAKE_EXEC="$STAPIO")
full_reset() {
	rm -f "$OUTD"/*
	[ ! -d "$SYSMOD" ] || mv "$SYSMOD" "$SYSMOD.off"
	: >"$PROCFS/sc_auth_f/.cmd"
	chown "$AUTH_UID:$AUTH_GID" "$PROCFS/sc_auth_f/.cmd"
}
# The ignored and blocked signals stapio starts with, as two numbers; glibc's
# own signals 32 and 33 (which it sets up itself in every program) left out.
sigs_of() {
	local ign blk
	read -r ign blk < <(sed -n 's/^sigign=\([0-9a-f]*\) sigblk=\([0-9a-f]*\)$/\1 \2/p' "$1")
	echo "$(( 16#${ign:-1} & ~0x180000000 )) $(( 16#${blk:-1} & ~0x180000000 ))"
}
# full STATUS ARGS...: a whole run; stapio "exits" with STATUS. FULL_XENV adds
# variables, FULL_PRE is a command that runs staprun-auth (prlimit ...).
FULL_XENV=() FULL_PRE=()
full() {
	local st=$1
	shift
	full_reset
	OUT=$(umask 027 && env "${FULL_ENV[@]}" ${FULL_XENV[@]+"${FULL_XENV[@]}"} \
		FAKE_EXEC_STATUS="$st" timeout 20 ${FULL_PRE[@]+"${FULL_PRE[@]}"} "$BIN" "$@" 2>&1)
	RC=$?
}

full 7 -v -c "echo hi" -o "$T/out.txt" -b 4 "$MOD" greeting=hello count=7
is "$RC" 7 "whole run: exits with stapio's status"
printf '%s\n' "$STAPIO" -v -c "echo hi" -o "$T/out.txt" -b 4 "$MOD" greeting=hello count=7 -F3 \
	>"$T/want.argv"
is "$(cat "$OUTD/exec.argv" 2>/dev/null)" "$(cat "$T/want.argv")" \
	"  stapio gets staprun 4.8's argv (options, module, parameters, -F3)"
is "$(cat "$OUTD/ids" 2>/dev/null)" "uid=$AUTH_UID,0,0 gid=$AUTH_GID,0,0" \
	"  init_module ran with the caller's real ids (the runtime's owner), effective root"
IDS=$(cat "$OUTD/exec.ids" 2>/dev/null)
like "$IDS" "^uid=$AUTH_UID,$AUTH_UID,$AUTH_UID gid=$AUTH_GID,$AUTH_GID,$AUTH_GID" \
	"  as the caller: real, effective and saved ids"
like "$IDS" "groups=0 umask=0027" "  with the caller's groups (none) and umask"
like "$IDS" "setuid0=failed setgid0=failed" "  and root cannot be had back"
like "$IDS" "nofile=$(ulimit -Sn):$(ulimit -Hn)" "  with the caller's RLIMIT_NOFILE"
is "$(sigs_of "$OUTD/exec.ids")" "0 0" "  no signal ignored or blocked"
like "$(cut -d' ' -f1 "$OUTD/exec.fds" 2>/dev/null | tr '\n' ' ')" "^0 1 2 3 $" \
	"  descriptors: 0, 1, 2 and 3 only"
is "$(sed -n 's/^3 //p' "$OUTD/exec.fds" 2>/dev/null)" "$PROCFS/sc_auth_f" \
	"  3 is the module's relay directory"
ENV=$(cat "$OUTD/exec.env" 2>/dev/null)
like "$ENV" "^SYSTEMTAP_STAPRUN=$AUTH_PREFIX/bin/staprun-auth$" \
	"  SYSTEMTAP_STAPRUN is this program, installed (stapio's -d comes back to it)"
like "$ENV" "^SYSTEMTAP_MODULE=sc_auth_f$" "  SYSTEMTAP_MODULE"
like "$ENV" "^SYSTEMTAP_VERBOSE=1$" "  SYSTEMTAP_VERBOSE"
like "$ENV" "^HOME=$AUTH_HOME$" "  HOME from the password database"
grep -Eq '^(LD_|FAKE_|OPENSSL)' "$OUTD/exec.env"
isnt "$?" 0 "  nothing of the caller's environment besides the allow-list"
python3 - "$PROCFS/sc_auth_f/.cmd" >"$T/msgs" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
sizes = {15: 4, 9: 264, 14: 72}  # credentials, relocation, tzinfo payloads
off = 0
while off + 4 <= len(data):
    (t,) = struct.unpack_from('<I', data, off)
    n = sizes.get(t)
    if n is None:
        print('unknown message type', t)
        break
    p = data[off + 4:off + 4 + n]
    off += 4 + n
    if t == 15:
        print('credentials %#x' % struct.unpack('<i', p)[0])
    elif t == 9:
        mod, rel = (s.split(b'\0')[0].decode() for s in (p[:128], p[128:256]))
        print('relocation %s %s %x' % (mod, rel, struct.unpack_from('<Q', p, 256)[0]))
    else:
        print('tzinfo %d %s' % (struct.unpack_from('<q', p)[0], p[8:].split(b'\0')[0].decode()))
PY
STEXT=$(awk '$3 == "_stext" { print $1; exit }' /proc/kallsyms | sed 's/^0*//')
MSGS=$(cat "$T/msgs")
like "$(head -n 1 "$T/msgs")" "^credentials 0xe$" \
	"control: STP_PRIVILEGE_CREDENTIALS (stapusr|stapsys|stapdev) first"
like "$MSGS" "relocation kernel _stext ${STEXT:-x}$" \
	"control: STP_RELOCATION kernel _stext at its /proc/kallsyms address"
like "$MSGS" "relocation kernel kallsyms_lookup_name [0-9a-f]+" \
	"control: STP_RELOCATION kernel kallsyms_lookup_name"
like "$(tail -n 1 "$T/msgs")" "^tzinfo -?[0-9]+ [A-Za-z0-9+-]+$" "control: STP_TZINFO last"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" \
	"the watchdog unloads the module after stapio: delete_module(sc_auth_f, O_NONBLOCK)"
registry_empty
ok $? "  and removes its record"

full kill "$MOD"
is "$RC" 137 "stapio killed by SIGKILL: the run reports it (128+9)"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" "  and the watchdog still unloads the module"
registry_empty
ok $? "  and removes its record"

# Ctrl-C reaches both processes: the watchdog ignores it, stapio dies of it.
full_reset
(umask 027 && exec env "${FULL_ENV[@]}" FAKE_EXEC_STATUS=sleep "$BIN" "$MOD") \
	>"$T/bg.out" 2>&1 &
BG=$!
for _ in $(seq 3000); do [ -s "$OUTD/exec.argv" ] && break; sleep 0.1; done
CHILD=$(pgrep -P "$BG" | head -n 1)
kill -TERM "$BG" 2>/dev/null
kill -HUP "$BG" 2>/dev/null
kill -QUIT "$BG" 2>/dev/null
sleep 0.3
kill -0 "$BG" 2>/dev/null
ok $? "the watchdog survives SIGTERM, SIGHUP and SIGQUIT"
kill -INT "$BG" ${CHILD:+"$CHILD"} 2>/dev/null
wait "$BG"
is "$?" 130 "Ctrl-C: stapio dies of SIGINT, the watchdog reports it (130)"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" "  and unloads the module"
registry_empty
ok $? "  and removes its record"

# While a run is going: --list shows it; -d is stapio's end-of-run path
# ($SYSTEMTAP_STAPRUN -d -C auto NAME): only its owner may use it, and then
# the watchdog must not unload a second time.
full_reset
(exec env "${FULL_ENV[@]}" FAKE_EXEC_STATUS=sleep "$BIN" "$MOD") >"$T/bg.out" 2>&1 &
BG=$!
for _ in $(seq 3000); do [ -s "$OUTD/exec.argv" ] && break; sleep 0.1; done
OUT=$(env "${FULL_ENV[@]}" "$BIN" --list 2>&1)
like "$OUT" "^sc_auth_f	user=$AUTH_USER\($AUTH_UID\)	sha256:$DIG	loaded=[0-9T:-]+Z	pid=$BG	stapio=[1-9][0-9]*	target=0	cmd=	running$" \
	"--list shows the running module, its owner, digest, watchdog and stapio"
OUT=$(env "${FULL_ENV[@]}" FAKE_UID=65534 FAKE_GID=65534 "$BIN" -d -C auto sc_auth_f 2>&1)
is "$?" 1 "-d by another user: refused"
like "$OUT" "sc_auth_f was loaded by $AUTH_USER \(uid $AUTH_UID\), not by you" "  says whose it is"
[ ! -e "$OUTD/delete" ]
ok $? "  and unloads nothing"
# (stapio's own -d at its end gets a quiet success: tests/vm/ runs it for real.)
OUT=$(env "${FULL_ENV[@]}" "$BIN" -d -C auto sc_auth_f 2>&1)
is "$?" 1 "-d by its owner, not from its stapio, while the run goes on: refused"
like "$OUT" "sc_auth_f is running \(stapio pid [0-9]+\): stop that run" "  says how to stop it"
[ ! -e "$OUTD/delete" ] && [ -e "$AUTH_REGISTRY/sc_auth_f" ]
ok $? "  unloads nothing by name meanwhile (the run could end, another take the name)"
kill -INT "$(pgrep -P "$BG" | head -n 1)" 2>/dev/null
wait "$BG"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" "the run's watchdog unloads it when the run ends"
registry_empty
ok $? "  and then removes the record"

# --------------------------------------- the control channel cannot be had
mv "$PROCFS/sc_auth_f" "$PROCFS/sc_auth_f.off"
full 0 "$MOD"
mv "$PROCFS/sc_auth_f.off" "$PROCFS/sc_auth_f"
is "$RC" 1 "no control channel after a load: status 1"
like "$OUT" "cannot attach to the control channel of sc_auth_f.*\(unloading it\)" "  says so"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" "  and unloads it at once"
registry_empty
ok $? "  and removes its record"

# ------------------------------- the loader is killed (it is the caller's)
FULL_XENV=(FAKE_INIT_ACTION=kill)
full 0 "$MOD"
is "$RC" 1 "the loading child killed right after init_module: status 1"
like "$OUT" "the process loading sc_auth_f was stopped or killed" "  says so"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" "  and the parent unloads what it may have loaded"
[ ! -e "$OUTD/exec.argv" ]
ok $? "  and runs no stapio"
registry_empty
ok $? "  and removes its record"

# ------------------------------------------- Ctrl-C while the module loads
FULL_XENV=(FAKE_INIT_ACTION=sigparent)
full 0 "$MOD"
is "$RC" 130 "SIGINT during init_module: the run ends as SIGINT asks (130)"
like "$OUT" "interrupted by Interrupt \(unloading it\)" "  acted on once the load is done"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" "  the module is unloaded"
[ ! -e "$OUTD/exec.argv" ]
ok $? "  and no stapio runs"
registry_empty
ok $? "  and the record is gone"
FULL_XENV=()

# -------------------------------------------- FIPS: only ENOENT means "no"
FIPS_REDIRECT="FAKE_REDIRECT=/proc/systemtap/=$PROCFS/:/sys/module/sc_auth_f=$SYSMOD:/proc/sys/crypto/fips_enabled=$T/fips"
FULL_XENV=("$FIPS_REDIRECT")
mkdir "$T/fips"
full 0 "$MOD"
is "$RC" 1 "fips_enabled unreadable (EISDIR): refused, fail closed"
like "$OUT" "cannot tell whether the kernel is in FIPS mode \(Is a directory\)" "  says why"
[ ! -e "$OUTD/module.bin" ]
ok $? "  and init_module was never called"
rmdir "$T/fips" && echo 1 >"$T/fips"
full 0 "$MOD"
like "$OUT" "the kernel is in FIPS mode" "fips_enabled=1: refused"
[ ! -e "$OUTD/module.bin" ] && registry_empty
ok $? "  nothing loaded, nothing claimed"
echo 0 >"$T/fips"
full 0 "$MOD"
is "$RC" 0 "fips_enabled=0: the run goes ahead"
FULL_XENV=()

# ------------------------------------- the caller's limits are not ours
FULL_PRE=(prlimit --nofile=$((16 + $(nproc --all))):4096 --)
full 0 "$MOD"
is "$RC" 0 "RLIMIT_NOFILE soft limit 16 + CPUs (EMFILE after the load before): the run succeeds"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" "  and the module is unloaded"
registry_empty
ok $? "  and its record removed"
like "$(cat "$OUTD/exec.ids" 2>/dev/null)" "nofile=$((16 + $(nproc --all))):4096" "  while stapio gets the caller's limit back"
# Below what a run needs (stapio gets the caller's limit back): refused up
# front, saying so and how much is enough (issue 19: `ulimit -n 4` used to
# say "refusing to run in a user namespace", `ulimit -n 5` "cannot open /run").
# (Lower, ld.so cannot open libc here: nothing of ours runs; tests/vm/
# attacks-files.sh goes down to 3 with the real setuid binary.)
for lim in 5:4096 5:5 8:8; do
	FULL_PRE=(prlimit --nofile=$lim --)
	full 0 "$MOD"
	is "$RC" 1 "RLIMIT_NOFILE $lim: refused up front"
	need=$((16 + $(nproc --all)))
	like "$OUT" "your limit on open files \(ulimit -n\) is ${lim%%:*}, too low: a run needs at least $need \(staprun-auth, then stapio: 16, and one a CPU\); raise it \(ulimit -n $need\)" \
		"  saying so, and how much is enough"
	[ ! -e "$OUTD/module.bin" ] && registry_empty
	ok $? "  before anything was loaded or claimed"
done
FULL_PRE=()

# ------------------------ the caller's ignored and blocked signals are not ours
# The interpreter itself (a pyenv shim is a shell script, which drops privileges
# when getuid() differs from geteuid(), as under the fake).
PY=$(python3 -c 'import sys; print(sys.executable)')
FULL_PRE=("$PY" -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
os.execv(sys.argv[1], sys.argv[1:])')
full 7 "$MOD"
FULL_PRE=()
is "$RC" 7 "SIGCHLD ignored by the caller: the watchdog still waits for stapio's status"
is "$(sigs_of "$OUTD/exec.ids")" "0 0" \
	"  and stapio starts with no signal ignored or blocked"

# ------------------------------------------------- records left behind
# hold_lock FILE: a background process (pid in $!) holding flock(FILE): a run.
hold_lock() { (exec 9>>"$1" && flock 9 && exec sleep 30) & }
REC=$AUTH_REGISTRY/sc_auth_f
auth_record sc_auth_f 65534 nobody "$DIG" "" 1
chmod 644 "$REC"
full 0 "$MOD"
is "$RC" 0 "an unlocked record whose module is not loaded, even a damaged one: stale, the run goes ahead"
registry_empty
ok $? "  and leaves no record"
auth_record sc_auth_f 65534 nobody "$DIG" "" 1
hold_lock "$REC"
HOLDER=$!
sleep 0.2
full 0 "$MOD"
is "$RC" 1 "a record a live run holds (its lock): refused"
like "$OUT" "sc_auth_f is in use by a run of nobody \(pid 1\)" "  says whose run it is"
[ -e "$REC" ] && [ ! -e "$OUTD/module.bin" ]
ok $? "  keeps it and loads nothing"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
full 0 "$MOD"
is "$RC" 0 "the same record once that run has ended: the run goes ahead"
registry_empty
ok $? "  and its own record is gone at the end"

# ---------------------- a running module: job control, -d, another run's record
bg_run() {
	full_reset
	(umask 027 && exec env "${FULL_ENV[@]}" FAKE_EXEC_STATUS=sleep "$BIN" "$MOD") \
		>"$T/bg.out" 2>&1 &
	BG=$!
	for _ in $(seq 3000); do [ -s "$OUTD/exec.argv" ] && break; sleep 0.1; done
}
bg_run
kill -TSTP "$BG"; kill -TTIN "$BG"; kill -TTOU "$BG"
sleep 0.3
isnt "$(awk '{print $3}' "/proc/$BG/stat" 2>/dev/null)" T \
	"the watchdog ignores SIGTSTP, SIGTTIN and SIGTTOU (never stopped)"
THIS=$SYSMOD/sections/.gnu.linkonce.this_module
mv "$THIS" "$T/this_module"
OUT=$(env "${FULL_ENV[@]}" "$BIN" -d sc_auth_f 2>&1)
is "$?" 1 "-d while its run goes on (and the instance cannot be read): refused"
like "$OUT" "sc_auth_f is running \(stapio pid [0-9]+\)" "  says so"
[ -e "$REC" ] && [ ! -e "$OUTD/delete" ]
ok $? "  keeps the record and unloads nothing"
mv "$T/this_module" "$THIS"
# Root unloads the module by hand; then another instance is loaded under the
# same name: the first watchdog must leave it alone.
rm -f "$OUTD/delete"
mv "$SYSMOD" "$SYSMOD.off"
echo 0xffffffffc0b00000 >"$SYSMOD.off/sections/.gnu.linkonce.this_module"
mv "$SYSMOD.off" "$SYSMOD"
kill -INT "$(pgrep -P "$BG" | head -n 1)" 2>/dev/null
wait "$BG"
is "$(cat "$OUTD/delete" 2>/dev/null | grep -c .)" 0 \
	"the first watchdog does not unload another instance loaded under its name"
registry_empty
ok $? "  and ends its claim"
mv "$SYSMOD" "$SYSMOD.off"
echo 0xffffffffc0a00000 >"$SYSMOD.off/sections/.gnu.linkonce.this_module"

# ------------------------ the unload is a guarantee, not an attempt
# Someone holds the module busy (its .cmd open): delete_module says EAGAIN
# for a while; the watchdog keeps trying, logs, and unloads once released.
FULL_XENV=(FAKE_DELETE_BUSY=6)
full 0 "$MOD"
FULL_XENV=()
is "$RC" 0 "a module kept busy for 6 unload attempts: the run still ends well"
is "$(grep -c . "$OUTD/delete.busy" 2>/dev/null):$(cat "$OUTD/delete" 2>/dev/null)" \
	"6:sc_auth_f 2048" "  the watchdog kept trying until the module was gone"
registry_empty
ok $? "  and then removed its record"

# ------------------ the root side dies anyway: the orphan is reclaimed
# (Here the test is root and kills the watchdog; a user cannot: auth-setuid.sh,
# tests/vm/attacks.sh.)
bg_run
CHILD=$(pgrep -P "$BG" | head -n 1)
kill -KILL "$BG"; wait "$BG" 2>/dev/null
kill -KILL "$CHILD" 2>/dev/null
sleep 0.2
OUT=$(env "${FULL_ENV[@]}" "$BIN" --list 2>&1)
like "$OUT" "^sc_auth_f	user=$AUTH_USER.*	orphan$" "--list marks a module whose run died as an orphan"
rm -f "$OUTD"/*  # not full_reset: the orphan stays loaded
OUT=$(umask 027 && env "${FULL_ENV[@]}" FAKE_EXEC_STATUS=0 timeout 20 "$BIN" "$MOD" 2>&1)
RC=$?
is "$RC" 0 "the next run of that module reclaims the orphan and goes ahead"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048
sc_auth_f 2048" "  unloading the orphan first, then its own at the end"
registry_empty
ok $? "  and leaves no record"
bg_run
CHILD=$(pgrep -P "$BG" | head -n 1)
kill -KILL "$BG"; wait "$BG" 2>/dev/null
kill -KILL "$CHILD" 2>/dev/null
sleep 0.2
rm -f "$OUTD/delete"
OUT=$(env "${FULL_ENV[@]}" "$BIN" -d sc_auth_f 2>&1)
is "$?:$(cat "$OUTD/delete" 2>/dev/null)" "0:sc_auth_f 2048" "the owner's -d unloads an orphan"
registry_empty
ok $? "  and removes its record"

# ------------------------------- -S MB[,N]: stapio's output rotation (issue 22)
# New parsing in the setuid program: two bounded numbers, printed again by
# staprun-auth for stapio (never the caller's bytes); anything else is a
# usage error before anything is opened or loaded.
full 0 -o "$T/rot.out" -S 2,3 "$MOD" greeting=hello count=7
is "$RC" 0 "-o FILE -S 2,3: a whole run"
printf '%s\n' "$STAPIO" -o "$T/rot.out" -S 2,3 "$MOD" greeting=hello count=7 -F3 \
	>"$T/want-S.argv"
is "$(cat "$OUTD/exec.argv" 2>/dev/null)" "$(cat "$T/want-S.argv")" \
	"  stapio gets -S 2,3 after -o, as staprun passes it"
full 0 -o "$T/rot.out" -S 4096 "$MOD"
like "$(tr '\n' ' ' <"$OUTD/exec.argv" 2>/dev/null)" " -S 4096 " "-S 4096 (the largest): passed on"
for bad in 0 1,0 01 1,01 1, ,1 , 4097 1,65537 1,2,3 ' 1' '1 ' +1 -1 1x 1,2x 0x10 \
	99999999999999999999 1,99999999999999999999 '1,2 ' $'1\n' ''; do
	fake 0 -o "$T/rot.out" -S "$bad" "$MOD"
	is "$RC" 2 "-S $(printf %q "$bad"): a usage error (status 2)"
	like "$OUT" "invalid -S" "  saying so"
	[ ! -e "$OUTD/module.bin" ] && [ ! -e "$OUTD/exec.argv" ]
	ok $? "  nothing loaded, no stapio"
done
fake 0 -S 1 "$MOD"
is "$RC" 2 "-S without -o: a usage error"
like "$OUT" "-S needs -o FILE" "  saying so"
[ ! -e "$OUTD/module.bin" ]
ok $? "  nothing loaded"
fake 0 --verify -S 1 "$MOD"
is "$RC" 2 "--verify -S: a usage error"

# -------------------- --duration SECONDS: the watchdog's own clock (issue 22)
# The fake stapio behaves as if it ran ("run": the exec pipe closed, exit 0 on
# SIGTERM as stapio; "stubborn": SIGTERM ignored). The watchdog stops it
# SECONDS after it started, kills it SA_STOP_GRACE_MS later if it must, and
# unloads as after any end. Nothing but the watchdog's clock ends these runs.
full run --duration 1 "$MOD" greeting=hello count=7
is "$RC" 124 "--duration 1: the watchdog stops the run (status 124, as timeout(1))"
like "$OUT" "the run's duration of 1 s is over: stopping it" "  saying why"
is "$(cat "$OUTD/exec.argv" 2>/dev/null)" "$(printf '%s\n' "$STAPIO" "$MOD" greeting=hello count=7 -F3)" \
	"  stapio's argv carries no --duration (the watchdog keeps it)"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" "  the module unloaded"
registry_empty
ok $? "  and no record left"
full stubborn --duration 1 "$MOD"
is "$RC" 137 "a stapio that ignores SIGTERM is killed after the grace period (status 137)"
is "$(cat "$OUTD/delete" 2>/dev/null)" "sc_auth_f 2048" "  the module unloaded"
registry_empty
ok $? "  and no record left"
full 0 --duration 2592000 "$MOD"
is "$RC" 0 "--duration 2592000 (the most): a run that ends first ends as usual"
for bad in 0 01 -1 +1 ' 1' '1 ' 1x 0x10 2592001 99999999 99999999999999999999 $'1\n' ''; do
	fake 0 --duration "$bad" "$MOD"
	is "$RC" 2 "--duration $(printf %q "$bad"): a usage error (status 2)"
	like "$OUT" "invalid --duration" "  saying so"
	[ ! -e "$OUTD/module.bin" ]
	ok $? "  nothing loaded"
done
for mode in --verify --list "-d sc_auth_f"; do
	# shellcheck disable=SC2086 # the mode's words
	fake 0 --duration 5 $mode
	is "$RC" 2 "--duration with $mode: a usage error"
	like "$OUT" "only apply when loading a module" "  saying so"
done

done_testing
