#!/bin/bash
# Issue 13: a stap symlink to stapcache early on PATH makes every existing
# stap command line cached where it can be, and the real stap's otherwise.
. "$top_srcdir/tests/lib/testlib.sh"
require_stap
write_config "runtime: $RUNTIME"
make_stap_wrapper   # $T/bin/stap: the "real" stap, logging every compile to $T/stap-runs

# The symlinks: one to stapcache, one to that link (a chain), and the real
# stap (the wrapper) after them.
mkdir -p "$T/shim" "$T/shim2" "$T/work"
ln -s "$STAPCACHE" "$T/shim/stap"
ln -s "$T/shim/stap" "$T/shim2/stap"
P="$T/shim:$T/shim2:$T/shim:$T/bin:/usr/bin:/bin"
as_stap() { PATH="$P" stap "$@"; }
script='probe begin { printf("dropin\n") exit() }'

# Cached: the second -p4 never runs the real stap.
p1=$(as_stap -p4 -r "$KREL" -e "$script"); rc=$?
is "$rc" 0 "stap -p4 through the symlink builds"
like "$p1" "^$XDG_CACHE_HOME/stapcache/.*/stap_[0-9a-f]+\.ko\$" "and prints the cached module's path"
is "$(stap_runs)" 1 "the real stap compiled once"
p2=$(as_stap -p4 -r "$KREL" -e "$script")
is "$p2" "$p1" "the second stap -p4 gets the same module"
is "$(stap_runs)" 1 "without running the real stap"

# stap -r OTHER without -p4 (issue 23): a module for another kernel cannot
# run here; as stap does, the request stops after pass 4, says so, prints the
# path and exits 0 (this host's own kernel cannot load modules at all, and
# $KREL is another release). From the cache: the real stap does not run.
if [ "$KREL" != "$(uname -r)" ]; then
	out=$(as_stap -r "$KREL" -e "$script" 2>"$T/err"); rc=$?
	is "$rc:$out" "0:$p1" "stap -r OTHER without -p4: the module's path, status 0"
	like "$(cat "$T/err")" "^Kernel release/architecture mismatch with host forces last-pass 4\.\$" \
		"and stap's words for why"
	is "$(stap_runs)" 1 "answered from the cache"
else
	skip "the test kernel is this host's own: no other release to ask for"
	skip "(the same)"
	skip "(the same)"
fi

# stap's own cache options mean the same for stapcache (issue 23): ccache's
# CCACHE_RECACHE, CCACHE_DISABLE, and a cleanup.
runs=$(stap_runs)
out=$(as_stap --poison-cache -p4 -r "$KREL" -e "$script"); rc=$?
is "$rc:$out" "0:$p1" "--poison-cache rebuilds and replaces the entry, same path"
is "$(stap_runs)" $((runs + 1)) "the real stap built it again"
is "$(as_stap -p4 -r "$KREL" -e "$script")" "$p1" "and the next request is a hit on it"
is "$(stap_runs)" $((runs + 1)) "without the real stap"
out=$(cd "$T/work" && as_stap --disable-cache -p4 -r "$KREL" -m nocache_mod -e "$script" 2>"$T/err"); rc=$?
is "$rc:$out" "0:nocache_mod.ko" "--disable-cache: the real stap builds it, as stap would"
is "$(stap_runs)" $((runs + 2)) "(the real stap ran)"
like "$(tail -n 1 "$T/stap-runs")" " -R $RUNTIME " "with config.yaml's runtime, as a cached build gets it"
is "$(grep -c '^stapcache' "$T/err")" 0 "and nothing of stapcache's own on stderr (stap's are stap's)"
rm -f "$T/work/nocache_mod.ko"
out=$(as_stap --clean-cache -p4 -r "$KREL" -e "$script"); rc=$?
is "$rc:$out" "0:$p1" "--clean-cache: the request is answered (after a prune)"

