/* diagnose.c - the diagnostics: one thread per check (and per name server, per blocklist), one deadline. */
#include "verify/diagnose.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "core/endpoint.h"
#include "core/err.h"
#include "core/revname.h"
#include "verify/lookup.h"
#include "verify/smtp.h"
#include "verify/spf.h"

/* Stack of the check threads: the big structs live on the heap, the deepest
 * frames are ldns's and libspf2's; 512 KiB leaves ample room, also under ASan,
 * where a diagnosis may hold 9 + 8 + 16 of them. */
#define THREAD_STACK (512 * 1024)
/* Most TXT records kept of one name, and bytes of one (its strings joined). */
#define TXT_MAX 8
#define TXT_LEN 2048

/* What every check of one diagnosis shares; read only once the threads run. */
typedef struct {
	const vf_diag_conf_t *conf;
	const vf_diag_request_t *req;
	int64_t start_us, deadline_us;
	char ip_text[CORE_ADDR_STRLEN];
	const char *domain; /* NULL: none */
} diag_t;

/* ---- small helpers ---- */

static int remaining_ms(const diag_t *d)
{
	int64_t left = (d->deadline_us - vf_resolve_now_us()) / 1000;
	return left > 0 ? (int)left : 0;
}

/* A session over the forward resolvers (or servers), sharing the diagnosis' deadline. */
static int session(const diag_t *d, const char *const *servers, size_t n, vf_resolver_t **out)
{
	vf_resolver_conf_t rc = {.servers = servers,
	                         .n_servers = n,
	                         .query_timeout_ms = d->conf->query_timeout_ms,
	                         .retries = d->conf->retries,
	                         .deadline_ms = d->conf->deadline_ms};
	return vf_resolver_new(&rc, d->start_us, out);
}

static int forward_session(const diag_t *d, vf_resolver_t **out)
{
	return session(d, d->conf->resolvers, d->conf->n_resolvers, out);
}

/* Absolute ldns name of text (with or without the trailing dot); NULL when it does not parse. */
static ldns_rdf *dname(const char *text)
{
	char q[LDNS_MAX_DOMAINLEN + 2];
	size_t l = strlen(text);
	ldns_rdf *r = NULL;

	if (l == 0 || l > LDNS_MAX_DOMAINLEN)
		return NULL;
	snprintf(q, sizeof(q), "%s%s", text, text[l - 1] == '.' ? "" : ".");
	if (ldns_str2rdf_dname(&r, q) != LDNS_STATUS_OK)
		return NULL;
	return r;
}

/* Lower-case presentation form of a name without the trailing dot, printable. */
static void name_text(const ldns_rdf *name, char *buf, size_t len)
{
	char *s = name ? ldns_rdf2str(name) : NULL;

	buf[0] = '\0';
	if (!s)
		return;
	size_t l = strlen(s);
	if (l > 1 && s[l - 1] == '.')
		s[--l] = '\0';
	for (char *c = s; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	vf_diag_printable(buf, len, s);
	free(s);
}

/* A TXT RR's strings joined into buf. */
static void txt_join(const ldns_rr *rr, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, i);
		const uint8_t *p = ldns_rdf_data(rd);
		size_t n = ldns_rdf_size(rd);

		if (n == 0)
			continue;
		size_t sl = p[0] < n - 1 ? p[0] : n - 1;
		for (size_t k = 0; k < sl && at + 1 < len; k++)
			buf[at++] = (char)p[1 + k];
	}
	buf[at] = '\0';
}

typedef struct {
	vf_txt_kind_t kind;
	char error[96];
	char txt[TXT_MAX][TXT_LEN];
	size_t n;
} txt_result_t;

