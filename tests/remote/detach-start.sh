#!/bin/bash
# The start of a detached run on the target (issue 22), when staprun-auth is
# slow: the launcher script stapcache-remote sends (tests/fakes/detach-script
# prints it from stage.c, with a start deadline of seconds instead of
# minutes) run by /bin/sh with HOME in a scratch dir and the channel a FIFO.
#
# staprun-auth is a stand-in here: the real one is setuid root, holds root's
# ids (the login cannot signal it) while it checks and loads the module, and
# takes minutes only under a contrived stall; this kernel cannot load modules
# anyway. The fake takes FAKE_DELAY seconds with TERM, INT and HUP ignored
# (as the login sees root's process), then runs a child whose comm is stapio
# (a sleep, stoppable with TERM as stapio is) and exits with its status, as
# the watchdog does. The real start and stop are tested in the guest
# (tests/vm/detach.sh).
. "$top_srcdir/tests/lib/testlib.sh"
SCRIPT=$top_builddir/tests/fakes/detach-script
START_S=$("$SCRIPT" --start-s)
CEIL=180 # the ceiling of every wait on an event (a file, a process's end)

mkdir -p "$T/fake"
ln -s "$(command -v sleep)" "$T/fake/stapio"
cat > "$T/fake/staprun-auth" <<'EOS'
#!/bin/bash
trap '' TERM INT HUP
sleep "${FAKE_DELAY:-0}" &
wait $!
(trap - TERM INT HUP; exec "$(dirname "$0")/stapio" 100000) &
s=$!
echo "$s" > "$FAKE_LOG.stapio"
# FAKE_NOISE: that many bytes of messages (a probe's warn()s, through stapio)
[ -z "${FAKE_NOISE:-}" ] || head -c "$FAKE_NOISE" /dev/zero | tr '\0' w >&2
# FAKE_FAIL: stapio's write fails with that message
# (once the run counts as started: the fake runs in the run's dir)
if [ -n "${FAKE_FAIL:-}" ]; then
	for _ in $(seq 1800); do [ -e started ] && break; sleep 0.1; done
	echo "$FAKE_FAIL" >&2
	kill $s
	wait $s
	exit 1
fi
wait $s
EOS
chmod +x "$T/fake/staprun-auth"

