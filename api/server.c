/* server.c - rdns-api's HTTP/1.1 connections: accept, limits, deadlines, keep-alive, answers.
 *
 * Why not libmicrohttpd: Debian 12's only version, 0.9.75, (1) leaves a worker blocked
 * for good on its own mutex when MHD_add_connection() meets the connection limit
 * (new_connection_process_ returns with cleanup_connection_mutex held; fixed in 1.0.0,
 * commit 67061d5c); (2) frames requests loosely: the first of two Content-Length
 * fields wins and the rest of the body is served as a second request, TE + CL is
 * served, an unknown transfer coding waits for the idle timeout; (3) answers the errors
 * it finds itself (bad chunk, bad Content-Length, 413, 431) in HTML, with no hook to
 * change them, sends some of them with two status lines, and resets a connection whose
 * request line outgrows its memory pool; (4) has no deadline for a whole request, only
 * an idle timeout that each byte resets. A public API must do all four right, so rdns
 * frames its requests itself (http1.c, pure and fuzzed) and runs its connections here.
 *
 * The shape is MHD's thread pool: api_threads workers, each with its own epoll set and
 * its own PostgreSQL connection, running handlers to completion (a handler's database
 * calls are short). One thread accepts and deals connections to the workers in turn;
 * it refuses, with a 503 problem+json, a connection above api_max_connections or above
 * api_per_ip_connections from one address. A handler that waits on something slow parks
 * its request (offload.c) and the worker goes on; the request comes back to its worker
 * through the worker's eventfd.
 *
 * Deadlines (checked every DEADLINE_TICK_MS): a new connection must send its first
 * request, and every request must arrive whole (head and body), within
 * api_request_timeout_ms of its first byte, however slowly the bytes trickle (408 and
 * close); a keep-alive connection may idle api_idle_timeout seconds; an answer must be
 * taken by the client within api_request_timeout_ms. An error in framing is answered
 * and the connection closed (after reading away what the client still sends, for at
 * most LINGER_MS, so that the close does not reset the answer away).
 */
#include "api/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "api/batch.h"
#include "api/metrics.h"
#include "api/offload.h"
#include "api/proxy.h"
#include "api/tls.h"
#include "core/endpoint.h"
#include "core/err.h"
#include "core/log.h"

#define DEADLINE_TICK_MS 200
#define LINGER_MS        2000
#define IN_START         4096
/* A head, the largest body and a little of a pipelined next request; IN_MAX_BATCH while
 * the body of a bulk change (POST /v1/ptr:batch) is read. */
#define IN_MAX       (H1_MAX_HEAD + API_MAX_BODY + 4096)
#define IN_MAX_BATCH (H1_MAX_HEAD + API_MAX_BATCH_BODY + 4096)
#define ADDR_BUCKETS 1024

typedef enum {
	C_PROXY, /* waiting for the PROXY protocol header */
	C_IDLE,  /* between requests */
	C_HEAD,  /* reading a request's head */
	C_BODY,  /* reading its body */
	C_BUSY,  /* a handler has it, or it is parked */
	C_WRITE, /* the answer is being written */
	C_LINGER /* answered, closing: reading away what still comes */
} conn_state_t;

typedef struct worker worker_t;

struct api_conn {
	int fd;
	conn_state_t state;
	worker_t *w;
	api_conn_t *prev, *next; /* the worker's list (or its list of dead ones) */
	int64_t deadline;        /* CLOCK_MONOTONIC ms; 0: none */
	uint32_t events;         /* what epoll waits for */
	core_addr_t peer;
	bool peer_trusted;
	core_addr_t client; /* peer, or what a trusted proxy's PROXY header says */
	bool counted;       /* holds a place for client in the per-address table */
	bool dead;          /* closed while its request was parked: freed when it comes back */
	char *in;
	size_t in_len, in_cap, scan, parsed_at;
	h1_request_t req;
	h1_chunked_t chunk;
	char *body;
	size_t body_len, consumed;
	size_t body_max; /* the request's body limit (body_limit) */
	char *out;
	size_t out_len, out_off, out_cap;
	bool close_after;
	bool head_only;  /* HEAD: no body is sent */
	bool head_moved; /* the buffer moved after the head was parsed */
	bool in_input;   /* conn_input is running for it */
	api_req_t *r;    /* the request being handled or parked */
	api_tls_t *tls;  /* with HTTPS: the session (tls.c) */
	bool tls_on;     /* the session speaks on the socket (after a PROXY header, if any) */
};

typedef struct addr_node {
	core_addr_t a;
	long n;
	struct addr_node *next;
} addr_node_t;

struct worker {
	api_app_t *app;
	pthread_t thread;
	bool running;
	int epfd, evfd;
	pthread_mutex_t lock; /* incoming, resumed */
	api_conn_t *incoming; /* handed over by the accept thread (singly linked by next) */
	api_req_t **resumed;  /* parked requests whose work is done */
	size_t n_resumed, cap_resumed;
	api_conn_t conns; /* list head (sentinel) of the live connections */
	api_conn_t dead;  /* closed connections with a parked request */
	int64_t last_tick;
	char date[64];
	time_t date_sec;
};

struct api_app {
	const rdns_conf_t *conf;
	int listen_fd;
	pthread_t acceptor;
	bool acceptor_running;
	atomic_bool stopping;
	worker_t *workers;
	size_t n_workers, next_worker;
	atomic_long open; /* connections accepted and not yet closed */
	core_prefix_t *trusted;
	size_t n_trusted;
	bool proxy_protocol;
	pthread_mutex_t addr_lock;
	addr_node_t *addrs[ADDR_BUCKETS];
	char refusal[2][512]; /* the 503s: [0] at api_max_connections, [1] at api_per_ip_connections */
	size_t refusal_len[2];
	unsigned long refused[2]; /* since the last log line (accept thread only) */
	struct timespec refused_logged;
	pthread_mutex_t lock; /* dbs */
	db_t **dbs;           /* every worker's connection, freed at the end */
	size_t n_dbs, cap_dbs;
	pthread_mutex_t tls_lock; /* creds */
	api_tls_creds_t *creds;   /* with HTTPS: what new connections use (one reference) */
	bool tls;                 /* HTTPS (set before the threads start) */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Thread_local db_t *tl_db;

db_t *api_thread_db(api_app_t *app)
{
	if (tl_db)
		return tl_db;
	db_t *db = db_new(app->conf->database_url);
	if (!db)
		return NULL;
	pthread_mutex_lock(&app->lock);
	if (app->n_dbs == app->cap_dbs) {
		size_t cap = app->cap_dbs ? app->cap_dbs * 2 : 16;
		db_t **n = realloc(app->dbs, cap * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&app->lock);
			db_free(db);
			return NULL;
		}
		app->dbs = n;
		app->cap_dbs = cap;
	}
	app->dbs[app->n_dbs++] = db;
	pthread_mutex_unlock(&app->lock);
	tl_db = db;
	return db;
}

