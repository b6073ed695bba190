/* tsig_replay.c - the hidden primary's per-key replay check on signed requests (RFC 8945 §5.2.3). */
#include "zonegen/tsig_replay.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define MAC_MAX 64

typedef struct {
	uint8_t mac[MAC_MAX];
	uint8_t mac_len; /* 0: empty slot */
} seen_t;

typedef struct {
	pthread_mutex_t mu;
	uint64_t newest; /* newest Time Signed accepted; 0: none yet */
	unsigned next;   /* ring slot the next accepted MAC goes to */
	seen_t ring[ZG_TSIG_REPLAY_RING];
} key_state_t;

struct zg_tsig_replay {
	size_t n;
	key_state_t k[];
};

zg_tsig_replay_t *zg_tsig_replay_new(size_t n_keys)
{
	zg_tsig_replay_t *rp = calloc(1, sizeof(*rp) + n_keys * sizeof(rp->k[0]));
	if (rp == NULL)
		return NULL;
	rp->n = n_keys;
	for (size_t i = 0; i < n_keys; i++)
		pthread_mutex_init(&rp->k[i].mu, NULL);
	return rp;
}

void zg_tsig_replay_free(zg_tsig_replay_t *rp)
{
	if (rp == NULL)
		return;
	for (size_t i = 0; i < rp->n; i++)
		pthread_mutex_destroy(&rp->k[i].mu);
	free(rp);
}

zg_tsig_replay_verdict_t zg_tsig_replay_check(zg_tsig_replay_t *rp, size_t key, uint64_t time_signed,
                                              uint16_t fudge, const uint8_t *mac, size_t mac_len,
                                              uint64_t *newest)
{
	zg_tsig_replay_verdict_t v = ZG_TSIG_REPLAY_FRESH;

	if (newest != NULL)
		*newest = 0;
	if (rp == NULL || key >= rp->n || mac_len == 0 || mac_len > MAC_MAX)
		return ZG_TSIG_REPLAY_FRESH;
	key_state_t *k = &rp->k[key];
	pthread_mutex_lock(&k->mu);
	if (newest != NULL)
		*newest = k->newest;
	/* Out of order within the fudge is what secondaries sharing a key do; beyond it is
	 * a message held back and sent again. */
	if (k->newest > time_signed && k->newest - time_signed > fudge) {
		v = ZG_TSIG_REPLAY_STALE;
		goto out;
	}
	for (unsigned i = 0; i < ZG_TSIG_REPLAY_RING; i++) {
		const seen_t *s = &k->ring[i];
		if (s->mac_len == mac_len && CRYPTO_memcmp(s->mac, mac, mac_len) == 0) {
			v = ZG_TSIG_REPLAY_DUPLICATE;
			goto out;
		}
	}
	if (time_signed > k->newest)
		k->newest = time_signed;
	seen_t *s = &k->ring[k->next];
	memcpy(s->mac, mac, mac_len);
	s->mac_len = (uint8_t)mac_len;
	k->next = (k->next + 1) % ZG_TSIG_REPLAY_RING;
out:
	pthread_mutex_unlock(&k->mu);
	return v;
}
