/* http.c - libmicrohttpd server, routing, body limits, JSON and problem+json answers. */
#include "http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/batch.h"
#include "api/respond.h"
#include "api/routes.h"
#include "core/endpoint.h"
#include "core/err.h"
#include "core/log.h"

struct api_app {
	const rdns_conf_t *conf;
	struct MHD_Daemon *mhd;
	int listen_fd;
	pthread_t acceptor;
	bool acceptor_running;
	atomic_bool stopping;
	/* Connections handed to MHD and not yet closed (MHD_CONNECTION_NOTIFY_CLOSED). Only
	 * the accept thread adds, so its check against api_max_connections cannot race. */
	atomic_long open;
	char refusal[512]; /* the 503 written to a connection above the limit */
	size_t refusal_len;
	unsigned long refused; /* since the last log line (accept thread only) */
	struct timespec refused_logged;
	pthread_mutex_t lock;
	db_t **dbs; /* every worker's connection, freed at the end */
	size_t n_dbs, cap_dbs;
};

const api_route_t *const api_route_tables[] = {
    api_routes_core,        api_routes_ptr,   api_routes_requests, api_routes_accounts,
    api_routes_allocations, api_routes_zones, api_routes_audit,    NULL,
};

static _Thread_local db_t *tl_db;

/* This worker thread's database handle, created on first use. */
static db_t *thread_db(api_app_t *app)
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

static void set_response(api_req_t *r, unsigned status, struct MHD_Response *resp)
{
	if (r->resp)
		MHD_destroy_response(r->resp);
	r->resp = resp;
	r->status = status;
}

void api_raw(api_req_t *r, unsigned status, const char *content_type, const char *data, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	set_response(r, status, resp);
}

static void json_answer(api_req_t *r, unsigned status, json_t *body, const char *ctype)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (!text) {
		set_response(r, 500, NULL);
		return;
	}
	size_t len = strlen(text);
	text[len] = 0;
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	set_response(r, status, resp);
}

void api_json(api_req_t *r, unsigned status, json_t *body)
{
	json_answer(r, status, body, "application/json");
}

void api_json_with(api_req_t *r, unsigned status, json_t *body, const char *name, const char *raw)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	size_t tl = text ? strlen(text) : 0, nl = strlen(name), rl = strlen(raw);
	char *out = text && tl >= 2 && text[tl - 1] == '}' ? malloc(tl + nl + rl + 8) : NULL;
	if (!out) {
		free(text);
		set_response(r, 500, NULL);
		return;
	}
	/* {..."a":1} -> {..."a":1,"name":raw} ({} -> {"name":raw}) */
	size_t n = tl - 1;
	memcpy(out, text, n);
	n += (size_t)sprintf(out + n, "%s\"%s\":", tl > 2 ? "," : "", name);
	memcpy(out + n, raw, rl);
	n += rl;
	out[n++] = '}';
	out[n] = 0;
	free(text);
	struct MHD_Response *resp = MHD_create_response_from_buffer(n, out, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(out);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	set_response(r, status, resp);
}

void api_no_content(api_req_t *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	set_response(r, 204, resp);
}

void api_header(api_req_t *r, const char *name, const char *value)
{
	if (r->resp)
		MHD_add_response_header(r->resp, name, value);
}

void api_problem(api_req_t *r, unsigned status, const char *slug, const char *title, json_t *extra,
                 const char *detail_fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, detail_fmt);
	vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	va_end(ap);
	char type[160];
	if (slug)
		snprintf(type, sizeof(type), "https://rdns.dev/problems/%s", slug);
	else
		snprintf(type, sizeof(type), "about:blank");
	json_t *p = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", title, "status", (int)status,
	                      "detail", detail);
	if (r->path)
		json_object_set_new(p, "instance", json_string(r->path));
	if (extra) {
		json_object_update(p, extra);
		json_decref(extra);
	}
	json_answer(r, status, p, "application/problem+json");
}

void api_db_error(api_req_t *r, int err)
{
	switch (err) {
	case RDNS_EDB:
		api_problem(r, 503, "database-unavailable", "Service Unavailable", NULL,
		            "the database is unavailable; retry shortly");
		api_header(r, "Retry-After", "1");
		break;
	case RDNS_EEXIST:
		api_problem(r, 409, "conflict", "Conflict", NULL, "%s",
		            "the change conflicts with existing data");
		break;
	case RDNS_ENOTFOUND: api_problem(r, 404, NULL, "Not Found", NULL, "%s", "no such object"); break;
	case RDNS_EINVAL:
		api_problem(r, 400, NULL, "Bad Request", NULL, "%s", "a value was rejected by the database");
		break;
	default: api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s", rdns_strerror(err));
	}
}