/* --- the per-address table ------------------------------------------------------------- */

static size_t addr_hash(const core_addr_t *a)
{
	uint32_t h = 2166136261u ^ (uint32_t)a->family;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ a->b[i]) * 16777619u;
	return h % ADDR_BUCKETS;
}

/* Takes a place for a; false (nothing taken) when a already holds the limit. */
static bool addr_take(api_app_t *app, const core_addr_t *a)
{
	long limit = app->conf->api_per_ip_connections;
	size_t h = addr_hash(a);
	bool ok = true;
	pthread_mutex_lock(&app->addr_lock);
	addr_node_t *n = app->addrs[h];
	while (n && !core_addr_equal(&n->a, a))
		n = n->next;
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (n) {
			n->a = *a;
			n->next = app->addrs[h];
			app->addrs[h] = n;
		}
	}
	if (!n || (limit > 0 && n->n >= limit))
		ok = false;
	else
		n->n++;
	pthread_mutex_unlock(&app->addr_lock);
	return ok;
}

static void addr_release(api_app_t *app, const core_addr_t *a)
{
	size_t h = addr_hash(a);
	pthread_mutex_lock(&app->addr_lock);
	for (addr_node_t **p = &app->addrs[h]; *p; p = &(*p)->next)
		if (core_addr_equal(&(*p)->a, a)) {
			if (--(*p)->n <= 0) {
				addr_node_t *dead = *p;
				*p = dead->next;
				free(dead);
			}
			break;
		}
	pthread_mutex_unlock(&app->addr_lock);
}

static bool trusted(const api_app_t *app, const core_addr_t *a)
{
	for (size_t i = 0; i < app->n_trusted; i++)
		if (core_prefix_contains(&app->trusted[i], a))
			return true;
	return false;
}

static void sockaddr_addr(const struct sockaddr_storage *ss, core_addr_t *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->family = CORE_AF_INET;
		memcpy(a->b, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *x = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(x)) {
			a->family = CORE_AF_INET;
			memcpy(a->b, x->s6_addr + 12, 4);
		} else {
			a->family = CORE_AF_INET6;
			memcpy(a->b, x->s6_addr, 16);
		}
	}
}

/* --- connections ------------------------------------------------------------------------ */

static void list_add(api_conn_t *head, api_conn_t *c)
{
	c->next = head->next;
	c->prev = head;
	head->next->prev = c;
	head->next = c;
}

static void list_del(api_conn_t *c)
{
	if (c->prev) {
		c->prev->next = c->next;
		c->next->prev = c->prev;
	}
	c->prev = c->next = NULL;
}

static void conn_free(api_conn_t *c)
{
	api_tls_free(c->tls);
	api_req_free(c->r);
	free(c->in);
	free(c->body);
	free(c->out);
	free(c);
}

static void set_events(api_conn_t *c, uint32_t events)
{
	if (c->events == events)
		return;
	struct epoll_event ev = {.events = events, .data.ptr = c};
	if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = events;
}

/* Closes the socket and gives back its places. A parked request keeps the memory until
 * its work comes back (api_req_resume). */
static void conn_close(api_conn_t *c)
{
	api_app_t *app = c->w->app;
	epoll_ctl(c->w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	api_tls_free(c->tls); /* gives back its credentials, perhaps the last of a reload's old ones */
	c->tls = NULL;
	c->tls_on = false;
	if (c->counted)
		addr_release(app, &c->client);
	c->counted = false;
	atomic_fetch_sub(&app->open, 1);
	list_del(c);
	if (c->r && c->r->parked) {
		c->dead = true;
		list_add(&c->w->dead, c);
	} else {
		conn_free(c);
	}
}

static const char *reason(unsigned status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
	}
}

static const char *http_date(worker_t *w)
{
	time_t t = time(NULL);
	if (t != w->date_sec) {
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		w->date_sec = t;
	}
	return w->date;
}

static bool out_reserve(api_conn_t *c, size_t more)
{
	if (c->out_len + more <= c->out_cap)
		return true;
	size_t cap = c->out_cap ? c->out_cap : 1024;
	while (cap < c->out_len + more)
		cap *= 2;
	char *n = realloc(c->out, cap);
	if (!n)
		return false;
	c->out = n;
	c->out_cap = cap;
	return true;
}

/* Appends r's answer to the connection's output. */
static bool serialize(api_conn_t *c, api_req_t *r)
{
	bool body_allowed = r->status >= 200 && r->status != 204 && r->status != 304;
	char head[1024];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %u %s\r\nDate: %s\r\n", r->status, reason(r->status),
	                 http_date(c->w));
	if (n < 0 || (size_t)n >= sizeof(head))
		return false;
	size_t hl = (size_t)n;
	if (r->ctype && body_allowed)
		hl += (size_t)snprintf(head + hl, sizeof(head) - hl, "Content-Type: %s\r\n", r->ctype);
	if (body_allowed)
		hl += (size_t)snprintf(head + hl, sizeof(head) - hl, "Content-Length: %zu\r\n", r->out_len);
	if (r->status >= 200)
		hl += (size_t)snprintf(head + hl, sizeof(head) - hl, "Cache-Control: no-store\r\n");
	if (r->id[0])
		hl += (size_t)snprintf(head + hl, sizeof(head) - hl, "X-Request-Id: %s\r\n", r->id);
	if (hl >= sizeof(head) - 64)
		return false;
	const char *conn_hdr = c->close_after      ? "Connection: close\r\n"
	                       : c->req.minor == 0 ? "Connection: keep-alive\r\n"
	                                           : "";
	size_t cl = strlen(conn_hdr);
	size_t bl = body_allowed && !c->head_only ? r->out_len : 0;
	if (!out_reserve(c, hl + r->hdrs_len + cl + 2 + bl))
		return false;
	memcpy(c->out + c->out_len, head, hl);
	c->out_len += hl;
	memcpy(c->out + c->out_len, r->hdrs, r->hdrs_len);
	c->out_len += r->hdrs_len;
	memcpy(c->out + c->out_len, conn_hdr, cl);
	c->out_len += cl;
	memcpy(c->out + c->out_len, "\r\n", 2);
	c->out_len += 2;
	if (bl)
		memcpy(c->out + c->out_len, r->out, bl);
	c->out_len += bl;
	return true;
}

