#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The file:// store against files of every type (issue 19: a FIFO as an
# entry hung every consumer's miss for ever). Anyone who can write the shared
# directory can put anything at PATH/KE/KEY.entry or at PATH/KE: a regular
# file (good, garbage, empty, too large), a symlink (to a good entry, to
# nowhere, to a directory), a hardlink, a FIFO (nobody writing, or a writer
# that keeps it open), a character or block device, a socket, a directory.
# The properties, for each: stapcache-store get ends within its deadline and
# says one word; it serves a good entry only from a regular file (a hardlink
# is one) and refuses everything else with one warning naming what it is;
# it writes nothing into the store. A put ends too, replaces what is at
# KEY.entry by a regular file holding a good entry without ever writing
# through a link (the link's target is unchanged), and refuses to write
# under a KE that is not a real directory. And end to end, stapcache: a bad
# object is one warning, a count in `cache stats` (shared rejects) and a
# local build. A fake stap (shared-lib.sh) stands in for the compiler.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/lib/shared-lib.sh"
require_stap
HELPER=$top_builddir/stapcache/stapcache-store
[ -x "$HELPER" ] || skip_all "stapcache-store is not built"
[ "$(id -u)" = 0 ] || skip_all "device nodes need root (mknod)"

fake_stap
machine a
store=$T/store
config a "file://$store" a
script='probe begin { printf("types\n") exit() }'
pa=$(on a -p4 -r "$KREL" -e "$script" 2>"$T/a.err")
ok $? "machine A builds and uploads"
key=$(on a --explain -p4 -r "$KREL" -e "$script" | sed -n 's/^# key: //p')
module=$(basename "$pa" .ko)
shard=$store/${key:0:2}
entry=$shard/$key.entry
[ -f "$entry" ]; ok $? "its entry is in the store"
cp "$entry" "$T/good.entry"
pub=$(cat "$T/a/pub")
mkdir -p "$T/outside"
echo "not the store's" > "$T/outside/victim"
victim_sum=$(sha256sum < "$T/outside/victim")

# The helper with stapcache's defaults; a watchdog that should never fire.
TMO=(--connect-timeout 300 --timeout 3000 --wait 30)
helper_get() {  # helper_get: $word, $werr (its stderr), $wst (124/137: killed)
	rm -rf "$T/out"; mkdir -p "$T/out"
	word=$(timeout -s KILL 60 "$HELPER" get --key "$key" --module "$module" --out "$T/out" \
		--store "file://$store" --trust "$pub" "${TMO[@]}" 2>"$T/get.err")
	wst=$?
	werr=$(cat "$T/get.err")
}
helper_put() {  # helper_put: $pst, $perr
	timeout -s KILL 60 "$HELPER" put --key "$key" --module "$module" \
		--entry "$(dirname "$pa")" --builder-key "$T/a/config/stapcache/builder.key" \
		--store "file://$store" --trust "$pub" "${TMO[@]}" >/dev/null 2>"$T/put.err"
	pst=$?
	perr=$(cat "$T/put.err")
}
# What the store holds, every entry lstat()ed (a get must leave it so).
store_state() { find "$store" "$T/outside" -printf '%p %y %m %s %i %n %T@\n' 2>/dev/null | sort; }

