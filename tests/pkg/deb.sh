#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The .deb (issue 11): build-aux/make-deb builds it with dpkg-buildpackage in
# a temporary copy (the source tree stays as it was); it holds staprun-auth
# setuid root, /etc/systemtap/authorized_probes as a conffile, the helpers,
# fix-runtime, the stap drop-in symlink, the completion and the man pages.
# It is installed on this host for real (dpkg -i: a throwaway CI machine),
# the installed programs run (a real stap build included), an upgrade keeps
# an admin's edit of the conffile, and dpkg --purge removes every file. The
# rest of the suite uses the build tree's programs, which this test leaves
# alone; a stapcache package that was installed before is never touched.
# One test: the build is slow (a full configure and build, minutes).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"
[ "$(id -u)" = 0 ] || skip_all "dpkg -i needs root"
for t in dpkg-buildpackage dh fakeroot; do
	command -v "$t" >/dev/null 2>&1 || skip_all "$t is missing (apt-get install dpkg-dev debhelper fakeroot)"
done
if dpkg-query -W -f '${Status}' stapcache 2>/dev/null | grep -q installed; then
	skip_all "a stapcache package is installed already: not replacing it (dpkg --purge stapcache first)"
fi
require_stap
POLICY=/etc/systemtap/authorized_probes
[ ! -e "$POLICY" ] || skip_all "$POLICY exists and belongs to no package: not replacing it"

# dpkg holds one lock for the whole machine: wait for it rather than fail.
dpkg_do() {
	local i
	for i in $(seq 60); do
		dpkg "$@" >"$T/dpkg.log" 2>&1 && return 0
		grep -q "lock" "$T/dpkg.log" || { sed 's/^/# /' "$T/dpkg.log"; return 1; }
		sleep 2
	done
	return 1
}

# What dpkg-buildpackage would leave in a tree it ran in: debian/'s own
# files (ignored or not), and anything written in the tree (build dirs apart).
debian_state() { (cd "$top_srcdir" && find debian | sort); }
before=$(debian_state)
touch "$T/stamp"
t0=$(date +%s.%N)
nice "$top_srcdir/build-aux/make-deb" "$top_srcdir" "$T/deb" >"$T/made" 2>"$T/make-deb.err"
ok $? "build-aux/make-deb builds the package (dpkg-buildpackage -us -uc -b)"
t1=$(date +%s.%N)
diag "make-deb took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
is "$(debian_state)" "$before" "debian/ gets no generated file"
is "$(find "$top_srcdir" \( -path "$top_srcdir/.git" -o -path "$top_srcdir/build*" \) -prune -o \
	-newer "$T/stamp" -print)" "" "nothing in the source tree was written (it was built in a copy)"
deb=$(grep '/stapcache_[^/]*\.deb$' "$T/made")
[ -f "$deb" ] || { sed 's/^/# /' "$T/make-deb.err"; skip_all "no .deb was made"; }
version=$(dpkg-deb -f "$deb" Version)
is "$version" "$(sed -n '1s/^stapcache (\([^)]*\)).*/\1/p' "$top_srcdir/debian/changelog")" \
	"the package's version is debian/changelog's"

# Contents: modes and owners as dpkg will install them.
dpkg-deb -c "$deb" > "$T/contents"
sed 's/^/# /' "$T/contents" | awk '{print $1, $2, $3, $NF}' | grep -v '/$' >&2 || true
like "$(grep ' ./usr/bin/staprun-auth$' "$T/contents")" '^-rwsr-xr-x root/root ' \
	"staprun-auth is setuid root (4755 root:root) in the package"
like "$(grep " .$POLICY\$" "$T/contents")" '^-rw-r--r-- root/root ' "$POLICY is root:root 0644"
is "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)" "$POLICY" "... and the one conffile"
for f in /usr/bin/stapcache /usr/bin/stapcache-fix-runtime /usr/libexec/stapcache/stapcache-remote \
	/usr/libexec/stapcache/stapcache-store /usr/share/bash-completion/completions/stapcache \
	/usr/share/man/man1/stapcache.1.gz /usr/share/man/man8/staprun-auth.8.gz \
	/usr/share/man/man5/authorized_probes.5.gz /usr/share/man/man5/stapcache-known_hosts.5.gz; do
	grep -q " \.$f\$" "$T/contents"
	ok $? "the package holds $f"