static bool conn_input(api_conn_t *c);
static bool conn_read(api_conn_t *c);
static void make_id(char *out);

/* The answer is out: close, linger or wait for the next request. */
static void answered(api_conn_t *c)
{
	c->out_len = c->out_off = 0;
	if (c->close_after) {
		if (c->tls_on)
			api_tls_bye(c->tls);
		shutdown(c->fd, SHUT_WR);
		c->state = C_LINGER;
		c->deadline = now_ms() + LINGER_MS;
		set_events(c, EPOLLIN);
		return;
	}
	api_req_free(c->r);
	c->r = NULL;
	/* what is left in the buffer is the start of the next request */
	if (c->consumed < c->in_len)
		memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
	c->in_len -= c->consumed;
	c->consumed = 0;
	c->scan = c->parsed_at = 0;
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
	c->head_only = false;
	c->state = C_IDLE;
	c->deadline = now_ms() + c->w->app->conf->api_idle_timeout * 1000;
	set_events(c, EPOLLIN);
	if (c->in_input) /* inside conn_input, its loop goes on with it */
		return;
	if (c->tls_on && api_tls_pending(c->tls)) /* records GnuTLS holds: epoll cannot see them */
		conn_read(c);
	else if (c->in_len)
		conn_input(c);
}

/* send(2) on the connection, through TLS when it is on. */
static ssize_t conn_send(api_conn_t *c, const char *p, size_t len)
{
	if (c->tls_on)
		return api_tls_send(c->tls, p, len);
	return send(c->fd, p, len, MSG_NOSIGNAL);
}

/* Writes what is pending; false when the connection was closed. */
static bool flush(api_conn_t *c)
{
	while (c->out_off < c->out_len) {
		/* after EAGAIN the same bytes are offered again, as GnuTLS requires */
		ssize_t n = conn_send(c, c->out + c->out_off, c->out_len - c->out_off);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->state != C_WRITE) {
				c->state = C_WRITE;
				c->deadline = now_ms() + c->w->app->conf->api_request_timeout_ms;
			}
			set_events(c, c->tls_on && !api_tls_want_write(c->tls) ? EPOLLIN : EPOLLOUT);
			return true;
		}
		conn_close(c);
		return false;
	}
	answered(c);
	return true;
}

/* Sends r's answer; false when the connection was closed (and may be freed). */
static bool respond(api_conn_t *c)
{
	api_req_t *r = c->r;
	if (!r->h1 || !r->h1->keep_alive)
		c->close_after = true;
	if (!serialize(c, r)) {
		conn_close(c);
		return false;
	}
	c->state = C_WRITE;
	c->deadline = now_ms() + c->w->app->conf->api_request_timeout_ms;
	return flush(c);
}

/* A request the server refuses by itself: answered with a problem and closed. */
/* API_MAX_BATCH_BODY for POST /v1/ptr:batch (bulk changes carry up to 1,000 items),
 * API_MAX_BODY for everything else. */
static size_t body_limit(const h1_request_t *q)
{
	size_t n = sizeof(API_BATCH_PATH) - 1;
	bool batch = q->target_len >= n && memcmp(q->target, API_BATCH_PATH, n) == 0 &&
	             (q->target_len == n || q->target[n] == '?');
	return batch ? API_MAX_BATCH_BODY : API_MAX_BODY;
}

static bool fail(api_conn_t *c, unsigned status, const char *detail)
{
	if (!c->r) {
		c->r = calloc(1, sizeof(*c->r));
		if (!c->r) {
			conn_close(c);
			return false;
		}
		c->r->app = c->w->app;
		c->r->conf = c->w->app->conf;
		make_id(c->r->id);
	}
	api_problem(c->r, status, NULL, reason(status), NULL, "%s", detail);
	api_metrics_refused(status, NULL);
	if (status == 503 || status == 408)
		api_header(c->r, "Retry-After", "1");
	c->r->h1 = NULL;
	c->close_after = true;
	log_debug("http: connection from %s refused with %u: %s", c->r->client[0] ? c->r->client : "?",
	          status, detail);
	return respond(c);
}

/* The client address of a request: the connection's, or, from a trusted proxy without
 * the PROXY protocol, the last address in X-Forwarded-For that is not itself a trusted
 * proxy (the ones before it are whatever the client chose to send). */
static void client_of(api_conn_t *c, char *out)
{
	core_addr_t a = c->client;
	if (c->peer_trusted && !c->w->app->proxy_protocol) {
		size_t len;
		const char *xff = h1_header(&c->req, "X-Forwarded-For", &len);
		while (xff && len) {
			size_t end = len, start;
			while (end && (xff[end - 1] == ' ' || xff[end - 1] == '\t'))
				end--;
			start = end;
			while (start && xff[start - 1] != ',')
				start--;
			size_t s = start;
			while (s < end && (xff[s] == ' ' || xff[s] == '\t'))
				s++;
			char item[CORE_ADDR_STRLEN];
			core_addr_t x;
			if (end - s == 0 || end - s >= sizeof(item))
				break;
			memcpy(item, xff + s, end - s);
			item[end - s] = 0;
			if (core_addr_parse(item, &x) != RDNS_OK)
				break;
			a = x;
			if (!trusted(c->w->app, &x))
				break;
			len = start ? start - 1 : 0;
		}
	}
	core_addr_format(&a, out, CORE_ADDR_STRLEN);
}

