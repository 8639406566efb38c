#!/bin/bash
# The system-wide config.yaml (read first) and the user's (wins, key by key);
# make install writes the system-wide one only when there is none; a pass-4
# failure that the prepared runtime fixes says so and names the command.
# No test writes to /etc: STAPCACHE_SYSCONFDIR points at a directory of ours.
. "$top_srcdir/tests/lib/testlib.sh"
export STAPCACHE_SYSCONFDIR="$T/etc"
mkdir -p "$T/etc/stapcache"

# A world without stap: a fake stap that answers -V and fails to compile,
# a fake build tree whose headers renamed task_work_cancel, two runtimes.
mkdir -p "$T/bin" "$T/tree/include/generated" "$T/tree/include/linux" "$T/rt-stock" "$T/rt-fixed"
cat > "$T/bin/stap" <<'STAP'
#!/bin/sh
case "$1" in -V) echo "Systemtap translator/driver (version 4.8/fake)"; exit 0 ;; esac
echo "stp_task_work.c: error: too few arguments to function 'task_work_cancel'" >&2
exit 1
STAP
chmod +x "$T/bin/stap"
echo '#define UTS_RELEASE "6.1.0-99-amd64"' > "$T/tree/include/generated/utsrelease.h"
echo 'bool task_work_cancel_func(struct task_struct *, task_work_func_t);' \
	> "$T/tree/include/linux/task_work.h"
echo 'typedef typeof(&task_work_cancel) task_work_cancel_fn;' > "$T/rt-stock/stp_task_work.c"
echo 'typedef struct callback_head *(*task_work_cancel_fn)(void);' > "$T/rt-fixed/stp_task_work.c"
rt_of() { "$STAPCACHE" --explain -p4 -r "$T/tree" -e 'probe begin {}' | sed -n '/^runtime [0-9]*$/{n;p}' | cut -d' ' -f1; }

printf 'stap: %s\nruntime: %s\nmax-size: 5M\n' "$T/bin/stap" "$T/rt-fixed" > "$T/etc/stapcache/config.yaml"
is "$(rt_of)" "$T/rt-fixed" "without a user config, the system-wide one is used"
like "$("$STAPCACHE" cache prune --max-size 5M)" "evicted 0" "(cache prune works)"
write_config "runtime: $T/rt-stock"
is "$(rt_of)" "$T/rt-stock" "the user's setting wins"
write_config "max-size: 0"
is "$(rt_of)" "$T/rt-fixed" "a key the user does not set comes from the system-wide file"
like "$("$STAPCACHE" cache prune)" "no size limit set" "the user's max-size 0 overrides the system's 5M"
printf 'runtime: [broken\n' > "$T/etc/stapcache/config.yaml"
like "$("$STAPCACHE" -p4 -r "$T/tree" -e 'probe begin {}' 2>&1)" "$T/etc/stapcache/config.yaml:" \
	"a broken system-wide file is named in the message"

# The runtime hint.
printf 'stap: %s\nruntime: %s\n' "$T/bin/stap" "$T/rt-stock" > "$T/etc/stapcache/config.yaml"
write_config ""
out=$("$STAPCACHE" -p4 -r "$T/tree" -e 'probe begin {}' 2>&1); rc=$?
is "$rc" 1 "a failing build exits 1"
like "$out" "runtime $T/rt-stock does not compile for 6.1.0-99-amd64" \
	"with the stock runtime on a kernel that needs the fix, it says so"
like "$out" "'stapcache-fix-runtime -r 6.1.0-99-amd64'" "and names the command that prepares it"
out=$("$STAPCACHE" -p4 -R "$T/rt-fixed" -r "$T/tree" -e 'probe begin {}' 2>&1)
like "$out" "stap failed \(exit status 1; its messages are above\)" \
	"with a fixed runtime, a failure is stap's own"
rm "$T/tree/include/linux/task_work.h"
out=$("$STAPCACHE" -p4 -r "$T/tree" -e 'probe begin {}' 2>&1)
like "$out" "stap failed \(exit status 1; its messages are above\)" \
	"on a kernel that needs no fix, no hint"

# make install: the system-wide file, only when there is none.
if [ -f "$top_builddir/Makefile" ] && [ "$(id -u)" = 0 ]; then
	inst=$T/inst
	make -s -C "$top_builddir" install-data DESTDIR="$inst" >"$T/install.log" 2>&1; rc=$?
	is "$rc" 0 "make install-data into a DESTDIR"
	sysconf=$(sed -n "s|^sysconfdir = ||p" "$top_builddir/Makefile")
	prefix=$(sed -n "s|^prefix = ||p" "$top_builddir/Makefile")
	sysconf=${sysconf//\$\{prefix\}/$prefix}
	f=$inst$sysconf/stapcache/config.yaml
	ok "$(test -f "$f"; echo $?)" "it writes $sysconf/stapcache/config.yaml"
	echo "runtime: /admin/choice" > "$f"
	make -s -C "$top_builddir" install-data DESTDIR="$inst" >"$T/install2.log" 2>&1
	is "$(cat "$f")" "runtime: /admin/choice" "and never overwrites an admin's file"
elif [ "${SC_STRICT:-0}" = 1 ]; then
	ok 1 "cannot check make install here (needs the build tree and root), strict mode"
else
	echo "ok $((_tap_n += 1)) # SKIP make install needs the build tree and root"
fi

done_testing
