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

#include "common/modinfo.h"

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

struct sc_modinfo {
	char *text; /* copy of .modinfo: NUL-terminated KEY=VALUE entries */
	size_t size;
	char name[SC_MODULE_NAME_MAX + 1];
	char stap_version[SC_STAP_VERSION_MAX]; /* when stap_version_r == 0 */
	int stap_version_r;                     /* sc_modinfo_stap_version's answer */
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

static int name_chars(const char *s, size_t n)
{
	while (n > 0 && sc_name_char(s[n - 1]))
		n--;
	return n == 0;
}

int sc_module_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= SC_MODULE_NAME_MAX && name_chars(s, n);
}

int sc_release_ok(const char *s)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789._+~-";
	size_t n = strlen(s);

	return n > 0 && n <= SC_RELEASE_MAX && s[0] != '.' && s[0] != '-' &&
	       strspn(s, chars) == n;
}

int sc_identifier_ok(const char *s, size_t n)
{
	return n > 0 && !(s[0] >= '0' && s[0] <= '9') && name_chars(s, n);
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
	mi->size = sh.sh_size;
	return 0;
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

/* Digits: 1 to 6 of them at s[*i..n); advances *i. */
static int digits(const char *s, size_t n, size_t *i)
{
	size_t start = *i;

	while (*i < n && *i - start < 7 && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i > start && *i - start <= 6;
}

/* Is s[0..n) "MAJOR.MINOR[0-9a-z.~+-]*" (then "/E.F" with elfutils)? */
static int version_shaped(const char *s, size_t n, int elfutils)
{
	size_t i = 0;

	if (n == 0 || n >= SC_STAP_VERSION_MAX)
		return 0;
	if (!digits(s, n, &i) || i >= n || s[i++] != '.' || !digits(s, n, &i))
		return 0;
	while (i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
			 s[i] == '.' || s[i] == '~' || s[i] == '+' || s[i] == '-'))
		i++;
	if (!elfutils)
		return i == n;
	if (i >= n || s[i++] != '/')
		return 0;
	if (!digits(s, n, &i) || i >= n || s[i++] != '.' || !digits(s, n, &i))
		return 0;
	return i == n;
}

/* One scan's state: the first match, and whether another one differed. */
struct version_scan {
	char found[SC_STAP_VERSION_MAX];
	int r; /* -ENOENT: nothing yet; 0: one; -EEXIST: two different */
};

static void scan_strings(struct version_scan *v, const char *p, size_t len, int elfutils)
{
	size_t i = 0;

	while (i < len && v->r != -EEXIST) {
		const char *nul = memchr(p + i, '\0', len - i);
		size_t n;

		if (!nul) /* not NUL-terminated: no string */
			break;
		n = (size_t)(nul - (p + i));
		if (version_shaped(p + i, n, elfutils)) {
			if (v->r == -ENOENT) {
				memcpy(v->found, p + i, n);
				v->found[n] = '\0';
				v->r = 0;
			} else if (strlen(v->found) != n || memcmp(v->found, p + i, n)) {
				v->r = -EEXIST;
			}
		}
		i += n + 1;
	}
}

int sc_stap_version_scan(const void *buf, size_t len, int elfutils,
			 char out[SC_STAP_VERSION_MAX])
{
	struct version_scan v = {.r = -ENOENT};

	scan_strings(&v, buf, len, elfutils);
	if (v.r == 0)
		memcpy(out, v.found, sizeof(v.found));
	return v.r;
}

int sc_stap_version_numbers(const char *v, unsigned *major, unsigned *minor)
{
	size_t n = strnlen(v, SC_STAP_VERSION_MAX), i = 0, m;
	unsigned long a = 0, b = 0;

	if (!digits(v, n, &i) || i >= n || v[i] != '.')
		return -EINVAL;
	for (size_t j = 0; j < i; j++)
		a = a * 10 + (unsigned long)(v[j] - '0');
	m = ++i;
	if (!digits(v, n, &i))
		return -EINVAL;
	for (size_t j = m; j < i; j++)
		b = b * 10 + (unsigned long)(v[j] - '0');
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return 0;
}

/* Every string section of the image (SHF_STRINGS, one-byte entries). */
static void read_stap_version(struct sc_modinfo *mi, const struct image *im)
{
	struct version_scan v = {.r = -ENOENT};
	Elf64_Shdr sh;

	for (size_t i = 0; i < im->eh.e_shnum && v.r != -EEXIST; i++) {
		get_shdr(im, i, &sh);
		if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_STRINGS) ||
		    sh.sh_entsize != 1)
			continue;
		/* check_sections proved every PROGBITS section is inside the image */
		scan_strings(&v, (const char *)im->buf + sh.sh_offset, sh.sh_size, 1);
	}
	mi->stap_version_r = v.r;
	if (v.r == 0)
		memcpy(mi->stap_version, v.found, sizeof(v.found));
}

