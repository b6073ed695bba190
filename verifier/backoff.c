/* backoff.c - retry waits of rdns-verifier: doubling from a floor to a cap. */
#include "verifier/backoff.h"

long vr_backoff_ms(int tries, long min_ms, long max_ms)
{
	if (max_ms < min_ms)
		max_ms = min_ms;
	long ms = min_ms;
	for (int i = 1; i < tries && ms < max_ms; i++)
		ms = ms > max_ms / 2 ? max_ms : ms * 2;
	return ms < max_ms ? ms : max_ms;
}
