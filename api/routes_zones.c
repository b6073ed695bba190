/* routes_zones.c - staff routes for reverse zones: their settings, validated, and their
 * life cycle (/v1/zones). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/respond.h"
#include "api/routes.h"
#include "api/rows.h"
#include "core/addr.h"
#include "core/endpoint.h"
#include "core/deleg.h"
#include "core/err.h"
#include "core/hostname.h"
#include "core/revname.h"
#include "core/zonefile.h"
#include "db/staff.h"

static const struct {
	const char *field;
	size_t off;
	long long min;
} zone_ints[] = {
    {"refresh", offsetof(api_zone_spec_t, refresh), 1}, {"retry", offsetof(api_zone_spec_t, retry), 1},
    {"expire", offsetof(api_zone_spec_t, expire), 1},   {"minimum", offsetof(api_zone_spec_t, minimum), 0},
    {"ttl", offsetof(api_zone_spec_t, ttl), 0},
};

/* The body fields of a zone (POST adds "prefix"), and where each appears in
 * the zone's JSON: audit entries name the changed fields this way. */
static const struct {
	const char *field, *key, *sub;
} zone_fields[] = {
    {"nameservers", "nameservers", NULL},
    {"default_ptr", "default_ptr", NULL},
    {"notify", "notify", NULL},
    {"soa_mname", "soa", "mname"},
    {"soa_rname", "soa", "rname"},
    {"refresh", "soa", "refresh"},
    {"retry", "soa", "retry"},
    {"expire", "soa", "expire"},
    {"minimum", "soa", "minimum"},
    {"ttl", "ttl", NULL},
    {"classless_label", "classless_label", NULL}, /* delegations (issue 16) */
};

#define ZONE_FIELD_SPEC(ns_required)                                                                         \
	{"nameservers", API_FIELD_STRINGS, ns_required}, {"default_ptr", API_FIELD_STRING, false},           \
	    {"notify", API_FIELD_STRINGS, false}, {"soa_mname", API_FIELD_STRING, false},                    \
	    {"soa_rname", API_FIELD_STRING, false}, {"refresh", API_FIELD_INTEGER, false},                   \
	    {"retry", API_FIELD_INTEGER, false}, {"expire", API_FIELD_INTEGER, false},                       \
	    {"minimum", API_FIELD_INTEGER, false}, {"ttl", API_FIELD_INTEGER, false},                        \
	{                                                                                                    \
		"classless_label", API_FIELD_STRING, false                                                   \
	}

/* {field: value in zone} for the fields named in only (all when NULL). */
static json_t *zone_pick(const json_t *zone, const json_t *only)
{
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof(zone_fields) / sizeof(zone_fields[0]); i++) {
		if (only && !json_object_get(only, zone_fields[i].field))
			continue;
		json_t *v = json_object_get(zone, zone_fields[i].key);
		if (zone_fields[i].sub)
			v = json_object_get(v, zone_fields[i].sub);
		json_object_set(o, zone_fields[i].field, v ? v : json_null());
	}
	if (!only)
		json_object_set(o, "prefix", json_object_get(zone, "prefix"));
	return o;
}

/* A NOTIFY target in the grammar rdns-zonegen reads (core/endpoint.h), in its
 * canonical form "192.0.2.1:53" / "[2001:db8::1]:53" plus "@keyname".
 * NULL on success, else the reason. */
static const char *notify_canon(const char *s, char *out, size_t len)
{
	core_endpoint_t ep;
	const char *why;
	if (core_endpoint_parse(s, CORE_EP_NOTIFY, 53, &ep, &why) != RDNS_OK)
		return why;
	if (core_endpoint_format(&ep, out, len) != RDNS_OK)
		return "too long";
	return NULL;
}

/* Check a default-PTR template on the first and the last address of the
 * zone: decimal octets are shortest on the first and longest on the last, so
 * a template valid on both is valid on every address. */
