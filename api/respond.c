/* respond.c - the request helpers every route shares: body fields, ids, limits and query
 * parameters, and the problems that answer them when they are wrong. */
#include "respond.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/id.h"

const char *api_echo(const char *s, char buf[API_ECHO_BUF])
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;
	while (*p) {
		size_t n = *p < 0x80             ? 1
		           : (*p & 0xe0) == 0xc0 ? 2
		           : (*p & 0xf0) == 0xe0 ? 3
		           : (*p & 0xf8) == 0xf0 ? 4
		                                 : 0;
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				n = 0;
		/* control characters; overlong forms, surrogates and code points above U+10FFFF */
		if ((n == 1 && (*p < 0x20 || *p == 0x7f)) || (n == 2 && *p < 0xc2) ||
		    (n == 3 && *p == 0xe0 && p[1] < 0xa0) || (n == 3 && *p == 0xed && p[1] > 0x9f) ||
		    (n == 4 && (*p > 0xf4 || (*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] > 0x8f))))
			n = 0;
		if (o + (n ? n : 1) > API_ECHO_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0) {
			buf[o++] = '?';
			p++;
			continue;
		}
		memcpy(buf + o, p, n);
		o += n;
		p += n;
	}
	buf[o] = 0;
	return buf;
}

/* ---- body fields ---- */

/* 400 invalid-body with the errors list (stolen). */
static void invalid_body(api_req_t *r, json_t *errors, const char *detail)
{
	api_problem(r, 400, "invalid-body", "Bad Request", json_pack("{s:o}", "errors", errors), "%s",
	            detail);
}

static const char *type_name(api_field_type_t t)
{
	switch (t) {
	case API_FIELD_STRING: return "string";
	case API_FIELD_INTEGER: return "integer";
	case API_FIELD_BOOLEAN: return "boolean";
	case API_FIELD_STRINGS: return "array of strings";
	case API_FIELD_OBJECT: return "object";
	case API_FIELD_OBJECTS: return "array of objects";
	}
	return "value";
}

static json_t *field_error(const char *field, const char *error)
{
	return json_pack("{s:s, s:s}", "field", field, "error", error);
}

bool api_check_fields(api_req_t *r, const api_field_t *spec)
{
	json_t *errors = json_array();
	const char *key;
	json_t *val;
	json_object_foreach(r->json, key, val)
	{
		const api_field_t *f = spec;
		while (f->name && strcmp(f->name, key) != 0)
			f++;
		if (!f->name) {
			json_array_append_new(errors, field_error(key, "unknown field"));
			continue;
		}
		bool ok;
		switch (f->type) {
		case API_FIELD_STRING: ok = json_is_string(val) || (json_is_null(val) && !f->required); break;
		case API_FIELD_INTEGER: ok = json_is_integer(val); break;
		case API_FIELD_BOOLEAN: ok = json_is_boolean(val); break;
		case API_FIELD_STRINGS:
			ok = json_is_array(val);
			for (size_t i = 0; ok && i < json_array_size(val); i++)
				ok = json_is_string(json_array_get(val, i));
			break;
		case API_FIELD_OBJECT: ok = json_is_object(val); break;
		case API_FIELD_OBJECTS:
			ok = json_is_array(val);
			for (size_t i = 0; ok && i < json_array_size(val); i++)
				ok = json_is_object(json_array_get(val, i));
			break;
		default: ok = false;
		}
		if (!ok) {
			char msg[80];
			snprintf(msg, sizeof(msg), "must be %s", type_name(f->type));
			json_array_append_new(errors, field_error(key, msg));
		}
	}
	for (const api_field_t *f = spec; f->name; f++)
		if (f->required && !json_object_get(r->json, f->name))
			json_array_append_new(errors, field_error(f->name, "required"));
	if (json_array_size(errors) == 0) {
		json_decref(errors);
		return true;
	}
	invalid_body(r, errors, "the request body has invalid fields");
	return false;
}

void api_bad_field(api_req_t *r, api_problem_style_t style, const char *field, const char *error_fmt, ...)
{
	char msg[900], detail[1024];
	va_list ap;
	va_start(ap, error_fmt);
	vsnprintf(msg, sizeof(msg), error_fmt, ap);
	va_end(ap);
	if (style == API_PROBLEM_SENTENCE) {
		api_problem(r, 400, "invalid-body", "Bad Request", NULL, "%s %s", field, msg);
		return;
	}
	snprintf(detail, sizeof(detail), "%s: %s", field, msg);
	json_t *errors = json_array();
	json_array_append_new(errors, field_error(field, msg));
	invalid_body(r, errors, detail);
}

