/* routes_batch.c - bulk PTR changes (POST /v1/ptr:batch): up to 1,000 sets or resets, each
 * verified (forward checks in parallel on a bounded pool, off the HTTP worker) and answered
 * in its place, the passing ones applied in one transaction. (api/batch.c is the group
 * commit of single PUTs; this is one request with many items.) */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/decide.h"
#include "api/http.h"
#include "api/metrics.h"
#include "api/offload.h"
#include "api/respond.h"
#include "api/routes.h"
#include "core/addr.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/strbuf.h"
#include "core/zonefile.h"
#include "db/bulk.h"
#include "verify/verify.h"

/* Threads that verify one batch's items at once: each item's checks keep the verifier's own
 * deadline (verify_deadline_ms), so a batch of n items takes about n / BATCH_POOL_MAX of
 * them at worst. The pool is the batch's: its threads start and end with it. */
#define BATCH_POOL_MAX 64

static bool is_v4(const core_prefix_t *p)
{
	return p->addr.family == CORE_AF_INET;
}

bool api_batch_body(api_req_t *r, api_batch_t *out)
{
	static const api_field_t spec[] = {
	    {"items", API_FIELD_OBJECTS, false},
	    {"prefix", API_FIELD_STRING, false},
	    {"template", API_FIELD_STRING, false},
	    {"atomic", API_FIELD_BOOLEAN, false},
	    {NULL, 0, false},
	};
	memset(out, 0, sizeof(*out));
	if (!api_check_fields(r, spec))
		return false;
	json_t *items = json_object_get(r->json, "items");
	const char *prefix = json_string_value(json_object_get(r->json, "prefix"));
	const char *tmpl = json_string_value(json_object_get(r->json, "template"));
	out->atomic = json_is_true(json_object_get(r->json, "atomic"));
	if (!items == !(prefix || tmpl)) {
		api_bad_field(r, API_PROBLEM_SENTENCE, "items",
		              "or prefix with template must be given, not both and not neither");
		return false;
	}
	if (items) {
		size_t n = json_array_size(items);
		if (n == 0 || n > API_BATCH_ITEMS) {
			api_bad_field(r, API_PROBLEM_SENTENCE, "items", "must hold 1 to %d items",
			              API_BATCH_ITEMS);
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *it = json_array_get(items, i), *ip = json_object_get(it, "ip"),
			       *host = json_object_get(it, "hostname"), *reset = json_object_get(it, "reset");
			size_t want = 1 + (host != NULL) + (reset != NULL);
			bool ok = json_is_string(ip) && json_object_size(it) == want &&
			          ((json_is_string(host) && !reset) || (json_is_true(reset) && !host));
			if (!ok) {
				api_bad_field(
				    r, API_PROBLEM_SENTENCE, "items",
				    "[%zu] must be {\"ip\": string, \"hostname\": string} or {\"ip\": "
				    "string, \"reset\": true}",
				    i);
				return false;
			}
		}
		out->items = items;
		out->n = n;
		return true;
	}
	if (!prefix || !tmpl) {
		api_bad_field(r, API_PROBLEM_SENTENCE, "prefix", "and template go together");
		return false;
	}
	if (core_prefix_parse(prefix, &out->prefix) != RDNS_OK || !is_v4(&out->prefix) ||
	    out->prefix.len < 22) {
		api_bad_field(r, API_PROBLEM_SENTENCE, "prefix",
		              "must be an IPv4 prefix of at most %d addresses (/22 or longer; templates are "
		              "for IPv4), without host bits",
		              API_BATCH_ITEMS);
		return false;
	}
	size_t n = (size_t)1 << (32 - out->prefix.len);
	if (n > API_BATCH_ITEMS) {
		api_bad_field(r, API_PROBLEM_SENTENCE, "prefix",
		              "must hold at most %d addresses (/23 or longer)", API_BATCH_ITEMS);
		return false;
	}
	char tmp[CORE_ZONEFILE_TMPL_MAX];
	if (core_zonefile_template(tmpl, &out->prefix.addr, tmp, sizeof(tmp)) != RDNS_OK) {
		api_bad_field(
		    r, API_PROBLEM_SENTENCE, "template",
		    "must be a name with the placeholders {dashed} {reverse} {a} {b} {c} {d} {hex}");
		return false;
	}
	out->tmpl = tmpl;
	out->n = n;
	return true;
}