done
like "$(grep ' ./usr/libexec/stapcache/bin/stap ' "$T/contents")" '^l.* -> \.\./\.\./\.\./bin/stapcache$' \
	"the stap drop-in symlink points at stapcache"
grep -q ' ./run\| ./etc/stapcache' "$T/contents"
ok $((!$?)) "no /run (a tmpfs) and no host-specific /etc/stapcache/config.yaml"

# Install it for real; whatever happens next, it is purged at exit.
at_exit 'dpkg-query -W stapcache >/dev/null 2>&1 && dpkg --purge stapcache >/dev/null 2>&1'
dpkg_do -i "$deb"
ok $? "dpkg -i installs it"
is "$(stat -c '%a %U %G' /usr/bin/staprun-auth)" "4755 root root" "installed staprun-auth is setuid root"
is "$(stat -c '%a %U %G' "$POLICY")" "644 root root" "installed $POLICY is root:root 0644"
like "$(dpkg-query -W -f '${Conffiles}' stapcache)" "$POLICY [0-9a-f]{32}" "dpkg records it as a conffile"
is "$(/usr/bin/stapcache --version)" "stapcache ${version%%-*}" "the installed stapcache --version runs"
out=$(env PATH="/usr/libexec/stapcache/bin:$PATH" stap -V 2>&1)
like "$out" "Systemtap translator/driver" "the drop-in stap hands -V to the real stap further down PATH"
out=$(STAPCACHE_DIR=$T/cache /usr/bin/stapcache -p4 -r "$KREL" -R "$RUNTIME" \
	-e 'probe begin { printf("from the package\n") exit() }' 2>"$T/build.err")
ok $? "the installed stapcache builds a module with the real stap"
like "$out" "^$T/cache/.*\\.ko\$" "... and prints its path"
mkdir "$T/m" && cp "$out" "$T/m/" && chmod 755 "$T/m" && chmod 644 "$T/m/"*.ko
v=$(su nobody -s /bin/sh -c "/usr/bin/staprun-auth --verify $T/m/$(basename "$out")" 2>&1)
like "$v" "its digest is not listed in $POLICY" \
	"the installed setuid staprun-auth, run by nobody, checks the module against $POLICY"
diag "staprun-auth --verify as nobody: $v"
/usr/bin/stapcache host list >"$T/hosts" 2>&1
ok $? "the installed stapcache finds its stapcache-remote helper (host list)"
bash -c 'source /usr/share/bash-completion/completions/stapcache && complete -p stapcache' >/dev/null 2>&1
ok $? "the installed completion loads"

# An upgrade keeps an admin's edit of the conffile (the same package as a
# newer version: repacked with dpkg-deb, as the next release would be).
echo "sha256:$(printf '%064d' 0)  # an admin's line" >> "$POLICY"
dpkg-deb -R "$deb" "$T/next"
sed -i "s/^Version: .*/Version: $version+next/" "$T/next/DEBIAN/control"
dpkg-deb -b "$T/next" "$T/next.deb" >/dev/null
dpkg_do -i "$T/next.deb"
ok $? "dpkg -i of a newer version upgrades it"
is "$(dpkg-query -W -f '${Version}' stapcache)" "$version+next" "... to the newer version"
like "$(tail -n 1 "$POLICY")" "an admin's line" "the upgrade kept the admin's edit of $POLICY"
is "$(stat -c '%a' /usr/bin/staprun-auth)" 4755 "staprun-auth is still setuid after the upgrade"

dpkg_do --purge stapcache
ok $? "dpkg --purge removes it"
left=""
for f in /usr/bin/stapcache /usr/bin/staprun-auth /usr/bin/stapcache-fix-runtime \
	/usr/libexec/stapcache "$POLICY" /etc/systemtap /usr/share/bash-completion/completions/stapcache \
	/usr/share/man/man1/stapcache.1.gz /usr/share/doc/stapcache; do
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
is "$left" "" "nothing of it is left (conffile and /etc/systemtap included)"
dpkg-query -W -f '${Status}' stapcache 2>/dev/null | grep -q 'installed'
ok $((!$?)) "dpkg no longer lists it as installed"
is "$($STAPCACHE --version)" "stapcache ${version%%-*}" "the build tree's stapcache, which the suite uses, still runs"
done_testing
