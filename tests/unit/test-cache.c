/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cache without stap (cache/): its layout, the miss path (one build per
 * key however many processes ask at once, nothing left by a failed build),
 * the module size limit, the statistics fold, prune and check. The build is
 * a callback here, as build.c's is in the program.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/digest.h"
#include "common/fsutil.h"
#include "common/modinfo.h"
#include "core/cache-key.h"
#include "tests/lib/tap.h"

static char root[PATH_MAX];

/* A key of our own: a record naming n, hashed as key.c hashes one. */
static void make_key(struct sc_key *k, int n)
{
	uint8_t md[SC_SHA256_LEN];
	char *buf;
	size_t len;

	memset(k, 0, sizeof(*k));
	k->record = sc_record_new();
	if (!k->record ||
	    sc_record_addf(k->record, "script", "probe begin { %d }", n) < 0 ||
	    sc_record_serialize(k->record, &buf, &len) < 0)
		abort();
	sc_sha256(buf, len, md);
	sc_hex(k->hex, md, sizeof(md));
	snprintf(k->module, sizeof(k->module), "stap_test_%d", n);
	free(buf);
}

/* What the build callback does: size bytes of module, or a failure. */
struct build {
	const struct sc_key *key;
	long long size;      /* < 0: fail */
	const char *counter; /* a byte is appended here per build (NULL: none) */
	int hold_fd;         /* >= 0: read one byte from it before building */
};

static int build(void *arg, const char *stage, struct sc_record *meta,
		 struct sc_error *err)
{
	struct build *b = arg;
	char *path = sc_strdupf("%s/%s.ko", stage, b->key->module), byte;
	int fd, r = 0;

