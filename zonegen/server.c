/* server.c - the hidden primary's sockets and threads: UDP and TCP on one port, a poll loop,
 * one thread per TCP connection. It only moves bytes; zg_query_handle() answers.
 *
 * TCP slots are few (one thread each), so who may hold one is decided at accept(): a source
 * outside the ACL (every query of its would be REFUSED) never gets one. The loop thread itself
 * gives it OUTSIDER_MS to send one short query, answers it (REFUSED) and closes; with
 * OUTSIDER_MAX of them waiting, more are closed at once. One allowed address holds at most
 * max_per_addr slots, and a connection lives only while it is useful: silence longer than
 * idle_ms closes it, and so does a query that takes longer than query_ms to arrive in full,
 * however many bytes trickle in meanwhile. */
#include "zonegen/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/endpoint.h"
#include "core/err.h"
#include "core/log.h"
#include "zonegen/metrics.h"

#define DEFAULT_IDLE_MS      10000
#define DEFAULT_QUERY_MS     10000
#define DEFAULT_MAX_CLIENTS  64
#define DEFAULT_MAX_PER_ADDR 8

/* Why a new connection was closed at once; one rate-limited log line each. */
enum { REJ_ACL, REJ_FULL, REJ_PER_ADDR, REJ_N };

/* Connections from outside the ACL, kept by the loop thread (no slot, no thread) just long
 * enough to answer one query with REFUSED, as UDP does: a misconfigured secondary learns why. */
#define OUTSIDER_MAX  32
#define OUTSIDER_MS   1000
#define OUTSIDER_QMAX 512 /* a longer query from outside is not read: closed */

typedef struct {
	int fd; /* -1: free */
	int64_t deadline;
	struct sockaddr_storage peer;
	size_t got;
	uint8_t buf[2 + OUTSIDER_QMAX];
} outsider_t;

typedef struct conn {
	zg_server_t *s;
	int fd;
	pthread_t th;
	atomic_bool done;
	struct sockaddr_storage peer;
	struct conn *next;
} conn_t;

struct zg_server {
	const zg_query_env_t *env;
	int idle_ms;
	int query_ms;
	int max_clients;
	int max_per_addr;

	int udp_fd;
	int tcp_fd;
	int wake[2];
	uint16_t port;
	pthread_t loop_th;
	bool started;
	atomic_bool stopping;

	pthread_mutex_t clock;
	conn_t *conns;
	atomic_int active;

	/* Only the loop thread touches these: closed-at-accept counts since the last log line,
	 * and the outsiders waiting for their REFUSED. */
	int64_t rej_logged_ms[REJ_N];
	unsigned long rej_count[REJ_N];
	outsider_t out[OUTSIDER_MAX];
	int n_out;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dns_listen: "ip:port" or "[v6]:port" (core/endpoint.h). */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sl)
{
	core_endpoint_t ep;
	if (core_endpoint_parse(spec, CORE_EP_PORT_REQUIRED | CORE_EP_PORT_ZERO, 0, &ep, NULL) != RDNS_OK)
		return RDNS_ECONFIG;
	core_endpoint_sockaddr(&ep, ss, sl);
	return RDNS_OK;
}

static int bind_err(int e)
{
	return e == EADDRINUSE ? RDNS_EEXIST : RDNS_EIO;
}

static int open_sockets(zg_server_t *s, const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;
	int rc = parse_listen(spec, &ss, &sl);
	if (rc != RDNS_OK)
		return rc;

	s->tcp_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->tcp_fd < 0)
		return RDNS_EIO;
	/* SO_REUSEADDR only skips TIME_WAIT; a live listener still makes bind fail. */
	setsockopt(s->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(s->tcp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s->tcp_fd, (struct sockaddr *)&ss, sl) != 0)
		return bind_err(errno);
	if (listen(s->tcp_fd, 128) != 0)
		return RDNS_EIO;
	struct sockaddr_storage bound;
	socklen_t bl = sizeof(bound);
	if (getsockname(s->tcp_fd, (struct sockaddr *)&bound, &bl) != 0)
		return RDNS_EIO;
	s->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
	                                           : ((struct sockaddr_in6 *)&bound)->sin6_port);
	/* UDP on the same port as TCP (the one the kernel chose for port 0). */
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(s->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(s->port);
	s->udp_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->udp_fd < 0)
		return RDNS_EIO;
	if (ss.ss_family == AF_INET6)
		setsockopt(s->udp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s->udp_fd, (struct sockaddr *)&ss, sl) != 0)
		return bind_err(errno);
	return RDNS_OK;
}

