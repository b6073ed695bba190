/* resolve.c - the verifier's DNS transport: UDP from a fresh port with a random ID, TCP after truncation,
 * per-query timeouts and retries within one deadline, and what each resolver did (answered, timed out,
 * refused or unreachable); ldns parses. */
#include "verify/resolve.h"

#include <assert.h>
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
	struct sockaddr_storage sa; /* addr and port, for our own exchanges */
	socklen_t sa_len;
	char name[VF_RESOLVER_NAME_MAX]; /* "ip:port" or "[v6]:port", for the findings */
	/* what it did in this session (vf_resolver_ns_state_t) */
	bool answered, timed_out;
	int neterr;
} ns_t;

struct vf_resolver {
	ns_t *ns;
	size_t n_ns;
	int query_timeout_ms, retries, deadline_ms;
	int64_t start_us, deadline_us;
	bool deadline_hit; /* a query stopped because the deadline (nearly) passed */
	bool no_recursion; /* RD clear */
};

int64_t vf_resolve_now_us(void)
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

/* ns->name from ns->addr and ns->port. */
static void ns_name(ns_t *ns, int family)
{
	core_addr_t a = {.family = family};
	char t[CORE_ADDR_STRLEN];

	memcpy(a.b, ldns_rdf_data(ns->addr), family == CORE_AF_INET ? 4 : 16);
	if (core_addr_format(&a, t, sizeof(t)) != RDNS_OK)
		snprintf(t, sizeof(t), "?");
	snprintf(ns->name, sizeof(ns->name), family == CORE_AF_INET ? "%s:%u" : "[%s]:%u", t,
	         (unsigned)ns->port);
}

/* ns->sa (and ns->name) from ns->addr and ns->port; false for an address that is neither A nor AAAA. */
static bool ns_sockaddr(ns_t *ns)
{
	memset(&ns->sa, 0, sizeof(ns->sa));
	if (ldns_rdf_get_type(ns->addr) == LDNS_RDF_TYPE_A && ldns_rdf_size(ns->addr) == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ns->sa;
		in->sin_family = AF_INET;
		in->sin_port = htons(ns->port);
		memcpy(&in->sin_addr, ldns_rdf_data(ns->addr), 4);
		ns->sa_len = sizeof(*in);
		ns_name(ns, CORE_AF_INET);
		return true;
	}
	if (ldns_rdf_get_type(ns->addr) == LDNS_RDF_TYPE_AAAA && ldns_rdf_size(ns->addr) == 16) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ns->sa;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(ns->port);
		memcpy(&in6->sin6_addr, ldns_rdf_data(ns->addr), 16);
		ns->sa_len = sizeof(*in6);
		ns_name(ns, CORE_AF_INET6);
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
static int ns_list_new(const vf_resolver_conf_t *conf, ns_t **out, size_t *n_out)
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

int vf_resolver_new(const vf_resolver_conf_t *conf, int64_t start_us, vf_resolver_t **out)
{
	vf_resolver_t *r = calloc(1, sizeof(*r));
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
	r->no_recursion = conf && conf->no_recursion;
	*out = r;
	return RDNS_OK;
}

void vf_resolver_free(vf_resolver_t *r)
{
	if (r == NULL)
		return;
	ns_list_free(r->ns, r->n_ns);
	free(r);
}

int vf_resolver_elapsed_ms(const vf_resolver_t *r)
{
	int64_t elapsed = (vf_resolve_now_us() - r->start_us) / 1000;

	return r->deadline_hit || elapsed > r->deadline_ms ? r->deadline_ms : (int)elapsed;
}

size_t vf_resolver_count(const vf_resolver_t *r)
{
	return r->n_ns;
}

void vf_resolver_ns(const vf_resolver_t *r, size_t i, vf_resolver_ns_state_t *out)
{
	assert(i < r->n_ns);
	out->name = r->ns[i].name;
	out->answered = r->ns[i].answered;
	out->timed_out = r->ns[i].timed_out;
	out->neterr = r->ns[i].neterr;
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
	SEND_NOANSWER, /* nothing (usable) before the timeout */
	SEND_UNREACH,  /* the resolver could not be asked: refused (ICMP port unreachable, TCP RST),
	                  no route, or a TCP connection reset or closed before the whole
	                  answer; *neterr says which */
	SEND_BAD,      /* only datagrams that did not parse or did not match the query */
	SEND_TRUNC     /* the answer did not fit the datagram: ask over TCP */
} send_res_t;

/* Wait until fd is ready for events or end (monotonic us) passes: 1 ready, 0 timeout. */
static int wait_fd(int fd, short events, int64_t end)
{
	for (;;) {
		int64_t left = end - vf_resolve_now_us();
		if (left <= 0)
			return 0;
		struct pollfd p = {fd, events, 0};
		int pr = poll(&p, 1, (int)((left + 999) / 1000));
		if (pr < 0 && errno == EINTR)
			continue;
		return pr > 0 ? 1 : 0;
	}
}

/* Read exactly len bytes before end: 1 when read, 0 on a timeout, -1 when the
 * connection ended first (*neterr: ECONNRESET for a reset or another error,
 * ECONNABORTED for an orderly close before the whole answer). */
static int read_full(int fd, uint8_t *buf, size_t len, int64_t end, int *neterr)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			*neterr = ECONNABORTED;
			return -1;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			*neterr = errno == ECONNRESET ? ECONNRESET : errno;
			return -1;
		}
		if (!wait_fd(fd, POLLIN, end))
			return 0;
	}
	return 1;
}