/* Splits the query into r's arguments ('&' separated), each name and value decoded. */
static bool parse_args(api_req_t *r, const char *q, size_t qlen)
{
	r->query_buf = malloc(qlen + 2 * API_MAX_ARGS + 2);
	if (!r->query_buf)
		return false;
	char *w = r->query_buf;
	size_t i = 0;
	while (i < qlen && r->n_args < API_MAX_ARGS) {
		size_t j = i;
		while (j < qlen && q[j] != '&')
			j++;
		if (j > i) {
			size_t eq = i;
			while (eq < j && q[eq] != '=')
				eq++;
			r->arg_name[r->n_args] = w;
			w += h1_form_decode(q + i, eq - i, w) + 1;
			r->arg_value[r->n_args] = w;
			w += h1_form_decode(q + (eq < j ? eq + 1 : j), eq < j ? j - eq - 1 : 0, w) + 1;
			r->n_args++;
		}
		i = j + 1;
	}
	return true;
}

/* A request id of 16 hex digits: splitmix64 over a per-thread seed from getrandom(). */
static void make_id(char *out)
{
	static _Thread_local uint64_t state;
	if (!state && getrandom(&state, sizeof(state), 0) != sizeof(state))
		state = (uint64_t)now_ms() ^ (uint64_t)(uintptr_t)&state;
	uint64_t z = (state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	snprintf(out, 17, "%016" PRIx64, z);
}

/* The client's X-Request-Id when it is 1 to 64 of [A-Za-z0-9._:-] (safe in a header, a log
 * line and JSON), else a new one. */
static void request_id(const h1_request_t *q, char *out)
{
	size_t len;
	const char *v = q ? h1_header(q, "X-Request-Id", &len) : NULL;
	bool ok = v && len >= 1 && len <= API_REQUEST_ID_MAX;
	for (size_t i = 0; ok && i < len; i++)
		ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		     (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '_' || v[i] == ':' || v[i] == '-';
	if (ok) {
		memcpy(out, v, len);
		out[len] = 0;
	} else {
		make_id(out);
	}
}

api_req_t *api_req_new(api_app_t *app, h1_request_t *q, char *body, size_t body_len, const char *client)
{
	api_req_t *r = calloc(1, sizeof(*r));
	if (!r) {
		free(body);
		return NULL;
	}
	r->app = app;
	r->conf = app->conf;
	r->body = body;
	r->body_len = body_len;
	snprintf(r->client, sizeof(r->client), "%s", client);
	request_id(q, r->id);
	/* field values NUL-terminated in place: the byte after each is white space or a line end */
	for (size_t i = 0; i < q->n_headers; i++)
		((char *)q->headers[i].value)[q->headers[i].value_len] = 0;
	r->h1 = q;
	h1_error_t err;
	const char *query = NULL;
	size_t qlen = 0;
	r->method = strndup(q->method, q->method_len);
	r->path = malloc(q->target_len + 1);
	r->param_buf = malloc(q->target_len + API_MAX_PARAMS + 1);
	if (!r->method || !r->path || !r->param_buf) {
		api_req_free(r);
		return NULL;
	}
	if (!h1_target_path(q->target, q->target_len, r->path, q->target_len + 1, &query, &qlen, &err)) {
		free(r->path);
		r->path = NULL;
		api_problem(r, err.status, NULL, reason(err.status), NULL, "%s", err.detail);
		return r;
	}
	if (!parse_args(r, query, query ? qlen : 0)) {
		api_req_free(r);
		return NULL;
	}
	return r;
}

/* The head and body are whole: make the request and hand it to the router. */
static bool dispatch_request(api_conn_t *c)
{
	char client[CORE_ADDR_STRLEN];
	client_of(c, client);
	api_req_t *r = api_req_new(c->w->app, &c->req, c->body, c->body_len, client);
	c->body = NULL;
	c->body_len = 0;
	c->r = r;
	if (!r) {
		conn_close(c);
		return false;
	}
	r->conn = c;
	if (r->status) { /* the request-target: answered like a framing error, and closed */
		api_metrics_refused(r->status, NULL);
		r->h1 = NULL;
		c->close_after = true;
		return respond(c);
	}
	c->head_only = strcmp(r->method, "HEAD") == 0;
	c->state = C_BUSY;
	c->deadline = 0;
	api_handle(r);
	if (r->parked) /* still watched for reading: see on_event (an epoll_ctl less each way) */
		return true;
	return respond(c);
}

/* "HTTP/1.1 100 Continue" before a body the client waits to send; best effort. */
static void send_continue(api_conn_t *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	if (c->tls_on)
		api_tls_send_aside(c->tls, cont, sizeof(cont) - 1);
	else
		(void)!send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Makes progress with what has been read; runs until it needs more bytes or the
 * connection is busy, writing, lingering or closed. false: closed (c may be freed). */
static bool input_loop(api_conn_t *c)
{
	api_app_t *app = c->w->app;
	for (;;) {
		switch (c->state) {
		case C_PROXY: {
			core_addr_t a;
			size_t used;
			const char *why;
			int rc = api_proxy_parse(c->in, c->in_len, &a, &used, &why);
			if (rc == H1_INCOMPLETE)
				return true;
			if (rc == H1_ERROR) {
				return fail(c, 400, why);
			}
			if (a.family)
				c->client = a;
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
			if (c->tls) { /* what follows the header is the TLS handshake's: GnuTLS reads it */
				if (!api_tls_prebuffer(c->tls, c->in, c->in_len)) {
					conn_close(c);
					return false;
				}
				c->in_len = 0;
				c->tls_on = true;
			}
			if (!addr_take(app, &c->client)) {
				return fail(c, 503, "too many connections from your address; retry shortly");
			}
			c->counted = true;
			c->state = C_IDLE;
			continue;
		}
		case C_IDLE:
			if (!c->in_len)
				return true;
			c->state = C_HEAD;
			c->deadline = now_ms() + app->conf->api_request_timeout_ms;
			c->scan = c->parsed_at = 0;
			continue;
		case C_HEAD: {
			size_t end = h1_head_end(c->in, c->in_len, &c->scan);
			h1_error_t err;
			/* an unfinished head is parsed only every 1 KiB, to refuse a line or a head that
			 * can no longer fit without waiting for its end */
			if (!end && c->in_len < c->parsed_at + 1024)
				return true;
			c->parsed_at = c->in_len;
			int rc = h1_parse_head(c->in, c->in_len, &c->req, &err);
			if (rc == H1_INCOMPLETE)
				return true;
			if (rc == H1_ERROR) {
				return fail(c, err.status, err.detail);
			}
			c->body_max = body_limit(&c->req);
			if (c->req.framing == H1_BODY_LENGTH && c->req.content_length > c->body_max) {
				return fail(c, 413,
				            c->body_max == API_MAX_BATCH_BODY
				                ? "the body exceeds 524288 bytes"
				                : "the body exceeds 16384 bytes");
			}
			if (c->req.expect_continue && c->req.framing != H1_BODY_NONE &&
			    !(c->req.framing == H1_BODY_LENGTH && c->req.content_length == 0) &&
			    c->in_len == c->req.head_len)
				send_continue(c);
			c->consumed = c->req.head_len;
			h1_chunked_init(&c->chunk);
			c->body_len = 0;
			c->state = C_BODY;
			continue;
		}
		case C_BODY:
			if (c->req.framing == H1_BODY_LENGTH && c->req.content_length) {
				size_t need = (size_t)c->req.content_length;
				if (c->in_len - c->req.head_len < need)
					return true;
				c->body = malloc(need + 1);
				if (!c->body) {
					conn_close(c);
					return false;
				}
				memcpy(c->body, c->in + c->req.head_len, need);
				c->body[need] = 0;
				c->body_len = need;
				c->consumed = c->req.head_len + need;
			} else if (c->req.framing == H1_BODY_CHUNKED) {
				if (!c->body && !(c->body = malloc(c->body_max + 1))) {
					conn_close(c);
					return false;
				}
				size_t used;
				h1_error_t err;
				size_t at = c->req.head_len;
				int rc = h1_chunked_feed(&c->chunk, c->in + at, c->in_len - at, &used,
				                         c->body, &c->body_len, c->body_max, &err);
				/* the chunk syntax read is dropped; the head stays where the request points
				 */
				memmove(c->in + at, c->in + at + used, c->in_len - at - used);
				c->in_len -= used;
				if (rc == H1_ERROR) {
					return fail(c, err.status, err.detail);
				}
				if (rc == H1_INCOMPLETE)
					return true;
				c->body[c->body_len] = 0;
				c->consumed = c->req.head_len;
			}
			if (c->head_moved) {
				h1_error_t err;
				c->head_moved = false;
				if (h1_parse_head(c->in, c->req.head_len, &c->req, &err) != H1_OK) {
					return fail(c, 500, "the request could not be read again");
				}
			}
			if (!dispatch_request(c))
				return false;
			if (c->state == C_IDLE)
				continue; /* answered: on with a pipelined request already read */
			return true;
		case C_BUSY:
		case C_WRITE:
		case C_LINGER: return true;
		}
	}
}

/* input_loop, marked on the connection so that answered() does not recurse into it;
 * false when the connection was closed. */
static bool conn_input(api_conn_t *c)
{
	c->in_input = true;
	if (!input_loop(c))
		return false;
	c->in_input = false;
	return true;
}

/* Room for more input; false when there is none (nothing to read until the buffered
 * request is taken) or the connection was closed (*closed). */
static bool in_room(api_conn_t *c, bool *closed)
{
	*closed = false;
	if (c->in_len < c->in_cap)
		return true;
	/* only the body of a bulk change may take the bigger buffer */
	size_t max = c->state == C_BODY && c->body_max == API_MAX_BATCH_BODY ? IN_MAX_BATCH : IN_MAX;
	if (c->in_cap >= max) {
		/* a whole request is buffered and not yet taken, or a head that cannot end */
		set_events(c, 0);
		return false;
	}
	size_t cap = c->in_cap ? c->in_cap * 2 : IN_START;
	if (cap > max)
		cap = max;
	char *n = realloc(c->in, cap);
	if (!n) {
		conn_close(c);
		*closed = true;
		return false;
	}
	if (n != c->in && c->state == C_BODY)
		c->head_moved = true; /* c->req points into the old buffer */
	c->in = n;
	c->in_cap = cap;
	return true;
}

/* conn_read over TLS: the handshake, then records until GnuTLS holds none and the
 * socket has nothing (epoll sees the socket, not what GnuTLS has decrypted and kept). */
static bool tls_read(api_conn_t *c)
{
	if (!api_tls_ready(c->tls)) {
		const char *why = NULL;
		int rc = api_tls_handshake(c->tls, &why);
		if (rc == API_TLS_AGAIN) {
			set_events(c, api_tls_want_write(c->tls) ? EPOLLOUT : EPOLLIN);
			return true;
		}
		if (rc == API_TLS_FAILED) {
			char a[CORE_ADDR_STRLEN];
			core_addr_format(&c->client, a, sizeof(a));
			log_debug("http: TLS handshake with %s failed: %s", a, why);
			/* read away what the client still sends (a plain HTTP request, say), so
			 * that it sees a close and not a reset */
			c->tls_on = false;
			api_tls_free(c->tls);
			c->tls = NULL;
			shutdown(c->fd, SHUT_WR);
			c->state = C_LINGER;
			c->deadline = now_ms() + LINGER_MS;
			set_events(c, EPOLLIN);
			return true;
		}
		set_events(c, EPOLLIN); /* a request may have come with the handshake's end */
	}
	for (;;) {
		if (c->state != C_IDLE && c->state != C_HEAD && c->state != C_BODY)
			return true; /* answered() reads on when the connection takes input again */
		bool closed;
		if (!in_room(c, &closed))
			return !closed;
		ssize_t n = api_tls_recv(c->tls, c->in + c->in_len, c->in_cap - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			if (!conn_input(c))
				return false;
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			set_events(c, api_tls_want_write(c->tls) ? EPOLLOUT : EPOLLIN);
			return true;
		}
		if (n < 0) {
			char a[CORE_ADDR_STRLEN];
			core_addr_format(&c->client, a, sizeof(a));
			log_debug("http: TLS from %s: %s", a, api_tls_last_error(c->tls));
		}
		conn_close(c);
		return false;
	}
}

/* Reads what the socket has; false when the connection was closed. */
static bool conn_read(api_conn_t *c)
{
	if (c->state == C_LINGER) {
		char buf[4096];
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return false;
		}
		return true;
	}
	if (c->tls_on)
		return tls_read(c);
	bool closed;
	if (!in_room(c, &closed))
		return !closed;
	ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if (n > 0) {
		c->in_len += (size_t)n;
		if (!conn_input(c))
			return false;
		if (c->tls_on) /* a PROXY header was read: the handshake follows */
			return tls_read(c);
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return true;
	/* the client closed (or reset): a request it had not finished is dropped */
	conn_close(c);
	return false;
}

static void on_event(api_conn_t *c, uint32_t ev)
{
	if (ev & (EPOLLERR | EPOLLHUP)) {
		if (!(ev & EPOLLIN) || c->state == C_BUSY) {
			conn_close(c);
			return;
		}
	}
	if (c->state == C_BUSY) {
		/* A parked request's client sent more (pipelining): nothing is read until its
		 * answer is out, and a reset still shows (EPOLLHUP/ERR). Only now, not on every
		 * park: most clients send nothing while they wait, and the answer's resume sets
		 * EPOLLIN back (a no-op when it was never taken away). */
		set_events(c, 0);
		return;
	}
	if (ev & EPOLLOUT) {
		if (c->state == C_WRITE)
			flush(c);
		else if (c->tls_on)
			conn_read(c); /* a TLS handshake or read that waited to write */
		return;
	}
	if (ev & EPOLLIN) {
		if (c->state == C_WRITE && c->tls_on)
			flush(c); /* a TLS write that waited to read */
		else
			conn_read(c);
	}
}

static void tick(worker_t *w, int64_t now)
{
	api_app_t *app = w->app;
	for (api_conn_t *c = w->conns.next, *next; c != &w->conns; c = next) {
		next = c->next;
		if (!c->deadline || now < c->deadline)
			continue;
		switch (c->state) {
		case C_HEAD:
		case C_BODY:
			log_debug("http: request not whole within %ld ms; 408",
			          app->conf->api_request_timeout_ms);
			fail(c, 408, "the request did not arrive whole within the time allowed");
			break;
		default: conn_close(c); /* idle, a new connection that sent nothing, a stalled reader */
		}
	}
}

static void take_handed(worker_t *w)
{
	uint64_t v;
	(void)!read(w->evfd, &v, sizeof(v));
	pthread_mutex_lock(&w->lock);
	api_conn_t *in = w->incoming;
	w->incoming = NULL;
	size_t n_res = w->n_resumed;
	api_req_t **res = NULL;
	if (n_res) {
		res = w->resumed;
		w->resumed = NULL;
		w->n_resumed = w->cap_resumed = 0;
	}
	pthread_mutex_unlock(&w->lock);
	while (in) {
		api_conn_t *c = in;
		in = c->next;
		c->next = NULL;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
			close(c->fd);
			if (c->counted)
				addr_release(w->app, &c->client);
			atomic_fetch_sub(&w->app->open, 1);
			conn_free(c);
			continue;
		}
		c->events = EPOLLIN;
		list_add(&w->conns, c);
		/* with HTTPS the handshake too must be done within this */
		c->deadline = now_ms() + w->app->conf->api_request_timeout_ms;
		if (w->app->tls) {
			pthread_mutex_lock(&w->app->tls_lock);
			c->tls = api_tls_new(w->app->creds, c->fd);
			pthread_mutex_unlock(&w->app->tls_lock);
			if (!c->tls) {
				conn_close(c);
				continue;
			}
			c->tls_on = c->state != C_PROXY;
		}
	}
	for (size_t i = 0; i < n_res; i++) {
		api_req_t *r = res[i];
		api_conn_t *c = r->conn;
		if (c->dead) {
			list_del(c);
			conn_free(c);
			continue;
		}
		api_handle_resumed(r);
		set_events(c, EPOLLIN);
		respond(c);
	}
	free(res);
}

void api_req_resume(api_req_t *r)
{
	worker_t *w = r->conn->w;
	pthread_mutex_lock(&w->lock);
	if (w->n_resumed == w->cap_resumed) {
		size_t cap = w->cap_resumed ? w->cap_resumed * 2 : 16;
		api_req_t **n = realloc(w->resumed, cap * sizeof(*n));
		while (!n) { /* the request must come back: wait for memory rather than lose it */
			pthread_mutex_unlock(&w->lock);
			usleep(1000);
			pthread_mutex_lock(&w->lock);
			n = realloc(w->resumed, cap * sizeof(*n));
		}
		w->resumed = n;
		w->cap_resumed = cap;
	}
	w->resumed[w->n_resumed++] = r;
	pthread_mutex_unlock(&w->lock);
	uint64_t one = 1;
	(void)!write(w->evfd, &one, sizeof(one));
}

static void *worker_loop(void *arg)
{
	worker_t *w = arg;
	api_app_t *app = w->app;
	struct epoll_event evs[64];
	while (!atomic_load(&app->stopping)) {
		int n = epoll_wait(w->epfd, evs, 64, DEADLINE_TICK_MS);
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				take_handed(w);
			else
				on_event(evs[i].data.ptr, evs[i].events);
		}
		int64_t now = now_ms();
		if (now - w->last_tick >= DEADLINE_TICK_MS) {
			w->last_tick = now;
			tick(w, now);
		}
	}
	return NULL;
}

/* Refusals are logged at most once a second, with the counts since the last line. */
static void log_refusals(api_app_t *app, bool force)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!(app->refused[0] + app->refused[1]) || (!force && now.tv_sec - app->refused_logged.tv_sec < 1))
		return;
	if (app->refused[0])
		log_warn("http: at api_max_connections (%ld): refused %lu connection(s) with 503",
		         app->conf->api_max_connections, app->refused[0]);
	if (app->refused[1])
		log_warn("http: at api_per_ip_connections (%ld): refused %lu connection(s) with 503",
		         app->conf->api_per_ip_connections, app->refused[1]);
	app->refused[0] = app->refused[1] = 0;
	app->refused_logged = now;
}

