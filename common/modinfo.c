/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bounds-checked reader for the .modinfo and .gnu.linkonce.this_module
 * sections of a kernel module held in memory. Every offset and size read from
 * the image is checked against the buffer before it is used; nothing is
 * trusted, because the setuid runner calls this on bytes a user supplied.
 */
#include "build-config.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modinfo.h"

/* offsetof(struct module, name) on 64-bit kernels: enum state + list_head. */
#define THIS_MODULE_NAME_OFF 24
#define THIS_MODULE_NAME_LEN 56

#if defined(__x86_64__)
#define SC_EM EM_X86_64
#elif defined(__aarch64__)
#define SC_EM EM_AARCH64
#elif defined(__powerpc64__)
#define SC_EM EM_PPC64
#elif defined(__s390x__)
#define SC_EM EM_S390
#elif defined(__riscv)
#define SC_EM EM_RISCV
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SC_ELFDATA ELFDATA2LSB
#else
#define SC_ELFDATA ELFDATA2MSB
#endif

struct kv {
	const char *key;
	const char *value;
};

struct sc_modinfo {
	char *text;	/* copy of .modinfo, '=' and entries NUL-split */
	struct kv *kvs; /* entries pointing into text */
	size_t nkv;
	char **params; /* declared parameter names, unique */
	size_t nparams;
	char name[SC_MODULE_NAME_MAX + 1];
};

/* The image and its section table, validated once. */
struct image {
	const unsigned char *buf;
	size_t len;
	Elf64_Ehdr eh;
	const char *shstr;
	size_t shstr_len;
};

static int range_ok(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

static void get_shdr(const struct image *im, size_t i, Elf64_Shdr *sh)
{
	memcpy(sh, im->buf + im->eh.e_shoff + i * sizeof(*sh), sizeof(*sh));
}

static int check_header(struct image *im, struct sc_error *err)
{
	const Elf64_Ehdr *eh = &im->eh;

	if (im->len < sizeof(*eh)) {
		sc_error_set(err, "too short to be an ELF file (%zu bytes)", im->len);
		return -ENOEXEC;
	}
	memcpy(&im->eh, im->buf, sizeof(im->eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) {
		sc_error_set(err, "not an ELF file");
		return -ENOEXEC;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != SC_ELFDATA ||
	    eh->e_ident[EI_VERSION] != EV_CURRENT) {
		sc_error_set(err, "not a 64-bit ELF file in this machine's byte order");
		return -ENOEXEC;
	}
	if (eh->e_type != ET_REL) {
		sc_error_set(err,
			     "not a relocatable ELF object (a kernel module is one)");
		return -ENOEXEC;
	}
#ifdef SC_EM
	if (eh->e_machine != SC_EM) {
		sc_error_set(err, "built for another machine (ELF e_machine %u)",
			     (unsigned)eh->e_machine);
		return -ENOEXEC;
	}
#endif
	return 0;
}

static int check_sections(struct image *im, struct sc_error *err)
{
	const Elf64_Ehdr *eh = &im->eh;
	Elf64_Shdr sh;
	size_t i;

	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 ||
	    eh->e_shstrndx >= eh->e_shnum ||
	    !range_ok(im->len, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr))) {
		sc_error_set(err, "corrupt ELF section header table");
		return -ENOEXEC;
	}
	for (i = 0; i < eh->e_shnum; i++) {
		get_shdr(im, i, &sh);
		if (sh.sh_type != SHT_NOBITS &&
		    !range_ok(im->len, sh.sh_offset, sh.sh_size)) {
			sc_error_set(err, "ELF section %zu lies outside the file", i);
			return -ENOEXEC;
		}
	}
	get_shdr(im, eh->e_shstrndx, &sh);
	if (sh.sh_type != SHT_STRTAB || sh.sh_size == 0 ||
	    im->buf[sh.sh_offset + sh.sh_size - 1] != '\0') {
		sc_error_set(err, "corrupt ELF section name table");
		return -ENOEXEC;
	}
	im->shstr = (const char *)im->buf + sh.sh_offset;
	im->shstr_len = sh.sh_size;
	return 0;
}