static bool check_template(api_req_t *r, const api_zone_spec_t *z, const char *tmpl)
{
	char e[API_ECHO_BUF];
	for (int last = 0; last < 2; last++) {
		core_addr_t a = z->prefix.addr;
		char out[CORE_ZONEFILE_TMPL_MAX], norm[CORE_HOSTNAME_MAX], at[CORE_ADDR_STRLEN];
		const char *why;
		core_addr_host_bits(&a, z->prefix.len, last);
		core_addr_format(&a, at, sizeof(at));
		int rc = core_zonefile_template(tmpl, &a, out, sizeof(out));
		if (rc == RDNS_EINVAL) {
			api_bad_field(
			    r, API_PROBLEM_NAMED, "default_ptr",
			    "'%s' is not a template: placeholders are {dashed} {reverse} {a} {b} {c} "
			    "{d} {hex}"
			    " and braces must pair",
			    api_echo(tmpl, e));
			return false;
		}
		if (rc != RDNS_OK) {
			api_bad_field(r, API_PROBLEM_NAMED, "default_ptr",
			              "'%s' expands to more than %d characters for %s", api_echo(tmpl, e),
			              CORE_ZONEFILE_TMPL_MAX - 3, at);
			return false;
		}
		if (core_hostname_normalize(out, norm, sizeof(norm), &why) != RDNS_OK) {
			char e2[API_ECHO_BUF];
			api_bad_field(r, API_PROBLEM_NAMED, "default_ptr",
			              "'%s' expands to '%s' for %s, which is not a valid hostname: %s",
			              api_echo(tmpl, e), api_echo(out, e2), at, why ? why : "too long");
			return false;
		}
		/* the PTRs a zone publishes by default are held to the policy of every PTR */
		const char *which;
		core_policy_t p = api_hostname_policy(r, norm, &which);
		if (p != CORE_POLICY_OK) {
			api_bad_field(
			    r, API_PROBLEM_NAMED, "default_ptr",
			    "'%s' expands to '%s' for %s, which is in '%s', %s", api_echo(tmpl, e), norm, at,
			    which,
			    p == CORE_POLICY_SPECIAL
			        ? "a special-use or internal domain that does not resolve on the public "
			          "Internet"
			        : "a domain that this provider does not allow as a reverse DNS name");
			return false;
		}
	}
	return true;
}

/* Validate a hostname field into out (normalised); answers 400 on failure. */
static bool check_hostname(api_req_t *r, const char *field, const char *s, char *out)
{
	const char *why;
	char e[API_ECHO_BUF];
	if (core_hostname_normalize(s, out, CORE_HOSTNAME_MAX, &why) == RDNS_OK)
		return true;
	api_bad_field(r, API_PROBLEM_NAMED, field, "'%s' is not a valid hostname: %s", api_echo(s, e),
	              why ? why : "too long");
	return false;
}