/* Above a limit: answer 503 at once and close, without ever blocking the accept thread
 * (the socket is non-blocking; a client that does not read loses the answer, not us).
 * What the client already sent is read away first, so that the close is a FIN, not an
 * RST that could make its kernel drop the answer. */
static void refuse(api_app_t *app, int fd, int which)
{
	char buf[4096];
	/* over HTTPS a client cannot read a plain answer before the handshake: it sees the close */
	if (!app->tls)
		(void)!send(fd, app->refusal[which], app->refusal_len[which], MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 4 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
	app->refused[which]++;
	api_metrics_refused(503, which ? "per_ip_connections" : "max_connections");
	log_refusals(app, false);
}

static void *accept_loop(void *arg)
{
	api_app_t *app = arg;
	while (!atomic_load(&app->stopping)) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd =
		    accept4(app->listen_fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (atomic_load(&app->stopping) || errno == EINVAL || errno == EBADF)
				break;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				log_warn("http: accept: %s", strerror(errno));
				usleep(10000);
			}
			continue;
		}
		if (atomic_load(&app->open) >= app->conf->api_max_connections) {
			refuse(app, fd, 0);
			continue;
		}
		api_conn_t *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		sockaddr_addr(&peer, &c->peer);
		c->client = c->peer;
		c->peer_trusted = trusted(app, &c->peer);
		c->state = c->peer_trusted && app->proxy_protocol ? C_PROXY : C_IDLE;
		/* a trusted proxy's connections carry many clients: no per-address limit on them
		 * (with the PROXY protocol, the announced client's is taken when it is known) */
		if (!c->peer_trusted) {
			if (!addr_take(app, &c->peer)) {
				free(c);
				refuse(app, fd, 1);
				continue;
			}
			c->counted = true;
		}
		log_refusals(app, false);
		atomic_fetch_add(&app->open, 1);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		worker_t *w = &app->workers[app->next_worker++ % app->n_workers];
		c->w = w;
		pthread_mutex_lock(&w->lock);
		c->next = w->incoming;
		w->incoming = c;
		pthread_mutex_unlock(&w->lock);
		uint64_t v = 1;
		(void)!write(w->evfd, &v, sizeof(v));
	}
	log_refusals(app, true);
	return NULL;
}

