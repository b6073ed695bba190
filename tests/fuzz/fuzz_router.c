/* fuzz_router.c - libFuzzer target for the HTTP request path: bytes as they come off a
 * connection, framed by http1.c (pipelined requests, Content-Length and chunked bodies),
 * made into requests by api_req_new() and routed by api_handle(), with a database that is
 * never there (every route that needs one answers 503 after the checks that come before
 * it: framing, path, method, content type, JSON body). Invariants: every request gets
 * exactly one answer with a status of 200-599; a problem answer is a JSON object whose
 * status is the answer's; headers fit; nothing leaks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/http1.h"
#include "api/server.h"
#include "core/conf.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static rdns_conf_t conf;
static api_app_t *app;

static void quiet(int level, const char *msg, void *arg)
{
	(void)level;
	(void)msg;
	(void)arg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256];
	if (conf_load(&conf, NULL, err, sizeof(err)) != 0)
		abort();
	/* a socket directory that does not exist: every connection attempt fails at once */
	free(conf.database_url);
	conf.database_url = strdup("host=/nonexistent-rdns-fuzz connect_timeout=1");
	int e;
	app = api_app_new(&conf, &e);
	if (!app)
		abort();
	log_set_sink(quiet, NULL);
	return 0;
}

static void check_answer(const api_req_t *r)
{
	if (r->status < 200 || r->status > 599 || r->parked)
		abort();
	if (r->hdrs_len >= sizeof(r->hdrs) || strlen(r->hdrs) != r->hdrs_len)
		abort();
	if (r->ctype && strcmp(r->ctype, "application/problem+json") == 0) {
		json_error_t jerr;
		json_t *p = json_loadb(r->out, r->out_len, 0, &jerr);
		if (!json_is_object(p) || json_integer_value(json_object_get(p, "status")) != r->status ||
		    !json_is_string(json_object_get(p, "detail")))
			abort();
		json_decref(p);
	}
	if (r->out_len && !r->out)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	size_t at = 0;
	for (int n = 0; n < 8 && at < size; n++) {
		h1_request_t q;
		h1_error_t err;
		if (h1_parse_head(buf + at, size - at, &q, &err) != H1_OK)
			break;
		size_t next = at + q.head_len;
		char *body = NULL;
		size_t body_len = 0;
		if (q.framing == H1_BODY_LENGTH) {
			if (q.content_length > API_MAX_BODY || q.content_length > size - next)
				break;
			body_len = (size_t)q.content_length;
			body = malloc(body_len + 1);
			if (!body)
				break;
			memcpy(body, buf + next, body_len);
			body[body_len] = 0;
			next += body_len;
		} else if (q.framing == H1_BODY_CHUNKED) {
			h1_chunked_t ch;
			size_t used;
			h1_chunked_init(&ch);
			body = malloc(API_MAX_BODY + 1);
			if (!body)
				break;
			if (h1_chunked_feed(&ch, buf + next, size - next, &used, body, &body_len,
			                    API_MAX_BODY, &err) != H1_OK) {
				free(body);
				break;
			}
			body[body_len] = 0;
			next += used;
		}
		api_req_t *r = api_req_new(app, &q, body, body_len, "192.0.2.1");
		if (r) {
			if (!r->status)
				api_handle(r);
			check_answer(r);
			api_req_free(r);
		}
		at = next;
	}
	free(buf);
	return 0;
}