/* The TXT records of name through the forward resolvers. */
static int txt_lookup(const diag_t *d, const char *name, txt_result_t *out)
{
	vf_resolver_t *r = NULL;
	vf_resolve_result_t res = {0};
	ldns_rdf *q = dname(name);
	int ret;

	memset(out, 0, sizeof(*out));
	out->kind = VF_TXT_TIMEOUT;
	if (!q) {
		out->kind = VF_TXT_MISSING;
		return RDNS_OK;
	}
	ret = forward_session(d, &r);
	if (ret == RDNS_OK)
		ret = vf_resolve_query(r, q, LDNS_RR_TYPE_TXT, &res);
	if (ret != RDNS_OK)
		goto cleanup;
	switch (res.status) {
	case VF_RESOLVE_ANSWER: {
		const ldns_rr_list *an = ldns_pkt_answer(res.reply);

		out->kind = VF_TXT_MISSING;
		for (size_t i = 0; an && i < ldns_rr_list_rr_count(an) && out->n < TXT_MAX; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
				continue;
			txt_join(rr, out->txt[out->n], sizeof(out->txt[0]));
			out->n++;
		}
		if (out->n)
			out->kind = VF_TXT_FOUND;
		break;
	}
	case VF_RESOLVE_RCODE: {
		const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int)res.rcode);
		out->kind = VF_TXT_ERROR;
		snprintf(out->error, sizeof(out->error), "the resolvers answered %s",
		         lt ? lt->name : "an error");
		break;
	}
	case VF_RESOLVE_BADANSWER:
		out->kind = VF_TXT_ERROR;
		snprintf(out->error, sizeof(out->error), "the resolvers sent no valid answer");
		break;
	case VF_RESOLVE_UNREACHABLE:
		out->kind = VF_TXT_ERROR;
		snprintf(out->error, sizeof(out->error), "the resolvers refused or were unreachable");
		break;
	case VF_RESOLVE_TIMEOUT: out->kind = VF_TXT_TIMEOUT; break;
	}
cleanup:
	ldns_pkt_free(res.reply);
	vf_resolver_free(r);
	ldns_rdf_deep_free(q);
	return ret;
}

/* Run fn(arg[i]) for i < n in threads of their own (inline when one cannot be
 * made), and wait for all. Each honours the deadline, so the wait is bounded. */
typedef void *(*task_fn)(void *);