const char *api_query(api_req_t *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

json_t *api_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Match path against pattern; fills r->params. */
static bool match(const char *pattern, const char *path, api_req_t *r, bool capture)
{
	int np = 0;
	char *out = r->param_buf;
	while (*pattern && *path) {
		if (*pattern == '*') {
			const char *end = strchr(path, '/');
			size_t n = end ? (size_t)(end - path) : strlen(path);
			if (n == 0 || np >= API_MAX_PARAMS)
				return false;
			if (capture) {
				memcpy(out, path, n);
				out[n] = 0;
				r->params[np] = out;
				out += n + 1;
			}
			np++;
			path += n;
			pattern++;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *pattern == 0 && *path == 0;
}

static void dispatch(api_req_t *r)
{
	const api_route_t *found = NULL;
	char allow[128] = "";
	for (size_t t = 0; api_route_tables[t] && !found; t++)
		for (const api_route_t *rt = api_route_tables[t]; rt->method; rt++) {
			if (!match(rt->pattern, r->path, r, false))
				continue;
			if (strcmp(rt->method, r->method) == 0 ||
			    (strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
				found = rt;
				break;
			}
			if (!strstr(allow, rt->method)) {
				size_t l = strlen(allow);
				snprintf(allow + l, sizeof(allow) - l, "%s%s", l ? ", " : "", rt->method);
			}
		}
	if (!found) {
		if (allow[0]) {
			api_problem(r, 405, NULL, "Method Not Allowed", NULL,
			            "%s is not allowed on %s; allowed: %s", r->method, r->path, allow);
			api_header(r, "Allow", allow);
		} else {
			api_problem(r, 404, NULL, "Not Found", NULL, "no route %s", r->path);
		}
		return;
	}
	match(found->pattern, r->path, r, true);

	if (found->body) {
		const char *ct =
		    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		bool empty = r->body_len == 0;
		if (!empty || ct) {
			size_t n = ct ? strcspn(ct, "; \t") : 0;
			if (!ct || n != strlen("application/json") ||
			    strncasecmp(ct, "application/json", n) != 0) {
				api_problem(r, 415, NULL, "Unsupported Media Type", NULL,
				            "the body must be application/json");
				return;
			}
			char cs[32], e[API_ECHO_BUF];
			if (!api_json_charset_ok(ct + n, cs, sizeof(cs))) {
				api_problem(r, 415, NULL, "Unsupported Media Type", NULL,
				            "the body must be application/json in UTF-8, not charset=%s",
				            api_echo(cs, e));
				return;
			}
		}
		if (empty) {
			r->json = json_object();
		} else {
			json_error_t jerr;
			r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
			if (!r->json) {
				api_problem(r, 400, "malformed-json", "Bad Request", NULL,
				            "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
				            jerr.text);
				return;
			}
			if (!json_is_object(r->json)) {
				api_problem(r, 400, "malformed-json", "Bad Request", NULL,
				            "the body must be a JSON object");
				return;
			}
		}
	} else if (r->body_len) {
		api_problem(r, 400, NULL, "Bad Request", NULL, "%s %s takes no body", r->method,
		            found->pattern);
		return;
	}

	if (found->auth == API_AUTH_ANY || found->auth == API_AUTH_STAFF) {
		r->db = thread_db(r->app);
		if (!r->db || db_ensure(r->db) != RDNS_OK) {
			api_db_error(r, RDNS_EDB);
			return;
		}
		if (!api_auth(r))
			return; /* answered 401 or 503 (db_exec already retried a dead connection) */
		if (found->auth == API_AUTH_STAFF && !r->caller.staff) {
			api_problem(r, 403, "staff-only", "Forbidden", NULL,
			            "this route is for provider staff");
			return;
		}
	} else {
		r->db = thread_db(r->app);
	}
	if (found->auth == API_AUTH_HANDLER && (!r->db || db_ensure(r->db) != RDNS_OK)) {
		api_db_error(r, RDNS_EDB);
		return;
	}
	found->handler(r);
	if (found->auth == API_AUTH_HANDLER && !r->authed && r->status < 400) {
		log_err("http: %s %s answered without authenticating", r->method, found->pattern);
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s", "internal error");
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
	api_app_t *app = cls;
	api_req_t *r = *req_cls;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->conn = conn;
		r->app = app;
		r->conf = app->conf;
		r->method = method;
		r->path = strdup(url);
		r->param_buf = malloc(strlen(url) + API_MAX_PARAMS + 1);
		if (!r->path || !r->param_buf) {
			free(r->path);
			free(r->param_buf);
			free(r);
			return MHD_NO;
		}
		*req_cls = r;
		const char *cl =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > API_MAX_BODY)
			r->body_too_large = true;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!r->body_too_large) {
			if (r->body_len + *upload_data_size > API_MAX_BODY) {
				r->body_too_large = true;
				free(r->body);
				r->body = NULL;
				r->body_len = 0;
			} else {
				char *nb = realloc(r->body, r->body_len + *upload_data_size + 1);
				if (!nb)
					return MHD_NO;
				memcpy(nb + r->body_len, upload_data, *upload_data_size);
				r->body = nb;
				r->body_len += *upload_data_size;
				r->body[r->body_len] = 0;
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->body_too_large)
		api_problem(r, 413, NULL, "Content Too Large", NULL, "the body exceeds %d bytes",
		            API_MAX_BODY);
	else
		dispatch(r);
	if (!r->resp) {
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s", "no answer was produced");
		if (!r->resp)
			return MHD_NO;
	}
	if (r->db && PQtransactionStatus(db_conn(r->db) ? db_conn(r->db) : NULL) == PQTRANS_INTRANS) {
		log_err("http: %s %s left a transaction open", r->method, r->path);
		db_rollback(r->db);
	}
	MHD_add_response_header(r->resp, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(conn, r->status, r->resp);
	log_debug("http: %s %s -> %u", r->method, r->path, r->status);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	api_req_t *r = *req_cls;
	if (!r)
		return;
	if (r->resp)
		MHD_destroy_response(r->resp);
	json_decref(r->json);
	free(r->body);
	free(r->path);
	free(r->param_buf);
	free(r);
	*req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	log_warn("http: %s", msg);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding of the path and the query arguments, except that "%00" stays
 * as it is: a decoded NUL would silently cut the text short, so that
 * "/v1/ptr/192.0.2.9%00junk" reached the handler as "/v1/ptr/192.0.2.9". Kept
 * as text, it is refused like any other malformed value. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *w = s;
	for (const char *p = s; *p; p++) {
		int hi, lo;
		if (p[0] == '%' && (hi = hex_digit(p[1])) >= 0 && (lo = hex_digit(p[2])) >= 0 &&
		    (hi | lo) != 0) {
			*w++ = (char)(hi << 4 | lo);
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = 0;
	return (size_t)(w - s);
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
	*err = RDNS_OK;
	return app;
}

/* MHD_CONNECTION_NOTIFY_CLOSED frees the connection's place under api_max_connections. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
	api_app_t *app = cls;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub(&app->open, 1);
}

/* Refusals are logged at most once a second, with the count since the last line. */
static void log_refusals(api_app_t *app, bool force)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!app->refused || (!force && now.tv_sec - app->refused_logged.tv_sec < 1))
		return;
	log_warn("http: at api_max_connections (%ld): refused %lu connection(s) with 503",
	         app->conf->api_max_connections, app->refused);
	app->refused = 0;
	app->refused_logged = now;
}

/* Above the limit: answer 503 at once and close, without ever blocking the accept thread
 * (the socket is non-blocking; a client that does not read loses the answer, not us).
 * What the client already sent is read away first, so that the close is a FIN, not an
 * RST that could make its kernel drop the answer. */
static void refuse(api_app_t *app, int fd)
{
	char buf[4096];
	(void)!send(fd, app->refusal, app->refusal_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 4 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
	app->refused++;
	log_refusals(app, false);
}

/*
 * One thread accepts and hands each connection to MHD, which spreads them evenly over
 * its worker threads. (With every worker accepting on the shared socket, connections
 * piled up on a few workers, and a worker serves its connections one database call
 * at a time: that made the latency tail.)
 *
 * This thread, not MHD, enforces api_max_connections. In libmicrohttpd 0.9.75 (Debian
 * 12) MHD_add_connection() on a daemon with its own threads only queues the connection
 * for a worker, whose count of connections grows when the worker takes it from the
 * queue; new_connection_process_() then checks the limit again under
 * cleanup_connection_mutex, and on that branch returns without unlocking it (fixed
 * upstream in 1.0.0, commit 67061d5c). A flood that queues more connections to a
 * worker than its share of the limit thus leaves that worker blocked for good on the
 * next lock of its own mutex, and MHD_stop_daemon() waiting for it. So MHD's limit is
 * set where it cannot be reached (see api_app_start) and connections above ours are
 * answered here.
 */
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
			refuse(app, fd);
			continue;
		}
		log_refusals(app, false);
		atomic_fetch_add(&app->open, 1);
		/* On failure (the per-address limit, no memory) MHD closes the socket itself and
		 * never reports the connection closed. (One it queued and then drops for want of
		 * memory, in new_connection_process_, is not reported either: its place stays
		 * taken.) */
		if (MHD_add_connection(app->mhd, fd, (struct sockaddr *)&peer, len) != MHD_YES)
			atomic_fetch_sub(&app->open, 1);
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
 * starts (MHD's workers, the acceptor). Under EEVDF (Linux 6.12+) a fair task's requested
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

int api_app_start(api_app_t *app)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	core_endpoint_t ep;
	const char *why;
	if (core_endpoint_parse(app->conf->api_listen, CORE_EP_PORT_REQUIRED | CORE_EP_PORT_ZERO, 0, &ep,
	                        &why) != RDNS_OK) {
		log_err("http: api_listen '%s': %s", app->conf->api_listen, why);
		return RDNS_ECONFIG;
	}
	core_endpoint_sockaddr(&ep, &ss, &sslen);
	int one = 1;
	app->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (app->listen_fd < 0 ||
	    setsockopt(app->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(app->listen_fd, (struct sockaddr *)&ss, sslen) != 0 || listen(app->listen_fd, 1024) != 0) {
		log_err("http: cannot listen on %s: %s", app->conf->api_listen, strerror(errno));
		return RDNS_EIO;
	}
	request_time_slice(app->conf->api_sched_slice_us);
	char body[256];
	int bl = snprintf(body, sizeof(body),
	                  "{\"type\":\"https://rdns.dev/problems/too-many-connections\",\"title\":"
	                  "\"Service Unavailable\",\"status\":503,\"detail\":\"the server has reached its "
	                  "limit of %ld connections; retry shortly\"}",
	                  app->conf->api_max_connections);
	int rl = snprintf(app->refusal, sizeof(app->refusal),
	                  "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
	                  "Content-Length: %d\r\nRetry-After: 1\r\nCache-Control: no-store\r\n"
	                  "Connection: close\r\n\r\n%s",
	                  bl, body);
	assert(bl > 0 && (size_t)bl < sizeof(body) && rl > 0 && (size_t)rl < sizeof(app->refusal));
	app->refusal_len = (size_t)rl;
	/* MHD's own connection limit is never reached (accept_loop says why): each worker's
	 * share of it is more than all the connections the accept thread lets in, plus the
	 * one a worker may have reported closed and not yet taken off its count. */
	unsigned int mhd_limit =
	    (unsigned int)((app->conf->api_max_connections + 1) * app->conf->api_threads);
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_TURBO |
	                 MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	/* The logger goes first, or MHD logs its own way until it is set. A connection's
	 * memory (request line, headers, read and write buffers; bodies are copied out in
	 * parts) is 16 KiB: up to ~14 KB of headers, more is MHD's 431. MHD zeroes all of it
	 * between two requests of a connection, so it is kept small (at 64 KiB that memset
	 * was 6.8% of rdns-api's CPU under GETs). */
	app->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, app, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, app,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)app->conf->api_threads, MHD_OPTION_CONNECTION_LIMIT,
	    mhd_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)app->conf->api_per_ip_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)app->conf->api_idle_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, app, MHD_OPTION_NOTIFY_CONNECTION, on_connection, app, MHD_OPTION_UNESCAPE_CALLBACK,
	    unescape, app, MHD_OPTION_END);
	if (!app->mhd) {
		log_err("http: cannot start the HTTP server: %s", strerror(errno));
		return RDNS_EIO;
	}
	if (pthread_create(&app->acceptor, NULL, accept_loop, app) != 0) {
		log_err("http: cannot start the accept thread");
		return RDNS_EIO;
	}
	app->acceptor_running = true;
	log_info("http: listening on %s with %ld threads", app->conf->api_listen, app->conf->api_threads);
	return RDNS_OK;
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
	if (app->mhd)
		MHD_stop_daemon(app->mhd);
	api_batch_close();
	for (size_t i = 0; i < app->n_dbs; i++)
		db_free(app->dbs[i]);
	free(app->dbs);
	pthread_mutex_destroy(&app->lock);
	free(app);
}

void api_routes_print(FILE *f)
{
	static const char *const auth[] = {
	    [API_AUTH_NONE] = "none",
	    [API_AUTH_ANY] = "any",
	    [API_AUTH_STAFF] = "staff",
	    [API_AUTH_HANDLER] = "handler",
	};
	for (size_t t = 0; api_route_tables[t]; t++)
		for (const api_route_t *rt = api_route_tables[t]; rt->method; rt++)
			fprintf(f, "%s %s %s %s\n", rt->method, rt->pattern, auth[rt->auth],
			        rt->body ? "body" : "-");
}