/*
 * Find the one section called name. Returns 1 and fills *out, 0 when there is
 * none, -ENOEXEC when there are two or a section name is out of bounds.
 */
static int find_section(const struct image *im, const char *name, Elf64_Shdr *out,
			struct sc_error *err)
{
	Elf64_Shdr sh;
	size_t i;
	int found = 0;

	for (i = 0; i < im->eh.e_shnum; i++) {
		get_shdr(im, i, &sh);
		if (sh.sh_name >= im->shstr_len) {
			sc_error_set(err, "ELF section %zu has a corrupt name", i);
			return -ENOEXEC;
		}
		if (strcmp(im->shstr + sh.sh_name, name) != 0)
			continue;
		if (found || sh.sh_type == SHT_NOBITS) {
			sc_error_set(err, "unexpected ELF section %s", name);
			return -ENOEXEC;
		}
		*out = sh;
		found = 1;
	}
	return found;
}

int sc_module_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > SC_MODULE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!sc_name_char(s[i]))
			return 0;
	return 1;
}

int sc_identifier_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!sc_name_char(s[i]))
			return 0;
	return 1;
}

static int add_param(struct sc_modinfo *mi, const char *spec)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec), i;
	char **np;

	if (n == 0)
		return 0;
	for (i = 0; i < mi->nparams; i++)
		if (strlen(mi->params[i]) == n && !memcmp(mi->params[i], spec, n))
			return 0;
	np = realloc(mi->params, (mi->nparams + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	mi->params = np;
	np[mi->nparams] = strndup(spec, n);
	if (!np[mi->nparams])
		return -ENOMEM;
	mi->nparams++;
	return 0;
}

/* Split the copied .modinfo text into key/value entries and parameter names. */
static int split_modinfo(struct sc_modinfo *mi, size_t size)
{
	size_t off = 0, cap = 0;
	int r;

	while (off < size) {
		char *s = mi->text + off, *eq;
		size_t n = strlen(s);

		off += n + 1;
		eq = strchr(s, '=');
		if (n == 0 || !eq)
			continue;
		*eq = '\0';
		if (mi->nkv == cap) {
			struct kv *nk;

			cap = cap ? cap * 2 : 16;
			nk = realloc(mi->kvs, cap * sizeof(*nk));
			if (!nk)
				return -ENOMEM;
			mi->kvs = nk;
		}
		mi->kvs[mi->nkv].key = s;
		mi->kvs[mi->nkv].value = eq + 1;
		mi->nkv++;
		if (!strcmp(s, "parm") || !strcmp(s, "parmtype")) {
			r = add_param(mi, eq + 1);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int read_modinfo(struct sc_modinfo *mi, const struct image *im,
			struct sc_error *err)
{
	Elf64_Shdr sh;
	int r = find_section(im, ".modinfo", &sh, err);

	if (r < 0)
		return r;
	if (r == 0) {
		sc_error_set(err, "no .modinfo section: not a kernel module");
		return -ENOEXEC;
	}
	if (sh.sh_size > 0 && im->buf[sh.sh_offset + sh.sh_size - 1] != '\0') {
		sc_error_set(err, "corrupt .modinfo section (not NUL-terminated)");
		return -ENOEXEC;
	}
	mi->text = malloc(sh.sh_size + 1);
	if (!mi->text)
		return -ENOMEM;
	memcpy(mi->text, im->buf + sh.sh_offset, sh.sh_size);
	mi->text[sh.sh_size] = '\0';
	return split_modinfo(mi, sh.sh_size);
}

/* The name field of struct module in .gnu.linkonce.this_module, into out. */
static int read_this_module(const struct image *im, char *out, struct sc_error *err)
{
	const char *p;
	Elf64_Shdr sh;
	size_t n;
	int r = find_section(im, ".gnu.linkonce.this_module", &sh, err);

	out[0] = '\0';
	if (r <= 0)
		return r;
	if (sh.sh_size < THIS_MODULE_NAME_OFF + THIS_MODULE_NAME_LEN) {
		sc_error_set(err,
			     "corrupt .gnu.linkonce.this_module section (too short)");
		return -ENOEXEC;
	}
	p = (const char *)im->buf + sh.sh_offset + THIS_MODULE_NAME_OFF;
	n = strnlen(p, THIS_MODULE_NAME_LEN);
	if (n == THIS_MODULE_NAME_LEN || n > SC_MODULE_NAME_MAX) {
		sc_error_set(err, "corrupt module name in .gnu.linkonce.this_module");
		return -ENOEXEC;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int settle_name(struct sc_modinfo *mi, const char *linkonce, struct sc_error *err)
{
	const char *info = sc_modinfo_get(mi, "name");

	if (info && linkonce[0] && strcmp(info, linkonce) != 0) {
		sc_error_set(err,
			     "the module's two names disagree (.modinfo name=%.64s, "
			     ".gnu.linkonce.this_module %s)",
			     info, linkonce);
		return -ENOEXEC;
	}
	if (!info)
		info = linkonce;
	if (!info[0]) {
		sc_error_set(err, "the module has no name (.modinfo name= or "
				  ".gnu.linkonce.this_module)");
		return -ENOEXEC;
	}
	if (!sc_module_name_ok(info)) {
		sc_error_set(err, "invalid module name '%.64s'", info);
		return -ENOEXEC;
	}
	memcpy(mi->name, info, strlen(info) + 1);
	return 0;
}

int sc_modinfo_parse(const void *buf, size_t len, struct sc_modinfo **out,
		     struct sc_error *err)
{
	struct image im = {.buf = buf, .len = len};
	char linkonce[SC_MODULE_NAME_MAX + 1];
	struct sc_modinfo *mi = NULL;
	int r;

	r = check_header(&im, err);
	if (r < 0)
		goto out;
	r = check_sections(&im, err);
	if (r < 0)
		goto out;
	mi = calloc(1, sizeof(*mi));
	r = -ENOMEM;
	if (!mi)
		goto out;
	r = read_modinfo(mi, &im, err);
	if (r < 0)
		goto out;
	r = read_this_module(&im, linkonce, err);
	if (r < 0)
		goto out;
	r = settle_name(mi, linkonce, err);
	if (r < 0)
		goto out;
	*out = mi;
	mi = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		sc_error_set(err, "out of memory");
	sc_modinfo_free(mi);
	return r;
}

void sc_modinfo_free(struct sc_modinfo *mi)
{
	size_t i;

	if (!mi)
		return;
	for (i = 0; i < mi->nparams; i++)
		free(mi->params[i]);
	free(mi->params);
	free(mi->kvs);
	free(mi->text);
	free(mi);
}

const char *sc_modinfo_name(const struct sc_modinfo *mi)
{
	return mi->name;
}

const char *sc_modinfo_get(const struct sc_modinfo *mi, const char *key)
{
	size_t i;

	for (i = 0; i < mi->nkv; i++)
		if (!strcmp(mi->kvs[i].key, key))
			return mi->kvs[i].value;
	return NULL;
}

const char *sc_modinfo_vermagic(const struct sc_modinfo *mi)
{
	return sc_modinfo_get(mi, "vermagic");
}

int sc_modinfo_release(const struct sc_modinfo *mi, char *buf, size_t n)
{
	const char *v = sc_modinfo_vermagic(mi);
	size_t w;

	if (!v)
		return -ENOENT;
	w = strcspn(v, " \t");
	if (w >= n)
		return -ENOSPC;
	memcpy(buf, v, w);
	buf[w] = '\0';
	return 0;
}

size_t sc_modinfo_param_count(const struct sc_modinfo *mi)
{
	return mi->nparams;
}

const char *sc_modinfo_param_name(const struct sc_modinfo *mi, size_t i)
{
	return i < mi->nparams ? mi->params[i] : NULL;
}

int sc_modinfo_has_param(const struct sc_modinfo *mi, const char *name)
{
	size_t i;

	for (i = 0; i < mi->nparams; i++)
		if (!strcmp(mi->params[i], name))
			return 1;
	return 0;
}
