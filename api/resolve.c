/* resolve.c - the verifier's DNS transport: UDP from a fresh port with a random ID, TCP after truncation,
 * per-query timeouts and retries within one deadline; ldns parses. */
#include "api/resolve.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/endpoint.h"
#include "core/err.h"

#define DEFAULT_QUERY_TIMEOUT_MS 1000
#define DEFAULT_RETRIES          2
#define DEFAULT_DEADLINE_MS      5000
/* EDNS buffer size of the DNS Flag Day 2020: avoids fragmentation, and an
 * A/AAAA answer rarely needs more. */
#define EDNS_UDP_SIZE 1232

/* One resolver to ask. */
typedef struct {
	ldns_rdf *addr; /* LDNS_RDF_TYPE_A or _AAAA */
	uint16_t port;
	struct sockaddr_storage sa; /* addr and port, for our own UDP exchange */
	socklen_t sa_len;
} ns_t;

struct api_resolver {
	ns_t *ns;
	size_t n_ns;
	int query_timeout_ms, retries, deadline_ms;
	int64_t start_us, deadline_us;
	bool deadline_hit; /* a query stopped because the deadline (nearly) passed */
};

int64_t api_resolve_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- resolver list ---- */

static ldns_rdf *addr_to_rdf(const core_addr_t *a)
{
	if (a->family == CORE_AF_INET)
		return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, a->b);
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, a->b);
}

/* ns->sa from ns->addr and ns->port; false for an address that is neither A nor AAAA. */
static bool ns_sockaddr(ns_t *ns)
{
	memset(&ns->sa, 0, sizeof(ns->sa));
	if (ldns_rdf_get_type(ns->addr) == LDNS_RDF_TYPE_A && ldns_rdf_size(ns->addr) == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ns->sa;
		in->sin_family = AF_INET;
		in->sin_port = htons(ns->port);
		memcpy(&in->sin_addr, ldns_rdf_data(ns->addr), 4);
		ns->sa_len = sizeof(*in);
		return true;
	}
	if (ldns_rdf_get_type(ns->addr) == LDNS_RDF_TYPE_AAAA && ldns_rdf_size(ns->addr) == 16) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ns->sa;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(ns->port);
		memcpy(&in6->sin6_addr, ldns_rdf_data(ns->addr), 16);
		ns->sa_len = sizeof(*in6);
		return true;
	}
	return false;
}

static void ns_list_free(ns_t *ns, size_t n)
{
	if (ns == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		ldns_rdf_deep_free(ns[i].addr);
	free(ns);
}

/* Build the list of resolvers from the configuration or /etc/resolv.conf. */
static int ns_list_new(const api_resolver_conf_t *conf, ns_t **out, size_t *n_out)
{
	ldns_resolver *sys = NULL;
	ns_t *ns = NULL;
	size_t n = 0, want;
	int ret = RDNS_OK;

	if (conf != NULL && conf->n_servers > 0) {
		want = conf->n_servers;
	} else {
		if (ldns_resolver_new_frm_file(&sys, NULL) != LDNS_STATUS_OK)
			return RDNS_ECONFIG;
		want = ldns_resolver_nameserver_count(sys);
		if (want == 0) {
			ret = RDNS_ECONFIG;
			goto cleanup;
		}
	}
	ns = calloc(want, sizeof(*ns));
	if (ns == NULL) {
		ret = RDNS_ENOMEM;
		goto cleanup;
	}
	for (n = 0; n < want;) {
		if (sys != NULL) {
			ns[n].addr = ldns_rdf_clone(ldns_resolver_nameservers(sys)[n]);
			ns[n].port = 53;
		} else {
			core_endpoint_t ep;

			if (conf->servers == NULL || conf->servers[n] == NULL ||
			    core_endpoint_parse(conf->servers[n], CORE_EP_BRACKET_V4, 53, &ep, NULL) !=
			        RDNS_OK) {
				ret = RDNS_ECONFIG;
				goto cleanup;
			}
			ns[n].port = ep.port;
			ns[n].addr = addr_to_rdf(&ep.addr);
		}
		if (ns[n].addr == NULL) {
			ret = RDNS_ENOMEM;
			goto cleanup;
		}
		if (!ns_sockaddr(&ns[n])) {
			n++;
			ret = RDNS_ECONFIG;
			goto cleanup;
		}
		n++;
	}
	*out = ns;
	*n_out = n;
	ns = NULL;
cleanup:
	ns_list_free(ns, n);
	ldns_resolver_deep_free(sys);
	return ret;
}

int api_resolver_new(const api_resolver_conf_t *conf, int64_t start_us, api_resolver_t **out)
{
	api_resolver_t *r = calloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	if (r == NULL)
		return RDNS_ENOMEM;
	ret = ns_list_new(conf, &r->ns, &r->n_ns);
	if (ret != RDNS_OK) {
		free(r);
		return ret;
	}
	r->query_timeout_ms =
	    conf && conf->query_timeout_ms > 0 ? conf->query_timeout_ms : DEFAULT_QUERY_TIMEOUT_MS;
	r->retries = conf && conf->retries >= 0 ? conf->retries : DEFAULT_RETRIES;
	if (r->retries > 100)
		r->retries = 100; /* the deadline bounds the time anyway */
	r->deadline_ms = conf && conf->deadline_ms > 0 ? conf->deadline_ms : DEFAULT_DEADLINE_MS;
	r->start_us = start_us;
	r->deadline_us = start_us + (int64_t)r->deadline_ms * 1000;
	*out = r;
	return RDNS_OK;
}

void api_resolver_free(api_resolver_t *r)
{
	if (r == NULL)
		return;
	ns_list_free(r->ns, r->n_ns);
	free(r);
}

int api_resolver_elapsed_ms(const api_resolver_t *r)
{
	int64_t elapsed = (api_resolve_now_us() - r->start_us) / 1000;

	return r->deadline_hit || elapsed > r->deadline_ms ? r->deadline_ms : (int)elapsed;
}

/* ---- one exchange ---- */

/* Whether reply answers query: QR set, same ID, same single question. */
static bool reply_matches(const ldns_pkt *query, const ldns_pkt *reply)
{
	const ldns_rr_list *qq = ldns_pkt_question(query);
	const ldns_rr_list *rq = ldns_pkt_question(reply);
	const ldns_rr *a, *b;

	if (!ldns_pkt_qr(reply) || ldns_pkt_id(reply) != ldns_pkt_id(query))
		return false;
	if (rq == NULL || ldns_rr_list_rr_count(rq) != 1)
		return false;
	a = ldns_rr_list_rr(qq, 0);
	b = ldns_rr_list_rr(rq, 0);
	return ldns_rr_get_type(a) == ldns_rr_get_type(b) && ldns_rr_get_class(b) == LDNS_RR_CLASS_IN &&
	       ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) == 0;
}

