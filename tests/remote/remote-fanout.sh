#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fan-out to many sshd targets at once: a dead, a refusing and a silent
# target are reported and hold nobody; output is prefixed; a summary; and
# Ctrl-C or a SIGKILLed client stops every remote run and cleans up.
# The runner on the targets is a stand-in (see remote-lib.sh).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"
require_stap
. "$top_srcdir/tests/lib/remote-lib.sh"
export STAPCACHE_DIR=$top_builddir/tests/remote-cache
write_config "runtime: $RUNTIME"

# 14 ports on one sshd (one sshd listens on at most 16), one refusing host.
ports=()
for i in $(seq 14); do ports+=("$(free_port)"); done
start_sshd fleet "${ports[@]}" || skip_all "cannot start sshd"
PB=$(free_port); start_sshd other "$PB" || skip_all "cannot start sshd"
for i in $(seq 14); do
	trust fleet "${ports[$((i - 1))]}"
	target "t$i" "ssh:root@127.0.0.1:${ports[$((i - 1))]}:auth"
done
target refusing "ssh:root@127.0.0.1:$PB:auth"   # its host key is not trusted
target dead "ssh:root@127.0.0.1:$(free_port):auth"
# A target that accepts TCP and then says nothing (no SSH banner).
PS=$(free_port)
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(120)' "$PS" &
silent_pid=$!
for i in $(seq 3000); do (exec 3<>"/dev/tcp/127.0.0.1/$PS") 2>/dev/null && break; sleep 0.1; done
at_exit "kill $silent_pid 2>/dev/null"
target silent "ssh:root@127.0.0.1:$PS:auth"

# Build first, so that timings below are about the fan-out only.
$STAPCACHE -p4 -T t1 -e "$SCRIPT" >/dev/null 2>"$T/err"
ok $? "the module is built (or in the shared cache)"

args=()
for i in $(seq 14); do args+=(-T "t$i"); done
# The silent target holds its connection until this test lets it go (its
# server is killed); the good ones must all finish while it is held: they
# run at once, not one after another (14 x 2 s). Waited for as events (the
# lines in the output, the process still there), with a generous ceiling.
t0=$(date +%s.%N)
$STAPCACHE "${args[@]}" -T refusing -T dead -T silent --connect-timeout 600 \
	-e "$SCRIPT" -G fake_sleep=2 >"$T/out" 2>"$T/err" &
run=$!
for i in $(seq 3000); do
	[ "$(grep -c '^t[0-9]*: tick 1$' "$T/out")" = 14 ] && break
	kill -0 "$run" 2>/dev/null || break
	sleep 0.1
done
is "$(grep -c '^t[0-9]*: tick 1$' "$T/out")" 14 "every good target streamed its output, prefixed"
kill -0 "$run" 2>/dev/null
ok $? "... while the silent target still held the run: they were not held by it"
kill "$silent_pid" 2>/dev/null
wait "$run"; st=$?
t1=$(date +%s.%N)
is "$st" 1 "17 targets, some failing: exit status 1"
is "$(grep -Ec '^t[0-9]+ +[^ ]+ +0 +[0-9.]+ +[0-9]+ +ok$' "$T/err")" 14 "summary: 14 ok rows"
like "$(cat "$T/err")" "^refusing +[^ ]+ +255 .* connect$" "summary: the refusing target"
like "$(cat "$T/err")" "refusing: refused: 127.0.0.1:$PB is not in" "the refusing target is reported"
like "$(cat "$T/err")" "dead: cannot connect to 127.0.0.1" "the dead target is reported"
like "$(cat "$T/err")" "silent: cannot connect" "the silent target is reported"
like "$(cat "$T/err")" "^TARGET +KERNEL +STATUS +SECONDS +LINES" "a summary table on stderr"
sed 's/^/#   /' "$T/err" | grep -E 'silent|dead|refusing' | head -8
diag "fan-out to 17 targets: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
is "$(remote_leftovers)" 0 "no temp dir left on any target"