/* Send the query (wire: its wire form) to one resolver over TCP (after a truncated UDP
 * answer, rfc7766 section 5) and wait at most timeout_us for the answer. Our own
 * exchange, not ldns's, so that a refused connection (RST) or an unreachable host is told
 * from a resolver that is slow: ldns reports both as a network error. */
static send_res_t send_tcp(const ns_t *ns, const ldns_pkt *query, const uint8_t *wire, size_t wire_len,
                           int64_t timeout_us, ldns_pkt **reply, int *neterr, int *err)
{
	int64_t end = vf_resolve_now_us() + timeout_us;
	uint8_t *out = NULL, *in = NULL, len2[2];
	send_res_t ret = SEND_NOANSWER;
	size_t sent = 0, n;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	*reply = NULL;
	if (wire_len > 65535)
		return SEND_BAD;
	int fd = socket(ns->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*neterr = errno;
		return SEND_UNREACH;
	}
	if (connect(fd, (const struct sockaddr *)&ns->sa, ns->sa_len) != 0 && errno != EINPROGRESS) {
		*neterr = errno;
		ret = SEND_UNREACH;
		goto cleanup;
	}
	if (!wait_fd(fd, POLLOUT, end))
		goto cleanup; /* the handshake did not finish in time */
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
		*neterr = soerr != 0 ? soerr : errno;
		ret = SEND_UNREACH;
		goto cleanup;
	}
	out = malloc(wire_len + 2);
	if (out == NULL) {
		*err = RDNS_ENOMEM;
		goto cleanup;
	}
	out[0] = (uint8_t)(wire_len >> 8);
	out[1] = (uint8_t)wire_len;
	memcpy(out + 2, wire, wire_len);
	while (sent < wire_len + 2) {
		ssize_t w = send(fd, out + sent, wire_len + 2 - sent, MSG_NOSIGNAL);
		if (w > 0) {
			sent += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			*neterr = errno == EPIPE ? ECONNABORTED : errno;
			ret = SEND_UNREACH;
			goto cleanup;
		}
		if (!wait_fd(fd, POLLOUT, end))
			goto cleanup;
	}
	/* A resolver that resets or closes the connection before the whole answer is as
	 * broken as one that refuses it: the provider's fault, not a slow name server. */
	int rd = read_full(fd, len2, 2, end, neterr);
	if (rd <= 0) {
		ret = rd < 0 ? SEND_UNREACH : SEND_NOANSWER;
		goto cleanup;
	}
	n = (size_t)len2[0] << 8 | len2[1];
	in = malloc(n ? n : 1);
	if (in == NULL) {
		*err = RDNS_ENOMEM;
		goto cleanup;
	}
	rd = read_full(fd, in, n, end, neterr);
	if (rd <= 0) {
		ret = rd < 0 ? SEND_UNREACH : SEND_NOANSWER;
		goto cleanup;
	}
	ldns_pkt *ans = NULL;
	if (ldns_wire2pkt(&ans, in, n) != LDNS_STATUS_OK || !reply_matches(query, ans)) {
		ldns_pkt_free(ans);
		ret = SEND_BAD;
		goto cleanup;
	}
	*reply = ans;
	ret = SEND_ANSWER;
cleanup:
	free(out);
	free(in);
	close(fd);
	return ret;
}