/* The first version (48 bytes) of the kernel's struct sched_attr, whose header clashes
 * with <sched.h>. */
struct sched_attr_v0 {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

/*
 * Ask the scheduler for a short time slice, for this thread and so for every thread it
 * starts (the workers, the acceptor). Under EEVDF (Linux 6.12+) a fair task's requested
 * slice sets its virtual deadline: a worker woken by a request or by PostgreSQL's answer
 * with a short slice runs before tasks that asked for the default one, and our handlers
 * run for tens of microseconds at a time, far less than that default. The kernel clamps the
 * value to 0.1-100 ms; older kernels accept and ignore it for SCHED_OTHER. The nice value
 * is kept, and a thread under another policy is left alone.
 */
static void request_time_slice(long us)
{
	if (us <= 0 || sched_getscheduler(0) != SCHED_OTHER)
		return;
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);
	if (errno != 0)
		return;
	struct sched_attr_v0 a = {
	    .size = sizeof(a), .policy = SCHED_OTHER, .nice = nice, .runtime = (uint64_t)us * 1000};
	if (syscall(SYS_sched_setattr, 0, &a, 0) != 0)
		log_info("http: time slice of %ld us not set: %s", us, strerror(errno));
}

api_app_t *api_app_new(const rdns_conf_t *conf, int *err)
{
	api_app_t *app = calloc(1, sizeof(*app));
	if (!app) {
		*err = RDNS_ENOMEM;
		return NULL;
	}
	app->conf = conf;
	app->listen_fd = -1;
	pthread_mutex_init(&app->lock, NULL);
	pthread_mutex_init(&app->addr_lock, NULL);
	pthread_mutex_init(&app->tls_lock, NULL);
	*err = RDNS_OK;
	return app;
}

