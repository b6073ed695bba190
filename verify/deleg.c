/* deleg.c - the lame-delegation check: each named server's answer for the child zone's
 * SOA, asked directly and without recursion, and the wording of what it found. */
#include "verify/deleg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "verify/lookup.h"
#include "verify/resolve.h"

/* "ip:port" or "[v6]:port" of an address. */
static void endpoint(const core_addr_t *a, unsigned port, char *buf, size_t len)
{
	char ip[CORE_ADDR_STRLEN];
	core_addr_format(a, ip, sizeof(ip));
	snprintf(buf, len, a->family == CORE_AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* The serial of the zone's SOA in an authoritative answer; false when there is none. */
static bool soa_serial(const ldns_pkt *p, const ldns_rdf *zone, uint32_t *serial)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 3 ||
		    ldns_dname_compare(ldns_rr_owner(rr), zone) != 0)
			continue;
		*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
		return true;
	}
	return false;
}

/* Ask one address for the zone's SOA, as of an authoritative server. */
static int ask(const vf_verify_conf_t *conf, unsigned port, int64_t start, const ldns_rdf *zone,
               vf_deleg_addr_t *a)
{
	char ep[VF_RESOLVER_NAME_MAX];
	endpoint(&a->addr, port, ep, sizeof(ep));
	const char *servers[1] = {ep};
	vf_resolver_conf_t rc = {.servers = servers,
	                         .n_servers = 1,
	                         .query_timeout_ms = conf->query_timeout_ms,
	                         .retries = conf->retries,
	                         .deadline_ms = conf->deadline_ms,
	                         .no_recursion = true};
	vf_resolver_t *r = NULL;
	int err = vf_resolver_new(&rc, start, &r);
	if (err != RDNS_OK)
		return err;
	vf_resolve_result_t res;
	err = vf_resolve_query(r, zone, LDNS_RR_TYPE_SOA, &res);
	vf_resolver_free(r);
	if (err != RDNS_OK)
		return err;
	switch (res.status) {
	case VF_RESOLVE_ANSWER:
		if (ldns_pkt_get_rcode(res.reply) != LDNS_RCODE_NOERROR) {
			a->answer = VF_DELEG_RCODE;
			a->rcode = ldns_pkt_get_rcode(res.reply);
		} else if (ldns_pkt_aa(res.reply) && soa_serial(res.reply, zone, &a->serial)) {
			a->answer = VF_DELEG_AUTH;
		} else {
			a->answer = VF_DELEG_NOT_AUTH;
		}
		break;
	case VF_RESOLVE_RCODE:
		a->answer = VF_DELEG_RCODE;
		a->rcode = res.rcode;
		break;
	case VF_RESOLVE_TIMEOUT: a->answer = VF_DELEG_TIMEOUT; break;
	case VF_RESOLVE_UNREACHABLE: a->answer = VF_DELEG_UNREACHABLE; break;
	case VF_RESOLVE_BADANSWER: a->answer = VF_DELEG_BADANSWER; break;
	}
	ldns_pkt_free(res.reply);
	return RDNS_OK;
}

/* The addresses of a named server (A, then AAAA) through the configured resolvers. */
static int addresses(vf_resolver_t *r, vf_deleg_server_t *s)
{
	static const int fams[2] = {CORE_AF_INET, CORE_AF_INET6};
	bool timeout = false;
	for (size_t f = 0; f < 2; f++) {
		vf_lookup_t *l = calloc(1, sizeof(*l)); /* some 10 KiB: not on a thread's stack */
		if (!l)
			return RDNS_ENOMEM;
		int err = vf_lookup_addrs(r, s->name, fams[f], NULL, l);
		if (err == RDNS_OK) {
			timeout |= l->kind == VF_LOOKUP_TIMEOUT || l->kind == VF_LOOKUP_UNREACHABLE;
			for (size_t i = 0; l->kind == VF_LOOKUP_ADDRS && i < l->n_addrs; i++)
				if (s->n_addrs < VF_DELEG_MAX_ADDRS)
					s->addrs[s->n_addrs++].addr = l->addrs[i];
		}
		free(l);
		if (err != RDNS_OK)
			return err;
	}
	s->lookup_failed = s->n_addrs == 0;
	s->lookup_timeout = s->lookup_failed && timeout;
	return RDNS_OK;
}

