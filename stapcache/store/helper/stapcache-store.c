/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stapcache-store: the shared-cache helper. stapcache runs it only on a
 * local miss (and for `stapcache key ...`), so that a local hit never loads
 * hiredis or OpenSSL's EVP machinery.
 *
 *   stapcache-store get --key HEX --module NAME --out DIR [--lease] OPTS
 *       look the entry up in each store in order; verify it; write
 *       DIR/NAME.ko, DIR/inputs, DIR/meta. Prints one word on stdout:
 *       hit | miss | lease | reject | error. With --lease a miss takes the
 *       store's build lease where it can ("lease": build, then close stdin,
 *       which releases it), or waits (bounded) for another machine's build.
 *   stapcache-store put --key HEX --module NAME --entry DIR OPTS
 *       sign the local entry with the builder key and upload it to every store.
 *   stapcache-store keygen PATH | pubkey PATH
 *   OPTS: --store URL (repeated, in order), --trust KEY (repeated),
 *         --builder-key PATH, --connect-timeout MS, --timeout MS, --wait S,
 *         --auth-file PATH, --ca-file PATH
 *
 * The command line is parsed with core/cmdopt.h, as every command's is:
 * -h/--help prints a verb's usage (exit 0), a usage error says what is
 * wrong in one line (exit 2).
 *
 * Failure is never worse than no store: every problem is one warning line
 * on stderr and a word on stdout; the caller builds locally.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/modinfo.h"
#include "common/record.h"
#include "core/cmdopt.h"
#include "store/helper/entry.h"
#include "store/helper/store.h"

#define LEASE_TTL_MS 10000
#define LEASE_RENEW_MS 3000
#define STORES_MAX 16 /* --store and STAPCACHE_STORES' URLs together */

struct args {
	const char *key, *module, *out, *entry, *builder_key;
	const char *stores[STORES_MAX];
	size_t n_stores;
	char *env_stores; /* STAPCACHE_STORES' copy: stores[] point into it */
	char *trusted;    /* one a line */
	size_t trusted_len;
	bool lease;
	struct sc_store_opts o;
	unsigned wait_s;
};

/* "stapcache: shared cache URL: ", never with a password (scheme://...@host). */
static void url_prefix(const char *url, char *buf, size_t n)
{
	const char *scheme = strstr(url, "://"),
		   *at = scheme ? strchr(scheme + 3, '@') : NULL;

	if (at && !memchr(scheme + 3, '/', (size_t)(at - scheme - 3)))
		snprintf(buf, n,
			 "stapcache: shared cache %.*s...%s: ", (int)(scheme + 3 - url),
			 url, at);
	else
		snprintf(buf, n, "stapcache: shared cache %s: ", url);
}

