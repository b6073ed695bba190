/* http.h - the rdns-api HTTP layer: server, router, requests, JSON and problem responses. */
#ifndef RDNS_API_HTTP_H
#define RDNS_API_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http1.h"
#include "core/addr.h"
#include "core/conf.h"
#include "db/db.h"

#define API_MAX_BODY (16 * 1024)
/* The body limit of POST /v1/ptr:batch (bulk changes, issue 16): 1,000 items. */
#define API_MAX_BATCH_BODY (512 * 1024)
#define API_BATCH_PATH     "/v1/ptr:batch"
#define API_MAX_PARAMS     4

/* API_AUTH_HANDLER: any caller, but the handler authenticates itself with
 * api_auth_with() (one statement for the token and the data); the router answers
 * 500 if such a handler answers success without having authenticated. */
typedef enum { API_AUTH_NONE, API_AUTH_ANY, API_AUTH_STAFF, API_AUTH_HANDLER } api_auth_t;

typedef struct api_app api_app_t;

/* The caller, once authenticated. */
typedef struct {
	long long account_id;
	long long token_id;
	bool staff;
	char name[201];
} api_caller_t;

typedef struct api_conn api_conn_t;
typedef struct api_req api_req_t;

/* Work done off the HTTP workers (offload.h): work runs on a pool thread and may not
 * touch the database or the answer; done runs afterwards on the request's worker and
 * answers. */
typedef void (*api_work_fn)(api_req_t *r);
typedef void (*api_done_fn)(api_req_t *r);

#define API_MAX_ARGS       32
#define API_REQUEST_ID_MAX 64

struct api_req {
	api_conn_t *conn;       /* NULL outside a connection (unit tests, fuzzing) */
	const h1_request_t *h1; /* the parsed head (field values NUL-terminated); NULL outside */
	api_app_t *app;
	const rdns_conf_t *conf;
	db_t *db; /* this worker thread's connection, ensured before the handler runs */
	char *method;
	char *path;      /* percent-decoded ("%00" kept), valid UTF-8 */
	char *query_buf; /* the decoded query arguments, name and value NUL-terminated */
	const char *arg_name[API_MAX_ARGS], *arg_value[API_MAX_ARGS];
	size_t n_args;
	char *body;
	size_t body_len;
	json_t *json;                       /* parsed body (an object) when the route takes one, else NULL */
	const char *params[API_MAX_PARAMS]; /* path segments matched by '*' */
	char *param_buf;
	api_caller_t caller;
	bool authed; /* caller is set */
	/* the client's address (X-Forwarded-For or PROXY from a trusted proxy) */
	char client[CORE_ADDR_STRLEN];
	/* X-Request-Id: the client's when sane, else made; in the answer, every problem body
	 * (x_request_id) and every log line about the request */
	char id[API_REQUEST_ID_MAX + 1];
	const char *route; /* the matched route's pattern, NULL before or without one */
	uint64_t t0_ns;    /* when routing began (core_metrics_now_ns), for the duration */
	/* work done off the worker (api_offload) */
	bool parked;
	long long offload_account;
	void *job;
	void (*job_free)(void *job);
	api_work_fn work;
	api_done_fn done;
	/* the answer */
	unsigned status; /* 0 until answered */
	const char *ctype;
	char *out; /* the body (malloc) */
	size_t out_len;
	char hdrs[2048]; /* further header lines, "Name: value\r\n" each (the panel's CSP) */
	size_t hdrs_len;
};

typedef void (*api_handler_t)(api_req_t *r);

typedef struct {
	const char *method;  /* "GET", "PUT", ... */
	const char *pattern; /* "/v1/ptr/ *" (no space): '*' matches one segment */
	api_auth_t auth;
	bool body; /* takes a JSON object body */
	api_handler_t handler;
} api_route_t;

/* The route tables are in api/routes.h. */

api_app_t *api_app_new(const rdns_conf_t *conf, int *err);
int api_app_start(api_app_t *app);
/* SIGHUP: loads api_tls_cert and api_tls_key again for the connections to come (those
 * open keep theirs); a failure is logged and the previous ones stay. Main thread. */
void api_app_reload(api_app_t *app);
/* The HTTP options that parse but may still be wrong (api_listen, api_proxy_protocol,
 * api_trusted_proxies): RDNS_OK, or RDNS_ECONFIG with a sentence in msg. */
int api_conf_check(const rdns_conf_t *conf, char *msg, size_t len);
void api_app_free(api_app_t *app); /* stops the server first */

/* Answer with a JSON value (stolen reference) and a status. */
void api_json(api_req_t *r, unsigned status, json_t *body);
/* The same with one more member, name, whose value is raw: JSON text that is
 * already written (it is not parsed again). */
void api_json_with(api_req_t *r, unsigned status, json_t *body, const char *name, const char *raw);
/* Answer 204 No Content. */
void api_no_content(api_req_t *r);
/* Answer with raw bytes of a content type (copied). */
void api_raw(api_req_t *r, unsigned status, const char *content_type, const char *data, size_t len);
/* RFC 9457 problem: type is "about:blank" unless slug is given (then
 * "https://rdns.dev/problems/<slug>"); extra (stolen, may be NULL) is merged. */
void api_problem(api_req_t *r, unsigned status, const char *slug, const char *title, json_t *extra,
                 const char *detail_fmt, ...) __attribute__((format(printf, 6, 7)));
/* 500/503 for an rdns_err_t from the data layer (EDB → 503, EEXIST → 409 ...). */
void api_db_error(api_req_t *r, int err);
/* Add a response header to the current answer (after api_json / api_problem). */
void api_header(api_req_t *r, const char *name, const char *value);

/* Query-string argument (decoded), or NULL. The first of several wins. */
const char *api_query(api_req_t *r, const char *name);
/* A request header's value (the first of several), or NULL. */
const char *api_req_header(api_req_t *r, const char *name);

/* A JSON string of s, or JSON null when s is NULL. */
json_t *api_str_or_null(const char *s);

/* Every route of the router's tables, in the order it tries them, one line each:
 * "METHOD PATTERN AUTH BODY", AUTH none|any|staff|handler, BODY body|- (rdns-api --routes;
 * tests/system/test_openapi_routes.py compares it with api/openapi.yaml). */
void api_routes_print(FILE *f);

#endif
