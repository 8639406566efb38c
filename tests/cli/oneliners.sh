#!/bin/bash
# stapcache trace on the host, with real stap: the script is deterministic,
# a bad one-liner is refused at its column, a one-liner of each probe kind
# that needs no symbol table (syscall entry and return, tracepoint, an SDT
# mark of libstdc++) compiles with stap -p4 for the test kernel and goes
# through the cache like any script; --output json and -o of a local run
# (this kernel cannot load modules: the real runner fails here, and the test
# checks what stapcache makes of its output); --json of cache stats and list.
# Kernel functions (p:/r:FUNCTION) need the target's symbol table: the guest
# test (tests/vm/trace.sh) compiles and runs them with the guest's kallsyms.
. "$top_srcdir/tests/lib/testlib.sh"
export STAPCACHE_SYSCONFDIR="$T/etc"
require_stap
make_stap_wrapper
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"
command -v python3 >/dev/null || skip_all "python3 is not installed (it checks the JSON)"

# 1. The script: a function of the one-liners and filters alone.
OPEN='syscall.openat (pid == 1234) "open %s", filename'
a=$("$STAPCACHE" trace --comm cat "$OPEN" --print-script)
b=$("$STAPCACHE" trace --print-script --comm=cat 'p:syscall.openat(pid==1234)"open %s",filename')
ok $? "--print-script prints the generated script"
is "$a" "$b" "the same one-liner, spelled twice: byte-identical scripts"
like "$a" '^probe syscall\.openat$' "a syscall entry is stap's syscall.NAME"
like "$a" 'if \(\(pid\(\) == 1234\) && execname\(\) == "cat"\) \{' \
	"the spec's filter and --comm both apply"
is "$("$STAPCACHE" trace --print-script "$OPEN" | md5sum)" \
	"$("$STAPCACHE" trace --print-script "$OPEN" | md5sum)" "and again the same bytes"

# 2. A bad one-liner: exit 2, the column, the spec, a caret under the column.
"$STAPCACHE" trace 'r:syscall.read (retval > )' >"$T/out" 2>"$T/err"; st=$?
is "$st" 2 "a bad one-liner: exit status 2"
like "$(sed -n 1p "$T/err")" "one-liner 1, column 26: expected a value" "says where and what"
is "$(sed -n 2p "$T/err")" "  r:syscall.read (retval > )" "shows the one-liner"
is "$(sed -n 3p "$T/err")" "                           ^" "with a caret under column 26"
is "$(cat "$T/out")" "" "and prints nothing on stdout"
"$STAPCACHE" trace -e 'probe begin {}' 'syscall.openat' >/dev/null 2>"$T/err"; st=$?
is "$st" 2 "trace with -e is refused"
like "$(cat "$T/err")" "the one-liners are the script" "and says why"
is "$(stap_runs)" 0 "no stap ran for any of that"

# 3. One one-liner per probe kind compiles for $KREL through the cache.
compile() { # compile NAME SPEC: stapcache trace -p4, the module path in $m
	m=$("$STAPCACHE" trace -p4 -r "$KREL" "$2" 2>"$T/$1.err"); st=$?
	is "$st" 0 "$1: '$2' compiles with stap -p4 for $KREL"
	[ "$st" = 0 ] || diag "$(tail -n 5 "$T/$1.err")"
	like "$(modinfo -F vermagic "$m" 2>&1)" "^$KREL " "$1: the module is for $KREL"
}
compile syscall "$OPEN"
open_mod=$m
compile return 'r:syscall.read (retval > 4096) "read %d bytes", retval'
compile tracepoint 't:sched:sched_process_exec "exec %d", $old_pid'
CXX=/usr/lib/x86_64-linux-gnu/libstdc++.so.6
if [ -f "$CXX" ] && readelf -n "$CXX" 2>/dev/null | grep -q 'Name: throw'; then
	compile mark "u:$CXX:throw \"throw %p\", arg1"
else
	skip "no libstdc++ with SDT marks here ($CXX): the mark one-liner is not compiled"
fi
runs=$(stap_runs)
again=$("$STAPCACHE" trace -p4 -r "$KREL" 'p:syscall.openat  (pid==1234) "open %s",filename')
is "$again" "$open_mod" "the same one-liner spelled differently: the same cached module"
is "$(stap_runs)" "$runs" "answered from the cache: stap did not run"

# 4. A local run whose output stapcache reads: every line is a JSON object.
# This kernel has no module support, so the real runner fails (honestly): the
# test checks the supervision, not the probe (the guest test runs it).
"$STAPCACHE" trace -r "$KREL" --output json "$OPEN" >"$T/json" 2>"$T/json.err"; st=$?
isnt "$st" 0 "the run fails on this host (no loadable modules): status $st"
python3 - "$T/json" "$st" >"$T/py" 2>&1 <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
lines = [o for o in objs if o["type"] == "line"]
summ = [o for o in objs if o["type"] == "summary"]
assert all(o["target"] == "local" for o in objs), "target"
assert len(lines) >= 1, "the runner's error arrives as a line"
assert all(o["stream"] in ("stdout", "stderr") and isinstance(o["time"], float) for o in lines)
assert len(summ) == 1 and objs[-1] is summ[0], "one summary, last"
s = summ[0]
assert s["status"] == int(sys.argv[2]), ("status", s["status"])
assert s["lines"] == len(lines) and s["events"] == 0 and s["top"] == [], s
assert s["bytes"] == sum(len(o["line"].encode()) + 1 for o in lines), "bytes"
print("ok", len(objs), s["state"])
EOF
ok $? "every line is JSON: the runner's lines, then the summary with its status ($(cat "$T/py"))"
"$STAPCACHE" trace -r "$KREL" --output json -o "$T/run.json" "$OPEN" >"$T/stdout" 2>&1
is "$(cat "$T/stdout")" "" "-o FILE: nothing on stdout"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/run.json"
ok $? "-o FILE holds the JSON lines"
is "$(ls "$T" | grep -c 'run.json.tmp')" 0 "no temporary file is left next to it"

# 5. --json of the cache's commands.
"$STAPCACHE" cache stats --json >"$T/stats" && "$STAPCACHE" cache list --json >"$T/list"
ok $? "cache stats --json and cache list --json"
got=$(python3 -c 'import json,sys
s=json.load(open(sys.argv[1])); l=json.load(open(sys.argv[2]))
print(s["entries"], len(l), s["hits"] >= 1, all(e["kernel"] == sys.argv[3] for e in l))' \
	"$T/stats" "$T/list" "$KREL")
n=$(count_entries "$XDG_CACHE_HOME/stapcache")
is "$got" "$n $n True True" "they parse, agree with the cache ($n entries) and count the hit"

done_testing
