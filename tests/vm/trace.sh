#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One-liners and --output json against a real kernel: the QEMU guest as the
# known_hosts target testvm (scuser, the setuid staprun-auth). Each probe
# kind runs there and its events, as JSON, parse (python3) and match the
# filter (--comm, a pid filter on -c's command); kernel functions are built
# with the guest's own symbol table (its /proc/kallsyms as the build tree's
# System.map: Debian ships only a stub). Then the guest twice, under two
# names (testvm, testvm2; --jobs 1, since one module name can be live only
# once on one kernel): every JSON line names its target, each has its summary,
# and -o FILE writes FILE.testvm and FILE.testvm2.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/vm/vmtest.sh"
require_stap
make_stap_wrapper
command -v python3 >/dev/null || skip_all "python3 is not installed (it checks the JSON)"
vm_test_setup "stap: $T/bin/stap"

OPEN='syscall.openat "open %s", filename'
PIDF='syscall.openat (pid == target()) "%s", filename'
RET='r:syscall.read (retval > 0) "read %d", retval'
EXEC='t:sched:sched_process_exec "exec %d", $old_pid'
KFUN='p:vfs_read (pid == target()) "fd %d", arg1'
KRET='r:vfs_read (pid == target() && retval >= 0)'
HELLO='probe begin { printf("hello 1\n"); printf("hello 2\n") exit() }'
# Precompile for the guest's kernel, as an operator would (and under this
# HOME, whose ~/.systemtap already holds stap's per-kernel tracepoint data);
# the runs below are cache hits.
mods=()
prep() { # prep ARGS...: stapcache ARGS -p4, the module path appended to mods
	local m
	m=$("$STAPCACHE" "$@" -p4 2>>"$T/compile.err")
	[ -s "$m" ] || { diag "$(tail -n 5 "$T/compile.err")"; return 1; }
	mods+=("$m")
}
prep trace -r "$KREL" --comm cat "$OPEN" &&
	prep trace -r "$KREL" "$PIDF" "$RET" "$EXEC" &&
	prep -r "$KREL" -e "$HELLO" &&
	prep trace -r "$KREL" "$RET"
ok $? "the one-liners compile for the guest's kernel $KREL"