__attribute__((format(printf, 2, 3))) static void warn(const char *url, const char *fmt,
						       ...)
{
	char prefix[1200];
	va_list ap;

	url_prefix(url, prefix, sizeof(prefix));
	fputs(prefix, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static volatile sig_atomic_t said; /* a word is on stdout */

static int say(const char *word)
{
	printf("%s\n", word);
	fflush(stdout);
	said = 1;
	return 0;
}

/* ------------------------------------------------------------ deadlines */

/*
 * Every store operation ends, whatever the store holds or does: the
 * libraries' own timeouts end the usual cases with their own message (a
 * connect, an HTTP transfer, a Redis read that hears nothing), but not a
 * Redis server that drips a reply a byte under its read timeout, nor a file
 * system that blocks (a FUSE mount in a shared directory). So each operation
 * runs under a deadline, connect + DEADLINE_REQUESTS requests' timeouts +
 * DEADLINE_SLACK_MS: SIGALRM's handler then says so (and, before any word,
 * "error" on stdout: a local build), and ends the helper; SIGKILL follows
 * DEADLINE_KILL_MS later should the operation be in a wait that only a
 * fatal signal ends.
 */
#define DEADLINE_REQUESTS 3 /* an HTTP upload: PUT, MOVE, and DELETE when that fails */
#define DEADLINE_SLACK_MS 1000
#define DEADLINE_KILL_MS 2000

static char deadline_msg[1400];
static size_t deadline_len;
static timer_t kill_timer;
static bool kill_timer_made;

static void on_deadline(int sig)
{
	(void)sig;
	(void)!write(2, deadline_msg, deadline_len);
	if (!said)
		(void)!write(1, "error\n", 6);
	_exit(3);
}

static struct itimerspec its_of(unsigned ms)
{
	return (struct itimerspec){.it_value = {.tv_sec = ms / 1000,
						.tv_nsec = (long)(ms % 1000) * 1000000}};
}

/* Arm the deadline for one operation (what) on the store at url. */
static void deadline_arm(const struct args *a, const char *url, const char *what)
{
	unsigned ms =
		a->o.connect_ms + DEADLINE_REQUESTS * a->o.timeout_ms + DEADLINE_SLACK_MS;
	struct itimerval it = {
		.it_value = {.tv_sec = ms / 1000, .tv_usec = (long)(ms % 1000) * 1000}};
	struct itimerspec kill_at = its_of(ms + DEADLINE_KILL_MS);
	char prefix[1200];
	int n;

	url_prefix(url, prefix, sizeof(prefix));
	n = snprintf(deadline_msg, sizeof(deadline_msg),
		     "%s%s: no end within %u ms (connect %u ms + %d x %u ms + %d ms); gave "
		     "up on it, building locally\n",
		     prefix, what, ms, a->o.connect_ms, DEADLINE_REQUESTS,
		     a->o.timeout_ms, DEADLINE_SLACK_MS);
	deadline_len = n < 0                              ? 0
		       : (size_t)n < sizeof(deadline_msg) ? (size_t)n
							  : sizeof(deadline_msg) - 1;
	if (kill_timer_made)
		(void)timer_settime(kill_timer, 0, &kill_at, NULL);
	(void)setitimer(ITIMER_REAL, &it, NULL);
}

static void deadline_disarm(void)
{
	const struct itimerval off = {{0, 0}, {0, 0}};
	const struct itimerspec koff = {{0, 0}, {0, 0}};

	(void)setitimer(ITIMER_REAL, &off, NULL);
	if (kill_timer_made)
		(void)timer_settime(kill_timer, 0, &koff, NULL);
}

static void deadline_setup(void)
{
	struct sigaction sa = {.sa_handler = on_deadline};
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGKILL};

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: a blocked read ends */
	kill_timer_made = timer_create(CLOCK_MONOTONIC, &ev, &kill_timer) == 0;
}

/* The store calls, each under its deadline. */
static int store_open(const struct args *a, const char *url, struct sc_store **out,
		      struct sc_error *err)
{
	int r;

	deadline_arm(a, url, "connecting");
	r = sc_store_open(url, &a->o, out, err);
	deadline_disarm();
	return r;
}

static int store_get(const struct args *a, struct sc_store *s, char **buf, size_t *len,
		     struct sc_error *err)
{
	int r;

	deadline_arm(a, sc_store_url(s), "reading the entry");
	r = sc_store_get(s, a->key, buf, len, err);
	deadline_disarm();
	return r;
}

static int add_trusted(struct args *a, const char *k)
{
	size_t l = strlen(k);
	char *n = realloc(a->trusted, a->trusted_len + l + 2);

	if (!n)
		return -ENOMEM;
	a->trusted = n;
	memcpy(n + a->trusted_len, k, l);
	a->trusted_len += l;
	n[a->trusted_len++] = '\n';
	n[a->trusted_len] = '\0';
	return 0;
}

/*
 * The stores stapcache passes: STAPCACHE_STORES, one URL a line (a URL may
 * hold a password, so not on the command line); after any --store. The
 * copy is a->env_stores (freed by main: a->stores point into it).
 */
static int stores_from_env(struct args *a)
{
	const char *env = getenv("STAPCACHE_STORES");
	char *list, *save = NULL;

	if (!env || !*env)
		return 0;
	list = a->env_stores = strdup(env);
	if (!list)
		return -1;
	for (char *u = strtok_r(list, "\n", &save); u && a->n_stores < STORES_MAX;
	     u = strtok_r(NULL, "\n", &save))
		a->stores[a->n_stores++] = u;
	return 0;
}

/* ------------------------------------------------------------ get */

static int write_part(const char *dir, const char *name, const char *buf, size_t len)
{
	char *p = sc_strdupf("%s/%s", dir, name);
	int r = p ? sc_write_file_atomic(p, buf, len, 0644, NULL) : -ENOMEM;

	free(p);
	return r;
}

enum outcome { GOT, ABSENT, REJECTED, FAILED };

/* redis:// and rediss:// hold the build lease. */
static bool is_redis(const char *url)
{
	return !strncmp(url, "redis://", 8) || !strncmp(url, "rediss://", 9);
}

/* One store: fetch, verify, write the parts. */
static enum outcome try_store(struct sc_store *s, const struct args *a)
{
	struct sc_error err = {{0}};
	struct sc_entry e;
	enum sc_entry_verdict v;
	char *buf = NULL, *ko;
	size_t len = 0;
	int r = store_get(a, s, &buf, &len, &err);

	if (r == -ENOENT)
		return ABSENT;
	/* Not an entry at all (a FIFO, a link, a directory, too large): a bad object. */
	if (r == SC_ENOTREG || r == -EFBIG) {
		warn(sc_store_url(s), "entry %.16s... rejected (%s); not served", a->key,
		     err.msg);
		return REJECTED;
	}
	if (r < 0) {
		warn(sc_store_url(s), "%s; building locally", err.msg);
		return FAILED;
	}
	v = sc_entry_verify(buf, len, a->key, a->module, a->trusted, &e, &err);
	free(buf);
	if (v != SC_ENTRY_OK) {
		warn(sc_store_url(s), "entry %.16s... rejected (%s); not served", a->key,
		     err.msg);
		return REJECTED;
	}
	ko = sc_strdupf("%s.ko", a->module);
	r = write_part(a->out, ko, e.module, e.module_len);
	r = r ?: write_part(a->out, "inputs", e.inputs, e.inputs_len);
	r = r ?: write_part(a->out, "meta", e.meta, e.meta_len);
	free(ko);
	sc_entry_clear(&e);
	if (r < 0) {
		warn(sc_store_url(s), "cannot write the fetched entry: %s", strerror(-r));
		return FAILED;
	}
	return GOT;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The lease calls, each under its deadline. */
static int lease_acquire(const struct args *a, struct sc_store *s, const char *token,
			 struct sc_error *err)
{
	int r;

	deadline_arm(a, sc_store_url(s), "taking the build lease");
	r = sc_store_lease_acquire(s, a->key, token, LEASE_TTL_MS, err);
	deadline_disarm();
	return r;
}

static int lease_renew(const struct args *a, struct sc_store *s, const char *token,
		       struct sc_error *err)
{
	int r;

	deadline_arm(a, sc_store_url(s), "renewing the build lease");
	r = sc_store_lease_renew(s, a->key, token, LEASE_TTL_MS, err);
	deadline_disarm();
	return r;
}

static void lease_release(const struct args *a, struct sc_store *s, const char *token)
{
	deadline_arm(a, sc_store_url(s), "releasing the build lease");
	sc_store_lease_release(s, a->key, token);
	deadline_disarm();
}

/* The state letter of /proc/PID/stat ('R', 'S', 'T', ...), or 0: gone. */
static char proc_state(pid_t pid)
{
	char buf[512];
	const char *p = sc_proc_stat_fields(pid, buf, sizeof(buf));

	return p && p[0] == ' ' ? p[1] : 0;
}

/*
 * Is pid, or one of its descendants (at most depth generations, not us),
 * stopped (SIGSTOP, SIGTSTP, a tracer)? Children come from each thread's
 * /proc/PID/task/TID/children.
 */
static bool stopped_below(pid_t pid, int depth)
{
	char path[64], state = proc_state(pid);
	struct dirent *de;
	bool stopped = state == 'T' || state == 't';
	DIR *d;

	if (stopped || depth == 0 || !state)
		return stopped;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && !stopped && (de = readdir(d)) != NULL) {
		char cp[96], *list = NULL, *save = NULL;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cp, sizeof(cp), "/proc/%d/task/%.16s/children", (int)pid,
			 de->d_name);
		if (sc_read_file(cp, 65536, &list, NULL) < 0)
			continue;
		for (char *c = strtok_r(list, " \n", &save); c && !stopped;
		     c = strtok_r(NULL, " \n", &save)) {
			pid_t kid = (pid_t)atoi(c);

			if (kid > 0 && kid != getpid())
				stopped = stopped_below(kid, depth - 1);
		}
		free(list);
	}
	if (d)
		closedir(d);
	return stopped;
}

