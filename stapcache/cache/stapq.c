/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stap's per-kernel caches through the shared store (stapq.h).
 *
 * Why a fetched file cannot make a module served under a wrong key without
 * a trusted builder's signature: these files are not key inputs. The
 * module's key covers what shapes them (the stap binary, runtime,
 * compiler, build root, kernel build tree, -B), and stap is trusted to be a
 * function of those, with its own cache a memo. A wrong tracequery object
 * does break that: its DWARF tells stap which tracepoints exist and the
 * types of their arguments, and the module stap then writes reads them as
 * those types. Such a module
 * would be published, locally and to the store, under the ordinary key. So
 * a file is installed only from an entry the store helper verified as it
 * verifies a module: signed by a key in trusted-builders, over the SHA-256
 * of exactly these bytes, for exactly this key. Whoever can sign such an
 * entry can sign a wrong module directly; nobody else can plant either (a
 * store writer without a builder key gets "rejected", a warning, and stap
 * builds its own files). Names are checked (XX/PREFIX_HEX.EXT, nothing
 * else, no "..", no '/' beyond the one) so that an entry writes only
 * stap's cache files, and a file this builder already has is never
 * replaced.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/stapq.h"
#include "common/digest.h"
#include "common/fsutil.h"
#include "common/record.h"
#include "store/client.h"

/*
 * What stap names its per-kernel cache files; each is
 * STAP_DIR/cache/XX/PREFIX_HASH.EXT. Not its stapconf_HASH.h: stapcache
 * always passes -m, and with -m stap makes that header anew every time
 * (it reads it from its cache only when it may cache the script).
 */
static const char *const prefixes[] = {"tracequery_", "typequery_"};
static const char *const exts[] = {".o", ".ko", ".so"};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define HASH_LOG "_hash.log"
#define HASH_LOG_MAX (64u << 10)

/* The key record's fields that shape these files (cache-key.c's labels). */
static const char *const shaping[] = {
	"stap",           "stap.version", "runtime",
	"compiler",       "buildroot",    "buildroot.packages",
	"kernel.release", "kernel.arch",  "kernel.build-tree",
	"kernel.file",    "kbuild.auto",  "kbuild",
};

static bool is_shaping(const char *label)
{
	for (size_t i = 0; i < N_OF(shaping); i++)
		if (!strcmp(label, shaping[i]))
			return true;
	return false;
}

/* Where stap keeps its caches for b, on this host. Caller frees. */
static char *stap_cache_dir(const struct sc_build *b)
{
	if (b->kernel->root)
		return sc_strdupf("%s/.systemtap/cache", b->kernel->root->home);
	return sc_strdupf("%s/cache", b->ctx->stap_dir);
}

