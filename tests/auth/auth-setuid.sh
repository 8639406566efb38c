#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# staprun-auth, the real thing: a copy of the tree configured for $T/prefix is
# built and installed setuid root (mode 4755, root-owned, policy root-owned),
# and run by a real unprivileged user (games) against real stap modules.
# Every refusal must say why and leave nothing loaded (the registry stays
# empty); the allowed path must reach init_module, which on this kernel
# without module support answers ENOSYS (real loads: tests/vm/).
#
# The modules are built for the test kernel ($(sc_test_krel)), not for the
# running one. For the allowed path a copy's vermagic is rewritten to the
# running release (auth_retarget): its digest differs, and it is blessed.
. "$top_srcdir/tests/lib/auth-lib.sh"

auth_require_root
auth_user_setup || skip_all "no unprivileged account $AUTH_USER / group $AUTH_GROUP here"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is missing"
MOD=$(auth_module sc_auth_a 'global greeting = "hi" global count = 3
probe begin { printf("%s %d\n", greeting, count) exit() }') ||
	skip_all "cannot build a stap module here (see tests/fakes/auth-module.sh)"
REL=$(uname -r)
mkdir -p "$T/mods/run" && chmod 755 "$T/mods/run"
RUNMOD=$T/mods/run/sc_auth_a.ko
auth_retarget "$MOD" "$RUNMOD" "$REL" && chmod 644 "$RUNMOD" ||
	skip_all "cannot retarget the module's vermagic to $REL"
DIG=$(sha256_of "$MOD")
RUNDIG=$(sha256_of "$RUNMOD")

auth_build_copy install
ok $? "configure, build and install a copy into \$T/prefix"
[ -n "${AUTH_BUILD_SECONDS:-}" ] || { done_testing; exit 1; }
diag "the copy took ${AUTH_BUILD_SECONDS} s to configure, build and install"
is "$(stat -c '%U:%G %a' "$AUTH_BIN")" "root:root 4755" "installed setuid root, mode 4755"
is "$(readelf -d "$AUTH_BIN" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')" \
	"libc.so.6 " "the installed copy links libc and nothing else"
syslog_start || skip_all "cannot start the syslog listener"
FAKES=$(auth_fakes) || skip_all "cannot build the test helpers in tests/fakes"

# run ARGS...: staprun-auth as the test user; OUT gets stdout+stderr, RC the status.
run() { OUT=$(logged setpriv --reuid="$AUTH_UID" --regid="$AUTH_GID" --clear-groups -- \
	timeout 20 "$AUTH_BIN" "$@" 2>&1); RC=$?; }

# refused DESC REGEX ARGS...: refused (status 1) with the reason, nothing loaded.
refused() {
	local desc=$1 re=$2
	shift 2
	run "$@"
	is "$RC" 1 "$desc: refused"
	like "$OUT" "$re" "$desc: says why"
	registry_empty
	ok $? "$desc: nothing loaded or claimed"
}

# --------------------------------------------------------------- basics
OUT=$(as_user "$AUTH_BUILD_BIN" --verify "$RUNMOD" 2>&1)
like "$OUT" "not installed setuid root" "a copy without the setuid bit says so"
OUT=$(as_user "$FAKES/exec-empty-argv" "$AUTH_BIN" 2>&1)
RC=$?
is "$RC" 1 "argc == 0: refused"
like "$OUT" "refusing to run with an empty argument list" "argc == 0: says why"
run --help
is "$RC" 0 "--help"
like "$OUT" "--verify MODULE.ko" "--help shows the synopsis"
run -c true -x 1 "$RUNMOD"
is "$RC" 2 "-c with -x is a usage error"
# CVE-2011-2502: staprun -u PATH loaded a second, unchecked module (uprobes).
run -u "$RUNMOD" "$RUNMOD"
is "$RC" 2 "-u PATH (staprun's uprobes module, CVE-2011-2502): a usage error"
registry_empty
ok $? "  nothing loaded or claimed"

# ------------------------------------------------------ what is not listed
policy "# nothing blessed yet"
refused "an unlisted digest" "sha256:$DIG\) is not an authorized module: its digest is not listed in $AUTH_POLICY" "$MOD"
like "$OUT" "hint: ask an admin to add: sha256:$DIG  # sc_auth_a  to $AUTH_POLICY" \
	"  with the line an admin should add"
cp "$RUNMOD" "$T/mods/changed.tmp"
printf '\0' >>"$T/mods/changed.tmp"
mkdir -p "$T/mods/chg" && chmod 755 "$T/mods/chg" && mv "$T/mods/changed.tmp" "$T/mods/chg/sc_auth_a.ko"
chmod 644 "$T/mods/chg/sc_auth_a.ko"
policy "sha256:$RUNDIG  # sc_auth_a"
refused "a module changed after blessing" "sha256:$(sha256_of "$T/mods/chg/sc_auth_a.ko")\) is not an authorized module" "$T/mods/chg/sc_auth_a.ko"

# ---------------------------------------------------- what the module is
ln -s "$RUNMOD" "$T/mods/link.ko"
refused "a symlink as module" "is a symbolic link" "$T/mods/link.ko"
mkfifo -m 644 "$T/mods/fifo.ko"
refused "a FIFO as module (without blocking)" "is a FIFO, not a module file" "$T/mods/fifo.ko"
mkdir -m 755 "$T/mods/dir.ko"
refused "a directory as module" "is a directory, not a module file" "$T/mods/dir.ko"
mknod -m 666 "$T/mods/null.ko" c 1 3
refused "a device as module" "is a character device, not a module file" "$T/mods/null.ko"
truncate -s 65M "$T/mods/big.ko" && chmod 644 "$T/mods/big.ko"
refused "an oversized module" "too large for a module" "$T/mods/big.ko"
cp "$RUNMOD" "$T/mods/secret.ko" && chmod 600 "$T/mods/secret.ko"
refused "a module the user cannot read (no digest leaks)" "cannot open .*Permission denied" "$T/mods/secret.ko"
run "$T/mods/secret.ko"
[[ "$OUT" != *"$RUNDIG"* ]]
ok $? "  and its digest is not shown"
refused "a file name without .ko" "must end in .ko" "$T/mods/run"
mkdir -p -m 755 "$T/mods/dash" && cp "$RUNMOD" "$T/mods/dash/sc-auth_a.ko" &&
	chmod 644 "$T/mods/dash/sc-auth_a.ko"
refused "a file name with a '-' (libkmod would look up sc_auth_a)" \
	"not a valid module file name \(\[A-Za-z0-9_\]" "$T/mods/dash/sc-auth_a.ko"

# ------------------------------------------------------------- the policy
policy "sha256:$RUNDIG"
chmod 664 "$AUTH_POLICY"
refused "a group-writable policy file" "refusing $AUTH_POLICY: writable by group or others \(mode 0664\)" "$RUNMOD"
chmod 646 "$AUTH_POLICY"
refused "an other-writable policy file" "refusing $AUTH_POLICY: writable by group or others" "$RUNMOD"
chmod 644 "$AUTH_POLICY"
chown "$AUTH_USER" "$AUTH_POLICY"
refused "a policy file not owned by root" "refusing $AUTH_POLICY: owned by uid $AUTH_UID, not by root" "$RUNMOD"
chown root "$AUTH_POLICY"
chmod 775 "$AUTH_POLICY_DIR"
refused "a group-writable policy directory" "refusing $AUTH_POLICY_DIR: writable by group or others" "$RUNMOD"
chmod 755 "$AUTH_POLICY_DIR"
chown "$AUTH_USER" "$AUTH_POLICY_DIR"
refused "a policy directory not owned by root" "refusing $AUTH_POLICY_DIR: owned by uid $AUTH_UID" "$RUNMOD"
chown root "$AUTH_POLICY_DIR"
printf 'sha256:%s\n' "$RUNDIG" >"$AUTH_POLICY_DIR/authorized_probes.d/web"
chmod 664 "$AUTH_POLICY_DIR/authorized_probes.d/web"
refused "a group-writable drop-in" "refusing $AUTH_POLICY_DIR/authorized_probes.d/web: writable" "$RUNMOD"
rm -f "$AUTH_POLICY_DIR/authorized_probes.d/web"
policy "# blessed once with md5" "md5:0123456789abcdef0123456789abcdef"
refused "an md5: entry" "$AUTH_POLICY:2: md5 digests are refused \(md5 collisions are practical\)" "$RUNMOD"
policy "sha256:$RUNDIG frobnicate=yes"
refused "an unknown option (fail closed)" "$AUTH_POLICY:1: unknown option 'frobnicate'" "$RUNMOD"
policy "sha256:$RUNDIG expires=2000-01-01"
refused "an expired entry" "entry $AUTH_POLICY:1 expired on 2000-01-01" "$RUNMOD"
policy "sha256:$RUNDIG users=root"
refused "a user not allowed" "user $AUTH_USER is not allowed by entry $AUTH_POLICY:1 \(users=root groups=-\)" "$RUNMOD"
policy "sha256:$RUNDIG groups=$AUTH_GROUP"
refused "a group not allowed" "user $AUTH_USER is not allowed by entry" "$RUNMOD"
OUT=$(as_user_in_group "$AUTH_BIN" --verify "$RUNMOD" 2>&1)
like "$OUT" "^allowed: $RUNMOD" "  but a member of the group is allowed"
policy "sha256:$RUNDIG kernel=5.10.0-1-amd64"
refused "kernel= mismatch" "allows kernel=5.10.0-1-amd64, this kernel is $REL" "$RUNMOD"
policy "sha256:$DIG"
refused "a module built for another kernel" "was built for kernel $(sc_test_krel), this kernel is $REL" "$MOD"

# -------------------------------------------------------------- parameters
policy "sha256:$RUNDIG users=$AUTH_USER params=greeting,nosuch"
refused "a parameter the entry does not allow" "parameter count is not allowed by entry $AUTH_POLICY:1 \(params=greeting,nosuch\)" "$RUNMOD" count=5
refused "a parameter the module does not declare" "declares no parameter nosuch" "$RUNMOD" nosuch=1
policy "sha256:$RUNDIG"
refused "a parameter with no params= at all" "it has no params=, so none may be set" "$RUNMOD" greeting=x
policy "sha256:$RUNDIG params=greeting,count"
refused "injection: a space" "'greeting=a _stp_bufsize=1': the value contains whitespace" "$RUNMOD" "greeting=a _stp_bufsize=1"
refused "injection: a tab" "the value contains whitespace" "$RUNMOD" "$(printf 'greeting=a\tcount=1')"
refused "injection: a newline" "the value contains a newline" "$RUNMOD" "$(printf 'greeting=a\ncount=1')"
refused "injection: a double quote" "the value contains a quote" "$RUNMOD" 'greeting="a count=1"'
refused "injection: a single quote" "the value contains a quote" "$RUNMOD" "greeting='a'"
refused "injection: a second =" "the value contains a second '='" "$RUNMOD" "greeting=count=1"
refused "injection: a non-breaking space (0xa0)" "the value contains whitespace" "$RUNMOD" "$(printf 'greeting=a\xa0count=1')"
refused "injection: a bad name" "the name must match" "$RUNMOD" "count,greeting=1"
refused "injection: no =" "is not NAME=VALUE" "$RUNMOD" "greeting"
refused "injection: _stp_bufsize" "use -b BUFSIZE instead" "$RUNMOD" "_stp_bufsize=1"
refused "a parameter given twice" "given twice" "$RUNMOD" greeting=a greeting=b

# ----------------------------------------------------------- allowed path
policy "sha256:$RUNDIG users=$AUTH_USER params=greeting,count  # sc_auth_a"
run --verify "$RUNMOD" greeting=hello count=7
is "$RC" 0 "--verify: an allowed module"
like "$OUT" "^allowed: $RUNMOD \(sha256:$RUNDIG, entry $AUTH_POLICY:1, parameters '_stp_bufsize=0 greeting=hello count=7'\)" \
	"  says allowed, the entry and the parameter string"
run -b 16 "$RUNMOD" greeting=hello count=7
is "$RC" 1 "the allowed path reaches init_module, which fails here"
like "$OUT" "cannot load sc_auth_a: this kernel cannot load modules \(CONFIG_MODULES is off\)" \
	"  with the kernel's answer, plainly"
registry_empty
ok $? "  and the registry record is gone again"
run --list
is "$RC:$OUT" "0:" "--list: nothing is loaded"

# -------------------------- -S MB[,N]: stapio's output rotation (issue 22)
# The shapes auth-fake-kmod.sh tries on its non-setuid copy, and a few more,
# against the setuid copy as the user: a bad -S is a usage error before
# anything is opened, claimed or loaded; a good one takes the allowed path.
mkdir -m 700 "$T/rot-rootonly"
run -b 16 -o "$T/rot-rootonly/out" -S 4096,65536 "$RUNMOD" greeting=hello
is "$RC" 1 "-o FILE -S 4096,65536 (the largest): the allowed path, to init_module"
like "$OUT" "cannot load sc_auth_a: this kernel cannot load modules" "  which fails here"
is "$(ls -A "$T/rot-rootonly")" "" "  nothing written into the root-only dir of -o"
registry_empty
ok $? "  nothing loaded or claimed"
for bad in 0 1,0 01 1,01 1, ,1 , 4097 1,65537 1,2,3 ' 1' '1 ' +1 -1 1x 1,2x 0x10 \
	99999999999999999999 1,99999999999999999999 '1,2 ' $'1\n' '' '1;id' \
	'1 -o /etc/x' '%n%n%n' "$(printf '%05000d' 1)" $'\xd9\xa1' $'1\xff'; do
	run -o "$T/rot.out" -S "$bad" "$RUNMOD"
	is "$RC" 2 "-S $(printf %q "${bad:0:40}"): a usage error (status 2)"
	like "$OUT" "invalid -S" "  saying so"
	registry_empty && [ ! -e "$T/rot.out" ]
	ok $? "  nothing loaded, claimed or written"
done
run -o "$T/rot.out" -S 2,3 -S 1,0 "$RUNMOD"
is "$RC" 2 "-S given twice, the last one bad: a usage error"
run -S 1 "$RUNMOD"
is "$RC" 2 "-S without -o: a usage error"
like "$OUT" "-S needs -o FILE" "  saying so"
run --verify -S 1 "$RUNMOD"
is "$RC" 2 "--verify -S: a usage error"
refused "-S after the module (a module parameter)" "is not NAME=VALUE" "$RUNMOD" -S 1

# A file under a root-only directory, reached through /proc/PID/cwd of a root
# process whose cwd is below it: only CAP_SYS_PTRACE (or CAP_DAC_*) gets
# there, and the open must have no capability at all.
mkdir -m 700 "$T/rootonly" && mkdir -m 755 "$T/rootonly/in" &&
	cp "$RUNMOD" "$T/rootonly/in/sc_auth_a.ko" && chmod 644 "$T/rootonly/in/sc_auth_a.ko"
(cd "$T/rootonly/in" && exec sleep 60) &
SLEEPER=$!
at_exit "kill $SLEEPER 2>/dev/null"
sleep 0.2
refused "a module reached through a root process's /proc/PID/cwd" \
	"cannot open /proc/$SLEEPER/cwd/sc_auth_a.ko: Permission denied" \
	--verify "/proc/$SLEEPER/cwd/sc_auth_a.ko"
[[ "$OUT" != *"$RUNDIG"* ]]
ok $? "  and its digest is not shown"
kill "$SLEEPER" 2>/dev/null

# ------------------------------------------------------------ buffer size
policy "sha256:$RUNDIG users=$AUTH_USER"
run --verify -b 64 "$RUNMOD"
is "$RC" 0 "-b 64 without bufsize=: allowed"
refused "-b 65 without bufsize=" \
	"a buffer of 65 MiB per CPU is more than entry $AUTH_POLICY:1 allows \(it has no bufsize=, so at most 64\)" \
	-b 65 "$RUNMOD"
policy "sha256:$RUNDIG users=$AUTH_USER bufsize=512"
run --verify -b 512 "$RUNMOD"
is "$RC" 0 "-b 512 with bufsize=512: allowed"
like "$OUT" "parameters '_stp_bufsize=512'" "  and passed on as _stp_bufsize"
refused "-b 513 with bufsize=512" "more than entry $AUTH_POLICY:1 allows \(bufsize=512\)" \
	-b 513 "$RUNMOD"
run -b 2048 "$RUNMOD"
is "$RC" 2 "-b 2048 (the runtime's int arithmetic overflows): a usage error"
like "$OUT" "invalid buffer size '2048' \(1-2047 MiB\)" "  says the range"

# -------------------------------------------------------------------- -d
refused "-d of a module it did not load" "sc_auth_a was not loaded by staprun-auth \(no record in $AUTH_REGISTRY\)" -d sc_auth_a
auth_record sc_auth_b 0 root "$DIG" 1:-
run -d sc_auth_b
is "$RC" 1 "-d of a module loaded for another user: refused"
like "$OUT" "sc_auth_b was loaded by root \(uid 0\), not by you" "  says whose it is"
rm -f "$AUTH_REGISTRY/sc_auth_b"
refused "-d of a path" "'../../etc/passwd' is not a module name" -d ../../etc/passwd
refused "-d of a name with a '-'" "'sc-auth_b' is not a module name" -d sc-auth_b
refused "-d of an arbitrary kernel module" "ext4 was not loaded by staprun-auth" -d ext4

# ------------------------------------- the caller cannot stop or kill it
# hold_lock FILE: a background process (its pid in $!) holding flock(FILE)
# until it is killed; the lock goes with it.
hold_lock() { (exec 9>>"$1" && flock 9 && exec sleep 30) & }

# A record locked by a live run (root holds its lock here): a load of the
# same module is refused at once, naming whose run it is; nothing waits.
policy "sha256:$RUNDIG users=$AUTH_USER params=greeting,count  # sc_auth_a"
auth_record sc_auth_a 0 root "$RUNDIG" "" 4242
hold_lock "$AUTH_REGISTRY/sc_auth_a"
HOLDER=$!
at_exit "kill $HOLDER 2>/dev/null"
sleep 0.3
START=$SECONDS
run "$RUNMOD"
is "$RC" 1 "a module whose record a live run holds: refused"
like "$OUT" "sc_auth_a is in use by a run of root \(pid 4242\)" "  says whose run it is"
kill -0 "$HOLDER" 2>/dev/null
ok $? "  at once: it answered while the holder still held the record ($((SECONDS - START)) s)"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
rm -f "$AUTH_REGISTRY/sc_auth_a"

# Per-user slots: with SA_MAX_PER_USER (4) root-side processes of the user
# alive (root holds their slot locks here), a fifth is refused at once.
HOLDERS=
for i in 0 1 2 3; do
	hold_lock "$AUTH_REGISTRY/.slot-$AUTH_UID-$i"
	HOLDERS="$HOLDERS $!"
done
at_exit "kill $HOLDERS 2>/dev/null"
sleep 0.3
run --verify "$RUNMOD"
is "$RC" 1 "a fifth concurrent staprun-auth of one user: refused"
like "$OUT" "you already have 4 staprun-auth processes running, the most one user may have" \
	"  says why"
run --help
is "$RC" 0 "  --help needs no slot"
kill $HOLDERS 2>/dev/null
wait $HOLDERS 2>/dev/null

# While it works it is root through and through: blocked on a stderr pipe
# nobody reads, it cannot be signalled by the user, and gives up the write
# after about 2 s instead of hanging.
mkdir -p -m 777 "$T/lw"
rm -f "$T/lw/fifo" && mkfifo -m 666 "$T/lw/fifo"
exec 7<>"$T/lw/fifo" # holds the pipe open; nobody reads it
head -c 70000 /dev/zero >"$T/lw/fifo" &
FILLER=$!
sleep 0.3
START=$SECONDS
as_user sh -c 'echo $$ >"$1/pid"; exec "$2" --verify "$3" 2>"$1/fifo"' sh "$T/lw" "$AUTH_BIN" "$MOD" &
WAITER=$!
sleep 0.5
PID=$(cat "$T/lw/pid" 2>/dev/null)
like "$(grep '^Uid:' "/proc/$PID/status" 2>/dev/null)" "^Uid:\s+0\s+0\s+0\s+0$" \
	"while it writes to the caller's stderr it is root through and through"
as_user sh -c 'kill -STOP "$1"' sh "$PID" 2>/dev/null
isnt "$?" 0 "the user cannot SIGSTOP it"
as_user sh -c 'kill -KILL "$1"' sh "$PID" 2>/dev/null
isnt "$?" 0 "  nor SIGKILL it"
wait "$WAITER"
is "$?" 1 "a refusal nobody reads: it still ends"
diag "  it ended after $((SECONDS - START)) s, with nobody reading"
exec 7>&-
kill "$FILLER" 2>/dev/null
wait "$FILLER" 2>/dev/null

# ------------------------------------------------------ hostile environment
# A preload library that announces itself works on an ordinary program...
rm -f "$T/marker"
LD_PRELOAD=$FAKES/announce-preload ANNOUNCE_MARKER=$T/marker /bin/true 2>/dev/null
[ -e "$T/marker" ]
ok $? "the announcing preload library works on an ordinary program"
rm -f "$T/marker"
# A config that makes every default SHA-256 fetch fail (no FIPS provider here).
printf 'openssl_conf = init\n[init]\nalg_section = evp\n[evp]\ndefault_properties = fips=yes\n' \
	>"$T/broken.cnf"
chmod 644 "$T/broken.cnf"
OPENSSL_CONF=$T/broken.cnf openssl sha256 /dev/null >/dev/null 2>&1
isnt "$?" 0 "the broken OPENSSL_CONF breaks openssl itself"
mkdir -p -m 755 "$T/evil"
printf '#!/bin/sh\necho EVIL >&2\ntouch %s/evil-ran\n' "$T" >"$T/evil/stapio"
chmod 755 "$T/evil/stapio"
for p in uname sha256sum sh; do cp "$T/evil/stapio" "$T/evil/$p"; done
# env(1) applies these only to staprun-auth itself (setpriv and timeout run clean).
HOSTILE=(LD_PRELOAD="$FAKES/announce-preload" ANNOUNCE_MARKER="$T/marker"
	LD_LIBRARY_PATH="$T/evil" OPENSSL_CONF="$T/broken.cnf"
	SYSTEMTAP_STAPIO="$T/evil/stapio" SYSTEMTAP_STAPRUN="$T/evil/stapio"
	SYSTEMTAP_RUNTIME="$T/evil" PATH="$T/evil:$PATH" IFS=x TZ=/etc/shadow
	LANG='../../x' GCONV_PATH="$T/evil" MALLOC_CHECK_=3 KMOD_LOG=debug)
run --verify "$RUNMOD" greeting=hello
CLEAN=$OUT
OUT=$(as_user timeout 20 env "${HOSTILE[@]}" "$AUTH_BIN" --verify "$RUNMOD" greeting=hello 2>&1)
is "$OUT" "$CLEAN" "hostile environment: --verify answers identically"
OUT2=$(as_user timeout 20 "$AUTH_BIN" "$RUNMOD" greeting=hello 2>&1)
OUT=$(as_user timeout 20 env "${HOSTILE[@]}" "$AUTH_BIN" "$RUNMOD" greeting=hello 2>&1)
is "$OUT" "$OUT2" "hostile environment: a load answers identically"
[ ! -e "$T/marker" ] && [ ! -e "$T/evil-ran" ]
ok $? "  the preload library never ran, nor anything from \$PATH or SYSTEMTAP_*"
[[ "$OUT" != *ANNOUNCE* && "$OUT" != *EVIL* ]]
ok $? "  and nothing of theirs printed"
registry_empty
ok $? "  nothing left loaded"

# ------------------------------------------------------------- descriptors
OUT=$(as_user timeout 20 "$AUTH_BIN" --verify "$RUNMOD" 2>&1 >&- <&-)
is "$?" 0 "stdin and stdout closed: still works (they are /dev/null)" || diag "$OUT"

# ------------------------------------------------------------------ syslog
sleep 0.2
LOG=$(cat "$AUTH_LOG")
like "$LOG" "<84>.*staprun-auth\[[0-9]+\]: refuse load user=$AUTH_USER\($AUTH_UID\) module=$MOD sha256=$DIG params='_stp_bufsize=0': .*not an authorized module" \
	"syslog (LOG_AUTHPRIV|LOG_WARNING): a refusal with user, module, digest, reason"
like "$LOG" "<85>.*allow load user=$AUTH_USER\($AUTH_UID\) module=$RUNMOD sha256=$RUNDIG params='_stp_bufsize=16 greeting=hello count=7': entry $AUTH_POLICY:1" \
	"syslog (LOG_AUTHPRIV|LOG_NOTICE): an allowed load with its parameters and entry"
like "$LOG" "refuse load .*cannot load sc_auth_a: this kernel cannot load modules" \
	"syslog: the kernel's refusal"
like "$LOG" "refuse unload user=$AUTH_USER\($AUTH_UID\) module=sc_auth_b .*not by you" \
	"syslog: a refused -d"
like "$LOG" "refuse load .*the value contains a newline" "syslog: an injection attempt"

done_testing
