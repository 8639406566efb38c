/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ansible inventories (remote/inventory.c): the three forms read to the same
 * hosts, groups flattened, variables applied in Ansible's order, ranges
 * expanded, and every malformed input refused with FILE:LINE.
 */
#include "build-config.h"

#include <errno.h>

#include "common/fsutil.h"
#include "remote/inventory.h"
#include "tests/lib/tap.h"

static struct sc_inventory *parse(const char *text, struct sc_error *err)
{
	struct sc_inventory *inv = NULL;

	memset(err, 0, sizeof(*err));
	if (sc_inventory_parse("inv", text, strlen(text), SC_RUNNER_AUTH, &inv, err) < 0)
		printf("#   refused: %s\n", err->msg);
	return inv;
}

static const struct sc_inventory_host *host(const struct sc_inventory *inv,
					    const char *name)
{
	for (size_t i = 0; inv && i < inv->n; i++)
		if (!strcmp(inv->v[i].name, name))
			return &inv->v[i];
	return NULL;
}

/* "a,b,c": a host's groups joined, for comparing. */
static char *groups(const struct sc_inventory_host *h)
{
	char *s = sc_strdupf("%s", ""), *n;

	for (size_t i = 0; h && i < h->ngroups; i++) {
		n = sc_strdupf("%s%s%s", s, i ? "," : "", h->groups[i]);
		free(s);
		s = n;
	}
	return s;
}

/* Host name of inv: its execute string and groups are these. */
static void expect(const struct sc_inventory *inv, const char *name, const char *execute,
		   const char *want_groups, const char *what)
{
	const struct sc_inventory_host *h = host(inv, name);
	char *g = groups(h);

	if (!tap_ok(h && h->execute && !strcmp(h->execute, execute) &&
			    !strcmp(g, want_groups),
		    "%s: %s is %s in [%s]", what, name, execute, want_groups))
		printf("#   got %s in [%s]\n", h && h->execute ? h->execute : "(none)",
		       g);
	free(g);
}

/* A malformed text must be refused, naming the line and saying want. */
static void bad(const char *text, const char *line, const char *want, const char *what)
{
	struct sc_inventory *inv = NULL;
	struct sc_error err = {{0}};
	int r = sc_inventory_parse("inv", text, strlen(text), SC_RUNNER_AUTH, &inv, &err);
	char *where = sc_strdupf("inv:%s: ", line);

	if (!tap_ok(r == -EINVAL && !inv && !strncmp(err.msg, where, strlen(where)) &&
			    strstr(err.msg, want),
		    "refused: %s", what))
		printf("#   r=%d msg='%s' want '%s...%s'\n", r, err.msg, where, want);
	free(where);
}