/*
 * Hold the lease until stdin closes (the caller built and uploaded, or
 * died), renewing it while the build goes on: not while the builder (our
 * parent, stapcache, and what it runs: stap, make, the compiler) is stopped,
 * since then it makes no progress, and the lease must lapse (LEASE_TTL_MS)
 * for another machine to take the build, not be renewed for as long as it
 * stays stopped. A builder that goes on later renews again, or learns that
 * it lost the lease.
 */
static int hold_lease(struct sc_store *s, const struct args *a, const char *token)
{
	struct sc_error err = {{0}};
	pid_t builder = getppid();
	bool noted = false;

	say("lease");
	for (;;) {
		struct pollfd p = {.fd = 0, .events = POLLIN};
		int n = poll(&p, 1, LEASE_RENEW_MS);
		char c;

		if (n > 0 && read(0, &c, 1) <= 0)
			break;
		if (n != 0)
			continue;
		if (stopped_below(builder, 8)) {
			if (!noted)
				warn(sc_store_url(s),
				     "the build (pid %d) is stopped: not renewing its build "
				     "lease of %.16s..., which lapses within %d s",
				     (int)builder, a->key, LEASE_TTL_MS / 1000);
			noted = true;
			continue;
		}
		noted = false;
		if (lease_renew(a, s, token, &err) == 0) {
			warn(sc_store_url(s), "lost the build lease of %.16s...", a->key);
			break;
		}
	}
	lease_release(a, s, token);
	return 0;
}