static void run_all(task_fn fn, void *args, size_t size, size_t n)
{
	pthread_t th[VF_DIAG_MAX_BL > VF_DIAG_MAX_NS ? VF_DIAG_MAX_BL : VF_DIAG_MAX_NS + 1];
	bool started[sizeof(th) / sizeof(th[0])];
	pthread_attr_t attr;
	bool attr_ok = pthread_attr_init(&attr) == 0;

	if (n > sizeof(th) / sizeof(th[0]))
		n = sizeof(th) / sizeof(th[0]);
	if (attr_ok)
		pthread_attr_setstacksize(&attr, THREAD_STACK);
	for (size_t i = 0; i < n; i++) {
		void *a = (char *)args + i * size;
		started[i] = pthread_create(&th[i], attr_ok ? &attr : NULL, fn, a) == 0;
		if (!started[i])
			fn(a);
	}
	for (size_t i = 0; i < n; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	if (attr_ok)
		pthread_attr_destroy(&attr);
}

/* ---- ptr_published ---- */

typedef struct {
	const diag_t *d;
	char server[VF_RESOLVER_NAME_MAX]; /* the endpoint to ask */
	vf_ns_answer_t *out;
	int err;
} ns_task_t;

static void *ns_task(void *arg)
{
	ns_task_t *t = arg;
	const diag_t *d = t->d;
	vf_ns_answer_t *a = t->out;
	const char *servers[1] = {t->server};
	char rev[CORE_REVNAME_MAX];
	vf_resolver_t *r = NULL;
	vf_resolve_result_t res = {0};
	ldns_rdf *q = NULL, *zq = NULL;

	a->kind = VF_NS_TIMEOUT;
	t->err = core_revname_from_addr(&d->req->ip, rev, sizeof(rev));
	if (t->err != RDNS_OK)
		return NULL;
	t->err = RDNS_ENOMEM;
	q = dname(rev);
	zq = dname(d->req->zone);
	if (!q || !zq)
		goto cleanup;
	t->err = session(d, servers, 1, &r);
	if (t->err != RDNS_OK)
		goto cleanup;
	t->err = vf_resolve_query(r, q, LDNS_RR_TYPE_PTR, &res);
	if (t->err != RDNS_OK)
		goto cleanup;
	switch (res.status) {
	case VF_RESOLVE_ANSWER: {
		const ldns_rr_list *an = ldns_pkt_answer(res.reply);

		for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR || !ldns_rr_rdf(rr, 0))
				continue;
			if (a->n_ptr++ == 0)
				name_text(ldns_rr_rdf(rr, 0), a->ptr, sizeof(a->ptr));
		}
		a->kind = a->n_ptr                                               ? VF_NS_PTR
		          : ldns_pkt_get_rcode(res.reply) == LDNS_RCODE_NXDOMAIN ? VF_NS_NXDOMAIN
		                                                                 : VF_NS_NODATA;
		break;
	}
	case VF_RESOLVE_RCODE: {
		const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int)res.rcode);
		a->kind = VF_NS_RCODE;
		a->rcode_name = lt ? lt->name : NULL;
		break;
	}
	case VF_RESOLVE_BADANSWER: a->kind = VF_NS_BAD; break;
	case VF_RESOLVE_UNREACHABLE: a->kind = VF_NS_UNREACHABLE; break;
	case VF_RESOLVE_TIMEOUT: a->kind = VF_NS_TIMEOUT; break;
	}
	ldns_pkt_free(res.reply);
	res.reply = NULL;
	/* the serial it serves, to tell a server that is behind from one that is wrong */
	if (a->kind == VF_NS_PTR || a->kind == VF_NS_NXDOMAIN || a->kind == VF_NS_NODATA) {
		t->err = vf_resolve_query(r, zq, LDNS_RR_TYPE_SOA, &res);
		if (t->err != RDNS_OK)
			goto cleanup;
		const ldns_rr_list *an = res.status == VF_RESOLVE_ANSWER ? ldns_pkt_answer(res.reply) : NULL;
		for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rdf(rr, 2)) {
				a->serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
				a->has_serial = true;
				break;
			}
		}
	}
	t->err = RDNS_OK;
cleanup:
	ldns_pkt_free(res.reply);
	vf_resolver_free(r);
	ldns_rdf_deep_free(q);
	ldns_rdf_deep_free(zq);
	return NULL;
}

typedef struct {
	const diag_t *d;
	vf_diag_finding_t *f;
	int err;
} check_t;

/* The addresses of the zone's NS names (A, then AAAA), port 53, through the forward resolvers. */
static int zone_servers(const diag_t *d, ns_task_t *tasks, size_t *n, char *why, size_t why_len)
{
	vf_resolver_t *r = NULL;
	int ret = forward_session(d, &r);

	*n = 0;
	for (size_t i = 0; ret == RDNS_OK && i < d->req->n_zone_ns && *n < VF_DIAG_MAX_NS; i++) {
		vf_lookup_t *l = malloc(sizeof(*l));
		if (!l) {
			ret = RDNS_ENOMEM;
			break;
		}
		for (int fam = 0; fam < 2 && ret == RDNS_OK; fam++) {
			ret = vf_lookup_addrs(r, d->req->zone_ns[i], fam ? CORE_AF_INET6 : CORE_AF_INET, NULL,
			                      l);
			if (ret != RDNS_OK || l->kind != VF_LOOKUP_ADDRS)
				continue;
			for (size_t k = 0; k < l->n_addrs && *n < VF_DIAG_MAX_NS; k++) {
				char t[CORE_ADDR_STRLEN];
				core_addr_format(&l->addrs[k], t, sizeof(t));
				snprintf(tasks[*n].server, sizeof(tasks[*n].server),
				         fam ? "[%s]:53" : "%s:53", t);
				snprintf(tasks[*n].out->server, sizeof(tasks[*n].out->server), "%s (%s)",
				         d->req->zone_ns[i], tasks[*n].server);
				(*n)++;
			}
			break; /* one family is enough to ask the server */
		}
		if (ret == RDNS_OK && l->kind != VF_LOOKUP_ADDRS)
			snprintf(why, why_len, "%s has no address the resolvers could find",
			         d->req->zone_ns[i]);
		free(l);
	}
	vf_resolver_free(r);
	return ret;
}