	if (b->hold_fd >= 0)
		(void)!read(b->hold_fd, &byte, 1);
	if (b->counter) {
		int c = open(b->counter, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

		(void)!write(c, "b", 1);
		close(c);
	}
	if (b->size < 0) {
		sc_error_set(err, "the build failed");
		free(path);
		return -EIO;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	free(path);
	if (fd < 0 || ftruncate(fd, b->size) < 0 || pwrite(fd, "MOD", 3, 0) != 3)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r == 0)
		r = sc_record_add_str(meta, "kernel", "6.1.0-test");
	return r;
}

static int get(struct sc_cache *c, struct build *b, char **path, enum sc_cache_how *how,
	       struct sc_error *err)
{
	*path = NULL;
	return sc_cache_get(c, b->key, build, b, path, how, err);
}

/* Does DIR/REL exist? */
static bool exists(const char *dir, const char *rel)
{
	char *p = sc_strdupf("%s/%s", dir, rel);
	bool r = access(p, F_OK) == 0;

	free(p);
	return r;
}

/* Entries under DIR/tmp (staging, graves): a failed build must leave none. */
static int tmp_entries(const char *dir)
{
	char *cmd = sc_strdupf("ls -A '%s/tmp' 2>/dev/null | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;

	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	free(cmd);
	return n;
}

static void test_layout_and_hit(const char *dir)
{
	struct sc_error err = {{0}};
	struct sc_cache *c = NULL;
	struct sc_key k;
	struct build b = {.size = 4096, .hold_fd = -1};
	enum sc_cache_how how;
	uint64_t v[SC_STAT_N];
	char *path = NULL, *want;

	make_key(&k, 1);
	b.key = &k;
	tap_ok(sc_cache_open(dir, 0, &c, &err) == 0, "open creates the cache (%s)",
	       err.msg);
	tap_ok(exists(dir, "CACHEDIR.TAG"), "with a CACHEDIR.TAG");
	tap_ok(get(c, &b, &path, &how, &err) == 0, "a miss builds (%s)", err.msg);
	tap_is_int(how, SC_CACHE_BUILT, "and says so");
	want = sc_strdupf("%s/%.2s/%s/%s.ko", dir, k.hex, k.hex, k.module);
	tap_is_str(path, want, "the module is DIR/KE/KEY/MODULE.ko");
	free(want);
	{
		char *in = sc_strdupf("%.2s/%s/inputs", k.hex, k.hex),
		     *meta = sc_strdupf("%.2s/%s/meta", k.hex, k.hex),
		     *used = sc_strdupf("%.2s/%s/used", k.hex, k.hex);

		tap_ok(exists(dir, in) && exists(dir, meta) && exists(dir, used),
		       "beside it the inputs record, the metadata and the stamp");
		free(in);
		free(meta);
		free(used);
	}
	free(path);
	tap_ok(get(c, &b, &path, &how, &err) == 0 && how == SC_CACHE_HIT, "then a hit");
	free(path);
	memset(v, 0, sizeof(v));
	tap_ok(sc_cache_stats(c, v) == 0, "the counters read");
	tap_ok(v[SC_STAT_HITS] == 1 && v[SC_STAT_MISSES] == 1 && v[SC_STAT_BUILDS] == 1,
	       "1 hit, 1 miss, 1 build (%llu, %llu, %llu)",
	       (unsigned long long)v[SC_STAT_HITS], (unsigned long long)v[SC_STAT_MISSES],
	       (unsigned long long)v[SC_STAT_BUILDS]);
	tap_ok(sc_cache_stats(c, v) == 0 && v[SC_STAT_HITS] == 1,
	       "reading them again counts nothing twice (the log was folded)");
	{
		char *log = sc_strdupf("%s/stats.log", dir);
		struct stat st;

		tap_ok(stat(log, &st) == 0 && st.st_size == 0,
		       "the fold emptied stats.log into the totals");
		free(log);
	}
	sc_key_clear(&k);
	sc_cache_free(c);
}

static void test_failures(const char *dir)
{
	struct sc_error err = {{0}};
	struct sc_cache *c = NULL;
	struct sc_key k;
	struct build b = {.size = -1, .hold_fd = -1};
	enum sc_cache_how how;
	uint64_t v[SC_STAT_N];
	char *path = NULL;
	int r;

	make_key(&k, 2);
	b.key = &k;
	if (sc_cache_open(dir, 0, &c, &err) < 0)
		abort();
	tap_ok(get(c, &b, &path, &how, &err) < 0 && path == NULL, "a failed build fails");
	tap_ok(strstr(err.msg, "the build failed") != NULL, "with the build's error");
	tap_is_int(tmp_entries(dir), 0, "and leaves no staging directory");
	{
		char *entry = sc_strdupf("%.2s/%s", k.hex, k.hex);

		tap_ok(!exists(dir, entry), "nor an entry");
		free(entry);
	}
	b.size = 100;
	tap_ok(get(c, &b, &path, &how, &err) == 0 && how == SC_CACHE_BUILT,
	       "its lock was released: the next request builds");
	free(path);
	sc_key_clear(&k);

	/* A module over the one limit is not cached, and the error names it. */
	make_key(&k, 3);
	b.key = &k;
	b.size = (long long)SC_MODULE_MAX + 1;
	memset(&err, 0, sizeof(err));
	r = get(c, &b, &path, &how, &err);
	tap_is_int(r, -EFBIG, "a module larger than SC_MODULE_MAX is refused when built");
	tap_ok(strstr(err.msg, "64 MiB") != NULL, "naming the limit (%s)", err.msg);
	tap_is_int(tmp_entries(dir), 0, "and nothing of it is left");
	memset(v, 0, sizeof(v));
	r = sc_cache_stats(c, v);
	tap_ok(r == 0 && v[SC_STAT_BUILD_FAILURES] == 1,
	       "the failed build was counted, once (%llu)",
	       (unsigned long long)v[SC_STAT_BUILD_FAILURES]);
	sc_key_clear(&k);
	sc_cache_free(c);
}

/* N processes ask for one cold key at once: one build, one path for all. */
static void test_publish_race(const char *dir)
{
	enum { N = 8 };
	char *counter = sc_strdupf("%s/builds.count", root);
	int gate[2], out[2], ready[2], hold[2], ok_all = 1;
	char first[PATH_MAX] = "";
	struct sc_key k;
	pid_t pids[N];
	struct stat st;

	make_key(&k, 4);
	if (pipe(gate) < 0 || pipe(out) < 0 || pipe(ready) < 0 || pipe(hold) < 0)
		abort();
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct sc_error err = {{0}};
			struct sc_cache *c = NULL;
			struct build b = {.key = &k,
					  .size = 512,
					  .counter = counter,
					  .hold_fd = hold[0]};
			char *path = NULL, byte;
			int r;

			close(gate[1]);
			(void)!read(gate[0], &byte,
				    1); /* all start when the gate opens */
			(void)!write(ready[1], "r", 1);
			r = sc_cache_open(dir, 0, &c, &err)
				    ?: get(c, &b, &path, NULL, &err);
			dprintf(out[1], "%s\n", r == 0 ? path : "FAILED");
			_exit(r == 0 ? 0 : 1);
		}
	}
	close(gate[0]);
	close(out[1]);
	close(ready[1]);
	close(gate[1]); /* EOF: every child's read returns at once */
	/*
	 * The build (whoever got the key's lock) waits until every request has
	 * started: then the others are behind the lock or see its entry.
	 */
	for (int i = 0; i < N; i++) {
		char byte;

		(void)!read(ready[0], &byte, 1);
	}
	(void)!write(hold[1], "gggggggg", N); /* one each, should all of them build */
	for (int i = 0; i < N; i++) {
		int status;

		waitpid(pids[i], &status, 0);
		ok_all = ok_all && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	tap_ok(ok_all, "%d concurrent requests for one key all succeed", N);
	{
		FILE *f = fdopen(out[0], "r");
		char line[PATH_MAX];
		int same = 1, n = 0;

		while (f && fgets(line, sizeof(line), f)) {
			if (!n++)
				snprintf(first, sizeof(first), "%s", line);
			same = same && !strcmp(line, first);
		}
		if (f)
			fclose(f);
		tap_ok(n == N && same, "and all get the same path (%d answers)", n);
	}
	if (stat(counter, &st) < 0)
		st.st_size = -1;
	tap_ok(st.st_size == 1, "the build ran once for all of them (%lld builds)",
	       (long long)st.st_size);
	free(counter);
	sc_key_clear(&k);
}

/* Make an entry's last use long ago (beyond SC_CACHE_GRACE). */
static void age(const char *dir, const struct sc_key *k, time_t ago)
{
	char *used = sc_strdupf("%s/%.2s/%s/used", dir, k->hex, k->hex);
	struct timespec ts[2] = {{time(NULL) - ago, 0}, {time(NULL) - ago, 0}};

	if (utimensat(AT_FDCWD, used, ts, 0) < 0)
		abort();
	free(used);
}

static void test_prune_and_check(const char *dir)
{
	struct sc_error err = {{0}};
	struct sc_cache *c = NULL;
	struct sc_entry_info *e = NULL;
	struct sc_key k[3];
	enum sc_cache_how how;
	uint64_t freed, v[SC_STAT_N], before;
	size_t evicted, n = 0, checked, damaged;
	char *path;

	if (sc_cache_open(dir, 0, &c, &err) < 0 || sc_cache_clear(c, &n) < 0)
		abort();
	for (int i = 0; i < 3; i++) {
		struct build b = {.key = &k[i], .size = 64 << 10, .hold_fd = -1};

		make_key(&k[i], 10 + i);
		if (get(c, &b, &path, &how, &err) < 0)
			abort();
		free(path);
	}
	age(dir, &k[0], 3 * SC_CACHE_GRACE);
	age(dir, &k[1], 2 * SC_CACHE_GRACE);
	/* k[2] was used just now: within the grace period. */
	sc_cache_stats(c, v);
	before = v[SC_STAT_EVICTIONS];
	tap_ok(sc_cache_prune(c, 100 << 10, NULL, &evicted, &freed) == 0, "prune runs");
	tap_is_int(evicted, 2, "it evicts the two least recently used entries");
	tap_ok(sc_cache_entries(c, &e, &n) == 0 && n == 1 && !strcmp(e[0].key, k[2].hex),
	       "the one used within the grace period stays");
	sc_cache_entries_free(e, n);
	tap_ok(sc_cache_prune(c, 1, NULL, &evicted, &freed) == 0 && evicted == 0,
	       "even above the limit, a path just handed out stays valid");
	tap_ok(sc_cache_stats(c, v) == 0 && v[SC_STAT_EVICTIONS] == before + 2,
	       "evictions are counted");

	/* A damaged module: the full check removes its entry. */
	{
		char *ko = sc_strdupf("%s/%.2s/%s/%s.ko", dir, k[2].hex, k[2].hex,
				      k[2].module);
		int fd = open(ko, O_WRONLY);

		tap_ok(fd >= 0 && pwrite(fd, "XYZ", 3, 0) == 3, "damage the module");
		if (fd >= 0)
			close(fd);
		free(ko);
	}
	tap_ok(sc_cache_check(c, NULL, NULL, &checked, &damaged) == 0 && checked == 1 &&
		       damaged == 1,
	       "cache check finds it damaged");
	tap_ok(sc_cache_entries(c, &e, &n) == 0 && n == 0, "and removes it");
	sc_cache_entries_free(e, n);
	for (int i = 0; i < 3; i++)
		sc_key_clear(&k[i]);
	sc_cache_free(c);
}

/* The one table: every counter has its code, record, JSON name and label, each once. */
static void test_stats_table(void)
{
	int good = 1;

	for (int i = 0; i < SC_STAT_N; i++) {
		const struct sc_stat_info *a = &sc_stats_info[i];

		good = good && a->code && a->record && a->json && a->label;
		for (int j = 0; good && j < i; j++) {
			const struct sc_stat_info *b = &sc_stats_info[j];

			good = a->code != b->code && strcmp(a->record, b->record) &&
			       strcmp(a->json, b->json) && strcmp(a->label, b->label);
		}
	}
	tap_ok(good, "sc_stats_info: %d counters, each named once per use", SC_STAT_N);
}

int main(void)
{
	char tmpl[] = "/tmp/sctest-cache.XXXXXX", *dir;

	if (!mkdtemp(tmpl) || !realpath(tmpl, root))
		return 99;
	dir = sc_strdupf("%s/cache", root);
	test_stats_table();
	test_layout_and_hit(dir);
	test_failures(dir);
	test_publish_race(dir);
	test_prune_and_check(dir);
	if (!getenv("TEST_KEEP"))
		sc_rm_rf(root);
	free(dir);
	return tap_done();
}