/*
 * Miss everywhere: with --lease and a store that has leases (the first
 * such), build under its lease, or wait for whoever holds it.
 */
static int lease_or_wait(struct sc_store *s, const struct args *a)
{
	struct sc_error err = {{0}};
	uint64_t start = now_ms(), next_note = start + 5000;
	char token[96];

	snprintf(token, sizeof(token), "%ld-%d-%ld", gethostid(), (int)getpid(),
		 (long)time(NULL));
	for (;;) {
		int r = lease_acquire(a, s, token, &err);

		if (r < 0) {
			warn(sc_store_url(s), "%s", err.msg);
			return say("miss");
		}
		if (r == 1) {
			/* Built by the holder that just let go? Then that is the answer. */
			enum outcome o = try_store(s, a);

			if (o == GOT) {
				lease_release(a, s, token);
				return say("hit");
			}
			return hold_lease(s, a, token);
		}
		usleep(200000);
		enum outcome o = try_store(s, a);

		if (o == GOT)
			return say("hit");
		if (o == REJECTED || o == FAILED)
			return say(o == REJECTED ? "reject" : "error");
		if (now_ms() - start > (uint64_t)a->wait_s * 1000) {
			warn(sc_store_url(s),
			     "gave up waiting %u s for another build; building here",
			     a->wait_s);
			return say("miss");
		}
		if (now_ms() >= next_note) {
			fprintf(stderr,
				"stapcache: waiting for another machine's build of %.16s... "
				"(%" PRIu64 " s)\n",
				a->key, (now_ms() - start) / 1000);
			next_note += 5000;
		}
	}
}

static int cmd_get(const struct args *a)
{
	struct sc_store *lease_store = NULL, *open_stores[STORES_MAX] = {NULL};
	enum outcome worst = ABSENT;

	for (size_t i = 0; i < a->n_stores; i++) {
		struct sc_error err = {{0}};
		enum outcome o;

		if (store_open(a, a->stores[i], &open_stores[i], &err) < 0) {
			warn(a->stores[i], "%s; building locally", err.msg);
			worst = FAILED;
			continue;
		}
		o = try_store(open_stores[i], a);
		if (o == GOT) {
			say("hit");
			goto out;
		}
		if (o > worst)
			worst = o;
		if (!lease_store && is_redis(a->stores[i]) && o == ABSENT)
			lease_store = open_stores[i];
	}
	if (a->lease && lease_store && worst == ABSENT)
		lease_or_wait(lease_store, a);
	else
		say(worst == ABSENT ? "miss" : worst == REJECTED ? "reject" : "error");
out:
	for (size_t i = 0; i < a->n_stores; i++)
		sc_store_close(open_stores[i]);
	return 0;
}

/* ------------------------------------------------------------ put */