typedef enum {
	SEND_ANSWER,   /* *reply is the answer */
	SEND_NOANSWER, /* nothing (usable) before the timeout, or the resolver refused the datagram */
	SEND_BAD,      /* only datagrams that did not parse or did not match the query */
	SEND_TRUNC     /* the answer did not fit the datagram: ask over TCP */
} send_res_t;

/* Send query to one resolver over TCP (after a truncated UDP answer), waiting at most
 * timeout_us. */
static send_res_t send_tcp(const ns_t *ns, ldns_pkt *query, int64_t timeout_us, ldns_pkt **reply, int *err)
{
	ldns_resolver *res = NULL;
	ldns_pkt *ans = NULL;
	ldns_status st;
	send_res_t ret = SEND_NOANSWER;
	struct timeval tv;

	*reply = NULL;
	res = ldns_resolver_new();
	if (res == NULL) {
		*err = RDNS_ENOMEM;
		return SEND_NOANSWER;
	}
	if (ldns_resolver_push_nameserver(res, ns->addr) != LDNS_STATUS_OK) {
		*err = RDNS_ENOMEM;
		goto cleanup;
	}
	ldns_resolver_set_port(res, ns->port);
	/* One try, no hidden TCP fallback or shuffling: the caller paces the
	 * attempts against the deadline. */
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_fallback(res, false);
	ldns_resolver_set_random(res, false);
	ldns_resolver_set_usevc(res, true);
	tv.tv_sec = (time_t)(timeout_us / 1000000);
	tv.tv_usec = (suseconds_t)(timeout_us % 1000000);
	ldns_resolver_set_timeout(res, tv);

	st = ldns_resolver_send_pkt(&ans, res, query);
	if (st != LDNS_STATUS_OK || ans == NULL) {
		/* ldns reports a timeout, an unreachable resolver and a
		 * datagram that does not parse alike as a network error */
		ret = st == LDNS_STATUS_NETWORK_ERR || st == LDNS_STATUS_SOCKET_ERROR ||
		              st == LDNS_STATUS_RES_NO_NS || st == LDNS_STATUS_ERR
		          ? SEND_NOANSWER
		          : SEND_BAD;
		if (st == LDNS_STATUS_MEM_ERR)
			*err = RDNS_ENOMEM;
		goto cleanup;
	}
	if (!reply_matches(query, ans)) {
		ret = SEND_BAD;
		goto cleanup;
	}
	*reply = ans;
	ans = NULL;
	ret = SEND_ANSWER;
cleanup:
	ldns_pkt_free(ans);
	ldns_resolver_deep_free(res);
	return ret;
}

/* Send the query (wire: its wire form) to one resolver over UDP and wait at most timeout_us
 * for the answer: from a connected socket on a fresh ephemeral port, so the kernel drops
 * datagrams from other sources; a datagram that does not parse or does not match the
 * query's ID and question is ignored and the wait goes on (a forged or stray reply cannot
 * cut the lookup short). One small buffer on the stack, where ldns_send allocates 64 KiB
 * and a resolver object per query. */
