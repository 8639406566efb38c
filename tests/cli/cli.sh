#!/bin/bash
# Command line and error messages: each bad input gets one clear line and a hint.
. "$top_srcdir/tests/lib/testlib.sh"
# Hermetic: the system-wide config.yaml is one of ours (empty), not /etc's.
export STAPCACHE_SYSCONFDIR="$T/etc"

# A check this machine cannot make: a skip, and under SC_STRICT=1 a failure.
skip_one() {
	if [ "${SC_STRICT:-0}" = 1 ]; then
		ok 1 "cannot check here, and skips fail in strict mode: $*"
	else
		_tap_n=$((_tap_n + 1))
		echo "ok $_tap_n # SKIP $*"
	fi
}

out=$("$STAPCACHE" --help); ok $? "--help exits 0"
like "$out" "Usage: stapcache" "--help prints usage"
like "$("$STAPCACHE" --version)" "^stapcache [0-9]" "--version"

out=$("$STAPCACHE" --no-such-option -e 'probe begin {}' 2>&1); rc=$?
is "$rc" 2 "an unknown option exits 2"
like "$out" "unknown option '--no-such-option'.*see stapcache --help" "and says where to look"
out=$("$STAPCACHE" --remote-prefix -e 'probe begin {}' 2>&1); rc=$?
is "$rc" 2 "a refused stap option exits 2"
like "$out" "^stapcache: --remote-prefix is refused: .*prefixed" "with the reason and a hint"
out=$("$STAPCACHE" -k -p2 -r "$(sc_test_krel)" -e 'probe begin { exit() }' 2>&1); rc=$?
is "$rc" 0 "-k (stap's temporary directory) is stap's: the real stap runs it"
rm -rf $(printf '%s\n' "$out" | sed -n 's/^Keeping temporary directory "\(.*\)"$/\1/p')

out=$("$STAPCACHE" -p4 2>&1); rc=$?
is "$rc" 2 "no script exits 2"
like "$out" "no script: give -e SCRIPT or a script FILE" "and says so"

out=$("$STAPCACHE" -p4 -m 'bad-name' -e 'probe begin {}' 2>&1)
like "$out" "-m 'bad-name': a module name is" "a bad module name is refused"

out=$("$STAPCACHE" -p4 -G '1x=3' -e 'probe begin {}' 2>&1)
like "$out" "is not a global variable name" "a bad -G name is refused"

krel=$(sc_test_krel)
out=$("$STAPCACHE" -p4 -r "$krel" "$T/missing.stp" 2>&1); rc=$?
is "$rc" 1 "a missing script exits 1"
like "$out" "^stapcache: cannot read script $T/missing.stp: No such file or directory \(check the path" "and names it"
is "$(echo "$out" | wc -l)" 1 "in one line"
echo 'probe begin {}' > "$T/secret.stp"; chmod 000 "$T/secret.stp"
if [ "$(id -u)" != 0 ]; then
	out=$("$STAPCACHE" -p4 -r "$krel" "$T/secret.stp" 2>&1)
	like "$out" "Permission denied" "an unreadable script is reported"
else
	mkdir -p "$T/nc" && chmod 777 "$T/nc"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T/nc" STAPCACHE_DIR="$T/nc/cache" \
		"$STAPCACHE" -p4 -r "$krel" "$T/secret.stp" 2>&1)
	like "$out" "cannot read script .*Permission denied" "an unreadable script is reported"
fi

out=$("$STAPCACHE" -p4 -r 0.0.0-nosuch -e 'probe begin {}' 2>&1); rc=$?
is "$rc" 1 "a kernel without headers exits 1"
like "$out" "no kernel build tree for 0.0.0-nosuch.*apt-get install linux-headers-0.0.0-nosuch" \
	"and names the package"
if [ ! -e "/lib/modules/$(uname -r)/build" ]; then
	out=$("$STAPCACHE" -p4 -e 'probe begin {}' 2>&1)
	like "$out" "running kernel $(uname -r) has no build tree.*-r RELEASE.*-T NAME" \
		"no -r on a kernel without headers suggests -r and -T"
else
	skip_one "the running kernel $(uname -r) has headers: no missing build tree to report"
fi

write_config "stap: $T/no/stap"
out=$("$STAPCACHE" -p4 -r "$krel" -e 'probe begin {}' 2>&1); rc=$?
is "$rc" 1 "stap missing exits 1"
like "$out" "stap not found at $T/no/stap: install systemtap" "stap missing is explained"

write_config "max_size: 1G"
out=$("$STAPCACHE" -p4 -r "$krel" -e 'probe begin {}' 2>&1)
like "$out" "config.yaml:1: unknown key 'max_size'" "a bad config names file and line"
write_config ""

out=$(STAPCACHE_DIR=/proc/stapcache-test "$STAPCACHE" -p4 -r "$krel" -e 'probe begin {}' 2>&1); rc=$?
is "$rc" 1 "an unwritable cache dir exits 1"
like "$out" "cannot create the cache directory /proc/stapcache-test.*cache-dir" \
	"and says how to choose another"

out=$("$STAPCACHE" -p4 -R "$T/nort" -r "$krel" -e 'probe begin {}' 2>&1)
like "$out" "runtime .*cannot read directory $T/nort" "a missing runtime is reported"

