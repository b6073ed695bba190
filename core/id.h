/* id.h - the decimal id grammar of the API: path segments, query ids and token texts. */
#ifndef RDNS_CORE_ID_H
#define RDNS_CORE_ID_H

#include <stddef.h>

/* Longest id in digits: any such number fits a bigint (and a long long). */
#define CORE_ID_MAX_DIGITS 18

/* The length of the id at the start of s: a positive decimal integer as the API writes
 * it, 1 to CORE_ID_MAX_DIGITS digits with no leading zero, followed by a non-digit (or
 * the end). 0 when s does not start with one, e.g. "0", "01", "-1", a 19-digit run. */
size_t core_id_span(const char *s);

#endif