/* One item and what became of it. */
typedef struct {
	char ip[CORE_ADDR_STRLEN];
	core_addr_t a;
	const char *hostname; /* as given (in r->json) or gen; NULL: a reset */
	char gen[CORE_ZONEFILE_TMPL_MAX];
	bool verify; /* a set still to be verified */
	int verr;
	vf_verdict_t v;
	char *checks;    /* the findings' JSON text (malloc) */
	unsigned status; /* 0 while it may still be applied */
	char error[320];
	db_bulk_item_t db;
} item_t;

typedef struct {
	item_t *it;
	size_t n;
	bool atomic;
	uint64_t t0, t_verified; /* core_metrics_now_ns(): parked, verified (for the debug log) */
	vf_verify_conf_t vc;
	_Atomic size_t next; /* the next item a pool thread takes */
	size_t pool;
} job_t;

static void job_free(void *p)
{
	job_t *j = p;
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		free(j->it[i].checks);
	free(j->it);
	free(j);
}

static void set_error(item_t *it, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(item_t *it, unsigned status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->error, sizeof(it->error), fmt, ap);
	va_end(ap);
	it->status = status;
}

/* A pool thread: verify the items it takes until none is left. */
static void *verify_loop(void *arg)
{
	job_t *j = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->n)
			return NULL;
		item_t *it = &j->it[i];
		if (!it->verify)
			continue;
		uint64_t t0 = core_metrics_now_ns();
		it->verr = vf_verify(&j->vc, &it->a, it->hostname, false, &it->v);
		api_metrics_verify(it->verr == RDNS_OK ? &it->v : NULL, it->verr, core_metrics_now_ns() - t0);
	}
}

/* On a verification thread (api_offload): the items' forward checks on a pool of its own. */
static void batch_verify(api_req_t *r)
{
	job_t *j = r->job;
	pthread_t th[BATCH_POOL_MAX];
	size_t started = 0;
	for (; started < j->pool; started++)
		if (pthread_create(&th[started], NULL, verify_loop, j) != 0)
			break;
	verify_loop(j); /* this thread too, and alone when no thread could start */
	for (size_t k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	j->t_verified = core_metrics_now_ns();
}

/* One item of the answer into b: its fields through jansson, its findings spliced in as the
 * verifier wrote them (1,000 findings parsed again and written again cost more than the
 * rest of the answer). */
static void item_text(core_strbuf_t *b, const item_t *it)
{
	json_t *o = json_pack("{s:s, s:i}", "ip", it->ip, "status", (int)it->status);
	const char *host = it->hostname;
	if (it->hostname && it->v.syntax_ok && it->v.hostname[0])
		host = it->v.hostname;
	json_object_set_new(o, "hostname", host ? json_string(host) : json_null());
	if (it->status == 200) {
		json_object_set_new(o, "request_id", json_integer(it->db.request_id));
		json_object_set_new(o, "updated_at",
		                    it->db.updated_at[0] ? json_string(it->db.updated_at) : json_null());
		json_object_set_new(o, "verified_at",
		                    it->db.verified_at[0] ? json_string(it->db.verified_at) : json_null());
	} else if (it->error[0]) {
		json_object_set_new(o, "error", json_string(it->error));
	}
	char *t = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!t) {
		b->failed = true;
		return;
	}
	size_t tl = strlen(t);
	if (it->checks && tl >= 2) {
		core_strbuf_put(b, t, tl - 1); /* without its '}' */
		core_strbuf_str(b, ",\"checks\":");
		core_strbuf_str(b, it->checks);
		core_strbuf_str(b, "}");
	} else {
		core_strbuf_put(b, t, tl);
	}
	free(t);
}