zg_server_t *zg_server_new(const zg_server_conf_t *conf, const zg_query_env_t *env, int *err)
{
	int rc = RDNS_ENOMEM;
	zg_server_t *s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto cleanup;
	s->udp_fd = s->tcp_fd = s->wake[0] = s->wake[1] = -1;
	for (int i = 0; i < OUTSIDER_MAX; i++)
		s->out[i].fd = -1;
	pthread_mutex_init(&s->clock, NULL);
	s->env = env;
	s->idle_ms = conf->tcp_idle_timeout_ms > 0 ? conf->tcp_idle_timeout_ms : DEFAULT_IDLE_MS;
	s->query_ms = conf->tcp_query_timeout_ms > 0 ? conf->tcp_query_timeout_ms : DEFAULT_QUERY_MS;
	s->max_clients = conf->max_tcp_clients > 0 ? conf->max_tcp_clients : DEFAULT_MAX_CLIENTS;
	s->max_per_addr = conf->max_tcp_per_addr > 0 ? conf->max_tcp_per_addr : DEFAULT_MAX_PER_ADDR;
	if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		rc = RDNS_EIO;
		goto cleanup;
	}
	rc = open_sockets(s, conf->listen);
	if (rc != RDNS_OK) {
		log_err("dnssrv: cannot listen on %s: %s", conf->listen,
		        rc == RDNS_EEXIST ? "address in use" : rdns_strerror(rc));
		goto cleanup;
	}
cleanup:
	if (rc != RDNS_OK) {
		zg_server_free(s);
		s = NULL;
	}
	if (err)
		*err = rc;
	return s;
}

uint16_t zg_server_port(const zg_server_t *s)
{
	return s->port;
}

typedef struct {
	int fd;
	const struct sockaddr *peer;
	socklen_t peerlen;
} udp_out_t;

static int udp_emit(void *arg, const uint8_t *msg, size_t len)
{
	udp_out_t *u = arg;
	/* Best effort: a lost UDP answer is retried by the client. */
	(void)sendto(u->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, u->peer, u->peerlen);
	return 0;
}

/* Wait for ev on fd at most idle_ms, and not past deadline (monotonic ms; 0: none). */
static int wait_fd(zg_server_t *s, int fd, short ev, int64_t deadline)
{
	struct pollfd pf = {.fd = fd, .events = ev};
	for (;;) {
		if (atomic_load(&s->stopping))
			return RDNS_EIO;
		int timeout = s->idle_ms;
		if (deadline != 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return RDNS_ETIMEOUT;
			if (left < timeout)
				timeout = (int)left;
		}
		int n = poll(&pf, 1, timeout);
		if (n > 0)
			return RDNS_OK; /* errors and hangups show in the following read/write */
		if (n == 0)
			return RDNS_ETIMEOUT;
		if (errno != EINTR)
			return RDNS_EIO;
	}
}

static int tcp_emit(void *arg, const uint8_t *msg, size_t len)
{
	conn_t *c = arg;
	uint8_t pfx[2];
	zg_wire_put16(pfx, (uint16_t)len);
	struct iovec iov[2] = {{pfx, 2}, {(void *)msg, len}};
	size_t total = len + 2, done = 0;
	while (done < total) {
		struct msghdr mh = {0};
		struct iovec v[2];
		int nv = 0;
		if (done < 2) {
			v[nv++] = (struct iovec){pfx + done, 2 - done};
			v[nv++] = iov[1];
		} else {
			v[nv++] = (struct iovec){(uint8_t *)msg + (done - 2), len - (done - 2)};
		}
		mh.msg_iov = v;
		mh.msg_iovlen = (size_t)nv;
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(c->s, c->fd, POLLOUT, 0) != RDNS_OK)
				return -1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
	return 0;
}

