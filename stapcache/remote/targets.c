/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * known_hosts: named targets. Both forms end in the same struct sc_target,
 * checked by one function (check_entry), so the two spellings cannot drift.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/fsutil.h"
#include "common/modinfo.h"
#include "remote/targets.h"
#include "sign/signer.h"

#define KNOWN_HOSTS_MAX (16u << 20)
#define NAME_MAX_LEN 64

static const char *const runner_names[] = {"auth", "sudo", "direct"};

const char *sc_runner_name(enum sc_runner r)
{
	return runner_names[r];
}

int sc_runner_parse(const char *s, enum sc_runner *out)
{
	for (size_t i = 0; i < sizeof(runner_names) / sizeof(runner_names[0]); i++)
		if (!strcmp(s, runner_names[i])) {
			*out = (enum sc_runner)i;
			return 0;
		}
	return -EINVAL;
}

int sc_target_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || !(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
	return 1;
}

int sc_target_arch_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

int sc_target_cpu_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

void sc_execute_clear(struct sc_execute *ex)
{
	free(ex->user);
	free(ex->host);
	memset(ex, 0, sizeof(*ex));
}

/* Characters a user or host may have: nothing a shell or ssh would reinterpret. */
static bool word_ok(const char *s, size_t n, const char *extra)
{
	if (n == 0 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			return false;
	return true;
}

int sc_execute_parse(const char *s, struct sc_execute *out, struct sc_error *err)
{
	const char *p, *hp, *he, *runner, *at, *colon;
	struct sc_execute ex = {0};
	size_t i;

	if (strncmp(s, "ssh:", 4) != 0) {
		sc_error_set(err, "execute '%s': expected ssh:[USER@]HOST[:PORT]:RUNNER",
			     s);
		return -EINVAL;
	}
	p = s + 4;
	runner = strrchr(p, ':');
	if (!runner || runner == p) {
		sc_error_set(err,
			     "execute '%s': expected ssh:[USER@]HOST[:PORT]:RUNNER "
			     "(RUNNER is auth, sudo or direct)",
			     s);
		return -EINVAL;
	}
	for (i = 0; i < 3; i++)
		if (!strcmp(runner + 1, runner_names[i]))
			break;
	if (i == 3) {
		sc_error_set(err,
			     "execute '%s': unknown runner '%s' (auth, sudo or direct)",
			     s, runner + 1);
		return -EINVAL;
	}
	ex.runner = (enum sc_runner)i;
	at = memchr(p, '@', (size_t)(runner - p));
	if (at) {
		if (!word_ok(p, (size_t)(at - p), "._-")) {
			sc_error_set(err, "execute '%s': bad user name '%.*s'", s,
				     (int)(at - p), p);
			return -EINVAL;
		}
		ex.user = strndup(p, (size_t)(at - p));
		p = at + 1;
	}
	if (*p == '[') {
		hp = p + 1;
		he = memchr(hp, ']', (size_t)(runner - hp));
		if (!he || !word_ok(hp, (size_t)(he - hp), ":.%")) {
			sc_error_set(err, "execute '%s': bad [address]", s);
			goto fail;
		}
		colon = he + 1 < runner ? he + 1 : NULL;
		if (colon && *colon != ':') {
			sc_error_set(err, "execute '%s': expected ':' after ']'", s);
			goto fail;
		}
	} else {
		hp = p;
		colon = memchr(p, ':', (size_t)(runner - p));
		he = colon ? colon : runner;
		if (!word_ok(hp, (size_t)(he - hp), "._-")) {
			sc_error_set(err, "execute '%s': bad host '%.*s'", s,
				     (int)(he - hp), hp);
			goto fail;
		}
	}
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (end != runner || colon + 1 == runner ||
		    !isdigit((unsigned char)colon[1]) || port < 1 || port > 65535) {
			sc_error_set(err, "execute '%s': bad port '%.*s' (1-65535)", s,
				     (int)(runner - colon - 1), colon + 1);
			goto fail;
		}
		ex.port = (int)port;
	}
	ex.host = strndup(hp, (size_t)(he - hp));
	if (!ex.host || (at && !ex.user)) {
		sc_execute_clear(&ex);
		return -ENOMEM;
	}
	*out = ex;
	return 0;
fail:
	sc_execute_clear(&ex);
	return -EINVAL;
}

