/* locks.h - the PostgreSQL advisory-lock keys of rdns, each named once.
 *
 * Every process using the database shares its advisory-lock key space, so a key
 * is a contract between the binaries and the SQL functions. C uses these names;
 * the SQL in db/functions/ spells the numbers with a comment pointing here (the
 * migrations, which are history, spell them too). tests/system/test_locks.py
 * checks that they all agree, that no key is used twice, and that the functions
 * take the address lock this header names. */
#ifndef RDNS_DB_LOCKS_H
#define RDNS_DB_LOCKS_H

/* Session lock held by db_migrate() while it applies the migrations and the
 * functions: one migrator at a time across all processes. */
#define DB_LOCK_MIGRATE 7400521

/* Not a key but the seed of a class of transaction locks: a PTR writer takes
 * pg_advisory_xact_lock(hashtextextended(host(ip), DB_LOCK_ADDR)), so there is
 * one writer per address at a time (rdns_ptr_apply, rdns_ptr_apply_batch,
 * rdns_ptr_request, rdns_request_decide) and the final state of an address
 * equals one committed request. Lock order of a PTR writer: its address locks
 * (in hash order when several), then ROW SHARE on reverse_zones, allocations and
 * delegations, which the deletions of zones and allocations (EXCLUSIVE) and the
 * creation of a delegation (rdns_delegation_put: ROW SHARE on the first two, then
 * EXCLUSIVE on delegations) wait for; no writer takes an address lock after them. */
#define DB_LOCK_ADDR 7400522

/* Session lock of the rdns-zonegen leader: only its holder renders, publishes
 * and notifies. A standby keeps trying it (rdns-zonegen --once waits for it) and
 * takes over when the leader's session ends; it lives and dies with that one
 * session, like the leader's LISTEN. */
#define DB_LOCK_ZONEGEN_LEADER 7400523

/* A key as a string literal, to paste into SQL text:
 * "SELECT pg_advisory_lock(" DB_LOCK_STR(DB_LOCK_MIGRATE) ")". */
#define DB_LOCK_STR(key)  DB_LOCK_STR_(key)
#define DB_LOCK_STR_(key) #key

#endif