static int read_part(const char *dir, const char *name, char **buf, size_t *len)
{
	char *p = sc_strdupf("%s/%s", dir, name);
	int r = p ? sc_read_regular(AT_FDCWD, p, SC_MODULE_MAX, buf, len, NULL, NULL)
		  : -ENOMEM;

	free(p);
	return r;
}

/*
 * What a rebuild must match to reproduce the module: the labels of the key
 * record's fields, each once, in order ("stap stap.version runtime ...").
 * They are all in the key, so a machine that computes the same key has them.
 */
static char *reproduce_list(const char *inputs, size_t len)
{
	struct sc_record *rec = NULL;
	char *list = NULL, *n;
	size_t used = 0;

	if (sc_record_parse(inputs, len, &rec, NULL) < 0)
		return NULL;
	list = calloc(1, 1);
	for (size_t i = 0; list && i < sc_record_count(rec); i++) {
		const char *l = sc_record_label(rec, i);
		size_t ll = strlen(l);

		if (i > 0 && !strcmp(l, sc_record_label(rec, i - 1)))
			continue;
		n = realloc(list, used + ll + 2);
		if (!n) {
			free(list);
			list = NULL;
			break;
		}
		list = n;
		if (used)
			list[used++] = ' ';
		memcpy(list + used, l, ll + 1);
		used += ll;
	}
	sc_record_free(rec);
	return list;
}

/*
 * The uploaded meta: the local one, plus who built it and which inputs a
 * rebuild must match (stapcache verify prints both).
 */
static int shared_meta(const char *meta, size_t len, const char *inputs, size_t il,
		       const char *pub, char **out, size_t *out_len)
{
	struct sc_record *rec = NULL;
	char *list = reproduce_list(inputs, il);
	int r = list ? sc_record_parse(meta, len, &rec, NULL) : -EINVAL;

	r = r ?: sc_record_add_str(rec, "builder", pub);
	r = r ?: sc_record_add_str(rec, "reproduce", list);
	r = r ?: sc_record_serialize(rec, out, out_len);
	sc_record_free(rec);
	free(list);
	return r;
}

/*
 * Does the store hold an entry for this key that this machine would serve?
 * Then it stays: an upload replaces only what is missing or refused, so
 * garbage heals and valid entries are not rewritten by every builder.
 */
static bool already_good(struct sc_store *s, const struct args *a)
{
	struct sc_error err = {{0}};
	struct sc_entry e;
	char *buf = NULL;
	size_t len = 0;
	bool good = false;

	if (store_get(a, s, &buf, &len, &err) == 0 &&
	    sc_entry_verify(buf, len, a->key, a->module, a->trusted, &e, &err) ==
		    SC_ENTRY_OK) {
		good = true;
		sc_entry_clear(&e);
	}
	free(buf);
	return good;
}

static int cmd_put(const struct args *a)
{
	struct sc_error err = {{0}};
	struct sc_builder_key *k = NULL;
	char *inputs = NULL, *meta = NULL, *module = NULL, *smeta = NULL, *entry = NULL,
	     *ko;
	size_t il = 0, ml = 0, kl = 0, sl = 0, el = 0;
	char pub[96];
	int r, status = 0;

	if (sc_builder_key_load(a->builder_key, &k, &err) < 0) {
		fprintf(stderr, "stapcache: not uploading to the shared cache: %s\n",
			err.msg);
		return 1;
	}
	sc_builder_key_public(k, pub, sizeof(pub));
	ko = sc_strdupf("%s.ko", a->module);
	r = read_part(a->entry, "inputs", &inputs, &il);
	r = r ?: read_part(a->entry, "meta", &meta, &ml);
	r = r ?: read_part(a->entry, ko, &module, &kl);
	r = r ?: shared_meta(meta, ml, inputs, il, pub, &smeta, &sl);
	r = r
		    ?: sc_entry_build(a->key, a->module, inputs, il, smeta, sl, module,
				      kl, k, &entry, &el, &err);
	if (r < 0) {
		fprintf(stderr, "stapcache: not uploading to the shared cache: %s\n",
			err.msg[0] ? err.msg : strerror(-r));
		status = 1;
	}
	for (size_t i = 0; r == 0 && i < a->n_stores; i++) {
		struct sc_store *s = NULL;

		err.msg[0] = '\0';
		if (store_open(a, a->stores[i], &s, &err) == 0 && already_good(s, a)) {
			sc_store_close(s);
			continue;
		}
		if (s)
			deadline_arm(a, a->stores[i], "uploading the entry");
		if (!s || sc_store_put(s, a->key, entry, el, &err) < 0) {
			warn(a->stores[i], "upload failed: %s", err.msg);
			status = 1;
		}
		deadline_disarm();
		sc_store_close(s);
	}
	free(ko);
	free(inputs);
	free(meta);
	free(module);
	free(smeta);
	free(entry);
	sc_builder_key_free(k);
	return status;
}

