/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Redis over TLS (redis_tls.h): a TCP connect bounded by the connect
 * timeout, a verified TLS handshake, then hiredis's formatter and reader.
 */
#include "build-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/read.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "store/helper/redis_tls.h"

struct sc_rtls {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	redisReader *reader;
};

void sc_rtls_close(struct sc_rtls *t)
{
	if (!t)
		return;
	if (t->ssl)
		SSL_free(t->ssl);
	if (t->ctx)
		SSL_CTX_free(t->ctx);
	if (t->reader)
		redisReaderFree(t->reader);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

/* The outcome of a connect in progress, waited for at most ms: 0 or an errno. */
static int wait_connected(int fd, unsigned ms)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int e = 0;
	socklen_t el = sizeof(e);

	if (poll(&p, 1, (int)ms) != 1)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
		return errno;
	return e;
}

/* A non-blocking connect waited for at most ms; the socket is left blocking. */
static int connect_one(const struct addrinfo *ai, unsigned ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int e = 0, fl;

	if (fd < 0)
		return -errno;
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		e = errno == EINPROGRESS ? wait_connected(fd, ms) : errno;
	if (e) {
		close(fd);
		return -e;
	}
	fcntl(fd, F_SETFL, fl);
	return fd;
}

static int tcp_connect(const char *host, unsigned port, unsigned ms, struct sc_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char ps[16];
	int fd = -ECONNREFUSED, g;

	snprintf(ps, sizeof(ps), "%u", port);
	g = getaddrinfo(host, ps, &hints, &res);
	if (g) {
		sc_error_set(err, "cannot resolve %s: %s", host, gai_strerror(g));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, ms ? ms : 1);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		sc_error_set(err, "cannot connect to %s:%u: %s", host, port,
			     strerror(-fd));
	return fd;
}

static void set_timeouts(int fd, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	if (!ms)
		tv.tv_usec = 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static SSL_CTX *make_ctx(const char *ca_file, struct sc_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		sc_error_set(err, "cannot set up TLS: out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1 ||
	    (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)) {
		sc_error_set(err, "cannot load CA certificates%s%s: check shared-ca-file",
			     ca_file ? " from " : "", ca_file ? ca_file : "");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The certificate must name host: an IP address as such, otherwise a DNS name. */
static int expect_name(SSL *ssl, const char *host)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1;
	return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
}

static int handshake(struct sc_rtls *t, const char *host, struct sc_error *err)
{
	long v;

	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || !expect_name(t->ssl, host) || SSL_set_fd(t->ssl, t->fd) != 1) {
		sc_error_set(err, "cannot set up TLS for %s", host);
		return -ENOMEM;
	}
	if (SSL_connect(t->ssl) == 1)
		return 0;
	v = SSL_get_verify_result(t->ssl);
	if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
		sc_error_set(err,
			     "TLS certificate of %s not accepted: %s (use a host name or "
			     "address the server's certificate names)",
			     host, X509_verify_cert_error_string(v));
	else if (v != X509_V_OK)
		sc_error_set(err,
			     "TLS certificate of %s not accepted: %s (add the CA that "
			     "signed it to shared-ca-file)",
			     host, X509_verify_cert_error_string(v));
	else
		sc_error_set(err, "TLS handshake with %s failed: %s", host,
			     ERR_reason_error_string(ERR_peek_last_error())
				     ?: "connection closed or timed out");
	return -ECONNREFUSED;
}

int sc_rtls_open(const char *host, unsigned port, const char *ca_file,
		 unsigned connect_ms, unsigned timeout_ms, struct sc_rtls **out,
		 struct sc_error *err)
{
	struct sc_rtls *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->fd = tcp_connect(host, port, connect_ms, err);
	if (t->fd < 0) {
		r = t->fd;
		goto fail;
	}
	/* The handshake is bounded by the connect timeout, each command by the transfer one. */
	set_timeouts(t->fd, connect_ms);
	t->ctx = make_ctx(ca_file, err);
	r = t->ctx ? handshake(t, host, err) : -EINVAL;
	if (r < 0)
		goto fail;
	set_timeouts(t->fd, timeout_ms);
	t->reader = redisReaderCreate();
	if (!t->reader) {
		r = -ENOMEM;
		goto fail;
	}
	*out = t;
	return 0;
fail:
	sc_rtls_close(t);
	return r;
}

static int send_all(struct sc_rtls *t, const char *buf, size_t len)
{
	while (len) {
		int n = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

		if (n <= 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

redisReply *sc_rtls_command(struct sc_rtls *t, const char *cmd, size_t len,
			    struct sc_error *err)
{
	void *reply = NULL;
	char buf[16384];
	int n;

	if (send_all(t, cmd, len) < 0) {
		sc_error_set(err, "TLS write failed or timed out");
		return NULL;
	}
	while (!reply) {
		if (redisReaderGetReply(t->reader, &reply) != REDIS_OK) {
			sc_error_set(err, "protocol error: %s", t->reader->errstr);
			return NULL;
		}
		if (reply)
			break;
		n = SSL_read(t->ssl, buf, sizeof(buf));
		if (n <= 0) {
			sc_error_set(err, "TLS read failed or timed out");
			return NULL;
		}
		if (redisReaderFeed(t->reader, buf, (size_t)n) != REDIS_OK) {
			sc_error_set(err, "protocol error: %s", t->reader->errstr);
			return NULL;
		}
	}
	return reply;
}