static void make_refusal(api_app_t *app, int which, const char *detail)
{
	char body[320];
	int bl = snprintf(body, sizeof(body),
	                  "{\"type\":\"https://rdns.dev/problems/too-many-connections\",\"title\":"
	                  "\"Service Unavailable\",\"status\":503,\"detail\":\"%s\"}",
	                  detail);
	int rl = snprintf(app->refusal[which], sizeof(app->refusal[which]),
	                  "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
	                  "Content-Length: %d\r\nRetry-After: 1\r\nCache-Control: no-store\r\n"
	                  "Connection: close\r\n\r\n%s",
	                  bl, body);
	assert(bl > 0 && (size_t)bl < sizeof(body) && rl > 0 && (size_t)rl < sizeof(app->refusal[which]));
	app->refusal_len[which] = (size_t)rl;
}

int api_conf_check(const rdns_conf_t *conf, char *msg, size_t len)
{
	core_endpoint_t ep;
	core_prefix_t p;
	const char *why;
	if (core_endpoint_parse(conf->api_listen, CORE_EP_PORT_REQUIRED | CORE_EP_PORT_ZERO, 0, &ep, &why) !=
	    RDNS_OK) {
		snprintf(msg, len, "api_listen '%s': %s", conf->api_listen, why);
		return RDNS_ECONFIG;
	}
	if (strcmp(conf->api_proxy_protocol, "on") != 0 && strcmp(conf->api_proxy_protocol, "off") != 0) {
		snprintf(msg, len, "api_proxy_protocol '%s': on or off", conf->api_proxy_protocol);
		return RDNS_ECONFIG;
	}
	for (size_t i = 0; i < conf->api_trusted_proxies.n; i++)
		if (core_prefix_parse(conf->api_trusted_proxies.v[i], &p) != RDNS_OK) {
			snprintf(msg, len, "api_trusted_proxies: '%s' is not an address or prefix",
			         conf->api_trusted_proxies.v[i]);
			return RDNS_ECONFIG;
		}
	if (!strcmp(conf->api_proxy_protocol, "on") && !conf->api_trusted_proxies.n) {
		snprintf(msg, len,
		         "api_proxy_protocol = on needs api_trusted_proxies (whose connections carry it)");
		return RDNS_ECONFIG;
	}
	return api_tls_conf_check(conf, msg, len);
}