/* Back on the worker: decide each item, apply the passing ones together, answer. */
static void batch_decide(api_req_t *r)
{
	job_t *j = r->job;
	size_t failed = 0, applied = 0;
	for (size_t i = 0; i < j->n; i++) {
		item_t *it = &j->it[i];
		if (!it->verify)
			continue;
		if (it->verr != RDNS_OK) {
			log_err("batch: verifier failed for %s: %s", it->ip, rdns_strerror(it->verr));
			set_error(it, 500, "%s", "the verifier could not run; this is a problem on our side");
			continue;
		}
		it->checks = vf_verdict_checks_text(&it->v);
		if (api_ptr_decide(it->v.syntax_ok, it->v.ok, false, false, r->caller.staff) != API_PTR_APPLY)
			set_error(it, 422, "%s",
			          it->v.syntax_ok ? "the PTR did not pass verification"
			                          : "the hostname is not acceptable");
	}
	for (size_t i = 0; i < j->n; i++)
		failed += j->it[i].status != 0;
	uint64_t t_decided = core_metrics_now_ns(), t_db = t_decided;
	/* the passing items, in one transaction (unless atomic and some failed: none) */
	size_t m = 0;
	db_bulk_item_t *db = NULL;
	if (!(j->atomic && failed) && failed < j->n) {
		db = calloc(j->n, sizeof(*db));
		if (!db) {
			api_problem(r, 503, NULL, "Service Unavailable", NULL, "%s",
			            "out of memory; retry shortly");
			return;
		}
		size_t *idx = calloc(j->n, sizeof(*idx));
		if (!idx) {
			free(db);
			api_problem(r, 503, NULL, "Service Unavailable", NULL, "%s",
			            "out of memory; retry shortly");
			return;
		}
		for (size_t i = 0; i < j->n; i++) {
			item_t *it = &j->it[i];
			if (it->status)
				continue;
			db[m] = (db_bulk_item_t){.ip = it->ip,
			                         .hostname = it->hostname ? it->v.hostname : NULL,
			                         .checks_json = it->checks};
			idx[m++] = i;
		}
		int err = db_bulk_apply(r->db, db, m, r->caller.staff ? 0 : r->caller.account_id,
		                        r->caller.account_id, r->caller.name, j->atomic);
		t_db = core_metrics_now_ns();
		if (err != RDNS_OK && err != RDNS_EDENIED) {
			free(idx);
			free(db);
			api_db_error(r, err);
			return;
		}
		for (size_t k = 0; k < m; k++) {
			item_t *it = &j->it[idx[k]];
			it->db = db[k];
			if (err == RDNS_OK && db[k].applied) {
				it->status = 200;
				applied++;
			} else if (err == RDNS_OK && db[k].delegation.prefix[0]) {
				set_error(it, 409,
				          "%s is in %s, which was delegated to %s while the batch was "
				          "verified: its "
				          "PTR is served by those name servers",
				          it->ip, db[k].delegation.prefix, db[k].delegation.ns);
				failed++;
			} else if (err == RDNS_OK) {
				set_error(it, 404,
				          "%s is no longer in one of your allocations and a reverse zone",
				          it->ip);
				failed++;
			} else {
				set_error(it, 424, "%s",
				          "not applied: the batch is atomic and an address changed hands or "
				          "was delegated meanwhile");
			}
		}
		free(idx);
		free(db);
	}
	for (size_t i = 0; i < j->n; i++)
		if (j->it[i].status == 0)
			set_error(&j->it[i], 424, "%s",
			          "not applied: the batch is atomic and other items failed");
	uint64_t t_applied = core_metrics_now_ns();
	core_strbuf_t b = {0};
	core_strbuf_str(&b, "{\"items\":[");
	for (size_t i = 0; i < j->n; i++) {
		if (i)
			core_strbuf_str(&b, ",");
		item_text(&b, &j->it[i]);
	}
	char tail[96];
	snprintf(tail, sizeof(tail), "],\"applied\":%zu,\"failed\":%zu,\"atomic\":%s}", applied,
	         j->n - applied, j->atomic ? "true" : "false");
	core_strbuf_str(&b, tail);
	log_debug("batch: request %s: %zu items, %zu applied; verified in %.1f ms (%zu threads), decided and "
	          "applied in %.1f ms (decided %.1f, in PostgreSQL %.1f)",
	          r->id, j->n, applied, (double)(j->t_verified - j->t0) / 1e6, j->pool + 1,
	          (double)(t_applied - j->t_verified) / 1e6, (double)(t_decided - j->t_verified) / 1e6,
	          (double)(t_db - t_decided) / 1e6);
	if (b.failed)
		api_problem(r, 503, NULL, "Service Unavailable", NULL, "%s", "out of memory; retry shortly");
	else
		api_raw(r, 200, "application/json", b.p, b.len);
	free(b.p);
}

