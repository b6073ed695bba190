/* serial.h - RFC 1982 serial number arithmetic for SOA serials. */
#ifndef RDNS_CORE_SERIAL_H
#define RDNS_CORE_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 1982: a < b iff (int32_t)(b - a) > 0 (undefined pairs, exactly 2^31
 * apart, compare as not less). */
bool core_serial_lt(uint32_t a, uint32_t b);

/* The serial that follows cur: the clock value now (seconds since the
 * epoch, truncated to 32 bits) when that is greater than cur in serial
 * arithmetic (1 .. 2^31 - 1 ahead), else cur + 1 modulo 2^32. 0 is a valid
 * serial and is not skipped: 0xFFFFFFFF steps to 0. The result is always
 * greater than cur in serial arithmetic. */
uint32_t core_serial_next(uint32_t cur, uint32_t now);

#endif
