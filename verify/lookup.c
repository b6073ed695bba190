/* lookup.c - the forward lookup: a name's A or AAAA records, CNAMEs followed, into a plain vf_lookup_t. */
#include "verify/lookup.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "core/err.h"
#include "core/hostname.h"
#include "verify/resolve.h"

_Static_assert(VF_RCODE_SERVFAIL == LDNS_RCODE_SERVFAIL && VF_RCODE_REFUSED == LDNS_RCODE_REFUSED,
               "the RCODE numbers of lookup.h are ldns's");

/* The walk: the chain as ldns names beside the outcome. */
typedef struct {
	vf_lookup_t *out;
	ldns_rr_type qtype;
	const core_addr_t *want;
	/* chain[0] is the requested name, the last one the current target (for a
	 * loop, the repeated name is appended too) */
	ldns_rdf *chain[VF_LOOKUP_MAX_CNAME + 2];
	size_t n_chain;
} walk_t;

/* Lower-case presentation form of a name without the trailing dot. */
static void name_text(const ldns_rdf *name, char *buf, size_t len)
{
	char *s = ldns_rdf2str(name);
	size_t l;

	buf[0] = '\0';
	if (s == NULL) {
		snprintf(buf, len, "(unprintable name)");
		return;
	}
	l = strlen(s);
	if (l > 1 && s[l - 1] == '.' && s[l - 2] != '\\')
		s[--l] = '\0';
	for (char *c = s; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	snprintf(buf, len, "%s", s);
	free(s);
}

static bool dname_eq(const ldns_rdf *a, const ldns_rdf *b)
{
	return ldns_dname_compare(a, b) == 0;
}

static bool chain_has(const walk_t *w, const ldns_rdf *name)
{
	for (size_t i = 0; i < w->n_chain; i++)
		if (dname_eq(w->chain[i], name))
			return true;
	return false;
}

static int chain_push(walk_t *w, const ldns_rdf *name)
{
	ldns_rdf *c = ldns_rdf_clone(name);

	if (c == NULL)
		return RDNS_ENOMEM;
	assert(w->n_chain < sizeof(w->chain) / sizeof(w->chain[0]));
	w->chain[w->n_chain++] = c;
	return RDNS_OK;
}

static void add_addr(walk_t *w, const ldns_rr *rr)
{
	vf_lookup_t *o = w->out;
	const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
	core_addr_t a;

	memset(&a, 0, sizeof(a));
	if (rd == NULL)
		return;
	if (w->qtype == LDNS_RR_TYPE_A && ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_A &&
	    ldns_rdf_size(rd) == 4) {
		a.family = CORE_AF_INET;
		memcpy(a.b, ldns_rdf_data(rd), 4);
	} else if (w->qtype == LDNS_RR_TYPE_AAAA && ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_AAAA &&
	           ldns_rdf_size(rd) == 16) {
		a.family = CORE_AF_INET6;
		memcpy(a.b, ldns_rdf_data(rd), 16);
	} else {
		return;
	}
	if (w->want != NULL && core_addr_equal(&a, w->want))
		o->matched = true;
	for (size_t i = 0; i < o->n_addrs; i++)
		if (core_addr_equal(&a, &o->addrs[i]))
			return;
	if (o->n_addrs < VF_LOOKUP_MAX_ADDRS)
		o->addrs[o->n_addrs++] = a;
	else
		o->n_more++; /* may count a repeat beyond the kept ones; only for "and N more" */
}

/* Follow the answer section from the current end of the chain: take its
 * addresses, or extend the chain along CNAMEs. *found: addresses of the
 * final name were there; *advanced: the chain grew. */
static int walk_answer(walk_t *w, const ldns_pkt *pkt, bool *found, bool *advanced)
{
	const ldns_rr_list *an = ldns_pkt_answer(pkt);
	size_t n = an ? ldns_rr_list_rr_count(an) : 0;

	*found = false;
	*advanced = false;
	for (;;) {
		const ldns_rdf *cur = w->chain[w->n_chain - 1];
		const ldns_rdf *target = NULL;

		for (size_t i = 0; i < n; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);

			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !dname_eq(ldns_rr_owner(rr), cur))
				continue;
			if (ldns_rr_get_type(rr) == w->qtype) {
				add_addr(w, rr);
				*found = true;
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && target == NULL &&
			           ldns_rr_rdf(rr, 0) != NULL) {
				target = ldns_rr_rdf(rr, 0);
			}
		}
		if (*found || target == NULL)
			return RDNS_OK;
		if (chain_has(w, target)) {
			w->out->chain_state = VF_CHAIN_LOOP;
			return chain_push(w, target);
		}
		if (w->n_chain > VF_LOOKUP_MAX_CNAME) {
			w->out->chain_state = VF_CHAIN_TOOLONG;
			return chain_push(w, target);
		}
		if (chain_push(w, target) != RDNS_OK)
			return RDNS_ENOMEM;
		*advanced = true;
	}
}

