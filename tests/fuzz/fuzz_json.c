/* fuzz_json.c - libFuzzer target for JSON bodies: every route's check of its body
 * (api/bodies.h), as a customer and as staff, without a database or a connection. */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/respond.h"
#include "core/addr.h"
#include "core/conf.h"
#include "core/endpoint.h"
#include "core/err.h"
#include "core/hostname.h"
#include "core/revname.h"
#include "core/text.h"
#include "core/zonefile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rdns_conf_t conf;

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "fuzz_json: %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	/* the defaults (special_names: the built-in list), and a denied domain to refuse */
	if (conf_load(&conf, NULL, err, sizeof(err)) != RDNS_OK ||
	    conf_set(&conf, "denied_domains", "denied.example", err, sizeof(err)) != RDNS_OK) {
		fprintf(stderr, "fuzz_json: %s\n", err);
		abort();
	}
	/* a route that takes a body and is not in api_body_checks would go unfuzzed */
	const api_route_t *missing;
	const api_body_check_t *stale;
	if (!api_body_checks_cover(&missing, &stale)) {
		fprintf(stderr, "fuzz_json: api_body_checks: %s %s %s\n",
		        missing ? "no entry for" : "entry without a body route",
		        missing ? missing->method : stale->method,
		        missing ? missing->pattern : stale->pattern);
		abort();
	}
	return 0;
}

/* Well-formed UTF-8 (RFC 3629): no overlong forms, surrogates or code points past U+10FFFF. */
static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = *p < 0x80             ? 1
		           : (*p & 0xe0) == 0xc0 ? 2
		           : (*p & 0xf0) == 0xe0 ? 3
		           : (*p & 0xf8) == 0xf0 ? 4
		                                 : 0;
		if (n == 0 || (n == 2 && *p < 0xc2))
			return false;
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		if ((n == 3 && *p == 0xe0 && p[1] < 0xa0) || (n == 3 && *p == 0xed && p[1] > 0x9f) ||
		    (n == 4 && (*p > 0xf4 || (*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] > 0x8f))))
			return false;
		p += n;
	}
	return true;
}

/* A hostname as the checks leave it: valid and already in normal form. */
static bool normal_hostname(const char *s)
{
	char again[CORE_HOSTNAME_MAX];
	const char *why;
	return s[0] && core_hostname_normalize(s, again, sizeof(again), &why) == RDNS_OK &&
	       strcmp(s, again) == 0;
}

/* The answer (its body, headers and status), cleared. */
static void answer_clear(api_req_t *r)
{
	free(r->out);
	r->out = NULL;
	r->out_len = 0;
	r->ctype = NULL;
	r->hdrs_len = 0;
	r->status = 0;
}

/* An accepted zone: every field as api_zone_apply promises. */
static void zone_sane(const api_zone_spec_t *z)
{
	CHECK(core_revname_is_cut(&z->prefix));
	CHECK(z->n_ns >= 1 && z->n_ns <= API_ZONE_MAX_NS);
	for (size_t i = 0; i < z->n_ns; i++) {
		CHECK(normal_hostname(z->ns[i]));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(z->ns[i], z->ns[j]) != 0);
	}
	CHECK(z->n_notify <= CORE_NOTIFY_MAX_TARGETS);
	for (size_t i = 0; i < z->n_notify; i++) {
		core_endpoint_t ep;
		char text[CORE_ENDPOINT_STRLEN];
		CHECK(core_endpoint_parse(z->notify[i], CORE_EP_NOTIFY, 53, &ep, NULL) == RDNS_OK);
		CHECK(core_endpoint_format(&ep, text, sizeof(text)) == RDNS_OK &&
		      strcmp(text, z->notify[i]) == 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(z->notify[i], z->notify[j]) != 0);
	}
	if (z->has_default_ptr) {
		CHECK(z->prefix.addr.family == CORE_AF_INET);
		CHECK(strlen(z->default_ptr) <= API_ZONE_TEMPLATE_MAX && utf8_ok(z->default_ptr));
		/* valid on the first and the last address, so on all */
		for (int last = 0; last < 2; last++) {
			core_addr_t a = z->prefix.addr;
			char out[CORE_ZONEFILE_TMPL_MAX], norm[CORE_HOSTNAME_MAX];
			const char *why, *which;
			core_addr_host_bits(&a, z->prefix.len, last);
			CHECK(core_zonefile_template(z->default_ptr, &a, out, sizeof(out)) == RDNS_OK);
			CHECK(core_hostname_normalize(out, norm, sizeof(norm), &why) == RDNS_OK);
			CHECK(core_hostname_policy(norm, NULL, 0, (const char *const *)conf.denied_domains.v,
			                           conf.denied_domains.n, &which) == CORE_POLICY_OK);
		}
	} else {
		CHECK(z->default_ptr[0] == 0);
	}
	CHECK(normal_hostname(z->mname) && normal_hostname(z->rname));
	CHECK(z->refresh >= 1 && z->refresh <= INT32_MAX && z->retry >= 1 && z->retry <= INT32_MAX);
	CHECK(z->expire >= 1 && z->expire <= INT32_MAX);
	CHECK(z->minimum >= 0 && z->minimum <= INT32_MAX && z->ttl >= 0 && z->ttl <= INT32_MAX);
}

/* A zone as it could be stored, for a PATCH to change. */
static api_zone_spec_t stored_zone(const char *prefix)
{
	api_zone_spec_t z = {
	    .n_ns = 2, .refresh = 3600, .retry = 900, .expire = 1209600, .minimum = 3600, .ttl = 3600};
	CHECK(core_prefix_parse(prefix, &z.prefix) == RDNS_OK);
	strcpy(z.ns[0], "ns1.example.net");
	strcpy(z.ns[1], "ns2.example.net");
	strcpy(z.mname, "ns1.example.net");
	strcpy(z.rname, "hostmaster.example.net");
	return z;
}