# stap -p4 -m NAME leaves NAME.ko in the current directory and prints its name.
out=$(cd "$T/work" && as_stap -p4 -r "$KREL" -m dropin_mod -e "$script"); rc=$?
is "$rc:$out" "0:dropin_mod.ko" "stap -p4 -m NAME prints NAME.ko, as stap does"
ok $([ -s "$T/work/dropin_mod.ko" ]; echo $?) "and NAME.ko is in the current directory"
runs=$(stap_runs)
rm -f "$T/work/dropin_mod.ko"
out=$(cd "$T/work" && as_stap -p4 -r "$KREL" -m dropin_mod -e "$script")
is "$(stap_runs)" "$runs" "again: a cache hit"
ok $([ -s "$T/work/dropin_mod.ko" ]; echo $?) "that leaves NAME.ko again"

# Passed through: the real stap's output and exit status, by the real stap.
runs=$(stap_runs)
/usr/bin/stap -r "$KREL" -L 'syscall.open*' > "$T/want" 2>&1; want=$?
as_stap -r "$KREL" -L 'syscall.open*' > "$T/got" 2>&1; got=$?
is "$got" "$want" "stap -L 'syscall.open*' through the symlink: stap's exit status"
cmp -s "$T/want" "$T/got"; ok $? "and exactly stap's output"
is "$(stap_runs)" $((runs + 1)) "run by the real stap (the wrapper on PATH)"
/usr/bin/stap -r "$KREL" -p2 -e 'probe nosuch.probe {}' > "$T/want" 2>&1; want=$?
as_stap -r "$KREL" -p2 -e 'probe nosuch.probe {}' > "$T/got" 2>&1; got=$?
is "$got" "$want" "a failing -p2: stap's exit status ($want)"
cmp -s "$T/want" "$T/got"; ok $? "and stap's messages"
# (Straight to /usr/bin/stap, not through the wrapper, whose exec renames argv[0].)
PATH="$T/shim:$T/shim2:/usr/bin:/bin" stap --frobnicate > "$T/got" 2>&1; got=$?
stap --frobnicate > "$T/want" 2>&1; want=$?
is "$got" "$want" "an unknown option is stap's to refuse (exit $want)"
cmp -s "$T/want" "$T/got"; ok $? "in stap's words (argv[0] is still 'stap')"
is "$(as_stap --version 2>&1)" "$(/usr/bin/stap --version 2>&1)" "--version is stap's"
is "$(as_stap -V 2>&1 | head -1)" "$(/usr/bin/stap -V 2>&1 | head -1)" "-V is stap's"

# However the links are arranged, the real stap is found, never stapcache.
runs=$(stap_runs)
is "$(PATH="$T/shim2:$T/shim:$T/shim2:$T/bin:/usr/bin" stap --version 2>&1 | head -1)" \
	"$(/usr/bin/stap --version 2>&1 | head -1)" "a PATH with the links three times and the real stap last"
is "$(stap_runs)" $((runs + 1)) "finds the real stap (the wrapper ran)"
ln "$STAPCACHE" "$T/shim2/stapcache-hardlink" 2>/dev/null &&
	{ mkdir -p "$T/hl" && ln "$STAPCACHE" "$T/hl/stap" 2>/dev/null; }
if [ -e "$T/hl/stap" ]; then
	runs=$(stap_runs)
	PATH="$T/hl:$T/bin:/usr/bin" stap --version > /dev/null 2>&1
	is "$(stap_runs)" $((runs + 1)) "a hard link to stapcache named stap is skipped too"
else
	skip "cannot hard-link $STAPCACHE into $T"
fi
out=$(PATH="$T/shim:$T/shim2" "$T/shim/stap" -p1 -e 'probe begin {}' 2>&1); rc=$?
is "$rc" 1 "no real stap on PATH: exit 1"
like "$out" "invoked as stap, but no other stap is on PATH" "and says so"

# As stap, "cache" is a script's name, not stapcache's subcommand.
as_stap -r "$KREL" -p1 cache > "$T/got" 2>&1; got=$?
/usr/bin/stap -r "$KREL" -p1 cache > "$T/want" 2>&1; want=$?
is "$got" "$want" "stap cache is stap's (a script named cache)"

done_testing
