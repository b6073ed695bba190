/* serial.c - RFC 1982 serial number arithmetic for SOA serials. */
#include "serial.h"

/* RFC 1982 3.2 with SERIAL_BITS = 32: a < b when b is 1 .. 2^31 - 1 ahead.
 * Done in unsigned arithmetic, so no implementation-defined conversion. */
bool core_serial_lt(uint32_t a, uint32_t b)
{
	uint32_t d = b - a;
	return d != 0 && d < UINT32_C(0x80000000);
}

uint32_t core_serial_next(uint32_t cur, uint32_t now)
{
	/* The clock is only usable when it is ahead; otherwise (clock behind,
	 * a date-style serial, or the undefined 2^31 distance) step by one,
	 * which wraps 0xFFFFFFFF to 0 as RFC 1982 3.1 addition does. */
	if (core_serial_lt(cur, now))
		return now;
	return cur + 1;
}
