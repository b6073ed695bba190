/* http.c - requests: routing, bodies, JSON and problem+json answers (connections: server.c). */
#include "http.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/metrics.h"
#include "api/respond.h"
#include "api/routes.h"
#include "api/server.h"
#include "core/err.h"
#include "core/log.h"

const api_route_t *const api_route_tables[] = {
    api_routes_core,
    api_routes_ptr,
    api_routes_requests,
    api_routes_accounts,
    api_routes_allocations,
    api_routes_zones,
    api_routes_audit,
    api_routes_addresses,   /* the web panel (issue 15): its address pages */
    api_routes_panel,       /* the web panel (issue 15): its files */
    api_routes_events,      /* worker (issue 18) */
    api_routes_diag,        /* diagnostics (issue 18) */
    api_routes_delegations, /* delegations (issue 16) */
    api_routes_batch,       /* bulk changes (issue 16) */
    NULL,
};

static void set_answer(api_req_t *r, unsigned status, const char *ctype, char *body, size_t len)
{
	free(r->out);
	r->out = body;
	r->out_len = len;
	r->ctype = ctype;
	r->status = status;
	r->hdrs_len = 0;
	r->hdrs[0] = 0;
}

/* When the answer cannot be built (no memory): a 500 with no body. */
static void no_answer(api_req_t *r)
{
	set_answer(r, 500, NULL, NULL, 0);
}

void api_raw(api_req_t *r, unsigned status, const char *content_type, const char *data, size_t len)
{
	char *copy = malloc(len ? len : 1);
	if (!copy) {
		no_answer(r);
		return;
	}
	memcpy(copy, data, len);
	set_answer(r, status, content_type, copy, len);
}

static void json_answer(api_req_t *r, unsigned status, json_t *body, const char *ctype)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (!text) {
		no_answer(r);
		return;
	}
	set_answer(r, status, ctype, text, strlen(text));
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
		no_answer(r);
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
	set_answer(r, status, "application/json", out, n);
}

void api_no_content(api_req_t *r)
{
	set_answer(r, 204, NULL, NULL, 0);
}

/* Only our own names and values reach here; a CR or LF in one would end the header
 * early, so such a header is dropped rather than sent. */
void api_header(api_req_t *r, const char *name, const char *value)
{
	if (!r->status || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return;
	size_t left = sizeof(r->hdrs) - r->hdrs_len;
	int n = snprintf(r->hdrs + r->hdrs_len, left, "%s: %s\r\n", name, value);
	if (n > 0 && (size_t)n < left)
		r->hdrs_len += (size_t)n;
	else
		r->hdrs[r->hdrs_len] = 0;
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
	if (r->id[0])
		json_object_set_new(p, "x_request_id", json_string(r->id));
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
	for (size_t i = 0; i < r->n_args; i++)
		if (strcmp(r->arg_name[i], name) == 0)
			return r->arg_value[i];
	return NULL;
}

const char *api_req_header(api_req_t *r, const char *name)
{
	size_t len;
	return r->h1 ? h1_header(r->h1, name, &len) : NULL;
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
	r->route = found->pattern;

	if (found->body) {
		const char *ct = api_req_header(r, "Content-Type");
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
		r->db = api_thread_db(r->app);
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
		r->db = api_thread_db(r->app);
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

/* Every answer leaves no transaction open on the worker's connection. */
static void finish(api_req_t *r)
{
	if (!r->status)
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s", "no answer was produced");
	if (r->db && db_conn(r->db) && PQtransactionStatus(db_conn(r->db)) == PQTRANS_INTRANS) {
		log_err("http: %s %s left a transaction open", r->method, r->path);
		db_rollback(r->db);
	}
	log_debug("http: %s %s -> %u client %s", r->method, r->path, r->status, r->client);
	api_metrics_request(r->route, r->method, r->status, core_metrics_now_ns() - r->t0_ns);
}

void api_handle(api_req_t *r)
{
	log_set_request(r->id);
	r->t0_ns = core_metrics_now_ns();
	dispatch(r);
	if (!r->parked)
		finish(r);
	log_set_request(NULL);
}

void api_handle_resumed(api_req_t *r)
{
	log_set_request(r->id);
	r->parked = false;
	r->db = api_thread_db(r->app);
	if (!r->db || db_ensure(r->db) != RDNS_OK)
		api_db_error(r, RDNS_EDB);
	else
		r->done(r);
	finish(r);
	log_set_request(NULL);
}

void api_req_free(api_req_t *r)
{
	if (!r)
		return;
	if (r->job_free)
		r->job_free(r->job);
	json_decref(r->json);
	free(r->out);
	free(r->body);
	free(r->method);
	free(r->path);
	free(r->query_buf);
	free(r->param_buf);
	free(r);
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
