#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# stapcache host import: Ansible inventories in their three forms (INI, YAML,
# and the JSON of ansible-inventory --list, written by hand in its exact
# shape: Ansible is not installed) against real OpenSSH sshd targets on
# loopback. Each new host is asked over SSH as host add asks; an unknown
# host key is refused until --accept names it; the groups become @GROUPs
# that -T resolves; a second import leaves hosts alone, --update updates
# them; --dry-run connects to nothing and writes nothing; a bad inventory
# is one error naming FILE:LINE and known_hosts stays as it was. The runner
# on the targets is a stand-in (see remote-lib.sh).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/testlib.sh"
require_stap
. "$top_srcdir/tests/lib/remote-lib.sh"
export STAPCACHE_DIR=$top_builddir/tests/remote-cache
write_config "runtime: $RUNTIME"
# SCRIPT: remote-lib.sh's (the module the other remote tests build)
# has FILE FIXED-STRING DESC (fingerprints hold '+' and '/': no regex)
has() { grep -qF -- "$2" "$1"; ok $? "$3"; }
# entry NAME: its known_hosts entry, one "key: value" a line
entry() { awk -v n="$1" '/^- name: /{on = ($3 == n)} on' "$KH"; }
# the targets a -T run printed for (its lines are prefixed "NAME: ")
ran_on() { sed -n 's/^\([A-Za-z0-9_.-]*\): runner .*/\1/p' "$1" | sort | tr '\n' ' '; }

PA=$(free_port); start_sshd a "$PA" || skip_all "cannot start sshd"
PB=$(free_port); start_sshd b "$PB" || skip_all "cannot start sshd"
PC=$(free_port); start_sshd c "$PC" || skip_all "cannot start sshd"
trust a "$PA"       # b's and c's keys are not trusted: met for the first time
cd "$T" || exit 1

# ---------------------------------------------------------------- INI
cat > inv.ini <<EOF
; the INI form: ranges, children, group vars, a local host
[web]
web[01:02] ansible_host=127.0.0.1
[db]
db1 ansible_host=127.0.0.1
local1 ansible_connection=local
[prod:children]
web
db
[all:vars]
ansible_port=$PA
ansible_user=root
EOF
$STAPCACHE host import inv.ini --dry-run >out 2>err; st=$?
is "$st" 0 "--dry-run: exit 0"
like "$(cat out)" "^# inv.ini: INI, 4 hosts" "--dry-run: names the form it read"
like "$(cat out)" "web01: would add ssh:root@127.0.0.1:$PA:auth groups=prod,web" \
	"--dry-run: web[01:02] expanded, the group vars applied, children flattened"
like "$(cat out)" "db1: would add ssh:root@127.0.0.1:$PA:auth groups=db,prod" "--dry-run: db1"
like "$(cat out)" "local1: skipped: ansible_connection=local \(inv.ini:6\) is not SSH" \
	"--dry-run: a local host is skipped, saying why"
ok "$([ ! -e "$KH" ]; echo $?)" "--dry-run: known_hosts not written"
$STAPCACHE host import inv.ini --accept "$(fp b)" >out 2>err; st=$?
is "$st" 2 "--accept SHA256:FP with three new hosts: a usage error (2)"
like "$(cat err)" "3 hosts are new; name the host: --accept NAME=SHA256:" "  saying how to name the host"
is "$(cat out)" "" "  before anything is done"

$STAPCACHE host import inv.ini >out 2>err; st=$?
is "$st" 0 "import inv.ini: exit 0"
like "$(cat out)" "web02: added ssh:root@127.0.0.1:$PA:auth kernel=$KREL arch=$(uname -m) groups=prod,web" \
	"import: each host asked over SSH for its kernel and arch"
