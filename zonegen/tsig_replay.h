/* tsig_replay.h - the hidden primary's per-key replay check on signed requests (RFC 8945 §5.2.3). */
#ifndef RDNS_ZONEGEN_TSIG_REPLAY_H
#define RDNS_ZONEGEN_TSIG_REPLAY_H

#include <stddef.h>
#include <stdint.h>

/* MACs remembered per key: the duplicate check covers the last this many accepted requests. */
#define ZG_TSIG_REPLAY_RING 128

/* The rule (RFC 8945 §5.2.3 says a server SHOULD remember the newest Time Signed per key
 * and answer BADTIME to a later message signed earlier). Read strictly, that breaks
 * several secondaries sharing one key: their requests cross on the way and arrive a
 * second or two out of order. So, for a request whose MAC verified and whose time passed
 * the ordinary |now - Time Signed| <= fudge check:
 * - STALE: its Time Signed is older than the newest accepted for the key by more than
 *   the request's fudge (the rule: out of order within the fudge is fine);
 * - DUPLICATE: its MAC equals one of the last ZG_TSIG_REPLAY_RING accepted for the key
 *   (the same signed message sent again; the MAC covers ID, question and time, so two
 *   different requests never share one);
 * - FRESH otherwise: accepted, its time and MAC remembered.
 * Both refusals are answered BADTIME; query.c applies DUPLICATE to transfers (AXFR,
 * IXFR) only: a repeated SOA query is a UDP retransmission as often as an attack. Secondaries sharing a key
 * must therefore keep their clocks within the fudge of each other, not only of ours. */
typedef enum {
	ZG_TSIG_REPLAY_FRESH = 0,
	ZG_TSIG_REPLAY_STALE,
	ZG_TSIG_REPLAY_DUPLICATE,
} zg_tsig_replay_verdict_t;

/* Per-key state (last time, a ring of recent MACs), one mutex per key: the UDP thread
 * and the TCP threads check at once. */
typedef struct zg_tsig_replay zg_tsig_replay_t;

/* State for keys 0..n_keys-1 (indexes into the server's key array), nothing seen yet.
 * NULL on allocation failure. */
zg_tsig_replay_t *zg_tsig_replay_new(size_t n_keys);

/* NULL is fine. */
void zg_tsig_replay_free(zg_tsig_replay_t *rp);

/* Check a verified request signed with key number key at time_signed with fudge and
 * MAC mac[0..mac_len) (at most 64 bytes; we accept only full 32-byte ones), and when
 * FRESH remember it. *newest (may be NULL) receives the newest Time Signed accepted for
 * the key before this call (0: none), for log lines. A key index out of range is FRESH
 * and remembers nothing. */
zg_tsig_replay_verdict_t zg_tsig_replay_check(zg_tsig_replay_t *rp, size_t key, uint64_t time_signed,
                                              uint16_t fudge, const uint8_t *mac, size_t mac_len,
                                              uint64_t *newest);

#endif
