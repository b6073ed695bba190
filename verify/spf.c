/* spf.c - an SPF_dns_server_t layer over vf_resolve_query, and one libspf2 evaluation per call. */
#include "verify/spf.h"

#include <string.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <spf2/spf.h>

#include <ldns/ldns.h>

#include "core/err.h"

/* Our layer: libspf2 asks, the session answers. The layer is embedded, not
 * allocated by libspf2: destroy is NULL, so SPF_server_free leaves it to us. */
typedef struct {
	SPF_dns_server_t layer; /* first: the callbacks get &layer */
	vf_resolver_t *session;
	bool timed_out; /* some lookup ran into the deadline or had no answer */
} spf_layer_t;

/* Append one RR's data to rr at index cnt: false on allocation failure. */
static bool rr_put(SPF_dns_rr_t *rr, int cnt, const void *data, size_t len, bool text)
{
	if (SPF_dns_rr_buf_realloc(rr, cnt, len + (text ? 1 : 0)) != SPF_E_SUCCESS)
		return false;
	memcpy(rr->rr[cnt], data, len);
	if (text)
		((char *)rr->rr[cnt])[len] = '\0';
	return true;
}

/* A name RDATA (MX exchange, PTR target) as text without the trailing dot. */
static bool rr_put_name(SPF_dns_rr_t *rr, int cnt, const ldns_rdf *name)
{
	char *s = name ? ldns_rdf2str(name) : NULL;
	bool ok;

	if (!s)
		return false;
	size_t l = strlen(s);
	if (l > 1 && s[l - 1] == '.')
		l--;
	ok = rr_put(rr, cnt, s, l, true);
	free(s);
	return ok;
}

/* TXT (and type 99 SPF) RDATA: the character-strings joined (RFC 7208 3.3). */
static bool rr_put_txt(SPF_dns_rr_t *rr, int cnt, const ldns_rr *r)
{
	size_t total = 0;

	for (size_t i = 0; i < ldns_rr_rd_count(r); i++)
		total += ldns_rdf_size(ldns_rr_rdf(r, i));
	if (SPF_dns_rr_buf_realloc(rr, cnt, total + 1) != SPF_E_SUCCESS)
		return false;
	char *dst = rr->rr[cnt]->txt;
	size_t at = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(r); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(r, i);
		const uint8_t *d = ldns_rdf_data(rd);
		size_t n = ldns_rdf_size(rd);

		if (n == 0)
			continue;
		/* an LDNS_RDF_TYPE_STR is a length octet, then the text */
		memcpy(dst + at, d + 1, n - 1 < (size_t)d[0] ? n - 1 : d[0]);
		at += n - 1 < (size_t)d[0] ? n - 1 : d[0];
	}
	dst[at] = '\0';
	return true;
}

static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *s, const char *domain, ns_type type, int should_cache)
{
	spf_layer_t *L = (spf_layer_t *)s;
	char qname[LDNS_MAX_DOMAINLEN + 2];
	SPF_dns_rr_t *rr = NULL;
	ldns_rdf *name = NULL;
	vf_resolve_result_t res = {0};
	int cnt = 0;

	(void)should_cache;
	snprintf(qname, sizeof(qname), "%s%s", domain,
	         domain[0] && domain[strlen(domain) - 1] == '.' ? "" : ".");
	if (ldns_str2rdf_dname(&name, qname) != LDNS_STATUS_OK)
		return SPF_dns_rr_new_init(s, domain, type, 0, HOST_NOT_FOUND);
	if (vf_resolve_query(L->session, name, (ldns_rr_type)type, &res) != RDNS_OK) {
		ldns_rdf_deep_free(name);
		return SPF_dns_rr_new_init(s, domain, type, 0, TRY_AGAIN);
	}
	ldns_rdf_deep_free(name);
	if (res.status != VF_RESOLVE_ANSWER) {
		if (res.status == VF_RESOLVE_TIMEOUT)
			L->timed_out = true;
		return SPF_dns_rr_new_init(s, domain, type, 0, TRY_AGAIN);
	}
	if (ldns_pkt_get_rcode(res.reply) == LDNS_RCODE_NXDOMAIN) {
		ldns_pkt_free(res.reply);
		return SPF_dns_rr_new_init(s, domain, type, 0, HOST_NOT_FOUND);
	}
	rr = SPF_dns_rr_new_init(s, domain, type, 0, NETDB_SUCCESS);
	if (!rr)
		goto cleanup;
	/* the answer section as a resolver gives it: a CNAME chain, then the
	 * records of the final name; only the records of the type asked count */
	const ldns_rr_list *an = ldns_pkt_answer(res.reply);
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *r = ldns_rr_list_rr(an, i);
		const ldns_rdf *rd = ldns_rr_rdf(r, 0);
		bool ok = true;

		if ((int)ldns_rr_get_type(r) != (int)type || rd == NULL)
			continue;
		switch ((int)type) {
		case ns_t_a:
			if (ldns_rdf_size(rd) != 4)
				continue;
			ok = rr_put(rr, cnt, ldns_rdf_data(rd), 4, false);
			break;
		case ns_t_aaaa:
			if (ldns_rdf_size(rd) != 16)
				continue;
			ok = rr_put(rr, cnt, ldns_rdf_data(rd), 16, false);
			break;
		case ns_t_mx: ok = rr_put_name(rr, cnt, ldns_rr_rdf(r, 1)); break;
		case ns_t_ptr: ok = rr_put_name(rr, cnt, rd); break;
		case ns_t_txt:
		case ns_t_spf: ok = rr_put_txt(rr, cnt, r); break;
		default: continue;
		}
		if (!ok)
			break;
		cnt++;
	}
	rr->num_rr = cnt;
	if (cnt == 0)
		rr->herrno = NO_DATA;