/* Send the query (wire: its wire form) to one resolver over UDP and wait at most timeout_us
 * for the answer: from a connected socket on a fresh ephemeral port, so the kernel drops
 * datagrams from other sources and reports an ICMP port or host unreachable for the
 * resolver as an error of the socket (ECONNREFUSED, EHOSTUNREACH: *neterr, SEND_UNREACH); a datagram that
 * does not parse or does not match the query's ID and question is ignored and the wait goes on (a forged or
 * stray reply cannot cut the lookup short). One small buffer on the stack, where ldns_send allocates 64 KiB
 * and a resolver object per query. */
static send_res_t send_udp(const ns_t *ns, const ldns_pkt *query, const uint8_t *wire, size_t wire_len,
                           int64_t timeout_us, ldns_pkt **reply, int *neterr)
{
	uint8_t buf[EDNS_UDP_SIZE + 512];
	send_res_t ret = SEND_NOANSWER;
	int64_t end = vf_resolve_now_us() + timeout_us;
	bool bad = false;

	*reply = NULL;
	int fd = socket(ns->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*neterr = errno;
		return SEND_UNREACH;
	}
	if (connect(fd, (const struct sockaddr *)&ns->sa, ns->sa_len) != 0 ||
	    send(fd, wire, wire_len, 0) != (ssize_t)wire_len) {
		/* ENETUNREACH (no route), or an error already queued */
		*neterr = errno;
		ret = SEND_UNREACH;
		goto out;
	}
	for (;;) {
		int64_t left = end - vf_resolve_now_us();
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
			/* ECONNREFUSED: ICMP port unreachable, nothing listens
			 * there; EHOSTUNREACH / ENETUNREACH: ICMP from a router */
			*neterr = errno;
			ret = SEND_UNREACH;
			goto out;
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

int vf_resolve_query(vf_resolver_t *r, const ldns_rdf *name, ldns_rr_type qtype, vf_resolve_result_t *out)
{
	ldns_pkt *query = NULL;
	uint8_t *wire = NULL;
	size_t wire_len = 0;
	bool got_rcode = false, got_bad = false, got_timeout = false, got_unreach = false;
	int ret = RDNS_OK;

	memset(out, 0, sizeof(*out));
	out->status = VF_RESOLVE_TIMEOUT;
	query =
	    ldns_pkt_query_new(ldns_rdf_clone(name), qtype, LDNS_RR_CLASS_IN, r->no_recursion ? 0 : LDNS_RD);
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
			int64_t remaining = r->deadline_us - vf_resolve_now_us();
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
			int neterr = 0;
			sr = send_udp(&r->ns[i], query, wire, wire_len, tmo, &ans, &neterr);
			if (sr == SEND_TRUNC || (sr == SEND_ANSWER && ldns_pkt_tc(ans))) {
				/* rfc7766: truncated, retry over TCP; one
				 * wait for the handshake, one for the answer */
				ldns_pkt_free(ans);
				ans = NULL;
				remaining = r->deadline_us - vf_resolve_now_us();
				if (remaining <= 2000) {
					r->deadline_hit = true;
					goto out;
				}
				tmo = (int64_t)r->query_timeout_ms * 1000;
				if (tmo > remaining)
					tmo = remaining;
				sr = send_tcp(&r->ns[i], query, wire, wire_len, tmo, &ans, &neterr, &err);
			}
			if (err == RDNS_ENOMEM) {
				ldns_pkt_free(ans);
				ret = RDNS_ENOMEM;
				goto cleanup;
			}
			if (sr == SEND_UNREACH) {
				r->ns[i].neterr = neterr;
				got_unreach = true;
				continue;
			}
			if (sr == SEND_NOANSWER) {
				r->ns[i].timed_out = true;
				got_timeout = true;
				continue;
			}
			if (sr == SEND_BAD) {
				got_bad = true;
				continue;
			}
			r->ns[i].answered = true;
			if (ldns_pkt_get_rcode(ans) == LDNS_RCODE_NOERROR ||
			    ldns_pkt_get_rcode(ans) == LDNS_RCODE_NXDOMAIN) {
				out->status = VF_RESOLVE_ANSWER;
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
	/* the resolvers' fault when every attempt was refused or unreachable;
	 * one that timed out (or none made before the deadline) is a timeout */
	out->status = got_rcode                     ? VF_RESOLVE_RCODE
	              : got_bad                     ? VF_RESOLVE_BADANSWER
	              : got_unreach && !got_timeout ? VF_RESOLVE_UNREACHABLE
	                                            : VF_RESOLVE_TIMEOUT;
cleanup:
	free(wire);
	ldns_pkt_free(query);
	return ret;
}