bool api_zone_apply(api_req_t *r, const json_t *body, api_zone_spec_t *z)
{
	char e[API_ECHO_BUF], field[32];
	json_t *v;
	size_t i;
	if ((v = json_object_get(body, "nameservers"))) {
		size_t n = json_array_size(v);
		if (n < 1 || n > API_ZONE_MAX_NS) {
			api_bad_field(r, API_PROBLEM_NAMED, "nameservers", "must list 1 to %d name servers",
			              API_ZONE_MAX_NS);
			return false;
		}
		for (i = 0; i < n; i++) {
			snprintf(field, sizeof(field), "nameservers[%zu]", i);
			if (!check_hostname(r, field, json_string_value(json_array_get(v, i)), z->ns[i]))
				return false;
			for (size_t j = 0; j < i; j++)
				if (strcmp(z->ns[j], z->ns[i]) == 0) {
					api_bad_field(r, API_PROBLEM_NAMED, field, "%s is listed twice",
					              z->ns[i]);
					return false;
				}
		}
		z->n_ns = n;
	}
	if ((v = json_object_get(body, "default_ptr"))) {
		const char *t = json_string_value(v);
		if (t && z->prefix.addr.family != CORE_AF_INET) {
			api_bad_field(r, API_PROBLEM_NAMED, "default_ptr",
			              "default PTRs are for IPv4 zones only");
			return false;
		}
		if (t && strlen(t) > API_ZONE_TEMPLATE_MAX) {
			api_bad_field(r, API_PROBLEM_NAMED, "default_ptr", "must be at most %d characters",
			              API_ZONE_TEMPLATE_MAX);
			return false;
		}
		if (t && !check_template(r, z, t))
			return false;
		z->has_default_ptr = t != NULL;
		snprintf(z->default_ptr, sizeof(z->default_ptr), "%s", t ? t : "");
	}
	if ((v = json_object_get(body, "notify"))) {
		size_t n = json_array_size(v);
		if (n > CORE_NOTIFY_MAX_TARGETS) {
			api_bad_field(r, API_PROBLEM_NAMED, "notify", "must list at most %d targets",
			              CORE_NOTIFY_MAX_TARGETS);
			return false;
		}
		for (i = 0; i < n; i++) {
			const char *s = json_string_value(json_array_get(v, i));
			const char *why = notify_canon(s, z->notify[i], sizeof(z->notify[i]));
			snprintf(field, sizeof(field), "notify[%zu]", i);
			if (why) {
				api_bad_field(r, API_PROBLEM_NAMED, field, "'%s': %s", api_echo(s, e), why);
				return false;
			}
			for (size_t j = 0; j < i; j++)
				if (strcmp(z->notify[j], z->notify[i]) == 0) {
					api_bad_field(r, API_PROBLEM_NAMED, field, "%s is listed twice",
					              z->notify[i]);
					return false;
				}
		}
		z->n_notify = n;
	}
	if ((v = json_object_get(body, "soa_mname"))) {
		z->mname[0] = 0; /* null: back to the default */
		if (json_is_string(v) && !check_hostname(r, "soa_mname", json_string_value(v), z->mname))
			return false;
	}
	if ((v = json_object_get(body, "soa_rname"))) {
		z->rname[0] = 0;
		if (json_is_string(v) && !check_hostname(r, "soa_rname", json_string_value(v), z->rname))
			return false;
	}
	for (i = 0; i < sizeof(zone_ints) / sizeof(zone_ints[0]); i++) {
		if (!(v = json_object_get(body, zone_ints[i].field)))
			continue;
		long long x = json_integer_value(v);
		if (x < zone_ints[i].min || x > INT32_MAX) {
			api_bad_field(r, API_PROBLEM_NAMED, zone_ints[i].field, "must be %lld to %ld",
			              zone_ints[i].min, (long)INT32_MAX);
			return false;
		}
		*(long long *)((char *)z + zone_ints[i].off) = x;
	}
	/* delegations (issue 16): the RFC 2317 child label of the zone's classless delegations */
	if ((v = json_object_get(body, "classless_label"))) {
		core_deleg_label_t l;
		if (core_deleg_label_parse(json_string_value(v), &l) != RDNS_OK) {
			api_bad_field(r, API_PROBLEM_NAMED, "classless_label",
			              "must be \"range\" (0-63) or \"slash\" (0/26)");
			return false;
		}
		snprintf(z->classless_label, sizeof(z->classless_label), "%s", core_deleg_label_name(l));
	}
	/* SOA defaults: the first name server, and hostmaster at its parent domain. */
	if (!z->mname[0])
		memcpy(z->mname, z->ns[0], sizeof(z->mname));
	if (!z->rname[0]) {
		char rname[CORE_HOSTNAME_MAX + 16];
		const char *dot = strchr(z->ns[0], '.');
		snprintf(rname, sizeof(rname), "hostmaster.%s", dot ? dot + 1 : z->ns[0]);
		const char *why;
		if (core_hostname_normalize(rname, z->rname, sizeof(z->rname), &why) != RDNS_OK) {
			api_bad_field(r, API_PROBLEM_NAMED, "soa_rname",
			              "the default %s is not valid (%s): give soa_rname", api_echo(rname, e),
			              why ? why : "too long");
			return false;
		}
	}
	return true;
}