like "$(cat out)" "3 added, 0 updated, 0 unchanged, 0 left alone, 1 skipped, 0 failed" "import: the summary"
isnt "$(entry web01)" "" "web01 is in known_hosts"
like "$(entry web01)" "execute: ssh:root@127.0.0.1:$PA:auth" "web01: its execute"
like "$(entry web01)" "kernel: $KREL" "web01: the kernel it reported"
like "$(entry web01)" "groups: \[prod, web\]" "web01: its groups"
like "$(entry db1)" "groups: \[db, prod\]" "db1: its groups"
is "$(entry local1)" "" "local1 is not in known_hosts"

# -T @GROUP resolves what was imported: a run on each, through the runner.
$STAPCACHE -T @web -e "$SCRIPT" >out 2>err; st=$?
is "$st" 0 "-T @web: ran"
is "$(ran_on out)" "web01 web02 " "-T @web: on web01 and web02"
$STAPCACHE -T @prod -e "$SCRIPT" >out 2>err
is "$(ran_on out)" "db1 web01 web02 " "-T @prod: the children's hosts too"

# Again: everything is left alone, the file is not rewritten.
cp "$KH" kh.before
$STAPCACHE host import inv.ini >out 2>err; st=$?
is "$st" 0 "import again: exit 0"
like "$(cat out)" "web01: already in known_hosts \($KH:[0-9]+\), left alone" "import again: left alone"
cmp -s "$KH" kh.before; ok $? "import again: known_hosts unchanged"

# --update: the inventory's execute and groups, without connecting.
sed -i 's/^\[db\]$/[db]\nweb01/' inv.ini
$STAPCACHE host import inv.ini --update --dry-run >out 2>err; st=$?
is "$st" 0 "--update --dry-run: exit 0"
like "$(cat out)" "web01: would update to ssh:root@127.0.0.1:$PA:auth groups=db,prod,web" \
	"--update --dry-run: says the change"
cmp -s "$KH" kh.before; ok $? "--update --dry-run: known_hosts unchanged"
$STAPCACHE host import inv.ini --update >out 2>err; st=$?
is "$st" 0 "--update: exit 0"
like "$(cat out)" "web02: unchanged" "--update: a host with nothing new is unchanged"
like "$(entry web01)" "groups: \[db, prod, web\]" "--update: web01's groups from the inventory"
like "$(entry web01)" "kernel: $KREL" "--update: its kernel kept"

# ---------------------------------------------------------------- YAML
cat > inv.yml <<EOF
# the YAML form: nested children, a host met for the first time
all:
  vars:
    ansible_user: root
  children:
    lab:
      hosts:
        yaml1:
          ansible_host: 127.0.0.1
          ansible_port: $PA
        newkey:
          ansible_host: 127.0.0.1
          ansible_port: $PB
          stapcache_runner: direct
      children:
        lab_a:
          hosts:
            yaml1:
EOF
cp "$KH" kh.before
# Connecting to newkey's sshd would be refused (its key is unknown): a dry
# run that says nothing on stderr did not connect.
$STAPCACHE host import inv.yml --dry-run >out 2>err; st=$?
is "$st" 0 "--dry-run inv.yml: exit 0"
is "$(cat err)" "" "--dry-run: no host key refused: nothing connected"
like "$(cat out)" "newkey: would add ssh:root@127.0.0.1:$PB:direct groups=lab" "--dry-run: newkey"
cmp -s "$KH" kh.before; ok $? "--dry-run: known_hosts unchanged"
$STAPCACHE host import inv.yml >out 2>err; st=$?
is "$st" 1 "import inv.yml with a host whose key is unknown: exit 1"
like "$(cat out)" "^# inv.yml: YAML, 2 hosts" "YAML: read as YAML"
like "$(cat out)" "yaml1: added ssh:root@127.0.0.1:$PA:auth kernel=$KREL .*groups=lab,lab_a" \
	"YAML: yaml1 added, in lab and lab_a"
