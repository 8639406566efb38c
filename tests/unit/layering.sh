#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build-aux/check-layering holds the tree to doc/ARCHITECTURE.md's table, and
# fails when an include breaks it: a folder the table does not allow, ../,
# a cycle.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"

check=$top_srcdir/build-aux/check-layering
command -v python3 >/dev/null || skip_all "no python3 (apt-get install python3)"

out=$(python3 "$check" "$top_srcdir" 2>&1)
ok $? "the tree follows doc/ARCHITECTURE.md's table"
like "$out" "^check-layering: [0-9]+ files" "it says what it checked"

# A copy of the tree to break.
copy() {
	rm -rf "$T/src" && mkdir -p "$T/src/doc" &&
		cp -r "$top_srcdir/common" "$top_srcdir/stapcache" "$top_srcdir/staprun-auth" "$T/src/" &&
		cp "$top_srcdir/doc/ARCHITECTURE.md" "$T/src/doc/"
}
copy
printf '#include "cmd/cmd.h"\n' >>"$T/src/stapcache/core/options.h"
out=$(python3 "$check" "$T/src" 2>&1)
isnt $? 0 "core/ including cmd/ fails the check"
like "$out" "stapcache/core/options.h:[0-9]+: #include \"cmd/cmd.h\": stapcache/core may not include stapcache/cmd" \
	"naming the file, the line and the rule"

copy
printf '#include "../cache/cache.h"\n' >>"$T/src/stapcache/core/tree.c"
out=$(python3 "$check" "$T/src" 2>&1)
isnt $? 0 "an include spelled with ../ fails the check"
like "$out" 'spelled with \.\./' "saying so"

copy
printf '#include "stapcache/core/options.h"\n' >>"$T/src/common/error.c"
printf '#include "core/options.h"\n' >>"$T/src/common/error.c"
out=$(python3 "$check" "$T/src" 2>&1)
isnt $? 0 "common/ including the front end fails the check"

copy
mkdir -p "$T/src/stapcache/newjob" && printf 'int x;\n' >"$T/src/stapcache/newjob/a.c"
out=$(python3 "$check" "$T/src" 2>&1)
like "$out" "folder stapcache/newjob has no row" "a new folder needs its row in the table"

copy
sed -i 's/^| `stapcache\/core` |.*/| `stapcache\/core` | `common` `cache` |/' "$T/src/doc/ARCHITECTURE.md"
printf '#include "cache/cache.h"\n' >>"$T/src/stapcache/core/tree.c"
out=$(python3 "$check" "$T/src" 2>&1)
isnt $? 0 "a cycle between folders fails the check, even where the table allows both edges"
like "$out" "cycle.*stapcache/cache -> stapcache/core|cycle.*stapcache/core -> stapcache/cache" \
	"naming the cycle"
done_testing
