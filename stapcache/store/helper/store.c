/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The store back ends behind store.h: a shared directory, Redis (hiredis)
 * and HTTP (http.c, libcurl).
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "store/helper/entry.h"
#include "common/fsutil.h"
#include "store/helper/http.h"
#include "store/helper/redis_tls.h"
#include "store/helper/store.h"

enum kind { STORE_FILE, STORE_REDIS, STORE_HTTP };

struct sc_store {
	enum kind kind;
	char *url;
	char *path;        /* file */
	redisContext *r;   /* redis:// (plain hiredis) */
	struct sc_rtls *t; /* rediss:// (redis_tls.h) */
	struct sc_http *h; /* http, https */
};

const char *sc_store_url(const struct sc_store *s)
{
	return s->url;
}

void sc_store_close(struct sc_store *s)
{
	if (!s)
		return;
	if (s->r)
		redisFree(s->r);
	sc_rtls_close(s->t);
	sc_http_close(s->h);
	free(s->url);
	free(s->path);
	free(s);
}

static struct timeval tv_of(unsigned ms)
{
	return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/*
 * One Redis command over either transport: NULL with err set on a transport
 * failure, otherwise the reply (possibly an error reply), for freeReplyObject.
 */
static redisReply *command(struct sc_store *s, struct sc_error *err, const char *fmt, ...)
{
	redisReply *rep = NULL;
	char *cmd = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	if (!s->t) {
		rep = redisvCommand(s->r, fmt, ap);
		if (!rep)
			sc_error_set(err, "%s", s->r->errstr);
	} else {
		len = redisvFormatCommand(&cmd, fmt, ap);
		if (len < 0)
			sc_error_set(err, "out of memory");
		else
			rep = sc_rtls_command(s->t, cmd, (size_t)len, err);
		free(cmd);
	}
	va_end(ap);
	return rep;
}

static int connect_redis(struct sc_store *s, bool tls, const char *host, unsigned port,
			 const struct sc_store_opts *o, struct sc_error *err)
{
	if (tls)
		return sc_rtls_open(host, port, o->ca_file, o->connect_ms, o->timeout_ms,
				    &s->t, err);
	s->r = redisConnectWithTimeout(host, (int)port, tv_of(o->connect_ms));
	if (!s->r || s->r->err) {
		sc_error_set(err, "cannot connect: %s",
			     s->r ? s->r->errstr : "out of memory");
		return -ECONNREFUSED;
	}
	redisSetTimeout(s->r, tv_of(o->timeout_ms));
	return 0;
}

/* redis[s]://[USER:PASS@]HOST[:PORT][/DB] */
static int open_redis(struct sc_store *s, bool tls, const char *rest,
		      const struct sc_store_opts *o, struct sc_error *err)
{
	char user[128] = "", pass[256] = "", host[256] = "";
	const char *at = strrchr(rest, '@'), *hp = at ? at + 1 : rest, *slash;
	unsigned port = 6379, db = 0;
	redisReply *rep;
	size_t hl;
	int r;

	if (at) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));

		if (!colon || (size_t)(colon - rest) >= sizeof(user) ||
		    (size_t)(at - colon - 1) >= sizeof(pass))
			goto bad;
		memcpy(user, rest, (size_t)(colon - rest));
		memcpy(pass, colon + 1, (size_t)(at - colon - 1));
	}
	slash = strchr(hp, '/');
	hl = slash ? (size_t)(slash - hp) : strlen(hp);
	if (!hl || hl >= sizeof(host))
		goto bad;
	memcpy(host, hp, hl);
	if (strchr(host, ':')) {
		char *c = strrchr(host, ':');

		port = (unsigned)strtoul(c + 1, NULL, 10);
		*c = '\0';
	}
	if (slash && slash[1])
		db = (unsigned)strtoul(slash + 1, NULL, 10);
	r = connect_redis(s, tls, host, port, o, err);
	if (r < 0)
		return r;
	if (*pass) {
		rep = *user ? command(s, err, "AUTH %s %s", user, pass)
			    : command(s, err, "AUTH %s", pass);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			if (rep)
				sc_error_set(err, "authentication failed: %s", rep->str);
			freeReplyObject(rep);
			return -EACCES;
		}
		freeReplyObject(rep);
	}
	if (db) {
		rep = command(s, err, "SELECT %u", db);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			sc_error_set(err, "cannot select database %u", db);
			freeReplyObject(rep);
			return -EINVAL;
		}
		freeReplyObject(rep);
	}
	return 0;