/* qsort: items by address, then by position (the array's order). */
static int by_ip(const void *a, const void *b)
{
	const item_t *x = *(item_t *const *)a, *y = *(item_t *const *)b;
	int c = strcmp(x->ip, y->ip);
	return c ? c : (x > y) - (x < y);
}

/* Refuse every repeat of an address in its place, naming the first item with it: sorted,
 * not each item against all before it (1,000 items: 500,000 comparisons on the worker). */
static bool refuse_repeats(job_t *j)
{
	item_t **ord = malloc(j->n * sizeof(*ord));
	if (!ord)
		return false;
	size_t m = 0;
	for (size_t i = 0; i < j->n; i++)
		if (j->it[i].status != 400)
			ord[m++] = &j->it[i];
	qsort(ord, m, sizeof(*ord), by_ip);
	for (size_t k = 1, first = 0; k < m; k++) {
		if (strcmp(ord[k]->ip, ord[first]->ip) != 0) {
			first = k;
			continue;
		}
		set_error(ord[k], 400, "%s repeats item %zu: one change per address in a batch", ord[k]->ip,
		          (size_t)(ord[first] - j->it));
	}
	free(ord);
	return true;
}

/* The items of the body into j->it: addresses parsed (else the item's 400), repeats
 * refused in their place, generated names expanded. */
static bool load_items(api_req_t *r, const api_batch_t *b, job_t *j)
{
	j->it = calloc(b->n, sizeof(*j->it));
	if (!j->it)
		return false;
	j->n = b->n;
	for (size_t i = 0; i < b->n; i++) {
		item_t *it = &j->it[i];
		if (b->items) {
			json_t *o = json_array_get(b->items, i);
			const char *ip = json_string_value(json_object_get(o, "ip"));
			it->hostname = json_string_value(json_object_get(o, "hostname"));
			if (core_addr_parse(ip, &it->a) != RDNS_OK) {
				char e[API_ECHO_BUF];
				snprintf(it->ip, sizeof(it->ip), "%.45s", ip);
				set_error(it, 400, "'%s' is not an IPv4 or IPv6 address", api_echo(ip, e));
				continue;
			}
		} else {
			it->a = b->prefix.addr;
			uint32_t x = ((uint32_t)it->a.b[0] << 24 | (uint32_t)it->a.b[1] << 16 |
			              (uint32_t)it->a.b[2] << 8 | it->a.b[3]) +
			             (uint32_t)i;
			it->a.b[0] = (uint8_t)(x >> 24);
			it->a.b[1] = (uint8_t)(x >> 16);
			it->a.b[2] = (uint8_t)(x >> 8);
			it->a.b[3] = (uint8_t)x;
			if (core_zonefile_template(b->tmpl, &it->a, it->gen, sizeof(it->gen)) != RDNS_OK)
				it->gen[0] = 0; /* too long: the verifier's syntax check says so */
			it->hostname = it->gen;
		}
		core_addr_format(&it->a, it->ip, sizeof(it->ip));
	}
	return refuse_repeats(j);
}