/* The stored configuration of a zone row into z (for a PATCH). */
static bool zone_spec_from_row(const PGresult *res, api_zone_spec_t *z)
{
	json_t *ns = api_row_json(res, 0, DB_ZONE_NAMESERVERS),
	       *notify = api_row_json(res, 0, DB_ZONE_NOTIFY);
	bool ok = json_array_size(ns) >= 1 && json_array_size(ns) <= API_ZONE_MAX_NS &&
	          json_array_size(notify) <= CORE_NOTIFY_MAX_TARGETS;
	for (size_t i = 0; ok && i < json_array_size(ns); i++) {
		const char *s = json_string_value(json_array_get(ns, i));
		ok = s && strlen(s) < CORE_HOSTNAME_MAX;
		if (ok)
			strcpy(z->ns[i], s);
	}
	for (size_t i = 0; ok && i < json_array_size(notify); i++) {
		const char *s = json_string_value(json_array_get(notify, i));
		ok = s && strlen(s) < CORE_ENDPOINT_STRLEN;
		if (ok)
			strcpy(z->notify[i], s);
	}
	z->n_ns = json_array_size(ns);
	z->n_notify = json_array_size(notify);
	json_decref(ns);
	json_decref(notify);
	const char *t = db_val(res, 0, DB_ZONE_DEFAULT_PTR);
	z->has_default_ptr = t != NULL;
	snprintf(z->default_ptr, sizeof(z->default_ptr), "%s", t ? t : "");
	snprintf(z->mname, sizeof(z->mname), "%s", PQgetvalue(res, 0, DB_ZONE_SOA_MNAME));
	snprintf(z->rname, sizeof(z->rname), "%s", PQgetvalue(res, 0, DB_ZONE_SOA_RNAME));
	z->refresh = atoll(PQgetvalue(res, 0, DB_ZONE_REFRESH));
	z->retry = atoll(PQgetvalue(res, 0, DB_ZONE_RETRY));
	z->expire = atoll(PQgetvalue(res, 0, DB_ZONE_EXPIRE));
	z->minimum = atoll(PQgetvalue(res, 0, DB_ZONE_MINIMUM));
	z->ttl = atoll(PQgetvalue(res, 0, DB_ZONE_TTL));
	snprintf(z->classless_label, sizeof(z->classless_label), "%s",
	         PQgetvalue(res, 0, DB_ZONE_CLASSLESS_LABEL));
	return ok;
}

/* The data layer's view of z; the pointer arrays live in the caller. */
static db_zone_conf_t zone_conf(const api_zone_spec_t *z, const char *name, const char *prefix,
                                const char *ns[API_ZONE_MAX_NS], const char *notify[CORE_NOTIFY_MAX_TARGETS])
{
	for (size_t i = 0; i < z->n_ns; i++)
		ns[i] = z->ns[i];
	for (size_t i = 0; i < z->n_notify; i++)
		notify[i] = z->notify[i];
	return (db_zone_conf_t){.name = name,
	                        .prefix = prefix,
	                        .nameservers = ns,
	                        .n_nameservers = z->n_ns,
	                        .default_ptr = z->has_default_ptr ? z->default_ptr : NULL,
	                        .notify = notify,
	                        .n_notify = z->n_notify,
	                        .soa_mname = z->mname,
	                        .soa_rname = z->rname,
	                        .refresh = z->refresh,
	                        .retry = z->retry,
	                        .expire = z->expire,
	                        .minimum = z->minimum,
	                        .ttl = z->ttl,
	                        .classless_label = z->classless_label[0] ? z->classless_label : "range"};
}