bad:
	sc_error_set(err, "not a redis://[USER:PASS@]HOST[:PORT][/DB] URL");
	return -EINVAL;
}

int sc_store_open(const char *url, const struct sc_store_opts *o, struct sc_store **out,
		  struct sc_error *err)
{
	struct sc_store *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->url = sc_strdupf("%s", url);
	if (!strncmp(url, "file://", 7) && url[7] == '/') {
		s->kind = STORE_FILE;
		s->path = sc_strdupf("%s", url + 7);
	} else if (!strncmp(url, "redis://", 8) || !strncmp(url, "rediss://", 9)) {
		bool tls = url[5] == 's';

		s->kind = STORE_REDIS;
		r = open_redis(s, tls, url + (tls ? 9 : 8), o, err);
	} else if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
		s->kind = STORE_HTTP;
		r = sc_http_open(url, o->connect_ms, o->timeout_ms, o->auth_file, &s->h,
				 err);
	} else {
		sc_error_set(err,
			     "unsupported store URL (file:///PATH, redis[s]://HOST[:PORT] "
			     "or http(s)://HOST[:PORT]/PREFIX)");
		r = -EPROTONOSUPPORT;
	}
	if (r < 0) {
		sc_store_close(s);
		return r;
	}
	*out = s;
	return 0;
}

static char *file_entry(const struct sc_store *s, const char *key)
{
	return sc_strdupf("%s/%.2s/%s.entry", s->path, key, key);
}

/* A key is 64 lower-case hex digits: it names files and Redis keys. */
static bool key_ok(const char *key)
{
	return strlen(key) == 64 && strspn(key, "0123456789abcdef") == 64;
}

/*
 * The key's shard directory, PATH/KE, opened without following a symlink:
 * only the configured PATH is followed, nothing anyone put under it. With
 * create, both are made when missing. Returns the descriptor or -errno: -ENOENT, or
 * SC_ENOTREG when KE is not a directory (err says what it is).
 */
static int open_shard(const struct sc_store *s, const char *key, bool create,
		      struct sc_error *err)
{
	char shard[3] = {key[0], key[1], '\0'};
	struct stat st;
	int root, fd, r;

