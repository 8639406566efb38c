/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The in-memory module reader: a real stap module's bytes, hand-made images
 * with one defect each, and every truncation and thousands of random
 * corruptions of the real image (none may crash; run it under ASan too).
 */
#include "build-config.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/modinfo.h"
#include "tests/lib/tap.h"

#define MODNAME "sc_mi_test"

/* ----------------------------------------------------- hand-made images */

struct img {
	unsigned char b[4096];
	size_t len;
};

static const char shstr[] = "\0.modinfo\0.shstrtab\0.gnu.linkonce.this_module";
#define SH_MODINFO 1
#define SH_SHSTRTAB 10
#define SH_THIS 20

/*
 * A minimal module: header, .modinfo text, .shstrtab, a this_module section
 * with the given name at offset 24, then four section headers.
 */
static void make(struct img *im, const char *modinfo, size_t mlen, const char *linkonce)
{
	Elf64_Ehdr eh = {.e_type = ET_REL,
			 .e_machine = EM_X86_64,
			 .e_version = EV_CURRENT};
	Elf64_Shdr sh[4];
	size_t off = sizeof(eh), mi_off, str_off, this_off;

	memset(im, 0, sizeof(*im));
	memset(sh, 0, sizeof(sh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	mi_off = off;
	memcpy(im->b + off, modinfo, mlen);
	off += mlen;
	str_off = off;
	memcpy(im->b + off, shstr, sizeof(shstr));
	off += sizeof(shstr);
	this_off = off = (off + 63) & ~(size_t)63;
	if (linkonce)
		memcpy(im->b + off + 24, linkonce, strlen(linkonce));
	off += 0x380;
	sh[1] = (Elf64_Shdr){.sh_name = SH_MODINFO,
			     .sh_type = SHT_PROGBITS,
			     .sh_offset = mi_off,
			     .sh_size = mlen};
	sh[2] = (Elf64_Shdr){.sh_name = SH_SHSTRTAB,
			     .sh_type = SHT_STRTAB,
			     .sh_offset = str_off,
			     .sh_size = sizeof(shstr)};
	sh[3] = (Elf64_Shdr){.sh_name = SH_THIS,
			     .sh_type = SHT_PROGBITS,
			     .sh_offset = this_off,
			     .sh_size = 0x380};
	eh.e_shoff = off;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 4;
	eh.e_shstrndx = 2;
	memcpy(im->b + off, sh, sizeof(sh));
	im->len = off + sizeof(sh);
	memcpy(im->b, &eh, sizeof(eh));
}

#define MI(s) s, sizeof(s)

static int parse_img(const struct img *im, struct sc_modinfo **mi, struct sc_error *err)
{
	/* An exact-size heap copy, so that ASan sees any read past the end. */
	unsigned char *copy = malloc(im->len ? im->len : 1);
	int r;

	memcpy(copy, im->b, im->len);
	err->msg[0] = '\0';
	*mi = NULL;
	r = sc_modinfo_parse(copy, im->len, mi, err);
	free(copy);
	return r;
}

static void rejects(const struct img *im, const char *want, const char *name)
{
	struct sc_modinfo *mi;
	struct sc_error err;
	int r = parse_img(im, &mi, &err);

	if (!tap_ok(r == -ENOEXEC && strstr(err.msg, want), "rejects %s", name))
		printf("#   r=%d msg='%s' want '%s'\n", r, err.msg, want);
	sc_modinfo_free(mi);
}

static Elf64_Ehdr *ehdr(struct img *im)
{
	return (Elf64_Ehdr *)im->b;
}

static Elf64_Shdr *shdr(struct img *im, int i)
{
	return (Elf64_Shdr *)(im->b + ehdr(im)->e_shoff) + i;
}

static void test_made(void)
{
	static const char good[] =
		"parmtype=count:int64_t\0license=GPL\0\0"
		"parm=_stp_bufsize:buffer size\0parmtype=_stp_bufsize:int\0"
		"name=" MODNAME "\0vermagic=6.1.0-56-amd64 SMP preempt "
		"mod_unload modversions \0";
	struct sc_modinfo *mi;
	struct sc_error err;
	struct img im;
	char rel[64];

	make(&im, MI(good), MODNAME);
	tap_is_int(parse_img(&im, &mi, &err), 0, "a hand-made module parses");
	if (!mi)
		return;
	tap_is_str(sc_modinfo_name(mi), MODNAME, "  name");
	tap_is_int(sc_modinfo_release(mi, rel, sizeof(rel)), 0, "  release");
	tap_is_str(rel, "6.1.0-56-amd64", "  is the first word of vermagic");
	tap_is_int(sc_modinfo_param_count(mi), 2,
		   "  two parameters (parm/parmtype merged)");
	tap_ok(sc_modinfo_has_param(mi, "count") &&
		       sc_modinfo_has_param(mi, "_stp_bufsize"),
	       "  count and _stp_bufsize");
	tap_ok(!sc_modinfo_has_param(mi, "coun") && !sc_modinfo_has_param(mi, "int64_t"),
	       "  no prefix or type matches");
	tap_is_str(sc_modinfo_get(mi, "license"), "GPL", "  license");
	tap_is_int(sc_modinfo_release(mi, rel, 5), -ENOSPC,
		   "  release into a short buffer");
	sc_modinfo_free(mi);

	make(&im, MI("license=GPL\0name=only_modinfo\0"), NULL);
	tap_is_int(parse_img(&im, &mi, &err), 0, "name from .modinfo alone");
	tap_is_str(mi ? sc_modinfo_name(mi) : NULL, "only_modinfo", "  is used");
	tap_is_int(mi ? sc_modinfo_release(mi, rel, sizeof(rel)) : 0, -ENOENT,
		   "  no vermagic: -ENOENT");
	sc_modinfo_free(mi);
	make(&im, MI("license=GPL\0"), "only_linkonce");
	tap_is_int(parse_img(&im, &mi, &err), 0, "name from this_module alone");
	tap_is_str(mi ? sc_modinfo_name(mi) : NULL, "only_linkonce", "  is used");
	sc_modinfo_free(mi);

	make(&im, MI(good), "other_name");
	rejects(&im, "two names disagree", "names that disagree");
	make(&im, MI("license=GPL\0"), NULL);
	rejects(&im, "has no name", "a module without a name");
	make(&im, MI("name=bad/name\0"), NULL);
	rejects(&im, "invalid module name", "a name with a slash");
	make(&im, "name=x\0vermagic=1", 17, NULL);
	rejects(&im, "not NUL-terminated", "an unterminated .modinfo");
	make(&im, MI("license=GPL\0"), NULL);
	memset(im.b + shdr(&im, 3)->sh_offset + 24, 'x', 56);
	rejects(&im, "corrupt module name", "an unterminated this_module name");
	make(&im, MI(good), MODNAME);
	im.b[0] = 0x7e;
	rejects(&im, "not an ELF file", "a bad magic");
	make(&im, MI(good), MODNAME);
	im.b[EI_CLASS] = ELFCLASS32;
	rejects(&im, "64-bit", "a 32-bit ELF");
	make(&im, MI(good), MODNAME);
	ehdr(&im)->e_type = ET_EXEC;
	rejects(&im, "not a relocatable", "an executable");
	make(&im, MI(good), MODNAME);
	ehdr(&im)->e_machine = EM_AARCH64;
	rejects(&im, "another machine", "another architecture");
	make(&im, MI(good), MODNAME);
	ehdr(&im)->e_shoff = im.len - 10;
	rejects(&im, "section header table", "a section table past the end");
	make(&im, MI(good), MODNAME);
	ehdr(&im)->e_shoff = (Elf64_Off)-64;
	rejects(&im, "section header table", "a wrapping section table offset");
	make(&im, MI(good), MODNAME);
	ehdr(&im)->e_shstrndx = 9;
	rejects(&im, "section header table", "a name table index out of range");
	make(&im, MI(good), MODNAME);
	shdr(&im, 1)->sh_size = 1ULL << 62;
	rejects(&im, "outside the file", "a section larger than the file");
	make(&im, MI(good), MODNAME);
	shdr(&im, 1)->sh_offset = (Elf64_Off)-8;
	rejects(&im, "outside the file", "a wrapping section offset");
	make(&im, MI(good), MODNAME);
	shdr(&im, 1)->sh_name = 5000;
	rejects(&im, "corrupt name", "a section name past the name table");
	make(&im, MI(good), MODNAME);
	shdr(&im, 3)->sh_name = SH_MODINFO;
	rejects(&im, "unexpected ELF section .modinfo", "two .modinfo sections");
	make(&im, MI(good), MODNAME);
	shdr(&im, 1)->sh_name = SH_SHSTRTAB;
	rejects(&im, "no .modinfo", "no .modinfo section");
	make(&im, MI(good), MODNAME);
	shdr(&im, 3)->sh_size = 40;
	rejects(&im, "too short", "a short this_module section");
	make(&im, MI(good), MODNAME);
	tap_is_int(sc_modinfo_parse(im.b, 10, &mi, &err), -ENOEXEC, "10 bytes");
	tap_is_int(sc_modinfo_parse(im.b, 0, &mi, &err), -ENOEXEC, "0 bytes");
}

/* ------------------------------------------- which systemtap built it */

/*
 * im with one more section: blob as a SHT_PROGBITS section with flags and
 * entsize (a string section is SHF_STRINGS with entsize 1), after the image
 * and before a new section table.
 */
static void add_section(struct img *im, const char *blob, size_t len, uint64_t flags,
			uint64_t entsize)
{
	Elf64_Shdr sh[5];
	size_t off = im->len;

	memcpy(sh, im->b + ehdr(im)->e_shoff, 4 * sizeof(Elf64_Shdr));
	memcpy(im->b + off, blob, len);
	sh[4] = (Elf64_Shdr){.sh_name = 0, /* "": the name does not matter */
			     .sh_type = SHT_PROGBITS,
			     .sh_flags = flags,
			     .sh_offset = off,
			     .sh_size = len,
			     .sh_entsize = entsize};
	off = (off + len + 7) & ~(size_t)7;
	memcpy(im->b + off, sh, sizeof(sh));
	ehdr(im)->e_shoff = off;
	ehdr(im)->e_shnum = 5;
	im->len = off + sizeof(sh);
}

/* The version sc_modinfo_stap_version gives for im, or its error as text. */
static const char *version_of(const struct img *im)
{
	static char out[64];
	struct sc_modinfo *mi;
	struct sc_error err;
	int r = parse_img(im, &mi, &err);

	if (r == 0)
		r = sc_modinfo_stap_version(mi, out, sizeof(out));
	if (r < 0)
		snprintf(out, sizeof(out), "%s",
			 r == -ENOENT   ? "ENOENT"
			 : r == -EEXIST ? "EEXIST"
					: "ERROR");
	sc_modinfo_free(mi);
	return out;
}

static void test_versions(void)
{
	static const char good[] = "name=" MODNAME "\0vermagic=6.1.0 SMP mod_unload\0";
	static const struct {
		const char *blob;
		size_t len;
		const char *want, *name;
	} cases[] = {
		{MI("hello\0"
		    "5.1/0.192\0%s\n"),
		 "5.1/0.192", "the translator's string"},
		{MI("4.8/0.188\0x\0"
		    "4.8/0.188"),
		 "4.8/0.188", "the same string twice is one"},
		{MI("4.8/0.188\0"
		    "5.1/0.192"),
		 "EEXIST", "a script's literal of another version: cannot tell"},
		{MI("no version\0"
		    "5.1\0"),
		 "ENOENT", "MAJOR.MINOR alone is not the string"},
		{MI("a5.1/0.192\0"), "ENOENT", "not at a string's start"},
		{"\0"
		 "5.1/0.192",
		 10, "ENOENT", "without its terminating NUL"},
		{MI("5.1/0.192x\0"), "ENOENT", "something after the elfutils version"},
		{MI("5.1~rc1+deb.2/0.192\0"), "5.1~rc1+deb.2/0.192", "a suffix"},
		{MI("5.1/0.\0"), "ENOENT", "half an elfutils version"},
		{MI("1234567.1/0.1\0"), "ENOENT", "seven digits"},
		{MI("5.1.........................../0.1\0"), "ENOENT", "too long"},
	};
	struct img im;
	char out[SC_STAP_VERSION_MAX];
	unsigned a = 0, b = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make(&im, MI(good), MODNAME);
		add_section(&im, cases[i].blob, cases[i].len,
			    SHF_ALLOC | SHF_MERGE | SHF_STRINGS, 1);
		{
			char name[128];

			snprintf(name, sizeof(name), "stap version: %s", cases[i].name);
			tap_is_str(version_of(&im), cases[i].want, name);
		}
	}
	make(&im, MI(good), MODNAME);
	add_section(&im, MI("5.1/0.192"), SHF_ALLOC, 0);
	tap_is_str(version_of(&im), "ENOENT", "stap version: only in string sections");
	make(&im, MI(good), MODNAME);
	tap_is_str(version_of(&im), "ENOENT", "stap version: none in a bare module");

	tap_is_int(sc_stap_version_scan(MI("\0"
					   "4.8\0"
					   "x"),
					0, out),
		   0, "a program's VERSION: MAJOR.MINOR alone");
	tap_is_str(out, "4.8", "  is 4.8");
	tap_is_int(sc_stap_version_scan(MI("4.8/0.188"), 0, out), -ENOENT,
		   "  and the elfutils form is not it");
	tap_is_int(sc_stap_version_scan(MI("4.8\0"
					   "5.1"),
					0, out),
		   -EEXIST, "  two of them: cannot tell");
	tap_is_int(sc_stap_version_scan("", 0, 1, out), -ENOENT, "nothing in nothing");
	tap_ok(sc_stap_version_numbers("5.1/0.192", &a, &b) == 0 && a == 5 && b == 1,
	       "5.1/0.192 is 5 and 1");
	tap_ok(sc_stap_version_numbers("10.22", &a, &b) == 0 && a == 10 && b == 22,
	       "10.22 is 10 and 22");
	tap_is_int(sc_stap_version_numbers("x.1", &a, &b), -EINVAL, "x.1 is no version");
	tap_is_int(sc_stap_version_numbers("5", &a, &b), -EINVAL,
		   "5 alone is no version");
	tap_is_int(sc_stap_version_numbers("5.", &a, &b), -EINVAL, "5. is no version");
}

/* ---------------------------------------------------------- a real module */

static char *build_real(size_t *len)
{
	const char *path = getenv("SC_TEST_MODULE");
	const char *srcdir = getenv("top_srcdir");
	char line[4096] = "", *cmd, *buf = NULL;
	FILE *p;

	if (!path) {
		cmd = sc_strdupf(
			"'%s/tests/fakes/auth-module.sh' " MODNAME
			" 'global greeting = \"hi\" global count = 3 "
			"probe begin { printf(\"%%s %%d\\n\", greeting, count) exit() }'",
			srcdir ? srcdir : "../..");
		p = popen(cmd, "r");
		free(cmd);
		if (!p || !fgets(line, sizeof(line), p))
			line[0] = '\0';
		if (p)
			pclose(p);
		line[strcspn(line, "\n")] = '\0';
		path = line;
	}
	if (!path[0] || sc_read_file(path, 64 << 20, &buf, len) < 0)
		return NULL;
	return buf;
}

static int parse_copy(const char *buf, size_t len, struct sc_modinfo **mi)
{
	char *copy = malloc(len ? len : 1);
	struct sc_error err;
	int r;

	memcpy(copy, buf, len);
	*mi = NULL;
	r = sc_modinfo_parse(copy, len, mi, &err);
	free(copy);
	return r;
}

static void test_real(void)
{
	struct sc_modinfo *mi = NULL;
	size_t len = 0, i, bad = 0, ok = 0;
	unsigned seed = 12345;
	char *buf = build_real(&len), rel[128];
	unsigned major, minor;

	if (!buf) {
		const char *strict = getenv("SC_STRICT");

		tap_ok(!(strict && !strcmp(strict, "1")),
		       "# SKIP no real module could be built here (see auth-module.sh)");
		return;
	}
	tap_is_int(parse_copy(buf, len, &mi), 0, "a real stap module parses");
	if (!mi)
		goto out;
	tap_is_str(sc_modinfo_name(mi), MODNAME, "  its name");
	tap_is_int(sc_modinfo_release(mi, rel, sizeof(rel)), 0, "  has a vermagic");
	tap_ok(strstr(sc_modinfo_get(mi, "vermagic"), "mod_unload") != NULL,
	       "  vermagic: %s", sc_modinfo_get(mi, "vermagic"));
	tap_ok(sc_modinfo_has_param(mi, "_stp_bufsize"), "  declares _stp_bufsize");
	tap_ok(sc_modinfo_has_param(mi, "greeting") && sc_modinfo_has_param(mi, "count"),
	       "  declares its globals greeting and count");
	tap_is_int(sc_modinfo_param_count(mi), 3, "  and nothing else");
	tap_is_str(sc_modinfo_get(mi, "license"), "GPL", "  license=GPL");
	tap_ok(sc_modinfo_stap_version(mi, rel, sizeof(rel)) == 0 && strchr(rel, '/') &&
		       sc_stap_version_numbers(rel, &major, &minor) == 0,
	       "  says which systemtap built it: %s", rel);
	sc_modinfo_free(mi);

	for (i = 0; i < len; i += i < 8192 ? 1 : 61) {
		int r = parse_copy(buf, i, &mi);

		sc_modinfo_free(mi);
		bad += r != -ENOEXEC;
	}
	tap_is_int(bad, 0, "every truncation is rejected with -ENOEXEC, none crashes");
	bad = 0;
	for (i = 0; i < 3000; i++) {
		char *copy = malloc(len);
		int k, r;

		memcpy(copy, buf, len);
		for (k = 0; k < 1 + (int)(i % 8); k++) {
			size_t at = (seed = seed * 1103515245 + 12345) % len;

			/* Aim most flips at the header and the section table. */
			if (k % 2 == 0)
				at = at % 64;
			else if (i % 3 == 0)
				at = len - 1 - at % (64 * 60);
			copy[at] = (char)((seed >> 16) & 0xff);
		}
		r = sc_modinfo_parse(copy, len, &mi, NULL);
		if (r == 0)
			(void)sc_modinfo_stap_version(mi, rel, sizeof(rel));
		sc_modinfo_free(mi);
		mi = NULL;
		free(copy);
		ok += r == 0;
		bad += r != 0 && r != -ENOEXEC;
	}
	tap_is_int(bad, 0,
		   "3000 random corruptions: each parses or is -ENOEXEC, none crashes");
	printf("# %zu of the corrupted images still parsed\n", ok);
out:
	free(buf);
}

static void test_names(void)
{
	char longest[SC_MODULE_NAME_MAX + 2];

	tap_ok(sc_module_name_ok("stap_0123abcd"), "a stap module name is valid");
	tap_ok(sc_module_name_ok("A_b9"), "letters, digits and _ are valid");
	tap_ok(!sc_module_name_ok("a-b"), "a '-' is refused (libkmod folds it to '_')");
	tap_ok(!sc_module_name_ok(""), "an empty name is refused");
	tap_ok(!sc_module_name_ok("../x"), "path characters are refused");
	tap_ok(!sc_module_name_ok("a b"), "a space is refused");
	memset(longest, 'a', SC_MODULE_NAME_MAX);
	longest[SC_MODULE_NAME_MAX] = '\0';
	tap_ok(sc_module_name_ok(longest), "%d characters are allowed",
	       SC_MODULE_NAME_MAX);
	longest[SC_MODULE_NAME_MAX] = 'a';
	longest[SC_MODULE_NAME_MAX + 1] = '\0';
	tap_ok(!sc_module_name_ok(longest), "%d characters are too many",
	       SC_MODULE_NAME_MAX + 1);

	tap_ok(sc_identifier_ok("_greeting2", 10), "an identifier");
	tap_ok(!sc_identifier_ok("2x", 2), "an identifier does not start with a digit");
	tap_ok(!sc_identifier_ok("a-b", 3), "an identifier has no '-'");
	tap_ok(!sc_identifier_ok("", 0), "an identifier is not empty");
	tap_ok(sc_identifier_ok("ab=1", 2), "only the first n characters count");
}

int main(void)
{
	test_names();
	test_made();
	test_versions();
	test_real();
	return tap_done();
}