static send_res_t send_udp(const ns_t *ns, const ldns_pkt *query, const uint8_t *wire, size_t wire_len,
                           int64_t timeout_us, ldns_pkt **reply)
{
	uint8_t buf[EDNS_UDP_SIZE + 512];
	send_res_t ret = SEND_NOANSWER;
	int64_t end = api_resolve_now_us() + timeout_us;
	bool bad = false;

	*reply = NULL;
	int fd = socket(ns->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return SEND_NOANSWER;
	if (connect(fd, (const struct sockaddr *)&ns->sa, ns->sa_len) != 0 ||
	    send(fd, wire, wire_len, 0) != (ssize_t)wire_len)
		goto out;
	for (;;) {
		int64_t left = end - api_resolve_now_us();
		if (left <= 0)
			break;
		struct pollfd p = {fd, POLLIN, 0};
		int pr = poll(&p, 1, (int)((left + 999) / 1000));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			break; /* ECONNREFUSED: nothing listens there */
		}
		if ((size_t)n > sizeof(buf)) {
			ret = SEND_TRUNC;
			goto out;
		}
		ldns_pkt *ans = NULL;
		if (ldns_wire2pkt(&ans, buf, (size_t)n) != LDNS_STATUS_OK || !reply_matches(query, ans)) {
			ldns_pkt_free(ans);
			bad = true;
			continue;
		}
		*reply = ans;
		ret = SEND_ANSWER;
		goto out;
	}
	if (bad)
		ret = SEND_BAD;
out:
	close(fd);
	return ret;
}

/* ---- one question ---- */

int api_resolve_query(api_resolver_t *r, const ldns_rdf *name, ldns_rr_type qtype, api_resolve_result_t *out)
{
	ldns_pkt *query = NULL;
	uint8_t *wire = NULL;
	size_t wire_len = 0;
	bool got_rcode = false, got_bad = false;
	int ret = RDNS_OK;

	memset(out, 0, sizeof(*out));
	out->status = API_RESOLVE_TIMEOUT;
	query = ldns_pkt_query_new(ldns_rdf_clone(name), qtype, LDNS_RR_CLASS_IN, LDNS_RD);
	if (query == NULL)
		return RDNS_ENOMEM;
	ldns_pkt_set_edns_udp_size(query, EDNS_UDP_SIZE);
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
		/* no ID to trust an answer with: nothing is sent */
		ldns_pkt_free(query);
		return RDNS_OK;
	}
	ldns_pkt_set_id(query, id);
	if (ldns_pkt2wire(&wire, query, &wire_len) != LDNS_STATUS_OK) {
		ldns_pkt_free(query);
		return RDNS_ENOMEM;
	}

	for (int round = 0; round <= r->retries; round++) {
		for (size_t i = 0; i < r->n_ns; i++) {
			int64_t remaining = r->deadline_us - api_resolve_now_us();
			int64_t tmo = (int64_t)r->query_timeout_ms * 1000;
			ldns_pkt *ans = NULL;
			send_res_t sr;
			int err = RDNS_OK;

			if (remaining <= 1000) {
				r->deadline_hit = true;
				goto out;
			}
			if (tmo > remaining)
				tmo = remaining;
			sr = send_udp(&r->ns[i], query, wire, wire_len, tmo, &ans);
			if (sr == SEND_TRUNC || (sr == SEND_ANSWER && ldns_pkt_tc(ans))) {
				/* rfc7766: truncated, retry over TCP; ldns
				 * may wait twice (connect, read), so halve */
				ldns_pkt_free(ans);
				ans = NULL;
				remaining = r->deadline_us - api_resolve_now_us();
				if (remaining <= 2000) {
					r->deadline_hit = true;
					goto out;
				}
				tmo = (int64_t)r->query_timeout_ms * 1000;
				if (tmo > remaining / 2)
					tmo = remaining / 2;
				sr = send_tcp(&r->ns[i], query, tmo, &ans, &err);
			}
			if (err == RDNS_ENOMEM) {
				ldns_pkt_free(ans);
				ret = RDNS_ENOMEM;
				goto cleanup;
			}
			if (sr == SEND_BAD) {
				got_bad = true;
				continue;
			}
			if (sr != SEND_ANSWER)
				continue;
			if (ldns_pkt_get_rcode(ans) == LDNS_RCODE_NOERROR ||
			    ldns_pkt_get_rcode(ans) == LDNS_RCODE_NXDOMAIN) {
				out->status = API_RESOLVE_ANSWER;
				out->reply = ans;
				goto cleanup;
			}
			/* SERVFAIL, REFUSED, ...: another resolver may do better */
			got_rcode = true;
			out->rcode = ldns_pkt_get_rcode(ans);
			ldns_pkt_free(ans);
		}
	}
out:
	out->status = got_rcode ? API_RESOLVE_RCODE : got_bad ? API_RESOLVE_BADANSWER : API_RESOLVE_TIMEOUT;
cleanup:
	free(wire);
	ldns_pkt_free(query);
	return ret;
}