echo "not elf" > "$T/x.ko"
out=$("$STAPCACHE" bless "$T/x.ko" 2>&1); rc=$?
is "$rc" 1 "bless of a non-module exits 1"
like "$out" "not a kernel module" "and says why"
out=$("$STAPCACHE" bless 2>&1); rc=$?
is "$rc" 2 "bless without a file shows usage"
printf '\177ELFfake' > "$T/stap_demo.ko"
out=$("$STAPCACHE" bless "$T/stap_demo.ko" 2>&1); rc=$?
is "$rc" 1 "bless of a file that only looks like ELF exits 1"
like "$out" "is not a kernel module: " "and says what is wrong with it"

out=$("$STAPCACHE" cache frobnicate 2>&1); rc=$?
is "$rc" 2 "an unknown cache subcommand exits 2"
like "$out" "unknown verb 'frobnicate' \(stats, list, check, prune, clear, zero\)" \
	"and lists the real ones"
out=$("$STAPCACHE" cache stast 2>&1); rc=$?
is "$rc" 2 "a mistyped cache verb exits 2"
like "$out" "unknown verb 'stast'; did you mean 'stats'\? \(stats, list," \
	"and names the verb it is nearest to"
like "$out" "Try 'stapcache cache --help'" "and where to look"
out=$("$STAPCACHE" host lsit 2>&1)
like "$out" "unknown verb 'lsit'; did you mean 'list'\?" "the same for host (every command with verbs)"

# Looking at a cache creates nothing (issue 23): stats, list and check of a
# cache-dir that does not exist yet show an empty cache and leave no directory.
out=$(STAPCACHE_DIR="$T/not-yet" "$STAPCACHE" cache stats); rc=$?
is "$rc" 0 "cache stats of a cache not made yet: exit 0"
like "$out" "^entries +0\$" "an empty cache"
STAPCACHE_DIR="$T/not-yet" "$STAPCACHE" cache list --json >/dev/null &&
	STAPCACHE_DIR="$T/not-yet" "$STAPCACHE" cache check >/dev/null
ok $? "cache list and check of it: exit 0"
ok "$([ ! -e "$T/not-yet" ]; echo $?)" "and no directory was created"

# Errors in the right order (issue 23): a word that is neither a command
# nor a file is a mistyped command, said before anything looks at kernels.
out=$("$STAPCACHE" cahce stats 2>&1); rc=$?
is "$rc" 2 "stapcache cahce stats: a usage error"
like "$out" "'cahce' is not a command.*did you mean 'cache'" "with the command it probably meant"
out=$("$STAPCACHE" help 2>&1)
like "$out" "did you mean 'stapcache --help'" "stapcache help points at --help"
out=$("$STAPCACHE" nosuch.stp 2>&1); rc=$?
is "$rc" 1 "a script file that does not exist: exit 1"
like "$out" "^stapcache: cannot read script nosuch\.stp: No such file or directory" \
	"saying so, not that a kernel is missing"

# One convention for every subcommand (issue 18): --help is the command's
# usage on stdout, exit 0; a bad option is one line and the hint on stderr,
# exit 2. The list is the program's own (stapcache --help lists them all).
cmds=$("$STAPCACHE" __complete commands)
help=$("$STAPCACHE" --help)
for c in $cmds cache\ stats cache\ list cache\ check cache\ prune cache\ clear cache\ zero \
	host\ self host\ list host\ add host\ remove host\ refresh host\ accept \
	signing-key\ generate signing-key\ show; do
	# shellcheck disable=SC2086
	out=$("$STAPCACHE" $c --help 2>"$T/err"); rc=$?
	is "$rc:$(wc -c <"$T/err")" "0:0" "stapcache $c --help: exit 0, nothing on stderr"
	like "$out" "^Usage: stapcache $c" "stapcache $c --help: its own usage on stdout"
	# shellcheck disable=SC2086
	out=$("$STAPCACHE" $c --no-such-option 2>&1 >/dev/null); rc=$?
	is "$rc" 2 "stapcache $c --no-such-option: exit 2"
	like "$out" "^stapcache $c: unknown option '--no-such-option'" \
		"stapcache $c --no-such-option: says what is wrong, on stderr"
	like "$out" "^Try 'stapcache $c --help'\.$" "and where to look"
done
for c in $cmds; do
	like "$help" "  $c " "stapcache --help lists $c"
done
like "$cmds" "cache" "the commands are listed at all ($(echo $cmds))"
out=$("$STAPCACHE" cache prune --max-size banana 2>&1)
like "$out" "invalid size 'banana'" "a bad prune size is refused"

# Without its helper (a copy of stapcache alone, none installed), stapcache host
# says what is missing, in one line, and exits 1 (in build-asan, a leak report
# by LeakSanitizer after the failed exec would be more lines).
mkdir -p "$T/alone" && cp "$STAPCACHE" "$T/alone/stapcache"
out=$("$T/alone/stapcache" host list 2>&1); rc=$?
if printf '%s\n' "$out" | grep -q '^stapcache: cannot run .*/stapcache-remote: '; then
	is "$rc" 1 "stapcache host without its helper exits 1"
	like "$out" "cannot run .*: No such file or directory \(make install puts it there\)" \
		"and says what is missing and what to do"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "in one line (nothing leaked)"
else
	skip_one "a stapcache-remote is installed: stapcache host ran it ($out)"
fi

done_testing