has err "newkey: refused: 127.0.0.1:$PB is not in" "the unknown key: refused"
has err "host import inv.yml --accept newkey=$(fp b)" "  with the command that accepts it"
has err "newkey (inv.yml:11) not added" "  naming the host and its line"
like "$(entry yaml1)" "groups: \[lab, lab_a\]" "yaml1 saved"
is "$(entry newkey)" "" "newkey not saved"
$STAPCACHE host import inv.yml --accept "newkey=$(fp b)" >out 2>err; st=$?
is "$st" 0 "import inv.yml --accept newkey=FP: exit 0"
like "$(cat out)" "yaml1: already in" "  yaml1 left alone"
like "$(cat out)" "newkey: added ssh:root@127.0.0.1:$PB:direct" "  newkey added, its runner direct"
grep -q "^\[127.0.0.1\]:$PB " "$HOME/.ssh/known_hosts"; ok $? "  its key is in ~/.ssh/known_hosts"
# One new host: the fingerprint alone, as host add takes it.
printf 'lone ansible_host=127.0.0.1 ansible_port=%s ansible_user=root\n' "$PC" > one.ini
$STAPCACHE host import one.ini --accept "$(fp c)" >out 2>err; st=$?
is "$st" 0 "one new host: --accept SHA256:FP alone"
like "$(cat out)" "lone: added ssh:root@127.0.0.1:$PC:auth kernel=$KREL" "  it is added"

# ---------------------------------------------------------------- JSON
# ansible-inventory --list's shape (ansible-core: indent 4, sorted keys; the
# group vars merged into _meta.hostvars), read from stdin.
cat > inv.json <<EOF
{
    "_meta": {
        "hostvars": {
            "json1": {
                "ansible_host": "127.0.0.1",
                "ansible_port": $PA,
                "ansible_user": "root",
                "ntp": ["a", "b"]
            },
            "json2": {
                "ansible_host": "127.0.0.1",
                "ansible_port": $PA,
                "ansible_user": "root"
            }
        }
    },
    "all": {
        "children": [
            "ungrouped",
            "staging"
        ]
    },
    "canary": {
        "hosts": [
            "json2"
        ]
    },
    "staging": {
        "children": [
            "canary"
        ],
        "hosts": [
            "json1"
        ]
    },
    "ungrouped": {}
}
EOF
$STAPCACHE host import - < inv.json >out 2>err; st=$?
is "$st" 0 "import - (JSON on stdin): exit 0"
like "$(cat out)" "^# stdin: JSON \(ansible-inventory --list\), 2 hosts" "JSON: read as JSON"
like "$(entry json1)" "groups: \[staging\]" "json1 in staging"
like "$(entry json2)" "groups: \[canary, staging\]" "json2 in canary and staging (its parent)"
$STAPCACHE -T @staging -e "$SCRIPT" >out 2>err
is "$(ran_on out)" "json1 json2 " "-T @staging: on json1 and json2"

# ---------------------------------------------------------------- bad input
cp "$KH" kh.before
printf 'all:\n  children:\n    web:\n      hosts:\n        w1:\n          ansible_port: 99999\n' > bad.yml
$STAPCACHE host import bad.yml >out 2>err; st=$?
is "$st" 1 "a bad inventory: exit 1"
like "$(cat err)" "^stapcache: host import: bad.yml:6: host w1: ansible_port '99999'" \
	"a bad inventory: one error naming FILE:LINE"
is "$(wc -l < err | tr -d ' ')" 1 "  one line"
cmp -s "$KH" kh.before; ok $? "  known_hosts as it was"
$STAPCACHE host import nosuch.ini >out 2>err; st=$?
is "$st" 1 "a missing file: exit 1"
like "$(cat err)" "cannot read nosuch.ini" "  saying so"
$STAPCACHE host import >out 2>err; st=$?
is "$st" 2 "no FILE: a usage error (2)"
$STAPCACHE host import inv.ini --accept web01=MD5:00 >out 2>err; st=$?
is "$st" 2 "--accept without SHA256: a usage error (2)"
cmp -s "$KH" kh.before; ok $? "known_hosts still as it was"
done_testing