/* A zone change in the making, and the state of its db_zone_hooks_t. */
typedef struct {
	api_req_t *r;
	const char *name;   /* the zone's name (a PATCH) */
	const json_t *only; /* the fields audited: those a PATCH body names; NULL: all */
	api_zone_spec_t z;
	const char *ns[API_ZONE_MAX_NS], *notify[CORE_NOTIFY_MAX_TARGETS]; /* zone_conf()'s arrays */
	bool answered;                                                     /* zone_patch answered */
} zone_work_t;

/* db_zone_hooks_t.value: the zone's configuration as audited (arg: a zone_work_t or NULL). */
static char *zone_value(const PGresult *row, void *arg)
{
	const zone_work_t *w = arg;
	json_t *zone = api_zone_json(row, 0), *config = zone_pick(zone, w ? w->only : NULL);
	char *text = api_json_text(config);
	json_decref(zone);
	json_decref(config);
	return text;
}

/* db_zone_hooks_t.change of a PATCH: the stored configuration with the body's fields
 * applied. Answers (400, or 500 for a stored value out of range) when it refuses. */
static int zone_patch(const PGresult *before, db_zone_conf_t *conf, void *arg)
{
	zone_work_t *w = arg;
	if (!zone_spec_from_row(before, &w->z)) {
		api_problem(w->r, 500, NULL, "Internal Server Error", NULL,
		            "the stored configuration of %s is out of range", w->name);
		w->answered = true;
		return RDNS_ERANGE;
	}
	if (!api_zone_apply(w->r, w->r->json, &w->z)) {
		w->answered = true; /* answered 400 */
		return RDNS_EINVAL;
	}
	*conf = zone_conf(&w->z, w->name, NULL, w->ns, w->notify);
	return RDNS_OK;
}

/* The zone named by a path segment (trailing dot optional, any case): its
 * canonical name without the dot. Answers 404 for anything that is not a
 * reverse zone name. */
static bool path_zone(api_req_t *r, const char *seg, char name[CORE_REVNAME_MAX])
{
	core_prefix_t p;
	if (core_revname_zone_parse(seg, &p) != RDNS_OK ||
	    core_revname_zone(&p, name, CORE_REVNAME_MAX) != RDNS_OK) {
		api_not_found(r, "reverse zone", seg);
		return false;
	}
	name[strlen(name) - 1] = 0;
	return true;
}

