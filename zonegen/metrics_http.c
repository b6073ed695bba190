/* metrics_http.c - rdns-zonegen's GET /metrics listener: one thread, one request per
 * connection, a strict and bounded request line.
 *
 * Prometheus asks once every 15 s or so; a thread that serves one connection at a time,
 * each given at most HEAD_MAX bytes and DEADLINE_MS to send its head and take its answer,
 * is all it needs, and keeps the DNS server's threads out of it. Only the request line is
 * read for meaning (method, path; the query is ignored); header fields are skipped. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/endpoint.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"

#define HEAD_MAX    8192
#define DEADLINE_MS 2000

struct zg_metrics_http {
	int fd;
	int stop[2]; /* a pipe: a byte in it stops the thread */
	pthread_t thread;
};

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write all of buf before the deadline. */
static void send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return;
		long long left = deadline - mono_ms();
		struct pollfd p = {fd, POLLOUT, 0};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
	}
}

static void answer(int fd, unsigned status, const char *reason, const char *ctype, const char *extra,
                   const char *body, size_t len, bool head_only, long long deadline)
{
	char h[512];
	int n = snprintf(
	    h, sizeof(h),
	    "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
	    status, reason, ctype, len, extra ? extra : "");
	send_all(fd, h, (size_t)n, deadline);
	if (!head_only)
		send_all(fd, body, len, deadline);
}

static void problem(int fd, unsigned status, const char *title, const char *detail, const char *extra,
                    long long deadline)
{
	char body[512];
	int n = snprintf(body, sizeof(body),
	                 "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%u,\"detail\":\"%s\"}", title,
	                 status, detail);
	answer(fd, status, title, "application/problem+json", extra, body, (size_t)n, false, deadline);
}

/* Read the head (up to its empty line) within the deadline. Returns its length, 0 when
 * the peer went away or was too slow, -1 when it is longer than HEAD_MAX. */
static long read_head(int fd, char *buf, long long deadline)
{
	size_t got = 0;
	for (;;) {
		if (got >= 4 && memmem(buf, got, "\r\n\r\n", 4))
			return (long)got;
		if (got >= HEAD_MAX)
			return -1;
		long long left = deadline - mono_ms();
		struct pollfd p = {fd, POLLIN, 0};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return 0;
		ssize_t n = recv(fd, buf + got, HEAD_MAX - got, MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			return 0;
		}
		got += (size_t)n;
	}
}

static bool tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void serve(int fd)
{
	long long deadline = mono_ms() + DEADLINE_MS;
	char buf[HEAD_MAX + 1];
	long len = read_head(fd, buf, deadline);
	if (len == 0)
		return;
	if (len < 0) {
		problem(fd, 431, "Request Header Fields Too Large", "the request head exceeds 8192 bytes",
		        NULL, deadline);
		return;
	}
	buf[len] = 0;
	/* request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3) */
	char *sp1 = strchr(buf, ' '), *eol = strstr(buf, "\r\n");
	char *sp2 = sp1 && sp1 < eol ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	bool ok = sp1 && sp2 && sp1 > buf && sp2 > sp1 + 1 && eol - sp2 == 9 &&
	          (strncmp(sp2 + 1, "HTTP/1.1", 8) == 0 || strncmp(sp2 + 1, "HTTP/1.0", 8) == 0);
	for (char *p = buf; ok && p < sp1; p++)
		ok = tchar(*p);
	for (char *p = sp1 + 1; ok && p < sp2; p++)
		ok = *p > ' ' && *p < 0x7f;
	if (!ok) {
		problem(fd, 400, "Bad Request", "not an HTTP/1.1 request line", NULL, deadline);
		return;
	}
	*sp1 = *sp2 = 0;
	char *target = sp1 + 1, *q = strchr(target, '?');
	if (q)
		*q = 0;
	if (strcmp(target, "/metrics") != 0) {
		problem(fd, 404, "Not Found", "only GET /metrics is served here", NULL, deadline);
		return;
	}
	bool head = strcmp(buf, "HEAD") == 0;
	if (!head && strcmp(buf, "GET") != 0) {
		problem(fd, 405, "Method Not Allowed", "GET or HEAD only", "Allow: GET, HEAD\r\n", deadline);
		return;
	}
	core_strbuf_t b = {0};
	if (!zg_metrics_expose(&b)) {
		free(b.p);
		problem(fd, 500, "Internal Server Error", "the metrics could not be written", NULL, deadline);
		return;
	}
	answer(fd, 200, "OK", CORE_METRICS_CONTENT_TYPE, NULL, b.p, b.len, head, deadline);
	free(b.p);
}

static void *loop(void *arg)
{
	zg_metrics_http_t *h = arg;
	for (;;) {
		struct pollfd p[2] = {{h->fd, POLLIN, 0}, {h->stop[0], POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("metrics: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (!(p[0].revents & POLLIN))
			continue;
		int c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0)
			continue;
		serve(c);
		shutdown(c, SHUT_WR);
		close(c);
	}
}

zg_metrics_http_t *zg_metrics_http_start(const char *listen_at, int *err)
{
	*err = RDNS_OK;
	if (!listen_at || !listen_at[0])
		return NULL;
	core_endpoint_t ep;
	const char *why = "";
	if (core_endpoint_parse(listen_at, CORE_EP_PORT_REQUIRED | CORE_EP_PORT_ZERO, 0, &ep, &why) !=
	    RDNS_OK) {
		log_err("metrics: metrics_listen '%s': %s", listen_at, why);
		*err = RDNS_ECONFIG;
		return NULL;
	}
	zg_metrics_http_t *h = calloc(1, sizeof(*h));
	if (!h) {
		*err = RDNS_ENOMEM;
		return NULL;
	}
	h->stop[0] = h->stop[1] = -1;
	struct sockaddr_storage ss;
	socklen_t sslen;
	core_endpoint_sockaddr(&ep, &ss, &sslen);
	int one = 1;
	/* the thread takes no signal: the daemon waits for them on a signalfd */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(h->fd, (struct sockaddr *)&ss, sslen) != 0 || listen(h->fd, 16) != 0 ||
	    pipe2(h->stop, O_CLOEXEC) != 0 || pthread_create(&h->thread, NULL, loop, h) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		log_err("metrics: cannot listen on %s: %s", listen_at, strerror(errno));
		if (h->fd >= 0)
			close(h->fd);
		if (h->stop[0] >= 0) {
			close(h->stop[0]);
			close(h->stop[1]);
		}
		free(h);
		*err = RDNS_EIO;
		return NULL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	log_info("metrics: GET /metrics on %s", listen_at);
	return h;
}

void zg_metrics_http_stop(zg_metrics_http_t *h)
{
	if (!h)
		return;
	(void)!write(h->stop[1], "x", 1);
	pthread_join(h->thread, NULL);
	close(h->fd);
	close(h->stop[0]);
	close(h->stop[1]);
	free(h);
}
