/* backoff.h - when rdns-verifier tries a waiting PTR set again, and for how long it waits
 * for the database: pure arithmetic, unit-tested. */
#ifndef RDNS_VERIFIER_BACKOFF_H
#define RDNS_VERIFIER_BACKOFF_H

/* The wait after try number tries (1 = the first try failed): min_ms doubled per try
 * after the first, at most max_ms (max_ms < min_ms: min_ms). Never overflows. */
long vr_backoff_ms(int tries, long min_ms, long max_ms);

#endif