/* 400 for a zone prefix that is not on a cut, listing the zones to create instead. */
static void not_a_cut(api_req_t *r, const core_prefix_t *p)
{
	core_prefix_t cover[256];
	char text[CORE_PREFIX_STRLEN], list[640] = "", ptext[CORE_PREFIX_STRLEN];
	int n = core_revname_cover(p, cover, 256);
	json_t *zones = json_array();
	size_t used = 0;
	for (int i = 0; i < n && i < 256; i++) {
		core_prefix_format(&cover[i], text, sizeof(text));
		json_array_append_new(zones, json_string(text));
		if (i < 8)
			used +=
			    (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", text);
	}
	if (n > 8)
		snprintf(list + used, sizeof(list) - used, " ... (%d in all)", n);
	core_prefix_format(p, ptext, sizeof(ptext));
	const char *cuts =
	    p->addr.family == CORE_AF_INET ? "/8, /16 or /24" : "a multiple of 4 from /4 to /124";
	if (n == 1 && p->len > cover[0].len)
		api_problem(
		    r, 400, "not-a-zone-cut", "Bad Request", json_pack("{s:o}", "zones", zones),
		    "prefix %s is not on a reverse-zone cut (%s); it lies in the zone of %s: create that "
		    "zone instead",
		    ptext, cuts, list);
	else
		api_problem(r, 400, "not-a-zone-cut", "Bad Request", json_pack("{s:o}", "zones", zones),
		            "prefix %s is not on a reverse-zone cut (%s); create these %d zones instead: %s",
		            ptext, cuts, n, list);
}

/* 409 for a zone that overlaps existing ones, naming them. Call after the
 * failed transaction is rolled back. */
static void zone_overlap(api_req_t *r, const char *prefix)
{
	int err;
	PGresult *res = db_staff_zone_overlapping(r->db, prefix, &err);
	if (!res || PQntuples(res) == 0) {
		api_problem(r, 409, "overlap", "Conflict", NULL, "zone %s conflicts with an existing zone",
		            prefix);
		PQclear(res);
		return;
	}
	json_t *existing = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(existing,
		                      json_pack("{s:o, s:o}", "name", api_row_str(res, i, DB_ZONE_NAME),
		                                "prefix", api_row_prefix(res, i, DB_ZONE_PREFIX)));
	json_t *first = json_array_get(existing, 0);
	api_problem(r, 409, "overlap", "Conflict", json_pack("{s:o}", "existing", existing),
	            "%s overlaps the existing zone %s (%s)%s", prefix,
	            json_string_value(json_object_get(first, "name")),
	            json_string_value(json_object_get(first, "prefix")),
	            PQntuples(res) > 1 ? " and others listed in 'existing'" : "");
	PQclear(res);
}

bool api_zone_create_body(api_req_t *r, api_zone_spec_t *out)
{
	static const api_field_t spec[] = {
	    {"prefix", API_FIELD_STRING, true}, ZONE_FIELD_SPEC(true), {NULL, 0, false}};
	if (!api_check_fields(r, spec))
		return false;
	*out =
	    (api_zone_spec_t){.refresh = 3600, .retry = 900, .expire = 1209600, .minimum = 3600, .ttl = 3600};
	if (!api_field_prefix(r, "prefix", json_string_value(json_object_get(r->json, "prefix")),
	                      &out->prefix))
		return false;
	if (!core_revname_is_cut(&out->prefix)) {
		not_a_cut(r, &out->prefix);
		return false;
	}
	return api_zone_apply(r, r->json, out);
}

static void zone_create(api_req_t *r)
{
	zone_work_t w = {0};
	char name[CORE_REVNAME_MAX], prefix[CORE_PREFIX_STRLEN], location[CORE_REVNAME_MAX + 16];
	if (!api_zone_create_body(r, &w.z))
		return;
	core_revname_zone(&w.z.prefix, name, sizeof(name));
	name[strlen(name) - 1] = 0;
	core_prefix_format(&w.z.prefix, prefix, sizeof(prefix));

	db_zone_conf_t conf = zone_conf(&w.z, name, prefix, w.ns, w.notify);
	db_zone_hooks_t hooks = {.value = zone_value, .arg = &w};
	PGresult *row = NULL;
	int err = db_staff_zone_create(r->db, &conf, r->caller.account_id, r->caller.name, &hooks, &row);
	if (err == RDNS_EEXIST) {
		zone_overlap(r, prefix);
	} else if (err != RDNS_OK) {
		api_db_error(r, err);
	} else {
		snprintf(location, sizeof(location), "/v1/zones/%s", name);
		api_created(r, api_zone_json(row, 0), location);
	}
	PQclear(row);
}

/* A page of zones by prefix; "next" is the last one's prefix when more follow, the cursor
 * (?after=) of the next page. */
static void zone_list(api_req_t *r)
{
	char after[CORE_PREFIX_STRLEN];
	int limit;
	if (!api_query_limit(r, API_PROBLEM_NAMED, &limit))
		return;
	const char *after_p;
	if (!api_query_prefix(r, API_PROBLEM_NAMED, "after",
	                      "a zone's prefix (the \"next\" of the page before)", after, &after_p))
		return;
	int err;
	PGresult *res = db_staff_zone_list(r->db, after_p, limit + 1, &err);
	if (!res) {
		api_db_error(r, err);
		return;
	}
	json_t *items = json_array();
	int n = PQntuples(res);
	for (int i = 0; i < n && i < limit; i++)
		json_array_append_new(items, api_zone_json(res, i));
	json_t *next = n > limit ? api_row_prefix(res, limit - 1, DB_ZONE_PREFIX) : json_null();
	api_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
	PQclear(res);
}

static void zone_get(api_req_t *r)
{
	char name[CORE_REVNAME_MAX];
	if (!path_zone(r, r->params[0], name))
		return;
	int err;
	PGresult *res = db_staff_zone_get(r->db, name, &err);
	if (!res)
		api_db_error(r, err);
	else if (PQntuples(res) != 1)
		api_not_found(r, "reverse zone", name);
	else
		api_json(r, 200, api_zone_json(res, 0));
	PQclear(res);
}

bool api_zone_update_body(api_req_t *r, char name[CORE_REVNAME_MAX])
{
	static const api_field_t spec[] = {ZONE_FIELD_SPEC(false), {NULL, 0, false}};
	if (!api_check_fields(r, spec) || !path_zone(r, r->params[0], name))
		return false;
	if (json_object_size(r->json) == 0) {
		api_problem(r, 400, "invalid-body", "Bad Request", NULL, "the body names no field to change");
		return false;
	}
	return true;
}

static void zone_update(api_req_t *r)
{
	char name[CORE_REVNAME_MAX];
	if (!api_zone_update_body(r, name))
		return;
	zone_work_t w = {.r = r, .name = name, .only = r->json};
	core_revname_zone_parse(name, &w.z.prefix);
	db_zone_hooks_t hooks = {.value = zone_value, .change = zone_patch, .arg = &w};
	PGresult *after = NULL;
	int err = db_staff_zone_update(r->db, name, r->caller.account_id, r->caller.name, &hooks, &after);
	if (w.answered)
		; /* zone_patch refused the change */
	else if (err == RDNS_ENOTFOUND)
		api_not_found(r, "reverse zone", name);
	else if (err != RDNS_OK)
		api_db_error(r, err);
	else
		api_json(r, 200, api_zone_json(after, 0));
	PQclear(after);
}

static void zone_delete(api_req_t *r)
{
	char name[CORE_REVNAME_MAX];
	const char *f = api_query(r, "force");
	/* a JSON boolean's words only, as documented: "1" or "yes" could mean anything */
	bool force = f && strcmp(f, "true") == 0;
	if (f && !force && strcmp(f, "false") != 0) {
		api_bad_param(r, API_PROBLEM_NAMED, "force", f, "true or false");
		return;
	}
	if (!path_zone(r, r->params[0], name))
		return;
	long long records = 0;
	db_zone_hooks_t hooks = {.value = zone_value};
	int err =
	    db_staff_zone_delete(r->db, name, force, r->caller.account_id, r->caller.name, &hooks, &records);
	if (err == RDNS_ENOTFOUND)
		api_not_found(r, "reverse zone", name);
	else if (err == RDNS_EDENIED)
		api_problem(r, 409, "zone-has-records", "Conflict",
		            json_pack("{s:I}", "records", (json_int_t)records),
		            "zone %s holds %lld custom PTRs; delete them first or repeat with ?force=true",
		            name, records);
	else if (err != RDNS_OK)
		api_db_error(r, err);
	else
		api_no_content(r);
}

const api_route_t api_routes_zones[] = {
    {"POST", "/v1/zones", API_AUTH_STAFF, true, zone_create},
    {"GET", "/v1/zones", API_AUTH_STAFF, false, zone_list},
    {"GET", "/v1/zones/*", API_AUTH_STAFF, false, zone_get},
    {"PATCH", "/v1/zones/*", API_AUTH_STAFF, true, zone_update},
    {"DELETE", "/v1/zones/*", API_AUTH_STAFF, false, zone_delete},
    {NULL, NULL, 0, false, NULL},
};