/* Read exactly n bytes; RDNS_OK, RDNS_ETIMEOUT, RDNS_EIO (closed or error).
 * *deadline (monotonic ms) bounds the whole query: 0 until its first byte
 * arrives, when it is set to query_ms from then; more bytes do not move it. */
static int read_full(conn_t *c, uint8_t *buf, size_t n, int64_t *deadline)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = recv(c->fd, buf + got, n - got, MSG_DONTWAIT);
		if (k > 0) {
			got += (size_t)k;
			if (*deadline == 0)
				*deadline = now_ms() + c->s->query_ms;
			continue;
		}
		if (k == 0)
			return RDNS_EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return RDNS_EIO;
		int rc = wait_fd(c->s, c->fd, POLLIN, *deadline);
		if (rc != RDNS_OK)
			return rc;
	}
	return RDNS_OK;
}

static void wake_loop(zg_server_t *s)
{
	char b = 1;
	(void)!write(s->wake[1], &b, 1);
}

static void *conn_main(void *arg)
{
	conn_t *c = arg;
	zg_server_t *s = c->s;
	uint8_t *q = malloc(ZG_WIRE_MSG_MAX);
	/* RFC 7766 §6.2.1: several queries per connection, answered in order. */
	while (q != NULL && !atomic_load(&s->stopping)) {
		uint8_t pfx[2];
		int64_t deadline = 0;
		if (read_full(c, pfx, 2, &deadline) != RDNS_OK)
			break;
		size_t n = zg_wire_get16(pfx);
		if (read_full(c, q, n, &deadline) != RDNS_OK)
			break;
		if (zg_query_handle(s->env, q, n, (struct sockaddr *)&c->peer, ZG_QUERY_TCP, tcp_emit, c) !=
		    RDNS_OK)
			break; /* dropped query, broken transfer or gone peer: close */
	}
	free(q);
	shutdown(c->fd, SHUT_RDWR);
	atomic_fetch_sub(&s->active, 1);
	atomic_store(&c->done, true);
	wake_loop(s);
	return NULL;
}

/* Join and free finished connections (all of them when all is set). */
static void reap(zg_server_t *s, bool all)
{
	conn_t *dead = NULL;
	pthread_mutex_lock(&s->clock);
	conn_t **pp = &s->conns;
	while (*pp) {
		conn_t *c = *pp;
		if (all || atomic_load(&c->done)) {
			*pp = c->next;
			c->next = dead;
			dead = c;
		} else {
			pp = &c->next;
		}
	}
	pthread_mutex_unlock(&s->clock);
	while (dead) {
		conn_t *c = dead;
		dead = c->next;
		pthread_join(c->th, NULL);
		close(c->fd);
		free(c);
	}
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return false;
}

/* Live connections from the address of peer (caller holds s->clock). */
static int count_from(const zg_server_t *s, const struct sockaddr_storage *peer)
{
	int n = 0;
	for (const conn_t *c = s->conns; c; c = c->next)
		if (!atomic_load(&c->done) && same_addr(&c->peer, peer))
			n++;
	return n;
}

/* Close a connection refused at accept with a reset: no TIME_WAIT kept for
 * a flood of them, and the peer learns at once. At most one log line per
 * reason and second, carrying how many were closed since the last one. */
static void reject(zg_server_t *s, int fd, int why, const struct sockaddr_storage *peer)
{
	static const char *const what[REJ_N] = {
	    [REJ_ACL] = "outside transfer_allow",
	    [REJ_FULL] = "all TCP slots taken",
	    [REJ_PER_ADDR] = "too many TCP connections from this address",
	};
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	s->rej_count[why]++;
	static const char *const label[REJ_N] = {
	    [REJ_ACL] = "acl", [REJ_FULL] = "full", [REJ_PER_ADDR] = "per_address"};
	zg_metrics_refused("tcp", label[why]);
	int64_t now = now_ms();
	if (now - s->rej_logged_ms[why] < 1000)
		return;
	char ip[INET6_ADDRSTRLEN] = "?";
	if (peer->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, ip, sizeof(ip));
	else if (peer->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, ip, sizeof(ip));
	log_warn("dnssrv: closed %lu new TCP connection(s): %s (last from %s; limits: %d, %d per address, "
	         "%d outside transfer_allow waiting for REFUSED)",
	         s->rej_count[why], what[why], ip, s->max_clients, s->max_per_addr, OUTSIDER_MAX);
	s->rej_logged_ms[why] = now;
	s->rej_count[why] = 0;
}

