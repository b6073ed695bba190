/* endpoint.h - the one "host[:port]" grammar of every address option and route:
 * listen addresses, resolvers and NOTIFY targets (with an optional "@tsigkey"). */
#ifndef RDNS_CORE_ENDPOINT_H
#define RDNS_CORE_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

/* Most NOTIFY targets of one zone (rdns-zonegen's job size and the API's limit). */
#define CORE_NOTIFY_MAX_TARGETS 16
/* Longest TSIG key name we accept, in characters. */
#define CORE_TSIG_KEYNAME_MAX 63
/* Room for a canonical endpoint text with its key and NUL ("[v6]:port@key"). */
#define CORE_ENDPOINT_STRLEN 128

/* What a caller's grammar allows on top of the base forms. */
enum {
	CORE_EP_PORT_REQUIRED = 1 << 0, /* "ip:port" or "[v6]:port" only (listen addresses) */
	CORE_EP_PORT_ZERO = 1 << 1,     /* port 0 is allowed (listen: the kernel picks one) */
	CORE_EP_KEY = 1 << 2,           /* an optional "@keyname" suffix (NOTIFY targets) */
	CORE_EP_BRACKET_V4 = 1 << 3,    /* "[192.0.2.1]:53" too (resolvers have always taken it) */
	CORE_EP_UNICAST = 1 << 4,       /* no unspecified, broadcast or multicast address */
};

/* The NOTIFY target grammar, the same for the API's zone routes and rdns-zonegen: a key
 * may follow, and the address is one host (not 0.0.0.0, ::, 255.255.255.255,
 * 224.0.0.0/4, ff00::/8, nor those as ::ffff:a.b.c.d). */
#define CORE_EP_NOTIFY (CORE_EP_KEY | CORE_EP_UNICAST)

typedef struct {
	core_addr_t addr;
	uint16_t port;                       /* the default when the text has none */
	char key[CORE_TSIG_KEYNAME_MAX + 1]; /* "" without "@keyname" */
} core_endpoint_t;

/* Parse "ip", "ip:port" (IPv4), "[v6]", "[v6]:port" or a bare IPv6 literal,
 * whose last group is never taken for a port ("::1:53" is the address ::1:53),
 * plus "@keyname" where CORE_EP_KEY allows it. Addresses follow
 * core_addr_parse (no zone ids, no white space, no names); brackets hold IPv6
 * only (IPv4 too with CORE_EP_BRACKET_V4); CORE_EP_UNICAST refuses the addresses
 * that name no one host (see CORE_EP_NOTIFY); the port is 1 to 5 decimal digits, 1..65535 (0 too with
 * CORE_EP_PORT_ZERO), default_port when absent. Returns RDNS_OK or
 * RDNS_EINVAL with *why (if not NULL) set to a sentence for the user; out is
 * left alone on error. */
int core_endpoint_parse(const char *s, unsigned flags, uint16_t default_port, core_endpoint_t *out,
                        const char **why);

/* Canonical text: "192.0.2.1:53" or "[2001:db8::1]:53" (RFC 5952 address),
 * then "@keyname" when the endpoint has a key. Returns RDNS_OK, RDNS_ESPACE
 * (buf too short; buf holds "") or RDNS_EINVAL. */
int core_endpoint_format(const core_endpoint_t *ep, char *buf, size_t len);

/* The socket address of an endpoint, and its length. */
void core_endpoint_sockaddr(const core_endpoint_t *ep, struct sockaddr_storage *ss, socklen_t *len);

/* The notify_source grammar (see zg_notify_source_parse for its meaning): NULL, "",
 * "0", "dns_listen", or one or two addresses (core_addr_parse, no port) separated by
 * spaces, tabs or commas, at most one per family, each one host's (CORE_EP_UNICAST).
 * "dns_listen" takes the address of dns_listen (an "ip:port" / "[v6]:port") unless
 * dns_listen is empty or a wildcard. src[0] gets the IPv4 source, src[1] the IPv6 one;
 * family 0 leaves it to the kernel. Returns RDNS_OK or RDNS_EINVAL with *why (if not
 * NULL) a sentence for the user. */
int core_notify_source_parse(const char *spec, const char *dns_listen, core_addr_t src[2], const char **why);

/* A TSIG key name as rdns accepts it everywhere (tsig_keys, "@keyname"): 1 to
 * CORE_TSIG_KEYNAME_MAX letters, digits, '-', '_' or '.', not starting with
 * '.' and without "..". */
bool core_tsig_keyname_ok(const char *k);

#endif
