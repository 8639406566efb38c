#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Progress on a terminal (issue 11): a build shows stap's pass and the time,
# a fan-out each target's state, on stderr when it is a terminal (a real
# pty: tests/pty-run), erased before other output; with stderr a pipe or
# --no-progress nothing extra appears, and stdout is the same either way.
# The key and the module do not change (progress runs stap with -v).
# The fan-out targets are real sshd on loopback with the stand-in runner
# (remote-lib.sh: this kernel cannot load modules).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"
require_stap
command -v python3 >/dev/null 2>&1 || skip_all "no python3 (for the pty)"
PTY=$top_srcdir/tests/lib/pty-run
write_config "runtime: $RUNTIME"
ESC=$(printf '\033')
SCRIPT="probe begin { printf(\"progress $$\\n\") exit() }"
k() { printf '%s' "$1" | tr -d '\r'; }
# What a terminal's transcript says without the status line (its draws and
# erasures), colours and carriage returns: what stderr says without a terminal.
plain() {
	python3 -c 'import re,sys
s = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
s = re.sub(r"\r[^\r\n]*?\x1b\[K", "", s)
s = re.sub(r"\x1b\[[0-9;]*[mK]", "", s)
sys.stdout.write(s.replace("\r", ""))' "$1"
}

# --- a build on a terminal
export TERM=xterm
STAPCACHE_DIR=$T/c1 "$PTY" "$T/tty" -- $STAPCACHE -p4 -r "$KREL" -e "$SCRIPT" >"$T/out1"
ok $? "a build with stderr on a pty succeeds"
is "$(wc -l < "$T/out1" | tr -d ' ')" 1 "stdout holds one line"
like "$(cat "$T/out1")" "^$T/c1/.*\\.ko\$" "... the module's path, nothing else"
tty=$(k "$(cat "$T/tty")")
like "$tty" "compiling stap_[0-9a-f]+ for $KREL \\(cache miss\\)" "the miss is announced"
for p in "1/4, parsing" "2/4, elaborating" "3/4, translating to C" "4/4, compiling the module"; do
	like "$tty" "stap_[0-9a-f]+: pass $p, [0-9]+\\.[0-9] s" "the status line shows pass $p and the time"
done
like "$tty" "$ESC\\[K\$" "the status line is erased at the end"
case $tty in *"Pass 1: parsed"*) r=1 ;; *) r=0 ;; esac
ok $r "stap's own pass lines (-v) became the status line, not output"

# --- the same request with stderr a pipe: nothing but the miss line
STAPCACHE_DIR=$T/c2 $STAPCACHE -p4 -r "$KREL" -e "$SCRIPT" >"$T/out2" 2>"$T/err2"
ok $? "the same build with stderr a pipe succeeds"
is "$(cat "$T/err2")" "$(plain "$T/tty")" \
	"stderr says what the terminal said, without the status line"
like "$(cat "$T/err2")" "^stapcache: compiling stap_" "... the miss line first"
is "$(sed "s|^$T/c2||" "$T/out2")" "$(sed "s|^$T/c1||" "$T/out1")" \
	"the same key (the same entry path in both caches)"
cmp -s "$(cat "$T/out1")" "$(cat "$T/out2")"
ok $? "a byte-identical module: stap -v changed nothing in it"

# --- --no-progress on a terminal, TERM=dumb: no status line
STAPCACHE_DIR=$T/c3 "$PTY" "$T/tty3" -- $STAPCACHE --no-progress -p4 -r "$KREL" -e "$SCRIPT" >/dev/null
ok $? "--no-progress builds"
case $(k "$(cat "$T/tty3")") in *"pass "[1-4]"/4"*) r=1 ;; *) r=0 ;; esac
ok $r "--no-progress: no status line on the terminal"
like "$(cat "$T/tty3")" "^stapcache: compiling stap_" "... the miss line is there"
STAPCACHE_DIR=$T/c4 TERM=dumb "$PTY" "$T/tty4" -- $STAPCACHE -p4 -r "$KREL" -e "$SCRIPT" >/dev/null
case $(cat "$T/tty4") in *"pass "[1-4]"/4"*) r=1 ;; *) r=0 ;; esac
ok $r "TERM=dumb: no status line"

# --- a fan-out: two targets that run for 2 s, one dead one
. "$top_srcdir/tests/lib/remote-lib.sh"
export STAPCACHE_DIR=$T/c1
P1=$(free_port); P2=$(free_port)
start_sshd fleet "$P1" "$P2" || skip_all "cannot start sshd"
trust fleet "$P1"; trust fleet "$P2"
target web1 "ssh:root@127.0.0.1:$P1:auth"
target web2 "ssh:root@127.0.0.1:$P2:auth"
target dead "ssh:root@127.0.0.1:$(free_port):auth"
"$PTY" "$T/ftty" -- $STAPCACHE -T web1 -T web2 -T dead -e "$SCRIPT" -G fake_sleep=2 >"$T/fout"
is $? 1 "the fan-out ends 1 (the dead target failed)"
ftty=$(k "$(cat "$T/ftty")")
like "$ftty" "stapcache: [0-9]+\\.[0-9] s .*\\| web1 (connecting|shipping|running), web2 [a-z]+, dead [a-z]+" \
	"the status line lists every target's state"
like "$ftty" "web1 running" "... running"
like "$ftty" "dead failed" "... failed"
like "$ftty" "done 2, failed 1|failed 1 .*web1 done, web2 done" "... done, with the counts"
like "$ftty" "TARGET +KERNEL" "the summary follows"
case $(cat "$T/fout") in *"$ESC"*|*running*|*connecting*) r=1 ;; *) r=0 ;; esac
ok $r "stdout holds no status line"
is "$(grep -c '^web[12]: tick [01]$' "$T/fout")" 4 "stdout has both targets' prefixed output lines"

$STAPCACHE -T web1 -T web2 -T dead -e "$SCRIPT" -G fake_sleep=1 >"$T/fout2" 2>"$T/ferr2"
is $? 1 "the same fan-out with stderr a pipe"
case $(cat "$T/ferr2") in *"$ESC"*|*" running"*|*connecting*) r=1 ;; *) r=0 ;; esac
ok $r "stderr a pipe: no status line"
"$PTY" "$T/ftty3" -- $STAPCACHE --no-progress -T web1 -e "$SCRIPT" >/dev/null
ok $? "--no-progress reaches the fan-out"
case $(cat "$T/ftty3") in *"$ESC"*|*connecting*) r=1 ;; *) r=0 ;; esac
ok $r "--no-progress: no status line for the targets either"
done_testing