# wait_for SECONDS COMMAND...: until COMMAND succeeds (0) or the ceiling (1).
wait_for() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}
gone() { [ ! -e "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }
field() { sed -n "s/^$1=//p" "$2" 2>/dev/null; }
no_module() { ! ls "$R"/*.ko >/dev/null 2>&1; }

# launch NAME DELAY DURATION: starts the launcher in the background; sets
# H (its HOME), R (the run's dir), L (the launcher's pid), ID.
launch() {
	H=$T/$1 ID=stap_$1@$(date +%s)
	mkdir -p "$H/stage" && : > "$H/stage/stap_$1.ko"
	R=$H/.cache/stapcache/runs/$ID
	"$SCRIPT" "stap_$1" "$3" "${ID#*@}" > "$H/launcher.sh" || return 1
	mkfifo "$H/chan"
	exec {chan}<>"$H/chan" # the channel: open, nothing sent until the end
	env HOME="$H" PATH="$T/fake:$PATH" FAKE_DELAY="$2" FAKE_LOG="$H/fake" \
		FAKE_NOISE="${FAKE_NOISE:-}" FAKE_FAIL="${FAKE_FAIL:-}" \
		sh -c "umask 077; d='$H/stage'; $(cat "$H/launcher.sh")" \
		< "$H/chan" > "$H/out" 2> "$H/err" {chan}>&- &
	L=$!
	at_exit "exec $chan>&-"
}
stapio_of() { cat "$H/fake.stapio" 2>/dev/null; }
# no_reader: nothing has the channel open any more (the launcher's watcher
# of the channel is gone too).
no_reader() {
	local f
	for f in /proc/[0-9]*/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" != "$H/chan" ] || return 1
	done
}

# 1. The control: a quick start is detached at once, its id on stdout, and
# ends at its duration.
launch quick 0 3
wait $L
is "$?:$(cat "$H/out")" "0:stapcache-detached $ID" "a quick start: detached, its id said"
wait_for $CEIL test -e "$R/end"
ok $? "  the run ended by itself (its end record)"
is "$(field how "$R/end")" duration "  at its duration"
ok "$(gone "$(stapio_of)"; echo $?)" "  its stapio is gone"

# 2. staprun-auth takes longer than the start deadline: the launcher says so
# when the deadline (seconds, not loop turns) has passed, and that the run
# will be stopped as soon as its stapio runs; and it is, at once, not at its
# duration (60 s).
launch slow $((START_S + 8)) 60
t0=$(date +%s)
wait $L
st=$? t1=$(date +%s)
is "$st" 125 "a start slower than the deadline ($START_S s): the launcher gives up (125)"
like "$(cat "$H/err")" "^the run did not start within $START_S s: it will be stopped as soon as its stapio runs \(stapcache logs -T TARGET $ID says when\)$" \
	"  and says what becomes of the run"
ok $((t1 - t0 >= START_S ? 0 : 1)) "  after the deadline ($((t1 - t0)) s), not earlier"
ok "$([ ! -e "$H/fake.stapio" ]; echo $?)" "  before stapio ran"
wait_for $CEIL test -e "$H/fake.stapio"
ok $? "  stapio runs later"
wait_for $CEIL test -e "$R/end"
ok $? "  and the run ends, with no client"
t2=$(date +%s)
is "$(field how "$R/end")" interrupted "  interrupted (not at its duration)"
ok $((t2 - t1 < 60 ? 0 : 1)) "  $((t2 - t1)) s after the launcher gave up, well before the duration"
ok "$(gone "$(stapio_of)"; echo $?)" "  its stapio is gone"
wait_for $CEIL no_module
ok $? "  the module file is removed"

# 3. The client's Ctrl-C (the channel's TERM) while staprun-auth loads:
# stopped as soon as its stapio runs.
launch intr 6 60
wait_for $CEIL test -s "$R/pid"
kill -TERM $L
wait $L
is "$?" 130 "Ctrl-C during the start: the launcher ends (130)"
exec {chan}>&-
wait_for $CEIL no_reader
ok $? "  with the watcher of its channel"
wait_for $CEIL test -e "$R/end"
ok $? "  the run ends when its stapio has run"
is "$(field how "$R/end")" interrupted "  interrupted"
ok "$(gone "$(stapio_of)"; echo $?)" "  its stapio is gone"

# 4. The run's own shell SIGKILLed after the detach (the OOM killer, the
# login's kill -9): its timer still stops the run at the duration and, with
# the shell gone, writes the end record itself (how=lost, status unknown), so
# that ps, logs --follow and logs --remove do not wait for ever.
launch lost 0 4
wait $L
is "$?:$(cat "$H/out")" "0:stapcache-detached $ID" "a run detached"
sh_pid=$(awk '/^PPid:/ { print $2 }' "/proc/$(cat "$R/pid")/status")
like "$(tr '\0' ' ' < "/proc/$sh_pid/cmdline")" "stapcache-run $R" "  its shell found"
kill -KILL "$sh_pid"
wait_for $CEIL test -e "$R/end"
ok $? "  SIGKILL of the run's shell: the run still ends, with an end record"
is "$(field how "$R/end"):$(field status "$R/end")" lost:unknown "  how=lost, status unknown"
like "$(field ended "$R/end")" "^[0-9]+$" "  and when"
ok "$(gone "$(stapio_of)"; echo $?)" "  its stapio is gone (stopped at the duration)"
wait_for $CEIL no_module
ok $? "  the module file is removed"

# 5. Its messages (stderr) reach their cap: the run is stopped, not left to
# fill the disk with them.
MAX=$("$SCRIPT" --stderr-max)
t0=$(date +%s)
FAKE_NOISE=$((MAX + 1)) launch noisy 0 60
wait $L
is "$?" 0 "a run whose stapio writes $((MAX + 1)) bytes of messages: detached"
wait_for $CEIL test -e "$R/end"
ok $? "  it ends"
t1=$(date +%s)
ok $((t1 - t0 < 60 ? 0 : 1)) "  before its duration (60 s): after $((t1 - t0)) s"
is "$(field how "$R/end")" stderr-full "  how=stderr-full"
ok "$(gone "$(stapio_of)"; echo $?)" "  its stapio is gone"

# 6. A write that fails on the login's quota (EDQUOT) counts as a full disk.
FAKE_FAIL="stapio: write: Disk quota exceeded" launch quota 0 60
wait $L
is "$?" 0 "a run whose stapio fails on the quota: detached"
wait_for $CEIL test -e "$R/end"
ok $? "  it ends"
is "$(field how "$R/end"):$(field status "$R/end")" disk-full:1 "  how=disk-full (status 1)"

# 7. A '%' in HOME: stapio reads its -o FILE as a strftime format (a%m would
# become a12), so the output would go to another directory: refused first.
H=$T/a%m
mkdir -p "$H/stage" && : > "$H/stage/stap_pct.ko"
"$SCRIPT" stap_pct 5 "$(date +%s)" > "$T/pct.sh"
env HOME="$H" PATH="$T/fake:$PATH" sh -c "umask 077; d='$H/stage'; $(cat "$T/pct.sh")" \
	< /dev/null > "$T/pct.out" 2> "$T/pct.err"
is "$?" 125 "HOME with a '%': refused (125)"
like "$(cat "$T/pct.err")" "^cannot run detached: HOME \($H\) has a '%', which stapio reads in -o FILE as a date format" \
	"  saying why"
[ ! -e "$H/.cache" ] && [ ! -e "$H/stage" ]
ok $? "  nothing made, the staged module removed"

done_testing
