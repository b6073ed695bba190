/* strset.c - a set of strings: open addressing, linear probing, backward-shift deletion
 * (no tombstones, so a long-lived set with churn keeps short probes). */
#include "core/strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix for the low bits */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* The slot of s, or of the empty slot where it would go. cap > 0. */
static size_t find(const core_strset_t *set, const char *s)
{
	size_t mask = set->cap - 1, i = (size_t)hash(s) & mask;
	while (set->slot[i] != NULL && strcmp(set->slot[i], s) != 0)
		i = (i + 1) & mask;
	return i;
}

static int grow(core_strset_t *set)
{
	size_t nc = set->cap ? set->cap * 2 : 64;
	char **ns = calloc(nc, sizeof(*ns));
	if (ns == NULL)
		return RDNS_ENOMEM;
	core_strset_t next = {ns, nc, set->n};
	for (size_t i = 0; i < set->cap; i++)
		if (set->slot[i] != NULL)
			ns[find(&next, set->slot[i])] = set->slot[i];
	free(set->slot);
	*set = next;
	return RDNS_OK;
}

int core_strset_add(core_strset_t *set, const char *s)
{
	if (set->cap != 0 && set->slot[find(set, s)] != NULL)
		return RDNS_OK;
	/* load at most 1/2: probes stay short even for clustered names */
	if ((set->n + 1) * 2 > set->cap && grow(set) != RDNS_OK)
		return RDNS_ENOMEM;
	char *dup = strdup(s);
	if (dup == NULL)
		return RDNS_ENOMEM;
	set->slot[find(set, s)] = dup;
	set->n++;
	return RDNS_OK;
}

bool core_strset_has(const core_strset_t *set, const char *s)
{
	return set->cap != 0 && set->slot[find(set, s)] != NULL;
}

/* Empties slot i and moves up the members after it whose probe passed through it. */
static void remove_slot(core_strset_t *set, size_t i)
{
	size_t mask = set->cap - 1;
	free(set->slot[i]);
	set->slot[i] = NULL;
	set->n--;
	for (size_t j = (i + 1) & mask; set->slot[j] != NULL; j = (j + 1) & mask) {
		size_t home = (size_t)hash(set->slot[j]) & mask;
		/* j's member may fill i when i lies cyclically in [home, j) */
		bool moves = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (moves) {
			set->slot[i] = set->slot[j];
			set->slot[j] = NULL;
			i = j;
		}
	}
}

bool core_strset_del(core_strset_t *set, const char *s)
{
	if (set->cap == 0)
		return false;
	size_t i = find(set, s);
	if (set->slot[i] == NULL)
		return false;
	remove_slot(set, i);
	return true;
}

const char *core_strset_next(const core_strset_t *set, size_t *pos)
{
	for (; *pos < set->cap; (*pos)++)
		if (set->slot[*pos] != NULL)
			return set->slot[(*pos)++];
	return NULL;
}

void core_strset_del_at(core_strset_t *set, size_t *pos)
{
	/* The shift moves later members back, into slots the iteration has yet to visit (from
	 * *pos - 1 on), so none is skipped; a member that had wrapped round to the table's start
	 * may move to its end and be returned a second time (see the header). */
	remove_slot(set, *pos - 1);
	(*pos)--;
}

void core_strset_clear(core_strset_t *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	*set = (core_strset_t)CORE_STRSET_INIT;
}
