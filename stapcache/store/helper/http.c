/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The http(s):// store (http.h) through libcurl. Invariant: an entry is
 * visible under its final name only after a MOVE of a complete upload, so a
 * reader sees the whole entry or none (a server that cannot MOVE gets no
 * entries at all, never half of one).
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/fsutil.h"
#include "store/helper/http.h"

#define AUTH_MAX 4096

struct sc_http {
	CURL *c;
	char *base; /* the URL without a trailing slash */
	unsigned connect_ms, timeout_ms;
	char *bearer, *userpwd;
	bool global; /* curl_global_init succeeded: one curl_global_cleanup owed */
	char errbuf[CURL_ERROR_SIZE];
};

struct sink {
	char *buf;
	size_t len, max;
	bool too_big;
};

struct source {
	const char *buf;
	size_t len, off;
};

void sc_http_close(struct sc_http *h)
{
	if (!h)
		return;
	if (h->c)
		curl_easy_cleanup(h->c);
	if (h->global) /* libcurl counts these: every init has its cleanup */
		curl_global_cleanup();
	free(h->base);
	free(h->bearer);
	if (h->userpwd)
		explicit_bzero(h->userpwd, strlen(h->userpwd));
	free(h->userpwd);
	free(h);
}

/* The one line of auth_file: "bearer TOKEN" or "basic USER:PASSWORD". */
static int read_auth(struct sc_http *h, const char *path, struct sc_error *err)
{
	char *buf = NULL, *line;
	struct stat st;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0) {
		sc_error_set(err, "cannot read shared-auth-file %s: %s", path,
			     strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || (st.st_mode & S_IROTH)) {
		close(fd);
		sc_error_set(err,
			     "shared-auth-file %s is readable by everyone; chmod o-r it",
			     path);
		return -EPERM;
	}
	r = sc_read_fd(fd, AUTH_MAX, &buf, &len);
	close(fd);
	if (r < 0) {
		sc_error_set(err, "cannot read shared-auth-file %s: %s", path,
			     strerror(-r));
		return r;
	}
	line = buf;
	line[strcspn(line, "\r\n")] = '\0';
	if (!strncasecmp(line, "bearer ", 7) && line[7])
		h->bearer = sc_strdupf("%s", line + 7);
	else if (!strncasecmp(line, "basic ", 6) && strchr(line + 6, ':'))
		h->userpwd = sc_strdupf("%s", line + 6);
	else
		r = -EINVAL;
	explicit_bzero(buf, len);
	free(buf);
	if (r < 0)
		sc_error_set(err,
			     "shared-auth-file %s: expected one line, 'bearer TOKEN' or "
			     "'basic USER:PASSWORD'",
			     path);
	else if (!h->bearer && !h->userpwd)
		r = -ENOMEM;
	return r;
}

int sc_http_open(const char *url, unsigned connect_ms, unsigned timeout_ms,
		 const char *auth_file, struct sc_http **out, struct sc_error *err)
{
	struct sc_http *h = calloc(1, sizeof(*h));
	const char *host = strstr(url, "://");
	size_t l;
	int r = 0;

	if (!h)
		return -ENOMEM;
	if (!host || !host[3] || host[3] == '/') {
		sc_error_set(err, "not an http(s)://HOST[:PORT]/PREFIX URL");
		r = -EINVAL;
		goto out;
	}
	h->connect_ms = connect_ms ? connect_ms : 1;
	h->timeout_ms = timeout_ms ? timeout_ms : 1;
	h->base = sc_strdupf("%s", url);
	if (!h->base) {
		r = -ENOMEM;
		goto out;
	}
	for (l = strlen(h->base); l > 0 && h->base[l - 1] == '/'; l--)
		h->base[l - 1] = '\0';
	if (auth_file && (r = read_auth(h, auth_file, err)) < 0)
		goto out;
	h->global = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	if (!h->global || !(h->c = curl_easy_init())) {
		sc_error_set(err, "cannot initialise libcurl");
		r = -ENOMEM;
	}
out:
	if (r < 0) {
		sc_http_close(h);
		return r;
	}
	*out = h;
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;
	char *b;

	if (len > s->max - s->len) {
		s->too_big = true;
		return 0; /* CURLE_WRITE_ERROR */
	}
	b = realloc(s->buf, s->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + s->len, p, len);
	s->len += len;
	b[s->len] = '\0';
	s->buf = b;
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
	struct source *s = arg;
	size_t len = size * n;

	if (len > s->len - s->off)
		len = s->len - s->off;
	memcpy(p, s->buf + s->off, len);
	s->off += len;
	return len;
}