static void *check_published(void *arg)
{
	check_t *c = arg;
	const diag_t *d = c->d;
	vf_diag_published_t o = {.ip = d->ip_text,
	                         .expected = d->req->ptr,
	                         .zone = d->req->zone,
	                         .serial = d->req->serial,
	                         .from_option = d->conf->n_ns_servers > 0};
	ns_task_t tasks[VF_DIAG_MAX_NS];
	char why[300] = "";
	size_t n = 0;

	memset(tasks, 0, sizeof(tasks));
	for (size_t i = 0; i < VF_DIAG_MAX_NS; i++) {
		tasks[i].d = d;
		tasks[i].out = &o.ns[i];
	}
	c->err = RDNS_OK;
	if (o.expected) {
		if (o.from_option) {
			for (; n < d->conf->n_ns_servers && n < VF_DIAG_MAX_NS; n++) {
				core_endpoint_t ep;
				char t[CORE_ADDR_STRLEN];
				if (core_endpoint_parse(d->conf->ns_servers[n], CORE_EP_BRACKET_V4, 53, &ep,
				                        NULL) != RDNS_OK) {
					c->err = RDNS_ECONFIG;
					return NULL;
				}
				core_addr_format(&ep.addr, t, sizeof(t));
				snprintf(tasks[n].server, sizeof(tasks[n].server),
				         ep.addr.family == CORE_AF_INET ? "%s:%u" : "[%s]:%u", t,
				         (unsigned)ep.port);
				snprintf(o.ns[n].server, sizeof(o.ns[n].server), "%s", tasks[n].server);
			}
		} else {
			c->err = zone_servers(d, tasks, &n, why, sizeof(why));
			if (c->err != RDNS_OK)
				return NULL;
			if (n == 0 && !why[0])
				snprintf(why, sizeof(why), "%s",
				         d->req->n_zone_ns ? "their addresses did not resolve"
				                           : "the zone lists no NS");
		}
		run_all(ns_task, tasks, sizeof(tasks[0]), n);
		for (size_t i = 0; i < n; i++)
			if (tasks[i].err != RDNS_OK && c->err == RDNS_OK)
				c->err = tasks[i].err;
		o.n_ns = n;
		o.no_servers = why[0] ? why : NULL;
	}
	if (c->err == RDNS_OK)
		vf_diag_words_published(&o, c->f);
	return NULL;
}

/* ---- fcrdns ---- */

static void *check_fcrdns(void *arg)
{
	check_t *c = arg;
	const diag_t *d = c->d;
	vf_verify_conf_t vc = d->conf->verify;
	vf_verdict_t *v;
	const vf_check_t *k = NULL;

	c->err = RDNS_OK;
	if (!d->req->ptr) {
		vf_diag_words_skip(c->f, "no PTR to confirm");
		return NULL;
	}
	vc.deadline_ms = remaining_ms(d);
	if (vc.deadline_ms <= 0) {
		vf_diag_words_skip(c->f, "the deadline passed before it could start");
		return NULL;
	}
	v = malloc(sizeof(*v));
	if (!v) {
		c->err = RDNS_ENOMEM;
		return NULL;
	}
	c->err = vf_verify(&vc, &d->req->ip, d->req->ptr, false, v);
	if (c->err == RDNS_OK) {
		/* the forward check; when syntax or policy stopped it, the check that did */
		for (size_t i = 0; i < v->n; i++)
			if (strcmp(v->checks[i].id, "forward") == 0)
				k = &v->checks[i];
		for (size_t i = 0; !k && i < v->n; i++)
			if (v->checks[i].status == VF_CHECK_FAIL)
				k = &v->checks[i];
		if (!k) {
			vf_diag_words_skip(c->f, "the forward check did not run");
		} else if (k->status == VF_CHECK_FAIL && strcmp(k->id, "forward") == 0 &&
		           vf_resolve_now_us() >= d->deadline_us - 2000) {
			char why[600];
			snprintf(why, sizeof(why), "did not finish before the deadline (%s)", k->detail);
			vf_diag_words_skip(c->f, why);
		} else {
			c->f->status = k->status == VF_CHECK_PASS   ? VF_DIAG_PASS
			               : k->status == VF_CHECK_WARN ? VF_DIAG_WARN
			                                            : VF_DIAG_FAIL;
			snprintf(c->f->detail, sizeof(c->f->detail), "%s", k->detail);
			snprintf(c->f->next_step, sizeof(c->f->next_step), "%s", k->next_step);
		}
	}
	free(v);
	return NULL;
}