bool api_field_prefix(api_req_t *r, const char *field, const char *s, core_prefix_t *out)
{
	if (core_prefix_parse(s, out) == RDNS_OK)
		return true;
	char e[API_ECHO_BUF], addr_text[CORE_ADDR_STRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	core_addr_t a;
	if (n >= sizeof(addr_text)) {
		api_bad_field(r, API_PROBLEM_NAMED, field, "'%s' is not an IP prefix (address/length)",
		              api_echo(s, e));
		return false;
	}
	memcpy(addr_text, s, n);
	addr_text[n] = 0;
	if (core_addr_parse(addr_text, &a) != RDNS_OK) {
		api_bad_field(r, API_PROBLEM_NAMED, field,
		              "'%s' is not an IP prefix: '%s' is not an IP address", api_echo(s, e),
		              addr_text);
		return false;
	}
	const char *l = slash + 1;
	size_t ln = strspn(l, "0123456789");
	unsigned bits = core_addr_bits(a.family);
	if (ln == 0 || ln > 3 || l[ln] || (l[0] == '0' && ln > 1) || (unsigned)atoi(l) > bits) {
		api_bad_field(r, API_PROBLEM_NAMED, field,
		              "'%s' is not an IP prefix: the length must be a decimal 0 to %u",
		              api_echo(s, e), bits);
		return false;
	}
	core_prefix_t net = {.addr = a, .len = (unsigned)atoi(l)};
	char net_text[CORE_PREFIX_STRLEN];
	core_addr_host_bits(&net.addr, net.len, false);
	core_prefix_format(&net, net_text, sizeof(net_text)); /* "" on failure */
	api_bad_field(r, API_PROBLEM_NAMED, field, "'%s' has host bits set beyond /%u; the network is %s",
	              api_echo(s, e), net.len, net_text);
	return false;
}

core_policy_t api_hostname_policy(const api_req_t *r, const char *name, const char **which)
{
	const rdns_conf_t *c = r->conf;
	return core_hostname_policy(name, c->special_names.n ? (const char *const *)c->special_names.v : NULL,
	                            c->special_names.n, (const char *const *)c->denied_domains.v,
	                            c->denied_domains.n, which);
}

size_t api_utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* ---- ids, limits and query parameters ---- */

void api_bad_param(api_req_t *r, api_problem_style_t style, const char *name, const char *value,
                   const char *what_fmt, ...)
{
	char what[800], e[API_ECHO_BUF];
	va_list ap;
	va_start(ap, what_fmt);
	vsnprintf(what, sizeof(what), what_fmt, ap);
	va_end(ap);
	if (style == API_PROBLEM_SENTENCE)
		api_problem(r, 400, "invalid-query", "Bad Request", NULL, "%s must be %s", name, what);
	else
		api_problem(r, 400, "invalid-query", "Bad Request", json_pack("{s:s}", "parameter", name),
		            "?%s: '%s' is not %s", name, api_echo(value, e), what);
}

void api_not_found(api_req_t *r, const char *what, const char *text)
{
	char e[API_ECHO_BUF];
	api_problem(r, 404, NULL, "Not Found", NULL, "no %s '%s'", what, api_echo(text, e));
}

bool api_parse_id(const char *s, long long *out)
{
	size_t n = s ? core_id_span(s) : 0;
	if (n == 0 || s[n])
		return false;
	*out = atoll(s);
	return true;
}

bool api_path_id(api_req_t *r, const char *seg, const char *what, long long *id)
{
	if (api_parse_id(seg, id))
		return true;
	api_not_found(r, what, seg);
	return false;
}

bool api_query_id(api_req_t *r, api_problem_style_t style, const char *name, const char *what, long long *id)
{
	const char *v = api_query(r, name);
	if (!v || api_parse_id(v, id))
		return true;
	api_bad_param(r, style, name, v, "%s", what);
	return false;
}

bool api_query_prefix(api_req_t *r, api_problem_style_t style, const char *name, const char *what, char *buf,
                      const char **out)
{
	const char *v = api_query(r, name);
	core_prefix_t p;
	*out = NULL;
	if (!v)
		return true;
	if (core_prefix_parse(v, &p) != RDNS_OK) {
		api_bad_param(r, style, name, v, "%s", what);
		return false;
	}
	core_prefix_format(&p, buf, CORE_PREFIX_STRLEN);
	*out = buf;
	return true;
}

bool api_query_limit(api_req_t *r, api_problem_style_t style, int *limit)
{
	const char *v = api_query(r, "limit");
	long long n;
	if (!v) {
		*limit = API_LIMIT_DEFAULT;
		return true;
	}
	if (!api_parse_id(v, &n) || n > API_LIMIT_MAX) {
		api_bad_param(r, style, "limit", v, "an integer from 1 to %d", API_LIMIT_MAX);
		return false;
	}
	*limit = (int)n;
	return true;
}

bool api_json_charset_ok(const char *ct, char *charset, size_t len)
{
	const char *p = ct;
	while ((p = strchr(p, ';'))) {
		p += 1 + strspn(p + 1, " \t");
		if (strncasecmp(p, "charset", 7) != 0)
			continue;
		const char *v = p + 7 + strspn(p + 7, " \t");
		if (*v != '=')
			continue;
		v += 1 + strspn(v + 1, " \t");
		bool quoted = *v == '"';
		v += quoted;
		size_t n = strcspn(v, quoted ? "\"" : "; \t");
		if (n == 5 && strncasecmp(v, "utf-8", 5) == 0)
			continue; /* a repeated parameter is checked too */
		snprintf(charset, len, "%.*s", (int)n, v);
		return false;
	}
	return true;
}

/* ---- answers ---- */

void api_created(api_req_t *r, json_t *body, const char *location)
{
	api_json(r, 201, body);
	api_header(r, "Location", location);
}

void api_page(api_req_t *r, PGresult *res, int err, bool next_is_id)
{
	if (!res) {
		api_db_error(r, err);
		return;
	}
	json_t *items = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	const char *next = db_val(res, 0, 1);
	json_t *o = json_pack("{s:o}", "items", items ? items : json_array());
	if (next && next_is_id)
		json_object_set_new(o, "next", json_integer(atoll(next)));
	else
		json_object_set_new(o, "next", api_str_or_null(next));
	PQclear(res);
	api_json(r, 200, o);
}