/* out->resolvers from what the session's resolvers did. */
static void note_resolvers(const vf_resolver_t *r, vf_lookup_t *out)
{
	_Static_assert(sizeof(out->resolvers[0].name) == VF_RESOLVER_NAME_MAX, "resolve.h's name length");
	for (size_t i = 0; i < vf_resolver_count(r); i++) {
		vf_resolver_ns_state_t st;

		vf_resolver_ns(r, i, &st);
		if (!st.timed_out && st.neterr == 0)
			continue;
		if (out->n_resolvers == VF_LOOKUP_MAX_RESOLVERS) {
			out->n_resolvers_more++;
			continue;
		}
		vf_lookup_resolver_t *o = &out->resolvers[out->n_resolvers++];
		snprintf(o->name, sizeof(o->name), "%s", st.name);
		o->timed_out = st.timed_out;
		o->neterr = st.neterr;
	}
}

/* Resolve the chain from w->chain[0]. Sets out->kind (and chain_state). */
static int walk(vf_resolver_t *r, walk_t *w)
{
	vf_lookup_t *o = w->out;

	for (;;) {
		vf_resolve_result_t res;
		bool found, advanced;
		int ret = vf_resolve_query(r, w->chain[w->n_chain - 1], w->qtype, &res);

		if (ret != RDNS_OK)
			return ret;
		if (res.status != VF_RESOLVE_ANSWER) {
			o->kind = res.status == VF_RESOLVE_RCODE         ? VF_LOOKUP_RCODE
			          : res.status == VF_RESOLVE_BADANSWER   ? VF_LOOKUP_BADANSWER
			          : res.status == VF_RESOLVE_UNREACHABLE ? VF_LOOKUP_UNREACHABLE
			                                                 : VF_LOOKUP_TIMEOUT;
			if (o->kind == VF_LOOKUP_RCODE) {
				const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int)res.rcode);

				o->rcode = (int)res.rcode;
				o->rcode_name = lt ? lt->name : NULL;
			}
			return RDNS_OK;
		}
		ret = walk_answer(w, res.reply, &found, &advanced);
		if (ret == RDNS_OK && !found && o->chain_state == VF_CHAIN_OK && !advanced)
			o->kind = ldns_pkt_get_rcode(res.reply) == LDNS_RCODE_NXDOMAIN ? VF_LOOKUP_NXDOMAIN
			                                                               : VF_LOOKUP_NODATA;
		ldns_pkt_free(res.reply);
		if (ret != RDNS_OK)
			return ret;
		if (found) {
			o->kind = VF_LOOKUP_ADDRS;
			return RDNS_OK;
		}
		if (o->chain_state != VF_CHAIN_OK || !advanced)
			return RDNS_OK;
		/* the answer ended at an alias target without its addresses
		 * (e.g. a target in another zone): ask for the target */
	}
}

int vf_lookup_addrs(vf_resolver_t *r, const char *name, int family, const core_addr_t *want, vf_lookup_t *out)
{
	walk_t w;
	char qname[CORE_HOSTNAME_MAX + 1];
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	out->family = family;
	out->kind = VF_LOOKUP_TIMEOUT;
	out->chain_state = VF_CHAIN_OK;
	w.out = out;
	w.want = want;
	w.qtype = family == CORE_AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;

	/* the normalised name has no trailing dot: make it absolute */
	snprintf(qname, sizeof(qname), "%s.", name);
	w.chain[0] = ldns_dname_new_frm_str(qname);
	if (w.chain[0] == NULL)
		return RDNS_ENOMEM;
	w.n_chain = 1;

	ret = walk(r, &w);
	if (ret == RDNS_OK) {
		out->elapsed_ms = vf_resolver_elapsed_ms(r);
		note_resolvers(r, out);
		for (size_t i = 0; i < w.n_chain; i++)
			name_text(w.chain[i], out->chain[i], sizeof(out->chain[i]));
		out->n_chain = w.n_chain;
	}
	for (size_t i = 0; i < w.n_chain; i++)
		ldns_rdf_deep_free(w.chain[i]);
	return ret;
}

bool vf_lookup_retryable(const vf_lookup_t *l)
{
	if (l->matched || l->chain_state != VF_CHAIN_OK)
		return false;
	switch (l->kind) {
	case VF_LOOKUP_ADDRS:
	case VF_LOOKUP_NXDOMAIN:
	case VF_LOOKUP_NODATA:
	case VF_LOOKUP_TIMEOUT: return true;
	case VF_LOOKUP_RCODE: return l->rcode == VF_RCODE_SERVFAIL;
	case VF_LOOKUP_BADANSWER:
	case VF_LOOKUP_UNREACHABLE: return false;
	}
	return false;
}

bool vf_lookup_settled(const vf_lookup_t *l)
{
	return l->matched || l->chain_state != VF_CHAIN_OK || l->kind == VF_LOOKUP_ADDRS ||
	       l->kind == VF_LOOKUP_NXDOMAIN || l->kind == VF_LOOKUP_NODATA;
}

bool vf_lookup_conclusive(const vf_lookup_t *l)
{
	if (l->matched)
		return false;
	if (l->chain_state != VF_CHAIN_OK)
		return true;
	return l->kind == VF_LOOKUP_ADDRS || l->kind == VF_LOOKUP_NXDOMAIN || l->kind == VF_LOOKUP_NODATA;
}