/* ---- helo ---- */

static void *check_helo(void *arg)
{
	check_t *c = arg;
	const diag_t *d = c->d;
	vf_diag_helo_t *o;

	c->err = RDNS_OK;
	if (!d->req->smtp) {
		vf_diag_words_skip(c->f, "not asked for (add ?smtp=1 to check the mail server's banner)");
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		c->err = RDNS_ENOMEM;
		return NULL;
	}
	o->ip = d->ip_text;
	o->port = d->conf->smtp_port;
	o->ptr = d->req->ptr;
	vf_smtp_probe(&d->req->ip, d->deadline_us, o);
	vf_diag_words_helo(o, c->f);
	free(o);
	return NULL;
}

/* ---- spf, dmarc, dkim ---- */

static void *check_spf(void *arg)
{
	check_t *c = arg;
	const diag_t *d = c->d;
	vf_diag_spf_t o = {.ip = d->ip_text, .domain = d->domain};
	vf_resolver_conf_t rc = {.servers = d->conf->resolvers,
	                         .n_servers = d->conf->n_resolvers,
	                         .query_timeout_ms = d->conf->query_timeout_ms,
	                         .retries = d->conf->retries,
	                         .deadline_ms = d->conf->deadline_ms};

	c->err = RDNS_OK;
	if (!d->domain) {
		vf_diag_words_skip(c->f, "no sending domain (no PTR, and no ?domain= given)");
		return NULL;
	}
	c->err = vf_spf_check(&rc, d->start_us, &d->req->ip, d->domain, d->req->ptr, &o);
	if (c->err == RDNS_OK) {
		if (o.result == VF_SPF_TEMPERROR && vf_resolve_now_us() >= d->deadline_us - 2000)
			o.timed_out = true;
		vf_diag_words_spf(&o, c->f);
	}
	return NULL;
}

static void *check_dmarc(void *arg)
{
	check_t *c = arg;
	const diag_t *d = c->d;
	vf_diag_dmarc_t o = {.domain = d->domain};
	char name[CORE_HOSTNAME_MAX + 16];
	txt_result_t *t;

	c->err = RDNS_OK;
	if (!d->domain) {
		vf_diag_words_skip(c->f, "no sending domain (no PTR, and no ?domain= given)");
		return NULL;
	}
	t = malloc(sizeof(*t));
	if (!t) {
		c->err = RDNS_ENOMEM;
		return NULL;
	}
	snprintf(name, sizeof(name), "_dmarc.%s", d->domain);
	c->err = txt_lookup(d, name, t);
	if (c->err == RDNS_OK) {
		o.kind = t->kind;
		o.error = t->error;
		for (size_t i = 0; i < t->n; i++) {
			if (!vf_dmarc_is_record(t->txt[i]))
				continue;
			if (o.n_records++ == 0)
				vf_dmarc_parse(t->txt[i], &o.rec);
		}
		if (o.kind == VF_TXT_FOUND && o.n_records == 0)
			o.kind = VF_TXT_MISSING;
		vf_diag_words_dmarc(&o, c->f);
	}
	free(t);
	return NULL;
}

