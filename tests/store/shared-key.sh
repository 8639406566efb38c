#!/bin/bash
# A portable key (issue 10): the same inputs at other inodes and times give the
# same key, on a second "machine" (its own HOME, cache and memos) too; content,
# not identity, enters the record (--explain, no builds).
. "$top_srcdir/tests/lib/testlib.sh"
require_stap

# Private copies of stap and its runtime, so that they can be replaced by
# fresh copies (new inodes, other times) at the same paths.
mkdir -p "$T/inputs"
cp /usr/bin/stap "$T/inputs/stap"
cp -R "$RUNTIME" "$T/inputs/runtime"
# Not marked as a swapped-in copy: walked on every request, edits in place seen.
rm -f "$T/inputs/runtime/STAPCACHE-FIXES"
write_config "stap: $T/inputs/stap" "runtime: $T/inputs/runtime"
script='probe begin { exit() }'
key() { "$STAPCACHE" --explain -p4 -r "$KREL" -e "$script" | sed -n 's/^# key: //p'; }

record=$("$STAPCACHE" --explain -p4 -r "$KREL" -e "$script")
a=$(key)
like "$a" '^[0-9a-f]{64}$' "machine A has a key"
like "$record" "^$T/inputs/stap sha256:[0-9a-f]{64}\$" "the stap binary enters by content"
like "$record" "^/[^ ]*gcc[^ ]* sha256:[0-9a-f]{64}\$" "the compiler enters by content"
like "$record" "^[^ ]*/\\.config sha256:[0-9a-f]{64}\$" "kernel tree files enter by content"
! printf '%s\n' "$record" | grep -Eq 'ino=|dev=|mtime=|ctime='
ok $? "no inode, device or time enters the record"
is "$(key)" "$a" "the memoized second look gives the same key"

# The same files again at new inodes and with other times.
for x in stap runtime; do
	cp -R --preserve=mode "$T/inputs/$x" "$T/inputs/$x.new"
	find "$T/inputs/$x.new" -exec touch -h -d @1000000000 {} +
	rm -rf "$T/inputs/$x"
	mv "$T/inputs/$x.new" "$T/inputs/$x"
done
is "$(key)" "$a" "copies at other inodes and times give the same key (memos in place)"

# Machine B: nothing in common with A but the files' content.
b=$(HOME="$T/b-home" XDG_CACHE_HOME="$T/b-cache" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" key)
is "$b" "$a" "a second machine (own cache and memos) computes the same key"

# The memo notices a same-size edit at the same identity's path.
printf 'x' | dd of="$T/inputs/runtime/runtime.h" bs=1 seek=0 conv=notrunc 2>/dev/null
isnt "$(key)" "$a" "an edit in place of a runtime file changes the key"
done_testing
