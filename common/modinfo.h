/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_MODINFO_H
#define SC_MODINFO_H

#include <stddef.h>

#include "common/error.h"

/*
 * The facts a loader needs from a kernel module image held in memory: its
 * internal name, its vermagic and the parameters it declares. The parser is
 * bounds-checked against every offset and size in the image (it is run, in
 * the setuid runner, on bytes a user chose), never maps or re-reads a file,
 * and accepts only what an x86-64-style kernel takes: a 64-bit relocatable
 * ELF in this machine's byte order.
 */
struct sc_modinfo;

/* Longest module name the kernel accepts (MODULE_NAME_LEN - 1 on 64-bit). */
#define SC_MODULE_NAME_MAX 55

/*
 * The largest module any part of stapcache handles: the cache refuses to
 * publish a bigger build, and bless, verify, -T, the store and staprun-auth
 * refuse to read one (stap modules are ~120 KiB; big ones a few MiB).
 */
#define SC_MODULE_MAX (64u << 20)

/*
 * 1 when s is a module name as the kernel knows it: [A-Za-z0-9_], 1 to
 * SC_MODULE_NAME_MAX characters; else 0. A '-' is refused: kbuild and stap
 * never put one in an internal name, and tools that map '-' to '_' (libkmod,
 * modprobe) would look at another /sys/module entry than the kernel's.
 */
int sc_module_name_ok(const char *s);

/* 1 when c may appear in a kernel or C name: [A-Za-z0-9_]. */
static inline int sc_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/*
 * 1 when s is a kernel release as uname -r prints it (and vermagic's first
 * word): [A-Za-z0-9._+~-], 1 to SC_RELEASE_MAX characters, not starting with
 * '.' or '-' (it names /lib/modules/RELEASE: no '/', no "..", no option);
 * else 0. The one rule for every release stapcache or staprun-auth is given
 * (authorized_probes' kernel=, known_hosts' kernel, a target's uname -r).
 */
#define SC_RELEASE_MAX 64
int sc_release_ok(const char *s);

/*
 * 1 when s[0..n) is a C identifier (a script global, a module parameter):
 * [A-Za-z_][A-Za-z0-9_]*, at least one character; else 0. No length limit.
 */
int sc_identifier_ok(const char *s, size_t n);

/*
 * Parse the image buf[0..len). The buffer is not kept: the result owns copies
 * of what it needs. Returns 0 and sets *out (free with sc_modinfo_free), or
 * -ENOEXEC when the bytes are not such a module (err says what is wrong),
 * or -ENOMEM.
 */
int sc_modinfo_parse(const void *buf, size_t len, struct sc_modinfo **out,
		     struct sc_error *err);

/* Free mi; NULL is a no-op. */
void sc_modinfo_free(struct sc_modinfo *mi);

/*
 * The module's internal name: .modinfo "name=", else the name field of
 * .gnu.linkonce.this_module. When both exist they agree (the parser refuses
 * an image where they differ). Never NULL; owned by mi.
 */
const char *sc_modinfo_name(const struct sc_modinfo *mi);

/*
 * The kernel release the module was built for: the first word of vermagic,
 * copied into buf (n bytes). Returns 0, -ENOENT when the module has no
 * vermagic, or -ENOSPC when buf is too small.
 */
int sc_modinfo_release(const struct sc_modinfo *mi, char *buf, size_t n);

/* The first value of .modinfo key ("vermagic", "license", ...), or NULL. Owned by mi. */
const char *sc_modinfo_get(const struct sc_modinfo *mi, const char *key);

/*
 * Which systemtap built a module. stap's translator writes
 * "VERSION/ELFUTILS-VERSION" (e.g. "5.1/0.192") into every module it makes
 * (the kernel-information call of the C it generates), a NUL-terminated
 * string in a string section (SHF_STRINGS, entries of one byte); nothing
 * else in .modinfo or the symbols says it. A script's own literal can be
 * such a string too, so the answer is the one distinct string of that shape
 * in those sections, and none when there are two.
 */
#define SC_STAP_VERSION_MAX 32

/*
 * Copy the whole version string ("5.1/0.192") into buf (n bytes). Returns
 * 0; -ENOENT when the module holds none (not built by stap, or built with
 * --runtime=bpf/dyninst); -EEXIST when it holds two different ones (which
 * is the translator's cannot be told); -ENOSPC when buf is too small.
 */
int sc_modinfo_stap_version(const struct sc_modinfo *mi, char *buf, size_t n);

/*
 * The scanner behind it, on any bytes (a program, stapio, reads its own
 * VERSION the same way): the one distinct NUL-delimited string in
 * buf[0..len) shaped MAJOR.MINOR[0-9a-z.~+-]* -- followed by
 * "/MAJOR.MINOR" when elfutils is set -- at most SC_STAP_VERSION_MAX - 1
 * bytes. A string counts only when a NUL (or the start of buf) comes
 * before it and a NUL after it. Returns 0 and out (SC_STAP_VERSION_MAX
 * bytes), -ENOENT or -EEXIST as above.
 */
int sc_stap_version_scan(const void *buf, size_t len, int elfutils,
			 char out[SC_STAP_VERSION_MAX]);

/*
 * The major and minor numbers at the start of a version string ("5.1/0.192"
 * gives 5 and 1). Returns 0, or -EINVAL when it does not start with
 * MAJOR.MINOR (each 1 to 6 digits).
 */
int sc_stap_version_numbers(const char *v, unsigned *major, unsigned *minor);

/*
 * The parameter a parm= or parmtype= entry at or after *off declares (the
 * name before ':', *n > 0 bytes long, not NUL-terminated), or NULL after the
 * last. Start with *off = 0; a name declared by both entries comes twice.
 */
const char *sc_modinfo_next_param(const struct sc_modinfo *mi, size_t *off, size_t *n);

/* Number of declared parameters ("parm=" and "parmtype=" names, without duplicates). */
size_t sc_modinfo_param_count(const struct sc_modinfo *mi);

/* 1 when the module declares parameter name, else 0. */
int sc_modinfo_has_param(const struct sc_modinfo *mi, const char *name);

/* The longest module parameter value (-G NAME=VALUE) a run passes. */
#define SC_PARAM_VALUE_MAX 1024

/*
 * Why VALUE of a module parameter may not be passed to init_module (where
 * parameters are one space-separated, unquoted string), or NULL when it may:
 * staprun-auth refuses such a value, and stapcache says so before anything
 * is uploaded or run. A static string.
 */
const char *sc_param_value_problem(const char *v);

#endif