static void *check_dkim(void *arg)
{
	check_t *c = arg;
	const diag_t *d = c->d;
	vf_diag_dkim_t o = {.domain = d->domain, .selector = d->req->selector};
	char name[CORE_HOSTNAME_MAX + 160];
	txt_result_t *t;

	c->err = RDNS_OK;
	if (!d->domain && o.selector) {
		vf_diag_words_skip(c->f, "no sending domain (no PTR, and no ?domain= given)");
		return NULL;
	}
	if (!o.selector) {
		vf_diag_words_dkim(&o, c->f);
		return NULL;
	}
	t = malloc(sizeof(*t));
	if (!t) {
		c->err = RDNS_ENOMEM;
		return NULL;
	}
	snprintf(name, sizeof(name), "%s._domainkey.%s", o.selector, d->domain);
	c->err = txt_lookup(d, name, t);
	if (c->err == RDNS_OK) {
		o.kind = t->kind;
		o.error = t->error;
		if (t->n > 0)
			vf_dkim_parse(t->txt[0], &o.rec);
		vf_diag_words_dkim(&o, c->f);
	}
	free(t);
	return NULL;
}

/* ---- dnsbl ---- */

typedef struct {
	const diag_t *d;
	const char *zone;
	vf_bl_answer_t *out;
	int err;
} bl_task_t;

static void *bl_task(void *arg)
{
	bl_task_t *t = arg;
	const diag_t *d = t->d;
	vf_bl_answer_t *b = t->out;
	char rev[CORE_REVNAME_MAX], name[CORE_REVNAME_MAX + CORE_HOSTNAME_MAX + 2];
	vf_resolver_t *r = NULL;
	vf_resolve_result_t res = {0};
	ldns_rdf *q = NULL;
	bool any = false, outside = false, refused = true;

	snprintf(b->zone, sizeof(b->zone), "%s", t->zone);
	b->kind = VF_BL_TIMEOUT;
	t->err = core_revname_from_addr(&d->req->ip, rev, sizeof(rev));
	if (t->err != RDNS_OK)
		return NULL;
	/* the reverse name without its in-addr.arpa. / ip6.arpa. suffix, under the list */
	char *suffix = strstr(rev, d->req->ip.family == CORE_AF_INET ? "in-addr.arpa." : "ip6.arpa.");
	if (suffix)
		*suffix = '\0';
	snprintf(name, sizeof(name), "%s%s.", rev, t->zone);
	t->err = RDNS_ENOMEM;
	q = dname(name);
	if (!q)
		goto cleanup;
	t->err = forward_session(d, &r);
	if (t->err != RDNS_OK)
		goto cleanup;
	t->err = vf_resolve_query(r, q, LDNS_RR_TYPE_A, &res);
	if (t->err != RDNS_OK)
		goto cleanup;
	if (res.status == VF_RESOLVE_TIMEOUT) {
		b->kind = VF_BL_TIMEOUT;
		goto cleanup;
	}
	if (res.status != VF_RESOLVE_ANSWER) {
		b->kind = VF_BL_ERROR;
		goto cleanup;
	}
	const ldns_rr_list *an = ldns_pkt_answer(res.reply);
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A || !rd || ldns_rdf_size(rd) != 4)
			continue;
		const uint8_t *a = ldns_rdf_data(rd);
		/* RFC 5782 2.3: listings are 127.0.0.0/8 (127.0.0.2 usually); Spamhaus and
		 * others answer 127.255.255.x to refuse a query (open resolver, over quota) */
		if (a[0] != 127)
			outside = true;
		if (!(a[0] == 127 && a[1] == 255 && a[2] == 255))
			refused = false;
		size_t l = strlen(b->codes);
		snprintf(b->codes + l, sizeof(b->codes) - l, "%s%u.%u.%u.%u", l ? ", " : "", a[0], a[1], a[2],
		         a[3]);
		any = true;
	}
	ldns_pkt_free(res.reply);
	res.reply = NULL;
	if (!any) {
		b->kind = VF_BL_CLEAN; /* NXDOMAIN (or NODATA): not listed */
		t->err = RDNS_OK;
		goto cleanup;
	}
	if (outside) {
		b->kind = VF_BL_ERROR;
		t->err = RDNS_OK;
		goto cleanup;
	}
	if (refused) {
		b->kind = VF_BL_REFUSED;
		t->err = RDNS_OK;
		goto cleanup;
	}
	b->kind = VF_BL_LISTED;
	/* RFC 5782 2.1: the TXT record of the same name gives the reason */
	t->err = vf_resolve_query(r, q, LDNS_RR_TYPE_TXT, &res);
	if (t->err != RDNS_OK)
		goto cleanup;
	if (res.status == VF_RESOLVE_ANSWER) {
		const ldns_rr_list *tx = ldns_pkt_answer(res.reply);
		for (size_t i = 0; tx && i < ldns_rr_list_rr_count(tx); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(tx, i);
			char txt[TXT_LEN];
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
				continue;
			txt_join(rr, txt, sizeof(txt));
			vf_diag_printable(b->reason, sizeof(b->reason), txt);
			break;
		}
	}