/* ------------------------------------------------------------ keys */

static int cmd_keygen(const struct args *a, bool generate)
{
	struct sc_error err = {{0}};
	struct sc_builder_key *k = NULL;
	char pub[96];

	if ((generate && sc_builder_key_generate(a->out, &err) < 0) ||
	    sc_builder_key_load(a->out, &k, &err) < 0) {
		fprintf(stderr, "stapcache: %s\n", err.msg);
		return 1;
	}
	sc_builder_key_public(k, pub, sizeof(pub));
	if (generate)
		fprintf(stderr,
			"stapcache: created %s (keep it private); add this line to "
			"'trusted-builders:' on the machines that should trust it:\n",
			a->out);
	printf("%s\n", pub);
	sc_builder_key_free(k);
	return 0;
}

/*
 * The largest millisecond or second count: whatever an unsigned holds, as
 * ever (stapcache checked config.yaml's ranges before it passed them).
 */
#if LONG_MAX > UINT_MAX
#define COUNT_MAX ((long)UINT_MAX)
#else
#define COUNT_MAX LONG_MAX
#endif

/* What the options give before it lands in struct args. */
struct cmdline {
	struct sc_strv stores, trust;
	long connect_ms, timeout_ms, wait_s;
};

/* c into a, then the stores of STAPCACHE_STORES. Returns 0 or -ENOMEM. */
static int take(struct args *a, const struct cmdline *c)
{
	a->o.connect_ms = (unsigned)c->connect_ms;
	a->o.timeout_ms = (unsigned)c->timeout_ms;
	a->wait_s = (unsigned)c->wait_s;
	for (size_t i = 0; i < c->stores.n; i++)
		a->stores[a->n_stores++] = c->stores.v[i];
	for (size_t i = 0; i < c->trust.n; i++)
		if (add_trusted(a, c->trust.v[i]) < 0)
			return -ENOMEM;
	return stores_from_env(a) < 0 ? -ENOMEM : 0;
}

/*
 * argv (the helper's) by the verb's spec into a; keygen's and pubkey's PATH
 * goes to a->out. Returns the verb's word, or NULL with *status the exit
 * status (0 after --help; 2 after saying what is wrong).
 */
