#!/bin/bash
# The cache key: which inputs change it and which do not (--explain, no builds).
. "$top_srcdir/tests/lib/testlib.sh"
# Hermetic: the system-wide config.yaml is one of ours (empty), not /etc's.
export STAPCACHE_SYSCONFDIR="$T/etc"
require_stap
write_config "runtime: $RUNTIME"

key() { "$STAPCACHE" --explain -p4 "$@" | sed -n 's/^# key: //p'; }

# A check this machine cannot make: a skip, and under SC_STRICT=1 a failure.
skip_one() {
	if [ "${SC_STRICT:-0}" = 1 ]; then
		ok 1 "cannot check here, and skips fail in strict mode: $*"
	else
		_tap_n=$((_tap_n + 1))
		echo "ok $_tap_n # SKIP $*"
	fi
}

script='probe begin { printf("%s\n", @1) exit() }'
base=$(key -r "$KREL" -e "$script" one)
like "$base" '^[0-9a-f]{64}$' "--explain prints a SHA-256 key"
is "$(key -r "$KREL" -e "$script" one)" "$base" "the same request has the same key"

record=$("$STAPCACHE" --explain -p4 -r "$KREL" -e "$script" one)
for field in key.format stap stap.version runtime tapset compiler kernel.release kernel.arch \
	kernel.build-tree kernel.file uid module script.name script arg; do
	like "$record" "^$field [0-9]+\$" "the record has '$field'"
done
like "$record" "^# cached: no" "--explain says whether it is cached"
is "$(printf '%s\n' "$record" | sed -n '5p;6p' | tr '\n' ' ')" "key.format 1 3 " \
	"the record starts with its format version"
like "$("$STAPCACHE" --explain -p4 -r "$KREL" --salt 7 -e "$script" one)" "^salt 1\$" \
	"--salt is recorded"

isnt "$(key -r "$KREL" -e "$script x" one)" "$base" "the script changes the key"
isnt "$(key -r "$KREL" -e "$script" two)" "$base" "a compile-time argument changes the key"
isnt "$(key -r "$KREL" -e "$script" one two)" "$base" "an extra argument changes the key"
isnt "$(key -r "$KREL" -D MAXACTION=10000 -e "$script" one)" "$base" "-D changes the key"
isnt "$(key -r "$KREL" -B V=1 -e "$script" one)" "$base" "-B changes the key"
isnt "$(key -r "$KREL" -g -e "$script" one)" "$base" "-g changes the key"
isnt "$(key -r "$KREL" --privilege=stapusr -e "$script" one)" "$base" "--privilege changes the key"
isnt "$(key -r "$KREL" -m mymod -e "$script" one)" "$base" "-m changes the key"
isnt "$(key -r "$KREL" --salt 2 -e "$script" one)" "$base" "--salt changes the key"
is "$(key -r "$KREL" -G greeting=hi -e "$script" one)" "$base" "-G (a run-time global) does not"
is "$(key -r "$KREL" -c true -o /dev/null -e "$script" one)" "$base" "-c and -o do not"
is "$(key -r "/lib/modules/$KREL/build" -e "$script" one)" "$base" \
	"a release and its build tree are the same target"

# Another release: a second (fake, explain-only) build tree.
mkdir -p "$T/tree/include/generated"
echo '#define UTS_RELEASE "9.9.9-test"' > "$T/tree/include/generated/utsrelease.h"
cp "/lib/modules/$KREL/build/.config" "$T/tree/.config"
isnt "$(key -r "$T/tree" -e "$script" one)" "$base" "the kernel release changes the key"
like "$("$STAPCACHE" --explain -p4 -r "$T/tree" -e "$script" one)" "^9.9.9-test\$" \
	"the release is read from the build tree"

# The runtime: another directory, and a file rewritten in place. (A copy of
# our own, so not marked as a stapcache-fix-runtime copy: those are memoized.)
cp -a "$RUNTIME" "$T/rt"
rm -f "$T/rt/STAPCACHE-FIXES"
k1=$(key -R "$T/rt" -r "$KREL" -e "$script" one)
isnt "$k1" "$base" "another runtime directory changes the key"
is "$(key -R "$T/rt" -r "$KREL" -e "$script" one)" "$k1" "an unchanged runtime keeps its key"
sleep 0.01
echo "/* local change */" >> "$T/rt/runtime.h"
isnt "$(key -R "$T/rt" -r "$KREL" -e "$script" one)" "$k1" \
	"a runtime file changed in place changes the key"

# A prepared runtime copy (marked STAPCACHE-FIXES) is memoized by its
# directories; re-preparing it (a new copy swapped in by rename, as
# stapcache-fix-runtime does) changes the key. Made by hand here, so that it
# is checked whether or not this kernel needs the fix.
prepare_copy() {
	rm -rf "$T/fixed.new"
	cp -a "$RUNTIME" "$T/fixed.new"
	echo "source-id: test $1" > "$T/fixed.new/STAPCACHE-FIXES"
	if [ -e "$T/fixed" ]; then
		mv "$T/fixed" "$T/fixed.old" && mv "$T/fixed.new" "$T/fixed" && rm -rf "$T/fixed.old"
	else
		mv "$T/fixed.new" "$T/fixed"
	fi
}
prepare_copy 1
k4=$(key -R "$T/fixed" -r "$KREL" -e "$script" one)
is "$(key -R "$T/fixed" -r "$KREL" -e "$script" one)" "$k4" "a prepared runtime keeps its key"
ok "$(ls "$XDG_CACHE_HOME/stapcache/memo/trees" | grep -q .; echo $?)" \
	"its fingerprint is memoized in the cache's memo/trees"
