/* addresses.h - what the web panel reads besides the staff and PTR data: every address of a
 * block with its record, and allocations by id or by a prefix they hold (issue 15). */
#ifndef RDNS_DB_ADDRESSES_H
#define RDNS_DB_ADDRESSES_H

#include <stdbool.h>

#include "db/db.h"
#include "db/ptr.h"

/* Columns of db_addresses_page: the address, then fill as db_ptr_ctx_t (zone id, name,
 * default template, owner, hostname, verified_at, updated_at). */
enum { DB_ADDR_IP, DB_ADDR_CTX };

/* The IPv4 addresses base + first .. base + last (base: an address in canonical text,
 * first <= last offsets from it), in order, each with its zone, its owner and its
 * custom record (NULL columns where there is none). */
PGresult *db_addresses_page(db_t *db, const char *base, long long first, long long last, int *err);

/* Fill ctx from row of a db_addresses_page result (in_zone false outside every zone). */
void db_addresses_ctx(const PGresult *res, int row, db_ptr_ctx_t *ctx);

/* RDNS_OK when prefix (canonical cidr text) lies inside one allocation of account,
 * RDNS_ENOTFOUND when not, or a database error. */
int db_allocation_holds(db_t *db, long long account, const char *prefix);

/* One allocation, DB_ALLOC_* columns then the custom PTRs inside it (a count), or an
 * empty result when there is no such allocation. */
PGresult *db_allocation_get(db_t *db, long long id, int *err);
enum { DB_ALLOC_RECORDS = 4 };

#endif
