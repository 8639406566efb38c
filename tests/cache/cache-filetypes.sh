#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The local cache against files of every type where it expects a regular
# file (issue 19): each file a request reads or writes (an entry's module,
# meta, used and inputs; a key's lock; stats.log and stats; a memo) replaced
# by a symlink (to a file outside the cache), a hardlink (to one outside), a
# FIFO (nobody writing, or a writer that keeps it open), a character device
# or a directory. The properties, for each: a request ends (within its
# watchdog) and hands out a module holding exactly what a build makes; the
# next request is a hit; `cache stats` ends; nothing outside the cache was
# written through a link. The cache is its owner's (SECURITY.md): this is
# about damage never hanging or misleading it, not about an attacker. stap is
# a fake here (a script that writes a module-shaped file): the checks are
# about the cache's files, not about compiling.
. "$top_srcdir/tests/lib/testlib.sh"
require_stap
[ "$(id -u)" = 0 ] || skip_all "device nodes need root (mknod)"
cache=$XDG_CACHE_HOME/stapcache
mkdir -p "$T/bin" "$T/outside"
cat > "$T/bin/stap" <<'FAKE'
#!/bin/sh
case " $* " in *" -V "*) echo 'Systemtap translator/driver (version 4.8/fake)'; exit 0 ;; esac
while [ $# -gt 0 ]; do [ "$1" = -m ] && name=$2; shift; done
printf 'fake module %s\n' "$name" > "$name.ko"
FAKE
chmod +x "$T/bin/stap"
write_config "runtime: $RUNTIME" "stap: $T/bin/stap"
script='probe begin { printf("types\n") exit() }'
req() {  # req: $p (the path printed), $st (124/137: the watchdog fired)
	p=$(timeout -s KILL 60 "$STAPCACHE" -p4 -r "$KREL" -e "$script" 2>"$T/req.err")
	st=$?
}
good() { [ -f "$p" ] && [ "$(cat "$p")" = "fake module $(basename "$p" .ko)" ]; }
outside_state() { find "$T/outside" -printf '%p %y %s %T@\n' | sort; sha256sum "$T/outside"/* 2>/dev/null; }

writer=
make_as() {  # make_as PATH KIND
	local path=$1 kind=$2
	rm -rf "$path"
	case $kind in
	symlink) echo "not the cache's" > "$T/outside/victim"; ln -s "$T/outside/victim" "$path" ;;
	hardlink) echo "not the cache's" > "$T/outside/hard"; ln "$T/outside/hard" "$path" ;;
	fifo) mkfifo "$path" ;;
	fifo-writer)
		mkfifo "$path"
		( exec 3<>"$path"; while :; do printf x >&3; sleep 1; done ) >/dev/null 2>&1 &
		writer=$! ;;
	chardev) mknod "$path" c 1 5 ;;   # like /dev/zero: endless
	dir) mkdir -p "$path/sub" ;;
	esac
}
stop_writer() { [ -n "$writer" ] && kill "$writer" 2>/dev/null; writer=; }
at_exit stop_writer

req
ok $? "a first build"
good; ok $? "  hands out the module"
key=$("$STAPCACHE" --explain -p4 -r "$KREL" -e "$script" | sed -n 's/^# key: //p')
module=$(basename "$p" .ko)
entry=$cache/${key:0:2}/$key
[ -d "$entry" ]; ok $? "  its entry is $entry"
memo=$(find "$cache/memo" -type f | head -n 1)
[ -n "$memo" ]; ok $? "  and a memo: ${memo#$cache/}"

for f in "entry/$module.ko" entry/meta entry/used entry/inputs "locks/$key" stats.log stats memo; do
	for kind in symlink hardlink fifo fifo-writer chardev dir; do
		case $f in
		entry/*) path=$entry/${f#entry/} ;;
		memo) path=$memo ;;
		*) path=$cache/$f ;;
		esac
		req >/dev/null   # the entry is whole again before each case
		make_as "$path" "$kind"
		before=$(outside_state)
		req
		stop_writer
		is "$st" 0 "$f as a $kind: the request ends, status 0"
		[ "$st" = 0 ] || diag "$(cat "$T/req.err")"
		good; ok $? "  and hands out the module a build makes"
		req
		good; ok $? "  the next one too"
		timeout -s KILL 60 "$STAPCACHE" cache stats >/dev/null 2>&1
		is "$?" 0 "  cache stats ends"
		is "$(outside_state)" "$before" "  nothing outside the cache was written"
	done
done
rm -rf "$T/outside"/*
# What the hit path does with a `used` that is not a file: one full check
# under the key's lock, which puts a regular `used` back.
make_as "$entry/used" fifo
req
good; ok $? "used as a FIFO: served after the full check"
[ -f "$entry/used" ] && [ ! -p "$entry/used" ]; ok $? "  which made used a regular file again"
done_testing