prepare_copy 2
isnt "$(key -R "$T/fixed" -r "$KREL" -e "$script" one)" "$k4" \
	"re-preparing the runtime copy changes the key"
# The real tool, where this kernel needs it.
"$STAPCACHE_FIX_RUNTIME" -r "$KREL" "$T/realfix" >/dev/null 2>&1
if [ -f "$T/realfix/STAPCACHE-FIXES" ]; then
	k5=$(key -R "$T/realfix" -r "$KREL" -e "$script" one)
	"$STAPCACHE_FIX_RUNTIME" --force -r "$KREL" "$T/realfix" >/dev/null 2>&1
	# The same content again (new inodes and times): a portable key (issue 10)
	# sees the memo's directories changed, recomputes, and gets the same key.
	is "$(key -R "$T/realfix" -r "$KREL" -e "$script" one)" "$k5" \
		"re-preparing with stapcache-fix-runtime --force (same content) keeps the key"
	echo '/* edited */' >> "$T/realfix/runtime.h"
	touch "$T/realfix"
	isnt "$(key -R "$T/realfix" -r "$KREL" -e "$script" one)" "$k5" \
		"a prepared runtime whose content changed gets another key"
else
	skip_one "$KREL needs no runtime fix: stapcache-fix-runtime made no copy"
fi

# -I: the files in the directory are inputs.
mkdir -p "$T/inc"
echo 'function f() { return 1 }' > "$T/inc/f.stp"
k2=$(key -I "$T/inc" -r "$KREL" -e "$script" one)
isnt "$k2" "$base" "-I changes the key"
sleep 0.01
echo 'function f() { return 2 }' > "$T/inc/f.stp"
isnt "$(key -I "$T/inc" -r "$KREL" -e "$script" one)" "$k2" "an edited -I file changes the key"

# A script file: its content, not its name alone.
printf '%s\n' "$script" > "$T/s.stp"
k3=$(key -r "$KREL" "$T/s.stp" one)
printf '%s\n' "probe begin { exit() }" > "$T/s.stp"
isnt "$(key -r "$KREL" "$T/s.stp" one)" "$k3" "editing a script file changes the key"
# The name stap sees: the copy it compiles is named by the basename.
mkdir -p "$T/d1" "$T/d2"
printf '%s\n' "$script" > "$T/d1/s.stp"
printf '%s\n' "$script" > "$T/d2/s.stp"
printf '%s\n' "$script" > "$T/d2/t.stp"
is "$(key -r "$KREL" "$T/d1/s.stp" one)" "$(key -r "$KREL" "$T/d2/s.stp" one)" \
	"the same script and name in another directory has the same key (stap sees s.stp)"
isnt "$(key -r "$KREL" "$T/d2/t.stp" one)" "$(key -r "$KREL" "$T/d2/s.stp" one)" \
	"the same script under another name changes the key (stap's messages name it)"
is "$(cd "$T/d1" && key -r "$KREL" s.stp one)" "$(key -r "$KREL" "$T/d1/s.stp" one)" \
	"a relative path and an absolute one to the same name agree"

# The invoking uid.
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/shared" && chmod 777 "$T/shared"
	other=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		env HOME="$T/shared" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" STAPCACHE_DIR="$T/shared/cache" \
		"$STAPCACHE" --explain -p4 -r "$KREL" -e "$script" one | sed -n 's/^# key: //p')
	like "$other" '^[0-9a-f]{64}$' "another user gets a key"
	isnt "$other" "$base" "the uid changes the key"
	# key-uid: one uid in every key, so that a team's users share entries.
	write_config "runtime: $RUNTIME" "key-uid: 4242"
	root_k=$(key -r "$KREL" -e "$script" one)
	other_k=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		env HOME="$T/shared" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" STAPCACHE_DIR="$T/shared/cache" \
		"$STAPCACHE" --explain -p4 -r "$KREL" -e "$script" one | sed -n 's/^# key: //p')
	like "$root_k" '^[0-9a-f]{64}$' "key-uid: a key"
	isnt "$root_k" "$base" "key-uid: 4242 changes root's key"
	is "$other_k" "$root_k" "key-uid: 4242 gives root and another user the same key"
	write_config "runtime: $RUNTIME" "key-uid: 0"
	is "$(key -r "$KREL" -e "$script" one)" "$base" "key-uid: 0 is root's own key"
	write_config "runtime: $RUNTIME" "key-uid: bob"
	out=$("$STAPCACHE" --explain -p4 -r "$KREL" -e "$script" one 2>&1)
	isnt "$?" 0 "key-uid: a name is refused"
	like "$out" "config.yaml:2: 'key-uid' must be a whole number" "key-uid: the error names the file, line and key"
	write_config "runtime: $RUNTIME"
else
	skip_one "not root: cannot switch uid (tests/unit/test-key covers the uid)"
fi

done_testing