cleanup:
	ldns_pkt_free(res.reply);
	vf_resolver_free(r);
	ldns_rdf_deep_free(q);
	return NULL;
}

static void *check_dnsbl(void *arg)
{
	check_t *c = arg;
	const diag_t *d = c->d;
	vf_diag_dnsbl_t *o = calloc(1, sizeof(*o));
	bl_task_t tasks[VF_DIAG_MAX_BL];
	size_t n = d->conf->n_dnsbl < VF_DIAG_MAX_BL ? d->conf->n_dnsbl : VF_DIAG_MAX_BL;

	c->err = RDNS_OK;
	if (!o) {
		c->err = RDNS_ENOMEM;
		return NULL;
	}
	o->ip = d->ip_text;
	for (size_t i = 0; i < n; i++)
		tasks[i] = (bl_task_t){.d = d, .zone = d->conf->dnsbl[i], .out = &o->bl[i]};
	run_all(bl_task, tasks, sizeof(tasks[0]), n);
	for (size_t i = 0; i < n; i++)
		if (tasks[i].err != RDNS_OK && c->err == RDNS_OK)
			c->err = tasks[i].err;
	o->n_bl = n;
	if (c->err == RDNS_OK)
		vf_diag_words_dnsbl(o, c->f);
	free(o);
	return NULL;
}

/* ---- the table ---- */

static void *check_generic(void *arg)
{
	check_t *c = arg;
	char why[256] = "";
	vf_diag_generic_t o = {
	    .hostname = c->d->req->ptr, .is_default = c->d->req->ptr_is_default, .why = why};

	if (o.hostname && !o.is_default)
		o.flags = core_hostname_generic(o.hostname, &c->d->req->ip, why, sizeof(why));
	vf_diag_words_generic(&o, c->f);
	c->err = RDNS_OK;
	return NULL;
}

static void *check_mail_hostname(void *arg)
{
	check_t *c = arg;

	vf_diag_words_mail_hostname(c->d->req->ptr, c->f);
	c->err = RDNS_OK;
	return NULL;
}

typedef struct {
	const char *id;
	vf_check_severity_t severity;
	task_fn fn;
} diag_row_t;

/* clang-format off */
static const diag_row_t rows[] = {
	{"ptr_published", VF_SEV_HIGH,   check_published},
	{"ptr_generic",   VF_SEV_MEDIUM, check_generic},
	{"fcrdns",        VF_SEV_HIGH,   check_fcrdns},
	{"mail_hostname", VF_SEV_LOW,    check_mail_hostname},
	{"helo",          VF_SEV_MEDIUM, check_helo},
	{"spf",           VF_SEV_MEDIUM, check_spf},
	{"dmarc",         VF_SEV_MEDIUM, check_dmarc},
	{"dkim",          VF_SEV_LOW,    check_dkim},
	{"dnsbl",         VF_SEV_HIGH,   check_dnsbl},
};
/* clang-format on */