int api_app_start(api_app_t *app)
{
	const rdns_conf_t *conf = app->conf;
	struct sockaddr_storage ss;
	socklen_t sslen;
	core_endpoint_t ep;
	const char *why;
	char msg[512];
	if (api_conf_check(conf, msg, sizeof(msg)) != RDNS_OK) {
		log_err("http: %s", msg);
		return RDNS_ECONFIG;
	}
	if (api_tls_configured(conf)) {
		app->creds = api_tls_creds_load(conf, msg, sizeof(msg));
		if (!app->creds) {
			log_err("http: %s", msg);
			return RDNS_ECONFIG;
		}
		app->tls = true;
		log_info("http: HTTPS with %s: %s", conf->api_tls_cert, api_tls_creds_describe(app->creds));
	}
	core_endpoint_parse(conf->api_listen, CORE_EP_PORT_REQUIRED | CORE_EP_PORT_ZERO, 0, &ep, &why);
	app->proxy_protocol = strcmp(conf->api_proxy_protocol, "on") == 0;
	if (conf->api_trusted_proxies.n) {
		app->trusted = calloc(conf->api_trusted_proxies.n, sizeof(*app->trusted));
		if (!app->trusted)
			return RDNS_ENOMEM;
		for (size_t i = 0; i < conf->api_trusted_proxies.n; i++)
			core_prefix_parse(conf->api_trusted_proxies.v[i], &app->trusted[i]);
		app->n_trusted = conf->api_trusted_proxies.n;
	}
	core_endpoint_sockaddr(&ep, &ss, &sslen);
	int one = 1;
	app->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (app->listen_fd < 0 ||
	    setsockopt(app->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(app->listen_fd, (struct sockaddr *)&ss, sslen) != 0 || listen(app->listen_fd, 1024) != 0) {
		log_err("http: cannot listen on %s: %s", conf->api_listen, strerror(errno));
		return RDNS_EIO;
	}
	request_time_slice(conf->api_sched_slice_us);
	char detail[160];
	snprintf(detail, sizeof(detail), "the server has reached its limit of %ld connections; retry shortly",
	         conf->api_max_connections);
	make_refusal(app, 0, detail);
	snprintf(detail, sizeof(detail),
	         "too many connections from your address (the limit is %ld); retry shortly",
	         conf->api_per_ip_connections);
	make_refusal(app, 1, detail);

	app->n_workers = (size_t)conf->api_threads;
	app->workers = calloc(app->n_workers, sizeof(*app->workers));
	if (!app->workers)
		return RDNS_ENOMEM;
	for (size_t i = 0; i < app->n_workers; i++)
		app->workers[i].epfd = app->workers[i].evfd = -1;
	for (size_t i = 0; i < app->n_workers; i++) {
		worker_t *w = &app->workers[i];
		w->app = app;
		w->conns.next = w->conns.prev = &w->conns;
		w->dead.next = w->dead.prev = &w->dead;
		pthread_mutex_init(&w->lock, NULL);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
		if (w->epfd < 0 || w->evfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) != 0 ||
		    pthread_create(&w->thread, NULL, worker_loop, w) != 0) {
			log_err("http: cannot start worker %zu: %s", i, strerror(errno));
			return RDNS_EIO;
		}
		w->running = true;
	}
	if (api_offload_start(conf) != RDNS_OK) {
		log_err("http: cannot start the verification threads");
		return RDNS_EIO;
	}
	if (pthread_create(&app->acceptor, NULL, accept_loop, app) != 0) {
		log_err("http: cannot start the accept thread");
		return RDNS_EIO;
	}
	app->acceptor_running = true;
	log_info("http: listening on %s (%s) with %ld threads", conf->api_listen, app->tls ? "HTTPS" : "HTTP",
	         conf->api_threads);
	return RDNS_OK;
}

void api_app_reload(api_app_t *app)
{
	const rdns_conf_t *conf = app->conf;
	char msg[512];
	if (!app->tls) {
		log_info("http: SIGHUP: HTTPS is off, nothing to reload");
		return;
	}
	api_tls_creds_t *cr = api_tls_creds_load(conf, msg, sizeof(msg));
	if (!cr) {
		log_err("http: SIGHUP: TLS reload failed, still serving the previous certificate: %s", msg);
		return;
	}
	pthread_mutex_lock(&app->tls_lock);
	api_tls_creds_t *old = app->creds;
	app->creds = cr;
	pthread_mutex_unlock(&app->tls_lock);
	/* the connections that use the old ones keep them until they close */
	api_tls_creds_unref(old);
	log_info("http: SIGHUP: TLS reloaded from %s and %s: %s", conf->api_tls_cert, conf->api_tls_key,
	         api_tls_creds_describe(cr));
}

void api_app_free(api_app_t *app)
{
	if (!app)
		return;
	atomic_store(&app->stopping, true);
	if (app->listen_fd >= 0)
		shutdown(app->listen_fd, SHUT_RDWR); /* wakes the blocked accept() */
	if (app->acceptor_running)
		pthread_join(app->acceptor, NULL);
	if (app->listen_fd >= 0)
		close(app->listen_fd);
	/* the verification threads first: after them nothing resumes a request */
	api_offload_stop();
	for (size_t i = 0; i < app->n_workers; i++) {
		worker_t *w = &app->workers[i];
		if (w->running) {
			uint64_t v = 1;
			(void)!write(w->evfd, &v, sizeof(v));
			pthread_join(w->thread, NULL);
		}
	}
	for (size_t i = 0; i < app->n_workers; i++) {
		worker_t *w = &app->workers[i];
		if (w->conns.next) {
			while (w->conns.next != &w->conns) {
				api_conn_t *c = w->conns.next;
				if (c->r)
					c->r->parked = false;
				conn_close(c);
			}
			while (w->dead.next != &w->dead) {
				api_conn_t *c = w->dead.next;
				list_del(c);
				conn_free(c);
			}
		}
		for (api_conn_t *c = w->incoming, *next; c; c = next) {
			next = c->next;
			close(c->fd);
			conn_free(c);
		}
		free(w->resumed);
		if (w->epfd >= 0)
			close(w->epfd);
		if (w->evfd >= 0)
			close(w->evfd);
		pthread_mutex_destroy(&w->lock);
	}
	free(app->workers);
	api_batch_close();
	for (size_t i = 0; i < app->n_dbs; i++)
		db_free(app->dbs[i]);
	free(app->dbs);
	for (size_t i = 0; i < ADDR_BUCKETS; i++)
		for (addr_node_t *n = app->addrs[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	free(app->trusted);
	api_tls_creds_unref(app->creds);
	pthread_mutex_destroy(&app->tls_lock);
	pthread_mutex_destroy(&app->addr_lock);
	pthread_mutex_destroy(&app->lock);
	free(app);
}