/* What an accepted body gave: sane, as bodies.h documents it. */
static void accepted_sane(const api_body_check_t *c, const api_req_t *r, const api_body_t *o)
{
	CHECK(r->status == 0 && r->out == NULL); /* accepted: nothing answered */
	switch (c->kind) {
	case API_BODY_PTR_PUT:
		CHECK(o->ptr_put.hostname && utf8_ok(o->ptr_put.hostname));
		CHECK(!o->ptr_put.force || r->caller.staff);
		if (o->ptr_put.reason)
			CHECK(utf8_ok(o->ptr_put.reason) && o->ptr_put.reason[0] &&
			      api_utf8_chars(o->ptr_put.reason) <= 2000);
		break;
	case API_BODY_DECIDE:
		if (o->decide.note)
			CHECK(utf8_ok(o->decide.note) && api_utf8_chars(o->decide.note) <= 2000);
		break;
	case API_BODY_ACCOUNT: {
		char why[CORE_TEXT_WHY_MAX];
		CHECK(o->account.name && utf8_ok(o->account.name) && o->account.name[0]);
		CHECK(api_utf8_chars(o->account.name) <= 200 &&
		      !core_text_name_problem(o->account.name, 200, why));
		CHECK(strcmp(o->account.role, "customer") == 0 || strcmp(o->account.role, "staff") == 0);
		break;
	}
	case API_BODY_TOKEN: CHECK(json_object_size(r->json) == 0); break;
	case API_BODY_ALLOCATION: {
		char text[CORE_PREFIX_STRLEN];
		core_prefix_t again;
		CHECK(o->allocation.account_id > 0);
		/* canonical text parses back: no host bits */
		CHECK(core_prefix_format(&o->allocation.prefix, text, sizeof(text)) == RDNS_OK);
		CHECK(core_prefix_parse(text, &again) == RDNS_OK && again.len == o->allocation.prefix.len &&
		      core_addr_equal(&again.addr, &o->allocation.prefix.addr));
		break;
	}
	case API_BODY_ZONE_CREATE: zone_sane(&o->zone); break;
	case API_BODY_ZONE_UPDATE: CHECK(strcmp(o->zone_name, "2.0.192.in-addr.arpa") == 0); break;
	case API_BODY_BATCH:
		CHECK(o->batch.n >= 1 && o->batch.n <= API_BATCH_ITEMS);
		CHECK(o->batch.items ? json_array_size(o->batch.items) == o->batch.n
		                     : o->batch.prefix.addr.family == CORE_AF_INET && o->batch.tmpl != NULL);
		break;
	case API_BODY_DELEG_PUT: {
		const api_deleg_put_t *d = &o->deleg_put;
		CHECK(d->n_ns >= 1 && d->n_ns <= API_DELEG_MAX_NS && (!d->force || r->caller.staff));
		for (size_t i = 0; i < d->n_ns; i++) {
			char again[CORE_HOSTNAME_MAX];
			CHECK(core_hostname_normalize(d->ns[i], again, sizeof(again), NULL) == RDNS_OK &&
			      strcmp(again, d->ns[i]) == 0);
			for (size_t k = 0; k < i; k++)
				CHECK(strcmp(d->ns[k], d->ns[i]) != 0);
		}
		break;
	}
	default: CHECK(!"an api_body_kind_t this target does not know: add its invariants");
	}
}

/* A refusal: one 4xx answer. */
static void refused_sane(const api_req_t *r)
{
	CHECK(r->out != NULL && r->status >= 400 && r->status <= 499);
}

/* One route's check as one caller; returns whether it accepted. */
static bool run(const api_body_check_t *c, json_t *body, bool staff)
{
	char path[128];
	snprintf(path, sizeof(path), "%s", c->pattern);
	api_req_t r = {
	    .conf = &conf, .method = (char *)c->method, .path = path, .json = body, .authed = true};
	r.params[0] = c->param;
	r.caller = (api_caller_t){.account_id = staff ? 1 : 2, .token_id = 1, .staff = staff};
	snprintf(r.caller.name, sizeof(r.caller.name), "%s", staff ? "ops" : "customer");
	api_body_t out;
	memset(&out, 0xa5, sizeof(out)); /* what a check leaves unset is not read as zero by luck */
	bool ok = c->check(&r, &out);
	if (ok)
		accepted_sane(c, &r, &out);
	else
		refused_sane(&r);
	answer_clear(&r);

	/* A PATCH's fields, applied to a stored zone (what zone_patch does in the transaction). */
	if (ok && c->kind == API_BODY_ZONE_UPDATE) {
		static const char *const stored[] = {"192.0.2.0/24", "10.0.0.0/8", "2001:db8::/32"};
		for (size_t i = 0; i < sizeof(stored) / sizeof(stored[0]); i++) {
			api_zone_spec_t z = stored_zone(stored[i]);
			if (api_zone_apply(&r, body, &z)) {
				CHECK(r.status == 0 && r.out == NULL);
				zone_sane(&z);
			} else {
				refused_sane(&r);
			}
			answer_clear(&r);
		}
	}
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	/* as api/http.c parses a body; a body that is not an object never reaches a route */
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	for (const api_body_check_t *c = api_body_checks; c->method; c++) {
		bool customer = run(c, body, false), staff = run(c, body, true);
		CHECK(!customer || staff); /* what a customer may send, staff may send too */
	}
	json_decref(body);
	return 0;
}
