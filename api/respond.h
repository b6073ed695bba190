/* respond.h - the request helpers every route shares: body fields, ids, limits and query
 * parameters, and the problems that answer them when they are wrong. */
#ifndef RDNS_API_RESPOND_H
#define RDNS_API_RESPOND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/http.h"
#include "core/addr.h"
#include "core/hostname.h"

/* Bytes of user input quoted back in a problem detail, and the buffer api_echo() fills. */
#define API_ECHO_MAX 96
#define API_ECHO_BUF (API_ECHO_MAX + 4)

/* ?limit= of the list routes: 1 to API_LIMIT_MAX, API_LIMIT_DEFAULT when absent. */
#define API_LIMIT_DEFAULT 100
#define API_LIMIT_MAX     1000

/* User input made fit for quoting in a message: at most API_ECHO_MAX bytes of whole
 * UTF-8 characters, control characters and invalid bytes replaced by '?' (the URL may
 * carry anything), "..." when cut. Returns buf; s NULL reads as "". */
const char *api_echo(const char *s, char buf[API_ECHO_BUF]);

/*
 * How a 400 about one body field or query parameter is worded. Both are "Bad Request"
 * problems of type invalid-body or invalid-query; they differ in what they add:
 *  API_PROBLEM_NAMED: the staff routes. The problem names the field in "errors"
 *    ([{"field", "error"}], the shape of api_check_fields) or the parameter in
 *    "parameter" (documented for GET /v1/audit), and the detail reads
 *    "field: error" / "?name: 'value' is not WHAT".
 *  API_PROBLEM_SENTENCE: the PTR and request routes. A detail only, "name must be
 *    WHAT" (their problems are documented without those members).
 */
typedef enum { API_PROBLEM_NAMED, API_PROBLEM_SENTENCE } api_problem_style_t;

/* What a body field must hold. */
typedef enum {
	API_FIELD_STRING,  /* a string; null too when the field is optional */
	API_FIELD_INTEGER, /* an integer */
	API_FIELD_BOOLEAN, /* true or false */
	API_FIELD_STRINGS, /* an array of strings */
	API_FIELD_OBJECT,  /* an object */
	API_FIELD_OBJECTS, /* an array of objects (bulk changes' items) */
} api_field_type_t;

/* Field validation of a JSON body: allowed fields and their types. */
typedef struct {
	const char *name;
	api_field_type_t type;
	bool required;
} api_field_t;

/* Checks r->json against spec (NULL-name terminated). On failure answers 400
 * invalid-body with an "errors" list (every bad field) and returns false. */
bool api_check_fields(api_req_t *r, const api_field_t *spec);

/* 400 invalid-body for one bad field: NAMED "field: <error>" with errors
 * [{"field", "error"}]; SENTENCE "field <error>" (error: "must be ..."). */
void api_bad_field(api_req_t *r, api_problem_style_t style, const char *field, const char *error_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 400 invalid-query for a bad query parameter whose text is value: NAMED
 * "?name: 'value' is not WHAT" with "parameter": name (value quoted with api_echo);
 * SENTENCE "name must be WHAT". WHAT: "an IP address", "a positive integer" ... */
void api_bad_param(api_req_t *r, api_problem_style_t style, const char *name, const char *value,
                   const char *what_fmt, ...) __attribute__((format(printf, 5, 6)));

/* 404 "no <what> '<text>'" (text quoted with api_echo). */
void api_not_found(api_req_t *r, const char *what, const char *text);

/* The one id grammar of the API (path segments, ids and page cursors in queries,
 * ?limit=): a positive decimal integer as the API writes it, 1 to 18 digits, no
 * sign, space or leading zero. Returns false when s (may be NULL) is not one. */
bool api_parse_id(const char *s, long long *out);

/* The id of a path segment; answers 404 "no <what> '<seg>'" when it is not one. */
bool api_path_id(api_req_t *r, const char *seg, const char *what, long long *id);

/* ?name= as an id (api_parse_id); *id is left alone when the parameter is absent.
 * Answers 400 (api_bad_param with what) and returns false when it is not one. */
bool api_query_id(api_req_t *r, api_problem_style_t style, const char *name, const char *what, long long *id);

/* ?name= as a prefix (core_prefix_parse) in canonical text into buf (CORE_PREFIX_STRLEN
 * bytes); *out is buf, or NULL when the parameter is absent. Answers 400 (api_bad_param
 * with what) and returns false when it is not one. */
bool api_query_prefix(api_req_t *r, api_problem_style_t style, const char *name, const char *what, char *buf,
                      const char **out);

/* ?limit= into *limit: API_LIMIT_DEFAULT when absent, else an id up to API_LIMIT_MAX.
 * Answers 400 ("an integer from 1 to 1000") and returns false when it is not. */
bool api_query_limit(api_req_t *r, api_problem_style_t style, int *limit);

/* A prefix body field (core_prefix_parse); on failure answers 400 as
 * api_bad_field(NAMED) saying what is wrong (no prefix, not an address, the
 * length, host bits set: then it names the network). */
bool api_field_prefix(api_req_t *r, const char *field, const char *s, core_prefix_t *out);

/* core_hostname_policy with the API's configured special_names and denied_domains (an
 * empty special_names keeps the built-in list, as the PTR verifier does). */
core_policy_t api_hostname_policy(const api_req_t *r, const char *name, const char **which);

/* Characters of a UTF-8 string (jansson has checked that a body's strings are valid). */
size_t api_utf8_chars(const char *s);

/* Whether the parameters of a JSON body's Content-Type (ct, the text after
 * "application/json") leave it UTF-8: no charset parameter, or charset=utf-8 (any case,
 * quoted or not). RFC 8259 8.1: JSON between systems is UTF-8, and the parser reads
 * nothing else. Otherwise copies the charset given (cut to len - 1 bytes) to charset
 * and returns false. */
bool api_json_charset_ok(const char *ct, char *charset, size_t len);

/* 201 with body (stolen) and a Location header. */
void api_created(api_req_t *r, json_t *body, const char *location);

/* 200 with one page of a list whose statement returns one row: the items as JSON text
 * and the next page's cursor (NULL on the last page), as {"items", "next"}; next is an
 * integer when next_is_id, else a string. res NULL: answers for err. Clears res. */
void api_page(api_req_t *r, PGresult *res, int err, bool next_is_id);

#endif