/* What ansible-inventory --list prints (ansible-core 2.14, indent 4, sorted keys). */
static void test_json(void)
{
	const char *text = "{\n"
			   "    \"_meta\": {\n"
			   "        \"hostvars\": {\n"
			   "            \"db1\": {\n"
			   "                \"ansible_host\": \"10.0.0.5\",\n"
			   "                \"ansible_port\": 2201,\n"
			   "                \"ansible_user\": \"ops\",\n"
			   "                \"ntp_servers\": [\"a\", \"b\"]\n"
			   "            },\n"
			   "            \"lab\": {\n"
			   "                \"ansible_host\": \"fe80::1\"\n"
			   "            },\n"
			   "            \"web1\": {\n"
			   "                \"ansible_user\": \"ops\"\n"
			   "            },\n"
			   "            \"web2\": {}\n"
			   "        }\n"
			   "    },\n"
			   "    \"all\": {\n"
			   "        \"children\": [\n"
			   "            \"ungrouped\",\n"
			   "            \"prod\"\n"
			   "        ]\n"
			   "    },\n"
			   "    \"db\": {\n"
			   "        \"hosts\": [\n"
			   "            \"db1\"\n"
			   "        ]\n"
			   "    },\n"
			   "    \"prod\": {\n"
			   "        \"children\": [\n"
			   "            \"db\",\n"
			   "            \"web\"\n"
			   "        ]\n"
			   "    },\n"
			   "    \"ungrouped\": {\n"
			   "        \"hosts\": [\n"
			   "            \"lab\"\n"
			   "        ]\n"
			   "    },\n"
			   "    \"web\": {\n"
			   "        \"hosts\": [\n"
			   "            \"web1\",\n"
			   "            \"web2\"\n"
			   "        ]\n"
			   "    }\n"
			   "}\n";
	struct sc_error err;
	struct sc_inventory *inv = parse(text, &err);

	tap_ok(inv && inv->format == SC_INVENTORY_JSON, "json: read as JSON");
	tap_is_int(inv ? inv->n : 0, 4, "json: four hosts");
	expect(inv, "db1", "ssh:ops@10.0.0.5:2201:auth", "db,prod", "json");
	expect(inv, "web1", "ssh:ops@web1:auth", "prod,web", "json");
	expect(inv, "web2", "ssh:web2:auth", "prod,web", "json");
	expect(inv, "lab", "ssh:[fe80::1]:auth", "", "json (ungrouped, v6)");
	tap_is_str(inv && inv->n ? inv->v[0].origin : "", "inv:4",
		   "json: origin is FILE:LINE");
	sc_inventory_free(inv);

	/* The script form: a group may be a plain list of hosts. */
	inv = parse("{\"web\": [\"w1\", \"w2\"], \"db\": {\"hosts\": [\"d1\"], "
		    "\"vars\": {\"ansible_user\": \"dba\"}}}",
		    &err);
	expect(inv, "w2", "ssh:w2:auth", "web", "json, group as a list");
	expect(inv, "d1", "ssh:dba@d1:auth", "db", "json, group vars");
	sc_inventory_free(inv);
}

static void test_yaml(void)
{
	const char *text =
		"# the fleet\n"
		"all:\n"
		"  vars:\n"
		"    ansible_user: ops\n"
		"  hosts:\n"
		"    lone.example.com:\n"
		"  children:\n"
		"    prod:\n"
		"      vars:\n"
		"        ansible_port: 2222\n"
		"      children:\n"
		"        web:\n"
		"          vars:\n"
		"            ansible_port: 2200\n"
		"          hosts:\n"
		"            web[01:03]:\n"
		"            web04:\n"
		"              ansible_port: 22\n"
		"              ansible_user: root\n"
		"              stapcache_build_root: /var/lib/stapcache/buildroot/trixie\n"
		"        db:\n"
		"          hosts:\n"
		"            db-[a:b].example.com:\n"
		"              ansible_host: \"192.0.2.7\"\n"
		"              stapcache_runner: sudo\n"
		"    local:\n"
		"      hosts:\n"
		"        localhost:\n"
		"          ansible_connection: local\n";
	struct sc_error err;
	struct sc_inventory *inv = parse(text, &err);
	const struct sc_inventory_host *h;

	tap_ok(inv && inv->format == SC_INVENTORY_YAML, "yaml: read as YAML");
	tap_is_int(inv ? inv->n : 0, 8, "yaml: eight hosts (ranges expanded)");
	expect(inv, "lone.example.com", "ssh:ops@lone.example.com:auth", "", "yaml");
	expect(inv, "web01", "ssh:ops@web01:2200:auth", "prod,web",
	       "yaml: a child's vars over its parent's");
	expect(inv, "web03", "ssh:ops@web03:2200:auth", "prod,web", "yaml: [01:03]");
	expect(inv, "web04", "ssh:root@web04:22:auth", "prod,web",
	       "yaml: a host's own vars");
	expect(inv, "db-b.example.com", "ssh:ops@192.0.2.7:2222:sudo", "db,prod",
	       "yaml: [a:b], stapcache_runner");
	h = host(inv, "web04");
	tap_is_str(h && h->build_root ? h->build_root : "",
		   "/var/lib/stapcache/buildroot/trixie", "yaml: stapcache_build_root");
	h = host(inv, "localhost");
	tap_ok(h && h->skip &&
		       strstr(h->skip, "ansible_connection=local (inv:29) is not SSH"),
	       "yaml: a local connection is skipped, saying why");
	h = host(inv, "web02");
	tap_is_str(h ? h->origin : "", "inv:16", "yaml: an expanded host's origin");
	sc_inventory_free(inv);

	inv = parse("all:\n  hosts:\n    n[:2]:\n", &err);
	expect(inv, "n2", "ssh:n2:auth", "", "yaml: [:2] begins at 0");
	tap_ok(host(inv, "n0") != NULL, "yaml: n0 too");
	sc_inventory_free(inv);

	inv = parse("---\nweb:\n  hosts:\n    w1:2022:\n    w2:\n", &err);
	expect(inv, "w1", "ssh:w1:2022:auth", "web",
	       "yaml: HOST:PORT, a top-level group");
	sc_inventory_free(inv);

	/* Priority: a higher ansible_group_priority wins at the same depth. */
	inv = parse("all:\n  children:\n    a:\n      vars: {ansible_user: a, "
		    "ansible_group_priority: 5}\n      hosts: {h: }\n    b:\n      vars: "
		    "{ansible_user: b}\n      hosts: {h: }\n",
		    &err);
	expect(inv, "h", "ssh:a@h:auth", "a,b", "yaml: ansible_group_priority");
	sc_inventory_free(inv);
}