void sc_target_clear(struct sc_target *t)
{
	free(t->name);
	free(t->execute);
	sc_execute_clear(&t->ex);
	free(t->kernel);
	free(t->arch);
	free(t->cpu);
	free(t->build_tree);
	free(t->runtime);
	free(t->sysroot);
	free(t->build_root);
	for (size_t i = 0; i < t->ngroups; i++)
		free(t->groups[i]);
	free(t->groups);
	free(t->origin);
	free(t->lockdown);
	free(t->sig_enforce);
	free(t->secure_boot);
	for (size_t i = 0; i < t->nsigners; i++)
		free(t->signers[i]);
	free(t->signers);
	memset(t, 0, sizeof(*t));
}

void sc_targets_clear(struct sc_targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		sc_target_clear(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

char *sc_targets_default_path(const char *base, const char *home)
{
	if (base && base[0] == '/')
		return sc_strdupf("%s/stapcache/known_hosts", base);
	return sc_strdupf("%s/.config/stapcache/known_hosts", home && *home ? home : "");
}

/* One field of an entry being read: where it was set, for messages. */
static int set_field(struct sc_target *t, const char *key, const char *value,
		     const char *where, struct sc_error *err)
{
	static const char *const known =
		"name, execute, kernel, arch, cpu, build-tree, runtime, sysroot, "
		"build-root, groups, lockdown, sig-enforce, secure-boot, module-signers";
	char **slot;

	if (!strcmp(key, "name"))
		slot = &t->name;
	else if (!strcmp(key, "execute"))
		slot = &t->execute;
	else if (!strcmp(key, "kernel"))
		slot = &t->kernel;
	else if (!strcmp(key, "arch"))
		slot = &t->arch;
	else if (!strcmp(key, "cpu"))
		slot = &t->cpu;
	else if (!strcmp(key, "build-tree"))
		slot = &t->build_tree;
	else if (!strcmp(key, "runtime"))
		slot = &t->runtime;
	else if (!strcmp(key, "sysroot"))
		slot = &t->sysroot;
	else if (!strcmp(key, "build-root"))
		slot = &t->build_root;
	else if (!strcmp(key, "lockdown"))
		slot = &t->lockdown;
	else if (!strcmp(key, "sig-enforce"))
		slot = &t->sig_enforce;
	else if (!strcmp(key, "secure-boot"))
		slot = &t->secure_boot;
	else {
		sc_error_set(err, "%s: unknown key '%s' (known: %s)", where, key, known);
		return -EINVAL;
	}
	if (*slot) {
		sc_error_set(err, "%s: '%s' is set twice", where, key);
		return -EINVAL;
	}
	if (*value == '\0') {
		sc_error_set(err, "%s: '%s' must not be empty", where, key);
		return -EINVAL;
	}
	/* Printable ASCII only: a value is written back unquoted (host add,
	 * refresh), and must read back the same (found by tests/fuzz). */
	for (const char *c = value; *c; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) {
			sc_error_set(err,
				     "%s: '%s' holds a control character or a non-ASCII "
				     "byte (0x%02x)",
				     where, key, (unsigned char)*c);
			return -EINVAL;
		}
	}
	*slot = strdup(value);
	return *slot ? 0 : -ENOMEM;
}

static int add_group(struct sc_target *t, const char *g, const char *where,
		     struct sc_error *err)
{
	char **nv;

	if (!sc_target_name_ok(g)) {
		sc_error_set(err,
			     "%s: bad group name '%s' (letters, digits, '_', '.', '-')",
			     where, g);
		return -EINVAL;
	}
	nv = realloc(t->groups, (t->ngroups + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->groups = nv;
	t->groups[t->ngroups] = strdup(g);
	if (!t->groups[t->ngroups])
		return -ENOMEM;
	t->ngroups++;
	return 0;
}

/* A module-signers item: a signer's name (sign/signer.h). */
static int add_signer(struct sc_target *t, const char *fp, const char *where,
		      struct sc_error *err)
{
	char **nv;

	if (!sc_signer_fp_ok(fp)) {
		sc_error_set(err,
			     "%s: module-signers: '%s' is not sha256: and 64 lower-case "
			     "hex digits",
			     where, fp);
		return -EINVAL;
	}
	nv = realloc(t->signers, (t->nsigners + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->signers = nv;
	t->signers[t->nsigners] = strdup(fp);
	if (!t->signers[t->nsigners])
		return -ENOMEM;
	t->nsigners++;
	return 0;
}

/* A `module-signers` field starts: once, and set (not NULL) even when empty. */
static int begin_signers(struct sc_target *t, const char *where, struct sc_error *err)
{
	if (t->signers) {
		sc_error_set(err, "%s: 'module-signers' is set twice", where);
		return -EINVAL;
	}
	t->signers = calloc(1, sizeof(*t->signers));
	return t->signers ? 0 : -ENOMEM;
}

/* value is one of words (NULL-terminated), or NULL. */
static bool one_of(const char *value, const char *const *words)
{
	for (; value && *words; words++)
		if (!strcmp(value, *words))
			return true;
	return !value;
}

/* The signature facts hold the values host add writes. */
static int check_signing(const struct sc_target *t, struct sc_error *err)
{
	static const char *const lockdown[] = {"none", "integrity", "confidentiality",
					       NULL};
	static const char *const yesno[] = {"yes", "no", NULL};
	static const char *const onoff[] = {"on", "off", NULL};

	if (!one_of(t->lockdown, lockdown)) {
		sc_error_set(err, "%s: lockdown '%s': none, integrity or confidentiality",
			     t->origin, t->lockdown);
		return -EINVAL;
	}
	if (!one_of(t->sig_enforce, yesno)) {
		sc_error_set(err, "%s: sig-enforce '%s': yes or no", t->origin,
			     t->sig_enforce);
		return -EINVAL;
	}
	if (!one_of(t->secure_boot, onoff)) {
		sc_error_set(err, "%s: secure-boot '%s': on or off", t->origin,
			     t->secure_boot);
		return -EINVAL;
	}
	return 0;
}

char *sc_target_sysroot_tree(const struct sc_target *t)
{
	size_t n = strlen(t->sysroot);

	while (n > 1 && t->sysroot[n - 1] == '/')
		n--;
	return sc_strdupf("%.*s/lib/modules/%s/build", (int)(n > 1 ? n : 0), t->sysroot,
			  t->kernel);
}

bool sc_target_needs_signature(const struct sc_target *t)
{
	if (t->sig_enforce && !strcmp(t->sig_enforce, "yes"))
		return true;
	if (t->lockdown)
		return strcmp(t->lockdown, "none") != 0;
	return t->secure_boot && !strcmp(t->secure_boot, "on");
}

char *sc_target_enforcement(const struct sc_target *t)
{
	bool lock = t->lockdown && strcmp(t->lockdown, "none") != 0;
	bool sig = t->sig_enforce && !strcmp(t->sig_enforce, "yes");
	bool sb = t->secure_boot && !strcmp(t->secure_boot, "on");

	if (!sc_target_needs_signature(t))
		return sc_strdupf("%s", "");
	return sc_strdupf("%s%s%s%s%s", lock ? "lockdown " : "", lock ? t->lockdown : "",
			  sig ? (lock ? ", sig_enforce" : "sig_enforce") : "",
			  sb && (lock || sig) ? ", " : "", sb ? "Secure Boot on" : "");
}

int sc_target_trusts(const struct sc_target *t, const char *fp)
{
	if (!t->signers)
		return -1;
	for (size_t i = 0; i < t->nsigners; i++)
		if (!strcmp(t->signers[i], fp))
			return 1;
	return 0;
}

/* s for a message: at most n - 1 bytes, anything not printable ASCII as '?'. */
static const char *shown(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = s[i] < 0x20 || s[i] > 0x7e ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* The rules every entry obeys, whichever form it was written in. */
static int check_entry(struct sc_targets *all, struct sc_target *t, struct sc_error *err)
{
	static const char *const required[] = {"name", "execute", "kernel", "arch"};
	const char *const have[] = {t->name, t->execute, t->kernel, t->arch};
	const struct sc_target *dup;
	char v[81];
	int r;

	for (size_t i = 0; i < sizeof(have) / sizeof(have[0]); i++)
		if (!have[i]) {
			sc_error_set(err,
				     "%s: entry%s%s has no '%s' (required: name, execute, "
				     "kernel, arch)",
				     t->origin, t->name ? " " : "",
				     t->name ? t->name : "", required[i]);
			return -EINVAL;
		}
	if (!sc_target_name_ok(t->name)) {
		sc_error_set(err,
			     "%s: bad target name '%s' (1-64 letters, digits, '_', '.', "
			     "'-')",
			     t->origin, t->name);
		return -EINVAL;
	}
	if (!sc_release_ok(t->kernel)) {
		sc_error_set(err,
			     "%s: kernel '%s' must be a release as uname -r prints it "
			     "(1-%d of A-Z a-z 0-9 . _ + ~ -); a tree goes in build-tree",
			     t->origin, shown(t->kernel, v, sizeof(v)), SC_RELEASE_MAX);
		return -EINVAL;
	}
	if (!sc_target_arch_ok(t->arch)) {
		sc_error_set(err,
			     "%s: arch '%s' must be an architecture as uname -m prints "
			     "it (1-32 of A-Z a-z 0-9 _)",
			     t->origin, shown(t->arch, v, sizeof(v)));
		return -EINVAL;
	}
	if (t->sysroot && t->sysroot[0] != '/') {
		sc_error_set(err,
			     "%s: sysroot '%s' must be an absolute path (the directory "
			     "holding the target's lib/modules/KERNEL/build)",
			     t->origin, shown(t->sysroot, v, sizeof(v)));
		return -EINVAL;
	}
	if (t->cpu && !sc_target_cpu_ok(t->cpu)) {
		sc_error_set(err,
			     "%s: cpu '%s' must be a model name: 1-128 printable ASCII "
			     "characters",
			     t->origin, shown(t->cpu, v, sizeof(v)));
		return -EINVAL;
	}
	r = check_signing(t, err);
	if (r < 0)
		return r;
	if (t->build_root && (t->build_root[0] != '/' || t->build_tree || t->sysroot)) {
		sc_error_set(err,
			     "%s: build-root '%s' must be an absolute directory, and a "
			     "target with one takes its kernel tree from it (no "
			     "build-tree, no sysroot)",
			     t->origin, shown(t->build_root, v, sizeof(v)));
		return -EINVAL;
	}
	r = sc_execute_parse(t->execute, &t->ex, err);
	if (r < 0) {
		sc_error_prefix(err, "%s", t->origin);
		return r;
	}
	dup = sc_targets_find(all, t->name);
	if (dup) {
		sc_error_set(err, "%s: target '%s' is already defined at %s", t->origin,
			     t->name, dup->origin);
		return -EINVAL;
	}
	return 0;
}

static int push(struct sc_targets *all, struct sc_target *t)
{
	struct sc_target *nv = realloc(all->v, (all->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	all->v = nv;
	all->v[all->n++] = *t;
	memset(t, 0, sizeof(*t));
	return 0;
}

/* A `groups` field starts: set once, and set (not NULL) even when empty. */
static int begin_groups(struct sc_target *t, const char *where, struct sc_error *err)
{
	if (t->groups) {
		sc_error_set(err, "%s: 'groups' is set twice", where);
		return -EINVAL;
	}
	t->groups = calloc(1, sizeof(*t->groups));
	return t->groups ? 0 : -ENOMEM;
}

/* A YAML list of words (groups:, module-signers:), each added by its list's add. */
struct word_list {
	const char *key, *example, *item;
	int (*add)(struct sc_target *t, const char *word, const char *where,
		   struct sc_error *err);
};

static const struct word_list groups_list = {"groups", "[a, b]", "a group", add_group};
static const struct word_list signers_list = {"module-signers", "[sha256:HEX, ...]",
					      "a signer", add_signer};

static int yaml_words(yaml_document_t *doc, yaml_node_t *v, struct sc_target *t,
		      const char *where, const struct word_list *l, struct sc_error *err)
{
	if (v->type != YAML_SEQUENCE_NODE) {
		sc_error_set(err, "%s: '%s' must be a list (%s)", where, l->key,
			     l->example);
		return -EINVAL;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *g = yaml_document_get_node(doc, *it);
		int r;

		if (!g || g->type != YAML_SCALAR_NODE) {
			sc_error_set(err, "%s: %s is a single word", where, l->item);
			return -EINVAL;
		}
		r = l->add(t, (const char *)g->data.scalar.value, where, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The end of an entry (r: how its fields went): checked and added, or dropped. */
static int finish_entry(struct sc_targets *all, struct sc_target *t, int r,
			struct sc_error *err)
{
	if (r == 0)
		r = check_entry(all, t, err);
	if (r == 0)
		r = push(all, t);
	sc_target_clear(t);
	return r;
}

/* ------------------------------------------------------------------ YAML */

static int yaml_entry(struct sc_targets *all, yaml_document_t *doc, yaml_node_t *m,
		      const char *name, struct sc_error *err)
{
	struct sc_target t = {0};
	char where[512];
	int r = -EINVAL;

	t.origin = sc_strdupf("%s:%zu", name, m->start_mark.line + 1);
	if (!t.origin)
		return -ENOMEM;
	if (m->type != YAML_MAPPING_NODE) {
		sc_error_set(err,
			     "%s: expected a target (a mapping with name:, execute:, ...)",
			     t.origin);
		goto out;
	}
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *key;

		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			sc_error_set(err, "%s: keys must be plain words", t.origin);
			goto out;
		}
		key = (const char *)k->data.scalar.value;
		snprintf(where, sizeof(where), "%s:%zu", name, k->start_mark.line + 1);
		if (!strcmp(key, "module-signers") || !strcmp(key, "groups")) {
			bool signers = key[0] == 'm';

			r = signers ? begin_signers(&t, where, err)
				    : begin_groups(&t, where, err);
			if (r == 0)
				r = yaml_words(doc, v, &t, where,
					       signers ? &signers_list : &groups_list,
					       err);
			if (r < 0)
				goto out;
			r = -EINVAL;
			continue;
		}
		if (v->type != YAML_SCALAR_NODE) {
			sc_error_set(err, "%s: '%s' must be a single value", where, key);
			goto out;
		}
		r = set_field(&t, key, (const char *)v->data.scalar.value, where, err);
		if (r < 0)
			goto out;
		r = -EINVAL;
	}
	r = 0;
out:
	return finish_entry(all, &t, r, err);
}

static int parse_yaml(const char *name, const char *buf, size_t len,
		      struct sc_targets *all, struct sc_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			sc_error_set(err, "%s:%zu: %s", name,
				     parser.problem_mark.line + 1,
				     parser.problem ? parser.problem : "invalid YAML");
			r = -EINVAL;
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) { /* end of the stream */
			yaml_document_delete(&doc);
			break;
		}
		if (root->type != YAML_SEQUENCE_NODE) {
			sc_error_set(err,
				     "%s:%zu: expected a list of targets (each starting "
				     "with '- name:')",
				     name, root->start_mark.line + 1);
			r = -EINVAL;
		}
		for (yaml_node_item_t *it = root->data.sequence.items.start;
		     r == 0 && it < root->data.sequence.items.top; it++) {
			yaml_node_t *m = yaml_document_get_node(&doc, *it);

			r = m ? yaml_entry(all, &doc, m, name, err) : -EINVAL;
		}
		yaml_document_delete(&doc);
		if (r < 0)
			break;
	}
	yaml_parser_delete(&parser);
	return r;
}

/* -------------------------------------------------------- one-line form */

static int line_entry(struct sc_targets *all, char *line, const char *name, size_t lineno,
		      struct sc_error *err)
{
	struct sc_target t = {0};
	char *save = NULL, *word;
	int r = -EINVAL;

	t.origin = sc_strdupf("%s:%zu", name, lineno);
	if (!t.origin)
		return -ENOMEM;
	word = strtok_r(line, " \t", &save);
	if (strchr(word, '=')) {
		sc_error_set(err,
			     "%s: a line starts with the target's NAME, then key=value "
			     "words",
			     t.origin);
		goto out;
	}
	t.name = strdup(word);
	if (!t.name) {
		r = -ENOMEM;
		goto out;
	}
	while ((word = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(word, '=');

		if (!eq || eq == word) {
			sc_error_set(err, "%s: '%s': expected key=value", t.origin, word);
			goto out;
		}
		*eq = '\0';
		if (!strcmp(word, "groups")) {
			char *gs = NULL, *g;

			r = begin_groups(&t, t.origin, err);
			if (r < 0)
				goto out;
			for (g = strtok_r(eq + 1, ",", &gs); g;
			     g = strtok_r(NULL, ",", &gs)) {
				r = add_group(&t, g, t.origin, err);
				if (r < 0)
					goto out;
			}
			r = -EINVAL;
			continue;
		}
		if (!strcmp(word, "module-signers")) {
			char *ss = NULL, *f;

			r = begin_signers(&t, t.origin, err);
			if (r < 0)
				goto out;
			for (f = strtok_r(eq + 1, ",", &ss); f;
			     f = strtok_r(NULL, ",", &ss)) {
				r = add_signer(&t, f, t.origin, err);
				if (r < 0)
					goto out;
			}
			r = -EINVAL;
			continue;
		}
		if (!strcmp(word, "name")) {
			sc_error_set(err, "%s: the name is the first word, not name=",
				     t.origin);
			goto out;
		}
		r = set_field(&t, word, eq + 1, t.origin, err);
		if (r < 0)
			goto out;
		r = -EINVAL;
	}
	r = 0;
out:
	return finish_entry(all, &t, r, err);
}

static int parse_lines(const char *name, const char *buf, size_t len,
		       struct sc_targets *all, struct sc_error *err)
{
	size_t lineno = 0, i = 0;
	int r = 0;

	while (i < len && r == 0) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
		char *line = strndup(buf + i, n), *hash, *p;

		if (!line)
			return -ENOMEM;
		lineno++;
		i += n + 1;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (p = line; *p == ' ' || *p == '\t' || *p == '\r'; p++)
			;
		for (size_t e = strlen(p); e > 0 && isspace((unsigned char)p[e - 1]); e--)
			p[e - 1] = '\0';
		if (*p)
			r = line_entry(all, p, name, lineno, err);
		free(line);
	}
	return r;
}

/* A file is YAML when its first significant line starts like YAML does. */
static bool looks_like_yaml(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'))
			i++;
		if (i < len && buf[i] != '\n' && buf[i] != '#')
			return buf[i] == '-' || buf[i] == '%' || buf[i] == '[';
		while (i < len && buf[i] != '\n')
			i++;
		i++;
	}
	return false;
}

int sc_targets_parse(const char *name, const char *buf, size_t len, struct sc_targets *t,
		     struct sc_error *err)
{
	size_t before = t->n;
	int r;

	if (memchr(buf, '\0', len)) {
		sc_error_set(err, "%s: contains a NUL byte; not a known_hosts file",
			     name);
		return -EINVAL;
	}
	r = looks_like_yaml(buf, len) ? parse_yaml(name, buf, len, t, err)
				      : parse_lines(name, buf, len, t, err);
	if (r < 0)
		while (t->n > before)
			sc_target_clear(&t->v[--t->n]);
	return r;
}

int sc_targets_load(const char *path, struct sc_targets *t, struct sc_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r = sc_read_file(path, KNOWN_HOSTS_MAX, &buf, &len);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		sc_error_set(err, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	r = sc_targets_parse(path, buf, len, t, err);
	free(buf);
	return r;
}

const struct sc_target *sc_targets_find(const struct sc_targets *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

static int add_index(size_t **idx, size_t *n, size_t i)
{
	size_t *nv;

	for (size_t j = 0; j < *n; j++)
		if ((*idx)[j] == i)
			return 0;
	nv = realloc(*idx, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = i;
	*idx = nv;
	return 0;
}

int sc_targets_select(const struct sc_targets *t, const char *const *specs, size_t nspecs,
		      size_t **idx, size_t *n, struct sc_error *err)
{
	size_t *v = NULL, nv = 0;
	int r = 0;

	for (size_t s = 0; s < nspecs && r == 0; s++) {
		const char *spec = specs[s];
		size_t found = 0;

		for (size_t i = 0; i < t->n && r == 0; i++) {
			bool match = false;

			if (spec[0] == '@') {
				for (size_t g = 0; g < t->v[i].ngroups; g++)
					match |= !strcmp(t->v[i].groups[g], spec + 1);
			} else {
				match = !strcmp(t->v[i].name, spec);
			}
			if (match) {
				found++;
				r = add_index(&v, &nv, i);
			}
		}
		if (r == 0 && !found) {
			if (spec[0] == '@')
				sc_error_set(err,
					     "-T %s: no target in known_hosts is in group "
					     "'%s'",
					     spec, spec + 1);
			else
				sc_error_set(
					err,
					"-T %s: no such target in known_hosts (add it: "
					"stapcache host add %s ssh:USER@HOST[:PORT]:RUNNER)",
					spec, sc_target_name_ok(spec) ? spec : "NAME");
			r = -ENOENT;
		}
	}
	if (r < 0) {
		free(v);
		return r;
	}
	*idx = v;
	*n = nv;
	return 0;
}

/* Plain YAML scalars stay plain; anything else is double-quoted. */
static char *yaml_scalar(const char *s)
{
	bool plain = *s && !strchr("-?:,[]{}#&*!|>'\"%@`~ ", s[0]) &&
		     s[strlen(s) - 1] != ' ' && s[strlen(s) - 1] != ':';
	size_t n = 0;
	char *out;

	for (const char *p = s; *p && plain; p++)
		if (*p == '#' || (unsigned char)*p < 0x20 || (p[0] == ':' && p[1] == ' '))
			plain = false;
	if (plain && strcmp(s, "null") && strcmp(s, "true") && strcmp(s, "false") &&
	    strcmp(s, "~"))
		return sc_strdupf("%s", s);
	out = malloc(strlen(s) * 4 + 3);
	if (!out)
		abort();
	out[n++] = '"';
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			out[n++] = '\\';
			out[n++] = *p;
		} else if ((unsigned char)*p < 0x20) {
			n += (size_t)sprintf(out + n, "\\x%02x", (unsigned char)*p);
		} else {
			out[n++] = *p;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

char *sc_target_format(const struct sc_target *t)
{
	const char *keys[] = {"name",       "execute",    "kernel",      "arch",
			      "cpu",        "build-tree", "runtime",     "sysroot",
			      "build-root", "lockdown",   "sig-enforce", "secure-boot"};
	const char *vals[] = {t->name,     t->execute,     t->kernel,
			      t->arch,     t->cpu,         t->build_tree,
			      t->runtime,  t->sysroot,     t->build_root,
			      t->lockdown, t->sig_enforce, t->secure_boot};
	char *out = sc_strdupf("%s", ""), *next, *q;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!vals[i])
			continue;
		q = yaml_scalar(vals[i]);
		next = sc_strdupf("%s%s %s: %s\n", out, i == 0 ? "-" : " ", keys[i], q);
		free(q);
		free(out);
		out = next;
	}
	if (t->ngroups) {
		next = sc_strdupf("%s  groups: [", out);
		free(out);
		out = next;
		for (size_t g = 0; g < t->ngroups; g++) {
			next = sc_strdupf("%s%s%s", out, g ? ", " : "", t->groups[g]);
			free(out);
			out = next;
		}
		next = sc_strdupf("%s]\n", out);
		free(out);
		out = next;
	}
	if (t->signers) {
		next = sc_strdupf("%s  module-signers:%s\n", out,
				  t->nsigners ? "" : " []");
		free(out);
		out = next;
		for (size_t i = 0; i < t->nsigners; i++) {
			next = sc_strdupf("%s    - %s\n", out, t->signers[i]);
			free(out);
			out = next;
		}
	}
	return out;
}