int vf_deleg_probe(const vf_verify_conf_t *conf, unsigned port, const char *zone, const char *const *ns,
                   size_t n, vf_deleg_outcome_t *out)
{
	memset(out, 0, sizeof(*out));
	if (!conf || !zone || n == 0 || n > VF_DELEG_MAX_NS || port == 0 || port > 65535)
		return RDNS_EINVAL;
	snprintf(out->zone, sizeof(out->zone), "%s", zone);
	int64_t start = vf_resolve_now_us();
	vf_resolver_conf_t rc = {.servers = conf->resolvers,
	                         .n_servers = conf->n_resolvers,
	                         .query_timeout_ms = conf->query_timeout_ms,
	                         .retries = conf->retries,
	                         .deadline_ms = conf->deadline_ms};
	vf_resolver_t *r = NULL;
	ldns_rdf *zname = NULL;
	char fq[CORE_HOSTNAME_MAX + 2];
	snprintf(fq, sizeof(fq), "%s.", zone);
	int err = vf_resolver_new(&rc, start, &r);
	if (err != RDNS_OK)
		return err;
	if (ldns_str2rdf_dname(&zname, fq) != LDNS_STATUS_OK) {
		err = RDNS_EINVAL;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		vf_deleg_server_t *s = &out->servers[out->n_servers++];
		snprintf(s->name, sizeof(s->name), "%s", ns[i]);
		if ((err = addresses(r, s)) != RDNS_OK)
			goto cleanup;
		for (size_t k = 0; k < s->n_addrs; k++)
			if ((err = ask(conf, port, start, zname, &s->addrs[k])) != RDNS_OK)
				goto cleanup;
	}
cleanup:
	ldns_rdf_deep_free(zname);
	vf_resolver_free(r);
	return err;
}

/* ---- the wording: a pure function of the outcome ---- */

static const char *answer_text(const vf_deleg_addr_t *a, char *buf, size_t len)
{
	switch (a->answer) {
	case VF_DELEG_AUTH: snprintf(buf, len, "serial %u", a->serial); break;
	case VF_DELEG_NOT_AUTH: snprintf(buf, len, "%s", "an answer that is not authoritative (lame)"); break;
	case VF_DELEG_RCODE:
		snprintf(buf, len, "%s",
		         a->rcode == 5   ? "REFUSED (the zone is not configured there)"
		         : a->rcode == 2 ? "SERVFAIL (the zone does not load there)"
		         : a->rcode == 3 ? "NXDOMAIN"
		                         : "an error");
		break;
	case VF_DELEG_TIMEOUT: snprintf(buf, len, "%s", "no answer in time"); break;
	case VF_DELEG_UNREACHABLE:
		snprintf(buf, len, "%s", "nothing listening (refused or unreachable)");
		break;
	case VF_DELEG_BADANSWER: snprintf(buf, len, "%s", "answers that do not match the question"); break;
	}
	return buf;
}

static void server_finding(const char *zone, const vf_deleg_server_t *s, vf_check_t *c)
{
	memset(c, 0, sizeof(*c));
	c->id = "delegation.server";
	c->severity = VF_SEV_HIGH;
	if (s->lookup_failed) {
		c->status = VF_CHECK_FAIL;
		snprintf(c->detail, sizeof(c->detail), "%s has no address%s", s->name,
		         s->lookup_timeout ? ": the resolvers did not answer in time"
		                           : " (no A or AAAA record)");
		snprintf(c->next_step, sizeof(c->next_step),
		         "publish A and/or AAAA records for %s, or name a server that has them", s->name);
		return;
	}
	size_t bad = 0, off = 0;
	char why[96], ip[CORE_ADDR_STRLEN];
	for (size_t i = 0; i < s->n_addrs; i++)
		bad += s->addrs[i].answer != VF_DELEG_AUTH;
	c->status = bad ? VF_CHECK_FAIL : VF_CHECK_PASS;
	int w = snprintf(c->detail, sizeof(c->detail), "%s %s for %s:", s->name,
	                 bad ? "does not answer authoritatively" : "answers authoritatively", zone);
	off = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; i < s->n_addrs && off < sizeof(c->detail); i++) {
		core_addr_format(&s->addrs[i].addr, ip, sizeof(ip));
		w = snprintf(c->detail + off, sizeof(c->detail) - off, "%s %s %s", i ? ";" : "", ip,
		             answer_text(&s->addrs[i], why, sizeof(why)));
		off += w > 0 ? (size_t)w : 0;
	}
	if (bad)
		snprintf(
		    c->next_step, sizeof(c->next_step),
		    "configure %s as a primary or secondary of %s (answering with AA for its SOA, open to "
		    "queries from anywhere), then retry",
		    s->name, zone);
}