int sc_modinfo_stap_version(const struct sc_modinfo *mi, char *buf, size_t n)
{
	if (mi->stap_version_r < 0)
		return mi->stap_version_r;
	if (strlen(mi->stap_version) >= n)
		return -ENOSPC;
	memcpy(buf, mi->stap_version, strlen(mi->stap_version) + 1);
	return 0;
}

int sc_modinfo_parse(const void *buf, size_t len, struct sc_modinfo **out,
		     struct sc_error *err)
{
	struct image im = {.buf = buf, .len = len};
	char linkonce[SC_MODULE_NAME_MAX + 1];
	struct sc_modinfo *mi = NULL;
	int r = check_header(&im, err);

	if (r == 0)
		r = check_sections(&im, err);
	if (r == 0 && !(mi = calloc(1, sizeof(*mi))))
		r = -ENOMEM;
	if (r == 0)
		r = read_modinfo(mi, &im, err);
	if (r == 0)
		r = read_this_module(&im, linkonce, err);
	if (r == 0)
		r = settle_name(mi, linkonce, err);
	if (r == 0) {
		read_stap_version(mi, &im);
		*out = mi;
		return 0;
	}
	if (r == -ENOMEM)
		sc_error_set(err, "out of memory");
	sc_modinfo_free(mi);
	return r;
}

void sc_modinfo_free(struct sc_modinfo *mi)
{
	if (mi)
		free(mi->text);
	free(mi);
}

const char *sc_modinfo_name(const struct sc_modinfo *mi)
{
	return mi->name;
}

const char *sc_modinfo_get(const struct sc_modinfo *mi, const char *key)
{
	size_t k = strlen(key), off;

	for (off = 0; off < mi->size; off += strlen(mi->text + off) + 1)
		if (!strncmp(mi->text + off, key, k) && mi->text[off + k] == '=')
			return mi->text + off + k + 1;
	return NULL;
}

int sc_modinfo_release(const struct sc_modinfo *mi, char *buf, size_t n)
{
	const char *v = sc_modinfo_get(mi, "vermagic");
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

const char *sc_modinfo_next_param(const struct sc_modinfo *mi, size_t *off, size_t *n)
{
	const char *s;

	while (*off < mi->size) {
		s = mi->text + *off;
		*off += strlen(s) + 1;
		s = !strncmp(s, "parm=", 5)       ? s + 5
		    : !strncmp(s, "parmtype=", 9) ? s + 9
						  : NULL;
		if (s && (*n = strcspn(s, ":")) > 0)
			return s;
	}
	return NULL;
}

size_t sc_modinfo_param_count(const struct sc_modinfo *mi)
{
	size_t off = 0, count = 0, n, m, o;
	const char *p, *q;

	while ((p = sc_modinfo_next_param(mi, &off, &n))) {
		/* Counted where it is first declared. */
		o = 0;
		while ((q = sc_modinfo_next_param(mi, &o, &m)) != p &&
		       (m != n || memcmp(p, q, n)))
			;
		count += q == p;
	}
	return count;
}

int sc_modinfo_has_param(const struct sc_modinfo *mi, const char *name)
{
	size_t off = 0, n;
	const char *p;

	while ((p = sc_modinfo_next_param(mi, &off, &n)))
		if (n == strlen(name) && !memcmp(p, name, n))
			return 1;
	return 0;
}

const char *sc_param_value_problem(const char *v)
{
	size_t i;

	if (strlen(v) > SC_PARAM_VALUE_MAX)
		return "the value is too long";
	for (i = 0; v[i]; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\n' || c == '\r')
			return "the value contains a newline";
		if (c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == 0xa0)
			return "the value contains whitespace";
		if (c == '"' || c == '\'')
			return "the value contains a quote";
		if (c == '=')
			return "the value contains a second '='";
		if (c < 0x20 || c == 0x7f)
			return "the value contains a control character";
		if (c >= 0x80)
			return "the value contains a non-ASCII byte";
	}
	return NULL;
}