static void batch_post(api_req_t *r)
{
	api_batch_t b;
	if (!api_batch_body(r, &b))
		return;
	job_t *j = calloc(1, sizeof(*j));
	if (!j || !load_items(r, &b, j)) {
		job_free(j);
		api_problem(r, 503, NULL, "Service Unavailable", NULL, "%s", "out of memory; retry shortly");
		return;
	}
	j->atomic = b.atomic;
	/* every address at once: zone, holder, delegation */
	const char **ips = calloc(j->n, sizeof(*ips));
	db_bulk_ctx_t *ctx = calloc(j->n, sizeof(*ctx));
	int err = ips && ctx ? RDNS_OK : RDNS_ENOMEM;
	for (size_t i = 0; err == RDNS_OK && i < j->n; i++)
		ips[i] = j->it[i].status == 400 && !j->it[i].a.family ? "0.0.0.0" : j->it[i].ip;
	if (err == RDNS_OK)
		err = db_bulk_context(r->db, ips, j->n, ctx);
	if (err != RDNS_OK) {
		free(ips);
		free(ctx);
		job_free(j);
		api_db_error(r, err);
		return;
	}
	size_t verify = 0;
	for (size_t i = 0; i < j->n; i++) {
		item_t *it = &j->it[i];
		if (it->status)
			continue;
		if (!ctx[i].in_zone || (!r->caller.staff && ctx[i].owner != r->caller.account_id))
			set_error(
			    it, 404,
			    "%s is not in one of your allocations or not in a reverse zone of this provider",
			    it->ip);
		else if (ctx[i].delegation[0])
			set_error(
			    it, 409,
			    "%s is in %s, which is delegated to %s: its PTR is served by those name servers",
			    it->ip, ctx[i].delegation, ctx[i].delegation_ns);
		else if (it->hostname)
			it->verify = true, verify++;
	}
	free(ips);
	free(ctx);
	/* the rate limit counts items: every item asked for, as n single PUTs would */
	if (!r->caller.staff) {
		int retry = 0;
		err = db_rate_hit_n(r->db, r->caller.account_id, r->conf->rate_limit_writes, j->n, &retry);
		if (err == RDNS_ELIMIT) {
			char ra[16];
			if (retry < 0)
				api_problem(r, 429, "rate-limited", "Too Many Requests", NULL,
				            "a batch of %zu items exceeds the limit of %ld PTR changes per "
				            "minute; send "
				            "smaller batches",
				            j->n, r->conf->rate_limit_writes);
			else
				api_problem(r, 429, "rate-limited", "Too Many Requests", NULL,
				            "at most %ld PTR changes per minute: %zu items fit in %d s",
				            r->conf->rate_limit_writes, j->n, retry);
			snprintf(ra, sizeof(ra), "%d", retry < 0 ? 60 : retry);
			api_header(r, "Retry-After", ra);
			job_free(j);
			return;
		}
		if (err != RDNS_OK) {
			job_free(j);
			api_db_error(r, err);
			return;
		}
	}
	vf_verify_conf_from(r->conf, &j->vc);
	size_t pool = (size_t)r->conf->verify_threads;
	if (pool > BATCH_POOL_MAX)
		pool = BATCH_POOL_MAX;
	j->pool = verify < pool ? (verify ? verify - 1 : 0) : pool - 1; /* the offload thread is one */
	j->t0 = core_metrics_now_ns();
	api_offload(r, j, job_free, batch_verify, batch_decide); /* false: answered 429/503; r frees j */
}

const api_route_t api_routes_batch[] = {
    {"POST", "/v1/ptr:batch", API_AUTH_ANY, true, batch_post}, /* API_BATCH_PATH */
    {NULL, NULL, 0, false, NULL},
};