/* Part part's inputs record, serialized, and its key. Returns 0 or -ENOMEM. */
static int part_inputs(const struct sc_build *b, size_t kind, unsigned part, char **buf,
		       size_t *len, char hex[SC_SHA256_HEXLEN + 1])
{
	struct sc_record *rec = sc_record_new();
	const struct sc_record *k = b->key->record;
	uint8_t md[SC_SHA256_LEN];
	int r = rec ? 0 : -ENOMEM;

	r = r ?: sc_record_addf(rec, "stapq.format", "%d", SC_STAPQ_FORMAT);
	r = r
		    ?: sc_record_addf(rec, "stapq.kind", "%.*s",
				      (int)strlen(prefixes[kind]) - 1, prefixes[kind]);
	for (size_t i = 0; r == 0 && i < sc_record_count(k); i++) {
		size_t l;
		const char *v = sc_record_value(k, i, &l);

		if (is_shaping(sc_record_label(k, i)))
			r = sc_record_add(rec, sc_record_label(k, i), v, l);
	}
	r = r ?: sc_record_addf(rec, "stapq.part", "%u", part);
	r = r ?: sc_record_serialize(rec, buf, len);
	sc_record_free(rec);
	if (r == 0) {
		sc_sha256(*buf, *len, md);
		sc_hex(hex, md, sizeof(md));
	}
	return r;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

/*
 * Is name XX/PREFIX_HASH.EXT as stap writes it (PREFIX prefixes[kind], XX
 * the hash's first two digits)?
 */
static bool name_ok(const char *name, size_t kind)
{
	const char *base = name + 3, *dot, *p;
	size_t i;

	if (strlen(name) < 8 || !is_hex(name, 2) || name[2] != '/' ||
	    strncmp(base, prefixes[kind], strlen(prefixes[kind])))
		return false;
	p = base + strlen(prefixes[kind]);
	dot = strrchr(p, '.');
	if (!dot || strncmp(p, name, 2))
		return false;
	for (const char *q = p; q < dot; q++)
		if (!strchr("0123456789abcdef_", *q))
			return false;
	for (i = 0; i < N_OF(exts); i++)
		if (!strcmp(dot, exts[i]))
			return true;
	return false;
}

/* The marker: which files the store gave (or took) for this key and stap cache. */
static char *marker_path(const struct sc_build *b, const char *key0, const char *dir)
{
	uint8_t md[SC_SHA256_LEN];
	char hex[SC_SHA256_HEXLEN + 1];

	sc_sha256(dir, strlen(dir), md);
	sc_hex(hex, md, sizeof(md));
	return sc_strdupf("%s/memo/stapq/%.32s-%.16s", b->ctx->cache_dir, key0, hex);
}

/* Does dir hold every file the marker lists? */
static bool marker_complete(const char *marker, const char *dir)
{
	char *list = NULL, *save = NULL;
	bool complete = false;
	int dfd;

	if (sc_read_file(marker, 1u << 20, &list, NULL) < 0)
		return false;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	complete = dfd >= 0;
	for (char *n = strtok_r(list, "\n", &save); complete && n;
	     n = strtok_r(NULL, "\n", &save))
		complete = faccessat(dfd, n, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	if (dfd >= 0)
		close(dfd);
	free(list);
	return complete;
}

static void marker_write(const char *marker, const char *names, size_t len)
{
	char *d = sc_strdupf("%s", marker), *slash = d ? strrchr(d, '/') : NULL;

	if (slash) {
		*slash = '\0';
		(void)sc_mkdir_p(d, 0700);
		(void)sc_write_file_atomic(marker, names, len, 0600, NULL);
	}
	free(d);
}

/* Append "name\n" to the growing list. */
static int list_add(char **list, size_t *len, const char *name)
{
	size_t l = strlen(name);
	char *n = realloc(*list, *len + l + 2);

	if (!n)
		return -ENOMEM;
	memcpy(n + *len, name, l);
	n[*len + l] = '\n';
	*len += l + 1;
	n[*len] = '\0';
	*list = n;
	return 0;
}

/* Install name (XX/FILE) with data under dir unless it is there. 1: installed. */
static int install(const char *dir, const char *name, const char *data, size_t len)
{
	char *sub = sc_strdupf("%s/%.2s", dir, name);
	int dfd = -1, r = sub ? sc_mkdir_p(sub, 0755) : -ENOMEM;

	if (r == 0) {
		dfd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = dfd < 0 ? -errno : 0;
	}
	if (r == 0 && faccessat(dfd, name + 3, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		r = 0; /* stap's own (or an earlier fetch's): kept */
	else if (r == 0)
		r = sc_write_file_atomic_at(dfd, name + 3, data, len, 0644, NULL) ?: 1;
	if (dfd >= 0)
		close(dfd);
	free(sub);
	return r;
}

/*
 * One fetched part's files into dir. Returns the number of files it held
 * (names appended to list), or -EBADMSG for a part that is not one, or
 * -errno. *parts: the part count it states (must agree across parts).
 */
static int unpack(const char *buf, size_t len, const char *dir, size_t kind,
		  unsigned *parts, unsigned *installed, char **list, size_t *list_len)
{
	struct sc_record *rec = NULL;
	size_t n, count = 0;
	const char *v;
	char *end = NULL;
	unsigned long p;
	int r = sc_record_parse(buf, len, &rec, NULL) < 0 ? -EBADMSG : 0;

	n = r == 0 ? sc_record_count(rec) : 0;
	if (r == 0 &&
	    (n < 1 || n % 2 != 1 || strcmp(sc_record_label(rec, 0), "stapq.parts")))
		r = -EBADMSG;
	if (r == 0) {
		v = sc_record_value(rec, 0, NULL);
		p = strtoul(v, &end, 10);
		if (!*v || *end || p < 1 || p > SC_STAPQ_PARTS_MAX ||
		    (*parts && p != *parts))
			r = -EBADMSG;
		else
			*parts = (unsigned)p;
	}
	for (size_t i = 1; r == 0 && i + 1 < n; i += 2) {
		const char *name = sc_record_value(rec, i, NULL), *data;
		size_t dl;

		if (strcmp(sc_record_label(rec, i), "file") ||
		    strcmp(sc_record_label(rec, i + 1), "data") || !name_ok(name, kind)) {
			r = -EBADMSG;
			break;
		}
		data = sc_record_value(rec, i + 1, &dl);
		r = install(dir, name, data, dl);
		if (r > 0)
			(*installed)++;
		r = r < 0 ? r : list_add(list, list_len, name);
		count++;
	}
	sc_record_free(rec);
	return r < 0 ? r : (int)count;
}

/* One kind's parts into dir. Returns true when one was refused. */
static bool fetch_kind(const struct sc_build *b, struct sc_shared *s, const char *dir,
		       size_t kind, const char *scratch, unsigned *files,
		       unsigned *installed)
{
	char key[SC_SHA256_HEXLEN + 1], key0[SC_SHA256_HEXLEN + 1];
	char *marker = NULL, *list = NULL;
	size_t list_len = 0;
	unsigned parts = 0, got = 0;
	bool refused = false;

	for (unsigned part = 0; part < (parts ? parts : 1); part++) {
		char *inputs = NULL, *sub = NULL, *ko = NULL, *buf = NULL;
		size_t il = 0, bl = 0;
		enum sc_shared_result res = SC_SHARED_ERROR;
		int r = part_inputs(b, kind, part, &inputs, &il, key);

		free(inputs);
		if (r == 0 && part == 0) {
			memcpy(key0, key, sizeof(key));
			marker = marker_path(b, key0, dir);
			if (!marker || marker_complete(marker, dir))
				r = -EEXIST; /* nothing lacking here */
		}
		sub = r == 0 ? sc_strdupf("%s/get%zu.%u", scratch, kind, part) : NULL;
		if (r == 0 && (!sub || mkdir(sub, 0700) < 0))
			r = -errno;
		if (r == 0)
			res = sc_shared_peek(s, key, SC_STAPQ_MODULE, sub);
		if (res == SC_SHARED_HIT) {
			ko = sc_strdupf("%s/%s.ko", sub, SC_STAPQ_MODULE);
			r = ko ? sc_read_file(ko, SC_RECORD_MAX_VALUE, &buf, &bl)
			       : -ENOMEM;
			r = r
				    ?: unpack(buf, bl, dir, kind, &parts, installed,
					      &list, &list_len);
			if (r >= 0) {
				got++;
				*files += (unsigned)r;
			} else if (r == -EBADMSG) {
				refused = true;
			} else {
				fprintf(stderr,
					"stapcache: warning: cannot install stap's cached files "
					"from the shared store into %s: %s\n",
					dir, strerror(-r));
			}
		}
		refused = refused || res == SC_SHARED_REJECT;
		if (sub)
			(void)sc_rm_rf(sub);
		free(sub);
		free(ko);
		free(buf);
		if (res != SC_SHARED_HIT || r < 0 || refused)
			break;
	}
	if (got && got == parts && !refused)
		marker_write(marker, list ? list : "", list_len);
	free(marker);
	free(list);
	return refused;
}

void sc_stapq_fetch(const struct sc_build *b, const char *scratch)
{
	struct sc_shared *s = sc_shared_new(b->ctx);
	char *dir = stap_cache_dir(b);
	unsigned installed = 0, files = 0;
	bool refused = false;

	for (size_t kind = 0; s && dir && kind < N_OF(prefixes); kind++)
		refused = fetch_kind(b, s, dir, kind, scratch, &files, &installed) ||
			  refused;
	if (refused)
		fprintf(stderr,
			"stapcache: warning: the shared store's copy of stap's per-kernel "
			"files for %s was refused; stap builds its own\n",
			b->kernel->release);
	if (files && !b->quiet)
		fprintf(stderr,
			"stapcache: %u of stap's per-kernel query files for %s from the shared "
			"store (%u new here)\n",
			files, b->kernel->release, installed);
	sc_shared_free(s);
	free(dir);
}

/* ------------------------------------------------------------ publish */

struct qfile {
	char name[128]; /* XX/FILE */
	size_t size;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct qfile *)a)->name, ((const struct qfile *)b)->name);
}

/* Is a later than b? */
static bool after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * Did stap compute log's name (XX/PREFIX_HASH_hash.log) since t0 for this
 * kernel release? Then its object (the same name with one of exts) is one
 * it created or used in this build.
 */
static bool used_since(int dfd, const char *log, const struct timespec *t0,
		       const char *release)
{
	char *text = NULL, *want = sc_strdupf("\nKernel Release: %s\n", release);
	struct stat st;
	bool used = false;

	if (want && fstatat(dfd, log, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && after(&st.st_mtim, t0) &&
	    sc_read_regular(dfd, log, HASH_LOG_MAX, &text, NULL, NULL, NULL) == 0)
		used = strstr(text, want) != NULL;
	free(text);
	free(want);
	return used;
}

/* Every file of this kernel stap created or used since t0; *created: any made since. */
static int collect(const char *dir, size_t kind, const struct timespec *t0,
		   const char *release, struct qfile **out, size_t *n, bool *created)
{
	DIR *top = opendir(dir);
	struct dirent *de;
	struct qfile *v = NULL;
	size_t cap = 0;
	int r = 0;

	*n = 0;
	*out = NULL;
	if (!top)
		return errno ? -errno : -EIO;
	while (r == 0 && (de = readdir(top)) != NULL) {
		char *sub;
		DIR *d;
		struct dirent *e;

		if (strlen(de->d_name) != 2 || !is_hex(de->d_name, 2))
			continue;
		sub = sc_strdupf("%s/%s", dir, de->d_name);
		d = sub ? opendir(sub) : NULL;
		free(sub);
		while (d && r == 0 && (e = readdir(d)) != NULL) {
			size_t l = strlen(e->d_name), ll = strlen(HASH_LOG);
			char base[112];

			if (l <= ll || l - ll >= sizeof(base) - 4 ||
			    strcmp(e->d_name + l - ll, HASH_LOG) ||
			    strncmp(e->d_name, prefixes[kind], strlen(prefixes[kind])))
				continue;
			snprintf(base, sizeof(base), "%.*s", (int)(l - ll), e->d_name);
			if (!used_since(dirfd(d), e->d_name, t0, release))
				continue;
			for (size_t i = 0; i < N_OF(exts); i++) {
				char name[128];
				struct stat st;

				snprintf(name, sizeof(name), "%s/%s%s", de->d_name, base,
					 exts[i]);
				if (!name_ok(name, kind) ||
				    fstatat(dirfd(d), name + 3, &st,
					    AT_SYMLINK_NOFOLLOW) < 0 ||
				    !S_ISREG(st.st_mode) ||
				    (uint64_t)st.st_size > SC_STAPQ_PART_MAX)
					continue;
				if (*n == cap) {
					struct qfile *nv =
						realloc(v, (cap = cap ? 2 * cap : 256) *
								   sizeof(*v));
					if (!nv) {
						r = -ENOMEM;
						break;
					}
					v = nv;
				}
				snprintf(v[*n].name, sizeof(v[*n].name), "%s", name);
				v[(*n)++].size = (size_t)st.st_size;
				*created = *created || after(&st.st_mtim, t0);
				break;
			}
		}
		if (d)
			closedir(d);
	}
	closedir(top);
	if (r == 0 && *n)
		qsort(v, *n, sizeof(*v), by_name);
	*out = v;
	return r;
}

/* Write part's entry directory (inputs, meta, MODULE.ko) and upload it. */
static int upload_part(const struct sc_build *b, struct sc_shared *s, const char *scratch,
		       size_t kind, unsigned part, unsigned parts, const char *dir,
		       const struct qfile *f, size_t nf)
{
	char key[SC_SHA256_HEXLEN + 1], hex[SC_SHA256_HEXLEN + 1];
	struct sc_record *rec = sc_record_new(), *meta = sc_record_new();
	char *inputs = NULL, *body = NULL, *mbuf = NULL, *sub = NULL, *p = NULL;
	size_t il = 0, bl = 0, ml = 0;
	uint8_t md[SC_SHA256_LEN];
	int r = rec && meta ? 0 : -ENOMEM;

	r = r ?: part_inputs(b, kind, part, &inputs, &il, key);
	r = r ?: sc_record_addf(rec, "stapq.parts", "%u", parts);
	for (size_t i = 0; r == 0 && i < nf; i++) {
		char *path = sc_strdupf("%s/%s", dir, f[i].name), *data = NULL;
		size_t dl = 0;

		r = path ? sc_read_file(path, SC_STAPQ_PART_MAX, &data, &dl) : -ENOMEM;
		r = r ?: sc_record_add_str(rec, "file", f[i].name);
		r = r ?: sc_record_add(rec, "data", data, dl);
		free(path);
		free(data);
	}
	r = r ?: sc_record_serialize(rec, &body, &bl);
	if (r == 0) {
		sc_sha256(body, bl, md);
		sc_hex(hex, md, sizeof(md));
	}
	r = r ?: sc_record_add_str(meta, "key", key);
	r = r ?: sc_record_add_str(meta, "module", SC_STAPQ_MODULE);
	r = r ?: sc_record_add_str(meta, "sha256", hex);
	r = r ?: sc_record_addf(meta, "size", "%zu", bl);
	r = r ?: sc_record_add_str(meta, "kernel", b->kernel->release);
	r = r ?: sc_record_addf(meta, "stapq.files", "%zu", nf);
	r = r ?: sc_record_serialize(meta, &mbuf, &ml);
	sub = r == 0 ? sc_strdupf("%s/put%zu.%u", scratch, kind, part) : NULL;
	if (r == 0 && (!sub || mkdir(sub, 0700) < 0))
		r = -errno;
#define PART_FILE(NAME, BUF, LEN)                                                        \
	do {                                                                             \
		free(p);                                                                 \
		p = r == 0 ? sc_strdupf("%s/%s", sub, NAME) : NULL;                      \
		r = r ?: (p ? sc_write_file_atomic(p, BUF, LEN, 0600, NULL) : -ENOMEM);  \
	} while (0)
	PART_FILE("inputs", inputs, il);
	PART_FILE("meta", mbuf, ml);
	PART_FILE(SC_STAPQ_MODULE ".ko", body, bl);
#undef PART_FILE
	if (r == 0 && sc_shared_upload(s, key, SC_STAPQ_MODULE, sub) < 0)
		r = -EIO;
	if (sub)
		(void)sc_rm_rf(sub);
	sc_record_free(rec);
	sc_record_free(meta);
	free(inputs);
	free(body);
	free(mbuf);
	free(sub);
	free(p);
	return r;
}

/*
 * One kind: when stap made any of its files since t0, upload all it made or
 * used. Adds to *files and *uploaded; *parts_total, *parts_done count parts.
 */
static void publish_kind(const struct sc_build *b, struct sc_shared *s, const char *dir,
			 size_t kind, const struct timespec *t0, const char *scratch,
			 size_t *files, unsigned *parts_total, unsigned *parts_done)
{
	struct qfile *f = NULL;
	char *list = NULL, *marker = NULL, *inputs = NULL;
	char key0[SC_SHA256_HEXLEN + 1];
	size_t n = 0, start = 0, list_len = 0, il = 0;
	unsigned parts = 0, done = 0;
	bool created = false;
	int r = collect(dir, kind, t0, b->kernel->release, &f, &n, &created);

	if (r < 0 || !n || !created)
		goto out; /* nothing new: all of it came from here or from the store */
	for (size_t i = 0, sz = 0; i < n; i++) {
		if (i == 0 || sz + f[i].size > SC_STAPQ_PART_MAX) {
			parts++;
			sz = 0;
		}
		sz += f[i].size;
	}
	if (parts > SC_STAPQ_PARTS_MAX) {
		fprintf(stderr,
			"stapcache: warning: stap's %.*s files for %s are too many to share "
			"(%u parts of %u MiB, at most %d); not uploaded\n",
			(int)strlen(prefixes[kind]) - 1, prefixes[kind],
			b->kernel->release, parts, SC_STAPQ_PART_MAX >> 20,
			SC_STAPQ_PARTS_MAX);
		goto out;
	}
	for (unsigned part = 0; part < parts; part++) {
		size_t end = start, sz = 0;

		while (end < n && (end == start || sz + f[end].size <= SC_STAPQ_PART_MAX))
			sz += f[end++].size;
		if (upload_part(b, s, scratch, kind, part, parts, dir, f + start,
				end - start) == 0)
			done++;
		start = end;
	}
	for (size_t i = 0; i < n; i++)
		if (list_add(&list, &list_len, f[i].name) < 0)
			break;
	if (done == parts && part_inputs(b, kind, 0, &inputs, &il, key0) == 0 &&
	    (marker = marker_path(b, key0, dir)) != NULL)
		marker_write(marker, list ? list : "", list_len);
	*files += n;
	*parts_total += parts;
	*parts_done += done;
out:
	free(f);
	free(list);
	free(marker);
	free(inputs);
}

void sc_stapq_publish(const struct sc_build *b, const struct timespec *t0,
		      const char *scratch)
{
	struct sc_shared *s = NULL;
	char *dir = stap_cache_dir(b);
	unsigned parts = 0, done = 0;
	size_t files = 0;

	if (b->ctx->shared_cache && dir && access(b->ctx->builder_key, R_OK) == 0)
		s = sc_shared_new(b->ctx);
	for (size_t kind = 0; s && kind < N_OF(prefixes); kind++)
		publish_kind(b, s, dir, kind, t0, scratch, &files, &parts, &done);
	if (parts && !b->quiet)
		fprintf(stderr,
			"stapcache: shared %zu of stap's per-kernel query files for %s "
			"(%u of %u parts uploaded)\n",
			files, b->kernel->release, done, parts);
	sc_shared_free(s);
	free(dir);
}
