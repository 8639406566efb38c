#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bash completion (etc/bash-completion/stapcache) loads in bash and
# completes subcommands, options, option arguments and known_hosts targets,
# driven the way bash drives it (COMP_WORDS, COMP_CWORD), both bare and with
# bash-completion's library loaded; its words are exactly the program's
# (option table, subcommand table, --help), so nothing is kept by hand; and
# make install puts it, and the man pages, where they belong.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"
COMP=$top_srcdir/etc/bash-completion/stapcache
BC=/usr/share/bash-completion/bash_completion
PATH=$(dirname "$STAPCACHE"):$PATH
export PATH

out=$(bash -c "source '$COMP' && complete -p stapcache" 2>&1)
is "$out" "complete -o filenames -F _stapcache stapcache" "the script loads and registers _stapcache"

# complete_words LIB LINE: what TAB offers at the end of LINE, sorted, one a
# line, with COMP_WORDS split as bash splits them (at blanks, and around '@'
# and '=' when they are in COMP_WORDBREAKS: bash-completion takes '@' out).
# LIB=1 loads bash-completion first.
complete_words() {
	bash -c '
		[ "$1" = 1 ] && source "$2"
		source "$3"
		COMP_LINE=$4; COMP_POINT=${#COMP_LINE}
		b=; for c in @ =; do [[ $COMP_WORDBREAKS == *$c* ]] && b+=$c; done
		read -ra w <<<"$(sed "s/\([$b]\)/ \1 /g" <<<"$COMP_LINE")"
		[[ $COMP_LINE == *" " || $COMP_LINE == *[$b] ]] && w+=("")
		COMP_WORDS=("${w[@]}"); COMP_CWORD=$((${#w[@]} - 1))
		_stapcache stapcache "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$1" "$BC" "$COMP" "$2" | sort -u
}

mkdir -p "$XDG_CONFIG_HOME/stapcache"
cat > "$XDG_CONFIG_HOME/stapcache/known_hosts" <<'KH'
- name: web1
  execute: ssh:ops@web1.example.com:auth
  kernel: 6.1.0-57-amd64
  arch: x86_64
  cpu: test
  groups: [web, prod]
- name: web2
  execute: ssh:ops@web2.example.com:2222:sudo
  kernel: 6.1.0-57-amd64
  arch: x86_64
  cpu: test
  groups: [web]
- name: db1
  execute: ssh:db1:direct
  kernel: 6.1.0-56-amd64
  arch: x86_64
  cpu: test
  groups: [prod]
KH
mkdir "$T/wd" && cd "$T/wd" || exit 1
for lib in 0 1; do
	if [ "$lib" = 1 ] && [ ! -f "$BC" ]; then
		skip "bash-completion is not installed (apt-get install bash-completion)"
		continue
	fi
	w="(lib=$lib)"
	# Where '@' breaks words, bash keeps it and TAB offers what follows it.
	at=$(bash -c '[ "$1" = 1 ] && source "$2"; [[ $COMP_WORDBREAKS == *@* ]] || echo @' _ "$lib" "$BC")
	is "$(complete_words $lib "stapcache ca")" "cache" "$w a subcommand: ca -> cache"
	is "$(complete_words $lib "stapcache ho")" "host" "$w ho -> host"
	is "$(complete_words $lib "stapcache --no-pr")" "--no-progress" "$w an option: --no-pr -> --no-progress"
	is "$(complete_words $lib "stapcache -p4 --expl")" "--explain" "$w an option after another"
	is "$(complete_words $lib "stapcache -T we")" "$(printf 'web1\nweb2')" "$w a target: -T we -> web1 web2"
	is "$(complete_words $lib "stapcache -T @")" "$(printf '%sprod\n%sweb' "$at" "$at")" "$w groups: -T @ -> @prod @web"
	is "$(complete_words $lib "stapcache -p4 -T d")" "db1" "$w a target after other options"
	is "$(complete_words $lib "stapcache -T @w")" "${at}web" "$w -T @w -> @web"
	is "$(complete_words $lib "stapcache --remote-runner=su")" "sudo" "$w --opt=VALUE"
	is "$(complete_words $lib "stapcache host remove w")" "$(printf 'web1\nweb2')" \
		"$w host remove: target names"
	is "$(complete_words $lib "stapcache host im")" "import" "$w host im -> import"
	is "$(complete_words $lib "stapcache host import --dr")" "--dry-run" \
		"$w host import --dr -> --dry-run"
	is "$(complete_words $lib "stapcache host import --runner ")" "$(printf 'auth\ndirect\nsudo')" \
		"$w host import --runner: its words, from its --help"
	is "$(complete_words $lib "stapcache host import --r")" "--runner" \
		"$w host import --r: the option, not its argument's words"
	is "$(complete_words $lib "stapcache cache ")" "$(printf 'check\nclear\nlist\nprune\nstats\nzero')" \
		"$w cache: its verbs, from its --help"
	is "$(complete_words $lib "stapcache cache prune --")" "$(printf -- '--help\n--max-size')" \
		"$w cache prune --: the verb's options"
	is "$(complete_words $lib "stapcache doctor -")" "$(printf -- '--help\n--json\n-T\n-h')" \
		"$w doctor -: its options"
	is "$(complete_words $lib "stapcache doctor -T w")" "$(printf 'web1\nweb2')" \
		"$w doctor -T: targets"
	like "$(complete_words $lib "stapcache trace --")" "--comm" "$w trace --: its own options"
	like "$(complete_words $lib "stapcache trace --")" "--no-progress" \
		"$w ... and the compile command's"
	like "$(complete_words $lib "stapcache bless --")" "--admin" "$w bless --: its options"
	like "$(complete_words $lib "stapcache verify --")" "--explain" "$w verify --: the compile options"
	is "$(complete_words $lib "stapcache --remote-runner ")" "$(printf 'auth\ndirect\nsudo')" \
		"$w an argument from its a|b|c metavar"
	is "$(complete_words $lib "stapcache -r 6.1.0-57")" "$(ls /lib/modules | grep '^6\.1\.0-57' | sort -u)" \
		"$w -r: installed kernel releases"
	touch probe.stp
	is "$(complete_words $lib "stapcache -p4 pro")" "probe.stp" "$w a script file"
done
cat > "$XDG_CONFIG_HOME/stapcache/known_hosts" <<'KH'
edge1 execute=ssh:ops@edge1:auth kernel=6.1.0-57-amd64 arch=x86_64 cpu=x groups=edge
edge2 execute=ssh:ops@edge2:auth kernel=6.1.0-57-amd64 arch=x86_64 cpu=x
KH
is "$(complete_words 0 "stapcache -T ")" "$(printf '@edge\nedge1\nedge2')" \
	"the one-line known_hosts form completes too"
echo ': not yaml [' > "$XDG_CONFIG_HOME/stapcache/known_hosts"
is "$(complete_words 0 "stapcache -T " 2>&1)" "" "a broken known_hosts completes nothing and prints nothing"

# The words are the program's: every option --help shows, every subcommand
# its usage lines name, and nothing else.
help=$($STAPCACHE --help)
want=$(grep -oE '^  (-[A-Za-z0-9]|--[a-z][a-z0-9-]*)(, --[a-z][a-z0-9-]*)?' <<<"$help" |
	tr ',' '\n' | tr -d ' ' | grep . | sort -u)
got=$(complete_words 0 "stapcache -" | sort -u)
is "$got" "$want" "'-' offers exactly the options --help lists"
# --help's Commands: section (main.c's table).
want=$(sed -n '/^Commands:/,$ s/^  \([a-z][a-z-]*\) .*/\1/p' <<<"$help" | sort -u)
is "$(complete_words 0 "stapcache " | grep -vx 'probe.stp' | sort -u)" "$want" \
	"the first word offers exactly the commands --help lists"
is "$($STAPCACHE __complete commands | sort)" "$want" "... which are main.c's table"

# make install puts the completion in bash-completion's completionsdir and
# the man pages in man1/5/8 (DESTDIR: nothing leaves this test's directory).
make -s -C "$top_builddir" install DESTDIR="$T/inst" >"$T/install.log" 2>&1
ok $? "make install DESTDIR=... succeeds"
c=$(find "$T/inst" -path '*bash-completion/completions/stapcache' -type f)
like "$c" "/share/bash-completion/completions/stapcache\$" "the completion is in .../bash-completion/completions"
cmp -s "$c" "$COMP"
ok $? "... as it is in the tree"
for m in man1/stapcache.1 man5/stapcache-known_hosts.5 man5/authorized_probes.5 man8/staprun-auth.8; do
	[ -n "$(find "$T/inst" -path "*/man/$m" -type f)" ]
	ok $? "man page $m is installed"
done
done_testing