/* One request: options shared by all, then perform. Returns the status or -errno. */
static long perform(struct sc_http *h, const char *method, const char *url,
		    struct curl_slist *headers, struct sink *sink, struct source *src,
		    struct sc_error *err)
{
	CURL *c = h->c;
	CURLcode rc;
	long status = 0;

	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "stapcache/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	if (h->bearer) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, h->bearer);
	} else if (h->userpwd) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, h->userpwd);
	}
	if (src) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, src);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)src->len);
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		if (sink->too_big)
			sc_error_set(err, "%s: the entry is larger than %zu bytes",
				     method, sink->max);
		else
			sc_error_set(err, "%s: %s", method,
				     h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* What to do about an HTTP status, in words a server's admin can act on. */
static int status_error(const char *method, long status, struct sc_error *err)
{
	const char *hint = "";

	if (status == 401 || status == 403)
		hint = " (check shared-auth-file: and the server's access rules)";
	else if (status == 405 || status == 501)
		hint = " (nginx: dav_methods PUT DELETE MOVE; in the store's location)";
	else if (status == 409)
		hint = " (nginx: create_full_put_path on;)";
	else if (status == 413)
		hint = " (nginx: client_max_body_size 64m;)";
	else if (status == 507)
		hint = " (the server's disk is full)";
	sc_error_set(err, "%s answered HTTP %ld%s", method, status, hint);
	return status == 401 || status == 403 ? -EACCES : -EIO;
}

static char *entry_url(const struct sc_http *h, const char *key)
{
	return sc_strdupf("%s/%.2s/%s.entry", h->base, key, key);
}

int sc_http_get(struct sc_http *h, const char *key, size_t max, char **buf, size_t *len,
		struct sc_error *err)
{
	struct sink sink = {.max = max};
	char *url = entry_url(h, key);
	long st;
	int r = 0;

	if (!url)
		return -ENOMEM;
	st = perform(h, "GET", url, NULL, &sink, NULL, err);
	if (st < 0)
		r = (int)st;
	else if (st == 404 || st == 410)
		r = -ENOENT;
	else if (st != 200)
		r = status_error("GET", st, err);
	if (r == 0 && !sink.buf)
		sink.buf =
			calloc(1, 1); /* an empty body: a malformed entry, not a miss */
	if (r == 0 && sink.buf) {
		*buf = sink.buf;
		*len = sink.len;
		sink.buf = NULL;
	} else if (r == 0) {
		r = -ENOMEM;
	}
	free(sink.buf);
	free(url);
	return r;
}

/* A request whose body (if any) is discarded; 2xx is success. */
static int simple(struct sc_http *h, const char *method, const char *url,
		  struct curl_slist *headers, struct source *src, struct sc_error *err)
{
	struct sink sink = {.max = 1u << 20};
	long st = perform(h, method, url, headers, &sink, src, err);

	free(sink.buf);
	if (st < 0)
		return (int)st;
	return st >= 200 && st < 300 ? 0 : status_error(method, st, err);
}

int sc_http_put(struct sc_http *h, const char *key, const char *buf, size_t len,
		struct sc_error *err)
{
	struct source src = {.buf = buf, .len = len};
	struct curl_slist *put_h = NULL, *move_h = NULL, *t;
	char *final = entry_url(h, key), *tmp = NULL, *dest = NULL;
	unsigned char rnd[8];
	int r = -ENOMEM;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	tmp = sc_strdupf("%s/%.2s/.%s.entry.%d-%02x%02x%02x%02x%02x%02x%02x%02x.tmp",
			 h->base, key, key, (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3],
			 rnd[4], rnd[5], rnd[6], rnd[7]);
	dest = final ? sc_strdupf("Destination: %s", final) : NULL;
	/* No "Expect: 100-continue" wait: one round trip, whatever the server. */
	put_h = curl_slist_append(NULL, "Expect:");
	move_h = curl_slist_append(NULL, "Overwrite: T");
	t = move_h && dest ? curl_slist_append(move_h, dest) : NULL;
	if (!tmp || !put_h || !t)
		goto out;
	r = simple(h, "PUT", tmp, put_h, &src, err);
	if (r == 0) {
		r = simple(h, "MOVE", tmp, move_h, NULL, err);
		if (r < 0) /* best effort: the temporary name is never read anyway */
			(void)simple(h, "DELETE", tmp, NULL, NULL, NULL);
	}
out:
	curl_slist_free_all(put_h);
	curl_slist_free_all(move_h);
	free(final);
	free(tmp);
	free(dest);
	return r;
}