_Static_assert(sizeof(rows) / sizeof(rows[0]) == VF_DIAG_FINDINGS, "one finding per row");
_Static_assert(VF_DIAG_FINDINGS <= VF_DIAG_MAX_BL, "run_all holds a thread per row");

void vf_diag_conf_from(const rdns_conf_t *c, vf_diag_conf_t *out)
{
	memset(out, 0, sizeof(*out));
	out->resolvers = (const char *const *)c->resolvers.v;
	out->n_resolvers = c->resolvers.n;
	out->query_timeout_ms = (int)c->verify_timeout_ms;
	out->retries = (int)c->verify_retries;
	out->ns_servers = (const char *const *)c->diagnose_resolvers.v;
	out->n_ns_servers = c->diagnose_resolvers.n;
	out->dnsbl = (const char *const *)c->dnsbl_zones.v;
	out->n_dnsbl = c->dnsbl_zones.n;
	out->smtp_port = (int)c->diagnose_smtp_port;
	out->deadline_ms = (int)c->diagnose_deadline_ms;
	vf_verify_conf_from(c, &out->verify);
}

int vf_diagnose(const vf_diag_conf_t *conf, const vf_diag_request_t *req, vf_diag_result_t *out)
{
	diag_t d = {.conf = conf, .req = req};
	check_t checks[VF_DIAG_FINDINGS];
	int ret = RDNS_OK;

	d.start_us = vf_resolve_now_us();
	if (!conf || !req || !out || !req->zone ||
	    (req->ip.family != CORE_AF_INET && req->ip.family != CORE_AF_INET6))
		return RDNS_EINVAL;
	d.deadline_us = d.start_us + (int64_t)(conf->deadline_ms > 0 ? conf->deadline_ms : 8000) * 1000;
	memset(out, 0, sizeof(*out));
	core_addr_format(&req->ip, d.ip_text, sizeof(d.ip_text));
	d.domain = req->domain ? req->domain : req->ptr ? vf_diag_parent_domain(req->ptr) : NULL;
	snprintf(out->domain, sizeof(out->domain), "%s", d.domain ? d.domain : "");
	for (size_t i = 0; i < VF_DIAG_FINDINGS; i++) {
		out->f[i].id = rows[i].id;
		out->f[i].severity = rows[i].severity;
		vf_diag_words_skip(&out->f[i], "did not run");
		checks[i] = (check_t){.d = &d, .f = &out->f[i], .err = RDNS_OK};
	}
	out->n = VF_DIAG_FINDINGS;
	/* one thread per row, each running its own row's function */
	pthread_t th[VF_DIAG_FINDINGS];
	bool started[VF_DIAG_FINDINGS];
	pthread_attr_t attr;
	bool attr_ok = pthread_attr_init(&attr) == 0;
	if (attr_ok)
		pthread_attr_setstacksize(&attr, THREAD_STACK);
	for (size_t i = 0; i < VF_DIAG_FINDINGS; i++) {
		started[i] = pthread_create(&th[i], attr_ok ? &attr : NULL, rows[i].fn, &checks[i]) == 0;
		if (!started[i])
			rows[i].fn(&checks[i]);
	}
	for (size_t i = 0; i < VF_DIAG_FINDINGS; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	if (attr_ok)
		pthread_attr_destroy(&attr);
	for (size_t i = 0; i < VF_DIAG_FINDINGS; i++)
		if (checks[i].err != RDNS_OK && ret == RDNS_OK)
			ret = checks[i].err;
	out->elapsed_ms = (int)((vf_resolve_now_us() - d.start_us) / 1000);
	return ret;
}