static void outsider_close(zg_server_t *s, outsider_t *o, bool reset)
{
	if (reset) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(o->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(o->fd);
	o->fd = -1;
	s->n_out--;
}

static void outsider_add(zg_server_t *s, int fd, const struct sockaddr_storage *peer)
{
	for (int i = 0; i < OUTSIDER_MAX; i++) {
		outsider_t *o = &s->out[i];
		if (o->fd >= 0)
			continue;
		o->fd = fd;
		o->peer = *peer;
		o->got = 0;
		o->deadline = now_ms() + OUTSIDER_MS;
		s->n_out++;
		return;
	}
	reject(s, fd, REJ_ACL, peer);
}

/* The answer to an outsider is one short message into an empty send buffer:
 * all of it goes at once, or the outsider does without. */
static int outsider_emit(void *arg, const uint8_t *msg, size_t len)
{
	const outsider_t *o = arg;
	uint8_t pfx[2];
	zg_wire_put16(pfx, (uint16_t)len);
	struct iovec v[2] = {{pfx, 2}, {(void *)msg, len}};
	struct msghdr mh = {.msg_iov = v, .msg_iovlen = 2};
	ssize_t n = sendmsg(o->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n == (ssize_t)(len + 2) ? 0 : -1;
}

/* Read what an outsider sent; once its query is whole, answer it and close. */
static void outsider_read(zg_server_t *s, outsider_t *o)
{
	for (;;) {
		size_t want = o->got < 2 ? 2 : 2 + (size_t)zg_wire_get16(o->buf);
		if (o->got >= 2 && (want == 2 || want > sizeof(o->buf))) {
			outsider_close(s, o, true); /* empty, or too long for a plain query */
			return;
		}
		if (o->got == want) {
			zg_query_handle(s->env, o->buf + 2, want - 2, (struct sockaddr *)&o->peer,
			                ZG_QUERY_TCP, outsider_emit, o);
			outsider_close(s, o, false);
			return;
		}
		ssize_t k = recv(o->fd, o->buf + o->got, want - o->got, MSG_DONTWAIT);
		if (k > 0) {
			o->got += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		outsider_close(s, o, false); /* closed or broken */
		return;
	}
}

/* Outsiders past their time are reset; returns the poll timeout until the next one. */
static int outsider_expire(zg_server_t *s)
{
	int64_t now = now_ms(), next = -1;
	for (int i = 0; i < OUTSIDER_MAX; i++) {
		outsider_t *o = &s->out[i];
		if (o->fd < 0)
			continue;
		if (o->deadline <= now) {
			outsider_close(s, o, true);
			continue;
		}
		if (next < 0 || o->deadline - now < next)
			next = o->deadline - now;
	}
	return (int)next;
}

static void accept_all(zg_server_t *s)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(s->tcp_fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("dnssrv: accept: %s", strerror(errno));
			return;
		}
		/* Every query from there would be REFUSED (query.c): never give it a slot. */
		if (!zg_query_source_allowed(s->env, (struct sockaddr *)&peer)) {
			outsider_add(s, fd, &peer);
			continue;
		}
		if (atomic_load(&s->active) >= s->max_clients) {
			reject(s, fd, REJ_FULL, &peer);
			continue;
		}
		pthread_mutex_lock(&s->clock);
		int from_peer = count_from(s, &peer);
		pthread_mutex_unlock(&s->clock);
		if (from_peer >= s->max_per_addr) {
			reject(s, fd, REJ_PER_ADDR, &peer);
			continue;
		}
		int one = 1;
		/* Without it the last small message of a transfer can wait for a delayed ACK. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conn_t *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->s = s;
		c->fd = fd;
		c->peer = peer;
		atomic_init(&c->done, false);
		atomic_fetch_add(&s->active, 1);
		pthread_mutex_lock(&s->clock);
		if (pthread_create(&c->th, NULL, conn_main, c) != 0) {
			pthread_mutex_unlock(&s->clock);
			atomic_fetch_sub(&s->active, 1);
			close(fd);
			free(c);
			log_err("dnssrv: cannot start a connection thread");
			continue;
		}
		c->next = s->conns;
		s->conns = c;
		pthread_mutex_unlock(&s->clock);
	}
}

static void udp_all(zg_server_t *s, uint8_t *buf)
{
	/* A bounded batch so TCP accepts are not starved. */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		ssize_t n =
		    recvfrom(s->udp_fd, buf, ZG_WIRE_MSG_MAX, MSG_DONTWAIT, (struct sockaddr *)&peer, &pl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		udp_out_t u = {.fd = s->udp_fd, .peer = (struct sockaddr *)&peer, .peerlen = pl};
		zg_query_handle(s->env, buf, (size_t)n, (struct sockaddr *)&peer, ZG_QUERY_UDP, udp_emit, &u);
	}
}

static void *loop_main(void *arg)
{
	zg_server_t *s = arg;
	uint8_t *buf = malloc(ZG_WIRE_MSG_MAX);
	struct pollfd pf[3 + OUTSIDER_MAX] = {
	    {.fd = s->wake[0], .events = POLLIN},
	    {.fd = s->udp_fd, .events = POLLIN},
	    {.fd = s->tcp_fd, .events = POLLIN},
	};
	int which[OUTSIDER_MAX]; /* pf[3 + j] is s->out[which[j]] */
	while (buf != NULL && !atomic_load(&s->stopping)) {
		reap(s, false);
		int timeout = outsider_expire(s);
		nfds_t npf = 3;
		for (int i = 0; i < OUTSIDER_MAX; i++)
			if (s->out[i].fd >= 0) {
				which[npf - 3] = i;
				pf[npf++] = (struct pollfd){.fd = s->out[i].fd, .events = POLLIN};
			}
		int n = poll(pf, npf, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("dnssrv: poll: %s", strerror(errno));
			break;
		}
		if (pf[0].revents) {
			char tmp[64];
			while (read(s->wake[0], tmp, sizeof(tmp)) > 0)
				;
		}
		if (atomic_load(&s->stopping))
			break;
		if (pf[1].revents)
			udp_all(s, buf);
		for (nfds_t j = 3; j < npf; j++)
			if (pf[j].revents)
				outsider_read(s, &s->out[which[j - 3]]);
		if (pf[2].revents)
			accept_all(s);
	}
	for (int i = 0; i < OUTSIDER_MAX; i++)
		if (s->out[i].fd >= 0)
			outsider_close(s, &s->out[i], true);
	free(buf);
	return NULL;
}

int zg_server_start(zg_server_t *s)
{
	if (s->started)
		return RDNS_EINVAL;
	atomic_store(&s->stopping, false);
	if (pthread_create(&s->loop_th, NULL, loop_main, s) != 0)
		return RDNS_ENOMEM;
	s->started = true;
	log_info("dnssrv: listening on port %u", s->port);
	return RDNS_OK;
}

void zg_server_stop(zg_server_t *s)
{
	if (s == NULL || !s->started)
		return;
	atomic_store(&s->stopping, true);
	wake_loop(s);
	pthread_join(s->loop_th, NULL);
	/* Wake the connection threads out of poll/recv/send. */
	pthread_mutex_lock(&s->clock);
	for (conn_t *c = s->conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->clock);
	reap(s, true);
	s->started = false;
}

void zg_server_free(zg_server_t *s)
{
	if (s == NULL)
		return;
	zg_server_stop(s);
	if (s->udp_fd >= 0)
		close(s->udp_fd);
	if (s->tcp_fd >= 0)
		close(s->tcp_fd);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	pthread_mutex_destroy(&s->clock);
	free(s);
}