# make_at PATH KIND: PATH (KEY.entry or KE) becomes one of these.
writer_pid=
make_at() {
	local p=$1 kind=$2
	rm -rf "$p"
	case $kind in
	good) cp "$T/good.entry" "$p" ;;
	garbage) head -c 4096 /dev/urandom > "$p" ;;
	empty) : > "$p" ;;
	huge) truncate -s 100M "$p" ;; # sparse, over SC_ENTRY_MAX (96 MiB: store/helper/entry.h)
	symlink-good) cp "$T/good.entry" "$T/outside/linked.entry"; ln -s "$T/outside/linked.entry" "$p" ;;
	symlink-victim) ln -s "$T/outside/victim" "$p" ;;
	dangling) ln -s "$T/outside/nowhere" "$p" ;;
	hardlink-good) cp "$T/good.entry" "$T/outside/hard.entry"; ln "$T/outside/hard.entry" "$p" ;;
	fifo) mkfifo "$p" ;;
	fifo-writer)  # a writer that keeps it open and drips
		mkfifo "$p"
		( exec 3<>"$p"; while :; do printf x >&3; sleep 1; done ) >/dev/null 2>&1 &
		writer_pid=$! ;;
	zero) mknod "$p" c 1 5 ;;
	null) mknod "$p" c 1 3 ;;
	block) mknod "$p" b 7 0 ;;
	socket) python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$p" ;;
	dir) mkdir "$p" ;;
	dir-full) mkdir -p "$p/x"; cp "$T/good.entry" "$p/x/" ;;
	symlink-dir) ln -s "$T/outside" "$p" ;;
	esac
}
stop_writer() { [ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null; writer_pid=; }
at_exit 'stop_writer'

# ----------------------------------------------------------------- get
# At KEY.entry: only a regular file holding a good entry is served.
for kind in good hardlink-good garbage empty huge symlink-good symlink-victim dangling \
	fifo fifo-writer zero null block socket dir dir-full; do
	mkdir -p "$shard"
	make_at "$entry" "$kind"
	before=$(store_state)
	helper_get
	stop_writer
	case $kind in
	good|hardlink-good)
		is "$word" hit "KEY.entry is $kind: served"
		is "$(sha256sum < "$T/out/$module.ko")" "$(sha256sum < "$pa")" "  A's module, byte for byte" ;;
	*)
		is "$word" reject "KEY.entry is $kind: rejected (wst $wst)"
		is "$(grep -c . "$T/get.err")" 1 "  one warning: $werr"
		case $kind in
		garbage|empty) ;;
		huge) like "$werr" "too large" "  saying it is too large" ;;
		symlink-*|dangling) like "$werr" "is a symlink, not a regular file" "  saying what it is" ;;
		fifo*) like "$werr" "is a FIFO, not a regular file" "  saying what it is" ;;
		zero|null) like "$werr" "is a character device, not a regular file" "  saying what it is" ;;
		block) like "$werr" "is a block device, not a regular file" "  saying what it is" ;;
		socket) like "$werr" "is a socket, not a regular file" "  saying what it is" ;;
		dir*) like "$werr" "is a directory, not a regular file" "  saying what it is" ;;
		esac
		[ ! -e "$T/out/$module.ko" ]; ok $? "  nothing written for it" ;;
	esac
	is "$(store_state)" "$before" "  the get changed nothing in the store"
done

# At KE: only a real directory is looked into.
for kind in symlink-dir fifo empty dangling; do
	make_at "$shard" "$kind"
	[ "$kind" = symlink-dir ] && cp "$T/good.entry" "$T/outside/$key.entry"
	helper_get
	is "$word" reject "KE is $kind: rejected"
	like "$werr" "${key:0:2} is a (symlink|FIFO|regular file), not a directory" "  saying what it is: $werr"
	rm -f "$T/outside/$key.entry"
done
rm -rf "$shard"
helper_get
is "$word" miss "no KE at all: a miss"
is "$werr" "" "  without a warning"

# ----------------------------------------------------------------- put
for kind in garbage huge symlink-victim dangling hardlink-good fifo fifo-writer zero block \
	socket dir; do
	mkdir -p "$shard"
	make_at "$entry" "$kind"
	helper_put
	stop_writer
	if [ "$kind" = dir ]; then
		isnt "$pst" 0 "put over a directory at KEY.entry: refused ($perr)"
		[ -d "$entry" ]; ok $? "  the directory is still there"
	else
		is "$pst" 0 "put over KEY.entry as $kind: done"
		[ -f "$entry" ] && [ ! -L "$entry" ] && cmp -s "$entry" "$T/good.entry"
		ok $? "  KEY.entry is now a regular file holding the good entry"
	fi
	is "$(sha256sum < "$T/outside/victim")" "$victim_sum" "  nothing was written through a link"
	[ "$kind" != hardlink-good ] || cmp -s "$T/outside/hard.entry" "$T/good.entry"
	ok $? "  (a hardlink's other name keeps its bytes)"
	is "$(find "$shard" -name '*.tmp.*' | wc -l | tr -d ' ')" 0 "  no temporary file left"
done
for kind in symlink-dir fifo empty; do
	make_at "$shard" "$kind"
	helper_put
	isnt "$pst" 0 "put under KE as $kind: refused"
	like "$perr" "not a directory" "  saying why: $perr"
	[ ! -e "$T/outside/$key.entry" ]; ok $? "  nothing written where it points"
done
rm -rf "$shard"

# ------------------------------------------------------------ end to end
# The issue's case: a FIFO as the entry, a miss with shared-cache: file://.
machine b
config b "file://$store" a
mkdir -p "$shard"
make_at "$entry" fifo
pb=$(on b -p4 -r "$KREL" -e "$script" 2>"$T/b.err")
ok $? "stapcache with a FIFO as the store's entry: the request succeeds"
like "$(cat "$T/b.err")" "rejected \\(.*is a FIFO, not a regular file\\); not served" "  one warning says why"
is "$(grep -c 'shared cache' "$T/b.err")" 1 "  one warning line about the store"
is "$(cat "$pb")" "fake module $module" "  the module is a local build"
is "$(stat_of b 'shared rejects')" 1 "  counted in cache stats (shared rejects)"
[ -f "$entry" ] && [ ! -L "$entry" ] && grep -q "fake module $module" "$entry"
ok $? "  and B's upload replaced the FIFO with an entry of its own"
done_testing