static const char *parse(int argc, char **argv, struct args *a, int *status)
{
	struct cmdline c = {.connect_ms = 300, .timeout_ms = 3000, .wait_s = 120};
	/*
	 * get's rows are all but the last, put's all but the first two; the
	 * rest, which both take, as stapcache passes them (store/client.c).
	 */
	const struct sc_cmdopt opts[] = {
		SC_CMDOPT_STRING(0, "out", "DIR", &a->out, "where the entry's parts go"),
		SC_CMDOPT_FLAG(0, "lease", &a->lease,
			       "on a miss, build under the store's lease, or wait for\n"
			       "its holder's build"),
		SC_CMDOPT_STRING(0, "key", "HEX", &a->key, "the entry's key"),
		SC_CMDOPT_STRING(0, "module", "NAME", &a->module, "the module's name"),
		SC_CMDOPT_LIST(0, "store", "URL", &c.stores,
			       "a store (before STAPCACHE_STORES' URLs); repeat for more"),
		SC_CMDOPT_LIST(0, "trust", "KEY", &c.trust,
			       "a trusted builder's public key; repeat for more"),
		SC_CMDOPT_STRING(0, "builder-key", "PATH", &a->builder_key,
				 "this machine's builder key (put signs with it)"),
		SC_CMDOPT_LONG(0, "connect-timeout", "MS", &c.connect_ms, 0, COUNT_MAX,
			       "connect timeout, milliseconds (default 300)"),
		SC_CMDOPT_LONG(0, "timeout", "MS", &c.timeout_ms, 0, COUNT_MAX,
			       "one whole transfer's timeout, milliseconds (default 3000)"),
		SC_CMDOPT_LONG(0, "wait", "S", &c.wait_s, 0, COUNT_MAX,
			       "seconds get --lease waits for another machine's build\n"
			       "(default 120)"),
		SC_CMDOPT_STRING(0, "auth-file", "PATH", &a->o.auth_file,
				 "http(s): a file holding \"bearer TOKEN\" or\n"
				 "\"basic USER:PASS\""),
		SC_CMDOPT_STRING(0, "ca-file", "PATH", &a->o.ca_file,
				 "rediss: extra CA certificates (PEM)"),
		SC_CMDOPT_STRING(0, "entry", "DIR", &a->entry,
				 "the local entry to upload"),
	};
	const size_t n = sizeof(opts) / sizeof(opts[0]);
	const struct sc_cmdopt_spec top = {
		.name = "",
		.prog = "stapcache-store",
		.synopsis = "get|put|keygen|pubkey [OPTIONS]",
		.about =
			"stapcache's shared-cache helper (stapcache-store), run by stapcache\n"
			"on a local miss (get, put) and by stapcache key (keygen, pubkey).",
		.min_args = 1,
		.max_args = -1,
		.stop_at_operand = true,
	};
	const struct sc_cmdopt_spec verbs[] = {
		{.name = "get",
		 .prog = "stapcache-store",
		 .synopsis = "--key HEX --module NAME --out DIR [--lease] [OPTIONS]",
		 .about =
			 "Look the entry up in each store in order, verify it, write\n"
			 "DIR/NAME.ko, DIR/inputs, DIR/meta. One word on stdout: hit, miss,\n"
			 "lease (build, then close stdin), reject or error.",
		 .opts = opts,
		 .nopts = n - 1},
		{.name = "put",
		 .prog = "stapcache-store",
		 .synopsis =
			 "--key HEX --module NAME --entry DIR --builder-key PATH [OPTIONS]",
		 .about =
			 "Sign the local entry with the builder key and upload it to each\n"
			 "store that does not hold a valid one.",
		 .opts = opts + 2,
		 .nopts = n - 2},
		{.name = "keygen",
		 .prog = "stapcache-store",
		 .synopsis = "PATH",
		 .about = "Create the builder key PATH (0600); print its public half.",
		 .min_args = 1,
		 .max_args = 1},
		{.name = "pubkey",
		 .prog = "stapcache-store",
		 .synopsis = "PATH",
		 .about = "Print the public half of the builder key PATH.",
		 .min_args = 1,
		 .max_args = 1},
	};
	const struct sc_cmdopt_spec *verb = NULL;
	const char *word = NULL;
	int r = sc_cmdopt_verb(&top, verbs, sizeof(verbs) / sizeof(verbs[0]), &argc,
			       &argv, &verb);

	*status = 2;
	if (r < 0)
		*status = sc_cmdopt_exit(r);
	else if (verb == &verbs[0] && (!a->key || !a->module || !a->out))
		sc_cmdopt_usage_error(verb, "--key, --module and --out are required");
	else if (verb == &verbs[1] &&
		 (!a->key || !a->module || !a->entry || !a->builder_key))
		sc_cmdopt_usage_error(
			verb, "--key, --module, --entry and --builder-key are required");
	else if (c.stores.n > STORES_MAX)
		sc_cmdopt_usage_error(verb, "at most %d stores", STORES_MAX);
	else if (take(a, &c) < 0)
		fprintf(stderr, "stapcache: out of memory\n");
	else
		word = argv[0];
	if (word && r < argc)
		a->out = argv[r]; /* keygen/pubkey PATH */
	free(c.stores.v);
	free(c.trust.v);
	return word;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	const char *verb;
	int status = 2;

	/* A store that closes mid-write (a TLS socket, Redis, HTTP) is an error
	 * to report and a local build, not a death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	deadline_setup();
	verb = parse(argc, argv, &a, &status);
	if (!verb)
		;
	else if (!strcmp(verb, "get"))
		status = cmd_get(&a);
	else if (!strcmp(verb, "put"))
		status = cmd_put(&a);
	else
		status = cmd_keygen(&a, !strcmp(verb, "keygen"));
	free(a.trusted);
	free(a.env_stores);
	return status;
}
