/* strset.h - a set of strings (open addressing, linear probing, backward-shift deletion):
 * the zone names rdns-zonegen serves, which a provider counts in the hundreds of
 * thousands, looked up once per zone per pass. Not thread-safe. */
#ifndef RDNS_CORE_STRSET_H
#define RDNS_CORE_STRSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
	char **slot; /* NULL: empty */
	size_t cap;  /* a power of two, or 0 */
	size_t n;
} core_strset_t;

#define CORE_STRSET_INIT                                                                                     \
	{                                                                                                    \
		NULL, 0, 0                                                                                   \
	}

/* Adds a copy of s (nothing if it is in already). RDNS_OK, RDNS_ENOMEM. */
int core_strset_add(core_strset_t *set, const char *s);

bool core_strset_has(const core_strset_t *set, const char *s);

/* Removes s; whether it was in. */
bool core_strset_del(core_strset_t *set, const char *s);

/* Iteration: *pos starts at 0; the next member or NULL at the end. Any change to the set
 * but core_strset_del_at invalidates the iteration. */
const char *core_strset_next(const core_strset_t *set, size_t *pos);

/* Deletes the member core_strset_next just returned and rewinds *pos so that the
 * iteration goes on over every member left: each at least once (a member that had wrapped
 * round the table's end may be returned twice, so what the caller does with a member
 * must not mind seeing it again). */
void core_strset_del_at(core_strset_t *set, size_t *pos);

/* Frees every member and the table; the set is empty and usable again. */
void core_strset_clear(core_strset_t *set);

#endif