	if (create)
		(void)sc_mkdir_p(s->path,
				 0755); /* the configured directory: as it says */
	root = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		r = -errno;
		sc_error_set(err, "cannot open %s: %s", s->path, strerror(-r));
		return r;
	}
	if (create && mkdirat(root, shard, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		sc_error_set(err, "cannot create %s/%s: %s", s->path, shard,
			     strerror(-r));
		close(root);
		return r;
	}
	fd = openat(root, shard, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = fd < 0 ? -errno : fd;
	if (fd < 0 && r != -ENOENT) {
		if (fstatat(root, shard, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode)) {
			sc_error_set(err, "%s/%s is a %s, not a directory", s->path,
				     shard, sc_file_type(st.st_mode));
			r = SC_ENOTREG;
		} else {
			sc_error_set(err, "cannot open %s/%s: %s", s->path, shard,
				     strerror(-r));
		}
	}
	close(root);
	return r;
}

/*
 * PATH/KE/KEY.entry, a regular file and nothing else: a symlink, FIFO,
 * device, socket or directory there (or at KE) is SC_ENOTREG, never a read
 * that blocks or never ends (sc_read_regular).
 */
static int file_get(struct sc_store *s, const char *key, char **buf, size_t *len,
		    struct sc_error *err)
{
	char name[80], *shown = file_entry(s, key);
	int dfd = open_shard(s, key, false, err), r = dfd;

	snprintf(name, sizeof(name), "%s.entry", key);
	if (dfd >= 0) {
		r = sc_read_regular(dfd, name, SC_ENTRY_MAX, buf, len, shown, err);
		close(dfd);
	}
	free(shown);
	return r;
}

/* A temporary file in KE, then renameat over KEY.entry: whole or absent. */
static int file_put(struct sc_store *s, const char *key, const char *buf, size_t len,
		    struct sc_error *err)
{
	char name[80];
	int dfd = open_shard(s, key, true, err), r = dfd;

	snprintf(name, sizeof(name), "%s.entry", key);
	if (dfd >= 0) {
		r = sc_write_file_atomic_at(dfd, name, buf, len, 0644, NULL);
		if (r < 0)
			sc_error_set(err, "cannot write %s/%.2s/%s: %s", s->path, key,
				     name, strerror(-r));
		close(dfd);
	}
	return r;
}

/* An error reply's text (a transport failure has already set err). */
static void cmd_fail(redisReply *rep, struct sc_error *err)
{
	if (rep)
		sc_error_set(err, "%s", rep->str);
	freeReplyObject(rep);
}

int sc_store_get(struct sc_store *s, const char *key, char **buf, size_t *len,
		 struct sc_error *err)
{
	redisReply *rep;

	if (!key_ok(key)) {
		sc_error_set(err, "'%.80s' is not a key (64 hex digits)", key);
		return -EINVAL;
	}
	if (s->kind == STORE_FILE)
		return file_get(s, key, buf, len, err);
	if (s->kind == STORE_HTTP)
		return sc_http_get(s->h, key, SC_ENTRY_MAX, buf, len, err);
	rep = command(s, err, "GET stapcache:entry:%s", key);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		cmd_fail(rep, err);
		return -EIO;
	}
	if (rep->type == REDIS_REPLY_NIL) {
		freeReplyObject(rep);
		return -ENOENT;
	}
	if (rep->type != REDIS_REPLY_STRING || rep->len > SC_ENTRY_MAX) {
		freeReplyObject(rep);
		sc_error_set(err, "unexpected reply");
		return -EIO;
	}
	*buf = malloc(rep->len + 1);
	if (!*buf) {
		freeReplyObject(rep);
		return -ENOMEM;
	}
	memcpy(*buf, rep->str, rep->len);
	(*buf)[rep->len] = '\0';
	*len = rep->len;
	freeReplyObject(rep);
	return 0;
}

int sc_store_put(struct sc_store *s, const char *key, const char *buf, size_t len,
		 struct sc_error *err)
{
	redisReply *rep;

	if (!key_ok(key)) {
		sc_error_set(err, "'%.80s' is not a key (64 hex digits)", key);
		return -EINVAL;
	}
	if (s->kind == STORE_FILE)
		return file_put(s, key, buf, len, err);
	if (s->kind == STORE_HTTP)
		return sc_http_put(s->h, key, buf, len, err);
	rep = command(s, err, "SET stapcache:entry:%s %b", key, buf, len);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		cmd_fail(rep, err);
		return -EIO;
	}
	freeReplyObject(rep);
	return 0;
}

int sc_store_lease_acquire(struct sc_store *s, const char *key, const char *token,
			   unsigned ttl_ms, struct sc_error *err)
{
	redisReply *rep;
	int got;

	if (s->kind != STORE_REDIS)
		return -ENOTSUP;
	rep = command(s, err, "SET stapcache:lease:%s %s NX PX %u", key, token, ttl_ms);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		cmd_fail(rep, err);
		return -EIO;
	}
	got = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return got;
}

/* Extend or delete the lease only while it is still ours (one atomic script). */
static const char renew_lua[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then "
	"return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
static const char release_lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
				  "return redis.call('DEL', KEYS[1]) else return 0 end";

int sc_store_lease_renew(struct sc_store *s, const char *key, const char *token,
			 unsigned ttl_ms, struct sc_error *err)
{
	redisReply *rep;
	int ours;

	if (s->kind != STORE_REDIS)
		return -ENOTSUP;
	rep = command(s, err, "EVAL %s 1 stapcache:lease:%s %s %u", renew_lua, key, token,
		      ttl_ms);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		cmd_fail(rep, err);
		return -EIO;
	}
	ours = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
	freeReplyObject(rep);
	return ours;
}

void sc_store_lease_release(struct sc_store *s, const char *key, const char *token)
{
	if (s->kind == STORE_REDIS)
		freeReplyObject(command(s, NULL, "EVAL %s 1 stapcache:lease:%s %s",
					release_lua, key, token));
}