static void test_ini(void)
{
	const char *text = "; the fleet\n"
			   "lab.example.com   ansible_port=2022\n"
			   "\n"
			   "[web]\n"
			   "web[1:5:2] ansible_user=ops # odd ones\n"
			   "web9:2200 ansible_host=\"10.0.0.9\" other='a b'\n"
			   "\n"
			   "[db]\n"
			   "db1 ansible_ssh_host=10.0.0.5 ansible_ssh_user=dba\n"
			   "localhost ansible_connection=local\n"
			   "\n"
			   "[prod:children]\n"
			   "web\n"
			   "db   # both\n"
			   "\n"
			   "[prod:vars]\n"
			   "ansible_user = deploy\n"
			   "stapcache_build_root = \"/srv/roots/bookworm\"\n"
			   "\n"
			   "[all:vars]\n"
			   "ansible_port=22\n";
	struct sc_error err;
	struct sc_inventory *inv = parse(text, &err);
	const struct sc_inventory_host *h;

	tap_ok(inv && inv->format == SC_INVENTORY_INI, "ini: read as INI");
	tap_is_int(inv ? inv->n : 0, 7, "ini: seven hosts");
	expect(inv, "lab.example.com", "ssh:lab.example.com:2022:auth", "",
	       "ini: ungrouped, its own port over all's");
	expect(inv, "web3", "ssh:ops@web3:22:auth", "prod,web",
	       "ini: [1:5:2], host over group");
	tap_ok(!host(inv, "web2"), "ini: the step skips web2");
	expect(inv, "web9", "ssh:deploy@10.0.0.9:2200:auth", "prod,web",
	       "ini: HOST:PORT, quoted value, group var");
	expect(inv, "db1", "ssh:dba@10.0.0.5:22:auth", "db,prod",
	       "ini: the ansible_ssh_ spellings");
	h = host(inv, "db1");
	tap_is_str(h && h->build_root ? h->build_root : "", "/srv/roots/bookworm",
		   "ini: [prod:vars] reaches a child's host");
	h = host(inv, "localhost");
	tap_ok(h && h->skip, "ini: ansible_connection=local skipped");
	sc_inventory_free(inv);

	inv = parse("web1\nweb2 ansible_host=w2.example.com\n", &err);
	tap_ok(inv && inv->format == SC_INVENTORY_INI, "ini: hosts without a section");
	expect(inv, "web2", "ssh:w2.example.com:auth", "", "ini: no section");
	sc_inventory_free(inv);

	/* The runner when none is set: the caller's. */
	inv = NULL;
	memset(&err, 0, sizeof(err));
	tap_is_int(sc_inventory_parse("inv", "[g]\nh\n", 6, SC_RUNNER_DIRECT, &inv, &err),
		   0, "ini: parsed with runner direct");
	expect(inv, "h", "ssh:h:direct", "g", "ini: the default runner");
	sc_inventory_free(inv);
}

