#!/bin/bash
# The cache key: which inputs change it and which do not (--explain, no builds).
. "$top_srcdir/tests/lib.sh"
require_stap
write_config "runtime: $RUNTIME"

key() { "$STAPCACHE" --explain -p4 "$@" | sed -n 's/^# key: //p'; }

script='probe begin { printf("%s\n", @1) exit() }'
base=$(key -r "$KREL" -e "$script" one)
like "$base" '^[0-9a-f]{64}$' "--explain prints a SHA-256 key"
is "$(key -r "$KREL" -e "$script" one)" "$base" "the same request has the same key"

record=$("$STAPCACHE" --explain -p4 -r "$KREL" -e "$script" one)
for field in stap stap.version runtime tapset compiler kernel.release kernel.arch \
	kernel.build-tree kernel.file uid module salt script arg; do
	like "$record" "^$field [0-9]+\$" "the record has '$field'"
done
like "$record" "^# cached: no" "--explain says whether it is cached"

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

# A prepared runtime copy is memoized by its directories; re-preparing it
# (which swaps in a new copy) changes the key.
"$STAPCACHE_FIX_RUNTIME" -r "$KREL" "$T/fixed" >/dev/null 2>&1
if [ -f "$T/fixed/STAPCACHE-FIXES" ]; then
	k4=$(key -R "$T/fixed" -r "$KREL" -e "$script" one)
	is "$(key -R "$T/fixed" -r "$KREL" -e "$script" one)" "$k4" "a prepared runtime keeps its key"
	"$STAPCACHE_FIX_RUNTIME" --force -r "$KREL" "$T/fixed" >/dev/null 2>&1
	isnt "$(key -R "$T/fixed" -r "$KREL" -e "$script" one)" "$k4" \
		"re-preparing the runtime copy changes the key"
else
	ok 0 "this kernel needs no runtime fix: no prepared copy to check"
	ok 0 "(idem)"
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

# The invoking uid.
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/shared" && chmod 777 "$T/shared"
	other=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		env HOME="$T/shared" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" STAPCACHE_DIR="$T/shared/cache" \
		"$STAPCACHE" --explain -p4 -r "$KREL" -e "$script" one | sed -n 's/^# key: //p')
	like "$other" '^[0-9a-f]{64}$' "another user gets a key"
	isnt "$other" "$base" "the uid changes the key"
else
	skip_reason="not root: cannot switch uid"
	ok 0 "# SKIP $skip_reason"
fi

done_testing