vm_start || skip_all "the guest did not boot (see the console log above)"
# Kernel functions: a build tree of our own whose System.map is the guest's
# kallsyms (read as root there).
tree=$T/tree
mkdir -p "$tree"
for e in /lib/modules/"$KREL"/build/* /lib/modules/"$KREL"/build/.[!.]*; do
	[ -e "$e" ] && [ "$(basename "$e")" != System.map ] && ln -s "$e" "$tree/"
done
vm_ssh root 'cat /proc/kallsyms' </dev/null >"$tree/System.map"
like "$(grep -c ' [Tt] vfs_read$' "$tree/System.map")" '^1$' \
	"the guest's kallsyms (root) give the build tree its System.map"
prep trace -r "$tree" "$KFUN" "$KRET"
ok $? "the kernel-function one-liners compile with the guest's symbol table"
# testvm as built; testvm2 the same guest under another name; testvm-syms the
# same with the build tree that holds the guest's symbol table.
{
	cat "$VM_KNOWN_HOSTS_YAML"
	sed -e 's/name: testvm/name: testvm2/' "$VM_KNOWN_HOSTS_YAML" | grep -v '^#'
	sed -e 's/name: testvm/name: testvm-syms/' "$VM_KNOWN_HOSTS_YAML" | grep -v '^#'
	echo "  build-tree: $tree"
} >"$XDG_CONFIG_HOME/stapcache/known_hosts"
export HOME=$VM_HOME
unset SSH_AUTH_SOCK
for m in "${mods[@]}"; do bless "$m"; done
ok $? "root blesses the ${#mods[@]} modules in the guest"
builds=$(stap_runs)

# JSON of a run: the events in $T/ev.json (one object a line), summaries too.
check() { # check FILE PYTHON-ASSERTIONS...: ev (events), su (summaries), li (lines)
	python3 - "$1" "${@:2}" >"$T/py" 2>&1 <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
ev = [o for o in objs if o["type"] == "event"]
su = [o for o in objs if o["type"] == "summary"]
li = [o for o in objs if o["type"] == "line"]
for e in ev:
    assert isinstance(e["time"], float) and e["time"] > 1.5e9, e
    assert all(isinstance(e[k], int) for k in ("pid", "tid")), e
    assert all(isinstance(e[k], str) for k in ("comm", "probe", "message")), e
    assert isinstance(e["args"], list), e
for a in sys.argv[2:]:
    assert eval(a), a
print("%d events, %d lines" % (len(ev), len(li)))
EOF
}
check_ok() { # check_ok DESCRIPTION FILE ASSERTIONS...: one TAP check, the reason on failure
	local desc=$1 r
	shift
	check "$@"
	r=$?
	ok "$r" "$desc ($(tail -n 1 "$T/py"))"
	[ "$r" = 0 ] || { diag "$(cat "$T/py")"; diag "$(head -c 3000 "$1")"; }
}

# 1. syscall entry, --comm: only cat's opens, and the file it opened (the
# syscall tapset's filename is quoted, user_string_quoted: the message keeps
# stap's quotes, the JSON args carry the string itself).
"$STAPCACHE" trace -T testvm --output json --comm cat -c 'cat /etc/hostname' "$OPEN" \
	>"$T/open.json" 2>"$T/open.err"; st=$?
is "$st" 0 "trace 'syscall.openat' --comm cat -c 'cat /etc/hostname': status 0"
check_ok "its events parse and all are cat's, the summary counts them" "$T/open.json" 'len(ev) >= 1' 'all(e["comm"] == "cat" for e in ev)' \
	'all(e["probe"] == "syscall.openat" and e["target"] == "testvm" for e in ev)' \
	'any(e["args"] == ["/etc/hostname"] and e["message"] == "open \"/etc/hostname\"" for e in ev)' \
	'len(su) == 1 and su[0]["events"] == len(ev) and su[0]["status"] == 0' \
	'su[0]["top"][0]["comm"] == "cat" and su[0]["top"][0]["events"] == len(ev)' \
	'su[0]["events_per_second"] > 0 and su[0]["duration"] > 0'

# 1b. --duration with --comm cat and no cat run: no event (stapcache's own
# wrapper on the target runs no cat while it waits for and stops the run).
"$STAPCACHE" trace -T testvm --output json --duration 2 --comm cat "$OPEN" \
	>"$T/nocat.json" 2>"$T/nocat.err"; st=$?
is "$st" 0 "trace --duration 2 --comm cat with no cat running: status 0"
check_ok "  no event: the wrapper's own work is not seen" "$T/nocat.json" 'len(ev) == 0' \
	'len(su) == 1 and su[0]["events"] == 0'

# 2. A pid filter (target(): -c's command), a syscall return, a tracepoint.
"$STAPCACHE" trace -T testvm --output json -c 'cat /etc/hostname' "$PIDF" "$RET" "$EXEC" \
	>"$T/pid.json" 2>"$T/pid.err"; st=$?
is "$st" 0 "trace with a pid filter, r:syscall.read and t:sched:sched_process_exec: status 0"
check_ok "one pid's opens (cat's), reads that returned data, cat's exec" "$T/pid.json" \
	'len({e["pid"] for e in ev if e["probe"] == "syscall.openat"}) == 1' \
	'any(e["args"] == ["/etc/hostname"] for e in ev if e["probe"] == "syscall.openat")' \
	'any(e["probe"] == "r:syscall.read" and int(e["args"][0]) > 0 for e in ev)' \
	'any(e["probe"] == "t:sched:sched_process_exec" and e["comm"] == "cat" for e in ev)'

# 3. Kernel functions (kprobes), with the guest's symbol table. busybox's cat
# copies with sendfile(); dd reads with read(), through vfs_read.
DD='dd if=/etc/hostname of=/dev/null bs=64'
"$STAPCACHE" trace -T testvm-syms --output json -c "$DD" "$KFUN" "$KRET" \
	>"$T/kfun.json" 2>"$T/kfun.err"; st=$?
is "$st" 0 "trace p:vfs_read and r:vfs_read (pid == target()): status 0"
check_ok "vfs_read's entries and returns, all dd's" "$T/kfun.json" \
	'any(e["probe"] == "p:vfs_read" and e["message"].startswith("fd ") for e in ev)' \
	'any(e["probe"] == "r:vfs_read" and e["message"] == "7" for e in ev)' \
	'len({e["pid"] for e in ev}) == 1 and all(e["comm"] == "dd" for e in ev)'

# 4. The default output stays readable: time, pid, tid, comm, probe, message.
out=$("$STAPCACHE" trace -T testvm --comm cat -c 'cat /etc/hostname' "$OPEN" 2>&1)
like "$out" '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} [0-9]+ +[0-9]+ +cat +syscall\.openat +open "/etc/hostname"$' \
	"without --output json an event is one readable line"
is "$(stap_runs)" "$builds" "every run was a cache hit (stap ran only for the precompiles)"
no_stap_modules; ok $? "no module is left loaded in the guest"

# 4b. Nobody reads any more (| head): the run stops, the module is unloaded.
# stapio's own reads keep r:syscall.read firing.
t0=$(date +%s)
timeout 120 "$STAPCACHE" trace -T testvm "$RET" 2>"$T/head.err" | head -n 3 >"$T/head.out"
st=${PIPESTATUS[0]}
is "$(wc -l <"$T/head.out")" 3 "| head -n 3: three event lines arrived"
isnt "$st" 124 "then stapcache stopped the run by itself (status $st), before timeout's 120 s"
diag "stopped $(($(date +%s) - t0)) s after it started"
no_stap_modules; ok $? "and the module is unloaded in the guest"

# 5. Two targets: the guest twice, under two names, one after the other.
"$STAPCACHE" -T testvm -T testvm2 --jobs 1 --output json -e "$HELLO" >"$T/two.json" 2>"$T/two.err"
st=$?
is "$st" 0 "-T testvm -T testvm2 --output json: status 0"
check_ok "every line names its target; a summary each" "$T/two.json" 'len(li) == 4 and len(su) == 2' \
	'sorted((o["target"], o["line"]) for o in li) == [("testvm", "hello 1"), ("testvm", "hello 2"), ("testvm2", "hello 1"), ("testvm2", "hello 2")]' \
	'all(o["stream"] == "stdout" for o in li)' \
	'sorted(s["target"] for s in su) == ["testvm", "testvm2"]' \
	'all(s["status"] == 0 and s["state"] == "ok" and s["lines"] == 2 and s["bytes"] == 16 for s in su)'
"$STAPCACHE" -T testvm -T testvm2 --jobs 1 --output json -o "$T/out.json" -e "$HELLO" \
	>"$T/stdout" 2>"$T/stderr"
is "$(cat "$T/stdout")" "" "-o FILE with two targets: nothing on stdout"
for t in testvm testvm2; do
	check_ok "-o FILE: FILE.$t holds $t's lines and summary" "$T/out.json.$t" \
		"all(o['target'] == '$t' for o in li + su)" 'len(li) == 2 and len(su) == 1'
done
is "$(ls "$T" | grep -c '^out\.json\.tmp')" 0 "no temporary output file is left"

# 6. A one-liner on both, text: each event line prefixed with its target.
"$STAPCACHE" trace -T testvm -T testvm2 --jobs 1 --comm cat -c 'cat /etc/hostname' "$OPEN" \
	>"$T/two.txt" 2>"$T/two.txt.err"
ok $? "a one-liner on both targets"
for t in testvm testvm2; do
	like "$(cat "$T/two.txt")" "^$t: [0-9:.]+ [0-9]+ +[0-9]+ +cat +syscall.openat +open \"/etc/hostname\"\$" \
		"$t's events are prefixed with its name"
done
no_stap_modules; ok $? "nothing left loaded"

done_testing