cleanup:
	ldns_pkt_free(res.reply);
	return rr;
}

static vf_spf_result_t map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return VF_SPF_PASS;
	case SPF_RESULT_FAIL: return VF_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL: return VF_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL: return VF_SPF_NEUTRAL;
	case SPF_RESULT_NONE: return VF_SPF_NONE;
	case SPF_RESULT_TEMPERROR: return VF_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
	case SPF_RESULT_INVALID:
	default: return VF_SPF_PERMERROR;
	}
}

int vf_spf_check(const vf_resolver_conf_t *rc, int64_t start_us, const core_addr_t *ip, const char *domain,
                 const char *helo, vf_diag_spf_t *out)
{
	spf_layer_t L;
	SPF_server_t *srv = NULL;
	SPF_request_t *req = NULL;
	SPF_response_t *resp = NULL;
	char from[300];
	int ret;

	memset(&L, 0, sizeof(L));
	out->result = VF_SPF_TEMPERROR;
	out->why[0] = '\0';
	out->timed_out = false;
	ret = vf_resolver_new(rc, start_us, &L.session);
	if (ret != RDNS_OK)
		return ret;
	L.layer.destroy = NULL; /* ours: SPF_server_free does not free it */
	L.layer.lookup = layer_lookup;
	L.layer.name = "rdns";
	ret = RDNS_ENOMEM;
	srv = SPF_server_new_dns(&L.layer, 0);
	if (!srv)
		goto cleanup;
	req = SPF_request_new(srv);
	if (!req)
		goto cleanup;
	if (ip->family == CORE_AF_INET) {
		struct in_addr a;
		memcpy(&a, ip->b, 4);
		SPF_request_set_ipv4(req, a);
	} else {
		struct in6_addr a;
		memcpy(&a, ip->b, 16);
		SPF_request_set_ipv6(req, a);
	}
	if (SPF_request_is_loopback(req)) {
		/* SPF_request_query_mailfrom answers pass for these whatever the record says */
		out->result = VF_SPF_LOOPBACK;
		ret = RDNS_OK;
		goto cleanup;
	}
	snprintf(from, sizeof(from), "postmaster@%s", domain);
	if (SPF_request_set_env_from(req, from) != 0) {
		out->result = VF_SPF_PERMERROR;
		snprintf(out->why, sizeof(out->why), "%s", "the domain is not a valid mail domain");
		ret = RDNS_OK;
		goto cleanup;
	}
	if (helo)
		SPF_request_set_helo_dom(req, helo);
	SPF_request_query_mailfrom(req, &resp);
	if (!resp)
		goto cleanup;
	out->result = map_result(SPF_response_result(resp));
	out->timed_out = L.timed_out;
	/* libspf2 reports a lookup that failed (TRY_AGAIN) as permerror at times: when one
	 * timed out, what it answered is not the record's verdict but an unfinished one */
	if (L.timed_out && (out->result == VF_SPF_PERMERROR || out->result == VF_SPF_NONE))
		out->result = VF_SPF_TEMPERROR;
	if (SPF_response_messages(resp) > 0) {
		SPF_error_t *e = SPF_response_message(resp, 0);
		vf_diag_printable(out->why, sizeof(out->why), e ? SPF_error_message(e) : NULL);
	}
	ret = RDNS_OK;
cleanup:
	/* libspf2's _free() functions do not accept NULL */
	if (resp)
		SPF_response_free(resp);
	if (req)
		SPF_request_free(req);
	if (srv)
		SPF_server_free(srv);
	vf_resolver_free(L.session);
	return ret;
}