static void serials_finding(const vf_deleg_outcome_t *o, vf_check_t *c)
{
	memset(c, 0, sizeof(*c));
	c->id = "delegation.serials";
	c->severity = VF_SEV_MEDIUM;
	bool have = false, differ = false;
	uint32_t first = 0, lo = 0, hi = 0;
	for (size_t i = 0; i < o->n_servers; i++)
		for (size_t k = 0; k < o->servers[i].n_addrs; k++) {
			const vf_deleg_addr_t *a = &o->servers[i].addrs[k];
			if (a->answer != VF_DELEG_AUTH)
				continue;
			if (!have) {
				first = lo = hi = a->serial;
				have = true;
			}
			differ |= a->serial != first;
			lo = a->serial < lo ? a->serial : lo;
			hi = a->serial > hi ? a->serial : hi;
		}
	if (!have) {
		c->status = VF_CHECK_FAIL;
		snprintf(c->detail, sizeof(c->detail), "no server answered with the SOA of %s", o->zone);
		snprintf(c->next_step, sizeof(c->next_step), "%s",
		         "make the named servers serve the zone first");
	} else if (differ) {
		c->status = VF_CHECK_FAIL;
		snprintf(c->detail, sizeof(c->detail),
		         "the servers disagree on the serial of %s: from %u to %u", o->zone, lo, hi);
		snprintf(
		    c->next_step, sizeof(c->next_step), "%s",
		    "let the secondaries transfer the zone from its primary (NOTIFY, AXFR/IXFR), then retry");
	} else {
		c->status = VF_CHECK_PASS;
		snprintf(c->detail, sizeof(c->detail), "every server has serial %u of %s", first, o->zone);
	}
}

size_t vf_deleg_findings(const vf_deleg_outcome_t *o, vf_check_t *out, size_t max, bool *ok)
{
	size_t n = 0;
	*ok = true;
	for (size_t i = 0; i < o->n_servers && n < max; i++) {
		server_finding(o->zone, &o->servers[i], &out[n]);
		*ok &= out[n++].status != VF_CHECK_FAIL;
	}
	if (n < max) {
		serials_finding(o, &out[n]);
		*ok &= out[n++].status != VF_CHECK_FAIL;
	}
	return n;
}

char *vf_deleg_findings_text(const vf_deleg_outcome_t *o, bool *ok)
{
	vf_check_t checks[VF_DELEG_MAX_NS + 1];
	size_t n = vf_deleg_findings(o, checks, VF_DELEG_MAX_NS + 1, ok);
	return vf_checks_text(checks, n);
}

vf_deleg_conclusion_t vf_deleg_conclude(const vf_deleg_outcome_t *o)
{
	bool any_fail = false, unknown = false;
	size_t answered = 0;
	for (size_t i = 0; i < o->n_servers; i++) {
		const vf_deleg_server_t *s = &o->servers[i];
		if (s->lookup_failed) {
			any_fail = true;
			if (s->lookup_timeout)
				unknown = true;
			else
				return VF_DELEG_LAME; /* the name has no address: a definite answer */
			continue;
		}
		for (size_t k = 0; k < s->n_addrs; k++)
			if (s->addrs[k].answer != VF_DELEG_AUTH)
				return VF_DELEG_LAME; /* the server itself answered so (or not at all) */
		answered++;
	}
	vf_check_t serials;
	serials_finding(o, &serials);
	if (serials.status == VF_CHECK_FAIL && answered > 0)
		return VF_DELEG_LAME; /* the servers that answered disagree */
	if (serials.status == VF_CHECK_FAIL)
		any_fail = true;
	if (unknown)
		return VF_DELEG_UNKNOWN;
	return any_fail ? VF_DELEG_LAME : VF_DELEG_PASS;
}