# Ctrl-C: the remote run is stopped (the runner gets TERM) and cleaned up.
rm -f "$R/log/"*
$STAPCACHE -T t1 -T t2 -e "$SCRIPT" -G fake_sleep=60 >"$T/out" 2>"$T/err" &
pid=$!
for i in $(seq 3000); do [ "$(cat "$R/log/started" 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"; st=$?
is "$st" 130 "Ctrl-C: stapcache exits 130"
is "$(grep -c 'stopped by TERM' "$R/log/stopped" 2>/dev/null)" 2 "Ctrl-C: both remote runners were stopped"
is "$(remote_leftovers)" 0 "Ctrl-C: the remote temp dirs are gone"

# SIGKILL of the client: sshd closes the channel, the wrapper sees EOF and stops the runner.
rm -f "$R/log/"*
$STAPCACHE -T t3 -e "$SCRIPT" -G fake_sleep=60 >"$T/out" 2>"$T/err" &
pid=$!
for i in $(seq 3000); do [ -s "$R/log/started" ] && break; sleep 0.1; done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
for i in $(seq 3000); do [ -s "$R/log/stopped" ] && [ "$(remote_leftovers)" = 0 ] && break; sleep 0.1; done
like "$(cat "$R/log/stopped" 2>/dev/null)" "stopped by TERM" "SIGKILLed client: the remote runner was stopped"
is "$(remote_leftovers)" 0 "SIGKILLed client: the remote temp dir is gone"

# --jobs 1 still reaches every target, one after another.
$STAPCACHE -T t1 -T t2 -T t3 --jobs 1 -e "$SCRIPT" >"$T/out" 2>"$T/err"; st=$?
is "$st" 0 "--jobs 1: all three ran"
is "$(grep -c '^t[123]: sha256 ' "$T/out")" 3 "--jobs 1: three outputs"
# --output json: every line one JSON object naming its target, a summary each
# (the dead target's too: it never ran); -o FILE: FILE.TARGET each.
$STAPCACHE -T t1 -T t2 -T dead --output json -e "$SCRIPT" -G fake_stderr=oops -G fake_exit=3 \
	>"$T/json" 2>"$T/json.err"; st=$?
is "$st" 1 "--output json, three targets, one dead: exit status 1"
python3 - "$T/json" >"$T/py" 2>&1 <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
li = [o for o in objs if o["type"] == "line"]
su = {o["target"]: o for o in objs if o["type"] == "summary"}
assert {o["target"] for o in li} == {"t1", "t2"}, "lines of t1 and t2"
for t in ("t1", "t2"):
    mine = [o for o in li if o["target"] == t]
    assert any(o["stream"] == "stdout" and o["line"].startswith("runner staprun-auth") for o in mine), t
    assert any(o["stream"] == "stderr" and o["line"] == "to stderr: oops" for o in mine), t
    assert su[t]["status"] == 3 and su[t]["state"] == "runner failed", su[t]
    assert su[t]["lines"] == len(mine), (su[t], len(mine))
assert su["dead"]["status"] == 255 and su["dead"]["state"] == "connect", su["dead"]
assert list(su) == [o["target"] for o in objs[-3:]], "the summaries come last"
print(len(objs), "objects")
EOF
ok $? "each line names its target and stream; a summary per target with its status ($(tail -n 1 "$T/py"))"
[ "$(tail -n 1 "$T/py")" = "$(wc -l < "$T/json") objects" ] || diag "$(cat "$T/py")"
like "$(cat "$T/json.err")" "dead: cannot connect" "the dead target is still reported on stderr"
$STAPCACHE -T t1 -T t2 --output json -o "$T/o.json" -e "$SCRIPT" >"$T/out" 2>"$T/err"
is "$(cat "$T/out")" "" "-o FILE with two targets: nothing on stdout"
python3 -c 'import json, sys
for t in ("t1", "t2"):
    objs = [json.loads(l) for l in open(sys.argv[1] + "." + t)]
    assert objs and all(o["target"] == t for o in objs), t' "$T/o.json"
ok $? "FILE.t1 and FILE.t2 each hold their target's JSON"
is "$(ls "$T" | grep -c '^o\.json\.tmp')" 0 "no temporary output file is left"
done_testing
