/* acl.h - who may query the hidden primary: the transfer_allow list of address prefixes. */
#ifndef RDNS_ZONEGEN_ACL_H
#define RDNS_ZONEGEN_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct zg_acl zg_acl_t;

/* Parse a list of addresses or prefixes separated by spaces, tabs, commas or
 * newlines, e.g. "127.0.0.1 ::1 10.0.0.0/8"; "0.0.0.0/0 ::/0" allows everyone.
 * An address is what core_addr_parse() takes; a bare address is a host
 * prefix. NULL or empty: an empty list, which allows nobody. Returns NULL
 * with *err set: RDNS_ECONFIG for a bad address or length, host bits set
 * beyond the length ("10.0.0.1/8" is a typo, not a wish) or an entry of 80
 * characters or more; RDNS_ENOMEM. */
zg_acl_t *zg_acl_new(const char *list, int *err);

/* Whether the source address from lies in one of the prefixes. An
 * IPv4-mapped IPv6 source (::ffff:a.b.c.d, from a dual-stack socket) is
 * matched as the IPv4 address it carries. NULL or a family other than
 * AF_INET/AF_INET6: false. */
bool zg_acl_allows(const zg_acl_t *acl, const struct sockaddr *from);

/* Number of prefixes in the list. */
size_t zg_acl_count(const zg_acl_t *acl);

/* NULL is fine. */
void zg_acl_free(zg_acl_t *acl);

#endif