static void test_bad(void)
{
	bad("[web]\nw1 ansible_port=70000\n", "2", "ansible_port '70000'",
	    "a port out of range");
	bad("all:\n  hosts:\n    w1:\n      ansible_port: http\n", "4", "ansible_port",
	    "a port that is not a number");
	bad("[web]\nw1 ansible_host={{ lookup('env', 'X') }}\n", "2", "Jinja template",
	    "a template");
	bad("[a:children]\nb\n[b:children]\na\n[a]\nh\n", "1", "among its own children",
	    "a group that contains itself");
	bad("all:\n  children:\n    web:\n      host:\n        w1:\n", "4",
	    "unknown key 'host'", "a misspelt key in a YAML group");
	bad("[web server]\nw1\n", "1", "cannot be a stapcache group",
	    "a group name with a blank");
	bad("[web]\nfe80::1\n", "2", "cannot be a stapcache target name",
	    "an address as the host's name");
	bad("[web]\nw[0:99999]\n", "2", "more than 4096 hosts", "a range too large");
	bad("[web]\nw[3:1]\n", "2", "begin is after its end", "a range backwards");
	bad("[web]\nw[]\n", "2", "expected [BEGIN:END]", "an empty range");
	bad("[web]\nw[1:]\n", "2", "expected [BEGIN:END]", "a range without its end");
	bad("[web]\nw[1:2:3:4]\n", "2", "expected [BEGIN:END]", "a range of four parts");
	bad("[web]\nw[01:3]\n", "2", "same length", "a padded range of two lengths");
	bad("[web]\nw1 ansible_user='ops\n", "2", "quote without its end",
	    "an open quote");
	bad("[web:hosts]\nw1\n", "1", "expected [GROUP]", "an unknown section kind");
	bad("[web]\nw1 ansible_port\n", "2", "expected key=value",
	    "a variable without '='");
	bad("{\n  \"web\": {\n    \"hosts\": [\"w1\" \"w2\"]\n  }\n}\n", "3",
	    "not valid JSON", "a JSON syntax error");
	bad("{\"web\": {\"hosts\": \"w1\"}}", "1", "must be a list",
	    "JSON hosts not a list");
	bad("all:\n  hosts:\n    w1:\n      ansible_host: [a, b]\n", "4", "single value",
	    "a list for ansible_host");
	bad("[web]\nw1 stapcache_runner=root\n", "2", "auth, sudo or direct",
	    "a bad runner");
	bad("[web]\nw1 stapcache_build_root=roots/x\n", "2", "absolute",
	    "a relative build root");
	bad("[web]\nw1 ansible_user=a;b\n", "2", "cannot be an SSH user", "a bad user");
	bad("[web]\nw1 ansible_host=-oProxyCommand=x\n", "2", "not a host name",
	    "an address that is an ssh option");
	bad("all:\n  hosts:\n    w1:\n---\nall:\n", "4", "second document",
	    "two YAML documents");
	{
		struct sc_inventory *inv = NULL;
		struct sc_error err = {{0}};

		tap_is_int(sc_inventory_parse("inv", "# nothing\n", 10, SC_RUNNER_AUTH,
					      &inv, &err),
			   -EINVAL, "refused: no hosts");
		tap_ok(strstr(err.msg, "no hosts in it") != NULL, "  saying so");
		tap_is_int(sc_inventory_parse("inv", "a\0b", 3, SC_RUNNER_AUTH, &inv,
					      &err),
			   -EINVAL, "refused: a NUL byte");
	}
	/* Aliases that refer to themselves end, refused. */
	bad("all: &a\n  children:\n    g: *a\n", "1", "", "a group aliased into itself");
}

int main(void)
{
	test_json();
	test_yaml();
	test_ini();
	test_bad();
	return tap_done();
}
